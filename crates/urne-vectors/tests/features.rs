//! Only the vector generator may reach the hazardous APIs of urne-crypto: chosen nonces
//! give witnesses away, and a weakened verifier accepts forgeries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every Cargo.toml of the workspace and of the fuzz crate.
fn manifests() -> Vec<PathBuf> {
    let root = workspace();
    let mut out = vec![root.join("Cargo.toml"), root.join("fuzz/Cargo.toml")];
    for dir in ["crates", "tests"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path().join("Cargo.toml");
            if path.exists() {
                out.push(path);
            }
        }
    }
    if root.join("tests/Cargo.toml").exists() {
        out.push(root.join("tests/Cargo.toml"));
    }
    out
}

/// (table path, features) of every urne-crypto dependency declared in `manifest`.
fn crypto_features(manifest: &Path) -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    let mut out = Vec::new();
    let mut visit = |table_path: String, table: &toml::Value| {
        if let Some(dep) = table.get("urne-crypto") {
            let features = dep
                .get("features")
                .and_then(|f| f.as_array())
                .map(|a| {
                    a.iter()
                        .map(|f| f.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((table_path, features));
        }
    };
    for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = value.get(key) {
            visit(key.to_owned(), t);
        }
    }
    if let Some(t) = value.get("workspace").and_then(|w| w.get("dependencies")) {
        visit("workspace.dependencies".to_owned(), t);
    }
    if let Some(targets) = value.get("target").and_then(|t| t.as_table()) {
        for (name, target) in targets {
            for key in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(t) = target.get(key) {
                    visit(format!("target.{name}.{key}"), t);
                }
            }
        }
    }
    out
}

#[test]
fn only_urne_vectors_enables_hazmat_and_only_its_tests_weaken_the_verifier() {
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut seen_own = false;
    for manifest in manifests() {
        let is_own = manifest.canonicalize().unwrap() == own.canonicalize().unwrap();
        for (table, features) in crypto_features(&manifest) {
            let allowed: &[&str] = match (is_own, table.as_str()) {
                (true, "dependencies") => &["hazmat"],
                (true, "dev-dependencies") => &["hazmat", "test-weakened-verifier"],
                _ => &["self-check"],
            };
            for feature in &features {
                assert!(
                    allowed.contains(&feature.as_str()),
                    "{} [{table}] enables urne-crypto feature `{feature}`",
                    manifest.display()
                );
            }
            seen_own |= is_own && features.iter().any(|f| f == "hazmat");
        }
    }
    assert!(
        seen_own,
        "urne-vectors no longer declares its hazmat dependency"
    );
}

#[test]
fn the_feature_check_reads_features_where_they_are_declared() {
    // The check above would pass vacuously if it could not see features: show it can.
    let dir = std::env::temp_dir().join(format!("urne-features-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = dir.join("Cargo.toml");
    std::fs::write(
        &manifest,
        "[package]\nname = \"x\"\n[dependencies]\nurne-crypto = { workspace = true, features = [\"hazmat\"] }\n\
         [target.'cfg(unix)'.dev-dependencies]\nurne-crypto = { path = \"..\", features = [\"test-weakened-verifier\"] }\n",
    )
    .unwrap();
    let found = crypto_features(&manifest);
    assert_eq!(
        found,
        vec![
            ("dependencies".to_owned(), vec!["hazmat".to_owned()]),
            (
                "target.cfg(unix).dev-dependencies".to_owned(),
                vec!["test-weakened-verifier".to_owned()]
            ),
        ]
    );
}
