//! The booth in an anonymous election (spec/23 §23.11–§23.13, spec/60 §60.2): it checks
//! the snapshot the board serves against the eligibility the election committed to, opens
//! the voter's wallet, and makes `ballot.cast` and `ballot.audit` records that urne-election
//! decodes and checks like the board — tag, ring signature, proofs — and every check it
//! runs fails on tampered input.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use ed25519_dalek::SigningKey;
use urne_ballot::{Contest, ContestKind, ContextInputs, Manifest, check_audit};
use urne_booth::{Booth, ElectionParams, Selection, SnapshotParams};
use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, Enrolment, KdfParams, Wallet};
use urne_crypto::SecretKey;
use urne_crypto::triptych::Ring;
use urne_election::anonymous::{
    self, AnonymousAudit, AnonymousCast, Eligibility, signature_context, tag_for,
};
use urne_election::{Decision, kinds};
use urne_record::Record;

const ORIGIN: &str = "example.org/urne-booth-anonymous";
const REGISTRY: [u8; 32] = [0x5e; 32];
const ELECTION: [u8; 32] = [0x0e; 32];
const PASS: &str = "a voter's passphrase";
// The lightest Argon2id the wallet takes: these tests are about the booth, not the KDF.
const KDF: KdfParams = KdfParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

struct Fixture {
    params: ElectionParams,
    manifest: Manifest,
    key: urne_crypto::PublicKey,
    snapshot: Snapshot,
    registrars: Registrars,
    registrar: SigningKey,
    wallets: Vec<(Wallet, Vec<u8>)>,
}

fn enrolled(registrars: &Registrars, registry: [u8; 32]) -> Wallet {
    let mut rng = rand::rng();
    let mut wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
    wallet
        .record_enrolment(Enrolment {
            registry,
            registrars: registrars.clone(),
        })
        .unwrap();
    wallet
}

/// Six people in buckets of 4 (two buckets), one registrar; the election's eligibility
/// asks for buckets of 4 with at least 2 registered keys.
fn fixture() -> Fixture {
    let mut rng = rand::rng();
    let registrar = SigningKey::from_bytes(&[3u8; 32]);
    let registrars = Registrars::new(1, vec![registrar.verifying_key()]).unwrap();
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for person in 0..6u8 {
        let wallet = enrolled(&registrars, REGISTRY);
        let request = wallet.enrolment_request(&REGISTRY, &mut rng).unwrap();
        register.enrol([person; 32], &request, false).unwrap();
        let file = wallet.seal(PASS.as_bytes(), KDF, &mut rng).unwrap();
        wallets.push((wallet, file));
    }
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
    let cosignature = Cosignature::sign(0, &registrar, &header.id());
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![cosignature],
    };
    let snapshot = Snapshot::new(signed, entries).unwrap();
    let eligibility = Eligibility {
        min_bucket_bits: 2,
        min_real_keys: 2,
        min_snapshot: 1,
        registry: REGISTRY,
        registrars: registrars.clone(),
    };
    let manifest = Manifest::new(
        "Anonymous consultation",
        vec![Contest {
            title: "Mayor".into(),
            kind: ContestKind::SingleChoice,
            blank: true,
            options: vec!["Ada".into(), "Grace".into()],
        }],
    )
    .unwrap();
    let key = SecretKey::generate(&mut rng).public_key();
    let params = ElectionParams {
        election: hex::encode(ELECTION),
        origin: ORIGIN.into(),
        manifest: hex::encode(manifest.to_bytes()),
        joint_key: hex::encode(key.to_bytes()),
        credential_root: hex::encode(snapshot.id()),
        eligibility: Some(hex::encode(eligibility.to_bytes())),
        snapshot: Some(SnapshotParams {
            header: hex::encode(snapshot.signed().to_bytes()),
            parts: snapshot
                .parts()
                .iter()
                .map(|p| hex::encode(p.to_bytes()))
                .collect(),
        }),
    };
    Fixture {
        params,
        manifest,
        key,
        snapshot,
        registrars,
        registrar,
        wallets,
    }
}

