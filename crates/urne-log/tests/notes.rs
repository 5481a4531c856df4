//! Signed notes, checkpoints, cosignatures and vkeys: the Go reference vector, strict
//! parsing, and every tampering rejected.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use urne_log::checkpoint::CheckpointError;
use urne_log::note::{
    CosignatureVerifier, Cosigner, Note, NoteError, NoteSigner, NoteVerifier, count_cosignatures,
};
use urne_log::proof::HashSource;
use urne_log::tiles::{StoredHashes, TILE_WIDTH, Tiled};
use urne_log::{Checkpoint, Hash, leaf_hash};

// golang.org/x/mod/sumdb/note's documented example key and note.
const VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const SKEY_SEED_B64: &str = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const SIGNED: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn reference_signer() -> NoteSigner {
    let raw = STANDARD.decode(SKEY_SEED_B64).unwrap();
    assert_eq!(raw[0], 0x01);
    NoteSigner::from_seed("PeterNeumann", raw[1..].try_into().unwrap()).unwrap()
}

#[test]
fn go_reference_note_signs_and_verifies_byte_for_byte() {
    let signer = reference_signer();
    assert_eq!(signer.verifier().to_vkey(), VKEY);
    let mut note = Note::new(TEXT).unwrap();
    signer.sign(&mut note);
    assert_eq!(note.to_text(), SIGNED);
    let verifier = NoteVerifier::from_vkey(VKEY).unwrap();
    let parsed = Note::parse(SIGNED.as_bytes()).unwrap();
    verifier.verify(&parsed).unwrap();
    assert_eq!(parsed.to_text(), SIGNED);
}

#[test]
fn altered_text_or_signature_fails_and_unknown_keys_are_ignored() {
    let verifier = NoteVerifier::from_vkey(VKEY).unwrap();
    let altered = SIGNED.replace("cryptography", "cryptographY");
    assert_eq!(
        verifier.verify(&Note::parse(altered.as_bytes()).unwrap()),
        Err(NoteError::BadSignature {
            name: "PeterNeumann".into()
        })
    );
    let other = NoteSigner::from_seed("someone.else", &[7; 32]).unwrap();
    let mut note = Note::new(TEXT).unwrap();
    other.sign(&mut note);
    assert_eq!(
        verifier.verify(&note),
        Err(NoteError::NotSignedBy {
            name: "PeterNeumann".into()
        })
    );
    // A known key's signature plus an unknown one: still accepted.
    reference_signer().sign(&mut note);
    verifier
        .verify(&Note::parse(note.to_text().as_bytes()).unwrap())
        .unwrap();
}

#[test]
fn malformed_notes_are_refused_with_a_reason() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (TEXT.as_bytes().to_vec(), "no signatures"),
        (
            SIGNED.replace("— ", "-- ").into_bytes(),
            "hyphens for em dash",
        ),
        (
            SIGNED.replace('\n', "\r\n").into_bytes(),
            "carriage returns",
        ),
        (SIGNED.trim_end().as_bytes().to_vec(), "no final newline"),
        (SIGNED.replace("AM=", "AM").into_bytes(), "unpadded base64"),
        (
            SIGNED
                .replace("PeterNeumann ", "Peter+Neumann ")
                .into_bytes(),
            "plus in name",
        ),
        (vec![0xff, 0xfe, b'\n', b'\n'], "not UTF-8"),
        (
            format!("\n\n{}", &SIGNED[SIGNED.find('—').unwrap()..]).into_bytes(),
            "empty text",
        ),
        (
            format!("{TEXT}\n— a AAAA\n").into_bytes(),
            "signature too short",
        ),
    ];
    for (bytes, what) in cases {
        assert!(Note::parse(&bytes).is_err(), "{what} was accepted");
    }
    let many: String = (0..101).map(|i| format!("— k{i} AAAAAAA=\n")).collect();
    assert_eq!(
        Note::parse(format!("{TEXT}\n{many}").as_bytes()),
        Err(NoteError::SignatureCount { found: 101 })
    );
    assert!(Note::new("no newline").is_err());
    assert!(Note::new("two\n\n").is_err());
    assert!(
        NoteVerifier::from_vkey(
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
        )
        .is_err()
    );
    assert!(NoteVerifier::from_vkey("PeterNeumann+c74f20a3").is_err());
    // A key whose base64 holds a '+' parses (the name and ID are the first two fields).
    for seed in 0..64u8 {
        let v = NoteSigner::from_seed("k", &[seed; 32]).unwrap().verifier();
        assert_eq!(NoteVerifier::from_vkey(&v.to_vkey()).unwrap(), v);
    }
}

