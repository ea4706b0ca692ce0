//! Showing a golden file the way the output would look if it matched, for diffs and for bless.
//!
//! Derived from the matcher's result: the output lines it placed are shown as they are, with
//! the golden item each went to; after the point where the match stopped, each golden line that
//! accepts the output line in the same position on its own is shown as that output line, the
//! rest as written. A line diff between this view and the output then shows only the lines that
//! really differ, not every line with a placeholder in it.

use std::time::Duration;

use similar::{Algorithm, TextDiff};

use crate::golden::format::{Golden, Pattern};
use crate::golden::matcher::{Failure, Outcome, Slot, line_matches, match_output};

#[derive(Debug, Clone)]
pub struct ViewLine {
    pub text: String,
    /// The golden item the line stands for.
    pub item: usize,
    /// The golden line matched the output line shown.
    pub matched: bool,
}

/// The view of `golden` against `output`, and the matcher's result it came from.
pub fn render(golden: &Golden, output: &[&str]) -> (Vec<ViewLine>, Outcome) {
    let outcome = match_output(golden, output);
    let view = match &outcome {
        Outcome::Match(assignment) => placed(output, &assignment.slots),
        Outcome::Mismatch(failure) => view_of_failure(golden, output, failure),
        Outcome::GaveUp => aligned(golden, output, &[]),
    };
    (view, outcome)
}

fn placed(output: &[&str], slots: &[Slot]) -> Vec<ViewLine> {
    slots
        .iter()
        .zip(output)
        .map(|(slot, line)| ViewLine { text: line.to_string(), item: slot.item, matched: true })
        .collect()
}

fn view_of_failure(golden: &Golden, output: &[&str], failure: &Failure) -> Vec<ViewLine> {
    let mut view = placed(output, &failure.slots);
    view.extend(aligned(golden, &output[view.len()..], &failure.slots));
    view
}

/// The golden patterns no slot took, in file order, each shown as the output line in its
/// position if it accepts that line on its own.
fn aligned(golden: &Golden, output: &[&str], taken: &[Slot]) -> Vec<ViewLine> {
    let mut left: Vec<(usize, &Pattern)> = Vec::new();
    for (i, item) in golden.items.iter().enumerate() {
        for (stream, index, pattern) in positions(item) {
            let slot = Slot { item: i, stream, index };
            if !taken.contains(&slot) {
                left.push((i, pattern));
            }
        }
    }
    left.iter()
        .enumerate()
        .map(|(cursor, (item, pattern))| {
            let line = output.get(cursor).copied();
            let matched = line.is_some_and(|l| line_matches(pattern, l));
            ViewLine {
                text: if matched {
                    line.unwrap_or_default().to_string()
                } else {
                    pattern.source.clone()
                },
                item: *item,
                matched,
            }
        })
        .collect()
}

/// Each pattern of an item with its stream and index, as the matcher's slots name them.
fn positions(item: &crate::golden::format::Item) -> Vec<(usize, usize, &Pattern)> {
    use crate::golden::format::Item;
    match item {
        Item::Line(p) => vec![(0, 0, p)],
        Item::Unordered(patterns) => patterns.iter().enumerate().map(|(i, p)| (0, i, p)).collect(),
        Item::Interleaved(streams) => streams
            .iter()
            .enumerate()
            .flat_map(|(s, stream)| stream.iter().enumerate().map(move |(i, p)| (s, i, p)))
            .collect(),
    }
}

/// At most this many lines of a diff or of unexpected output go into a report.
pub const MAX_REPORT_LINES: usize = 200;

/// Output lines beyond the golden file's length that take part in a diff. Runaway output can
/// have millions of lines; a diff of those with a short golden file says nothing more than its
/// first screenful, and diffing costs up to the square of the line count.
const DIFF_EXTRA_LINES: usize = 1000;

/// The most a diff may take; after that, `similar` gives a coarser (still correct) diff.
const DIFF_DEADLINE: Duration = Duration::from_secs(1);

