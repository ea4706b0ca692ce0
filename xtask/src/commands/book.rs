//! `cargo xtask book`: generates the book's sources from the repository, builds them with the
//! pinned mdBook into `target/book`, and checks the result as a reader meets it. Fails on an
//! include that does not resolve, a dead link or anchor, a recipe without a page or a page
//! without a recipe, and, in Chromium, a console error, a recipe page whose code block is not
//! its recipe, or a search for a Python name that finds no recipe.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};

use crate::book::{browser, links, mdbook, site};
use crate::out::{counted, say};
use crate::project::workspace::Workspace;
use crate::sandbox::launcher::Isolation;

/// The recipe page opened in Chromium, and the Python name searched for.
const PROBE_RECIPE: &str = "ipc_shm/semaphore";
const PROBE_SEARCH: &str = "shared_memory";

/// Returns whether the book was built and every check passed.
pub fn book(browser: bool) -> Result<bool> {
    let workspace = Workspace::discover()?;
    let root = workspace.root.clone();
    let target = workspace.target.clone();
    let sources = site::generate(&workspace, &target.join("book-src"))?;
    say!(
        "book: {} pages, {} of them recipes, generated into target/book-src",
        sources.chapters.len(),
        sources.recipe_pages.len()
    )?;
    let mut problems = site::unresolved_includes(&sources.src)?;
    problems.extend(site::missing_explanations(&workspace)?);

    let mdbook = mdbook::ensure(&target)?;
    let started = Instant::now();
    mdbook::build(&mdbook, &target.join("book-src"))?;
    let site = target.join("book");
    say!(
        "book: built with mdBook {} into target/book in {:.1} s",
        mdbook::VERSION,
        started.elapsed().as_secs_f64()
    )?;

    problems.extend(page_per_recipe(&site, &workspace)?);
    let (checked, dead) = links::check_site(&site)?;
    for d in &dead {
        problems.push(format!("dead link in {}: {} ({})", d.page.display(), d.href, d.why));
    }
    say!("book: {checked} links and anchors checked, {} dead", dead.len())?;

    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
    match browser_check(browser, browser::installed(), ci) {
        BrowserCheck::Run => problems.extend(in_browser(&site, &root, &sources)?),
        BrowserCheck::Missing => problems.push(browser::without_browser(true)),
        BrowserCheck::Skip => say!("{}", browser::without_browser(false))?,
        BrowserCheck::NotAsked => {}
    }
    for problem in &problems {
        say!("{problem}")?;
    }
    say!(
        "book: {}",
        if problems.is_empty() {
            "ok; open target/book/index.html".to_string()
        } else {
            counted(problems.len(), "problem")
        }
    )?;
    Ok(problems.is_empty())
}

/// What the book check does about the browser part.
#[derive(Debug, PartialEq, Eq)]
enum BrowserCheck {
    Run,
    /// Chromium is missing where the check is mandatory: CI.
    Missing,
    /// Chromium is missing on a user's machine: skipped, with one line saying so.
    Skip,
    /// `--no-browser`.
    NotAsked,
}

fn browser_check(wanted: bool, installed: bool, ci: bool) -> BrowserCheck {
    match (wanted, installed, ci) {
        (false, _, _) => BrowserCheck::NotAsked,
        (true, true, _) => BrowserCheck::Run,
        (true, false, true) => BrowserCheck::Missing,
        (true, false, false) => BrowserCheck::Skip,
    }
}

