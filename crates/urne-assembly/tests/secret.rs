//! Secret ballots (spec/40 §40.12): members register their wallet keys on the sitting,
//! and the recount ties the division to its election — the election opened by the
//! presiding officer, anonymous with the division's registry and the officer as its one
//! registrar, its snapshot exactly the members' registrations in one bucket, its
//! trustees members of the chamber, the division's counts its tally's. Each link shown
//! failing on a log a dishonest board or officer wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::Chamber;
use ed25519_dalek::SigningKey;
use urne_assembly::secret;
use urne_assembly::{
    CREDENTIAL_MEMBER_KEY, CredentialRegistration, DivisionOpen, RosterChange, RosterOp,
    VoteChange, kinds, recount, recount_sittings,
};
use urne_ceremony::CeremonyOpen;
use urne_credential::registry::{
    Cosignature, Entry, SNAPSHOT_VERSION, SignedSnapshot, Snapshot, SnapshotHeader,
};
use urne_credential::{Credential, CredentialList, ListedCredential};
use urne_crypto::{Ciphertext, ContextHash, Point, Scalar};
use urne_record::kinds::CONTEXT_OPEN;
use urne_record::{ContextId, ContextOpen, ContextType, Record};
use urne_tally::{EncryptedTally, TallyResult};

const CHOICES: [&str; 3] = ["Ada", "Grace", "Edsger"];

fn credential() -> [u8; 32] {
    Credential::generate(&mut rand::rng()).public().to_bytes()
}

/// An election's `context.open` signed by `by`, and its id.
fn election_open(by: &SigningKey) -> (ContextId, Vec<u8>) {
    let body = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [5; 16],
        name: "Election of the committee chair".into(),
        parameters: [0; 32],
    }
    .to_body()
    .unwrap();
    (
        ContextId::derive(&by.verifying_key().to_bytes(), &body),
        body,
    )
}

fn open_secret(c: &mut Chamber, division: u32, time: u64, election: ContextId) -> u64 {
    let body = DivisionOpen {
        division,
        time,
        text_hash: c.text_hash,
        roster_version: c.roster_version(),
        window: 600,
        secret: true,
        election: Some(election.0),
        reruns: 0,
        choices: CHOICES.map(str::to_owned).to_vec(),
    }
    .to_body()
    .unwrap();
    let officer = c.officer.clone();
    c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap()
}

fn registration(
    c: &Chamber,
    by: u32,
    division: u32,
    credential: [u8; 32],
    on_behalf: Option<u32>,
) -> Vec<u8> {
    CredentialRegistration {
        sequence: c.seq(by),
        division,
        credential,
        on_behalf,
    }
    .to_body()
}

fn register(
    c: &mut Chamber,
    by: u32,
    division: u32,
    credential: [u8; 32],
    on_behalf: Option<u32>,
) -> Result<u64, urne_assembly::Violation> {
    let body = registration(c, by, division, credential, on_behalf);
    let key = c.member(by);
    c.post(kinds::SECRET_CREDENTIAL, &body, &key)
}

#[test]
fn credentials_are_registered_once_per_member_and_never_by_proxy_under_the_french_rule() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.grant(3, 0, 3_600).unwrap();
    let (election, _) = election_open(&c.officer.clone());
    // A registration for a public division is refused.
    c.open_division(1, 100).unwrap();
    let e = register(&mut c, 0, 1, credential(), None).unwrap_err();
    assert_eq!(e.field, "body.division");
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    open_secret(&mut c, 2, 800, election);
    let mine = credential();
    register(&mut c, 0, 2, mine, None).unwrap();
    // The delegate of member 3 registers for them: the chamber's rules keep proxies out
    // of secret ballots (the French rule). Refused by the fold; named by the recount.
    let body = registration(&c, 0, 2, credential(), Some(3));
    let m0 = c.member(0);
    assert_eq!(
        c.post(kinds::SECRET_CREDENTIAL, &body, &m0)
            .unwrap_err()
            .field,
        "body.on_behalf"
    );
    let at = c.force(kinds::SECRET_CREDENTIAL, &body, &m0);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.on_behalf"), "{v}");
    c.log.pop();
    // Once per member; a credential once.
    let e = register(&mut c, 0, 2, credential(), None).unwrap_err();
    assert_eq!(e.field, CREDENTIAL_MEMBER_KEY);
    let e = register(&mut c, 1, 2, mine, None).unwrap_err();
    assert_eq!(e.field, "body.credential");
    // A secret division is not voted on the roll call.
    assert_eq!(c.vote(1, 2, 0).unwrap_err().field, "body.division");
    // Not a point: refused by the decoder.
    let mut bad = registration(&c, 1, 2, credential(), None);
    bad[9..41].copy_from_slice(&[0xff; 32]);
    let e = urne_assembly::decode(kinds::SECRET_CREDENTIAL, &bad)
        .unwrap()
        .unwrap_err();
    assert_eq!(e.field(), "body.credential");
    // After close, no more registrations.
    c.event(kinds::DIVISION_CLOSE, 2, 1_500).unwrap();
    assert_eq!(
        register(&mut c, 1, 2, credential(), None)
            .unwrap_err()
            .field,
        "body.division"
    );
}

