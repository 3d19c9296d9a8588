//! Tidiness rules of the workspace, checked as tests: the dependency directions of
//! `shared/DESIGN.md`, the purity of the domain crates, and a `//!` doc at the top of every file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Normal (non-dev, non-build) dependencies of every workspace package, from `cargo metadata`.
fn dependencies() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut map = BTreeMap::new();
    for package in meta["packages"].as_array().unwrap() {
        let deps = package["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        map.insert(package["name"].as_str().unwrap().to_owned(), deps);
    }
    map
}

const INTERNAL: [&str; 5] = ["pk", "clinical", "store", "web", "ketaflow"];

/// Which workspace crates each crate may use (DESIGN.md's "may depend on" column).
fn allowed_internal(krate: &str) -> &'static [&'static str] {
    match krate {
        "pk" => &[],
        "clinical" => &["pk"],
        "store" => &["clinical", "pk"],
        "web" => &["store", "clinical", "pk"],
        "ketaflow" => &["web", "store", "clinical", "pk"],
        _ => &[],
    }
}

/// The only external crates the pure domain crates may use: numeric and small pure crates.
/// Adding one here is a design decision; say why in the commit.
fn allowed_external_for_pure(krate: &str) -> Option<&'static [&'static str]> {
    match krate {
        "pk" => Some(&[
            "thiserror",
            "rand",
            "rand_distr",
            "rand_chacha",
            "rayon",
            "libm",
        ]),
        "clinical" => Some(&["thiserror", "jiff", "unicode-normalization"]),
        _ => None,
    }
}

/// External crates that belong to exactly one layer.
const OWNED: [(&str, &str); 11] = [
    ("sqlx", "store"),
    ("rusqlite", "store"),
    ("axum", "web"),
    ("askama", "web"),
    ("utoipa", "web"),
    ("tower-http", "web"),
    ("tokio-rustls", "web"),
    ("clap", "ketaflow"),
    ("figment", "ketaflow"),
    ("tracing-subscriber", "ketaflow"),
    ("anyhow", "ketaflow"),
];

#[test]
fn crates_depend_only_in_the_allowed_directions() {
    let deps = dependencies();
    for krate in INTERNAL {
        assert!(deps.contains_key(krate), "workspace lacks {krate}");
    }
    let mut problems = Vec::new();
    for (krate, list) in &deps {
        for dep in list {
            if INTERNAL.contains(&dep.as_str()) && !allowed_internal(krate).contains(&dep.as_str())
            {
                problems.push(format!(
                    "{krate} depends on {dep}, which DESIGN.md does not allow"
                ));
            }
            let external = !INTERNAL.contains(&dep.as_str());
            if let Some(allowed) = allowed_external_for_pure(krate)
                && external
                && !allowed.contains(&dep.as_str())
            {
                problems.push(format!("{krate} is pure but depends on {dep}"));
            }
            if let Some((_, owner)) = OWNED.iter().find(|(c, _)| c == dep)
                && owner != krate
            {
                problems.push(format!(
                    "{krate} depends on {dep}, which only {owner} may use"
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "node_modules")
            {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_a_module_doc() {
    let mut files = Vec::new();
    rust_files(&workspace_root().join("crates"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let missing: Vec<_> = files
        .iter()
        .filter(|f| {
            !std::fs::read_to_string(f)
                .unwrap()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "files without a //! doc:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_domain_crates_read_no_clock_and_do_no_io() {
    let forbidden = [
        "::now(",
        "SystemTime",
        "std::fs",
        "std::net",
        "std::env",
        "tokio",
        "async fn",
        "println!",
    ];
    let mut files = Vec::new();
    for krate in ["pk", "clinical"] {
        rust_files(
            &workspace_root().join("crates").join(krate).join("src"),
            &mut files,
        );
    }
    let mut problems = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for word in forbidden {
            if text.contains(word) {
                problems.push(format!("{} uses {word}", file.display()));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
