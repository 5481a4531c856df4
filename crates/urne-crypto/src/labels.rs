//! The frozen table of domain labels (spec/03-labels.md).
//!
//! A label, once released, never changes meaning: a new statement or a changed
//! transcript gets a new label (`urne/v2/...`), and old records keep verifying under
//! the old one. The test at the bottom pins every byte.

/// Transcript label of the Schnorr proof of knowledge (spec/04-proofs.md §4.2).
pub const PROOF_SCHNORR: &[u8] = b"urne/v1/proof/schnorr";
/// Transcript label of the Chaum–Pedersen equality of discrete logs (spec/04-proofs.md §4.3).
pub const PROOF_DLEQ: &[u8] = b"urne/v1/proof/dleq";
/// Transcript label of the disjunctive range proof for [a, b] (spec/04-proofs.md §4.4).
pub const PROOF_CDS_RANGE: &[u8] = b"urne/v1/proof/cds-range";
/// Transcript label of the bit-decomposition range proof for [0, 2^k) (spec/04-proofs.md §4.5).
pub const PROOF_BIT_RANGE: &[u8] = b"urne/v1/proof/bit-range";
/// Transcript label of the Triptych linkable ring signature (spec/08-triptych.md §8.7).
pub const PROOF_TRIPTYCH: &[u8] = b"urne/v1/proof/triptych";
/// Transcript label of Triptych with attribute disclosure, the parallel relation
/// (spec/08-triptych.md §8.12).
pub const PROOF_TRIPTYCH_DISCLOSING: &[u8] = b"urne/v1/proof/triptych-disclosing";
/// Prefix of the hash that derives a Triptych linking base U (spec/08-triptych.md §8.5).
pub const TRIPTYCH_LINKING_BASE: &[u8] = b"urne/v1/triptych/linking-base";
/// Prefix of the hash of a Triptych ring, its digest (spec/08-triptych.md §8.3).
pub const TRIPTYCH_RING: &[u8] = b"urne/v1/triptych/ring";

/// Prefix of every generator label; the generator named `N` is
/// hash-to-group(`GENERATOR_PREFIX ‖ N`) (spec/01-group.md §1.3).
pub const GENERATOR_PREFIX: &[u8] = b"urne/v1/generator/";
/// Name of the second Pedersen generator H.
pub const GENERATOR_H: &[u8] = b"H";

#[cfg(test)]
mod tests {
    use super::*;

    /// The rows of a markdown table whose first cell is a constant name: (first cell,
    /// second cell with its backquotes removed).
    fn table_rows(markdown: &str) -> Vec<(String, String)> {
        markdown
            .lines()
            .filter_map(|line| {
                let cells: Vec<&str> = line.trim().strip_prefix('|')?.split('|').collect();
                let name = cells.first()?.trim();
                let value = cells.get(1)?.trim();
                let value = value.strip_prefix('`')?.strip_suffix('`')?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect()
    }

    fn spec(page: &str) -> String {
        let path = format!("{}/../../spec/{page}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[test]
    fn labels_are_frozen_as_spec_03_lists_them() {
        // Changing a label breaks every record ever made: add a new label instead, and
        // the spec's table with it.
        let code: [(&str, &[u8]); 9] = [
            ("PROOF_SCHNORR", PROOF_SCHNORR),
            ("PROOF_DLEQ", PROOF_DLEQ),
            ("PROOF_CDS_RANGE", PROOF_CDS_RANGE),
            ("PROOF_BIT_RANGE", PROOF_BIT_RANGE),
            ("PROOF_TRIPTYCH", PROOF_TRIPTYCH),
            ("PROOF_TRIPTYCH_DISCLOSING", PROOF_TRIPTYCH_DISCLOSING),
            ("TRIPTYCH_LINKING_BASE", TRIPTYCH_LINKING_BASE),
            ("TRIPTYCH_RING", TRIPTYCH_RING),
            ("GENERATOR_PREFIX", GENERATOR_PREFIX),
        ];
        let rows = table_rows(&spec("03-labels.md"));
        assert_eq!(
            rows.len(),
            code.len(),
            "spec/03 §3.1 lists {} labels, labels.rs {}: {rows:?}",
            rows.len(),
            code.len()
        );
        for (name, bytes) in code {
            let listed = rows
                .iter()
                .find(|(n, _)| n == name)
                .unwrap_or_else(|| panic!("{name} is not in spec/03 §3.1"));
            assert_eq!(listed.1.as_bytes(), bytes, "{name}");
        }
    }

    #[test]
    fn generator_names_are_frozen_as_spec_01_lists_them() {
        // Rows of the §1.3 table: | `N` | symbol | used by |.
        let names: Vec<String> = spec("01-group.md")
            .lines()
            .filter_map(|line| {
                let first = line.trim().strip_prefix('|')?.split('|').next()?.trim();
                Some(first.strip_prefix('`')?.strip_suffix('`')?.to_owned())
            })
            .collect();
        assert_eq!(
            names,
            ["H", "triptych/H", "triptych/G/<j>/<i>"],
            "spec/01 §1.3 generator table"
        );
        assert_eq!(names[0].as_bytes(), GENERATOR_H);
        // The Triptych generators are pinned by the triptych module's tests.
    }
}