/// The division's snapshot as an honest officer builds it, but dealt into buckets of 2
/// (so two buckets for four keys): each ballot would hide among two members only.
fn two_bucket_snapshot(sitting: ContextId, officer: &SigningKey, keys: &[Point]) -> Snapshot {
    let district = urne_credential::wallet::district_generator(secret::SECRET_DISTRICT);
    let mut entries: Vec<Entry> = keys.iter().map(|&key| Entry { key, district }).collect();
    entries.sort_by(|a, b| a.key.as_bytes().cmp(b.key.as_bytes()));
    let leaves: Vec<_> = entries
        .iter()
        .map(|e| urne_log::leaf_hash(&[*e.key.as_bytes(), *e.district.as_bytes()].concat()))
        .collect();
    let header = SnapshotHeader {
        version: SNAPSHOT_VERSION,
        registry: secret::registry_id(sitting, 1),
        number: 1,
        previous: [0; 32],
        entries_root: urne_log::hash::root_of(&leaves),
        total: entries.len() as u64,
        bucket_bits: 1,
        aggregate_blinding: Scalar::ZERO,
        districts: vec![(secret::SECRET_DISTRICT, entries.len() as u64)],
    };
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![Cosignature::sign(0, officer, &id)],
    };
    Snapshot::new(signed, entries).unwrap()
}

/// What a dishonest party changes in the secret ballot's log.
#[derive(Clone, Copy, PartialEq)]
enum Tamper {
    None,
    /// The division's result is not the election's tally.
    Result,
    /// The snapshot has a wallet key no member registered.
    StrangerInSnapshot,
    /// The snapshot leaves a member's registration out.
    MemberLeftOut,
    /// The election is pseudonymous: a credential list of the registered keys.
    Pseudonymous,
    /// The election and its snapshot take another division's registry.
    OtherRegistry,
    /// The election and its snapshot name another registrar than the officer.
    OtherRegistrar,
    /// The snapshot deals the keys into two buckets.
    TwoBuckets,
    /// A trustee is not a member of the chamber.
    StrangerTrustee,
    /// The trustees are members, but not the public draw's (two swapped).
    NotDrawn,
    /// The election is opened by someone other than the presiding officer.
    ElectionOfAnother,
    /// The snapshot is posted while the division is still open.
    SnapshotBeforeClose,
    /// None of the election's records is on the log.
    ElectionMissing,
    /// A trustee is a member revoked before the ceremony opens.
    RevokedTrustee,
    /// Two trustees are one member's keys: the one rotated out, and the new one.
    OneMemberTwice,
    /// The election's manifest offers other options than the division's choices.
    ManifestOtherChoices,
    /// The ceremony names four trustees; the chamber's rules fix three.
    TrusteeCount,
    /// The ceremony's threshold is 3; the chamber's rules fix 2.
    OtherThreshold,
    /// The ceremony opens before the division closes.
    CeremonyBeforeClose,
    /// The first member drawn rotates their key after the close; the ceremony names
    /// the drawn members with their keys then (honest).
    RotatedAfterClose,
    /// The same rotation; the ceremony takes the draw over the roster at the ceremony,
    /// which the new key re-ranks.
    RotatedDrawnAtCeremony,
    /// The first member drawn is revoked after the close; the ceremony moves the next
    /// three up.
    RevokedDrawnSkipped,
    /// The manifest takes the division's registry; the snapshot is of another.
    SnapshotOtherRegistry,
    /// The manifest is anonymous; a pseudonymous credential list is posted beside it.
    CredentialsInAnonymous,
    /// Two members register, under the chamber's floor of three; the snapshot holds
    /// them and no result is posted (the fold refuses one).
    FewRegistrants,
    /// The manifest lets the vote open with two registered keys; the floor is three.
    ManifestBelowFloor,
}