fn checkpoint(size: u64) -> Checkpoint {
    Checkpoint::new(
        "board.example/urne",
        size,
        leaf_hash(&size.to_le_bytes()),
        vec![],
    )
    .unwrap()
}

#[test]
fn checkpoints_round_trip_and_parse_strictly() {
    let cp = checkpoint(20852163);
    assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    let cp = Checkpoint::new(cp.origin(), cp.size(), *cp.root(), vec!["ext one".into()]).unwrap();
    assert_eq!(Checkpoint::parse(&cp.to_text()).unwrap(), cp);
    assert_eq!(cp.extensions(), ["ext one"]);
    let good = checkpoint(5).to_text();
    let root_line = good.lines().nth(2).unwrap().to_owned();
    for (bad, what) in [
        (good.trim_end().to_owned(), "no final newline"),
        ("o\n5\n".to_owned(), "two lines"),
        (good.replace("\n5\n", "\n05\n"), "leading zero"),
        (good.replace("\n5\n", "\n-5\n"), "negative size"),
        (
            good.replace("\n5\n", "\n18446744073709551616\n"),
            "size over 64 bits",
        ),
        (
            good.replace(&root_line, &root_line[..root_line.len() - 1]),
            "bad base64",
        ),
        (good.replace(&root_line, "AAAA"), "short root"),
        (format!("{good}\n"), "empty extension line"),
        (
            good.replace("board.example/urne", "board example"),
            "space in origin",
        ),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{what} was accepted");
    }
    assert_eq!(
        Checkpoint::parse("o\n0\n").unwrap_err(),
        CheckpointError::TooShort
    );
}

#[test]
fn a_signed_checkpoint_opens_only_with_the_log_key_and_its_origin() {
    let log = NoteSigner::from_seed("board.example/urne", &[1; 32]).unwrap();
    let cp = checkpoint(42);
    let mut note = Note::new(&cp.to_text()).unwrap();
    log.sign(&mut note);
    let parsed = Note::parse(note.to_text().as_bytes()).unwrap();
    assert_eq!(Checkpoint::open(&parsed, &log.verifier()).unwrap(), cp);
    let impostor = NoteSigner::from_seed("board.example/urne", &[2; 32]).unwrap();
    assert!(Checkpoint::open(&parsed, &impostor.verifier()).is_err());
    let other_origin = NoteSigner::from_seed("other.example/log", &[1; 32]).unwrap();
    let mut wrong = Note::new(&cp.to_text()).unwrap();
    other_origin.sign(&mut wrong);
    assert!(Checkpoint::open(&wrong, &other_origin.verifier()).is_err());
}

