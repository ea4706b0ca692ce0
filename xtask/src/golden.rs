//! Golden files: parsing the pattern syntax and splitting text into comparable lines.
//!
//! The syntax (documented for users in README.md):
//! - every line is literal, except for the two placeholder forms below;
//! - `[..]` matches any text within one line, including none;
//! - `[NAME]` (an upper-case letter, then upper-case letters, digits or `_`) matches one or more
//!   non-whitespace characters, and must match the same text everywhere `[NAME]` appears;
//! - a line `[unordered]` opens a block and `[/unordered]` closes it: the lines between them must
//!   all appear, each matched by exactly one of them, in any order.
//!
//! A `[` followed by `.` or an upper-case letter starts a placeholder; anything else in brackets,
//! such as `[1, 2]` or `[ok]`, is literal text.

use std::fmt;

pub const BLOCK_START: &str = "[unordered]";
pub const BLOCK_END: &str = "[/unordered]";

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
}

#[derive(Debug, Clone)]
pub enum Item {
    Line(Pattern),
    Unordered(Vec<Pattern>),
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

impl Golden {
    pub fn parse(text: &str) -> Result<Golden, ParseError> {
        let mut items = Vec::new();
        // The open block, with the line number of its `[unordered]`.
        let mut block: Option<(usize, Vec<Pattern>)> = None;
        for (index, line) in lines(text).into_iter().enumerate() {
            let line_no = index + 1;
            let err = |message: String| ParseError {
                line: line_no,
                message,
            };
            match (line.trim_start(), &mut block) {
                (BLOCK_START, Some((start, _))) => {
                    return Err(err(format!(
                        "`{BLOCK_START}` inside the block opened on line {start}; blocks do not nest"
                    )));
                }
                (BLOCK_START, None) => block = Some((line_no, Vec::new())),
                (BLOCK_END, None) => {
                    return Err(err(format!(
                        "`{BLOCK_END}` without an open `{BLOCK_START}`"
                    )));
                }
                (BLOCK_END, Some(_)) => {
                    let (start, patterns) = block.take().expect("matched Some above");
                    if patterns.is_empty() {
                        return Err(ParseError {
                            line: start,
                            message: "empty `[unordered]` block".to_string(),
                        });
                    }
                    items.push(Item::Unordered(patterns));
                }
                (_, Some((_, patterns))) => patterns.push(Pattern::parse(line).map_err(err)?),
                (_, None) => items.push(Item::Line(Pattern::parse(line).map_err(err)?)),
            }
        }
        if let Some((start, _)) = block {
            return Err(ParseError {
                line: start,
                message: format!("`{BLOCK_START}` is never closed with `{BLOCK_END}`"),
            });
        }
        Ok(Golden { items })
    }
}

impl Pattern {
    pub fn parse(line: &str) -> Result<Pattern, String> {
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
        Ok(Pattern {
            toks,
            source: line.to_string(),
            has_vars,
        })
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