/// A secret ballot among three candidates by four members, its election's records on
/// the log (their own correctness is the election verifier's), and its result. Returns
/// the chamber and the index of the record the tamper touches.
/// The recount's refusal of the secret ballot with `tamper`, and the index the tamper
/// put at fault.
fn refused(tamper: Tamper) -> (urne_assembly::Violation, u64) {
    let (c, at) = secret_ballot(tamper);
    (recount(c.id, &c.log).unwrap_err(), at)
}

fn secret_ballot(tamper: Tamper) -> (Chamber, u64) {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    let opener = if tamper == Tamper::ElectionOfAnother {
        common::key(77, 1)
    } else {
        c.officer.clone()
    };
    let (election, election_body) = election_open(&opener);
    let opened = open_secret(&mut c, 1, 100, election);
    let credentials: Vec<[u8; 32]> = (0..5).map(|_| credential()).collect();
    let registering = if tamper == Tamper::FewRegistrants {
        2
    } else {
        4
    };
    for (m, credential) in credentials.iter().take(registering).enumerate() {
        register(&mut c, m as u32, 1, *credential, None).unwrap();
    }
    let close_early = !matches!(
        tamper,
        Tamper::SnapshotBeforeClose | Tamper::CeremonyBeforeClose
    );
    if close_early {
        c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    }
    if tamper == Tamper::ElectionMissing {
        return (c, opened);
    }
    let post = |c: &mut Chamber, kind, body: &[u8], key: &SigningKey| {
        c.post_record(Record::sign(election, kind, body, key).unwrap())
            .unwrap()
    };
    post(&mut c, CONTEXT_OPEN, &election_body, &opener);
    let mut options = CHOICES.map(str::to_owned).to_vec();
    if tamper == Tamper::ManifestOtherChoices {
        options.swap(0, 1);
    }
    // What a dishonest officer changes in the eligibility: another division's registry,
    // or a registrar of its own choosing; the snapshot follows, so the election's own
    // fold would accept it.
    let registry_of = if tamper == Tamper::OtherRegistry {
        ContextId([0x42; 32])
    } else {
        c.id
    };
    let registrar = if tamper == Tamper::OtherRegistrar {
        common::key(80, 1)
    } else {
        c.officer.clone()
    };
    let eligibility =
        (tamper != Tamper::Pseudonymous).then(|| urne_election::anonymous::Eligibility {
            // The one bucket must be able to hold the floor's keys (2^2 ≥ 3).
            min_bucket_bits: 2,
            min_real_keys: if tamper == Tamper::ManifestBelowFloor {
                2
            } else {
                common::SECRET_RULES.min_registrants
            },
            min_snapshot: 1,
            registry: secret::registry_id(registry_of, 1),
            registrars: secret::registrars(registrar.verifying_key()),
        });
    let manifest = urne_election::ManifestRecord {
        eligibility,
        manifest: urne_ballot::Manifest::new(
            "Election of the committee chair",
            vec![urne_ballot::Contest {
                title: "Chair".into(),
                kind: urne_ballot::ContestKind::SingleChoice,
                blank: false,
                options,
            }],
        )
        .unwrap(),
    };
    let manifest_at = post(
        &mut c,
        urne_election::kinds::ELECTION_MANIFEST,
        &manifest.to_body(),
        &opener,
    );
    // The public draw of §40.12 step 3, fixed at the close: the seed of the registered
    // keys, the members in force there ranked by their keys there.
    let at_close: Vec<[u8; 32]> = (0..4)
        .map(|m| c.member(m).verifying_key().to_bytes())
        .collect();
    let seed = secret::trustee_seed(c.id, 1, &credentials[..registering]);
    let member_at =
        |keys: &[[u8; 32]], key: &[u8; 32]| keys.iter().position(|k| k == key).unwrap() as u32;
    let drawn: Vec<u32> = secret::trustee_order(&seed, &at_close)
        .iter()
        .map(|k| member_at(&at_close, k))
        .collect();
    let old_key = c.member(2).verifying_key().to_bytes();
    let new_key = common::key(79, 2).verifying_key().to_bytes();
    let change = |c: &mut Chamber, member, op| {
        let body = RosterChange {
            version: c.roster_version() + 1,
            member,
            op,
        }
        .to_body();
        let clerk = c.clerk.clone();
        c.post(kinds::ROSTER_CHANGE, &body, &clerk).unwrap();
    };
    // A new key for the first member drawn that re-ranks the draw: the trustees a draw
    // over the roster at the ceremony would name are then not the close's.
    let rotated = |c: &Chamber| {
        (100..)
            .map(|i| common::key(i, 4).verifying_key().to_bytes())
            .find(|key| {
                let mut now = at_close.clone();
                now[drawn[0] as usize] = *key;
                let order: Vec<u32> = secret::trustee_order(&seed, &now)
                    .iter()
                    .map(|k| member_at(&now, k))
                    .collect();
                order[..3] != drawn[..3] && !c.chamber().held_by_member(key)
            })
            .unwrap()
    };
    match tamper {
        Tamper::RevokedTrustee => change(&mut c, 2, RosterOp::Revoke),
        Tamper::OneMemberTwice => change(&mut c, 2, RosterOp::Rotate(new_key)),
        Tamper::RevokedDrawnSkipped => change(&mut c, drawn[0], RosterOp::Revoke),
        Tamper::RotatedAfterClose | Tamper::RotatedDrawnAtCeremony => {
            let key = rotated(&c);
            change(&mut c, drawn[0], RosterOp::Rotate(key));
        }
        _ => {}
    }
    // The honest trustees: the first three members of the draw, each with their key in
    // force at the ceremony.
    let key_now = |c: &Chamber, m: u32| c.chamber().members()[m as usize].key;
    let mut trustees: Vec<[u8; 32]> = drawn[..3].iter().map(|&m| key_now(&c, m)).collect();
    let mut threshold = 2;
    match tamper {
        Tamper::StrangerTrustee => trustees[2] = common::key(78, 3).verifying_key().to_bytes(),
        Tamper::RevokedTrustee => {
            trustees = drawn
                .iter()
                .filter(|&&m| m != 2)
                .take(2)
                .map(|&m| key_now(&c, m))
                .collect();
            trustees.push(old_key);
        }
        Tamper::OneMemberTwice => {
            // Trustees 2 and 3: member 2's old key, then its new one.
            let first = drawn.iter().find(|&&m| m != 2).unwrap();
            trustees = vec![key_now(&c, *first), old_key, new_key];
        }
        Tamper::NotDrawn => trustees.swap(0, 1),
        Tamper::TrusteeCount => trustees = drawn.iter().map(|&m| key_now(&c, m)).collect(),
        Tamper::OtherThreshold => threshold = 3,
        Tamper::RevokedDrawnSkipped => {
            trustees = drawn[1..].iter().map(|&m| key_now(&c, m)).collect();
        }
        Tamper::RotatedDrawnAtCeremony => {
            let now: Vec<[u8; 32]> = (0..4).map(|m| key_now(&c, m)).collect();
            trustees = secret::trustee_order(&seed, &now)[..3].to_vec();
        }
        _ => {}
    }
    let ceremony = CeremonyOpen::new(threshold, trustees).unwrap().encode();
    // A log whose snapshot comes before the close has no ceremony yet: one there would
    // be named first, for the same reason.
    let ceremony_at = (tamper != Tamper::SnapshotBeforeClose).then(|| {
        post(
            &mut c,
            urne_election::kinds::CEREMONY_OPEN,
            &ceremony,
            &opener,
        )
    });
    if tamper == Tamper::CeremonyBeforeClose {
        c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    }
    let mut listed: Vec<[u8; 32]> = credentials[..registering].to_vec();
    match tamper {
        Tamper::StrangerInSnapshot => listed.push(credentials[4]),
        Tamper::MemberLeftOut => {
            listed.pop();
        }
        _ => {}
    }
    let keys: Vec<Point> = listed
        .iter()
        .map(|k| Point::decode_non_identity(k).unwrap())
        .collect();
    let mut list_at = 0;
    let mut snapshot_at = 0;
    let mut list_at_credentials = None;
    if matches!(
        tamper,
        Tamper::Pseudonymous | Tamper::CredentialsInAnonymous
    ) {
        let list = CredentialList::new(
            listed
                .iter()
                .map(|c| ListedCredential {
                    credential: urne_credential::PublicCredential::decode(c).unwrap(),
                    weight: 1,
                })
                .collect(),
        )
        .unwrap();
        for part in list.parts() {
            list_at = post(
                &mut c,
                urne_election::kinds::ELECTION_CREDENTIALS,
                &part.to_bytes(),
                &opener,
            );
        }
        snapshot_at = list_at;
        list_at_credentials = Some(list_at);
    }
    if tamper != Tamper::Pseudonymous {
        let snapshot = if tamper == Tamper::TwoBuckets {
            two_bucket_snapshot(registry_of, &registrar, &keys)
        } else if tamper == Tamper::SnapshotOtherRegistry {
            secret::snapshot(ContextId([0x43; 32]), 1, &registrar, &keys).unwrap()
        } else {
            secret::snapshot(registry_of, 1, &registrar, &keys).unwrap()
        };
        snapshot_at = post(
            &mut c,
            urne_election::kinds::ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
            &opener,
        );
        for part in snapshot.parts() {
            list_at = post(
                &mut c,
                urne_election::kinds::ELECTION_SNAPSHOT_PART,
                &part.to_bytes(),
                &opener,
            );
        }
    }
    if tamper == Tamper::SnapshotBeforeClose {
        // The snapshot matches every registration so far; the division is still open.
        c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    }
    let tally = TallyResult {
        tally: EncryptedTally {
            context: ContextHash([0; 32]),
            ballots: 4,
            weight: 4,
            contests: vec![vec![Ciphertext::zero(); 3]],
        },
        superseded: 0,
        trustees: vec![1, 2],
        counts: vec![vec![2, 1, 1]],
        fundings: Vec::new(),
    };
    post(
        &mut c,
        urne_election::kinds::TALLY_RESULT,
        &tally.to_bytes(),
        &opener,
    );
    if tamper == Tamper::FewRegistrants {
        return (c, snapshot_at);
    }
    let mut result = c.expected_result(1);
    result.counts = if tamper == Tamper::Result {
        vec![1, 2, 1]
    } else {
        vec![2, 1, 1]
    };
    let result_at = c.post_result(&result).unwrap();
    let at = match tamper {
        Tamper::None | Tamper::Result | Tamper::RotatedAfterClose => result_at,
        Tamper::StrangerInSnapshot | Tamper::MemberLeftOut => list_at,
        Tamper::Pseudonymous
        | Tamper::OtherRegistry
        | Tamper::OtherRegistrar
        | Tamper::ManifestBelowFloor => manifest_at,
        Tamper::FewRegistrants => unreachable!("returned before the result"),
        Tamper::TwoBuckets | Tamper::SnapshotBeforeClose | Tamper::SnapshotOtherRegistry => {
            snapshot_at
        }
        Tamper::CredentialsInAnonymous => list_at_credentials.unwrap(),
        Tamper::StrangerTrustee
        | Tamper::RevokedTrustee
        | Tamper::OneMemberTwice
        | Tamper::NotDrawn
        | Tamper::TrusteeCount
        | Tamper::OtherThreshold
        | Tamper::CeremonyBeforeClose
        | Tamper::RotatedDrawnAtCeremony
        | Tamper::RevokedDrawnSkipped => ceremony_at.unwrap(),
        Tamper::ElectionOfAnother => opened,
        Tamper::ManifestOtherChoices => manifest_at,
        Tamper::ElectionMissing => unreachable!("returned before the election's records"),
    };
    (c, at)
}

