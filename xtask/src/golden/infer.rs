//! Writing a golden file from several runs of an example: the strictest file that matches every
//! run, as far as the runs can tell.
//!
//! 1. **Which lines are the same line.** A line's *shape* is its text with every word that holds
//!    a digit (a run of letters, digits and `_`) taken out. For each shape, such a word position
//!    whose values, as a multiset, are the same in every run is *stable* (a worker's index, a
//!    step number); one whose values differ is *varying* (a PID, a time). Lines with the same
//!    shape and the same stable words are the same line in every run.
//! 2. **Placeholders.** Each varying word becomes a `[NAME]`. Words that hold the same value as
//!    each other in every run (a child's PID printed by the child and by its parent) share one
//!    name, taken from the word before them (`pid 4711` gives `[PID]`).
//! 3. **Order.** Where every run prints the lines in the same order, they are written in that
//!    order. Where runs differ, the smallest stretch that contains the differences becomes a
//!    block, widened over the neighbouring lines of the same shapes: five workers of which only
//!    two happened to swap are still five workers whose order is free. Inside a block, the
//!    lines of one shape that differ in a single stable word which counts up in every run
//!    (`step 1`, `step 2`, ...), and agree on the others, form a stream: an `[interleaved]`
//!    block keeps each stream's order and frees the rest. Where nothing like that holds, the
//!    block is `[unordered]`.
//!
//! Runs show only the variation they happened to have; bless makes them under different
//! conditions, and `cargo xtask verify --stress` tests the result harder.
//!
//! The caller checks the result against every run before writing it.

use std::collections::{BTreeMap, HashMap};

use crate::golden::format::{BLOCK_END, BLOCK_START, INTERLEAVED_END, INTERLEAVED_START, STREAM};

/// One line split into the words that hold a digit (letters, digits, `_`, at least one digit)
/// and the text between them.
#[derive(Debug, Clone)]
struct Line {
    /// `between[0]`, word 0, `between[1]`, word 1, ..., `between[words.len()]`.
    between: Vec<String>,
    words: Vec<String>,
}

impl Line {
    fn split(text: &str) -> Line {
        let mut between = vec![String::new()];
        let mut words: Vec<String> = Vec::new();
        for token in tokens(text) {
            if token.chars().any(|c| c.is_ascii_digit()) {
                words.push(token.to_string());
                between.push(String::new());
            } else {
                between.last_mut().expect("always one").push_str(token);
            }
        }
        Line { between, words }
    }

    fn shape(&self) -> String {
        self.between.join("\u{1}")
    }
}

/// Words (letters, digits and `_`) and single other characters, in order.
fn tokens(text: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let wordy = c.is_alphanumeric() || c == '_';
        match (wordy, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                found.push(&text[s..i]);
                found.push(&text[i..i + c.len_utf8()]);
                start = None;
            }
            (false, None) => found.push(&text[i..i + c.len_utf8()]),
            (true, Some(_)) => {}
        }
    }
    if let Some(s) = start {
        found.push(&text[s..]);
    }
    found
}

/// A line of run 1 with what inference learned about it.
struct Known {
    line: Line,
    shape: String,
    /// Per word: `Some(name)` when the word varies between runs.
    names: Vec<Option<String>>,
}

