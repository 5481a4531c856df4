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

/// Prefix of every generator label; the generator named `N` is
/// hash-to-group(`GENERATOR_PREFIX ‖ N`) (spec/01-group.md §1.3).
pub const GENERATOR_PREFIX: &[u8] = b"urne/v1/generator/";
/// Name of the second Pedersen generator H.
pub const GENERATOR_H: &[u8] = b"H";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_frozen() {
        // Changing any of these breaks every record ever made: add a new label instead.
        assert_eq!(PROOF_SCHNORR, b"urne/v1/proof/schnorr");
        assert_eq!(PROOF_DLEQ, b"urne/v1/proof/dleq");
        assert_eq!(PROOF_CDS_RANGE, b"urne/v1/proof/cds-range");
        assert_eq!(PROOF_BIT_RANGE, b"urne/v1/proof/bit-range");
        assert_eq!(GENERATOR_PREFIX, b"urne/v1/generator/");
        assert_eq!(GENERATOR_H, b"H");
    }
}
