//! What the workspace's `Cargo.lock` holds: the versions that the recipes are proven with.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};
use cargo_metadata::MetadataCommand;

/// The version of every package in the workspace's `Cargo.lock`, by name (the highest, where
/// the lock holds several).
pub fn versions(root: &Path) -> Result<HashMap<String, cargo_metadata::semver::Version>> {
    let metadata = MetadataCommand::new()
        .current_dir(root)
        .other_options(vec!["--locked".to_string()])
        .exec()
        .context("cannot read the workspace's dependencies with `cargo metadata --locked`")?;
    let mut versions: HashMap<String, cargo_metadata::semver::Version> = HashMap::new();
    for package in metadata.packages {
        let version = versions.entry(package.name.to_string()).or_insert(package.version.clone());
        if package.version > *version {
            *version = package.version;
        }
    }
    Ok(versions)
}