/// The golden text for `runs` (each a list of lines), or why it cannot be written.
pub fn infer(runs: &[Vec<&str>]) -> Result<String, String> {
    let Some(first) = runs.first() else {
        return Err("no runs to learn from".to_string());
    };
    let split: Vec<Vec<Line>> =
        runs.iter().map(|run| run.iter().map(|l| Line::split(l)).collect()).collect();
    for (r, run) in runs.iter().enumerate().skip(1) {
        if run.len() != first.len() {
            return Err(format!(
                "run {} printed {} lines and run 1 {}: the runs differ in more than order and \
                 values",
                r + 1,
                run.len(),
                first.len()
            ));
        }
    }

    // 1. Stable and varying word positions, per shape.
    let mut stable: HashMap<String, Vec<bool>> = HashMap::new();
    for line in &split[0] {
        let shape = line.shape();
        if stable.contains_key(&shape) {
            continue;
        }
        let mut per_position = vec![true; line.words.len()];
        let values = |run: &[Line], i: usize| -> Vec<String> {
            let mut v: Vec<String> =
                run.iter().filter(|l| l.shape() == shape).map(|l| l.words[i].clone()).collect();
            v.sort();
            v
        };
        for (i, stable_here) in per_position.iter_mut().enumerate() {
            let reference = values(&split[0], i);
            for (r, run) in split.iter().enumerate().skip(1) {
                let other = values(run, i);
                if other.len() != reference.len() {
                    return Err(format!(
                        "run {} printed {} lines shaped like `{}` and run 1 {}",
                        r + 1,
                        other.len(),
                        runs[0][split[0]
                            .iter()
                            .position(|l| l.shape() == shape)
                            .expect("the shape comes from run 1")],
                        reference.len()
                    ));
                }
                if other != reference {
                    *stable_here = false;
                }
            }
        }
        stable.insert(shape, per_position);
    }

    // The same line in every run: same shape and same stable words, in order of occurrence.
    let key = |line: &Line| -> Option<(String, Vec<String>)> {
        let shape = line.shape();
        let mask = stable.get(&shape)?;
        let words = line
            .words
            .iter()
            .zip(mask)
            .map(|(w, &s)| if s { w.clone() } else { String::new() })
            .collect();
        Some((shape, words))
    };
    // `order[r][j]` is the index in run 1 of run r's line j.
    let mut order: Vec<Vec<usize>> = Vec::new();
    let mut slots_of_key: HashMap<(String, Vec<String>), Vec<usize>> = HashMap::new();
    for (j, line) in split[0].iter().enumerate() {
        let k = key(line).expect("run 1's shapes are all known");
        slots_of_key.entry(k).or_default().push(j);
    }
    for (r, run) in split.iter().enumerate() {
        let mut taken: HashMap<(String, Vec<String>), usize> = HashMap::new();
        let mut map = Vec::with_capacity(run.len());
        for (j, line) in run.iter().enumerate() {
            let Some(k) = key(line) else {
                return Err(format!(
                    "run {} prints `{}`, a line unlike any of run 1",
                    r + 1,
                    runs[r][j]
                ));
            };
            let n = taken.entry(k.clone()).or_insert(0);
            let Some(&index) = slots_of_key.get(&k).and_then(|v| v.get(*n)) else {
                return Err(format!(
                    "run {} prints `{}`, a line unlike any of run 1",
                    r + 1,
                    runs[r][j]
                ));
            };
            *n += 1;
            map.push(index);
        }
        order.push(map);
    }
    // values[r][i] = run r's words of run 1's line i.
    let mut values: Vec<Vec<Vec<String>>> = vec![Vec::new(); runs.len()];
    for (r, map) in order.iter().enumerate() {
        let mut by_line = vec![Vec::new(); first.len()];
        for (j, &i) in map.iter().enumerate() {
            by_line[i] = split[r][j].words.clone();
        }
        values[r] = by_line;
    }

    // 2. Placeholders: varying words, grouped by their values across the runs.
    let mut known: Vec<Known> = split[0]
        .iter()
        .map(|line| Known {
            shape: line.shape(),
            names: vec![None; line.words.len()],
            line: line.clone(),
        })
        .collect();
    let mut groups: BTreeMap<Vec<String>, Vec<(usize, usize)>> = BTreeMap::new();
    for (i, k) in known.iter().enumerate() {
        for (w, &is_stable) in stable[&k.shape].iter().enumerate() {
            if !is_stable {
                let across: Vec<String> = values.iter().map(|run| run[i][w].clone()).collect();
                groups.entry(across).or_default().push((i, w));
            }
        }
    }
    let mut used_names: Vec<String> = Vec::new();
    let mut ordered: Vec<&Vec<(usize, usize)>> = groups.values().collect();
    ordered.sort();
    for places in ordered {
        let &(i, w) = places.first().expect("a group has a place");
        let base = name_before(&known[i].line, w);
        let mut name = base.clone();
        let mut n = 2;
        while used_names.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        used_names.push(name.clone());
        for &(i, w) in places {
            known[i].names[w] = Some(name.clone());
        }
    }
    let patterns: Vec<String> = known.iter().map(pattern_text).collect();

    // 3. Order: cut where every run has printed exactly the same lines so far.
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut highest = vec![0usize; runs.len()];
    for end in 1..=first.len() {
        for (r, map) in order.iter().enumerate() {
            highest[r] = highest[r].max(map[end - 1]);
        }
        if highest.iter().all(|&h| h == end - 1) {
            segments.push((start, end));
            start = end;
        }
    }
    // Widen each block over its neighbours of the same shapes, until none is left to take.
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for segment in segments {
        merged.push(segment);
        loop {
            let n = merged.len();
            if n < 2 {
                break;
            }
            let (a, b) = (merged[n - 2], merged[n - 1]);
            let is_block = |(s, e): (usize, usize)| e - s > 1;
            let shares_shape = |(s1, e1): (usize, usize), (s2, e2): (usize, usize)| {
                (s1..e1).any(|i| (s2..e2).any(|j| known[i].shape == known[j].shape))
            };
            if (is_block(a) || is_block(b)) && shares_shape(a, b) {
                merged.truncate(n - 2);
                merged.push((a.0, b.1));
            } else {
                break;
            }
        }
    }
    // A later merge can make an earlier neighbour mergeable: sweep again from the right.
    let mut done: Vec<(usize, usize)> = Vec::new();
    for segment in merged.into_iter().rev() {
        match done.last_mut() {
            Some(next)
                if (next.1 - next.0 > 1 || segment.1 - segment.0 > 1)
                    && (segment.0..segment.1)
                        .any(|i| (next.0..next.1).any(|j| known[i].shape == known[j].shape)) =>
            {
                next.0 = segment.0;
            }
            _ => done.push(segment),
        }
    }
    done.reverse();
    let mut text = String::new();
    for (start, end) in done {
        if end - start == 1 {
            text.push_str(&patterns[start]);
            text.push('\n');
        } else {
            let segment: Vec<usize> = (start..end).collect();
            text.push_str(&block(&segment, &known, &patterns, &order));
        }
    }
    Ok(text)
}