#[test]
fn an_honest_secret_ballot_recounts_to_its_election_s_tally() {
    let (c, at) = secret_ballot(Tamper::None);
    let divisions = recount(c.id, &c.log).unwrap();
    let d = &divisions[0];
    assert!(d.secret && d.roll_call.is_empty());
    assert_eq!(d.published_at, Some(at));
    assert_eq!(recount_sittings(&c.log).unwrap().len(), 1);
}

#[test]
fn a_secret_result_that_is_not_the_tally_is_named() {
    // The board's fold accepts it (it cannot see the election): the recount names it.
    let (c, at) = secret_ballot(Tamper::Result);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.counts[0]"), "{v}");
    assert_eq!(recount_sittings(&c.log).unwrap_err(), v);
}

#[test]
fn a_snapshot_that_is_not_the_roster_s_registrations_is_named() {
    let (c, at) = secret_ballot(Tamper::StrangerInSnapshot);
    let v = recount(c.id, &c.log).unwrap_err();
    // The entries are sorted: the stranger's position is wherever it sorts.
    assert_eq!((v.index, v.kind), (at, "election.snapshot-part"), "{v}");
    assert!(v.field.starts_with("body.entries["), "{v}");
    assert!(v.reason.contains("no member registered"), "{v}");
    assert_eq!(recount_sittings(&c.log).unwrap_err(), v);
    let (v, at) = refused(Tamper::MemberLeftOut);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.snapshot-part", "body.entries"),
        "{v}"
    );
    assert!(v.reason.contains("member 3"), "{v}");
}

