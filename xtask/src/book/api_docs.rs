//! Links from a recipe's page to the documentation of the items it uses: std's looked up in
//! the toolchain's own copy (rustup's `rust-docs`), the crates' in what `cargo doc` writes.
//! Each item is found as a file there, so that a link names a page that exists (`fn.`,
//! `struct.`, a module's `index.html`, an enum's `#variant.` anchor), and points at
//! doc.rust-lang.org or docs.rs at the version this workspace is built with.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::project::locked;
use crate::project::workspace::Workspace;

/// The kinds of item page rustdoc writes, as the prefix of their file names.
const KINDS: [&str; 10] =
    ["fn", "struct", "enum", "trait", "macro", "type", "constant", "static", "union", "derive"];

/// Where one crate's documentation is on this machine, and where it is on the web.
struct CrateDocs {
    /// The folder that holds `CRATE/index.html`.
    local: PathBuf,
    /// The address of the same folder, ending in `/`.
    web: String,
}

/// The documentation of std and of the crates the recipes need.
pub struct ApiDocs {
    crates: BTreeMap<String, CrateDocs>,
    /// Why std's items have no links, when the toolchain has no documentation.
    pub std_missing: Option<String>,
}

impl ApiDocs {
    /// Documents `crates` with `cargo doc --no-deps` into the workspace's target folder, and
    /// finds std's documentation in the toolchain.
    pub fn build(workspace: &Workspace, crates: &[String]) -> Result<ApiDocs> {
        let versions = locked::versions(&workspace.root)?;
        let mut command = Command::new(std::env::var("CARGO").unwrap_or("cargo".into()));
        command.args(["doc", "--no-deps", "--locked", "--quiet", "--target-dir"]);
        command.arg(&workspace.target).current_dir(&workspace.root);
        let mut docs = ApiDocs { crates: BTreeMap::new(), std_missing: None };
        for name in crates {
            let version = versions.get(name).with_context(|| {
                format!("{name} is not in Cargo.lock, yet a recipe's `Needs:` line names it")
            })?;
            command.args(["-p", &format!("{name}@{version}")]);
            let web = format!("https://docs.rs/{name}/{version}/");
            docs.crates
                .insert(name.clone(), CrateDocs { local: workspace.target.join("doc"), web });
        }
        let output = command.output().context("cannot run cargo doc")?;
        if !output.status.success() {
            bail!("cargo doc failed: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        match std_docs() {
            Ok(std) => {
                docs.crates.insert("std".into(), std);
            }
            Err(why) => docs.std_missing = Some(format!("{why:#}")),
        }
        Ok(docs)
    }

    /// The address of `path`'s documentation, when its crate's documentation has a page for it.
    pub fn url(&self, path: &str) -> Option<String> {
        let krate = self.crates.get(path.split("::").next()?)?;
        let page = page_of(&krate.local, path)?;
        Some(format!("{}{page}", krate.web))
    }
}

/// std's documentation in the toolchain that builds the workspace.
fn std_docs() -> Result<CrateDocs> {
    let rustc = |arg: &str| -> Result<String> {
        let output = Command::new("rustc").arg(arg).output().context("cannot run rustc")?;
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_string())
    };
    let local = Path::new(&rustc("--print=sysroot")?).join("share/doc/rust/html");
    if !local.join("std/index.html").is_file() {
        bail!("the toolchain has no documentation (rustup component add rust-docs)");
    }
    let version = rustc("--version")?;
    let number = version.split_whitespace().nth(1).context("rustc --version says no version")?;
    Ok(CrateDocs { local, web: format!("https://doc.rust-lang.org/{number}/") })
}

/// The page of `path` below `root`, relative to it: an item's own page, a module's index, or
/// a variant, associated item or method on the page of the type before it.
fn page_of(root: &Path, path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split("::").collect();
    let (name, parents) = segments.split_last()?;
    let folder = parents.join("/");
    if root.join(&folder).join(name).join("index.html").is_file() {
        return Some(format!("{folder}/{name}/index.html"));
    }
    if let Some(file) = item_file(root, &folder, name) {
        return Some(format!("{folder}/{file}"));
    }
    let (owner, owner_parents) = parents.split_last()?;
    let owner_folder = owner_parents.join("/");
    let Some(owner_file) = item_file(root, &owner_folder, owner) else {
        // A re-export (`nix::sys::signal::SIGINT`) has no page: its module lists it.
        let index = format!("{folder}/index.html");
        return root.join(&index).is_file().then_some(index);
    };
    let html = fs::read_to_string(root.join(&owner_folder).join(&owner_file)).ok()?;
    let anchor = ["variant", "associatedconstant", "method", "tymethod"]
        .iter()
        .map(|kind| format!("{kind}.{name}"))
        .find(|anchor| html.contains(&format!("id=\"{anchor}\"")));
    // Without an anchor (a method of the type a type alias names), the owner's page.
    Some(match anchor {
        Some(anchor) => format!("{owner_folder}/{owner_file}#{anchor}"),
        None => format!("{owner_folder}/{owner_file}"),
    })
}

/// The file of item `name` in `folder`, whatever its kind.
fn item_file(root: &Path, folder: &str, name: &str) -> Option<String> {
    KINDS
        .iter()
        .map(|kind| format!("{kind}.{name}.html"))
        .find(|file| root.join(folder).join(file).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_modules_and_variants_are_found_as_pages() {
        let root = tempfile::tempdir().unwrap();
        let write = |file: &str, text: &str| {
            let path = root.path().join(file);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write("nix/mqueue/fn.mq_open.html", "");
        write("nix/sys/index.html", "");
        write("nix/sys/signal/enum.Signal.html", "<h3 id=\"variant.SIGKILL\">");
        write("std/sync/atomic/struct.AtomicU64.html", "<section id=\"method.from_ptr\">");
        let page = |path: &str| page_of(root.path(), path);
        assert_eq!(page("nix::mqueue::mq_open").unwrap(), "nix/mqueue/fn.mq_open.html");
        assert_eq!(page("nix::sys").unwrap(), "nix/sys/index.html");
        assert_eq!(
            page("nix::sys::signal::Signal::SIGKILL").unwrap(),
            "nix/sys/signal/enum.Signal.html#variant.SIGKILL"
        );
        assert_eq!(
            page("std::sync::atomic::AtomicU64::from_ptr").unwrap(),
            "std/sync/atomic/struct.AtomicU64.html#method.from_ptr"
        );
        assert_eq!(
            page("nix::sys::signal::Signal::SIGNONE").unwrap(),
            "nix/sys/signal/enum.Signal.html"
        );
        write("nix/sys/signal/index.html", "");
        assert_eq!(page("nix::sys::signal::SIGINT").unwrap(), "nix/sys/signal/index.html");
        assert_eq!(page("nix::mqueue::mq_close"), None);
    }
}
