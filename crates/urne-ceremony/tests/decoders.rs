//! Every record decoder on arbitrary bytes: it never panics, and whatever it accepts
//! re-encodes to exactly the bytes it was given (one encoding per value).

use proptest::prelude::*;
use urne_ceremony::*;

fn check(bytes: &[u8]) {
    macro_rules! round_trip {
        ($ty:ty) => {
            if let Ok(value) = <$ty>::decode(bytes) {
                assert_eq!(value.encode(), bytes, stringify!($ty));
            }
        };
    }
    round_trip!(CeremonyOpen);
    round_trip!(TrusteeRegistration);
    round_trip!(CommitmentHash);
    round_trip!(Commitments);
    round_trip!(EncryptedShares);
    round_trip!(Complaint);
    round_trip!(ComplaintAnswer);
    round_trip!(DecryptionShares);
}

proptest! {
    #[test]
    fn decoders_never_panic_and_accept_only_canonical_bytes(
        bytes in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        check(&bytes);
    }

    #[test]
    fn decoders_on_plausible_headers(
        version in 0u8..3,
        index in 0u16..4,
        count in 0u16..4,
        rest in proptest::collection::vec(any::<u8>(), 0..300),
    ) {
        // Bodies that get past the first fields, where random bytes rarely do.
        let mut bytes = vec![version];
        bytes.extend_from_slice(&index.to_be_bytes());
        bytes.extend_from_slice(&count.to_be_bytes());
        bytes.extend_from_slice(&rest);
        check(&bytes);
    }
}
