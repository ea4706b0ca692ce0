//! Two rules for `unsafe`. syn finds where each `unsafe` stands; its comments are read from the
//! text as rustfmt leaves it (syn keeps no comments).
//!
//! - **Every `unsafe` has its own `// Safety:` comment**: a comment line that starts with
//!   `// Safety:` in the comment block just above the statement, with no other `unsafe` between
//!   them. One blanket comment for several blocks below it is what the rule refuses. An
//!   `unsafe fn` states its caller's duty instead, in a `# Safety` section of its doc comment.
//! - **A recipe's story has no `unsafe`**: `main` and `run` of a recipe (closures inside them
//!   included) call raw functions only through small wrappers of the same file, each with its
//!   own Safety comment, so the reader sees `post(&ready)` and not the raw call.

use std::collections::BTreeSet;
use std::path::Path;

use syn::visit::{self, Visit};

use crate::project::syntax::macro_arguments;
use crate::project::workspace::shown;

/// The functions that tell a recipe's story; everything `unsafe` goes into wrappers beside them.
const STORY: [&str; 2] = ["run", "main"];

/// How many code lines of one statement may stand between an `unsafe` and its comment
/// (`let x =` on one line and `unsafe { .. }` on the next).
const STATEMENT_LINES: usize = 3;

/// One `unsafe` in a file.
struct Unsafe {
    /// Its line, from 1.
    line: usize,
    /// An `unsafe fn`, which documents its caller's duty, rather than a block or an impl.
    declares_fn: bool,
    /// The story function it stands in, if any.
    story: Option<&'static str>,
}

/// Every `unsafe` of a file, in order.
#[derive(Default)]
struct Finder {
    found: Vec<Unsafe>,
    story: Option<&'static str>,
}

impl Finder {
    fn add(&mut self, span: proc_macro2::Span, declares_fn: bool) {
        self.found.push(Unsafe { line: span.start().line, declares_fn, story: self.story });
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        if let Some(unsafety) = &item.sig.unsafety {
            self.add(unsafety.span, true);
        }
        let outer = self.story;
        if outer.is_none() {
            self.story = STORY.into_iter().find(|name| item.sig.ident == name);
        }
        visit::visit_item_fn(self, item);
        self.story = outer;
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        if let Some(unsafety) = &item.sig.unsafety {
            self.add(unsafety.span, true);
        }
        visit::visit_impl_item_fn(self, item);
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        if let Some(unsafety) = &item.unsafety {
            self.add(unsafety.span, false);
        }
        visit::visit_item_impl(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        macro_arguments(mac).iter().for_each(|argument| self.visit_expr(argument));
        visit::visit_macro(self, mac);
    }

    fn visit_expr_unsafe(&mut self, block: &'ast syn::ExprUnsafe) {
        self.add(block.unsafe_token.span, false);
        visit::visit_expr_unsafe(self, block);
    }
}

/// The problems of `text` under both rules; the second (`in_recipe`) only for a recipe.
pub fn problems(path: &Path, text: &str, in_recipe: bool) -> Vec<String> {
    let file = match syn::parse_file(text) {
        Ok(file) => file,
        Err(e) => return vec![format!("{}: cannot be read as Rust: {e}", shown(path))],
    };
    let mut finder = Finder::default();
    finder.visit_file(&file);
    let lines: Vec<&str> = text.lines().collect();
    let unsafe_lines: BTreeSet<usize> = finder.found.iter().map(|u| u.line).collect();
    let mut problems = Vec::new();
    for found in &finder.found {
        let above = &lines[..found.line - 1];
        let explained = if found.declares_fn {
            documented(above)
        } else {
            commented(above, found.line, &unsafe_lines)
        };
        if !explained {
            problems.push(format!(
                "{}:{}: `unsafe` without a `// Safety:` comment of its own just above it: say \
                 why this call is sound, for this call alone",
                shown(path),
                found.line
            ));
        }
        if let Some(name) = found.story.filter(|_| in_recipe) {
            problems.push(format!(
                "{}:{}: `unsafe` in `fn {name}`: wrap the raw call once in a small function of \
                 this file, with its own `// Safety:` comment, and call that",
                shown(path),
                found.line
            ));
        }
    }
    problems.dedup();
    problems
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

/// Whether the lines just above the `unsafe` on line `line` hold a comment block with a
/// `// Safety:` line, with at most [`STATEMENT_LINES`] code lines of the same statement, and
/// no other `unsafe`, between them.
fn commented(above: &[&str], line: usize, unsafe_lines: &BTreeSet<usize>) -> bool {
    let mut code_lines = 0;
    let mut in_comment = false;
    for (at, text) in above.iter().enumerate().rev() {
        let text = text.trim();
        let is_comment = text.starts_with("//") && !text.starts_with("///");
        let other_unsafe = at + 1 != line && unsafe_lines.contains(&(at + 1));
        if is_comment {
            if text.starts_with("// Safety:") {
                return true;
            }
            in_comment = true;
        } else if in_comment || other_unsafe || text.ends_with(';') || text.ends_with('}') {
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

    /// The lines of the problems `text` has, as a file and as a recipe.
    fn lines(text: &str, in_recipe: bool) -> Vec<usize> {
        problems(Path::new("r.rs"), text, in_recipe)
            .iter()
            .map(|p| p.split(':').nth(1).unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    fn each_unsafe_needs_a_comment_of_its_own() {
        let text = r#"
fn post(sem: *mut sem_t) -> Result<()> {
    // Safety: the semaphore was initialised and stays mapped.
    Errno::result(unsafe { libc::sem_post(sem) })?;
    // Safety (each call below): one blanket comment.
    let _ = unsafe { a() };
    let _ = unsafe { b() };
    // Safety: the statement goes on below.
    let map =
        unsafe { mmap() };
    let word = "unsafe"; // no code says it here
    say!("{}", unsafe { c() })?;
    Ok(())
}
"#;
        // The blanket comment is no `// Safety:` line; a macro's argument is code too.
        assert_eq!(lines(text, false), [6, 7, 12]);
        let text = "fn f() {\n    // Safety: about the line below only.\n    a();\n    unsafe { b() };\n}\n";
        assert_eq!(lines(text, false), [4]);
    }

    #[test]
    fn an_unsafe_fn_states_its_callers_duty() {
        let text = "\
/// Copies.
///
/// # Safety
/// Only one writer.
pub unsafe fn write() {}
/// No section.
unsafe fn read() {}
";
        assert_eq!(lines(text, false), [7]);
    }

    #[test]
    fn the_story_functions_hold_no_unsafe() {
        let text = "\
fn post(sem: *mut sem_t) {
    // Safety: fine in a wrapper.
    unsafe { libc::sem_post(sem) };
}

pub fn main() -> ExitCode {
    errors::exit(run())
}

fn run() -> Result<()> {
    let child = fork::fork(|| {
        // Safety: a closure inside run is still the story.
        unsafe { libc::_exit(3) }
    })?;
    Ok(())
}
";
        let found = problems(Path::new("r.rs"), text, true);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("r.rs:13: `unsafe` in `fn run`"), "{}", found[0]);
        assert!(lines(text, false).is_empty());
    }
}
