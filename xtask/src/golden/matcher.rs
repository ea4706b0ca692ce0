//! Matching output lines against a parsed golden file: the one place that knows what each
//! golden construct means.
//!
//! The result is either the whole assignment (which pattern each output line matched, and the
//! value of each placeholder) or, on a mismatch, the best partial one and the reason it could go
//! no further. The diff view, the failure messages and bless are derived from that result.
//!
//! The search backtracks, in continuation-passing style: each step gets a continuation for "the
//! rest of the file" and tries every way it can match, so a wildcard, a placeholder's first
//! binding or a block's assignment of lines is revisited when a later line needs another choice.
//! What keeps it fast:
//! - an unordered block is first checked for a perfect bipartite matching with each pattern taken
//!   on its own (Kuhn's algorithm); a block without placeholders needs nothing more. Inside a
//!   block with placeholders, patterns with the fewest candidate lines are assigned first, and
//!   identical patterns take lines in increasing order, so equal patterns are not permuted;
//! - an interleaved block walks the output line by line, offering each line to the streams whose
//!   next pattern accepts it, and remembers the states (each stream's position and the
//!   placeholders bound) that have failed, so none is explored twice.
//!
//! A step budget bounds pathological golden files; hitting it is reported, never passed.

use std::collections::HashSet;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use crate::golden::format::{Golden, Item, Pattern, Tok};

/// Upper bound on search steps before the matcher gives up.
const STEP_BUDGET: u64 = 5_000_000;

/// Where one output line went: golden item `item`, its stream `stream` (0 outside interleaved
/// blocks), pattern `index` in that stream or block (0 for a plain line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub item: usize,
    pub stream: usize,
    pub index: usize,
}

/// A placeholder's value, and the output line that first gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub name: String,
    pub value: String,
    /// 0-based output line.
    pub line: usize,
}

/// A complete match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// One slot per output line.
    pub slots: Vec<Slot>,
    pub binds: Vec<Binding>,
}

/// The furthest a failed match got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The slots of the output lines before the first that could not be placed.
    pub slots: Vec<Slot>,
    pub binds: Vec<Binding>,
    /// Why the next output line (or the end of the output) could not be placed.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Match(Assignment),
    Mismatch(Failure),
    /// The search ran out of steps: the golden file is too ambiguous to decide.
    GaveUp,
}

/// Stack per golden line for the search: it recurses a few frames per line placed.
const STACK_PER_LINE: usize = 16 << 10;

/// Matches `output` (already split with [`crate::golden::format::lines`]) against `golden`.
///
/// The search recurses once per output line it places, which a long golden file turns into a
/// deep stack: it runs on a thread whose stack fits the file (memory is only committed as the
/// stack is used). Where no thread can be started, it runs here.
pub fn match_output(golden: &Golden, output: &[&str]) -> Outcome {
    let golden_lines: usize = golden.items.iter().map(Item::len).sum();
    let stack = (8 << 20) + golden_lines * STACK_PER_LINE;
    std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("xtask-matcher".into())
            .stack_size(stack)
            .spawn_scoped(scope, || search(golden, output))
        {
            Ok(handle) => handle.join().expect("the matcher does not panic"),
            Err(_) => search(golden, output),
        }
    })
}

fn search(golden: &Golden, output: &[&str]) -> Outcome {
    let mut m = Matcher {
        golden,
        output,
        slots: vec![None; output.len()],
        binds: Vec::new(),
        steps: 0,
        deepest: None,
    };
    let mut found = None;
    let matched = m.items(0, 0, &mut |m| {
        found = Some(Assignment {
            slots: m.slots.iter().map(|s| s.expect("every line placed")).collect(),
            binds: m.bindings(),
        });
        true
    });
    if matched {
        return Outcome::Match(found.expect("set on success"));
    }
    if m.steps > STEP_BUDGET {
        return Outcome::GaveUp;
    }
    let deepest = m.deepest.expect("a failed search records where it stopped");
    Outcome::Mismatch(Failure {
        reason: deepest.reason(golden, output),
        slots: deepest.slots,
        binds: deepest.binds,
    })
}

