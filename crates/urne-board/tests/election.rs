//! A whole election through the board library (spec/23): a 2-of-3 ceremony with a
//! dealer disqualified by an unanswered complaint, credentials, ballots with revotes
//! and audits, close, a tally with one trustee absent, the result equal to the
//! plaintext count; the same log replayed through `urne_election::Replay`; every
//! rejection of the list with its own error and nothing changed; and the state
//! rebuilt on reopen.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Manifest, TrackingCode,
};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Kind, Record, Registry,
    Rejection,
};
use urne_ceremony::{CeremonyContext, CeremonyOpen, Complaint, QualifiedTrustee, TrusteeSetup};
use urne_credential::{BallotSignature, Credential, CredentialList, ListedCredential};
use urne_election::kinds::*;
use urne_election::{
    AuditRecord, CastBallot, CloseRound, ElectionState, ManifestRecord, Phase, Replay, Sealed,
};
use zeroize::Zeroizing;

const ORIGIN: &str = "test.example/board";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-election-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn trustee_key(j: u16) -> SigningKey {
    SigningKey::from_bytes(&[10 + j as u8; 32])
}

fn fresh_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    SigningKey::from_bytes(&seed)
}

fn open_board(dir: &Path) -> Board {
    let config = BoardConfig::new(
        ORIGIN,
        Zeroizing::new([7; 32]),
        vec![authority().verifying_key().to_bytes()],
        vec![],
    );
    Board::open(dir, config, Registry::standard()).unwrap().0
}

fn post(
    board: &Board,
    key: &SigningKey,
    id: ContextId,
    kind: Kind,
    body: &[u8],
) -> Result<u64, Rejection> {
    board
        .submit(Record::sign(id, kind, body, key).unwrap().into_bytes())
        .map(|r| r.index)
}

fn manifest() -> Manifest {
    Manifest::new(
        "Conseil municipal",
        vec![
            Contest {
                title: "Maire".into(),
                kind: ContestKind::SingleChoice,
                blank: true,
                options: vec!["Ada".into(), "Brahim".into(), "Chloé".into()],
            },
            Contest {
                title: "Projets".into(),
                kind: ContestKind::Approval { min: 0, max: 2 },
                blank: false,
                options: vec!["Parc".into(), "Piscine".into(), "Pistes".into()],
            },
        ],
    )
    .unwrap()
}

/// Asserts a refusal with its code and field, and that the log did not grow.
#[track_caller]
fn refused(board: &Board, result: Result<u64, Rejection>, code: Code, field: &str) -> Rejection {
    let size = board.store().size();
    let rejection = result.expect_err("the record should have been refused");
    assert_eq!(rejection.code, code, "{rejection:?}");
    assert_eq!(rejection.field.as_deref(), Some(field), "{rejection:?}");
    assert_eq!(board.store().size(), size);
    rejection
}

fn sealed(board: &Board, id: &ContextId) -> Arc<Sealed> {
    board
        .with_context_state(id, |s: &ElectionState| s.sealed().cloned())
        .flatten()
        .unwrap()
}

fn phase(board: &Board, id: &ContextId) -> Phase {
    board
        .with_context_state(id, |s: &ElectionState| s.phase())
        .unwrap()
}

fn cast_body(
    sealed: &Sealed,
    credential: &Credential,
    selections: &[ContestSelection],
) -> (Vec<u8>, Ballot) {
    let mut rng = rand::rng();
    let key = CredentialKey(credential.public().to_bytes());
    let (ballot, _) = Ballot::encrypt(sealed.election(), &key, selections, &mut rng).unwrap();
    let signature = BallotSignature::sign(
        credential,
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rng,
    )
    .unwrap();
    (CastBallot::new(ballot.clone(), signature).to_body(), ballot)
}

fn vote(single: usize, approve: &[usize]) -> Vec<ContestSelection> {
    vec![
        ContestSelection::single(3, single).unwrap(),
        ContestSelection::approve(3, approve).unwrap(),
    ]
}

struct Run {
    id: ContextId,
    trustees: Vec<QualifiedTrustee>,
    voters: Vec<Credential>,
}