#[test]
fn cosignatures_verify_count_and_fail_when_tampered() {
    let log = NoteSigner::from_seed("board.example/urne", &[1; 32]).unwrap();
    let witnesses: Vec<Cosigner> = (0..3)
        .map(|i| Cosigner::from_seed(&format!("witness{i}.example"), &[10 + i as u8; 32]).unwrap())
        .collect();
    let verifiers: Vec<CosignatureVerifier> = witnesses.iter().map(|w| w.verifier()).collect();
    let cp = checkpoint(7);
    let mut note = Note::new(&cp.to_text()).unwrap();
    log.sign(&mut note);
    for w in &witnesses[..2] {
        note.add_signature(w.cosign(&cp.to_text(), 1_700_000_000));
    }
    let parsed = Note::parse(note.to_text().as_bytes()).unwrap();
    assert_eq!(count_cosignatures(&parsed, &verifiers), 2);
    assert_eq!(verifiers[0].verify(&parsed).unwrap(), 1_700_000_000);
    assert!(verifiers[2].verify(&parsed).is_err());
    // The log's own verifier still accepts the note with cosignatures on it.
    log.verifier().verify(&parsed).unwrap();
    // vkeys round-trip; a cosignature key is not an Ed25519 note key.
    let vkey = verifiers[0].to_vkey();
    assert_eq!(CosignatureVerifier::from_vkey(&vkey).unwrap(), verifiers[0]);
    assert!(NoteVerifier::from_vkey(&vkey).is_err());
    // A cosignature over another checkpoint, moved onto this one, fails.
    let other = checkpoint(8);
    let moved = witnesses[2].cosign(&other.to_text(), 1_700_000_000);
    let mut forged = parsed.clone();
    forged.add_signature(moved);
    assert!(verifiers[2].verify(&forged).is_err());
    // A timestamp past 2^63 - 1 is refused even with a valid signature over it.
    let far = witnesses[0].cosign(&cp.to_text(), u64::MAX);
    assert!(verifiers[0].verify_line(&cp.to_text(), &far).is_err());
    assert!(
        verifiers[0]
            .verify_line(
                &cp.to_text(),
                &witnesses[0].cosign(&cp.to_text(), i64::MAX as u64)
            )
            .is_ok()
    );
    // An altered timestamp fails.
    let mut line = witnesses[0].cosign(&cp.to_text(), 5);
    line.signature[7] = 6;
    assert!(verifiers[0].verify_line(&cp.to_text(), &line).is_err());
}

/// Tile storage simulated from leaf hashes, to check that proofs from tiles equal proofs
/// from the leaves.
struct MemoryTiles(Vec<Vec<Hash>>);

impl MemoryTiles {
    fn new(leaves: &[Hash]) -> Self {
        let mut levels = vec![leaves.to_vec()];
        loop {
            let below = levels.last().unwrap();
            if (below.len() as u64) < TILE_WIDTH {
                break;
            }
            let above: Vec<Hash> = below
                .chunks_exact(TILE_WIDTH as usize)
                .map(urne_log::hash::root_of)
                .collect();
            levels.push(above);
        }
        Self(levels)
    }
}

impl StoredHashes for MemoryTiles {
    type Error = ();
    fn stored(&self, level: u32, position: u64) -> Result<Hash, ()> {
        self.0
            .get(level as usize)
            .and_then(|l| l.get(position as usize))
            .copied()
            .ok_or(())
    }
}

#[test]
fn tiles_give_the_same_subtrees_and_proofs_as_the_leaves() {
    let leaves: Vec<Hash> = (0..70_000u32)
        .map(|i| leaf_hash(&i.to_le_bytes()))
        .collect();
    let tiles = MemoryTiles::new(&leaves);
    let tiled = Tiled(&tiles);
    for (height, index) in [(0, 69_999), (3, 17), (8, 5), (11, 3), (16, 0), (13, 7)] {
        assert_eq!(
            tiled.subtree(height, index).unwrap(),
            leaves[..].subtree(height, index).unwrap(),
            "h{height} i{index}"
        );
    }
    for size in [1u64, 255, 256, 257, 65_536, 70_000] {
        let from_tiles = urne_log::proof::range_hash(&tiled, 0, size).unwrap();
        assert_eq!(
            from_tiles,
            urne_log::hash::root_of(&leaves[..size as usize]),
            "root {size}"
        );
        let index = size / 3;
        let proof = urne_log::proof::inclusion_proof(&tiled, index, size).unwrap();
        urne_log::verify_inclusion(&leaves[index as usize], index, size, &proof, &from_tiles)
            .unwrap();
        let consistency = urne_log::proof::consistency_proof(&tiled, size / 2, size).unwrap();
        let first = urne_log::hash::root_of(&leaves[..(size / 2) as usize]);
        urne_log::verify_consistency(size / 2, size, &first, &from_tiles, &consistency).unwrap();
    }
}

