//! Golden files: parsing the pattern syntax and splitting text into comparable lines.
//!
//! The syntax (documented for users in README.md):
//! - every line is literal, except for the two placeholder forms below;
//! - `[..]` matches any text within one line, including none;
//! - `[NAME]` (an upper-case letter, then upper-case letters, digits or `_`) matches one or more
//!   non-whitespace characters, and must match the same text everywhere `[NAME]` appears;
//! - a line `[unordered]` opens a block and `[/unordered]` closes it: the lines between them must
//!   all appear, each matched by exactly one of them, in any order;
//! - a line `[interleaved]` opens a block of streams, each introduced by a line `[stream]`, and
//!   `[/interleaved]` closes it: the output there is an interleaving of the streams, each stream's
//!   lines in their own order (several threads or processes writing one stdout).
//!
//! A `[` followed by `.` or an upper-case letter starts a placeholder; anything else in brackets,
//! such as `[1, 2]` or `[ok]`, is literal text. Blocks do not nest.

use std::fmt;

pub const BLOCK_START: &str = "[unordered]";
pub const BLOCK_END: &str = "[/unordered]";
pub const INTERLEAVED_START: &str = "[interleaved]";
pub const STREAM: &str = "[stream]";
pub const INTERLEAVED_END: &str = "[/interleaved]";

/// Splits program output or golden text into lines for comparison.
///
/// The one normalisation rule: trailing whitespace on each line is ignored, and so is a single
/// final newline. Everything else, including blank lines, counts.
pub fn lines(text: &str) -> Vec<&str> {
    if text.is_empty() {
        return Vec::new();
    }
    let text = text.strip_suffix('\n').unwrap_or(text);
    text.split('\n').map(str::trim_end).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    Lit(String),
    /// `[..]`
    Any,
    /// `[NAME]`
    Var(String),
}

/// One golden line, compiled.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub toks: Vec<Tok>,
    /// The line as written in the golden file (trailing whitespace removed).
    pub source: String,
    pub has_vars: bool,
    /// 1-based line number in the golden file (0 for patterns made in code).
    pub line: usize,
}

#[derive(Debug, Clone)]
pub enum Item {
    Line(Pattern),
    Unordered(Vec<Pattern>),
    /// The streams, each in its own order.
    Interleaved(Vec<Vec<Pattern>>),
}

