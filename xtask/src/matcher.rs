//! Matching output lines against a parsed golden file.
//!
//! The matcher is a backtracking search written in continuation-passing style: each step gets a
//! continuation for "the rest of the file" and tries every way it can match, so a wildcard, a
//! placeholder's first binding or a block's assignment of lines is revisited when a later line
//! needs a different choice. Two things keep it fast:
//! - an unordered block is first checked for a perfect bipartite matching with each pattern taken
//!   on its own (Kuhn's algorithm); a block without placeholders needs nothing more;
//! - inside a block with placeholders, patterns with the fewest candidate lines are assigned first,
//!   and identical patterns take lines in increasing order, so equal patterns are not permuted.
//!
//! A step budget bounds pathological golden files; hitting it is reported, never passed.

use crate::golden::{Golden, Item, Pattern, Tok};

/// Upper bound on search steps before the matcher gives up.
const STEP_BUDGET: u64 = 5_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Match,
    Mismatch,
    /// The search ran out of steps: the golden file is too ambiguous to decide.
    GaveUp,
}

/// Matches `output` (already split with [`crate::golden::lines`]) against `golden`.
pub fn match_output(golden: &Golden, output: &[&str]) -> Outcome {
    let mut m = Matcher::default();
    let matched = m.items(&golden.items, output, &mut |_| true);
    if matched {
        Outcome::Match
    } else if m.steps > STEP_BUDGET {
        Outcome::GaveUp
    } else {
        Outcome::Mismatch
    }
}

/// Whether one line matches one pattern on its own, with no placeholder bound beforehand.
pub fn line_matches(pattern: &Pattern, line: &str) -> bool {
    Matcher::default().line(&pattern.toks, line, &mut |_| true)
}

/// A perfect assignment of `lines` to `patterns` (each pattern on its own), as
/// `assignment[pattern] = line`, or `None` when there is none.
pub fn assign_block(patterns: &[Pattern], lines: &[&str]) -> Option<Vec<usize>> {
    let candidates = candidate_lines(patterns, lines);
    perfect_matching(&candidates, lines.len())
}

/// The first placeholder that takes two values along the plain (non-block) lines, described
/// for an error message.
pub fn placeholder_conflict(golden: &Golden, output: &[&str]) -> Option<String> {
    let mut seen: Vec<(String, String, usize)> = Vec::new();
    let mut cursor = 0;
    for item in &golden.items {
        match item {
            Item::Line(pattern) => {
                let line = output.get(cursor)?;
                cursor += 1;
                let mut m = Matcher::default();
                let mut first: Vec<(String, String)> = Vec::new();
                m.line(&pattern.toks, line, &mut |m| {
                    first = m
                        .binds
                        .iter()
                        .map(|(n, v)| (n.to_string(), v.to_string()))
                        .collect();
                    true
                });
                for (name, value) in first {
                    match seen.iter().find(|(n, _, _)| *n == name) {
                        Some((_, old, at)) if *old != value => {
                            return Some(format!(
                                "placeholder [{name}] is `{old}` on output line {} but `{value}` \
                                 on output line {cursor}",
                                at + 1
                            ));
                        }
                        Some(_) => {}
                        None => seen.push((name, value, cursor - 1)),
                    }
                }
            }
            Item::Unordered(patterns) => cursor += patterns.len(),
        }
    }
    None
}

type Cont<'a, 'g, 'o> = dyn FnMut(&mut Matcher<'g, 'o>) -> bool + 'a;

#[derive(Default)]
struct Matcher<'g, 'o> {
    /// Placeholder bindings, innermost last; undone by truncation on backtrack.
    binds: Vec<(&'g str, &'o str)>,
    steps: u64,
}

struct BlockSearch<'o> {
    lines: &'o [&'o str],
    /// Patterns in the order they are assigned.
    order: Vec<usize>,
    candidates: Vec<Vec<usize>>,
    /// For each pattern in `order`, the previous pattern in `order` with identical source, if any.
    twin: Vec<Option<usize>>,
    used: Vec<bool>,
    assigned: Vec<usize>,
}

impl<'g, 'o> Matcher<'g, 'o> {
    fn over_budget(&mut self) -> bool {
        self.steps += 1;
        self.steps > STEP_BUDGET
    }