fn election(f: &Fixture) -> urne_ballot::Election {
    let root = f.snapshot.id();
    urne_ballot::Election::new(ContextInputs {
        manifest: &f.manifest,
        joint_key: &f.key,
        credential_root: &root,
        board_origin: ORIGIN,
        context_id: &ELECTION,
    })
    .unwrap()
}

fn grace() -> Vec<Selection> {
    vec![Selection {
        blank: false,
        values: vec![0, 1],
    }]
}

fn seed(byte: u8) -> urne_booth::Seed {
    urne_booth::Seed::take(&mut [byte; 32])
}

/// The checks the board runs on an anonymous body (spec/23 §23.13), with urne-election's
/// own functions: the tag is the ballot's credential, the ring signature verifies over
/// urne-election's context bytes and the bucket's ring, the proofs verify.
fn board_checks(
    f: &Fixture,
    decision: Decision,
    ballot: &urne_ballot::Ballot,
    signature: &anonymous::AnonymousSignature,
    code: &urne_ballot::TrackingCode,
) {
    let decoded = signature.decode("ballot.cast", 2).unwrap();
    let ring = Ring::new(
        f.snapshot
            .bucket(signature.bucket)
            .unwrap()
            .iter()
            .map(|k| *k.as_ristretto())
            .collect(),
    )
    .unwrap();
    let id = f.snapshot.id();
    anonymous::check_signature(
        "ballot.cast",
        &ring,
        &anonymous::linking_base(&id, &ELECTION),
        &signature_context(decision, &ELECTION, &id, signature.bucket, code),
        &ballot.credential,
        &decoded,
    )
    .unwrap();
    // Never the other decision's: an audit's signature is no cast's.
    let other = match decision {
        Decision::Cast => Decision::Audit,
        Decision::Audit => Decision::Cast,
    };
    assert!(
        anonymous::check_signature(
            "ballot.cast",
            &ring,
            &anonymous::linking_base(&id, &ELECTION),
            &signature_context(other, &ELECTION, &id, signature.bucket, code),
            &ballot.credential,
            &decoded,
        )
        .is_err()
    );
    ballot.verify(&election(f), &ballot.credential).unwrap();
}

