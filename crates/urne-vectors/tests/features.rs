//! Only the vector generator may reach the hazardous APIs of urne-crypto: chosen nonces
//! give witnesses away, and a weakened verifier accepts forgeries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
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

/// (table path, dependency name, features) of every dependency declared in `manifest`.
fn declarations(manifest: &Path) -> Vec<(String, String, Vec<String>)> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    let mut out = Vec::new();
    let mut visit = |table_path: String, table: &toml::Value| {
        let Some(table) = table.as_table() else {
            return;
        };
        for (name, dep) in table {
            let features = dep
                .get("features")
                .and_then(|f| f.as_array())
                .map(|a| {
                    a.iter()
                        .map(|f| f.as_str().unwrap_or_default().to_owned())
                        .collect()
                })
                .unwrap_or_default();
            out.push((table_path.clone(), name.clone(), features));
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

/// (table path, features) of every urne-crypto dependency declared in `manifest`.
fn crypto_features(manifest: &Path) -> Vec<(String, Vec<String>)> {
    declarations(manifest)
        .into_iter()
        .filter(|(_, name, _)| name == "urne-crypto")
        .map(|(table, _, features)| (table, features))
        .collect()
}

/// A crate's `[features]`: each feature with what it enables.
type FeatureTable = Vec<(String, Vec<String>)>;

/// Every (crate, feature) that turns on urne-crypto's `hazmat` or `test-weakened-verifier`,
/// directly or through another crate's or its own feature (urne-ballot's `hazmat`, say).
fn hazardous_features(manifests: &[PathBuf]) -> BTreeSet<(String, String)> {
    let mut crates: Vec<(String, FeatureTable)> = Vec::new();
    for manifest in manifests {
        let value: toml::Value =
            toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
        let Some(name) = value
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str())
        else {
            continue;
        };
        let features = value
            .get("features")
            .and_then(|f| f.as_table())
            .map(|table| {
                table
                    .iter()
                    .map(|(feature, enables)| {
                        let enables = enables
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .map(|e| e.as_str().unwrap_or_default().to_owned())
                                    .collect()
                            })
                            .unwrap_or_default();
                        (feature.clone(), enables)
                    })
                    .collect()
            })
            .unwrap_or_default();
        crates.push((name.to_owned(), features));
    }
    let mut hazardous: BTreeSet<(String, String)> = [
        ("urne-crypto".to_owned(), "hazmat".to_owned()),
        (
            "urne-crypto".to_owned(),
            "test-weakened-verifier".to_owned(),
        ),
    ]
    .into();
    loop {
        let before = hazardous.len();
        for (name, features) in &crates {
            for (feature, enables) in features {
                let reaches = enables.iter().any(|entry| {
                    let (krate, enabled) = match entry.split_once('/') {
                        Some((krate, enabled)) => (krate.trim_end_matches('?'), enabled),
                        None => (name.as_str(), entry.as_str()),
                    };
                    hazardous.contains(&(krate.to_owned(), enabled.to_owned()))
                });
                if reaches {
                    hazardous.insert((name.clone(), feature.clone()));
                }
            }
        }
        if hazardous.len() == before {
            return hazardous;
        }
    }
}

/// Why `manifest` breaks the rule, if it does: it enables a feature that reaches
/// urne-crypto's hazardous ones (urne-vectors' own dependencies aside), makes one of its
/// own such features a default, or depends on urne-vectors outside dev-dependencies (which
/// would unify urne-vectors' hazmat into its build).
fn hazard_violations(
    manifest: &Path,
    is_own: bool,
    hazardous: &BTreeSet<(String, String)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (table, dependency, features) in declarations(manifest) {
        let own_table = is_own && (table == "dependencies" || table == "dev-dependencies");
        for feature in &features {
            if !own_table && hazardous.contains(&(dependency.clone(), feature.clone())) {
                out.push(format!(
                    "[{table}] enables `{dependency}/{feature}`, which reaches urne-crypto's hazmat"
                ));
            }
        }
        let dev = table == "dev-dependencies" || table.ends_with(".dev-dependencies");
        if dependency == "urne-vectors" && !dev && table != "workspace.dependencies" {
            out.push(format!(
                "[{table}] depends on urne-vectors, whose hazmat would be unified into this build"
            ));
        }
    }
    let value: toml::Value = toml::from_str(&std::fs::read_to_string(manifest).unwrap()).unwrap();
    if let Some(name) = value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
        && hazardous.contains(&(name.to_owned(), "default".to_owned()))
    {
        out.push(format!(
            "its default features reach urne-crypto's hazmat ({name})"
        ));
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

#[test]
fn no_crate_reaches_hazmat_through_another_crates_feature_or_through_urne_vectors() {
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let manifests = manifests();
    let hazardous = hazardous_features(&manifests);
    assert!(
        hazardous.contains(&("urne-ballot".to_owned(), "hazmat".to_owned())),
        "urne-ballot's hazmat is no longer seen as reaching urne-crypto's: {hazardous:?}"
    );
    for manifest in &manifests {
        let is_own = manifest.canonicalize().unwrap() == own.canonicalize().unwrap();
        let violations = hazard_violations(manifest, is_own, &hazardous);
        assert!(
            violations.is_empty(),
            "{}: {violations:?}",
            manifest.display()
        );
    }
}

#[test]
fn the_indirect_check_refuses_a_forwarded_hazmat_and_a_normal_urne_vectors_dependency() {
    // The check above would pass vacuously if it could not see these: show it refuses
    // each, and the honest declarations of urne-vectors itself pass.
    let dir = std::env::temp_dir().join(format!("urne-features-indirect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let forwarding = dir.join("forwarding.toml");
    std::fs::write(
        &forwarding,
        "[package]\nname = \"forwarding\"\n[features]\ndefault = [\"tools\"]\n\
         tools = [\"urne-ballot?/hazmat\"]\n",
    )
    .unwrap();
    let user = dir.join("user.toml");
    std::fs::write(
        &user,
        "[package]\nname = \"user\"\n[dependencies]\nurne-ballot = { workspace = true, features = [\"hazmat\"] }\n\
         urne-vectors = { workspace = true }\n[dev-dependencies]\nforwarding = { path = \"..\", features = [\"tools\"] }\n",
    )
    .unwrap();
    let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
    let mut manifests = manifests();
    manifests.push(forwarding.clone());
    let hazardous = hazardous_features(&manifests);
    for feature in ["tools", "default"] {
        assert!(hazardous.contains(&("forwarding".to_owned(), feature.to_owned())));
    }
    let violations = hazard_violations(&user, false, &hazardous);
    assert_eq!(violations.len(), 3, "{violations:?}");
    assert!(violations[0].contains("urne-ballot/hazmat"));
    assert!(violations[1].contains("urne-vectors"));
    assert!(violations[2].contains("forwarding/tools"));
    assert_eq!(hazard_violations(&forwarding, false, &hazardous).len(), 1);
    assert!(hazard_violations(&own, true, &hazardous).is_empty());
    assert!(!hazard_violations(&own, false, &hazardous).is_empty());
}