/// A secret division's election must be anonymous, over the division's own registry,
/// vouched for by the presiding officer alone: each other choice is named at the
/// election's manifest, alone (the rest of the log is honest).
#[test]
fn an_election_that_is_not_the_division_s_anonymous_election_is_named() {
    for (tamper, field, says) in [
        (Tamper::Pseudonymous, "body.eligibility", "pseudonymous"),
        (
            Tamper::OtherRegistry,
            "body.eligibility.registry",
            "registry",
        ),
        (
            Tamper::OtherRegistrar,
            "body.eligibility.registrars",
            "presiding officer",
        ),
    ] {
        let (c, at) = secret_ballot(tamper);
        let v = recount(c.id, &c.log).unwrap_err();
        assert_eq!(
            (v.index, v.kind, v.field.as_str()),
            (at, "election.manifest", field),
            "{v}"
        );
        assert!(v.reason.contains(says), "{v}");
        assert_eq!(recount_sittings(&c.log).unwrap_err(), v);
    }
}

/// One bucket: every ballot hides among all who registered, not among a part of them
/// the deal chose.
#[test]
fn a_snapshot_of_more_than_one_bucket_is_named() {
    let (v, at) = refused(Tamper::TwoBuckets);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.snapshot", "body.bucket_bits"),
        "{v}"
    );
}