/// Whether one line matches one pattern on its own, with no placeholder bound beforehand.
pub fn line_matches(pattern: &Pattern, line: &str) -> bool {
    let golden = Golden::default();
    let output = [line];
    let mut m = Matcher {
        golden: &golden,
        output: &output,
        slots: vec![None],
        binds: Vec::new(),
        steps: 0,
        deepest: None,
    };
    m.line(&pattern.toks, line, 0, &mut |_| true)
}

type Cont<'a, 'g, 'o> = dyn FnMut(&mut Matcher<'g, 'o>) -> bool + 'a;

struct Matcher<'g, 'o> {
    golden: &'g Golden,
    output: &'o [&'o str],
    /// The slot of each output line placed so far; undone on backtrack.
    slots: Vec<Option<Slot>>,
    /// Placeholder bindings with the output line that made them, innermost last; undone by
    /// truncation on backtrack.
    binds: Vec<(&'g str, &'o str, usize)>,
    steps: u64,
    deepest: Option<Stop>,
}

/// A point where the search could place no more output lines.
struct Stop {
    /// The output line that could not be placed (the output's length: it ended too soon).
    at: usize,
    context: Context,
    slots: Vec<Slot>,
    binds: Vec<Binding>,
}

enum Context {
    /// Golden item `item` (a plain line) did not accept the line.
    Line { item: usize },
    /// The unordered block `item` had these patterns left.
    Unordered { item: usize, left: Vec<usize> },
    /// The interleaved block `item`, with each stream at this position.
    Interleaved { item: usize, positions: Vec<usize> },
    /// Every golden item was matched, and output remained.
    ExtraOutput,
}

impl<'g, 'o> Matcher<'g, 'o> {
    fn over_budget(&mut self) -> bool {
        self.steps += 1;
        self.steps > STEP_BUDGET
    }

