//! The frozen labels of ballots (spec/21-ballots.md §21.2).
//!
//! A label never changes meaning once released: a changed hash input or binding is a new
//! label (`urne/v2/...`), and ballots made under this one keep verifying. The test pins
//! every byte.

/// Opens the election context hash (spec/21-ballots.md §21.3).
pub const ELECTION_CONTEXT: &[u8] = b"urne/v1/ballot/context";
/// Opens the binding bytes of every proof of a ballot (spec/21-ballots.md §21.5).
pub const PROOF_BINDING: &[u8] = b"urne/v1/ballot/binding";
/// Opens the hash that is a ballot's tracking code (spec/21-ballots.md §21.7).
pub const TRACKING_CODE: &[u8] = b"urne/v1/ballot/tracking-code";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_frozen() {
        // Changing one of these makes every ballot ever cast fail: add a new label instead.
        assert_eq!(ELECTION_CONTEXT, b"urne/v1/ballot/context");
        assert_eq!(PROOF_BINDING, b"urne/v1/ballot/binding");
        assert_eq!(TRACKING_CODE, b"urne/v1/ballot/tracking-code");
    }
}
