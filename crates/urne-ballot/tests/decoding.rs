//! Decoders never panic, and whatever they accept re-encodes to the same bytes (one
//! encoding per value), on mutated valid encodings and on arbitrary bytes.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::OnceLock;

use proptest::prelude::*;
use urne_ballot::{
    AuditedBallot, Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey,
    Election, Manifest,
};
use urne_crypto::SecretKey;

struct Samples {
    manifest: Vec<u8>,
    ballot: Vec<u8>,
    audited: Vec<u8>,
}

fn samples() -> &'static Samples {
    static SAMPLES: OnceLock<Samples> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        let manifest = Manifest::new(
            "Consultation",
            vec![
                Contest {
                    title: "Mayor".into(),
                    kind: ContestKind::SingleChoice,
                    blank: true,
                    options: vec!["Ada".into(), "Grace".into()],
                },
                Contest {
                    title: "Points".into(),
                    kind: ContestKind::Cumulative {
                        per_option_max: 2,
                        min_total: 0,
                        max_total: 3,
                    },
                    blank: false,
                    options: vec!["x".into(), "y".into()],
                },
            ],
        )
        .unwrap();
        let key = SecretKey::generate(&mut rand::rng()).public_key();
        let election = Election::new(ContextInputs {
            manifest: &manifest,
            joint_key: &key,
            credential_root: &[0; 32],
            board_origin: "o",
            context_id: &[0; 32],
        })
        .unwrap();
        let (ballot, secrets) = Ballot::encrypt(
            &election,
            &CredentialKey([5; 32]),
            &[
                ContestSelection::single(2, 0).unwrap(),
                ContestSelection::values(vec![2, 1]),
            ],
            &mut rand::rng(),
        )
        .unwrap();
        Samples {
            manifest: manifest.to_bytes(),
            audited: secrets.audit(&ballot).to_bytes(),
            ballot: ballot.to_bytes(),
        }
    })
}

fn mutate(bytes: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (at, value) in edits {
        let i = at % out.len();
        out[i] = *value;
    }
    if let Some(cut) = cut {
        out.truncate(cut % (out.len() + 1));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_encodings_decode_canonically_or_not_at_all(
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..4),
        cut in prop::option::of(any::<usize>()),
    ) {
        let s = samples();
        let manifest = mutate(&s.manifest, &edits, cut);
        if let Ok(m) = Manifest::decode(&manifest) {
            prop_assert_eq!(m.to_bytes(), manifest);
        }
        let ballot = mutate(&s.ballot, &edits, cut);
        if let Ok(b) = Ballot::decode(&ballot) {
            prop_assert_eq!(b.to_bytes(), ballot);
        }
        let audited = mutate(&s.audited, &edits, cut);
        if let Ok(a) = AuditedBallot::decode(&audited) {
            prop_assert_eq!(a.to_bytes(), audited);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Manifest::decode(&bytes);
        let _ = Ballot::decode(&bytes);
        let _ = AuditedBallot::decode(&bytes);
    }
}