    fn bound(&self, name: &str) -> Option<&'o str> {
        self.binds
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    fn items(&mut self, items: &'g [Item], out: &'o [&'o str], k: &mut Cont<'_, 'g, 'o>) -> bool {
        if self.over_budget() {
            return false;
        }
        let Some((item, rest)) = items.split_first() else {
            return out.is_empty() && k(self);
        };
        match item {
            Item::Line(pattern) => {
                let Some((line, out_rest)) = out.split_first() else {
                    return false;
                };
                self.line(&pattern.toks, line, &mut |m| m.items(rest, out_rest, k))
            }
            Item::Unordered(patterns) => {
                if out.len() < patterns.len() {
                    return false;
                }
                let (block, out_rest) = out.split_at(patterns.len());
                let candidates = candidate_lines(patterns, block);
                if perfect_matching(&candidates, block.len()).is_none() {
                    return false;
                }
                if !patterns.iter().any(|p| p.has_vars) {
                    return self.items(rest, out_rest, k);
                }
                let mut search = BlockSearch::new(patterns, block, candidates);
                self.block(patterns, &mut search, 0, &mut |m| {
                    m.items(rest, out_rest, k)
                })
            }
        }
    }

    fn block(
        &mut self,
        patterns: &'g [Pattern],
        search: &mut BlockSearch<'o>,
        depth: usize,
        k: &mut Cont<'_, 'g, 'o>,
    ) -> bool {
        if depth == search.order.len() {
            return k(self);
        }
        let p = search.order[depth];
        let floor = search.twin[depth].map(|twin| search.assigned[twin]);
        for i in 0..search.candidates[p].len() {
            let j = search.candidates[p][i];
            if search.used[j] || floor.is_some_and(|f| j <= f) {
                continue;
            }
            search.used[j] = true;
            search.assigned[p] = j;
            let line = search.lines[j];
            let found = self.line(&patterns[p].toks, line, &mut |m| {
                m.block(patterns, search, depth + 1, k)
            });
            search.used[j] = false;
            if found {
                return true;
            }
        }
        false
    }

    fn line(&mut self, toks: &'g [Tok], text: &'o str, k: &mut Cont<'_, 'g, 'o>) -> bool {
        if self.over_budget() {
            return false;
        }
        let Some((tok, rest)) = toks.split_first() else {
            return text.is_empty() && k(self);
        };
        match tok {
            Tok::Lit(lit) => match text.strip_prefix(lit.as_str()) {
                Some(after) => self.line(rest, after, k),
                None => false,
            },
            Tok::Any => {
                if rest.is_empty() {
                    return k(self);
                }
                // Only positions where the next literal starts can succeed.
                let next_lit = match &rest[0] {
                    Tok::Lit(lit) => Some(lit.as_str()),
                    _ => None,
                };
                for (start, _) in text.char_indices().chain([(text.len(), ' ')]) {
                    let after = &text[start..];
                    if next_lit.is_some_and(|lit| !after.starts_with(lit)) {
                        continue;
                    }
                    if self.line(rest, after, k) {
                        return true;
                    }
                }
                false
            }
            Tok::Var(name) => {
                if let Some(value) = self.bound(name) {
                    return match text.strip_prefix(value) {
                        Some(after) => self.line(rest, after, k),
                        None => false,
                    };
                }
                let word_end = text.find(char::is_whitespace).unwrap_or(text.len());
                // Try longer values first: a placeholder is usually a whole word.
                let ends: Vec<usize> = text[..word_end]
                    .char_indices()
                    .map(|(i, c)| i + c.len_utf8())
                    .collect();
                for &end in ends.iter().rev() {
                    self.binds.push((name.as_str(), &text[..end]));
                    let found = self.line(rest, &text[end..], k);
                    self.binds.pop();
                    if found {
                        return true;
                    }
                }
                false
            }
        }
    }
}

impl<'o> BlockSearch<'o> {
    fn new(patterns: &[Pattern], lines: &'o [&'o str], candidates: Vec<Vec<usize>>) -> Self {
        let mut order: Vec<usize> = (0..patterns.len()).collect();
        // Fewest candidates first prunes early; grouping identical sources lets twins share a
        // floor.
        order.sort_by(|&a, &b| {
            (candidates[a].len(), &patterns[a].source, a).cmp(&(
                candidates[b].len(),
                &patterns[b].source,
                b,
            ))
        });
        let twin = (0..order.len())
            .map(|d| {
                (d > 0 && patterns[order[d - 1]].source == patterns[order[d]].source)
                    .then(|| order[d - 1])
            })
            .collect();
        BlockSearch {
            lines,
            order,
            used: vec![false; lines.len()],
            assigned: vec![0; patterns.len()],
            candidates,
            twin,
        }
    }
}

fn candidate_lines(patterns: &[Pattern], lines: &[&str]) -> Vec<Vec<usize>> {
    patterns
        .iter()
        .map(|p| {
            (0..lines.len())
                .filter(|&j| line_matches(p, lines[j]))
                .collect()
        })
        .collect()
}