impl Item {
    /// How many output lines the item takes.
    pub fn len(&self) -> usize {
        match self {
            Item::Line(_) => 1,
            Item::Unordered(patterns) => patterns.len(),
            Item::Interleaved(streams) => streams.iter().map(Vec::len).sum(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Golden {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// 1-based line number in the golden file.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// The block being read, with the line number of its opening line.
enum Open {
    Unordered(usize, Vec<Pattern>),
    Interleaved(usize, Vec<Vec<Pattern>>),
}

impl Golden {
    pub fn parse(text: &str) -> Result<Golden, ParseError> {
        let mut items = Vec::new();
        let mut open: Option<Open> = None;
        for (index, line) in lines(text).into_iter().enumerate() {
            let line_no = index + 1;
            let err = |message: String| ParseError { line: line_no, message };
            let marker = line.trim_start();
            match (marker, &mut open) {
                (BLOCK_START | INTERLEAVED_START, Some(Open::Unordered(start, _)))
                | (BLOCK_START | INTERLEAVED_START, Some(Open::Interleaved(start, _))) => {
                    return Err(err(format!(
                        "`{marker}` inside the block opened on line {start}; blocks do not nest"
                    )));
                }
                (BLOCK_START, None) => open = Some(Open::Unordered(line_no, Vec::new())),
                (INTERLEAVED_START, None) => open = Some(Open::Interleaved(line_no, Vec::new())),
                (STREAM, Some(Open::Interleaved(_, streams))) => streams.push(Vec::new()),
                (STREAM, _) => {
                    return Err(err(format!("`{STREAM}` outside an `{INTERLEAVED_START}` block")));
                }
                (BLOCK_END, Some(Open::Unordered(start, patterns))) => {
                    if patterns.is_empty() {
                        return Err(ParseError {
                            line: *start,
                            message: format!("empty `{BLOCK_START}` block"),
                        });
                    }
                    items.push(Item::Unordered(std::mem::take(patterns)));
                    open = None;
                }
                (INTERLEAVED_END, Some(Open::Interleaved(start, streams))) => {
                    if streams.is_empty() {
                        return Err(ParseError {
                            line: *start,
                            message: format!(
                                "empty `{INTERLEAVED_START}` block: give each stream a `{STREAM}` \
                                 line"
                            ),
                        });
                    }
                    if streams.iter().any(Vec::is_empty) {
                        return Err(err(format!(
                            "an empty `{STREAM}` in the block opened on line {start}"
                        )));
                    }
                    items.push(Item::Interleaved(std::mem::take(streams)));
                    open = None;
                }
                (BLOCK_END | INTERLEAVED_END, _) => {
                    let expected = match &open {
                        Some(Open::Unordered(start, _)) => {
                            format!("the `{BLOCK_START}` of line {start} ends with `{BLOCK_END}`")
                        }
                        Some(Open::Interleaved(start, _)) => format!(
                            "the `{INTERLEAVED_START}` of line {start} ends with \
                             `{INTERLEAVED_END}`"
                        ),
                        None => "no block is open".to_string(),
                    };
                    return Err(err(format!("`{marker}` out of place: {expected}")));
                }
                (_, Some(Open::Unordered(_, patterns))) => {
                    patterns.push(Pattern::parse_at(line, line_no).map_err(err)?)
                }
                (_, Some(Open::Interleaved(start, streams))) => match streams.last_mut() {
                    Some(stream) => stream.push(Pattern::parse_at(line, line_no).map_err(err)?),
                    None => {
                        return Err(err(format!(
                            "a line inside the `{INTERLEAVED_START}` of line {start} before its \
                             first `{STREAM}`"
                        )));
                    }
                },
                (_, None) => items.push(Item::Line(Pattern::parse_at(line, line_no).map_err(err)?)),
            }
        }
        match open {
            Some(Open::Unordered(start, _)) => Err(ParseError {
                line: start,
                message: format!("`{BLOCK_START}` is never closed with `{BLOCK_END}`"),
            }),
            Some(Open::Interleaved(start, _)) => Err(ParseError {
                line: start,
                message: format!("`{INTERLEAVED_START}` is never closed with `{INTERLEAVED_END}`"),
            }),
            None => Ok(Golden { items }),
        }
    }

    /// The golden file as text: what `parse` reads back into the same structure.
    #[cfg(test)]
    pub fn to_text(&self) -> String {
        self.items.iter().map(Item::to_text).collect()
    }
}

impl Item {
    /// The item as golden-file text, one line per pattern or marker.
    pub fn to_text(&self) -> String {
        let mut text = String::new();
        let mut line = |l: &str| {
            text.push_str(l);
            text.push('\n');
        };
        match self {
            Item::Line(p) => line(&p.source),
            Item::Unordered(patterns) => {
                line(BLOCK_START);
                patterns.iter().for_each(|p| line(&p.source));
                line(BLOCK_END);
            }
            Item::Interleaved(streams) => {
                line(INTERLEAVED_START);
                for stream in streams {
                    line(STREAM);
                    stream.iter().for_each(|p| line(&p.source));
                }
                line(INTERLEAVED_END);
            }
        }
        text
    }
}

impl Pattern {
    #[cfg(test)]
    pub fn parse(line: &str) -> Result<Pattern, String> {
        Pattern::parse_at(line, 0)
    }

    /// Parses the golden file's line number `line_no`.
    pub fn parse_at(line: &str, line_no: usize) -> Result<Pattern, String> {
        let mut toks = Vec::new();
        let mut lit = String::new();
        let mut rest = line;
        while let Some(open) = rest.find('[') {
            let after = &rest[open + 1..];
            let starts_placeholder = after.starts_with('.')
                || after.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if !starts_placeholder {
                lit.push_str(&rest[..=open]);
                rest = after;
                continue;
            }
            lit.push_str(&rest[..open]);
            let Some(close) = after.find(']') else {
                return Err(format!(
                    "unclosed placeholder `{}`: expected `[..]` or `[NAME]`",
                    &rest[open..]
                ));
            };
            let inner = &after[..close];
            let tok = if inner == ".." {
                Tok::Any
            } else if is_name(inner) {
                Tok::Var(inner.to_string())
            } else {
                return Err(format!(
                    "unknown placeholder `[{inner}]`: expected `[..]` or `[NAME]` \
                     (NAME is upper-case letters, digits and `_`)"
                ));
            };
            if !lit.is_empty() {
                toks.push(Tok::Lit(std::mem::take(&mut lit)));
            }
            toks.push(tok);
            rest = &after[close + 1..];
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            toks.push(Tok::Lit(lit));
        }
        let has_vars = toks.iter().any(|t| matches!(t, Tok::Var(_)));
        Ok(Pattern { toks, source: line.to_string(), has_vars, line: line_no })
    }
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_ignore_trailing_whitespace_and_one_final_newline() {
        assert_eq!(lines("a  \nb\t\n"), vec!["a", "b"]);
        assert_eq!(lines("a\nb"), vec!["a", "b"]);
        assert_eq!(lines("a\n\n"), vec!["a", ""]);
        assert_eq!(lines("a\r\n"), vec!["a"]);
        assert!(lines("").is_empty());
    }

    #[test]
    fn placeholders_and_literal_brackets() {
        let p = Pattern::parse("pid [PID] at [..] is [1, 2] [ok]").unwrap();
        assert_eq!(
            p.toks,
            vec![
                Tok::Lit("pid ".into()),
                Tok::Var("PID".into()),
                Tok::Lit(" at ".into()),
                Tok::Any,
                Tok::Lit(" is [1, 2] [ok]".into()),
            ]
        );
        assert!(p.has_vars);
    }

    #[test]
    fn unknown_placeholder_is_an_error() {
        let err = Pattern::parse("x [...] y").unwrap_err();
        assert!(err.contains("unknown placeholder `[...]`"), "{err}");
        let err = Pattern::parse("x [Pid] y").unwrap_err();
        assert!(err.contains("unknown placeholder `[Pid]`"), "{err}");
        let err = Pattern::parse("x [PID").unwrap_err();
        assert!(err.contains("unclosed placeholder"), "{err}");
    }

    #[test]
    fn blocks_parse_and_must_be_well_formed() {
        let g = Golden::parse("a\n[unordered]\nb\nc\n[/unordered]\nd\n").unwrap();
        assert_eq!(g.items.len(), 3);

        let err = Golden::parse("a\n[unordered]\nb\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("never closed"));

        let err = Golden::parse("[/unordered]\n").unwrap_err();
        assert_eq!(err.line, 1);

        let err = Golden::parse("[unordered]\n[unordered]\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("do not nest"));

        let err = Golden::parse("[unordered]\n[/unordered]\n").unwrap_err();
        assert!(err.message.contains("empty"));
    }

    #[test]
    fn interleaved_blocks_parse_into_streams() {
        let text = "a\n[interleaved]\n[stream]\nx1\nx2\n[stream]\ny1\n[/interleaved]\nb\n";
        let g = Golden::parse(text).unwrap();
        assert_eq!(g.items.len(), 3);
        let Item::Interleaved(streams) = &g.items[1] else {
            panic!("not interleaved");
        };
        assert_eq!(streams.len(), 2);
        assert_eq!(streams[0][1].source, "x2");
        assert_eq!(streams[0][1].line, 5);
        assert_eq!(g.items[1].len(), 3);
        assert_eq!(g.to_text(), text);
    }

    #[test]
    fn malformed_interleaved_blocks_name_the_line() {
        let cases = [
            ("[interleaved]\nx\n[/interleaved]\n", 2, "before its first `[stream]`"),
            ("[stream]\nx\n", 1, "outside an `[interleaved]` block"),
            ("[interleaved]\n[stream]\n[stream]\nx\n[/interleaved]\n", 5, "an empty `[stream]`"),
            ("[interleaved]\n[/interleaved]\n", 1, "empty `[interleaved]` block"),
            ("[interleaved]\n[stream]\nx\n", 1, "never closed"),
            ("[interleaved]\n[stream]\nx\n[/unordered]\n", 4, "ends with `[/interleaved]`"),
            ("[unordered]\nx\n[interleaved]\n", 3, "do not nest"),
            ("[interleaved]\n[stream]\n[unordered]\n", 3, "do not nest"),
        ];
        for (text, line, message) in cases {
            let err = Golden::parse(text).unwrap_err();
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.message.contains(message), "{text:?}: {err}");
        }
    }

    #[test]
    fn parse_errors_name_the_line() {
        let err = Golden::parse("ok\nbad [X-1]\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(
            err.to_string(),
            "line 2: unknown placeholder `[X-1]`: expected `[..]` or `[NAME]` \
             (NAME is upper-case letters, digits and `_`)"
        );
    }
}