#[test]
fn an_anonymous_ballot_is_urne_elections_and_passes_the_boards_checks() {
    let f = fixture();
    let mut booth = Booth::default();
    let view = booth.load(&f.params).unwrap();
    assert_eq!(view.context_hash, hex::encode(election(&f).context().0));
    let anonymity = view.anonymous.unwrap();
    assert_eq!(
        (anonymity.people, anonymity.buckets, anonymity.bucket_size),
        (6, 2, 4)
    );
    let (wallet, file) = &f.wallets[4];
    let opened = booth.open_wallet(file, PASS).unwrap();
    let position = f.snapshot.position(&wallet.public_key()).unwrap();
    assert_eq!(
        (opened.bucket, opened.ring_size, opened.registered),
        (position.bucket, 4, 3)
    );
    let tag = tag_for(wallet.secret(), &f.snapshot.id(), &ELECTION);
    assert_eq!(opened.tag, hex::encode(tag.compress().to_bytes()));

    let made = booth.make_ballot(None, &grace(), seed(1)).unwrap();
    assert_eq!(
        made.credential, opened.tag,
        "the ballot's credential is the tag"
    );
    let cast = booth.cast(seed(2)).unwrap();
    // The cast took the wallet's secret with it: another ballot needs the wallet again.
    assert_eq!(
        booth
            .make_ballot(None, &grace(), seed(5))
            .unwrap_err()
            .field,
        "wallet"
    );
    booth.open_wallet(file, PASS).unwrap();
    let record = Record::parse(hex::decode(&cast.record).unwrap()).unwrap();
    record.verify_signature().unwrap();
    assert_eq!(record.kind(), kinds::BALLOT_CAST);
    let decoded = AnonymousCast::decode(record.body()).unwrap();
    assert_eq!(
        decoded.to_body(),
        record.body(),
        "urne-election re-encodes the same bytes"
    );
    assert_eq!(decoded.tracking_code().to_hex(), made.tracking_code);
    assert_eq!(decoded.signature.bucket, position.bucket);
    board_checks(
        &f,
        Decision::Cast,
        &decoded.ballot,
        &decoded.signature,
        &decoded.tracking_code(),
    );
    // The receipt's decoder reads the anonymous body too.
    let (_, code) = urne_booth::decode_cast_body(record.body()).unwrap();
    assert_eq!(code, decoded.tracking_code());
    // Its framing is checked whole: a body cut anywhere, with a byte trailing, or of
    // another version is refused naming where (version ‖ ballot length ‖ ballot ‖
    // bucket ‖ signature length ‖ signature).
    let body = record.body();
    let ballot_len = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
    let bucket_at = 5 + ballot_len;
    let refused = |bytes: &[u8]| urne_booth::decode_cast_body(bytes).unwrap_err();
    for (cut, field, detail) in [
        (0, "body.version", "the body is empty"),
        (3, "body.ballot", "inside the ballot's length"),
        (5 + ballot_len / 2, "body.ballot", "inside the ballot"),
        (bucket_at + 2, "body.bucket", "inside the bucket"),
        (
            bucket_at + 6,
            "body.signature_length",
            "inside the signature's length",
        ),
        (
            body.len() - 1,
            "body.signature",
            "where the signature takes",
        ),
    ] {
        let (at, why) = refused(&body[..cut]);
        assert_eq!(at, field, "cut at {cut}: {why}");
        assert!(why.contains(detail), "cut at {cut}: {why}");
    }
    let mut trailing = body.to_vec();
    trailing.push(0);
    let (at, why) = refused(&trailing);
    assert_eq!(at, "body.end", "{why}");
    assert!(
        why.contains(&format!(
            "{} bytes where the signature takes {}",
            body.len() - bucket_at - 7,
            body.len() - bucket_at - 8
        )),
        "{why}"
    );
    let mut other_version = body.to_vec();
    other_version[0] = 3;
    let (at, why) = refused(&other_version);
    assert_eq!(
        (at.as_str(), why.as_str()),
        ("body.version", "version 3; this reads 1 and 2")
    );

    // An audit: same checks, and the opening re-encrypts to the ballot.
    booth.make_ballot(None, &grace(), seed(3)).unwrap();
    let audit = booth.audit(seed(4)).unwrap();
    let record = Record::parse(hex::decode(&audit.record).unwrap()).unwrap();
    assert_eq!(record.kind(), kinds::BALLOT_AUDIT);
    let decoded = AnonymousAudit::decode(record.body()).unwrap();
    assert_eq!(decoded.to_body(), record.body());
    board_checks(
        &f,
        Decision::Audit,
        &decoded.ballot,
        &decoded.signature,
        &decoded.tracking_code(),
    );
    check_audit(&election(&f), &decoded.ballot, &decoded.opening).unwrap();
}

