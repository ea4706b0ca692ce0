//! Showing a golden file the way the output would look if it matched, for diffs and for bless.
//!
//! Each golden line that matches the output line it is aligned with is shown as that output line;
//! the rest are shown as written. A line diff between this view and the output then shows only
//! the lines that really differ, not every line with a placeholder in it.

use std::time::Duration;

use similar::{Algorithm, TextDiff};

use crate::golden::{Golden, Item, Pattern};
use crate::matcher::{assign_block, line_matches, placeholder_conflict};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Golden item `index`, a single line.
    Line(usize),
    /// Golden item `index`, an unordered block.
    Block(usize),
}

#[derive(Debug, Clone)]
pub struct ViewLine {
    pub text: String,
    pub origin: Origin,
    /// The golden line matched the output line shown.
    pub matched: bool,
}

pub fn render(golden: &Golden, output: &[&str]) -> Vec<ViewLine> {
    let mut view = Vec::new();
    let mut cursor = 0;
    for (index, item) in golden.items.iter().enumerate() {
        match item {
            Item::Line(pattern) => {
                let line = output.get(cursor).copied();
                let matched = line.is_some_and(|l| line_matches(pattern, l));
                view.push(ViewLine {
                    text: if matched {
                        line.unwrap_or_default()
                    } else {
                        &pattern.source
                    }
                    .to_string(),
                    origin: Origin::Line(index),
                    matched,
                });
                cursor += 1;
            }
            Item::Unordered(patterns) => {
                let end = (cursor + patterns.len()).min(output.len());
                render_block(patterns, &output[cursor.min(end)..end], index, &mut view);
                cursor += patterns.len();
            }
        }
    }
    view
}

fn render_block(patterns: &[Pattern], lines: &[&str], index: usize, view: &mut Vec<ViewLine>) {
    let origin = Origin::Block(index);
    if lines.len() == patterns.len() && assign_block(patterns, lines).is_some() {
        view.extend(lines.iter().map(|l| ViewLine {
            text: l.to_string(),
            origin,
            matched: true,
        }));
        return;
    }
    // No full assignment: show the lines some pattern accepts, then the patterns left over.
    let mut used = vec![false; patterns.len()];
    for line in lines {
        let found = (0..patterns.len()).find(|&p| !used[p] && line_matches(&patterns[p], line));
        if let Some(p) = found {
            used[p] = true;
            view.push(ViewLine {
                text: line.to_string(),
                origin,
                matched: true,
            });
        }
    }
    for (p, pattern) in patterns.iter().enumerate() {
        if !used[p] {
            view.push(ViewLine {
                text: pattern.source.clone(),
                origin,
                matched: false,
            });
        }
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

/// A readable account of why `output` does not match `golden`, at most [`MAX_REPORT_LINES`]
/// lines long.
pub fn explain_mismatch(golden: &Golden, output: &[&str]) -> String {
    let golden_lines: usize = golden
        .items
        .iter()
        .map(|item| match item {
            Item::Line(_) => 1,
            Item::Unordered(patterns) => patterns.len(),
        })
        .sum();
    let shown = output.len().min(golden_lines + DIFF_EXTRA_LINES);
    let (output, cut) = (&output[..shown], output.len() - shown);
    let view: Vec<String> = render(golden, output).into_iter().map(|v| v.text).collect();
    if view.iter().map(String::as_str).eq(output.iter().copied()) {
        return match placeholder_conflict(golden, output) {
            Some(conflict) => format!("every line matches on its own, but {conflict}"),
            None => "every line matches on its own, but no choice of values gives each named \
                     placeholder one value throughout the file"
                .to_string(),
        };
    }
    let expected = joined(view.iter().map(String::as_str));
    let actual = joined(output.iter().copied());
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_DEADLINE)
        .diff_lines(&expected, &actual)
        .unified_diff()
        .context_radius(3)
        .header(
            "golden (placeholders shown as the output filled them)",
            "actual output",
        )
        .to_string();
    let mut report = head(&diff, MAX_REPORT_LINES);
    if cut > 0 {
        report.push_str(&format!(
            "(the {cut} output lines after these were not diffed)\n"
        ));
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
    use crate::golden::lines;

    #[test]
    fn diff_shows_only_real_differences() {
        let golden = Golden::parse("pid [P]\n[unordered]\na\nb\n[/unordered]\nend\n").unwrap();
        let output = lines("pid 7\nb\na\nfinish\n");
        let diff = explain_mismatch(&golden, &output);
        assert!(diff.contains("-end\n"), "{diff}");
        assert!(diff.contains("+finish\n"), "{diff}");
        assert!(!diff.contains("-pid"), "{diff}");
        assert!(!diff.contains("-a"), "{diff}");
    }

    #[test]
    fn placeholder_conflict_is_explained() {
        let golden = Golden::parse("child [P]\nreaped [P]\n").unwrap();
        let msg = explain_mismatch(&golden, &lines("child 1\nreaped 2\n"));
        assert!(msg.contains("placeholder [P] is `1`"), "{msg}");
    }

    #[test]
    fn runaway_output_gives_a_short_report_quickly() {
        let golden = Golden::parse("a\nb\n").unwrap();
        let text = "spam\n".repeat(2_000_000);
        let start = std::time::Instant::now();
        let msg = explain_mismatch(&golden, &lines(&text));
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{:?}",
            start.elapsed()
        );
        assert!(msg.lines().count() <= MAX_REPORT_LINES + 2, "{msg}");
        assert!(msg.contains("more lines not shown"), "{msg}");
    }

    #[test]
    fn short_output_shows_missing_lines() {
        let golden = Golden::parse("a\n[unordered]\nb\nc\n[/unordered]\n").unwrap();
        let diff = explain_mismatch(&golden, &lines("a\nc\n"));
        assert!(diff.contains("-b\n"), "{diff}");
    }
}