/// Setup and the ceremony: dealer 3 deals trustee 1 a share that does not open, does
/// not answer the complaint, and is disqualified; the ceremony completes with 1 and 2.
fn setup_and_ceremony(board: &Board) -> Run {
    let mut rng = rand::rng();
    let a = authority();
    let record = ManifestRecord {
        manifest: manifest(),
        eligibility: None,
    };
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [3; 16],
        name: "Conseil municipal".into(),
        parameters: record.parameters_hash(),
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(a.verifying_key().as_bytes(), &open);
    post(board, &a, id, CONTEXT_OPEN, &open).unwrap();

    // The ceremony cannot start before the manifest.
    refused(
        board,
        post(board, &a, id, CONTEXT_PHASE, &[1]),
        Code::InvalidBody,
        "body",
    );
    // A manifest other than the one context.open committed to.
    let mut other = manifest().contests().to_vec();
    other[0].title = "Maire adjoint".into();
    let other = ManifestRecord {
        manifest: Manifest::new("Conseil municipal", other).unwrap(),
        eligibility: None,
    };
    refused(
        board,
        post(board, &a, id, ELECTION_MANIFEST, &other.to_body()),
        Code::InvalidBody,
        "body.manifest",
    );
    post(board, &a, id, ELECTION_MANIFEST, &record.to_body()).unwrap();
    post(board, &a, id, CONTEXT_PHASE, &[1]).unwrap();

    let identities: Vec<[u8; 32]> = (1..=3)
        .map(|j| trustee_key(j).verifying_key().to_bytes())
        .collect();
    let ceremony_open = CeremonyOpen::new(2, identities).unwrap();
    // Only the authority opens the ceremony.
    refused(
        board,
        post(
            board,
            &trustee_key(1),
            id,
            CEREMONY_OPEN,
            &ceremony_open.encode(),
        ),
        Code::NotAuthorized,
        "signer",
    );
    post(board, &a, id, CEREMONY_OPEN, &ceremony_open.encode()).unwrap();

    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=3).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    // A registration signed by another trustee than the one it names.
    refused(
        board,
        post(
            board,
            &trustee_key(2),
            id,
            CEREMONY_REGISTER,
            &registrations[0].encode(),
        ),
        Code::NotAuthorized,
        "signer",
    );
    for (j, r) in registrations.iter().enumerate() {
        post(
            board,
            &trustee_key(j as u16 + 1),
            id,
            CEREMONY_REGISTER,
            &r.encode(),
        )
        .unwrap();
    }
    let context = CeremonyContext::new(id.0, ceremony_open.clone(), &registrations).unwrap();
    let mut hashes = Vec::new();
    let mut states = Vec::new();
    for setup in setups {
        let (state, hash) = setup.begin(context.clone(), &mut rng).unwrap();
        hashes.push(hash);
        states.push(state);
    }
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    // A record of round 3 while round 2 is open.
    refused(
        board,
        post(
            board,
            &trustee_key(1),
            id,
            CEREMONY_COMMITMENTS,
            &commitments[0].encode(),
        ),
        Code::WrongPhase,
        "kind",
    );
    for (j, h) in hashes.iter().enumerate() {
        post(
            board,
            &trustee_key(j as u16 + 1),
            id,
            CEREMONY_COMMITMENT_HASH,
            &h.encode(),
        )
        .unwrap();
    }
    for (j, c) in commitments.iter().enumerate() {
        post(
            board,
            &trustee_key(j as u16 + 1),
            id,
            CEREMONY_COMMITMENTS,
            &c.encode(),
        )
        .unwrap();
    }
    let mut dealt = Vec::new();
    let mut states2 = Vec::new();
    for s in states {
        let (s, shares) = s.deal(commitments.clone(), &mut rng).unwrap();
        dealt.push(shares);
        states2.push(s);
    }
    // Dealer 3 deals trustee 1 a share that does not open.
    let bad = dealt[2]
        .shares
        .iter_mut()
        .find(|s| s.recipient == 1)
        .unwrap();
    bad.ciphertext[0] ^= 1;
    for (j, s) in dealt.iter().enumerate() {
        post(
            board,
            &trustee_key(j as u16 + 1),
            id,
            CEREMONY_SHARES,
            &s.encode(),
        )
        .unwrap();
    }
    let (states3, complaints): (Vec<_>, Vec<Vec<Complaint>>) = states2
        .into_iter()
        .map(|s| s.receive(dealt.clone()))
        .unzip();
    let complaints: Vec<Complaint> = complaints.into_iter().flatten().collect();
    assert_eq!(complaints.len(), 1);
    assert_eq!((complaints[0].complainer, complaints[0].dealer), (1, 3));
    post(
        board,
        &trustee_key(1),
        id,
        CEREMONY_COMPLAINT,
        &complaints[0].encode(),
    )
    .unwrap();
    // Closing a round that is not the current one.
    refused(
        board,
        post(
            board,
            &a,
            id,
            CEREMONY_CLOSE_ROUND,
            &CloseRound { round: 4 }.to_body(),
        ),
        Code::InvalidBody,
        "body.round",
    );
    post(
        board,
        &a,
        id,
        CEREMONY_CLOSE_ROUND,
        &CloseRound { round: 5 }.to_body(),
    )
    .unwrap();
    // Dealer 3 never answers: the authority closes the answer round.
    let (states4, _answers): (Vec<_>, Vec<_>) = states3
        .into_iter()
        .map(|s| s.answer(complaints.clone()))
        .unzip();
    post(
        board,
        &a,
        id,
        CEREMONY_CLOSE_ROUND,
        &CloseRound { round: 6 }.to_body(),
    )
    .unwrap();
    let outcome = board
        .with_context_state(&id, |s: &ElectionState| s.ceremony().outcome().cloned())
        .flatten()
        .unwrap()
        .unwrap();
    assert_eq!(outcome.qualified, vec![1, 2]);
    assert_eq!(outcome.disqualified.len(), 1);
    assert_eq!(outcome.disqualified[0].dealer, 3);
    let trustees: Vec<QualifiedTrustee> = states4
        .into_iter()
        .map(|s| s.finish(Vec::new()).unwrap())
        .collect();
    assert!(trustees.iter().all(|t| t.outcome() == &outcome));
    post(board, &a, id, CONTEXT_PHASE, &[2]).unwrap();
    let voters: Vec<Credential> = (0..6).map(|_| Credential::generate(&mut rng)).collect();
    Run {
        id,
        trustees,
        voters,
    }
}