#[test]
fn del_and_c1_controls_are_refused_in_note_text_and_key_names() {
    for (control, what) in [
        ('\u{7f}', "DEL"),
        ('\u{80}', "U+0080"),
        ('\u{85}', "NEL"),
        ('\u{9f}', "U+009F"),
    ] {
        let text = format!("line with {control} in it\n");
        assert!(
            matches!(
                Note::new(&text),
                Err(NoteError::ControlCharacter { offset: 10 })
            ),
            "{what} accepted by Note::new"
        );
        let signed = SIGNED.replace("cryptography", &format!("crypto{control}graphy"));
        assert!(
            matches!(
                Note::parse(signed.as_bytes()),
                Err(NoteError::ControlCharacter { .. })
            ),
            "{what} accepted in a signed note"
        );
        let name = format!("witness{control}.example");
        assert_eq!(
            NoteSigner::from_seed(&name, &[1; 32]).unwrap_err(),
            NoteError::BadKeyName,
            "{what} accepted in a key name"
        );
        assert!(
            Cosigner::from_seed(&name, &[1; 32]).is_err(),
            "{what} in a cosigner name"
        );
        assert!(
            Checkpoint::new(&name, 1, leaf_hash(b"r"), vec![]).is_err(),
            "{what} accepted in an origin"
        );
        assert!(
            Checkpoint::new("o.example", 1, leaf_hash(b"r"), vec![format!("x{control}")]).is_err(),
            "{what} accepted in an extension line"
        );
    }
    // Printable non-ASCII is still fine.
    Note::new("caf\u{e9} \u{a0} \u{2014}\n").unwrap();
}

#[test]
fn a_checkpoint_is_made_only_through_the_validating_constructor() {
    let root = leaf_hash(b"r");
    for (origin, extensions, line) in [
        ("", vec![], 1),
        ("has space", vec![], 1),
        ("has+plus", vec![], 1),
        ("ok.example", vec![String::new()], 4),
        ("ok.example", vec!["fine".into(), "two\nlines".into()], 5),
    ] {
        match Checkpoint::new(origin, 3, root, extensions) {
            Err(CheckpointError::BadLine { line: l, .. }) => assert_eq!(l, line, "{origin:?}"),
            other => panic!("{origin:?} accepted: {other:?}"),
        }
    }
    let cp = Checkpoint::new("ok.example", 3, root, vec!["x y".into()]).unwrap();
    assert_eq!(
        (cp.origin(), cp.size(), cp.root()),
        ("ok.example", 3, &root)
    );
}

#[test]
fn a_witness_key_listed_twice_counts_once() {
    let log = NoteSigner::from_seed("board.example/urne", &[1; 32]).unwrap();
    let w = Cosigner::from_seed("witness.example", &[10; 32]).unwrap();
    let cp = checkpoint(7);
    let mut note = Note::new(&cp.to_text()).unwrap();
    log.sign(&mut note);
    note.add_signature(w.cosign(&cp.to_text(), 1));
    let twice = vec![w.verifier(), w.verifier()];
    assert_eq!(count_cosignatures(&note, &twice), 1);
    // The same public key under a second name is still one witness.
    let alias = Cosigner::from_seed("alias.example", &[10; 32]).unwrap();
    note.add_signature(alias.cosign(&cp.to_text(), 1));
    assert_eq!(
        count_cosignatures(&note, &[w.verifier(), alias.verifier()]),
        1
    );
    let other = Cosigner::from_seed("other.example", &[11; 32]).unwrap();
    note.add_signature(other.cosign(&cp.to_text(), 1));
    assert_eq!(
        count_cosignatures(&note, &[w.verifier(), other.verifier(), w.verifier()]),
        2
    );
}

/// Tiles that answer wrongly: fewer hashes than asked.
struct ShortTiles;

impl StoredHashes for ShortTiles {
    type Error = ();
    fn stored(&self, _: u32, _: u64) -> Result<Hash, ()> {
        Ok(Hash::empty())
    }
    fn stored_range(&self, _: u32, _: u64, count: u64) -> Result<Vec<Hash>, ()> {
        Ok(vec![Hash::empty(); (count / 2) as usize])
    }
}