#[test]
fn the_wallet_is_refused_unless_it_can_vote_here_with_the_reason_coded() {
    let f = fixture();
    let mut booth = Booth::default();
    booth.load(&f.params).unwrap();
    // No wallet yet, or a credential instead of one.
    assert_eq!(
        booth
            .make_ballot(None, &grace(), seed(1))
            .unwrap_err()
            .field,
        "wallet"
    );
    let credential = urne_credential::Credential::generate(&mut rand::rng());
    assert_eq!(
        booth
            .make_ballot(Some(&credential.to_text()), &grace(), seed(1))
            .unwrap_err()
            .field,
        "credential"
    );
    let code = |e: urne_booth::BoothError| e.code.unwrap_or("none");
    let (_, file) = &f.wallets[0];
    assert_eq!(
        code(booth.open_wallet(file, "wrong").unwrap_err()),
        "wallet-passphrase"
    );
    assert_eq!(
        code(booth.open_wallet(b"not a wallet", PASS).unwrap_err()),
        "wallet-file"
    );
    let mut rng = rand::rng();
    let stranger = enrolled(&f.registrars, REGISTRY)
        .seal(PASS.as_bytes(), KDF, &mut rng)
        .unwrap();
    assert_eq!(
        code(booth.open_wallet(&stranger, PASS).unwrap_err()),
        "wallet-not-listed"
    );
    let elsewhere = enrolled(&f.registrars, [0x77; 32])
        .seal(PASS.as_bytes(), KDF, &mut rng)
        .unwrap();
    // The election's registry under other registrars (what a board swapping the
    // eligibility's set would need the wallet to accept): refused alike.
    let strangers =
        Registrars::new(1, vec![SigningKey::from_bytes(&[9u8; 32]).verifying_key()]).unwrap();
    let other_registrars = enrolled(&strangers, REGISTRY)
        .seal(PASS.as_bytes(), KDF, &mut rng)
        .unwrap();
    assert_eq!(
        code(booth.open_wallet(&other_registrars, PASS).unwrap_err()),
        "wallet-registry"
    );
    assert_eq!(
        code(booth.open_wallet(&elsewhere, PASS).unwrap_err()),
        "wallet-registry"
    );
    // A wallet that has signed from a newer snapshot of the registry than the election's:
    // refused with its code and both numbers; one that saw this very snapshot opens.
    let mut newer = Wallet::open(file, PASS.as_bytes()).unwrap();
    newer.see_snapshot(2).unwrap();
    let refused = booth
        .open_wallet(&newer.seal(PASS.as_bytes(), KDF, &mut rng).unwrap(), PASS)
        .unwrap_err();
    assert_eq!(
        (refused.field.as_str(), refused.code, refused.args.clone()),
        (
            "snapshot",
            Some("wallet-snapshot-old"),
            vec!["1".to_owned(), "2".to_owned()]
        ),
        "{refused}"
    );
    let mut same = Wallet::open(file, PASS.as_bytes()).unwrap();
    same.see_snapshot(1).unwrap();
    booth
        .open_wallet(&same.seal(PASS.as_bytes(), KDF, &mut rng).unwrap(), PASS)
        .unwrap();
    // A pseudonymous election takes no wallet.
    let mut plain = f.params.clone();
    plain.eligibility = None;
    plain.snapshot = None;
    booth.load(&plain).unwrap();
    assert_eq!(booth.open_wallet(file, PASS).unwrap_err().field, "wallet");
}