/// A pattern for run 1's line: its words, varying ones as placeholders.
fn pattern_text(k: &Known) -> String {
    let mut text = k.line.between[0].clone();
    for (w, word) in k.line.words.iter().enumerate() {
        match &k.names[w] {
            Some(name) => text.push_str(&format!("[{name}]")),
            None => text.push_str(word),
        }
        text.push_str(&k.line.between[w + 1]);
    }
    text
}

/// Words too common to name a value after.
const FILLER: [&str; 20] = [
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "is", "it", "my", "of", "on",
    "the", "to", "was", "with", "has",
];

/// A placeholder name from the word before position `w`: `pid 4711` gives `PID`.
fn name_before(line: &Line, w: usize) -> String {
    let mut before = String::new();
    for i in 0..w {
        before.push_str(&line.between[i]);
        before.push_str(&line.words[i]);
    }
    before.push_str(&line.between[w]);
    let tokens = tokens(&before);
    // The nearest word before the value, but not a filler, and not a speaker's label such as
    // `parent:` in `parent: 4711 is still alive` (the value is not the parent).
    let word = (0..tokens.len())
        .rev()
        .filter(|&i| tokens[i].chars().next().is_some_and(char::is_alphabetic))
        .filter(|&i| tokens.get(i + 1) != Some(&":"))
        .map(|i| tokens[i])
        .find(|t| !FILLER.contains(&t.to_lowercase().as_str()));
    let name: String = word
        .map(|w| {
            w.chars()
                .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' })
                .collect()
        })
        .unwrap_or_default();
    if name.chars().next().is_some_and(|c| c.is_ascii_uppercase()) {
        name
    } else {
        "VALUE".to_string()
    }
}