#[test]
fn trustees_not_drawn_from_the_chamber_are_named() {
    let (v, at) = refused(Tamper::StrangerTrustee);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "ceremony.open", "body.identities[2]"),
        "{v}"
    );
}

/// The officer chooses how many trustees, not who: members in force, but not the
/// first of the public draw in its order, are named.
#[test]
fn trustees_other_than_the_public_draw_s_are_named() {
    let (c, at) = secret_ballot(Tamper::NotDrawn);
    for v in [
        recount(c.id, &c.log).unwrap_err(),
        recount_sittings(&c.log).unwrap_err(),
    ] {
        assert_eq!(
            (v.index, v.kind, v.field.as_str()),
            (at, "ceremony.open", "body.identities[0]"),
            "{v}"
        );
        assert!(v.reason.contains("public draw"), "{v}");
    }
}

/// Trustees are judged against the roster in force where the ceremony opens: a
/// member revoked before it, or a member's key rotated out (so one member would hold
/// two trustee shares), is named, though each key was a member's once.
#[test]
fn trustees_revoked_or_holding_two_keys_at_the_ceremony_are_named() {
    for (tamper, t) in [(Tamper::RevokedTrustee, 2), (Tamper::OneMemberTwice, 1)] {
        let (c, at) = secret_ballot(tamper);
        for v in [
            recount(c.id, &c.log).unwrap_err(),
            recount_sittings(&c.log).unwrap_err(),
        ] {
            assert_eq!(
                (v.index, v.kind, v.field.clone()),
                (at, "ceremony.open", format!("body.identities[{t}]")),
                "{v}"
            );
            assert!(v.reason.contains("in force"), "{v}");
        }
    }
}

#[test]
fn a_forged_tally_record_of_the_election_is_named_by_its_signature() {
    let (mut c, _) = secret_ballot(Tamper::None);
    let at = c
        .log
        .iter()
        .position(|(_, r)| r.kind() == urne_election::kinds::TALLY_RESULT)
        .unwrap();
    // The tally.result's bytes with another signature: what a board that rewrote the
    // counts and kept the officer's name would hold.
    let mut bytes = c.log[at].1.bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    c.log[at].1 = Record::parse(bytes).unwrap();
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at as u64, "signature"), "{v}");
}