#[test]
fn a_snapshot_or_eligibility_the_board_altered_is_refused_naming_the_field() {
    let f = fixture();
    let refused = |change: &dyn Fn(&mut ElectionParams)| {
        let mut params = f.params.clone();
        change(&mut params);
        let e = Booth::default().load(&params).unwrap_err();
        (e.field, e.message)
    };
    // Another snapshot id than the one served (the context hash would hide nothing).
    assert_eq!(
        refused(&|p| p.credential_root = hex::encode([1u8; 32])),
        (
            "credential_root".into(),
            "not the id of the snapshot the board serves".into()
        )
    );
    assert_eq!(
        refused(&|p| p.snapshot = None),
        (
            "snapshot".into(),
            "an anonymous election without its snapshot".into()
        )
    );
    assert_eq!(
        refused(&|p| p.eligibility = None),
        (
            "eligibility".into(),
            "a snapshot without the eligibility it must meet".into()
        )
    );
    // A snapshot cosigned by someone the eligibility does not name.
    let forged = {
        let mut signed = f.snapshot.signed().clone();
        let other = SigningKey::from_bytes(&[4u8; 32]);
        signed.cosignatures = vec![Cosignature::sign(0, &other, &signed.header.id())];
        hex::encode(signed.to_bytes())
    };
    assert_eq!(
        refused(&|p| p.snapshot.as_mut().unwrap().header = forged.clone()),
        (
            "snapshot.header".into(),
            "cosignatures: cosignatures: cosignatures[0]: registrar 0's signature does not verify"
                .into()
        )
    );
    // An eligibility of another registry, or with a floor the snapshot does not meet.
    let with = |change: &dyn Fn(&mut Eligibility)| {
        let mut e = Eligibility {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            registry: REGISTRY,
            registrars: f.registrars.clone(),
        };
        change(&mut e);
        hex::encode(e.to_bytes())
    };
    for (change, message) in [
        (
            &(|e: &mut Eligibility| e.registry = [0x77; 32]) as &dyn Fn(&mut Eligibility),
            "registry: the snapshot is of another registry",
        ),
        (
            &|e: &mut Eligibility| e.min_bucket_bits = 3,
            "bucket_bits: buckets of 4 keys, below the floor of 8",
        ),
        (
            &|e: &mut Eligibility| e.min_real_keys = 4,
            "total: 6 entries in 2 buckets leave 3 registered keys in the smallest, below the floor of 4",
        ),
        (
            &|e: &mut Eligibility| e.min_snapshot = 2,
            "number: snapshot 1 is older than the oldest taken, 2",
        ),
    ] {
        let eligibility = with(change);
        assert_eq!(
            refused(&|p| p.eligibility = Some(eligibility.clone())),
            ("snapshot.header".into(), message.into())
        );
    }
    // A part whose entries were changed no longer hashes to the cosigned root.
    let mut part = hex::decode(&f.params.snapshot.as_ref().unwrap().parts[0]).unwrap();
    let last = part.len() - 1;
    part[last] ^= 1;
    let part = hex::encode(part);
    // The flipped bit lands in the last entry's district commitment: either it no longer
    // decodes, or (a canonical point still) the entries no longer hash to the root.
    let (field, message) = refused(&|p| p.snapshot.as_mut().unwrap().parts[0] = part.clone());
    assert!(
        field == "snapshot.parts[0]"
            && [
                "entries[5].district: not a canonical ristretto255 encoding",
                "the entries do not hash to the snapshot's entries root",
            ]
            .contains(&message.as_str()),
        "{field}: {message}"
    );
    let _ = &f.registrar;
}

/// The booth's decoder of the eligibility (urne-election, which owns it, does not build
/// for the browser) accepts what urne-election's accepts, with the same values, and
/// refuses what it refuses.
#[test]
fn the_booths_eligibility_decoder_is_urne_elections() {
    let f = fixture();
    let good = Eligibility {
        min_bucket_bits: 2,
        min_real_keys: 2,
        min_snapshot: 1,
        registry: REGISTRY,
        registrars: f.registrars.clone(),
    }
    .to_bytes();
    let mut cases = vec![good.clone()];
    for (at, value) in [
        (0, 2u8),
        (1, 0),
        (1, 16),
        (1, 17),
        (5, 1),
        (5, 5),
        (9, 0),
        (9, 7),
        (20, 1),
        (43, 0),
        (43, 200),
        (44, 2),
    ] {
        let mut bytes = good.clone();
        if at == 9 && value == 0 {
            bytes[6..10].copy_from_slice(&[0, 0, 0, 0]);
        } else {
            bytes[at] = value;
        }
        cases.push(bytes);
    }
    let manifest = f.manifest.to_bytes();
    for bytes in cases {
        let theirs =
            urne_election::ManifestRecord::decode(&[&[2u8][..], &bytes, &manifest].concat())
                .map(|record| record.eligibility.map(|e| e.snapshot_policy()));
        let ours = urne_booth::eligibility_policy(&bytes);
        match (theirs, ours) {
            (Ok(Some(theirs)), Ok(ours)) => assert_eq!(theirs, ours, "{bytes:02x?}"),
            (Err(_), Err(e)) => assert!(e.field.starts_with("eligibility"), "{e}"),
            (theirs, ours) => panic!("{bytes:02x?}: urne-election {theirs:?}, the booth {ours:?}"),
        }
    }
    // Served apart from the manifest, the eligibility must end where its registrars do.
    assert!(urne_booth::eligibility_policy(&good[..good.len() - 1]).is_err());
    assert!(urne_booth::eligibility_policy(&[good.as_slice(), &[0]].concat()).is_err());
}