/// Every recipe of the workspace has a built page, `PACKAGE/RECIPE.html`, and every page in an
/// example's folder (but its README) is a recipe's. Worked out from the workspace, not from
/// what the generator says it wrote.
fn page_per_recipe(site: &Path, workspace: &Workspace) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let expected: Vec<PathBuf> = workspace
        .examples
        .iter()
        .map(|e| Path::new(&e.package).join(format!("{}.html", e.recipe.name)))
        .collect();
    for (example, page) in workspace.examples.iter().zip(&expected) {
        if !site.join(page).is_file() {
            problems.push(format!(
                "recipe {} has no page ({} is missing)",
                example.name,
                page.display()
            ));
        }
    }
    let packages = workspace.packages();
    for page in links::html_pages(site)? {
        let in_example =
            page.parent().and_then(Path::to_str).is_some_and(|p| packages.contains(&p));
        let readme = page.file_name().is_some_and(|n| n == "README.html");
        if in_example && !readme && !expected.contains(&page) {
            problems.push(format!("page {} belongs to no recipe", page.display()));
        }
    }
    Ok(problems)
}

/// The landing page and one recipe page in headless Chromium, and a search.
fn in_browser(site: &Path, root: &Path, sources: &site::Sources) -> Result<Vec<String>> {
    let shots = site.parent().context("the book is in the target folder")?.join("book-check");
    fs::create_dir_all(&shots).context("cannot create target/book-check")?;
    let mut problems = Vec::new();
    // Chromium runs as verify runs a recipe: every process it starts is found and ended.
    let isolation = Isolation::detect();
    let (_, recipe_page) = sources
        .recipe_pages
        .iter()
        .find(|(name, _)| name == PROBE_RECIPE)
        .with_context(|| format!("no page for {PROBE_RECIPE}"))?;
    let recipe_html = recipe_page.with_extension("html");
    // The recipe page's shot is tall enough to show its code and its output.
    for (what, page, png, height) in [
        ("the landing page", PathBuf::from("index.html"), "landing.png", 1000),
        ("the recipe page", recipe_html.clone(), "recipe.png", 3400),
    ] {
        let loaded = browser::load(&browser::url(site, &page, ""), &isolation)?;
        for error in loaded.errors {
            problems.push(format!("{what} ({}): console: {error}", page.display()));
        }
        if page == recipe_html {
            let (package, recipe) = PROBE_RECIPE.split_once('/').expect("package/recipe");
            let source = root.join(package).join("src").join(format!("{recipe}.rs"));
            let first = fs::read_to_string(&source)?.lines().next().unwrap_or("").to_string();
            let code = browser::element(&loaded.dom, "<code class=\"language-rust")
                .map(browser::text_of)
                .unwrap_or_default();
            if !code.contains(first.trim()) {
                problems.push(format!(
                    "{what}: its first code block does not hold the recipe's first line {first:?}"
                ));
            }
        }
        browser::screenshot(&browser::url(site, &page, ""), &shots.join(png), height, &isolation)?;
    }
    let search = format!("?search={PROBE_SEARCH}");
    let searched =
        browser::load(&browser::url(site, Path::new("index.html"), &search), &isolation)?;
    // mdBook 0.5 names the list `mdbook-searchresults`; 0.4 named it `searchresults`.
    let results = browser::element(&searched.dom, "<ul id=\"mdbook-searchresults\"")
        .or_else(|| browser::element(&searched.dom, "<ul id=\"searchresults\""))
        .unwrap_or("");
    let found: Vec<&(String, PathBuf)> = sources
        .recipe_pages
        .iter()
        .filter(|(_, page)| results.contains(&page.with_extension("html").display().to_string()))
        .collect();
    if found.is_empty() {
        problems.push(format!("searching the book for {PROBE_SEARCH:?} finds no recipe page"));
    }
    say!(
        "book: in Chromium: 2 pages loaded, search for {PROBE_SEARCH:?} found {} recipe page{}; \
         screenshots in target/book-check/",
        found.len(),
        if found.len() == 1 { "" } else { "s" }
    )?;
    Ok(problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_chromium_a_user_skips_the_browser_part_and_ci_fails() {
        assert_eq!(browser_check(true, false, false), BrowserCheck::Skip);
        assert_eq!(browser_check(true, false, true), BrowserCheck::Missing);
        assert_eq!(browser_check(true, true, true), BrowserCheck::Run);
        assert_eq!(browser_check(false, false, true), BrowserCheck::NotAsked);
    }
}