#[test]
fn an_election_not_opened_by_the_presiding_officer_is_named() {
    let (v, at) = refused(Tamper::ElectionOfAnother);
    assert_eq!((v.index, v.field.as_str()), (at, "body.election"), "{v}");
}

/// Members may register until the close: a snapshot posted before it is compared with
/// nothing fixed (a late honest registration would then look left off), so the
/// snapshot must come after the close.
#[test]
fn a_snapshot_posted_before_the_division_closes_is_named() {
    let (v, at) = refused(Tamper::SnapshotBeforeClose);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.snapshot", "body"),
        "{v}"
    );
    assert!(v.reason.contains("after the division's close"), "{v}");
}

/// A closed secret division with no result and none of its election's records on the
/// log: nothing of its vote was checked, so the recount says so rather than pass.
#[test]
fn a_closed_secret_division_whose_election_is_not_on_the_log_is_named() {
    let (v, opened) = refused(Tamper::ElectionMissing);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (opened, "division.open", "body.election"),
        "{v}"
    );
    assert!(v.reason.contains("not on the log"), "{v}");
}

/// The election must vote the division's question: its one contest's options are the
/// division's choices, in order (else its tally, read as the division's, would give one
/// candidate's votes to another).
#[test]
fn an_election_whose_manifest_is_not_the_division_s_question_is_named() {
    let (v, at) = refused(Tamper::ManifestOtherChoices);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.manifest", "body.contests[0].options"),
        "{v}"
    );
}

/// One election votes one division: a second division naming it is refused by the fold
/// in its sitting, and named by the recount across sittings.
#[test]
fn a_second_division_naming_the_same_election_is_refused() {
    let (mut c, _) = secret_ballot(Tamper::None);
    let election = match urne_assembly::decode(
        kinds::DIVISION_OPEN,
        c.log
            .iter()
            .find(|(_, r)| r.kind() == kinds::DIVISION_OPEN)
            .unwrap()
            .1
            .body(),
    ) {
        Some(Ok(urne_assembly::Decoded::DivisionOpen(o))) => ContextId(o.election.unwrap()),
        _ => unreachable!(),
    };
    let naming = |c: &Chamber, division| {
        DivisionOpen {
            division,
            time: 2_000,
            text_hash: c.text_hash,
            roster_version: c.roster_version(),
            window: 600,
            secret: true,
            election: Some(election.0),
            reruns: 0,
            choices: CHOICES.map(str::to_owned).to_vec(),
        }
        .to_body()
        .unwrap()
    };
    let officer = c.officer.clone();
    let body = naming(&c, 2);
    let e = c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap_err();
    assert_eq!(e.field, "body.election", "{e}");
    // In the next sitting of the chamber, the fold cannot see the first: the recount does.
    c.next_sitting(9);
    c.all_present();
    let body = naming(&c, 1);
    let at = c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap();
    let v = recount_sittings(&c.log).unwrap_err();
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "division.open", "body.election"),
        "{v}"
    );
}

/// The chamber's rules fix how many trustees and how many decrypt (§40.3): the officer,
/// who opens the ceremony after the draw is public, cannot stop the draw where it suits
/// them, nor pick another threshold. (A threshold of 1 is no ceremony at all: it never
/// decodes, spec/20 §20.1.)
#[test]
fn a_ceremony_with_other_trustee_numbers_than_the_rules_is_named() {
    for (tamper, field, says) in [
        (
            Tamper::TrusteeCount,
            "body.identities",
            "4 trustees; the chamber's rules fix 3",
        ),
        (
            Tamper::OtherThreshold,
            "body.threshold",
            "threshold of 3; the chamber's rules fix 2",
        ),
    ] {
        let (c, at) = secret_ballot(tamper);
        for v in [
            recount(c.id, &c.log).unwrap_err(),
            recount_sittings(&c.log).unwrap_err(),
        ] {
            assert_eq!(
                (v.index, v.kind, v.field.as_str()),
                (at, "ceremony.open", field),
                "{v}"
            );
            assert!(v.reason.contains(says), "{v}");
        }
    }
}

