//! `urne conformance` and docs/conformance.md: the command's checks pass on a live board,
//! the command prints every row of the doc, and every test the doc names exists.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use urne_cli::conformance::{DOC, GO_ROW, Outcome, checked_ids, rows, run};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_conformance_checks_pass_on_a_live_board() {
    let report = run(&std::env::temp_dir(), false).unwrap();
    assert_eq!(report.rows.len(), rows(DOC).unwrap().len());
    for id in checked_ids() {
        let (_, outcome) = report.rows.iter().find(|(row, _)| row.id == id).unwrap();
        if id == GO_ROW {
            assert_eq!(*outcome, Outcome::NotRun("--no-go".into()));
        } else {
            assert!(matches!(outcome, Outcome::Pass(_)), "{id}: {outcome:?}");
        }
    }
    assert!(!report.failed(), "{}", report.table());
}

#[test]
fn urne_conformance_prints_one_line_per_row_of_the_doc() {
    let scratch = std::env::temp_dir().join(format!("urne-conformance-cli-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_urne"))
        .args(["conformance", "--no-go", "--scratch"])
        .arg(&scratch)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows = rows(DOC).unwrap();
    for row in &rows {
        let line = stdout
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", row.id)))
            .unwrap_or_else(|| panic!("no line for {}", row.id));
        let expected = if row.id == GO_ROW {
            "not run"
        } else if checked_ids().contains(&row.id.as_str()) {
            "pass"
        } else if row.status == "not met" {
            "not met"
        } else {
            "run by `cargo test`"
        };
        assert!(line.contains(&format!("| {expected} |")), "{line}");
    }
    assert!(
        stdout.contains(&format!("{} rows:", rows.len())),
        "{stdout}"
    );
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Every `.rs` file under `dir`, skipping build output.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && name != "target" && name != "node_modules" && name != ".git" {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_test_the_doc_names_exists() {
    let mut files = Vec::new();
    for dir in ["crates", "tests", "fuzz"] {
        sources(&workspace().join(dir), &mut files);
    }
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut missing = Vec::new();
    let rows = rows(DOC).unwrap();
    for row in &rows {
        for test in &row.tests {
            if !text.contains(&format!("fn {test}(")) {
                missing.push(format!("{}: {test}", row.id));
            }
        }
        if row.status != "not met" {
            assert!(
                !row.tests.is_empty(),
                "{} is {} but names no test",
                row.id,
                row.status
            );
        }
    }
    assert!(
        missing.is_empty(),
        "tests named by docs/conformance.md and not found: {missing:?}"
    );
}