    fn bound(&self, name: &str) -> Option<&'o str> {
        self.binds.iter().rev().find(|(n, _, _)| *n == name).map(|(_, v, _)| *v)
    }

    fn bindings(&self) -> Vec<Binding> {
        self.binds
            .iter()
            .map(|(name, value, line)| Binding {
                name: name.to_string(),
                value: value.to_string(),
                line: *line,
            })
            .collect()
    }

    /// Records that the search stopped at output line `at`, if no attempt got further.
    fn stop(&mut self, at: usize, context: Context) {
        if self.deepest.as_ref().is_some_and(|d| d.at >= at) {
            return;
        }
        self.deepest = Some(Stop {
            at,
            context,
            slots: self.slots[..at].iter().map_while(|s| *s).collect(),
            binds: self.bindings(),
        });
    }

    /// Matches golden items from `item` on against the output from line `at` on.
    fn items(&mut self, item: usize, at: usize, k: &mut Cont<'_, 'g, 'o>) -> bool {
        if self.over_budget() {
            return false;
        }
        let golden = self.golden;
        let Some(current) = golden.items.get(item) else {
            if at == self.output.len() {
                return k(self);
            }
            self.stop(at, Context::ExtraOutput);
            return false;
        };
        match current {
            Item::Line(pattern) => {
                let Some(line) = self.output.get(at).copied() else {
                    self.stop(at, Context::Line { item });
                    return false;
                };
                let slot = Slot { item, stream: 0, index: 0 };
                let found = self.line(&pattern.toks, line, at, &mut |m| {
                    m.slots[at] = Some(slot);
                    let found = m.items(item + 1, at + 1, k);
                    m.slots[at] = None;
                    found
                });
                if !found {
                    self.stop(at, Context::Line { item });
                }
                found
            }
            Item::Unordered(patterns) => self.unordered(item, patterns, at, k),
            Item::Interleaved(streams) => {
                let mut weave = Weave {
                    item,
                    start: at,
                    positions: vec![0; streams.len()],
                    twin: (0..streams.len())
                        .map(|s| (0..s).rev().find(|&t| same_stream(&streams[t], &streams[s])))
                        .collect(),
                    failed: HashSet::new(),
                };
                self.weave(streams, &mut weave, k)
            }
        }
    }

    fn unordered(
        &mut self,
        item: usize,
        patterns: &'g [Pattern],
        at: usize,
        k: &mut Cont<'_, 'g, 'o>,
    ) -> bool {
        let end = (at + patterns.len()).min(self.output.len());
        let block = &self.output[at..end];
        let candidates = candidate_lines(patterns, block);
        let Some(assignment) = perfect_matching(&candidates, patterns.len(), block.len()) else {
            // Report the first line no pattern left could take, as a reader would look for it.
            let placed = greedy_prefix(&candidates, block.len());
            let left = (0..patterns.len()).filter(|p| !placed.used_patterns.contains(p)).collect();
            self.stop(at + placed.lines, Context::Unordered { item, left });
            return false;
        };
        if !patterns.iter().any(|p| p.has_vars) {
            for (p, &j) in assignment.iter().enumerate() {
                self.slots[at + j] = Some(Slot { item, stream: 0, index: p });
            }
            let found = self.items(item + 1, at + patterns.len(), k);
            for j in 0..patterns.len() {
                self.slots[at + j] = None;
            }
            return found;
        }
        let mut search = BlockSearch::new(item, at, patterns, candidates);
        let found = self
            .block(patterns, &mut search, 0, &mut |m| m.items(item + 1, at + patterns.len(), k));
        if !found {
            self.stop(at, Context::Unordered { item, left: (0..patterns.len()).collect() });
        }
        found
    }

    fn block(
        &mut self,
        patterns: &'g [Pattern],
        search: &mut BlockSearch,
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
            let at = search.start + j;
            let line = self.output[at];
            let slot = Slot { item: search.item, stream: 0, index: p };
            let found = self.line(&patterns[p].toks, line, at, &mut |m| {
                m.slots[at] = Some(slot);
                let found = m.block(patterns, search, depth + 1, k);
                m.slots[at] = None;
                found
            });
            search.used[j] = false;
            if found {
                return true;
            }
        }
        false
    }

    /// Places the next output line of an interleaved block in one of the streams.
    fn weave(
        &mut self,
        streams: &'g [Vec<Pattern>],
        weave: &mut Weave,
        k: &mut Cont<'_, 'g, 'o>,
    ) -> bool {
        if self.over_budget() {
            return false;
        }
        let placed: usize = weave.positions.iter().sum();
        let total: usize = streams.iter().map(Vec::len).sum();
        let at = weave.start + placed;
        if placed == total {
            return self.items(weave.item + 1, at, k);
        }
        let key = (weave.positions.clone(), self.binds_hash());
        if weave.failed.contains(&key) {
            return false;
        }
        if let Some(line) = self.output.get(at).copied() {
            for s in 0..streams.len() {
                let index = weave.positions[s];
                let Some(pattern) = streams[s].get(index) else {
                    continue;
                };
                // Of identical streams, the earlier is always ahead: which of two identical
                // streams takes a line makes no difference, so only one order is tried.
                if weave.twin[s].is_some_and(|t| weave.positions[t] <= index) {
                    continue;
                }
                let slot = Slot { item: weave.item, stream: s, index };
                let found = self.line(&pattern.toks, line, at, &mut |m| {
                    m.slots[at] = Some(slot);
                    weave.positions[s] += 1;
                    let found = m.weave(streams, weave, k);
                    weave.positions[s] -= 1;
                    m.slots[at] = None;
                    found
                });
                if found {
                    return true;
                }
            }
        }
        self.stop(
            at,
            Context::Interleaved { item: weave.item, positions: weave.positions.clone() },
        );
        weave.failed.insert(key);
        false
    }

    fn binds_hash(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        for (name, value, _) in &self.binds {
            (name, value).hash(&mut hasher);
        }
        hasher.finish()
    }

    /// Matches one line's tokens against `text`, output line `at`.
    fn line(
        &mut self,
        toks: &'g [Tok],
        text: &'o str,
        at: usize,
        k: &mut Cont<'_, 'g, 'o>,
    ) -> bool {
        if self.over_budget() {
            return false;
        }
        let Some((tok, rest)) = toks.split_first() else {
            return text.is_empty() && k(self);
        };
        match tok {
            Tok::Lit(lit) => match text.strip_prefix(lit.as_str()) {
                Some(after) => self.line(rest, after, at, k),
                // The output line lost its trailing whitespace to `lines`, as the golden line
                // did: `value: [..]` matches a program's `value: ` (now `value:`).
                None => match lit.strip_prefix(text) {
                    Some(missing) if missing.chars().all(char::is_whitespace) => {
                        self.line(rest, "", at, k)
                    }
                    _ => false,
                },
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
                    let fits = |lit: &str| {
                        after.starts_with(lit)
                            || lit
                                .strip_prefix(after)
                                .is_some_and(|missing| missing.chars().all(char::is_whitespace))
                    };
                    if next_lit.is_some_and(|lit| !fits(lit)) {
                        continue;
                    }
                    if self.line(rest, after, at, k) {
                        return true;
                    }
                }
                false
            }
            Tok::Var(name) => {
                if let Some(value) = self.bound(name) {
                    return match text.strip_prefix(value) {
                        Some(after) => self.line(rest, after, at, k),
                        None => false,
                    };
                }
                let word_end = text.find(char::is_whitespace).unwrap_or(text.len());
                // Try longer values first: a placeholder is usually a whole word.
                let ends: Vec<usize> =
                    text[..word_end].char_indices().map(|(i, c)| i + c.len_utf8()).collect();
                for &end in ends.iter().rev() {
                    self.binds.push((name.as_str(), &text[..end], at));
                    let found = self.line(rest, &text[end..], at, k);
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

/// The state of one interleaved block's search.
struct Weave {
    item: usize,
    /// The block's first output line.
    start: usize,
    /// How many lines of each stream are placed.
    positions: Vec<usize>,
    /// For each stream, the previous stream identical to it, if any.
    twin: Vec<Option<usize>>,
    /// States (positions, placeholder values) from which the rest cannot match.
    failed: HashSet<(Vec<usize>, u64)>,
}

struct BlockSearch {
    item: usize,
    start: usize,
    /// Patterns in the order they are assigned.
    order: Vec<usize>,
    candidates: Vec<Vec<usize>>,
    /// For each pattern in `order`, the previous pattern in `order` with identical source, if any.
    twin: Vec<Option<usize>>,
    used: Vec<bool>,
    assigned: Vec<usize>,
}

impl BlockSearch {
    fn new(item: usize, start: usize, patterns: &[Pattern], candidates: Vec<Vec<usize>>) -> Self {
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
            item,
            start,
            order,
            used: vec![false; patterns.len()],
            assigned: vec![0; patterns.len()],
            candidates,
            twin,
        }
    }
}

impl Stop {
    /// The reason in words, for a failure report.
    fn reason(&self, golden: &Golden, output: &[&str]) -> String {
        let shown = |at: usize| match output.get(at) {
            Some(line) => format!("output line {} `{line}`", at + 1),
            None => "the end of the output".to_string(),
        };
        let expected = |p: &Pattern| format!("golden line {} `{}`", p.line, p.source);
        let conflict = |p: &Pattern| -> String {
            match output.get(self.at) {
                Some(line) => self.conflict(p, line).unwrap_or_default(),
                None => String::new(),
            }
        };
        match &self.context {
            Context::ExtraOutput => {
                format!("{} comes after everything the golden file expects", shown(self.at))
            }
            Context::Line { item } => {
                let Item::Line(p) = &golden.items[*item] else {
                    unreachable!("a Line context names a line item")
                };
                format!("{} does not match {}{}", shown(self.at), expected(p), conflict(p))
            }
            Context::Unordered { item, left } => {
                let Item::Unordered(patterns) = &golden.items[*item] else {
                    unreachable!("an Unordered context names an unordered block")
                };
                let first = patterns.first().map_or(0, |p| p.line);
                let left: Vec<String> = left.iter().map(|&p| expected(&patterns[p])).collect();
                format!(
                    "{} fits none of the lines left in the [unordered] block of golden line {}: {}",
                    shown(self.at),
                    first.saturating_sub(1),
                    left.join(", ")
                )
            }
            Context::Interleaved { item, positions } => {
                let Item::Interleaved(streams) = &golden.items[*item] else {
                    unreachable!("an Interleaved context names an interleaved block")
                };
                let next: Vec<String> = streams
                    .iter()
                    .zip(positions)
                    .enumerate()
                    .filter_map(|(s, (stream, &pos))| {
                        stream.get(pos).map(|p| format!("stream {} next: {}", s + 1, expected(p)))
                    })
                    .collect();
                let first = streams[0][0].line;
                let mut reason = format!(
                    "{} fits no stream of the [interleaved] block of golden line {} ({})",
                    shown(self.at),
                    first.saturating_sub(2),
                    next.join("; ")
                );
                // A line that belongs later in some stream means that stream's order broke.
                if let Some(line) = output.get(self.at) {
                    for (s, (stream, &pos)) in streams.iter().zip(positions).enumerate() {
                        // A finished stream (`pos` at its end) has nothing later.
                        if let Some(p) = stream.iter().skip(pos + 1).find(|p| line_matches(p, line))
                        {
                            reason.push_str(&format!(
                                "; it matches {} of stream {}, but that stream's order puts {} \
                                 before it: the order of stream {} was broken",
                                expected(p),
                                s + 1,
                                expected(&stream[pos]),
                                s + 1
                            ));
                            break;
                        }
                    }
                }
                reason
            }
        }
    }

    /// When `pattern` matches `line` on its own, the placeholder whose earlier value it broke.
    fn conflict(&self, pattern: &Pattern, line: &str) -> Option<String> {
        if !pattern.has_vars || !line_matches(pattern, line) {
            return None;
        }
        for tok in &pattern.toks {
            let Tok::Var(name) = tok else { continue };
            let Some(bound) = self.binds.iter().rev().find(|b| &b.name == name) else {
                continue;
            };
            // Match the pattern with this one placeholder fixed to its value: if that fails,
            // this is the placeholder that conflicts.
            let fixed = Pattern {
                toks: pattern
                    .toks
                    .iter()
                    .map(|t| match t {
                        Tok::Var(n) if n == name => Tok::Lit(bound.value.clone()),
                        other => other.clone(),
                    })
                    .collect(),
                ..pattern.clone()
            };
            if !line_matches(&fixed, line) {
                return Some(format!(
                    " (every part matches on its own, but placeholder [{name}] was `{}` on \
                     output line {})",
                    bound.value,
                    bound.line + 1
                ));
            }
        }
        None
    }
}

fn same_stream(a: &[Pattern], b: &[Pattern]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.source == y.source)
}

fn candidate_lines(patterns: &[Pattern], lines: &[&str]) -> Vec<Vec<usize>> {
    patterns
        .iter()
        .map(|p| (0..lines.len()).filter(|&j| line_matches(p, lines[j])).collect())
        .collect()
}

/// How far a block can be placed line by line, each line taking the first free pattern that
/// accepts it: for pointing at the first line that does not belong.
struct Prefix {
    lines: usize,
    used_patterns: Vec<usize>,
}

fn greedy_prefix(candidates: &[Vec<usize>], n_lines: usize) -> Prefix {
    let mut used_patterns = Vec::new();
    for j in 0..n_lines {
        match (0..candidates.len())
            .find(|p| !used_patterns.contains(p) && candidates[*p].contains(&j))
        {
            Some(p) => used_patterns.push(p),
            None => {
                return Prefix { lines: j, used_patterns };
            }
        }
    }
    Prefix { lines: n_lines, used_patterns }
}

/// Kuhn's augmenting-path algorithm: `result[pattern] = line`, covering every pattern and line.
fn perfect_matching(
    candidates: &[Vec<usize>],
    n_patterns: usize,
    n_lines: usize,
) -> Option<Vec<usize>> {
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
    if n_patterns != n_lines {
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
    use crate::golden::format::lines;

    fn check(golden: &str, output: &str) -> Outcome {
        let golden = Golden::parse(golden).expect("test golden parses");
        match_output(&golden, &lines(output))
    }

    fn ok(golden: &str, output: &str) -> bool {
        matches!(check(golden, output), Outcome::Match(_))
    }

    fn reason(golden: &str, output: &str) -> String {
        match check(golden, output) {
            Outcome::Mismatch(f) => f.reason,
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn trailing_whitespace_is_ignored_on_both_sides_of_a_placeholder() {
        // The program printed `value: ` and `a  b `; `lines` took their trailing blanks.
        assert!(ok("value: [..]\n", "value: \n"));
        assert!(ok("[..] [..]\n", "x \n"));
        assert!(ok("a [..] b [..]\n", "a  b \n"));
        assert!(!ok("value: [X]\n", "value: \n"));
        assert!(!ok("value: [..]\n", "valu\n"));
    }

    #[test]
    fn literal_lines_match_exactly() {
        assert!(ok("a\nb\n", "a\nb\n"));
        assert!(!ok("a\nb\n", "a\nc\n"));
        assert!(!ok("a\nb\n", "a\n"));
        assert!(!ok("a\n", "a\nb\n"));
        assert!(ok("a", "a\n"), "final newline is optional");
        assert!(ok("a \n", "a\t\n"), "trailing space ignored");
        assert!(!ok(" a\n", "a\n"), "leading space counts");
        assert!(!ok("a\n\n", "a\n"), "blank lines count");
    }

    #[test]
    fn wildcard_matches_within_one_line_only() {
        assert!(ok("took [..] ms\n", "took 12.5 ms\n"));
        assert!(ok("took [..] ms\n", "took  ms\n"));
        assert!(ok("[..]\n", "\n"));
        assert!(!ok("a[..]\n", "a\nb\n"));
        assert!(ok("x [..] y [..] z\n", "x 1 y 2 y 3 z\n"));
        assert!(!ok("took [..] ms\n", "took 12 s\n"));
    }

    #[test]
    fn named_placeholder_must_repeat_its_value() {
        let golden = "child [PID] started\nparent reaped [PID]\n";
        assert!(ok(golden, "child 41 started\nparent reaped 41\n"));
        assert!(!ok(golden, "child 41 started\nparent reaped 42\n"));
        // A prefix of the first value is not enough.
        assert!(!ok(golden, "child 412 started\nparent reaped 41\n"));
        assert!(ok("[A] and [B]\n", "1 and 2\n"));
        assert!(ok("[A] and [B]\n", "1 and 1\n"));
        assert!(!ok("pid [P]\n", "pid 12 34\n"), "a placeholder is one word");
        assert!(!ok("pid [P]\n", "pid \n"), "and not empty");
    }

    #[test]
    fn placeholder_backtracks_to_a_shorter_value() {
        assert!(ok("[A]x\n[A]\n", "12xx\n12x\n"));
        assert!(!ok("[A]x\n[A]\n", "12xx\n12\n"));
        assert!(ok("[A]x\nid [A]\n", "12x\nid 12\n"));
        assert!(ok("[A][..]\nid [A]\n", "12x\nid 12\n"));
    }

    #[test]
    fn the_result_says_where_each_line_went_and_what_was_bound() {
        let Outcome::Match(a) =
            check("pid [P]\n[unordered]\nx\ny\n[/unordered]\nbye [P]\n", "pid 7\ny\nx\nbye 7\n")
        else {
            panic!("should match")
        };
        let items: Vec<(usize, usize)> = a.slots.iter().map(|s| (s.item, s.index)).collect();
        assert_eq!(items, vec![(0, 0), (1, 1), (1, 0), (2, 0)]);
        assert_eq!(a.binds, vec![Binding { name: "P".into(), value: "7".into(), line: 0 }]);
    }

    #[test]
    fn unordered_block_accepts_any_order_and_is_exact() {
        let golden = "start\n[unordered]\none\ntwo\nthree\n[/unordered]\nend\n";
        assert!(ok(golden, "start\nthree\none\ntwo\nend\n"));
        assert!(!ok(golden, "start\none\ntwo\nend\nthree\n"));
        assert!(!ok(golden, "start\none\none\ntwo\nend\n"));
        // First-fit gives `ab` to `a[..]`, leaving `ab` for `ac`: wrong. The assignment
        // `a[..]` -> `ac`, `ab` -> `ab` exists, in either order of the lines.
        let golden = "[unordered]\na[..]\nab\n[/unordered]\n";
        assert!(ok(golden, "ab\nac\n"));
        assert!(ok(golden, "ac\nab\n"));
        assert!(!ok(golden, "ac\nad\n"));
    }

    #[test]
    fn placeholders_link_blocks_to_the_rest() {
        let golden =
            "[unordered]\nworker [A] done\nworker [B] done\n[/unordered]\nfirst [A]\nthen [B]\n";
        assert!(ok(golden, "worker 2 done\nworker 1 done\nfirst 1\nthen 2\n"));
        assert!(!ok(golden, "worker 2 done\nworker 1 done\nfirst 3\nthen 2\n"));
        let golden = "me [P]\n[unordered]\nchild of [P]\nchild of [Q]\n[/unordered]\n";
        assert!(ok(golden, "me 7\nchild of 9\nchild of 7\n"));
        assert!(!ok(golden, "me 7\nchild of 9\nchild of 8\n"));
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
        assert!(ok(&golden, &output));
        let output = output.replacen("w 0 step 1", "oops", 1);
        assert!(!ok(&golden, &output));
        // Every line must name the same [P]; the last one does not.
        let mut golden = String::from("[unordered]\n");
        let mut output = String::new();
        for i in 0..12 {
            golden.push_str("parent [P] child [..]\n");
            output.push_str(&format!("parent 5 child {i}\n"));
        }
        golden.push_str("[/unordered]\n");
        assert!(ok(&golden, &output));
        let output = output.replacen("parent 5 child 11", "parent 6 child 11", 1);
        assert!(!ok(&golden, &output));
    }

    #[test]
    fn readme_examples_match() {
        let golden = "parent [PARENT]: started children\n[unordered]\nchild [A]: my parent is [PARENT]\n\
                      child [B]: my parent is [PARENT]\n[/unordered]\nparent [PARENT]: reaped [A] and [B] in [..] ms\n";
        let output = "parent 10: started children\nchild 12: my parent is 10\nchild 11: my parent is 10\n\
                      parent 10: reaped 11 and 12 in 0.4 ms\n";
        assert!(ok(golden, output));
        assert!(!ok(
            golden,
            &output.replace("child 12: my parent is 10", "child 12: my parent is 9")
        ));
        let golden = "[interleaved]\n[stream]\nworker [A]: step 1\nworker [A]: step 2\n[stream]\n\
                      worker [B]: step 1\nworker [B]: step 2\n[/interleaved]\ndone: [A] and [B]\n";
        assert!(ok(
            golden,
            "worker 1: step 1\nworker 2: step 1\nworker 2: step 2\nworker 1: step 2\ndone: 1 and 2\n"
        ));
        assert!(!ok(
            golden,
            "worker 1: step 2\nworker 2: step 1\nworker 2: step 2\nworker 1: step 1\ndone: 1 and 2\n"
        ));
    }

    const TWO_STREAMS: &str =
        "[interleaved]\n[stream]\na1\na2\na3\n[stream]\nb1\nb2\n[/interleaved]\n";

    #[test]
    fn interleaved_accepts_every_interleaving_that_keeps_each_order() {
        for output in [
            "a1\na2\na3\nb1\nb2\n",
            "b1\nb2\na1\na2\na3\n",
            "a1\nb1\na2\nb2\na3\n",
            "b1\na1\na2\nb2\na3\n",
        ] {
            assert!(ok(TWO_STREAMS, output), "{output}");
        }
    }

    #[test]
    fn interleaved_rejects_a_broken_order_a_missing_or_an_extra_line() {
        for output in [
            "a2\na1\na3\nb1\nb2\n",
            "a1\nb2\na2\nb1\na3\n",
            "a1\na2\na3\nb1\n",
            "a1\na2\na3\nb1\nb2\nb3\n",
            "a1\na1\na3\nb1\nb2\n",
        ] {
            assert!(!ok(TWO_STREAMS, output), "{output}");
        }
        let why = reason(TWO_STREAMS, "a1\nb2\na2\nb1\na3\n");
        assert!(why.contains("the order of stream 2 was broken"), "{why}");
    }

    #[test]
    fn interleaved_is_exact_not_first_fit() {
        // `x[..]` in stream 1 could take `xy` first, but only stream 2 can: `xy` must go to
        // stream 2 for `xz` to find a home.
        let golden = "[interleaved]\n[stream]\nx[..]\n[stream]\nxy\n[/interleaved]\n";
        assert!(ok(golden, "xy\nxz\n"));
        assert!(ok(golden, "xz\nxy\n"));
        // Identical streams: each line may go to either.
        let golden = "[interleaved]\n[stream]\nw\nw done\n[stream]\nw\nw done\n[/interleaved]\n";
        assert!(ok(golden, "w\nw\nw done\nw done\n"));
        assert!(ok(golden, "w\nw done\nw\nw done\n"));
        assert!(!ok(golden, "w\nw done\nw done\nw\n"));
        // Ten identical streams and a line that fits none: no blow-up over their orders.
        let mut golden = String::from("[interleaved]\n");
        let mut output = String::new();
        for _ in 0..10 {
            golden.push_str("[stream]\nw [..]\nw [..] done\n");
            output.push_str("w 1\n");
        }
        golden.push_str("[/interleaved]\n");
        output.push_str(&"w 1 done\n".repeat(9));
        output.push_str("oops\n");
        assert!(matches!(check(&golden, &output), Outcome::Mismatch(_)));
    }

    #[test]
    fn interleaved_placeholders_agree_across_streams_and_with_the_rest() {
        let golden = "parent [P]\n[interleaved]\n[stream]\nchild [A] of [P]\nchild [A] done\n\
                      [stream]\nchild [B] of [P]\nchild [B] done\n[/interleaved]\nreaped [A] [B]\n";
        assert!(ok(
            golden,
            "parent 1\nchild 5 of 1\nchild 6 of 1\nchild 6 done\nchild 5 done\nreaped 5 6\n"
        ));
        assert!(ok(
            golden,
            "parent 1\nchild 6 of 1\nchild 5 of 1\nchild 5 done\nchild 6 done\nreaped 5 6\n"
        ));
        assert!(!ok(
            golden,
            "parent 1\nchild 5 of 2\nchild 6 of 1\nchild 6 done\nchild 5 done\nreaped 5 6\n"
        ));
        // Stream 1 says 5 then 6: each stream must keep its own value.
        assert!(!ok(
            golden,
            "parent 1\nchild 5 of 1\nchild 6 of 1\nchild 5 done\nchild 5 done\nreaped 5 6\n"
        ));
        assert!(!ok(
            golden,
            "parent 1\nchild 5 of 1\nchild 6 of 1\nchild 6 done\nchild 5 done\nreaped 5 5\n"
        ));
    }

    #[test]
    fn adjacent_blocks_and_lines() {
        let golden = "[interleaved]\n[stream]\na1\na2\n[stream]\nb1\n[/interleaved]\n[unordered]\n\
                      c\nd\n[/unordered]\n[interleaved]\n[stream]\ne1\n[/interleaved]\nend\n";
        assert!(ok(golden, "b1\na1\na2\nd\nc\ne1\nend\n"));
        assert!(!ok(golden, "b1\na1\nd\na2\nc\ne1\nend\n"), "blocks do not mix");
    }

    #[test]
    fn mismatch_reasons_name_the_lines() {
        assert_eq!(
            reason("a\nb\n", "a\nc\n"),
            "output line 2 `c` does not match golden line 2 `b`"
        );
        assert_eq!(
            reason("a\n", "a\nb\n"),
            "output line 2 `b` comes after everything the golden file expects"
        );
        assert_eq!(
            reason("a\nb\n", "a\n"),
            "the end of the output does not match golden line 2 `b`"
        );
        let why = reason("child [P]\nreaped [P]\n", "child 41\nreaped 42\n");
        assert!(why.contains("placeholder [P] was `41` on output line 1"), "{why}");
        let why = reason("[unordered]\nx\ny\n[/unordered]\n", "y\nz\n");
        assert!(
            why.starts_with(
                "output line 2 `z` fits none of the lines left in the [unordered] block of \
                 golden line 1: golden line 2 `x`"
            ),
            "{why}"
        );
    }

    #[test]
    fn a_thousand_lines_in_ten_streams_match_quickly() {
        let mut golden = String::from("[interleaved]\n");
        for s in 0..10 {
            golden.push_str("[stream]\n");
            for i in 0..100 {
                golden.push_str(&format!("worker-{s}: step {i} of 100 in process [PID]\n"));
            }
        }
        golden.push_str("[/interleaved]\n");
        // Round-robin interleaving.
        let mut output = String::new();
        for i in 0..100 {
            for s in 0..10 {
                output.push_str(&format!("worker-{s}: step {i} of 100 in process 4242\n"));
            }
        }
        let golden = Golden::parse(&golden).unwrap();
        let start = std::time::Instant::now();
        assert!(matches!(match_output(&golden, &lines(&output)), Outcome::Match(_)));
        let broken = output.replacen("worker-3: step 50 ", "worker-3: step 51 ", 1);
        assert_ne!(broken, output);
        assert!(matches!(match_output(&golden, &lines(&broken)), Outcome::Mismatch(_)));
        // A figure, not an assertion: printed with `cargo test -- --nocapture`.
        println!(
            "1000 lines in 10 interleaved streams: a match and a mismatch in {:?}",
            start.elapsed()
        );
    }
}