/// The block for run 1's lines `segment`, whose order differs between runs.
fn block(segment: &[usize], known: &[Known], patterns: &[String], order: &[Vec<usize>]) -> String {
    // Where each line of the segment appears in each run.
    let position: Vec<HashMap<usize, usize>> =
        order.iter().map(|map| map.iter().enumerate().map(|(j, &i)| (i, j)).collect()).collect();
    let in_order_everywhere = |chain: &[usize]| {
        position.iter().all(|pos| chain.windows(2).all(|w| pos[&w[0]] < pos[&w[1]]))
    };
    let mut shapes: Vec<&str> = Vec::new();
    for &i in segment {
        if !shapes.contains(&known[i].shape.as_str()) {
            shapes.push(&known[i].shape);
        }
    }
    let mut streams: Vec<Vec<usize>> = Vec::new();
    for shape in shapes {
        let lines: Vec<usize> =
            segment.iter().copied().filter(|&i| known[i].shape == shape).collect();
        streams.extend(streams_of_shape(&lines, known, &in_order_everywhere));
    }
    // Streams in the order of their text, so that `worker-0` comes before `worker-1` however the
    // runs went.
    streams.sort_by(|a, b| natural(&patterns[a[0]]).cmp(&natural(&patterns[b[0]])));
    let mut text = String::new();
    if streams.iter().all(|s| s.len() == 1) {
        text.push_str(BLOCK_START);
        text.push('\n');
        for s in &streams {
            text.push_str(&patterns[s[0]]);
            text.push('\n');
        }
        text.push_str(BLOCK_END);
        text.push('\n');
        return text;
    }
    text.push_str(INTERLEAVED_START);
    text.push('\n');
    for s in &streams {
        text.push_str(STREAM);
        text.push('\n');
        for &i in s {
            text.push_str(&patterns[i]);
            text.push('\n');
        }
    }
    text.push_str(INTERLEAVED_END);
    text.push('\n');
    text
}

/// Splits lines of one shape into streams: lines that agree on every stable word but one, a
/// counter that rises along the stream in every run. Of the ways to choose the counter that hold
/// in every run, the one that claims the fewest orderings wins; where two claim as many and the
/// runs cannot tell them apart, no order is claimed at all.
fn streams_of_shape(
    lines: &[usize],
    known: &[Known],
    in_order_everywhere: &dyn Fn(&[usize]) -> bool,
) -> Vec<Vec<usize>> {
    let singles = || lines.iter().map(|&i| vec![i]).collect::<Vec<_>>();
    let Some(&first) = lines.first() else {
        return Vec::new();
    };
    let words = known[first].line.words.len();
    let stable_at = |w: usize| known[first].names[w].is_none();
    let mut candidates: Vec<(usize, Vec<Vec<usize>>)> = Vec::new();
    for counter in (0..words).filter(|&w| stable_at(w)) {
        let mut chains: Vec<(Vec<&str>, Vec<usize>)> = Vec::new();
        for &i in lines {
            let rest: Vec<&str> = (0..words)
                .filter(|&w| w != counter && stable_at(w))
                .map(|w| known[i].line.words[w].as_str())
                .collect();
            match chains.iter_mut().find(|(r, _)| *r == rest) {
                Some((_, chain)) => chain.push(i),
                None => chains.push((rest, vec![i])),
            }
        }
        let chains: Vec<Vec<usize>> = chains.into_iter().map(|(_, c)| c).collect();
        let counts_up = chains.iter().all(|chain| {
            let values: Vec<&str> =
                chain.iter().map(|&i| known[i].line.words[counter].as_str()).collect();
            values.windows(2).all(|v| rises(v[0], v[1]))
        });
        if chains.iter().any(|c| c.len() > 1)
            && counts_up
            && chains.iter().all(|c| in_order_everywhere(c))
        {
            let claims = chains.iter().map(|c| c.len() * (c.len() - 1) / 2).sum();
            candidates.push((claims, chains));
        }
    }
    candidates.sort_by_key(|(claims, _)| *claims);
    match candidates.as_slice() {
        [] => singles(),
        [(_, only)] => only.clone(),
        [(a, best), (b, _), ..] if a < b => best.clone(),
        _ => singles(),
    }
}

/// A sort key that orders the numbers inside text by value: `w-2` before `w-10`.
fn natural(text: &str) -> Vec<(String, u64)> {
    tokens(text)
        .into_iter()
        .map(|t| match t.parse::<u64>() {
            Ok(n) => (String::new(), n),
            Err(_) => (t.to_string(), 0),
        })
        .collect()
}