/// A readable account of why `output` does not match `golden`: the matcher's reason, then a
/// diff, at most [`MAX_REPORT_LINES`] lines long. Empty when it does match.
pub fn explain_mismatch(golden: &Golden, output: &[&str]) -> String {
    let golden_lines: usize = golden.items.iter().map(|i| i.len()).sum();
    let shown = output.len().min(golden_lines + DIFF_EXTRA_LINES);
    let (output, cut) = (&output[..shown], output.len() - shown);
    let (view, outcome) = render(golden, output);
    let reason = match &outcome {
        Outcome::Match(_) if cut == 0 => return String::new(),
        Outcome::Match(_) => String::new(),
        Outcome::Mismatch(failure) => format!("{}\n", failure.reason),
        Outcome::GaveUp => {
            "the matcher gave up (too many ways to place the placeholders)\n".to_string()
        }
    };
    let view: Vec<&str> = view.iter().map(|v| v.text.as_str()).collect();
    if view == output && cut == 0 {
        // Every line matches on its own: the reason says which placeholder broke.
        return reason;
    }
    let expected = joined(view.iter().copied());
    let actual = joined(output.iter().copied());
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_DEADLINE)
        .diff_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header("golden (placeholders shown as the output filled them)", "actual output")
        .to_string();
    let mut report = head(&format!("{reason}{diff}"), MAX_REPORT_LINES);
    if cut > 0 {
        report.push_str(&format!("(the {cut} output lines after these were not diffed)\n"));
    }
    report
}

/// The first `max` lines of `text`, and a line saying how many more there were.
pub fn head(text: &str, max: usize) -> String {
    let total = text.lines().count();
    if total <= max {
        return text.to_string();
    }
    let mut shown: String = text.lines().take(max).map(|l| format!("{l}\n")).collect();
    shown.push_str(&format!("... {} more lines not shown\n", total - max));
    shown
}

fn joined<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    lines.map(|l| format!("{l}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::golden::format::lines;

    #[test]
    fn diff_shows_only_real_differences() {
        let golden = Golden::parse("pid [P]\n[unordered]\na\nb\n[/unordered]\nend\n").unwrap();
        let output = lines("pid 7\nb\na\nfinish\n");
        let diff = explain_mismatch(&golden, &output);
        assert!(diff.contains("-end\n"), "{diff}");
        assert!(diff.contains("+finish\n"), "{diff}");
        assert!(!diff.contains("-pid"), "{diff}");
        assert!(!diff.contains("-a"), "{diff}");
        assert!(
            diff.starts_with("output line 4 `finish` does not match golden line 6 `end`"),
            "{diff}"
        );
    }

    #[test]
    fn placeholder_conflict_is_explained() {
        let golden = Golden::parse("child [P]\nreaped [P]\n").unwrap();
        let msg = explain_mismatch(&golden, &lines("child 1\nreaped 2\n"));
        assert!(msg.contains("placeholder [P] was `1` on output line 1"), "{msg}");
        assert!(!msg.contains("@@"), "no diff when every line matches on its own: {msg}");
    }

    #[test]
    fn runaway_output_gives_a_short_report_quickly() {
        let golden = Golden::parse("a\nb\n").unwrap();
        let text = "spam\n".repeat(2_000_000);
        let start = std::time::Instant::now();
        let msg = explain_mismatch(&golden, &lines(&text));
        assert!(start.elapsed() < Duration::from_secs(3), "{:?}", start.elapsed());
        assert!(msg.lines().count() <= MAX_REPORT_LINES + 2, "{msg}");
        assert!(msg.contains("more lines not shown"), "{msg}");
    }

    #[test]
    fn short_output_shows_missing_lines() {
        let golden = Golden::parse("a\n[unordered]\nb\nc\n[/unordered]\n").unwrap();
        let diff = explain_mismatch(&golden, &lines("a\nc\n"));
        assert!(diff.contains("-b\n"), "{diff}");
        assert!(diff.contains("the end of the output"), "{diff}");
    }

    #[test]
    fn broken_stream_order_is_named() {
        let golden = Golden::parse(
            "[interleaved]\n[stream]\nw1 step 1\nw1 step 2\n[stream]\nw2 step 1\nw2 step 2\n\
             [/interleaved]\n",
        )
        .unwrap();
        let msg = explain_mismatch(&golden, &lines("w1 step 1\nw2 step 2\nw2 step 1\nw1 step 2\n"));
        assert!(msg.starts_with("output line 2 `w2 step 2` fits no stream"), "{msg}");
        assert!(
            msg.contains(
                "it matches golden line 7 `w2 step 2` of stream 2, but that stream's order puts \
                 golden line 6 `w2 step 1` before it: the order of stream 2 was broken"
            ),
            "{msg}"
        );
    }
}