#[test]
fn a_whole_election_through_the_board_and_its_replay() {
    let dir = scratch("whole");
    let board = open_board(&dir);
    let a = authority();
    let Run {
        id,
        trustees,
        voters,
    } = setup_and_ceremony(&board);
    let mut rng = rand::rng();

    // Credentials: voting cannot open before the list; then a second list is refused.
    refused(
        &board,
        post(&board, &a, id, CONTEXT_PHASE, &[3]),
        Code::InvalidBody,
        "body",
    );
    let list = CredentialList::new(
        voters
            .iter()
            .map(|c| ListedCredential {
                credential: c.public(),
                weight: 1,
            })
            .collect(),
    )
    .unwrap();
    for part in list.parts() {
        post(&board, &a, id, ELECTION_CREDENTIALS, &part.to_bytes()).unwrap();
    }
    let second = CredentialList::new(vec![ListedCredential {
        credential: Credential::generate(&mut rng).public(),
        weight: 1,
    }])
    .unwrap();
    refused(
        &board,
        post(
            &board,
            &a,
            id,
            ELECTION_CREDENTIALS,
            &second.parts()[0].to_bytes(),
        ),
        Code::InvalidBody,
        "body",
    );
    post(&board, &a, id, CONTEXT_PHASE, &[3]).unwrap();
    let sealed = sealed(&board, &id);

    // Votes. Voter 0 votes twice (the second counts), voter 1 audits then votes.
    let mut expected = [[0u64; 4]; 2];
    let plan: [(usize, usize, &[usize]); 6] = [
        (0, 0, &[0]),
        (1, 1, &[0, 1]),
        (2, 1, &[]),
        (3, 2, &[2]),
        (4, 0, &[1, 2]),
        (0, 2, &[0]),
    ];
    let (audit_ballot, audit_secrets) = {
        let key = CredentialKey(voters[1].public().to_bytes());
        Ballot::encrypt(sealed.election(), &key, &vote(0, &[2]), &mut rng).unwrap()
    };
    let audit_signature = BallotSignature::sign(
        &voters[1],
        sealed.election().context(),
        urne_credential::Decision::Audit,
        &TrackingCode::of(&audit_ballot).0,
        &mut rng,
    )
    .unwrap();
    let audit = AuditRecord::new(
        audit_ballot.clone(),
        audit_signature,
        audit_secrets.audit(&audit_ballot),
    );
    post(&board, &fresh_key(), id, BALLOT_AUDIT, &audit.to_body()).unwrap();
    // An audit whose opening does not match its ballot.
    let mut lying = audit.clone();
    lying.opening.contests[0].options[0].0 = 1 - lying.opening.contests[0].options[0].0;
    refused(
        &board,
        post(&board, &fresh_key(), id, BALLOT_AUDIT, &lying.to_body()),
        Code::InvalidBody,
        "body.opening",
    );
    // The audited ballot can never be cast.
    let signature = BallotSignature::sign(
        &voters[1],
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(&audit_ballot).0,
        &mut rng,
    )
    .unwrap();
    refused(
        &board,
        post(
            &board,
            &fresh_key(),
            id,
            BALLOT_CAST,
            &CastBallot::new(audit_ballot, signature).to_body(),
        ),
        Code::AlreadyUsed,
        "body.ballot",
    );

    let mut last = std::collections::HashMap::new();
    let mut bodies = Vec::new();
    for &(voter, single, approve) in &plan {
        let (body, ballot) = cast_body(&sealed, &voters[voter], &vote(single, approve));
        post(&board, &fresh_key(), id, BALLOT_CAST, &body).unwrap();
        last.insert(voter, (single, approve.to_vec()));
        bodies.push((body, ballot));
    }
    for (single, approve) in last.values() {
        expected[0][*single] += 1;
        for &o in approve {
            expected[1][o] += 1;
        }
    }

    // The rejections of the issue, each with its own error, none changing anything.
    let (_, ballot0) = &bodies[0];
    // A ballot copied under another credential: voter 5 re-signs voter 0's ballot.
    let copied_sig = BallotSignature::sign(
        &voters[5],
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(ballot0).0,
        &mut rng,
    )
    .unwrap();
    refused(
        &board,
        post(
            &board,
            &fresh_key(),
            id,
            BALLOT_CAST,
            &CastBallot::new(ballot0.clone(), copied_sig).to_body(),
        ),
        Code::InvalidBody,
        "body.signature",
    );
    let mut relabelled = ballot0.clone();
    relabelled.credential = CredentialKey(voters[5].public().to_bytes());
    let sig = BallotSignature::sign(
        &voters[5],
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(&relabelled).0,
        &mut rng,
    )
    .unwrap();
    let r = refused(
        &board,
        post(
            &board,
            &fresh_key(),
            id,
            BALLOT_CAST,
            &CastBallot::new(relabelled, sig).to_body(),
        ),
        Code::InvalidBody,
        "body.ballot.contests[0].options[0].proof",
    );
    assert!(r.message.contains("ballot.cast"), "{r:?}");
    // A ballot from another election.
    let mut foreign = ballot0.clone();
    foreign.context = urne_crypto::ContextHash([9; 32]);
    let sig = BallotSignature::sign(
        &voters[0],
        &foreign.context,
        urne_credential::Decision::Cast,
        &TrackingCode::of(&foreign).0,
        &mut rng,
    )
    .unwrap();
    refused(
        &board,
        post(
            &board,
            &fresh_key(),
            id,
            BALLOT_CAST,
            &CastBallot::new(foreign, sig).to_body(),
        ),
        Code::InvalidBody,
        "body.ballot.context",
    );
    // An overvote: two approvals spliced into a single-choice contest.
    let (_, other) = cast_body(&sealed, &voters[0], &vote(1, &[]));
    let mut overvote = ballot0.clone();
    overvote.contests[0].options[1] = other.contests[0].options[1].clone();
    let sig = BallotSignature::sign(
        &voters[0],
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(&overvote).0,
        &mut rng,
    )
    .unwrap();
    refused(
        &board,
        post(
            &board,
            &fresh_key(),
            id,
            BALLOT_CAST,
            &CastBallot::new(overvote, sig).to_body(),
        ),
        Code::InvalidBody,
        "body.ballot.contests[0].sum_proof",
    );
    // One proof byte altered.
    let (body, _) = cast_body(&sealed, &voters[2], &vote(0, &[]));
    let mut altered = body.clone();
    let at = 5 + 1 + 32 + 32 + 2 + 2 + 64 + 4 + 40;
    altered[at] ^= 1;
    let r = board
        .submit(
            Record::sign(id, BALLOT_CAST, &altered, &fresh_key())
                .unwrap()
                .into_bytes(),
        )
        .unwrap_err();
    assert_eq!(r.code, Code::InvalidBody, "{r:?}");
    assert!(
        r.field
            .as_deref()
            .unwrap()
            .starts_with("body.ballot.contests[0].options[0].proof"),
        "{r:?}"
    );
    // An unlisted credential.
    let stranger = Credential::generate(&mut rng);
    let (body, _) = cast_body(&sealed, &stranger, &vote(0, &[]));
    refused(
        &board,
        post(&board, &fresh_key(), id, BALLOT_CAST, &body),
        Code::InvalidBody,
        "body.ballot.credential",
    );

    // Two ballots of one credential submitted at once: both land, in log order.
    let (first, _) = cast_body(&sealed, &voters[5], &vote(0, &[0]));
    let (second, _) = cast_body(&sealed, &voters[5], &vote(1, &[1]));
    let (i, j) = std::thread::scope(|s| {
        let h1 = s.spawn(|| post(&board, &fresh_key(), id, BALLOT_CAST, &first).unwrap());
        let h2 = s.spawn(|| post(&board, &fresh_key(), id, BALLOT_CAST, &second).unwrap());
        (h1.join().unwrap(), h2.join().unwrap())
    });
    assert_ne!(i, j);
    // The later in the log counts.
    let counted = if i > j {
        (0usize, vec![0usize])
    } else {
        (1, vec![1])
    };
    expected[0][counted.0] += 1;
    for o in counted.1 {
        expected[1][o] += 1;
    }

    // Close; a ballot after close is refused.
    post(&board, &a, id, CONTEXT_PHASE, &[4]).unwrap();
    let (late, _) = cast_body(&sealed, &voters[3], &vote(0, &[]));
    refused(
        &board,
        post(&board, &fresh_key(), id, BALLOT_CAST, &late),
        Code::WrongPhase,
        "kind",
    );
    post(&board, &a, id, CONTEXT_PHASE, &[5]).unwrap();
    let sealed = self::sealed(&board, &id);
    let ciphertexts = sealed.tally_ciphertexts().unwrap().to_vec();
    let context = *sealed.election().context();

    // A bad decryption share is refused naming its trustee; trustee 2 is absent.
    let mut bad = trustees[2]
        .key()
        .decryption_shares(&context, &ciphertexts, &mut rng)
        .unwrap();
    bad.shares.swap(0, 1);
    let r = refused(
        &board,
        post(
            &board,
            &trustee_key(3),
            id,
            TALLY_DECRYPTION_SHARES,
            &bad.encode(),
        ),
        Code::InvalidBody,
        "body.shares[0]",
    );
    assert!(r.message.contains("trustee 3"), "{r:?}");
    // Shares posted by another trustee's key.
    let good3 = trustees[2]
        .key()
        .decryption_shares(&context, &ciphertexts, &mut rng)
        .unwrap();
    refused(
        &board,
        post(
            &board,
            &trustee_key(1),
            id,
            TALLY_DECRYPTION_SHARES,
            &good3.encode(),
        ),
        Code::NotAuthorized,
        "signer",
    );
    // Publishing before the result.
    refused(
        &board,
        post(&board, &a, id, CONTEXT_PHASE, &[6]),
        Code::InvalidBody,
        "body",
    );
    for (j, t) in [(1u16, &trustees[0]), (3, &trustees[2])] {
        let shares = t
            .key()
            .decryption_shares(&context, &ciphertexts, &mut rng)
            .unwrap();
        post(
            &board,
            &trustee_key(j),
            id,
            TALLY_DECRYPTION_SHARES,
            &shares.encode(),
        )
        .unwrap();
    }
    let result = board
        .with_context_state(&id, |s: &ElectionState| s.decrypt_result())
        .unwrap()
        .unwrap();
    assert_eq!(result.trustees, vec![1, 3]);
    let flat: Vec<u64> = result.counts.iter().flatten().copied().collect();
    assert_eq!(&flat[..3], &expected[0][..3]);
    assert_eq!(flat[3], 0, "blank votes");
    assert_eq!(&flat[4..], &expected[1][..3]);
    assert_eq!(result.tally.ballots, 6);
    assert_eq!(result.superseded, 2);
    // A result with one count changed.
    let mut wrong = result.clone();
    wrong.counts[0][0] += 1;
    refused(
        &board,
        post(&board, &a, id, TALLY_RESULT, &wrong.to_bytes()),
        Code::InvalidBody,
        "body.contests[0].entries[0].count",
    );
    post(&board, &a, id, TALLY_RESULT, &result.to_bytes()).unwrap();
    post(&board, &a, id, CONTEXT_PHASE, &[6]).unwrap();
    assert_eq!(phase(&board, &id), Phase::Published);

    // The same log through the pure fold gives the same outcome.
    let mut replay = Replay::new(id, ORIGIN);
    for index in 0..board.store().size() {
        let record = Record::parse(board.store().entry(index).unwrap()).unwrap();
        replay.feed(index, &record).unwrap();
    }
    let state = replay.state().unwrap();
    assert_eq!(state.phase(), Phase::Published);
    assert_eq!(state.result(), Some(&result));

    // State rebuilt from the log on reopen equals the state before.
    let before = board.context(&id).unwrap();
    let counts = board
        .with_context_state(&id, |s: &ElectionState| {
            (s.ballot_counts(), s.result().cloned())
        })
        .unwrap();
    drop(board);
    let board = open_board(&dir);
    assert_eq!(board.context(&id).unwrap(), before);
    assert_eq!(
        board
            .with_context_state(&id, |s: &ElectionState| (
                s.ballot_counts(),
                s.result().cloned()
            ))
            .unwrap(),
        counts
    );
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

// ---- An anonymous election (spec/23 §23.11–§23.13) ----

mod anonymous {
    use super::*;
    use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
    use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
    use urne_election::anonymous::{
        AnonymousAudit, AnonymousCast, AnonymousSignature, Eligibility, credential_of_tag,
        position_of, sign_ballot, tag_for,
    };

    const REGISTRY: [u8; 32] = [0x42; 32];

    fn registrar_keys() -> Vec<SigningKey> {
        (0..3u8)
            .map(|i| SigningKey::from_bytes(&[0x60 + i; 32]))
            .collect()
    }

    fn single() -> Manifest {
        Manifest::new(
            "Bureau",
            vec![Contest {
                title: "Présidence".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Ada".into(), "Brahim".into(), "Chloé".into()],
            }],
        )
        .unwrap()
    }

    /// Six wallets enrolled with the registry, its snapshot of buckets of 4 (two
    /// buckets), cosigned by two of its three registrars.
    fn registry() -> (Snapshot, Vec<Wallet>) {
        let mut rng = rand::rng();
        let mut register = Register::new();
        let mut wallets = Vec::new();
        for i in 0..6u8 {
            let wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
            let bytes = wallet
                .enrolment_request(&REGISTRY, &mut rng)
                .unwrap()
                .to_bytes();
            let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
            register.enrol([i; 32], &request, false).unwrap();
            wallets.push(wallet);
        }
        let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
        let id = header.id();
        let keys = registrar_keys();
        let signed = SignedSnapshot {
            header,
            cosignatures: vec![
                Cosignature::sign(0, &keys[0], &id),
                Cosignature::sign(2, &keys[2], &id),
            ],
        };
        (Snapshot::new(signed, entries).unwrap(), wallets)
    }

    /// Opens the election, posts its manifest and runs a clean 2-of-3 ceremony.
    fn open_and_ceremony(
        board: &Board,
        record: &ManifestRecord,
    ) -> (ContextId, Vec<QualifiedTrustee>) {
        let mut rng = rand::rng();
        let a = authority();
        let open = ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [4; 16],
            name: "Bureau".into(),
            parameters: record.parameters_hash(),
        }
        .to_body()
        .unwrap();
        let id = ContextId::derive(a.verifying_key().as_bytes(), &open);
        post(board, &a, id, CONTEXT_OPEN, &open).unwrap();
        post(board, &a, id, ELECTION_MANIFEST, &record.to_body()).unwrap();
        post(board, &a, id, CONTEXT_PHASE, &[1]).unwrap();
        let identities = (1..=3)
            .map(|j| trustee_key(j).verifying_key().to_bytes())
            .collect();
        let ceremony_open = CeremonyOpen::new(2, identities).unwrap();
        post(board, &a, id, CEREMONY_OPEN, &ceremony_open.encode()).unwrap();
        let (setups, registrations): (Vec<_>, Vec<_>) =
            (1..=3).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
        for r in &registrations {
            post(
                board,
                &trustee_key(r.trustee),
                id,
                CEREMONY_REGISTER,
                &r.encode(),
            )
            .unwrap();
        }
        let context = CeremonyContext::new(id.0, ceremony_open, &registrations).unwrap();
        let (states, hashes): (Vec<_>, Vec<_>) = setups
            .into_iter()
            .map(|s| s.begin(context.clone(), &mut rng).unwrap())
            .unzip();
        for h in &hashes {
            post(
                board,
                &trustee_key(h.dealer),
                id,
                CEREMONY_COMMITMENT_HASH,
                &h.encode(),
            )
            .unwrap();
        }
        let (states, commitments): (Vec<_>, Vec<_>) =
            states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
        for c in &commitments {
            post(
                board,
                &trustee_key(c.dealer),
                id,
                CEREMONY_COMMITMENTS,
                &c.encode(),
            )
            .unwrap();
        }
        let (states, dealt): (Vec<_>, Vec<_>) = states
            .into_iter()
            .map(|s| s.deal(commitments.clone(), &mut rng).unwrap())
            .unzip();
        for d in &dealt {
            post(
                board,
                &trustee_key(d.dealer),
                id,
                CEREMONY_SHARES,
                &d.encode(),
            )
            .unwrap();
        }
        post(
            board,
            &a,
            id,
            CEREMONY_CLOSE_ROUND,
            &CloseRound { round: 5 }.to_body(),
        )
        .unwrap();
        let trustees = states
            .into_iter()
            .map(|s| s.receive(dealt.clone()).0.answer(Vec::new()).0)
            .map(|s| s.finish(Vec::new()).unwrap())
            .collect();
        post(board, &a, id, CONTEXT_PHASE, &[2]).unwrap();
        (id, trustees)
    }

    struct Voter<'a> {
        wallet: &'a Wallet,
        snapshot: &'a Snapshot,
        sealed: Arc<Sealed>,
        id: ContextId,
    }

    impl Voter<'_> {
        /// A ballot for `choice` under the voter's tag, and its signature.
        fn ballot(
            &self,
            choice: usize,
            decision: urne_credential::Decision,
        ) -> (Ballot, urne_ballot::BallotSecrets, AnonymousSignature) {
            let mut rng = rand::rng();
            let tag = tag_for(self.wallet.secret(), &self.snapshot.id(), &self.id.0);
            let (ballot, secrets) = Ballot::encrypt(
                self.sealed.election(),
                &credential_of_tag(&tag),
                &[ContestSelection::single(3, choice).unwrap()],
                &mut rng,
            )
            .unwrap();
            let position = position_of(self.snapshot, self.wallet.secret()).unwrap();
            let signature = sign_ballot(
                &mut rng,
                self.wallet.secret(),
                self.snapshot,
                position,
                &self.id.0,
                decision,
                &TrackingCode::of(&ballot),
            )
            .unwrap();
            (
                ballot,
                secrets,
                AnonymousSignature::new(position.bucket, &signature),
            )
        }

        fn cast(&self, choice: usize) -> Vec<u8> {
            let (ballot, _, signature) = self.ballot(choice, urne_credential::Decision::Cast);
            AnonymousCast::new(ballot, signature).to_body()
        }
    }

    #[test]
    fn an_anonymous_election_through_the_board_its_replay_and_a_reopen() {
        let dir = scratch("anonymous");
        let board = open_board(&dir);
        let a = authority();
        let record = ManifestRecord {
            manifest: single(),
            eligibility: Some(Eligibility {
                min_bucket_bits: 2,
                min_real_keys: 2,
                min_snapshot: 1,
                registry: REGISTRY,
                registrars: Registrars::new(
                    2,
                    registrar_keys()
                        .iter()
                        .map(SigningKey::verifying_key)
                        .collect(),
                )
                .unwrap(),
            }),
        };
        let (id, trustees) = open_and_ceremony(&board, &record);
        let (snapshot, wallets) = registry();

        // No credential list in an anonymous election; voting waits for the snapshot.
        let list = CredentialList::new(vec![ListedCredential {
            credential: Credential::generate(&mut rand::rng()).public(),
            weight: 1,
        }])
        .unwrap();
        refused(
            &board,
            post(
                &board,
                &a,
                id,
                ELECTION_CREDENTIALS,
                &list.parts()[0].to_bytes(),
            ),
            Code::InvalidBody,
            "kind",
        );
        post(
            &board,
            &a,
            id,
            ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
        )
        .unwrap();
        refused(
            &board,
            post(&board, &a, id, CONTEXT_PHASE, &[3]),
            Code::InvalidBody,
            "body",
        );
        for part in snapshot.parts() {
            post(&board, &a, id, ELECTION_SNAPSHOT_PART, &part.to_bytes()).unwrap();
        }
        post(&board, &a, id, CONTEXT_PHASE, &[3]).unwrap();
        let sealed = sealed(&board, &id);
        let voter = |w: usize| Voter {
            wallet: &wallets[w],
            snapshot: &snapshot,
            sealed: sealed.clone(),
            id,
        };

        // Voters 0–4 vote; voter 2 revotes under the same tag; voter 5 audits.
        for (w, choice) in [(0, 0), (1, 2), (2, 1), (3, 1), (4, 2)] {
            post(
                &board,
                &fresh_key(),
                id,
                BALLOT_CAST,
                &voter(w).cast(choice),
            )
            .unwrap();
        }
        post(&board, &fresh_key(), id, BALLOT_CAST, &voter(2).cast(0)).unwrap();
        let (ballot, secrets, signature) = voter(5).ballot(1, urne_credential::Decision::Audit);
        let audit = AnonymousAudit::new(ballot.clone(), signature, secrets.audit(&ballot));
        post(&board, &fresh_key(), id, BALLOT_AUDIT, &audit.to_body()).unwrap();

        // Through the board's acceptance path, each check with its code and field.
        let (ballot, _, signature) = voter(0).ballot(1, urne_credential::Decision::Cast);
        let mut flipped = signature.clone();
        let at = flipped.bytes.len() - 2;
        flipped.bytes[at] ^= 1;
        refused(
            &board,
            post(
                &board,
                &fresh_key(),
                id,
                BALLOT_CAST,
                &AnonymousCast::new(ballot.clone(), flipped).to_body(),
            ),
            Code::InvalidBody,
            "body.signature",
        );
        let mut outside = signature.clone();
        outside.bucket = 7;
        refused(
            &board,
            post(
                &board,
                &fresh_key(),
                id,
                BALLOT_CAST,
                &AnonymousCast::new(ballot.clone(), outside).to_body(),
            ),
            Code::InvalidBody,
            "body.bucket",
        );
        let (other, _, _) = voter(1).ballot(1, urne_credential::Decision::Cast);
        refused(
            &board,
            post(
                &board,
                &fresh_key(),
                id,
                BALLOT_CAST,
                &AnonymousCast::new(other, signature.clone()).to_body(),
            ),
            Code::InvalidBody,
            "body.signature.tag",
        );
        let credential = Credential::generate(&mut rand::rng());
        let v1 = BallotSignature::sign(
            &credential,
            sealed.election().context(),
            urne_credential::Decision::Cast,
            &TrackingCode::of(&ballot).0,
            &mut rand::rng(),
        )
        .unwrap();
        refused(
            &board,
            post(
                &board,
                &fresh_key(),
                id,
                BALLOT_CAST,
                &CastBallot::new(ballot.clone(), v1).to_body(),
            ),
            Code::InvalidBody,
            "body.version",
        );
        let honest = AnonymousCast::new(ballot, signature).to_body();
        post(&board, &fresh_key(), id, BALLOT_CAST, &honest).unwrap();
        refused(
            &board,
            post(&board, &fresh_key(), id, BALLOT_CAST, &honest),
            Code::AlreadyUsed,
            "body.ballot",
        );
        let counts = board
            .with_context_state(&id, |s: &ElectionState| s.ballot_counts())
            .unwrap();
        assert_eq!(counts, (7, 1));

        // Close, tally with trustees 1 and 2: voter 0's revote (1) and voter 2's (0) count.
        post(&board, &a, id, CONTEXT_PHASE, &[4]).unwrap();
        post(&board, &a, id, CONTEXT_PHASE, &[5]).unwrap();
        let sealed = self::sealed(&board, &id);
        for j in [1u16, 2] {
            let shares = trustees[usize::from(j) - 1]
                .key()
                .decryption_shares(
                    sealed.election().context(),
                    sealed.tally_ciphertexts().unwrap(),
                    &mut rand::rng(),
                )
                .unwrap();
            post(
                &board,
                &trustee_key(j),
                id,
                TALLY_DECRYPTION_SHARES,
                &shares.encode(),
            )
            .unwrap();
        }
        let result = board
            .with_context_state(&id, |s: &ElectionState| s.decrypt_result())
            .unwrap()
            .unwrap();
        assert_eq!(result.counts[0], vec![1, 2, 2]);
        assert_eq!(result.tally.ballots, 5);
        assert_eq!(result.superseded, 2);
        post(&board, &a, id, TALLY_RESULT, &result.to_bytes()).unwrap();
        post(&board, &a, id, CONTEXT_PHASE, &[6]).unwrap();

        // The log replays to the same result; the board reopened rebuilds it.
        let size = board.store().size();
        let mut replay = Replay::new(id, ORIGIN);
        for index in 0..size {
            let record = Record::parse(board.store().entry(index).unwrap()).unwrap();
            replay.feed(index, &record).unwrap();
        }
        assert_eq!(
            replay.into_state().unwrap().result().unwrap().counts,
            result.counts
        );
        drop(board);
        let board = open_board(&dir);
        assert_eq!(phase(&board, &id), Phase::Published);
        let counts = board
            .with_context_state(&id, |s: &ElectionState| {
                (s.ballot_counts(), s.result().map(|r| r.counts.clone()))
            })
            .unwrap();
        assert_eq!(counts, ((7, 1), Some(result.counts)));
        let _ = std::fs::remove_dir_all(&dir);
    }

    // ---- Ring signatures batched per bucket in a precheck group (spec/12 §12.5) ----

    /// A board with one precheck worker, so submissions sent together are prechecked
    /// in as few groups as possible.
    fn open_board_one_worker(dir: &Path) -> Board {
        let mut config = BoardConfig::new(
            ORIGIN,
            Zeroizing::new([7; 32]),
            vec![authority().verifying_key().to_bytes()],
            vec![],
        );
        config.precheck_threads = 1;
        Board::open(dir, config, Registry::standard()).unwrap().0
    }

    fn eligibility() -> Eligibility {
        Eligibility {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            registry: REGISTRY,
            registrars: Registrars::new(
                2,
                registrar_keys()
                    .iter()
                    .map(SigningKey::verifying_key)
                    .collect(),
            )
            .unwrap(),
        }
    }

    /// An anonymous election open for voting over `registry()`'s two buckets.
    fn anonymous_voting(board: &Board) -> (ContextId, Snapshot, Vec<Wallet>) {
        let a = authority();
        let record = ManifestRecord {
            manifest: single(),
            eligibility: Some(eligibility()),
        };
        let (id, _) = open_and_ceremony(board, &record);
        let (snapshot, wallets) = registry();
        post(
            board,
            &a,
            id,
            ELECTION_SNAPSHOT,
            &snapshot.signed().to_bytes(),
        )
        .unwrap();
        for part in snapshot.parts() {
            post(board, &a, id, ELECTION_SNAPSHOT_PART, &part.to_bytes()).unwrap();
        }
        post(board, &a, id, CONTEXT_PHASE, &[3]).unwrap();
        (id, snapshot, wallets)
    }

    /// Submits every record at the same moment, one thread each; the answers in order.
    fn submit_together(board: &Board, records: Vec<Vec<u8>>) -> Vec<Result<u64, Rejection>> {
        let start = std::sync::Barrier::new(records.len());
        std::thread::scope(|scope| {
            let submitters: Vec<_> = records
                .into_iter()
                .map(|bytes| {
                    let start = &start;
                    scope.spawn(move || {
                        start.wait();
                        board.submit(bytes).map(|r| r.index)
                    })
                })
                .collect();
            submitters.into_iter().map(|s| s.join().unwrap()).collect()
        })
    }

    fn enveloped(id: ContextId, kind: Kind, body: &[u8]) -> Vec<u8> {
        Record::sign(id, kind, body, &fresh_key())
            .unwrap()
            .into_bytes()
    }

    /// Voter `w`'s ballot for `choice` carrying the signature of another ballot of
    /// theirs: it decodes, its tag is the ballot's credential, its bucket exists, and
    /// only the ring verification can refuse it.
    fn signature_of_another_ballot(voter: &Voter<'_>, choice: usize) -> Vec<u8> {
        let (ballot, _, _) = voter.ballot(choice, urne_credential::Decision::Cast);
        let (_, _, other) = voter.ballot(choice, urne_credential::Decision::Cast);
        AnonymousCast::new(ballot, other).to_body()
    }

    #[test]
    fn anonymous_casts_sent_together_over_two_buckets_are_accepted() {
        let dir = scratch("ring-batch-honest");
        let board = open_board_one_worker(&dir);
        let (id, snapshot, wallets) = anonymous_voting(&board);
        let sealed = sealed(&board, &id);
        let buckets: std::collections::BTreeSet<u32> = wallets
            .iter()
            .map(|w| position_of(&snapshot, w.secret()).unwrap().bucket)
            .collect();
        assert_eq!(buckets.len(), 2, "the voters span both buckets");
        let records = wallets
            .iter()
            .enumerate()
            .map(|(w, wallet)| {
                let voter = Voter {
                    wallet,
                    snapshot: &snapshot,
                    sealed: sealed.clone(),
                    id,
                };
                enveloped(id, BALLOT_CAST, &voter.cast(w % 3))
            })
            .collect();
        for (w, answer) in submit_together(&board, records).into_iter().enumerate() {
            assert!(answer.is_ok(), "voter {w}: {answer:?}");
        }
        let counts = board
            .with_context_state(&id, |s: &ElectionState| s.ballot_counts())
            .unwrap();
        assert_eq!(counts, (6, 0));
        drop(board);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn one_bad_ring_signature_among_good_ones_of_its_bucket_is_refused_alone() {
        let dir = scratch("ring-batch-bad");
        let board = open_board_one_worker(&dir);
        let (id, snapshot, wallets) = anonymous_voting(&board);
        let sealed = sealed(&board, &id);
        let voter = |w: usize| Voter {
            wallet: &wallets[w],
            snapshot: &snapshot,
            sealed: sealed.clone(),
            id,
        };
        let bucket = |w: usize| position_of(&snapshot, wallets[w].secret()).unwrap().bucket;
        let same_bucket: Vec<usize> = (0..wallets.len())
            .filter(|w| bucket(*w) == bucket(0))
            .collect();
        assert!(same_bucket.len() >= 2, "{same_bucket:?}");
        // Every voter's good ballot, and voter 0's bad one in the middle: its bucket's
        // batch fails and names it.
        let mut records: Vec<Vec<u8>> = (0..wallets.len())
            .map(|w| enveloped(id, BALLOT_CAST, &voter(w).cast(1)))
            .collect();
        let bad_at = 3;
        records.insert(
            bad_at,
            enveloped(id, BALLOT_CAST, &signature_of_another_ballot(&voter(0), 2)),
        );
        let size = board.store().size();
        let answers = submit_together(&board, records);
        for (at, answer) in answers.iter().enumerate() {
            if at == bad_at {
                let rejection = answer.as_ref().expect_err("the bad signature was accepted");
                assert_eq!(rejection.code, Code::InvalidBody, "{rejection:?}");
                assert_eq!(
                    rejection.field.as_deref(),
                    Some("body.signature"),
                    "{rejection:?}"
                );
                assert!(
                    rejection.message.contains("does not verify"),
                    "{rejection:?}"
                );
            } else {
                assert!(answer.is_ok(), "record {at}: {answer:?}");
            }
        }
        assert_eq!(board.store().size(), size + wallets.len() as u64);
        drop(board);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_group_mixing_pseudonymous_and_anonymous_elections_judges_each_by_its_own_rules() {
        let dir = scratch("ring-batch-mixed");
        let board = open_board_one_worker(&dir);
        let a = authority();
        // A pseudonymous election open for voting beside the anonymous one.
        let run = setup_and_ceremony(&board);
        let list = CredentialList::new(
            run.voters
                .iter()
                .map(|c| ListedCredential {
                    credential: c.public(),
                    weight: 1,
                })
                .collect(),
        )
        .unwrap();
        for part in list.parts() {
            post(&board, &a, run.id, ELECTION_CREDENTIALS, &part.to_bytes()).unwrap();
        }
        post(&board, &a, run.id, CONTEXT_PHASE, &[3]).unwrap();
        let pseudonymous = sealed(&board, &run.id);
        let (id, snapshot, wallets) = anonymous_voting(&board);
        let anonymous = sealed(&board, &id);
        let voter = |w: usize| Voter {
            wallet: &wallets[w],
            snapshot: &snapshot,
            sealed: anonymous.clone(),
            id,
        };

        let mut records = Vec::new();
        let mut expected: Vec<Option<&str>> = Vec::new();
        for w in 0..wallets.len() {
            records.push(enveloped(id, BALLOT_CAST, &voter(w).cast(0)));
            expected.push(None);
            let credential = &run.voters[w];
            let (body, _) = cast_body(&pseudonymous, credential, &vote(w % 3, &[0]));
            records.push(enveloped(run.id, BALLOT_CAST, &body));
            expected.push(None);
        }
        // A bad ring signature, a version-2 ballot in the pseudonymous election, and a
        // pseudonymous ballot whose credential signature is another ballot's.
        records.push(enveloped(
            id,
            BALLOT_CAST,
            &signature_of_another_ballot(&voter(5), 1),
        ));
        expected.push(Some("body.signature"));
        records.push(enveloped(run.id, BALLOT_CAST, &voter(4).cast(2)));
        expected.push(Some("body.version"));
        let (_, ballot) = cast_body(&pseudonymous, &run.voters[0], &vote(1, &[]));
        let (other, _) = cast_body(&pseudonymous, &run.voters[0], &vote(1, &[]));
        let signature = CastBallot::decode(&other).unwrap().signature;
        records.push(enveloped(
            run.id,
            BALLOT_CAST,
            &CastBallot::new(ballot, signature).to_body(),
        ));
        expected.push(Some("body.signature"));

        for (at, (answer, field)) in submit_together(&board, records)
            .into_iter()
            .zip(&expected)
            .enumerate()
        {
            match field {
                None => assert!(answer.is_ok(), "record {at}: {answer:?}"),
                Some(field) => {
                    let rejection = answer.expect_err("a bad record was accepted");
                    assert_eq!(
                        rejection.field.as_deref(),
                        Some(*field),
                        "record {at}: {rejection:?}"
                    );
                }
            }
        }
        let counts = |id: &ContextId| {
            board
                .with_context_state(id, |s: &ElectionState| s.ballot_counts())
                .unwrap()
        };
        assert_eq!(counts(&id), (6, 0));
        assert_eq!(counts(&run.id), (6, 0));
        drop(board);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
