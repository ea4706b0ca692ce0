//! The built book in headless Chromium, as a reader sees it: a page loads with no console
//! error, a recipe page's code block holds the recipe, search finds a recipe by a Python name,
//! and a screenshot of each page is kept for a person to look at.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};

use crate::sandbox::launcher::{Isolation, Limits};
use crate::sandbox::runner::{self, Ending, Spec, StdoutMode};

/// Chromium, as Debian installs it (`apt install chromium`).
const CHROMIUM: &str = "chromium";

/// Whether Chromium is on `PATH`.
pub fn installed() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(CHROMIUM).is_file()))
}

/// What the book check does about the browser: without one, a user's run skips that part and
/// says so in one line; CI (`CI` set, as `.ci/run` sets it) must run it.
pub fn without_browser(ci: bool) -> String {
    if ci {
        format!(
            "book: {CHROMIUM} is not installed, and CI must check the book in it: apt install {CHROMIUM}"
        )
    } else {
        format!(
            "book: skipped the check in a browser: {CHROMIUM} is not installed (on Debian and \
             Ubuntu: apt install {CHROMIUM}); everything else was checked"
        )
    }
}

/// How long the page's scripts get (Chromium's virtual time: no real waiting).
const BUDGET_MS: &str = "10000";

/// What Chromium printed.
struct Output {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs Chromium as verify runs a recipe ([`runner::run`]): in its own namespaces, within a
/// timeout, and every process it starts (its zygotes, its crash handlers, which leave its process
/// group) found and ended with it, on Ctrl-C too.
fn chromium(args: &[String], isolation: &Isolation) -> Result<Output> {
    runner::become_subreaper().context("cannot become the reaper of Chromium's processes")?;
    let mut all: Vec<OsString> = [
        // Root (as in CI) needs --no-sandbox; the pages are the book's own, local files.
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--hide-scrollbars",
    ]
    .map(OsString::from)
    .to_vec();
    all.push(format!("--virtual-time-budget={BUDGET_MS}").into());
    all.extend(args.iter().map(OsString::from));
    let outcome = runner::run(&Spec {
        program: CHROMIUM.into(),
        args: all,
        timeout: Duration::from_secs(60),
        isolation: isolation.clone(),
        stdout: StdoutMode::Capture,
        limits: Limits::default(),
        cpu: None,
        stops_early: false,
        path_first: None,
        poke: None,
    });
    match outcome.ending {
        Ending::Exited(0) => {
            Ok(Output { stdout: outcome.stdout.bytes, stderr: outcome.stderr.bytes })
        }
        Ending::NotRun(why) => {
            bail!("cannot run {CHROMIUM} (on Debian and Ubuntu: apt install chromium): {why}")
        }
        other => bail!("{CHROMIUM} did not end well: {other:?}"),
    }
}

/// The console errors and failed loads Chromium reported for a page.
fn console_errors(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| {
            (l.contains(":CONSOLE") && (l.contains("Error") || l.contains("Uncaught")))
                || l.contains("Failed to load resource")
                || l.contains("net::ERR_")
        })
        .map(str::to_string)
        .collect()
}

/// What a page showed: its DOM after its scripts ran, and its console errors.
pub struct Loaded {
    pub dom: String,
    pub errors: Vec<String>,
}

pub fn load(url: &str, isolation: &Isolation) -> Result<Loaded> {
    let output = chromium(&["--dump-dom".to_string(), url.to_string()], isolation)?;
    Ok(Loaded {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        errors: console_errors(&output.stderr),
    })
}

/// Saves a screenshot of `url` as `png`, `height` pixels high.
pub fn screenshot(url: &str, png: &Path, height: u32, isolation: &Isolation) -> Result<()> {
    let _ = std::fs::remove_file(png);
    let args = [
        format!("--window-size=1280,{height}"),
        format!("--screenshot={}", png.display()),
        url.to_string(),
    ];
    let output = chromium(&args, isolation)?;
    if !png.is_file() {
        let said = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{CHROMIUM} wrote no screenshot {}: {}",
            png.display(),
            said.lines().last().unwrap_or("")
        );
    }
    Ok(())
}

/// `file://` URL of a page of the built site.
pub fn url(site: &Path, page: &Path, query: &str) -> String {
    let path: PathBuf = site.join(page);
    format!("file://{}{query}", path.display())
}

/// The text of `html` with its tags taken out and its entities decoded, as a reader sees it.
pub fn text_of(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The part of `dom` inside the element that opens with `open` (up to its closing tag, counted
/// for nesting of the same tag name).
pub fn element<'d>(dom: &'d str, open: &str) -> Option<&'d str> {
    let start = dom.find(open)?;
    let name: String = open[1..].chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
    let (opening, closing) = (format!("<{name}"), format!("</{name}>"));
    let mut depth = 0;
    let mut at = start;
    loop {
        let next_open = dom[at + 1..].find(&opening).map(|n| at + 1 + n);
        let next_close = dom[at + 1..].find(&closing).map(|n| at + 1 + n)?;
        match next_open {
            Some(o) if o < next_close => {
                depth += 1;
                at = o;
            }
            _ if depth == 0 => return Some(&dom[start..next_close + closing.len()]),
            _ => {
                depth -= 1;
                at = next_close;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_elements_are_read_from_html() {
        let dom = r#"<main><ul id="r"><li><a href="a.html">A &amp; B</a></li><ul><li>x</li></ul></ul><p>after</p></main>"#;
        let list = element(dom, r#"<ul id="r">"#).expect("the list is there");
        assert!(list.ends_with("</ul></ul>"), "{list}");
        assert_eq!(text_of(list), "A & Bx");
        assert!(
            console_errors(b"[1:2:INFO:CONSOLE(3)] \"Uncaught TypeError: x\"\nfine\n").len() == 1
        );
    }
}
