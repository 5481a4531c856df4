//! Every check a verifier makes is needed: switch each off in turn (urne-crypto's
//! `test-weakened-verifier`) and some vector must then be accepted wrongly — exactly the
//! forgeries built to fail that check alone (spec/07-vectors.md §7.2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use urne_crypto::hazmat::{Check, Weakened};

fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../vectors")
}

/// Where the forgeries for `check` live: (file, the `fails_only` they carry), or for the
/// batch weightings, (the file, the batch's name).
fn forgeries_for(check: Check) -> (&'static str, &'static str) {
    match check {
        Check::SchnorrE1 => ("schnorr.json", "E1"),
        Check::DleqE1 => ("dleq.json", "E1"),
        Check::DleqE2 => ("dleq.json", "E2"),
        Check::RangeBranchCount => ("range.json", "branch-count"),
        Check::RangeChallengeSum => ("range.json", "challenge-sum"),
        Check::RangeE1 => ("range.json", "E1"),
        Check::RangeE2 => ("range.json", "E2"),
        Check::BitCount => ("bit_range.json", "bit-count"),
        Check::BitChallengeSum => ("bit_range.json", "challenge-sum"),
        Check::BitR1 => ("bit_range.json", "R1"),
        Check::BitR2 => ("bit_range.json", "R2"),
        Check::BitE1 => ("bit_range.json", "E1"),
        Check::BitE2 => ("bit_range.json", "E2"),
        Check::BatchRandomWeights => ("batch.json", "batch/cancelling-pair"),
        Check::BatchWeightPerEquation => ("batch.json", "batch/cancelling-equations"),
        Check::TriptychE1 => ("triptych.json", "E1"),
        Check::TriptychE2 => ("triptych.json", "E2"),
        Check::TriptychE3 => ("triptych.json", "E3"),
        Check::TriptychE4 => ("triptych.json", "E4"),
        Check::TriptychE5 => ("triptych.json", "E5"),
        Check::TriptychBatchRandomWeights => ("triptych.json", "batch/cancelling-pair"),
        Check::TriptychBatchWeightPerEquation => ("triptych.json", "batch/cancelling-equations"),
        other => panic!("no vectors named for {other:?}: add them"),
    }
}

/// The names of the negative vectors of `file` that carry `fails_only: check`.
fn forgery_names(file: &str, check: &str) -> Vec<String> {
    let text = std::fs::read_to_string(committed().join(file)).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    value["negative"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["fails_only"].as_str() == Some(check))
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn the_full_verifier_passes_every_vector() {
    urne_vectors::check::check_dir(&committed()).unwrap();
}

#[test]
fn each_weakened_check_is_caught_by_the_vectors_built_for_it() {
    for check in Check::ALL {
        let (file, target) = forgeries_for(check);
        let failures = {
            let _weakened = Weakened::skip(check);
            urne_vectors::check::check_dir(&committed()).expect_err(&format!(
                "with {check:?} skipped, every vector still passed"
            ))
        };
        if target.starts_with("batch/") {
            let accepted = if file == "batch.json" {
                format!("batch: {target}: named []")
            } else {
                format!("{file}: {target}: named []")
            };
            assert!(
                failures.iter().any(|f| f.starts_with(&accepted)),
                "{check:?}: {target} was not accepted wrongly: {failures:?}"
            );
            continue;
        }
        let names = forgery_names(file, target);
        assert!(
            !names.is_empty(),
            "{file} has no forgery failing only {target}"
        );
        // Every forgery for this check passes every other check: with this one
        // skipped, each is accepted.
        for name in names {
            assert!(
                failures
                    .iter()
                    .any(|f| f.contains(&name) && f.ends_with("got Accepted")),
                "{check:?}: forgery `{name}` was not accepted by the weakened verifier: {failures:?}"
            );
        }
    }
    // The switch is scoped: the full verifier is back.
    urne_vectors::check::check_dir(&committed()).unwrap();
}

#[test]
fn each_forgery_fails_only_its_own_check() {
    // Skipping any other check leaves every forgery rejected for its own reason, so no
    // forgery is caught by accident by a check it was not built for.
    for check in Check::ALL {
        let _weakened = Weakened::skip(check);
        let Err(failures) = urne_vectors::check::check_dir(&committed()) else {
            continue;
        };
        let (own_file, own_target) = forgeries_for(check);
        for failure in &failures {
            if failure.contains("failing only") {
                assert!(
                    failure.starts_with(own_file)
                        && failure.contains(&format!("failing only {own_target},")),
                    "{check:?} skipped changed the outcome of another forgery: {failure}"
                );
            }
        }
    }
}