#[test]
fn tiles_refuse_subtrees_past_the_address_space_and_short_reads() {
    let tiles = MemoryTiles::new(&[leaf_hash(b"a"), leaf_hash(b"b")]);
    assert!(matches!(
        Tiled(&tiles).subtree(3, u64::MAX / 4),
        Err(urne_log::tiles::TiledError::OutOfRange { .. })
    ));
    assert!(matches!(
        Tiled(&ShortTiles).subtree(2, 0),
        Err(urne_log::tiles::TiledError::ShortRead { wanted: 4, got: 2 })
    ));
    // An in-memory tree refuses an index whose leaves would wrap past 2^64.
    let leaves = [leaf_hash(b"a"), leaf_hash(b"b")];
    assert!(leaves[..].subtree(1, 1 << 63).is_err());
}

mod no_panics {
    use proptest::prelude::*;
    use urne_log::hash::{root_of, split_point};
    use urne_log::proof::{HashSource, consistency_proof, inclusion_proof, range_hash};
    use urne_log::tiles::{TilePath, Tiled};
    use urne_log::{Checkpoint, Hash, leaf_hash, verify_consistency, verify_inclusion};

    use super::MemoryTiles;

    fn leaves() -> Vec<Hash> {
        (0..300u32).map(|i| leaf_hash(&i.to_le_bytes())).collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn split_and_subtree_apis_never_panic(n in any::<u64>(), height in any::<u32>(), index in any::<u64>()) {
            let k = split_point(n);
            prop_assert!(n < 2 && k == 0 || k < n && k.is_power_of_two() && k.saturating_mul(2) >= n);
            let leaves = leaves();
            let tiles = MemoryTiles::new(&leaves);
            let _ = leaves[..].subtree(height, index);
            let _ = Tiled(&tiles).subtree(height, index);
            let _ = Tiled(&super::ShortTiles).subtree(height, index);
        }

        #[test]
        fn proof_makers_and_verifiers_never_panic(a in any::<u64>(), b in any::<u64>(), small_a in 0u64..400, small_b in 0u64..400, len in 0usize..70) {
            let leaves = leaves();
            let tiles = MemoryTiles::new(&leaves);
            for (x, y) in [(a, b), (small_a, small_b), (small_a, b), (a, small_b)] {
                let _ = inclusion_proof(&leaves[..], x, y);
                let _ = consistency_proof(&leaves[..], x, y);
                let _ = inclusion_proof(&Tiled(&tiles), x, y);
                let _ = consistency_proof(&Tiled(&tiles), x, y);
                if x <= y && y <= 300 {
                    let _ = range_hash(&leaves[..], x, y);
                }
                let proof = vec![Hash::empty(); len];
                let _ = verify_inclusion(&leaves[0], x, y, &proof, &leaves[1]);
                let _ = verify_consistency(x, y, &leaves[0], &leaves[1], &proof);
            }
            let _ = root_of(&leaves[..(small_a as usize).min(leaves.len())]);
        }

        #[test]
        fn text_parsers_never_panic(text in "\\PC*", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = TilePath::parse(&text);
            let _ = Checkpoint::parse(&text);
            let _ = urne_log::note::Note::parse(text.as_bytes());
            let _ = urne_log::note::Note::parse(&bytes);
            let _ = urne_log::note::NoteVerifier::from_vkey(&text);
            if let Ok(s) = std::str::from_utf8(&bytes) {
                let _ = TilePath::parse(s);
                let _ = Checkpoint::parse(s);
            }
        }

        #[test]
        fn tile_paths_of_any_shape_never_panic(level in "[0-9x.p/a-z]{0,6}", segs in proptest::collection::vec("[x0-9]{0,5}", 0..8), w in "[0-9]{0,4}") {
            let path = format!("tile/{level}/{}.p/{w}", segs.join("/"));
            let _ = TilePath::parse(&path);
            let path = format!("tile/{level}/{}", segs.join("/"));
            if let Some(t) = TilePath::parse(&path) {
                prop_assert_eq!(t.to_path(), path);
            }
        }
    }
}
