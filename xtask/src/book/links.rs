//! Links, both ways: rewriting the links of a markdown file of the repository for its place in
//! the book, and checking every link and anchor of the built site.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result};

/// Every markdown link `[text](target)` (images too) in `text`: (start, end) of the target.
fn targets(text: &str) -> Vec<(usize, usize)> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while let Some(open) = text[at..].find("](") {
        let start = at + open + 2;
        let end = text[start..]
            .find(|c: char| c == ')' || c.is_whitespace())
            .map_or(text.len(), |n| start + n);
        if end < bytes.len() && bytes[end] == b')' && end > start {
            found.push((start, end));
        }
        at = start;
    }
    found
}

/// `text` with each link target replaced by what `rewrite` makes of it.
pub fn rewrite(text: &str, mut rewrite: impl FnMut(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (start, end) in targets(text) {
        out.push_str(&text[last..start]);
        out.push_str(&rewrite(&text[start..end]));
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// Whether a link leaves the site (a URL) or stays on the page (`#anchor`).
pub fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// `path` with `.` and `..` resolved, without touching the file system.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// The relative path from folder `from` to `to`, both relative to one root.
pub fn relative(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<_> = from.components().collect();
    let to_parts: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to_parts).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..from.len() {
        out.push("..");
    }
    for part in &to_parts[common..] {
        out.push(part);
    }
    out
}

/// A dead link or anchor of the built site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dead {
    pub page: PathBuf,
    pub href: String,
    pub why: String,
}

/// Checks every `href` and `src` of every HTML page under `site` that points into the site:
/// the file must exist, and an `#anchor` must be an `id` of the page it points to.
pub fn check_site(site: &Path) -> Result<(usize, Vec<Dead>)> {
    let pages = html_pages(site)?;
    let mut ids: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut texts = BTreeMap::new();
    for page in &pages {
        let text = fs::read_to_string(site.join(page))
            .with_context(|| format!("cannot read {}", page.display()))?;
        ids.insert(page.clone(), attribute_values(&text, "id").into_iter().collect());
        texts.insert(page.clone(), text);
    }
    let mut dead = Vec::new();
    let mut checked = 0;
    for (page, text) in &texts {
        let folder = page.parent().unwrap_or(Path::new(""));
        for href in attribute_values(text, "href").into_iter().chain(attribute_values(text, "src"))
        {
            if is_external(&href) || href.starts_with("javascript:") || href.starts_with("data:") {
                continue;
            }
            checked += 1;
            let (file, anchor) = href.split_once('#').unwrap_or((href.as_str(), ""));
            let file = file.split('?').next().unwrap_or("");
            let target = if file.is_empty() {
                page.clone()
            } else if let Some(from_root) = file.strip_prefix('/') {
                normalize(Path::new(from_root))
            } else {
                normalize(&folder.join(file))
            };
            let target =
                if site.join(&target).is_dir() { target.join("index.html") } else { target };
            if !site.join(&target).is_file() {
                dead.push(Dead {
                    page: page.clone(),
                    href: href.clone(),
                    why: format!("{} does not exist", target.display()),
                });
            } else if !anchor.is_empty()
                && ids.get(&target).is_some_and(|ids| !ids.contains(anchor))
            {
                dead.push(Dead {
                    page: page.clone(),
                    href: href.clone(),
                    why: format!("{} has no id {anchor:?}", target.display()),
                });
            }
        }
    }
    Ok((checked, dead))
}

/// Every `.html` file under `site`, relative to it, sorted.
pub fn html_pages(site: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut folders = vec![PathBuf::new()];
    while let Some(folder) = folders.pop() {
        let dir = site.join(&folder);
        for entry in fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let entry = entry?;
            let path = folder.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "html") {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The values of `name="..."` attributes in `html`, entities for `&` and quotes decoded.
fn attribute_values(html: &str, name: &str) -> Vec<String> {
    let needle = format!(" {name}=\"");
    let mut values = Vec::new();
    let mut at = 0;
    while let Some(found) = html[at..].find(&needle) {
        let start = at + found + needle.len();
        let Some(len) = html[start..].find('"') else {
            break;
        };
        values.push(
            html[start..start + len]
                .replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&#39;", "'"),
        );
        at = start + len;
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_rewritten_and_the_rest_kept() {
        let text = "see [a](x.md) and ![chart](img/c.svg), `a](b` and [u](https://e.org).";
        let out = rewrite(text, |t| if is_external(t) { t.to_string() } else { format!("../{t}") });
        assert_eq!(
            out,
            "see [a](../x.md) and ![chart](../img/c.svg), `a](b` and [u](https://e.org)."
        );
    }

    #[test]
    fn paths_are_resolved_and_made_relative() {
        assert_eq!(normalize(Path::new("a/b/../c/./d")), PathBuf::from("a/c/d"));
        assert_eq!(
            relative(Path::new("ipc_shm"), Path::new("ipc_pipe/socketpair.md")),
            PathBuf::from("../ipc_pipe/socketpair.md")
        );
        assert_eq!(relative(Path::new(""), Path::new("a.md")), PathBuf::from("a.md"));
    }

    #[test]
    fn a_dead_link_and_a_dead_anchor_are_found() {
        let site = tempfile::tempdir().expect("a temp dir");
        fs::create_dir(site.path().join("sub")).expect("mkdir");
        fs::write(
            site.path().join("index.html"),
            r##"<a href="sub/p.html#there">ok</a> <a href="sub/p.html#nowhere">bad anchor</a>
               <a href="gone.html">dead</a> <a href="https://e.org/x">out</a> <h1 id="top"></h1>
               <a href="#top">self</a>"##,
        )
        .expect("write");
        fs::write(site.path().join("sub/p.html"), r#"<h2 id="there"></h2>"#).expect("write");
        let (checked, dead) = check_site(site.path()).expect("the site is readable");
        assert_eq!(checked, 4);
        let hrefs: Vec<&str> = dead.iter().map(|d| d.href.as_str()).collect();
        assert_eq!(hrefs, ["sub/p.html#nowhere", "gone.html"]);
    }
}