/// The draw's seed is the registrations, fixed at the close: a ceremony opened before
/// it names trustees from a draw that could still change.
#[test]
fn a_ceremony_opened_before_the_division_s_close_is_named() {
    let (v, at) = refused(Tamper::CeremonyBeforeClose);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "ceremony.open", "body"),
        "{v}"
    );
    assert!(v.reason.contains("before the division's close"), "{v}");
}

/// The draw ranks the members in force at the close by their keys there: a drawn
/// member's rotation after the close changes nothing (they serve with their new key),
/// and a draw re-run over the roster at the ceremony, which the new key re-ranks, is
/// named.
#[test]
fn a_rotation_after_the_close_does_not_change_the_draw() {
    let (c, at) = secret_ballot(Tamper::RotatedAfterClose);
    let divisions = recount(c.id, &c.log).unwrap();
    assert_eq!(divisions[0].published_at, Some(at));
    let (v, at) = refused(Tamper::RotatedDrawnAtCeremony);
    assert_eq!((v.index, v.kind), (at, "ceremony.open"), "{v}");
    assert!(v.field.starts_with("body.identities["), "{v}");
    assert!(
        v.reason.contains("public draw at the division's close"),
        "{v}"
    );
}

/// The draw stands: the clerk cannot move others up by revoking a drawn member after
/// the close. A ceremony that skips them is named; none can be formed without them, so
/// the division is voided and rerun, in public.
#[test]
fn a_drawn_member_revoked_after_the_close_is_not_skipped() {
    let (v, at) = refused(Tamper::RevokedDrawnSkipped);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "ceremony.open", "body.identities[0]"),
        "{v}"
    );
    assert!(v.reason.contains("public draw"), "{v}");
}

/// Reached only when the manifest is the division's: the snapshot's own registry id is
/// checked too, and a pseudonymous credential list beside an anonymous manifest is
/// named (each masked by the manifest's check when the manifest is also wrong).
#[test]
fn a_snapshot_of_another_registry_or_a_credential_list_beside_an_anonymous_manifest_is_named() {
    let (c, at) = secret_ballot(Tamper::SnapshotOtherRegistry);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.snapshot", "body.registry"),
        "{v}"
    );
    let (v, at) = refused(Tamper::CredentialsInAnonymous);
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.credentials", "kind"),
        "{v}"
    );
    assert!(v.reason.contains("pseudonymous credential list"), "{v}");
}

/// The chamber's floor of registrants (spec/40 §40.3): an election that would open its
/// vote with fewer is named at its manifest; a snapshot of fewer is named; and the fold
/// (so the board) refuses a result for a division that had fewer.
#[test]
fn a_secret_ballot_under_the_chamber_s_floor_of_registrants_is_named() {
    let (c, at) = secret_ballot(Tamper::ManifestBelowFloor);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.manifest", "body.eligibility.min_real_keys"),
        "{v}"
    );
    let (mut c, at) = secret_ballot(Tamper::FewRegistrants);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!(
        (v.index, v.kind, v.field.as_str()),
        (at, "election.snapshot", "body.total"),
        "{v}"
    );
    assert!(v.reason.contains("floor of 3"), "{v}");
    let mut result = c.expected_result(1);
    result.counts = vec![1, 1, 0];
    let e = c.post_result(&result).unwrap_err();
    assert_eq!(e.field, "body.counts", "{e}");
    assert!(e.reason.contains("2 registrants"), "{e}");
    let forced = c.force(
        kinds::DIVISION_RESULT,
        &result.to_body().unwrap(),
        &c.officer.clone(),
    );
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (forced, "body.counts"), "{v}");
}

/// A chamber whose members in force are fewer than its secret ballots' trustees or
/// floor cannot open one: it could never be tallied.
#[test]
fn a_secret_division_in_a_chamber_too_small_for_its_rules_is_refused() {
    let mut c = Chamber::new(2, VoteChange::FinalOnFirstCast);
    c.all_present();
    let body = c.open_body(1, 100, true);
    let officer = c.officer.clone();
    let e = c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap_err();
    assert_eq!(e.field, "body.secret", "{e}");
    let forced = c.force(kinds::DIVISION_OPEN, &body, &officer);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (forced, "body.secret"), "{v}");
    // A roll call in the same chamber opens.
    c.log.pop();
    c.open_division(1, 100).unwrap();
}