/// Kuhn's augmenting-path algorithm: `result[pattern] = line`, covering every pattern and line.
fn perfect_matching(candidates: &[Vec<usize>], n_lines: usize) -> Option<Vec<usize>> {
    fn augment(
        p: usize,
        candidates: &[Vec<usize>],
        seen: &mut [bool],
        owner: &mut [Option<usize>],
    ) -> bool {
        for &j in &candidates[p] {
            if seen[j] {
                continue;
            }
            seen[j] = true;
            if owner[j].is_none_or(|q| augment(q, candidates, seen, owner)) {
                owner[j] = Some(p);
                return true;
            }
        }
        false
    }
    if candidates.len() != n_lines {
        return None;
    }
    let mut owner: Vec<Option<usize>> = vec![None; n_lines];
    for p in 0..candidates.len() {
        let mut seen = vec![false; n_lines];
        if !augment(p, candidates, &mut seen, &mut owner) {
            return None;
        }
    }
    let mut result = vec![0; candidates.len()];
    for (j, p) in owner.into_iter().enumerate() {
        result[p.expect("a perfect matching covers every line")] = j;
    }
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::lines;

    fn check(golden: &str, output: &str) -> Outcome {
        let golden = Golden::parse(golden).expect("test golden parses");
        match_output(&golden, &lines(output))
    }

    #[test]
    fn literal_lines_match_exactly() {
        assert_eq!(check("a\nb\n", "a\nb\n"), Outcome::Match);
        assert_eq!(check("a\nb\n", "a\nc\n"), Outcome::Mismatch);
        assert_eq!(check("a\nb\n", "a\n"), Outcome::Mismatch);
        assert_eq!(check("a\n", "a\nb\n"), Outcome::Mismatch);
        assert_eq!(
            check("a", "a\n"),
            Outcome::Match,
            "final newline is optional"
        );
        assert_eq!(
            check("a \n", "a\t\n"),
            Outcome::Match,
            "trailing space ignored"
        );
        assert_eq!(
            check(" a\n", "a\n"),
            Outcome::Mismatch,
            "leading space counts"
        );
        assert_eq!(
            check("a\n\n", "a\n"),
            Outcome::Mismatch,
            "blank lines count"
        );
    }

    #[test]
    fn wildcard_matches_within_one_line_only() {
        assert_eq!(check("took [..] ms\n", "took 12.5 ms\n"), Outcome::Match);
        assert_eq!(check("took [..] ms\n", "took  ms\n"), Outcome::Match);
        assert_eq!(check("[..]\n", "\n"), Outcome::Match);
        assert_eq!(check("a[..]\n", "a\nb\n"), Outcome::Mismatch);
        assert_eq!(
            check("x [..] y [..] z\n", "x 1 y 2 y 3 z\n"),
            Outcome::Match
        );
        assert_eq!(check("took [..] ms\n", "took 12 s\n"), Outcome::Mismatch);
    }

    #[test]
    fn named_placeholder_must_repeat_its_value() {
        let golden = "child [PID] started\nparent reaped [PID]\n";
        assert_eq!(
            check(golden, "child 41 started\nparent reaped 41\n"),
            Outcome::Match
        );
        assert_eq!(
            check(golden, "child 41 started\nparent reaped 42\n"),
            Outcome::Mismatch
        );
        // A prefix of the first value is not enough.
        assert_eq!(
            check(golden, "child 412 started\nparent reaped 41\n"),
            Outcome::Mismatch
        );
    }

    #[test]
    fn different_names_may_differ_or_not() {
        let golden = "[A] and [B]\n";
        assert_eq!(check(golden, "1 and 2\n"), Outcome::Match);
        assert_eq!(check(golden, "1 and 1\n"), Outcome::Match);
    }

    #[test]
    fn placeholder_is_one_word() {
        assert_eq!(check("pid [P]\n", "pid 12 34\n"), Outcome::Mismatch);
        assert_eq!(check("pid [P]\n", "pid \n"), Outcome::Mismatch);
    }

    #[test]
    fn placeholder_backtracks_to_a_shorter_value() {
        // The first binding tried for [A] is "12x"; only "12" lets the second line match.
        assert_eq!(check("[A]x\n[A]\n", "12xx\n12x\n"), Outcome::Match);
        assert_eq!(check("[A]x\n[A]\n", "12xx\n12\n"), Outcome::Mismatch);
        assert_eq!(check("[A]x\nid [A]\n", "12x\nid 12\n"), Outcome::Match);
        assert_eq!(check("[A][..]\nid [A]\n", "12x\nid 12\n"), Outcome::Match);
    }

    #[test]
    fn unordered_block_accepts_any_order() {
        let golden = "start\n[unordered]\none\ntwo\nthree\n[/unordered]\nend\n";
        assert_eq!(
            check(golden, "start\nthree\none\ntwo\nend\n"),
            Outcome::Match
        );
        assert_eq!(
            check(golden, "start\none\ntwo\nend\nthree\n"),
            Outcome::Mismatch
        );
        assert_eq!(
            check(golden, "start\none\none\ntwo\nend\n"),
            Outcome::Mismatch
        );
    }

    #[test]
    fn unordered_block_is_an_exact_assignment_not_first_fit() {
        // First-fit gives `ab` to `a[..]`, leaving `ab` for `ac`: wrong. The assignment
        // `a[..]` -> `ac`, `ab` -> `ab` exists, in either order of the lines.
        let golden = "[unordered]\na[..]\nab\n[/unordered]\n";
        assert_eq!(check(golden, "ab\nac\n"), Outcome::Match);
        assert_eq!(check(golden, "ac\nab\n"), Outcome::Match);
        assert_eq!(check(golden, "ac\nad\n"), Outcome::Mismatch);
    }

    #[test]
    fn placeholders_link_block_lines_to_the_rest() {
        let golden =
            "[unordered]\nworker [A] done\nworker [B] done\n[/unordered]\nfirst [A]\nthen [B]\n";
        assert_eq!(
            check(golden, "worker 2 done\nworker 1 done\nfirst 1\nthen 2\n"),
            Outcome::Match
        );
        assert_eq!(
            check(golden, "worker 2 done\nworker 1 done\nfirst 3\nthen 2\n"),
            Outcome::Mismatch
        );
    }

    #[test]
    fn placeholder_bound_before_a_block_constrains_it() {
        let golden = "me [P]\n[unordered]\nchild of [P]\nchild of [Q]\n[/unordered]\n";
        assert_eq!(
            check(golden, "me 7\nchild of 9\nchild of 7\n"),
            Outcome::Match
        );
        assert_eq!(
            check(golden, "me 7\nchild of 9\nchild of 8\n"),
            Outcome::Mismatch
        );
    }

    #[test]
    fn many_identical_patterns_fail_fast() {
        // Twenty identical patterns and one line that fits none: a naive search tries 20! orders.
        let mut golden = String::from("[unordered]\n");
        let mut output = String::new();
        for i in 0..20 {
            golden.push_str("w [..] step [..]\n");
            output.push_str(&format!("w {i} step 1\n"));
        }
        golden.push_str("[/unordered]\n");
        assert_eq!(check(&golden, &output), Outcome::Match);
        let output = output.replacen("w 0 step 1", "oops", 1);
        assert_eq!(check(&golden, &output), Outcome::Mismatch);
    }

    #[test]
    fn identical_patterns_with_a_shared_placeholder_do_not_blow_up() {
        // Every line must name the same [P]; the last one does not. Twins keep this linear-ish.
        let mut golden = String::from("[unordered]\n");
        let mut output = String::new();
        for i in 0..12 {
            golden.push_str("parent [P] child [..]\n");
            output.push_str(&format!("parent 5 child {i}\n"));
        }
        golden.push_str("[/unordered]\n");
        assert_eq!(check(&golden, &output), Outcome::Match);
        let output = output.replacen("parent 5 child 11", "parent 6 child 11", 1);
        assert_eq!(check(&golden, &output), Outcome::Mismatch);
    }

    #[test]
    fn readme_example_matches() {
        let golden = "parent [PARENT]: started children\n[unordered]\nchild [A]: my parent is [PARENT]\n\
                      child [B]: my parent is [PARENT]\n[/unordered]\nparent [PARENT]: reaped [A] and [B] in [..] ms\n";
        let output = "parent 10: started children\nchild 12: my parent is 10\nchild 11: my parent is 10\n\
                      parent 10: reaped 11 and 12 in 0.4 ms\n";
        assert_eq!(check(golden, output), Outcome::Match);
        let wrong_parent = output.replace("child 12: my parent is 10", "child 12: my parent is 9");
        assert_eq!(check(golden, &wrong_parent), Outcome::Mismatch);
    }

    #[test]
    fn assign_block_reports_the_assignment() {
        let patterns = vec![
            Pattern::parse("a[..]").unwrap(),
            Pattern::parse("ab").unwrap(),
        ];
        assert_eq!(assign_block(&patterns, &["ab", "ac"]), Some(vec![1, 0]));
        assert_eq!(assign_block(&patterns, &["ac", "ad"]), None);
    }

    #[test]
    fn conflict_message_names_both_values() {
        let golden = Golden::parse("child [PID]\nreaped [PID]\n").unwrap();
        let msg = placeholder_conflict(&golden, &["child 41", "reaped 42"]).unwrap();
        assert_eq!(
            msg,
            "placeholder [PID] is `41` on output line 1 but `42` on output line 2"
        );
    }
}