/// Whether counter value `b` comes after `a`: numerically for numbers, else as text.
fn rises(a: &str, b: &str) -> bool {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(a), Ok(b)) => a < b,
        _ => a < b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::format::{Golden, lines};
    use crate::golden::matcher::{Outcome, match_output};

    fn infer_texts(runs: &[&str]) -> String {
        let runs: Vec<Vec<&str>> = runs.iter().map(|r| lines(r)).collect();
        let text = infer(&runs).expect("inference succeeds");
        let golden = Golden::parse(&text).expect("the inferred file parses");
        for run in &runs {
            assert!(
                matches!(match_output(&golden, run), Outcome::Match(_)),
                "{text} does not match {run:?}"
            );
        }
        text
    }

    #[test]
    fn identical_runs_give_a_literal_file() {
        assert_eq!(infer_texts(&["a\nb 1\n", "a\nb 1\n"]), "a\nb 1\n");
    }

    #[test]
    fn pids_become_named_placeholders_shared_where_the_value_recurs() {
        let text = infer_texts(&[
            "child: pid 100, parent 99\nparent 99: reaped 100\nmessage took 5 ms\n",
            "child: pid 205, parent 204\nparent 204: reaped 205\nmessage took 5 ms\n",
            "child: pid 311, parent 310\nparent 310: reaped 311\nmessage took 7 ms\n",
        ]);
        assert_eq!(
            text,
            "child: pid [PID], parent [PARENT]\nparent [PARENT]: reaped [PID]\n\
             message took [TOOK] ms\n"
        );
    }

    #[test]
    fn a_value_that_changes_in_only_some_runs_is_a_placeholder() {
        let text = infer_texts(&["took 5 ms\n", "took 5 ms\n", "took 6 ms\n"]);
        assert_eq!(text, "took [TOOK] ms\n");
    }

    #[test]
    fn threads_with_steps_become_interleaved_streams() {
        let text = infer_texts(&[
            "start\nw-0: step 1\nw-0: step 2\nw-1: step 1\nw-1: step 2\nend\n",
            "start\nw-1: step 1\nw-0: step 1\nw-1: step 2\nw-0: step 2\nend\n",
            "start\nw-0: step 1\nw-1: step 1\nw-0: step 2\nw-1: step 2\nend\n",
        ]);
        assert_eq!(
            text,
            "start\n[interleaved]\n[stream]\nw-0: step 1\nw-0: step 2\n[stream]\nw-1: step 1\n\
             w-1: step 2\n[/interleaved]\nend\n"
        );
    }

    #[test]
    fn a_block_takes_in_its_neighbours_of_the_same_shape() {
        // Only workers 1 and 2 swapped, but 0 and 3 are workers too: their order is as free.
        let text = infer_texts(&[
            "go\nworker 0\nworker 1\nworker 2\nworker 3\nend\n",
            "go\nworker 0\nworker 2\nworker 1\nworker 3\nend\n",
        ]);
        assert_eq!(
            text,
            "go\n[unordered]\nworker 0\nworker 1\nworker 2\nworker 3\n[/unordered]\nend\n"
        );
    }

    #[test]
    fn names_skip_filler_words_and_different_lines_keep_their_words() {
        let text = infer_texts(&[
            "my pid is 10\nparent: 11 exited with 3\nparent: sent SIGKILL to 12\n",
            "my pid is 20\nparent: 21 exited with 3\nparent: sent SIGKILL to 22\n",
        ]);
        assert_eq!(
            text,
            "my pid is [PID]\nparent: [VALUE] exited with 3\nparent: sent SIGKILL to [SIGKILL]\n"
        );
    }

    #[test]
    fn one_line_per_process_in_varying_order_is_unordered() {
        let text = infer_texts(&[
            "worker 0: pid 11\nworker 1: pid 12\ndone: 11 12\n",
            "worker 1: pid 22\nworker 0: pid 21\ndone: 21 22\n",
        ]);
        assert_eq!(
            text,
            "[unordered]\nworker 0: pid [PID]\nworker 1: pid [PID2]\n[/unordered]\n\
             done: [PID] [PID2]\n"
        );
    }

    #[test]
    fn runs_that_differ_in_more_than_order_and_values_are_refused() {
        let runs = [lines("a\nb\n"), lines("a\n")];
        assert!(infer(&runs).unwrap_err().contains("run 2 printed 1 lines"));
        let runs = [lines("a\nb\n"), lines("a\nc d\n")];
        assert!(infer(&runs).is_err());
    }
}
