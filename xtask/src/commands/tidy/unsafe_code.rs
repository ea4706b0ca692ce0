//! Two rules for `unsafe`, read from the text as rustfmt leaves it.
//!
//! - **Every `unsafe` has its own `// Safety:` comment**: a comment line that starts with
//!   `// Safety:` in the comment block just above the statement, with no other `unsafe` between
//!   them. One blanket comment for several blocks below it is what the rule refuses. An
//!   `unsafe fn` states its caller's duty instead, in a `# Safety` section of its doc comment.
//! - **A recipe's story has no `unsafe`**: `main` and `run` of a recipe (closures inside them
//!   included) call raw functions only through small wrappers of the same file, each with its
//!   own Safety comment, so the reader sees `post(&ready)` and not the raw call.

use std::path::Path;

use crate::project::workspace::shown;

/// The functions that tell a recipe's story; everything `unsafe` goes into wrappers beside them.
const STORY: [&str; 2] = ["run", "main"];

/// How many code lines of one statement may stand between an `unsafe` and its comment
/// (`let x =` on one line and `unsafe { .. }` on the next).
const STATEMENT_LINES: usize = 3;

/// Each `unsafe` of `text` without a `// Safety:` comment of its own.
pub fn missing_safety_comments(path: &Path, text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut problems = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        if !has_unsafe(line) {
            continue;
        }
        let explained = if declares_unsafe_fn(line) {
            documented(&lines[..at])
        } else {
            commented(&lines[..at])
        };
        if !explained {
            problems.push(format!(
                "{}:{}: `unsafe` without a `// Safety:` comment of its own just above it: say \
                 why this call is sound, for this call alone",
                shown(path),
                at + 1
            ));
        }
    }
    problems
}

/// Each `unsafe` inside `main` or `run` of a recipe.
pub fn unsafe_in_story(path: &Path, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut inside: Option<&str> = None;
    for (at, line) in text.lines().enumerate() {
        if let Some(name) = story_start(line) {
            inside = Some(name);
        } else if line.starts_with('}') {
            inside = None;
        }
        if let Some(name) = inside
            && has_unsafe(line)
        {
            problems.push(format!(
                "{}:{}: `unsafe` in `fn {name}`: wrap the raw call once in a small function of \
                 this file, with its own `// Safety:` comment, and call that",
                shown(path),
                at + 1
            ));
        }
    }
    problems
}

/// The name of a story function that `line` starts, at the top level of a file.
fn story_start(line: &str) -> Option<&'static str> {
    let signature = line.strip_prefix("pub ").unwrap_or(line).strip_prefix("fn ")?;
    STORY.into_iter().find(|name| signature.starts_with(&format!("{name}(")))
}

/// Whether the code of `line` (not a comment, not a string) says `unsafe`.
fn has_unsafe(line: &str) -> bool {
    let code = line.split("//").next().unwrap_or("");
    let mut in_string = false;
    let mut words = String::new();
    for c in code.chars() {
        if c == '"' {
            in_string = !in_string;
        } else if !in_string {
            words.push(c);
        }
    }
    words.split(|c: char| !c.is_alphanumeric() && c != '_').any(|word| word == "unsafe")
}

/// Whether `line` declares an `unsafe fn` (rather than calling something unsafe).
fn declares_unsafe_fn(line: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("pub ").unwrap_or(line);
    line.starts_with("unsafe fn ")
}

/// Whether the doc comment just above a declaration has a `# Safety` section.
fn documented(above: &[&str]) -> bool {
    above
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| l.starts_with("///") || l.starts_with("#["))
        .any(|l| l == "/// # Safety")
}

/// Whether the lines just above an `unsafe` hold a comment block with a `// Safety:` line,
/// with at most [`STATEMENT_LINES`] code lines of the same statement (and no other `unsafe`)
/// between them.
fn commented(above: &[&str]) -> bool {
    let mut code_lines = 0;
    let mut in_comment = false;
    for line in above.iter().rev().map(|l| l.trim()) {
        let is_comment = line.starts_with("//") && !line.starts_with("///");
        if is_comment {
            if line.starts_with("// Safety:") {
                return true;
            }
            in_comment = true;
        } else if in_comment || has_unsafe(line) || line.ends_with(';') || line.ends_with('}') {
            return false;
        } else {
            code_lines += 1;
            if code_lines > STATEMENT_LINES {
                return false;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test texts say `UNSAFE`, so that this file's own check does not read them as code.
    fn missing(text: &str) -> Vec<usize> {
        missing_safety_comments(Path::new("r.rs"), &text.replace("UNSAFE", "unsafe"))
            .iter()
            .map(|p| p.split(':').nth(1).unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn each_unsafe_needs_a_comment_of_its_own() {
        let text = "\
fn post(sem: *mut sem_t) -> Result<()> {
    // Safety: the semaphore was initialised and stays mapped.
    Errno::result(UNSAFE { libc::sem_post(sem) })?;
    // Safety (each call below): one blanket comment.
    let _ = UNSAFE { a() };
    let _ = UNSAFE { b() };
    // Safety: the statement goes on below.
    let map =
        UNSAFE { mmap() };
    let word = \"UNSAFE\"; // no code says it here
    //! UNSAFE in a comment is no code either
}
";
        assert_eq!(missing(text), [5, 6]);
    }

    #[test]
    fn an_unsafe_fn_states_its_callers_duty() {
        let text = "    /// Copies.\n    ///\n    /// # Safety\n    /// Only one writer.\n    pub UNSAFE fn write() {}\n    /// No section.\n    UNSAFE fn read() {}\n";
        assert_eq!(missing(text), [7]);
    }

    #[test]
    fn a_comment_above_an_earlier_statement_does_not_count() {
        let text = "    // Safety: about the line below only.\n    a();\n    UNSAFE { b() };\n";
        assert_eq!(missing(text), [3]);
        assert_eq!(missing("UNSAFE { start() };\n"), [1]);
    }

    #[test]
    fn the_story_functions_hold_no_unsafe() {
        let text = "\
fn post(sem: *mut sem_t) {
    // Safety: fine in a wrapper.
    UNSAFE { libc::sem_post(sem) };
}

pub fn main() -> ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let child = fork::fork(|| {
        // Safety: a closure inside run is still the story.
        UNSAFE { libc::_exit(3) }
    })?;
    Ok(())
}
";
        let problems = unsafe_in_story(Path::new("r.rs"), &text.replace("UNSAFE", "unsafe"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("r.rs:13: `unsafe` in `fn run`"), "{}", problems[0]);
    }
}
