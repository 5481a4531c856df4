//! The election's pure fold on its own (spec/23), records fed through `Replay` as a
//! verifier would: each refusal names its record, kind and field, and changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Manifest, TrackingCode,
};
use urne_ceremony::{
    AwaitingShares, CeremonyContext, CeremonyOpen, Complaint, ComplaintReason, EncryptedShares,
    QualifiedTrustee, TrusteeSetup,
};
use urne_credential::{BallotSignature, Credential, CredentialList, Decision, ListedCredential};
use urne_election::kinds::*;
use urne_election::{
    CastBallot, CloseRound, ElectionError, ElectionState, Fault, MAX_AUDITS_PER_CREDENTIAL,
    ManifestRecord, Phase, Replay, round,
};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextType, Kind, Record};

const ORIGIN: &str = "fold.example/board";

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

/// A log of one election, fed to a replay as it grows.
struct Log {
    id: ContextId,
    replay: Replay,
    records: Vec<Record>,
    manifest: Manifest,
}

impl Log {
    fn open(manifest: &Manifest) -> Self {
        let open = ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [5; 16],
            name: "Assemblée".into(),
            parameters: ManifestRecord {
                manifest: manifest.clone(),
                eligibility: None,
            }
            .parameters_hash(),
        }
        .to_body()
        .unwrap();
        let id = ContextId::derive(authority().verifying_key().as_bytes(), &open);
        let mut log = Self {
            id,
            replay: Replay::new(id, ORIGIN),
            records: Vec::new(),
            manifest: manifest.clone(),
        };
        log.post(&authority(), CONTEXT_OPEN, &open).unwrap();
        log
    }

    fn post(&mut self, key: &SigningKey, kind: Kind, body: &[u8]) -> Result<(), Fault> {
        let record = Record::sign(self.id, kind, body, key).unwrap();
        self.replay.feed(self.records.len() as u64, &record)?;
        self.records.push(record);
        Ok(())
    }

    fn state(&self) -> &ElectionState {
        self.replay.state().unwrap()
    }

    /// Posts a record that must be refused, and checks the replay's state did not move.
    #[track_caller]
    fn refused(&mut self, key: &SigningKey, kind: Kind, body: &[u8]) -> ElectionError {
        let before = (
            self.state().phase(),
            self.state().ceremony().round(),
            self.state().ballot_counts(),
        );
        let fault = self.post(key, kind, body).expect_err("should be refused");
        assert_eq!(fault.index, self.records.len() as u64);
        let after = (
            self.state().phase(),
            self.state().ceremony().round(),
            self.state().ballot_counts(),
        );
        assert_eq!(before, after);
        fault.error
    }
}

fn manifest() -> Manifest {
    Manifest::new(
        "Assemblée générale",
        vec![
            Contest {
                title: "Présidence".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Inès".into(), "Jules".into()],
            },
            Contest {
                title: "Budget".into(),
                kind: ContestKind::Approval { min: 0, max: 1 },
                blank: true,
                options: vec!["Oui".into(), "Non".into()],
            },
        ],
    )
    .unwrap()
}

/// Setup and a 2-of-3 ceremony up to the complaint round: every dealer has posted its
/// shares. Returns the trustees' states and the shares on the board.
fn up_to_complaints(log: &mut Log) -> (Vec<AwaitingShares>, Vec<EncryptedShares>) {
    let mut rng = rand::rng();
    let a = authority();
    let manifest = log.manifest.clone();
    log.post(
        &a,
        ELECTION_MANIFEST,
        &ManifestRecord {
            manifest,
            eligibility: None,
        }
        .to_body(),
    )
    .unwrap();
    log.post(&a, CONTEXT_PHASE, &[1]).unwrap();
    let open = CeremonyOpen::new(
        2,
        (1..=3)
            .map(|j| trustee_key(j).verifying_key().to_bytes())
            .collect(),
    )
    .unwrap();
    log.post(&a, CEREMONY_OPEN, &open.encode()).unwrap();
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=3).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    for r in &registrations {
        log.post(&trustee_key(r.trustee), CEREMONY_REGISTER, &r.encode())
            .unwrap();
    }
    let context = CeremonyContext::new(log.id.0, open, &registrations).unwrap();
    let mut states = Vec::new();
    let mut hashes = Vec::new();
    for s in setups {
        let (s, h) = s.begin(context.clone(), &mut rng).unwrap();
        states.push(s);
        hashes.push(h);
    }
    for h in &hashes {
        log.post(
            &trustee_key(h.dealer),
            CEREMONY_COMMITMENT_HASH,
            &h.encode(),
        )
        .unwrap();
    }
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    for c in &commitments {
        log.post(&trustee_key(c.dealer), CEREMONY_COMMITMENTS, &c.encode())
            .unwrap();
    }
    let mut dealt = Vec::new();
    let mut next = Vec::new();
    for s in states {
        let (s, d) = s.deal(commitments.clone(), &mut rng).unwrap();
        dealt.push(d);
        next.push(s);
    }
    for d in &dealt {
        log.post(&trustee_key(d.dealer), CEREMONY_SHARES, &d.encode())
            .unwrap();
    }
    assert_eq!(log.state().ceremony().round(), round::COMPLAIN);
    (next, dealt)
}

/// Setup and a clean 2-of-3 ceremony; returns the trustees' keys.
fn through_ceremony(log: &mut Log) -> Vec<QualifiedTrustee> {
    let a = authority();
    let (next, dealt) = up_to_complaints(log);
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 5 }.to_body())
        .unwrap();
    assert_eq!(log.state().ceremony().round(), round::DONE);
    let trustees: Vec<QualifiedTrustee> = next
        .into_iter()
        .map(|s| s.receive(dealt.clone()).0.answer(Vec::new()).0)
        .map(|s| s.finish(Vec::new()).unwrap())
        .collect();
    log.post(&a, CONTEXT_PHASE, &[2]).unwrap();
    trustees
}

fn register(log: &mut Log, voters: &[Credential]) {
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
        log.post(&authority(), ELECTION_CREDENTIALS, &part.to_bytes())
            .unwrap();
    }
    log.post(&authority(), CONTEXT_PHASE, &[3]).unwrap();
}

fn cast(log: &Log, voter: &Credential, selections: &[ContestSelection]) -> Vec<u8> {
    let mut rng = rand::rng();
    let sealed = log.state().sealed().unwrap().clone();
    let key = CredentialKey(voter.public().to_bytes());
    let (ballot, _) = Ballot::encrypt(sealed.election(), &key, selections, &mut rng).unwrap();
    let signature = BallotSignature::sign(
        voter,
        sealed.election().context(),
        Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rng,
    )
    .unwrap();
    CastBallot::new(ballot, signature).to_body()
}

/// Closes voting, moves to tallying and posts the decryption shares of `which`; returns
/// the result they open, not yet posted.
fn decrypt(log: &mut Log, trustees: &[QualifiedTrustee], which: &[u16]) -> urne_tally::TallyResult {
    let mut rng = rand::rng();
    log.post(&authority(), CONTEXT_PHASE, &[4]).unwrap();
    log.post(&authority(), CONTEXT_PHASE, &[5]).unwrap();
    let sealed = log.state().sealed().unwrap().clone();
    for &j in which {
        let shares = trustees[usize::from(j) - 1]
            .key()
            .decryption_shares(
                sealed.election().context(),
                sealed.tally_ciphertexts().unwrap(),
                &mut rng,
            )
            .unwrap();
        log.post(&trustee_key(j), TALLY_DECRYPTION_SHARES, &shares.encode())
            .unwrap();
    }
    log.state().decrypt_result().unwrap()
}

fn tally(log: &mut Log, trustees: &[QualifiedTrustee], which: &[u16]) {
    let result = decrypt(log, trustees, which);
    log.post(&authority(), TALLY_RESULT, &result.to_bytes())
        .unwrap();
    log.post(&authority(), CONTEXT_PHASE, &[6]).unwrap();
}

#[test]
fn an_election_with_no_ballots_tallies_every_contest_to_zero() {
    let mut log = Log::open(&manifest());
    let trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..3)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    tally(&mut log, &trustees, &[2, 3]);
    let result = log.state().result().unwrap();
    assert_eq!(result.counts, vec![vec![0, 0], vec![0, 0, 0]]);
    assert_eq!(result.tally.ballots, 0);
    assert_eq!(result.trustees, vec![2, 3]);
    assert_eq!(log.state().phase(), Phase::Published);
}

#[test]
fn a_contest_nobody_chose_in_tallies_to_zero_beside_the_others() {
    let mut log = Log::open(&manifest());
    let trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..3)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    for v in &voters {
        // Everyone votes for Inès and casts a blank vote on the budget.
        let body = cast(
            &log,
            v,
            &[
                ContestSelection::single(2, 0).unwrap(),
                ContestSelection::blank(2),
            ],
        );
        log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    }
    tally(&mut log, &trustees, &[1, 3]);
    assert_eq!(
        log.state().result().unwrap().counts,
        vec![vec![3, 0], vec![0, 0, 3]]
    );
}

#[test]
fn ceremony_records_from_the_wrong_trustee_or_round_are_refused() {
    let mut rng = rand::rng();
    let mut log = Log::open(&manifest());
    let a = authority();
    log.post(
        &a,
        ELECTION_MANIFEST,
        &ManifestRecord {
            manifest: manifest(),
            eligibility: None,
        }
        .to_body(),
    )
    .unwrap();
    // A ceremony record before the ceremony phase.
    let open = CeremonyOpen::new(
        2,
        (1..=3)
            .map(|j| trustee_key(j).verifying_key().to_bytes())
            .collect(),
    )
    .unwrap();
    let e = log.refused(&a, CEREMONY_OPEN, &open.encode());
    assert!(
        matches!(
            e,
            ElectionError::WrongPhase {
                kind: "ceremony.open",
                ..
            }
        ),
        "{e}"
    );
    log.post(&a, CONTEXT_PHASE, &[1]).unwrap();
    log.post(&a, CEREMONY_OPEN, &open.encode()).unwrap();
    let (setups, regs): (Vec<_>, Vec<_>) = (1..=3).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    // Registered under another trustee's key.
    let e = log.refused(&trustee_key(2), CEREMONY_REGISTER, &regs[0].encode());
    assert!(
        matches!(
            e,
            ElectionError::NotAuthorized {
                kind: "ceremony.register",
                ..
            }
        ),
        "{e}"
    );
    // The authority cannot close the registration round.
    let e = log.refused(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 1 }.to_body());
    assert!(matches!(e, ElectionError::WrongPhase { .. }), "{e}");
    log.post(&trustee_key(1), CEREMONY_REGISTER, &regs[0].encode())
        .unwrap();
    // Twice.
    let e = log.refused(&trustee_key(1), CEREMONY_REGISTER, &regs[0].encode());
    assert_eq!(e.field(), "body.trustee");
    log.post(&trustee_key(2), CEREMONY_REGISTER, &regs[1].encode())
        .unwrap();
    // Trustee 3 never registers: the authority opens again with trustees 1 and 2.
    let open2 = CeremonyOpen::new(
        2,
        (1..=2)
            .map(|j| trustee_key(j).verifying_key().to_bytes())
            .collect(),
    )
    .unwrap();
    log.post(&a, CEREMONY_OPEN, &open2.encode()).unwrap();
    assert_eq!(log.state().ceremony().round(), round::REGISTER);
    let mut setups = setups.into_iter();
    let regs: Vec<_> = (1..=2).map(|j| TrusteeSetup::new(j, &mut rng)).collect();
    drop(setups.next());
    for (_, r) in &regs {
        log.post(&trustee_key(r.trustee), CEREMONY_REGISTER, &r.encode())
            .unwrap();
    }
    assert_eq!(log.state().ceremony().round(), round::COMMIT);
    let registrations: Vec<_> = regs.iter().map(|(_, r)| *r).collect();
    let context = CeremonyContext::new(log.id.0, open2, &registrations).unwrap();
    let (s1, h1) = regs
        .into_iter()
        .next()
        .unwrap()
        .0
        .begin(context, &mut rng)
        .unwrap();
    // A trustee the ceremony no longer has.
    let mut h3 = h1;
    h3.dealer = 3;
    let e = log.refused(&trustee_key(3), CEREMONY_COMMITMENT_HASH, &h3.encode());
    assert_eq!(e.field(), "body.trustee");
    log.post(&trustee_key(1), CEREMONY_COMMITMENT_HASH, &h1.encode())
        .unwrap();
    // Dealer 2 is absent: the authority closes round 2; dealer 2 may not reveal later.
    let e = log.refused(
        &trustee_key(1),
        CEREMONY_CLOSE_ROUND,
        &CloseRound { round: 2 }.to_body(),
    );
    assert!(matches!(e, ElectionError::NotAuthorized { .. }), "{e}");
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 2 }.to_body())
        .unwrap();
    let (_, c1) = s1.reveal(vec![h1]);
    let mut c2 = c1.clone();
    c2.dealer = 2;
    let e = log.refused(&trustee_key(2), CEREMONY_COMMITMENTS, &c2.encode());
    assert_eq!(e.field(), "body.dealer");
    log.post(&trustee_key(1), CEREMONY_COMMITMENTS, &c1.encode())
        .unwrap();
    // Only one dealer is left of t = 2: the ceremony finishes without a key, and the
    // election cannot move to registration.
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 4 }.to_body())
        .unwrap();
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 5 }.to_body())
        .unwrap();
    assert!(matches!(log.state().ceremony().outcome(), Some(Err(_))));
    let e = log.refused(&a, CONTEXT_PHASE, &[2]);
    assert_eq!(e.field(), "body");
}

#[test]
fn replay_names_the_first_bad_record_of_a_log() {
    let mut log = Log::open(&manifest());
    let _trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..2)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    let body = cast(
        &log,
        &voters[0],
        &[
            ContestSelection::single(2, 1).unwrap(),
            ContestSelection::approve(2, &[0]).unwrap(),
        ],
    );
    log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    // The same log with that ballot's signature altered (the envelope re-signed, as a
    // board that let it through would have stored it).
    let mut altered = body.clone();
    let last = altered.len() - 1;
    altered[last - 3] ^= 1;
    let bad = Record::sign(log.id, BALLOT_CAST, &altered, &fresh_key()).unwrap();
    let at = log.records.len() - 1;
    let mut replay = Replay::new(log.id, ORIGIN);
    let mut fault = None;
    for (i, record) in log.records.iter().enumerate() {
        let record = if i == at { &bad } else { record };
        if let Err(f) = replay.feed(i as u64, record) {
            fault = Some(f);
            break;
        }
    }
    let fault = fault.expect("the altered ballot is refused");
    assert_eq!(fault.index, at as u64);
    assert_eq!(fault.error.kind(), "ballot.cast");
    assert!(fault.error.field().starts_with("body.signature"), "{fault}");
    // The untouched log replays whole.
    let mut replay = Replay::new(log.id, ORIGIN);
    for (i, record) in log.records.iter().enumerate() {
        replay.feed(i as u64, record).unwrap();
    }
    assert_eq!(replay.state().unwrap().ballot_counts(), (1, 0));
}

#[test]
fn a_result_or_share_that_does_not_match_the_board_is_refused_field_by_field() {
    let mut rng = rand::rng();
    let mut log = Log::open(&manifest());
    let trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..3)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    for (i, v) in voters.iter().enumerate() {
        let body = cast(
            &log,
            v,
            &[
                ContestSelection::single(2, i % 2).unwrap(),
                ContestSelection::approve(2, &[1]).unwrap(),
            ],
        );
        log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    }
    // Voter 0 votes again: one superseded ballot.
    let body = cast(
        &log,
        &voters[0],
        &[
            ContestSelection::single(2, 1).unwrap(),
            ContestSelection::blank(2),
        ],
    );
    log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    log.post(&authority(), CONTEXT_PHASE, &[4]).unwrap();
    let sealed_before = log.state().sealed().unwrap().clone();
    let early = trustees[0]
        .key()
        .decryption_shares(
            sealed_before.election().context(),
            &[urne_crypto::Ciphertext::zero()],
            &mut rng,
        )
        .unwrap();
    let e = log.refused(&trustee_key(1), TALLY_DECRYPTION_SHARES, &early.encode());
    assert!(matches!(e, ElectionError::WrongPhase { .. }), "{e}");
    log.post(&authority(), CONTEXT_PHASE, &[5]).unwrap();
    let sealed = log.state().sealed().unwrap().clone();
    let shares = |j: u16, rng: &mut rand::rngs::ThreadRng| {
        trustees[usize::from(j) - 1]
            .key()
            .decryption_shares(
                sealed.election().context(),
                sealed.tally_ciphertexts().unwrap(),
                rng,
            )
            .unwrap()
    };
    // Shares for another list (one ciphertext too few).
    let mut short = shares(2, &mut rng);
    short.shares.pop();
    assert_eq!(
        log.refused(&trustee_key(2), TALLY_DECRYPTION_SHARES, &short.encode())
            .field(),
        "body"
    );
    for j in [2, 3] {
        log.post(
            &trustee_key(j),
            TALLY_DECRYPTION_SHARES,
            &shares(j, &mut rng).encode(),
        )
        .unwrap();
    }
    // A second set from one trustee.
    let e = log.refused(
        &trustee_key(2),
        TALLY_DECRYPTION_SHARES,
        &shares(2, &mut rng).encode(),
    );
    assert_eq!(e.field(), "body.trustee");
    assert!(matches!(e, ElectionError::AlreadyUsed { .. }), "{e}");

    let result = log.state().decrypt_result().unwrap();
    assert_eq!(result.counts, vec![vec![1, 2], vec![0, 2, 1]]);
    assert_eq!((result.tally.ballots, result.superseded), (3, 1));
    let a = authority();
    let mut tampered: Vec<(urne_tally::TallyResult, &str)> = Vec::new();
    let mut r = result.clone();
    r.tally.context = urne_crypto::ContextHash([1; 32]);
    tampered.push((r, "body.context"));
    let mut r = result.clone();
    r.tally.ballots += 1;
    tampered.push((r, "body.ballots"));
    let mut r = result.clone();
    r.superseded = 0;
    tampered.push((r, "body.superseded"));
    let mut r = result.clone();
    r.tally.weight += 1;
    tampered.push((r, "body.weight"));
    let mut r = result.clone();
    r.tally.contests[1].swap(0, 1);
    tampered.push((r, "body.contests[1].entries[0].sum"));
    let mut r = result.clone();
    r.trustees = vec![2];
    tampered.push((r, "body.trustees"));
    let mut r = result.clone();
    r.trustees = vec![1, 2];
    tampered.push((r, "body.trustees"));
    let mut r = result.clone();
    r.counts[0][1] = 4;
    tampered.push((r, "body.contests[0].entries[1].count"));
    let mut r = result.clone();
    r.counts[1].swap(1, 2);
    tampered.push((r, "body.contests[1].entries[1].count"));
    for (r, field) in tampered {
        let e = log.refused(&a, TALLY_RESULT, &r.to_bytes());
        assert_eq!(e.field(), field, "{e}");
        assert_eq!(e.kind(), "tally.result");
    }
    // Only the authority posts the result.
    let e = log.refused(&trustee_key(1), TALLY_RESULT, &result.to_bytes());
    assert!(matches!(e, ElectionError::NotAuthorized { .. }), "{e}");
    log.post(&a, TALLY_RESULT, &result.to_bytes()).unwrap();
    let e = log.refused(&a, TALLY_RESULT, &result.to_bytes());
    assert_eq!(e.field(), "body");
    log.post(&a, CONTEXT_PHASE, &[6]).unwrap();
}

#[test]
fn audits_of_another_election_an_unlisted_or_unsigning_credential_past_its_quota_twice_or_after_close_are_refused()
 {
    use urne_election::AuditRecord;
    let mut rng = rand::rng();
    let mut log = Log::open(&manifest());
    let _trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..3)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    let sealed = log.state().sealed().unwrap().clone();
    let selections = [
        ContestSelection::single(2, 0).unwrap(),
        ContestSelection::approve(2, &[1]).unwrap(),
    ];
    let audit_of = |credential: &Credential, rng: &mut rand::rngs::ThreadRng| {
        let key = CredentialKey(credential.public().to_bytes());
        let (ballot, secrets) = Ballot::encrypt(sealed.election(), &key, &selections, rng).unwrap();
        let opening = secrets.audit(&ballot);
        let signature = BallotSignature::sign(
            credential,
            sealed.election().context(),
            Decision::Audit,
            &TrackingCode::of(&ballot).0,
            rng,
        )
        .unwrap();
        AuditRecord::new(ballot, signature, opening)
    };
    // Another election's ballot (its context hash changed, the opening re-pointed).
    let mut foreign = audit_of(&voters[0], &mut rng);
    foreign.ballot.context = urne_crypto::ContextHash([3; 32]);
    let foreign = AuditRecord::new(foreign.ballot.clone(), foreign.signature.clone(), {
        let mut o = foreign.opening.clone();
        o.tracking_code = TrackingCode::of(&foreign.ballot);
        o
    });
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &foreign.to_body());
    assert_eq!(e.field(), "body.ballot.context", "{e}");
    // An unlisted credential.
    let stranger = Credential::generate(&mut rng);
    let e = log.refused(
        &fresh_key(),
        BALLOT_AUDIT,
        &audit_of(&stranger, &mut rng).to_body(),
    );
    assert_eq!(e.field(), "body.ballot.credential", "{e}");
    // An opening of another ballot.
    let mut swapped = audit_of(&voters[0], &mut rng);
    swapped.opening = audit_of(&voters[0], &mut rng).opening;
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &swapped.to_body());
    assert_eq!(e.field(), "body.opening", "{e}");
    // Signed by another listed credential, or a signature copied from another audit:
    // only the credential's holder may spend its audits.
    let mut forged = audit_of(&voters[0], &mut rng);
    forged.signature = audit_of(&voters[2], &mut rng).signature;
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &forged.to_body());
    assert_eq!(e.field(), "body.signature", "{e}");
    let mut copied = audit_of(&voters[0], &mut rng);
    copied.signature = audit_of(&voters[0], &mut rng).signature;
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &copied.to_body());
    assert_eq!(e.field(), "body.signature", "{e}");
    // The cast's signature of the same ballot is no audit's; and the audit's is no
    // cast's: whoever relays an audit cannot post its ballot as a cast (spec/22 §22.4).
    let mut cast_signed = audit_of(&voters[1], &mut rng);
    cast_signed.signature = BallotSignature::sign(
        &voters[1],
        sealed.election().context(),
        Decision::Cast,
        &cast_signed.tracking_code().0,
        &mut rng,
    )
    .unwrap();
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &cast_signed.to_body());
    assert_eq!(e.field(), "body.signature", "{e}");
    let relayed = audit_of(&voters[1], &mut rng);
    let as_cast = urne_election::CastBallot::new(relayed.ballot, relayed.signature).to_body();
    let e = log.refused(&fresh_key(), BALLOT_CAST, &as_cast);
    assert_eq!(e.field(), "body.signature", "{e}");
    // At most MAX_AUDITS_PER_CREDENTIAL audits a credential.
    for _ in 0..MAX_AUDITS_PER_CREDENTIAL {
        log.post(
            &fresh_key(),
            BALLOT_AUDIT,
            &audit_of(&voters[2], &mut rng).to_body(),
        )
        .unwrap();
    }
    let e = log.refused(
        &fresh_key(),
        BALLOT_AUDIT,
        &audit_of(&voters[2], &mut rng).to_body(),
    );
    assert!(
        matches!(&e, ElectionError::AlreadyUsed { field, .. } if field == "body.ballot.credential"),
        "{e}"
    );
    let audited = u64::from(MAX_AUDITS_PER_CREDENTIAL);
    // Once, not twice (another envelope, the same spoiled ballot).
    let audit = audit_of(&voters[1], &mut rng);
    log.post(&fresh_key(), BALLOT_AUDIT, &audit.to_body())
        .unwrap();
    let e = log.refused(&fresh_key(), BALLOT_AUDIT, &audit.to_body());
    assert!(matches!(e, ElectionError::AlreadyUsed { .. }), "{e}");
    assert_eq!(log.state().ballot_counts(), (0, audited + 1));
    // Not after close.
    log.post(&authority(), CONTEXT_PHASE, &[4]).unwrap();
    let e = log.refused(
        &fresh_key(),
        BALLOT_AUDIT,
        &audit_of(&voters[0], &mut rng).to_body(),
    );
    assert!(
        matches!(
            e,
            ElectionError::WrongPhase {
                kind: "ballot.audit",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn a_cast_prechecked_against_another_credential_list_is_checked_against_its_own() {
    // The ordered check skips the credential search that precheck made only when
    // precheck read the very list the election holds now; a ballot prechecked in another
    // election (on whose list its credential is) must still be refused here.
    let voter = Credential::generate(&mut rand::rng());
    let mut own = Log::open(&manifest());
    through_ceremony(&mut own);
    register(&mut own, &[Credential::generate(&mut rand::rng())]);
    let mut other = Log::open(&manifest());
    through_ceremony(&mut other);
    register(&mut other, std::slice::from_ref(&voter));
    let selections = [
        ContestSelection::single(2, 1).unwrap(),
        ContestSelection::blank(2),
    ];
    let signer = [7; 32];
    let decoded = |log: &Log, voter: &Credential| {
        urne_election::Decoded::Cast(Box::new(
            CastBallot::decode(&cast(log, voter, &selections)).unwrap(),
        ))
    };
    let other_sealed = other.state().sealed().unwrap().clone();
    let (prechecked, relations) =
        ElectionState::precheck_record(Some(other_sealed), &signer, decoded(&other, &voter))
            .unwrap();
    assert!(relations.unwrap().check().is_ok());
    let e = own
        .state()
        .check_prechecked(&signer, &prechecked)
        .unwrap_err();
    assert_eq!(e.field(), "body.ballot.credential", "{e}");
    // Its own election's ordered check, prechecked there, takes it.
    let keys = other
        .state()
        .check_prechecked(&signer, &prechecked)
        .unwrap();
    assert_eq!(keys.len(), 1);
    // A ballot of the own election from an unlisted voter fails its precheck: no
    // PrecheckedRecord exists to hand to check_prechecked, and check refuses it too.
    let unlisted = decoded(&own, &voter);
    let own_sealed = own.state().sealed().unwrap().clone();
    let e =
        ElectionState::precheck_record(Some(own_sealed), &signer, unlisted.clone()).unwrap_err();
    assert_eq!(e.field(), "body.ballot.credential", "{e}");
    assert!(own.state().check(&signer, &unlisted).is_err());
}

#[test]
fn a_ballot_applied_unchecked_with_another_count_of_entries_is_refused() {
    let mut log = Log::open(&manifest());
    through_ceremony(&mut log);
    let voter = Credential::generate(&mut rand::rng());
    register(&mut log, std::slice::from_ref(&voter));
    let sealed = log.state().sealed().unwrap().clone();
    // The same election with a third candidate: one ciphertext more than its manifest.
    let mut contests = manifest().contests().to_vec();
    contests[0].options.push("Zoé".into());
    let wider = Manifest::new("Assemblée générale", contests).unwrap();
    let root = sealed.credentials().root().0;
    let election = urne_ballot::Election::new(urne_ballot::ContextInputs {
        manifest: &wider,
        joint_key: &sealed.outcome().joint_key,
        credential_root: &root,
        board_origin: ORIGIN,
        context_id: &log.id.0,
    })
    .unwrap();
    let mut rng = rand::rng();
    let key = CredentialKey(voter.public().to_bytes());
    let selections = [
        ContestSelection::approve(3, &[0]).unwrap(),
        ContestSelection::blank(2),
    ];
    let (ballot, _) = Ballot::encrypt(&election, &key, &selections, &mut rng).unwrap();
    let signature = BallotSignature::sign(
        &voter,
        election.context(),
        Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rng,
    )
    .unwrap();
    let body = CastBallot::new(ballot, signature).to_body();
    let mut state = log.replay.into_state().unwrap();
    let err = state.apply(BALLOT_CAST, &body, 99).unwrap_err();
    assert!(
        matches!(&err, ElectionError::Invalid { field, .. } if field == "body.ballot"),
        "{err}"
    );
    assert_eq!(state.ballot_counts().0, 0);
}

#[test]
fn a_tally_that_cannot_be_summed_is_reported_under_the_record_that_asked() {
    let mut log = Log::open(&manifest());
    through_ceremony(&mut log);
    let voter = Credential::generate(&mut rand::rng());
    register(&mut log, std::slice::from_ref(&voter));
    let selections = [
        ContestSelection::single(2, 0).unwrap(),
        ContestSelection::approve(2, &[1]).unwrap(),
    ];
    let mut body = cast(&log, &voter, &selections);
    // The first ciphertext's α made a non-canonical encoding: the layout still reads, the
    // point does not decode. Applied unchecked, as a log replayed without its checks.
    let alpha = 5 + 1 + 32 + 32 + 2 + 2;
    body[alpha..alpha + 32].fill(0xff);
    let mut state = log.replay.into_state().unwrap();
    state.apply(BALLOT_CAST, &body, 99).unwrap();
    state.apply_phase(Phase::Closed).unwrap();
    state.apply_phase(Phase::Tallying).unwrap();
    for _ in 0..2 {
        let err = state.decrypt_result().unwrap_err();
        assert!(
            matches!(&err, ElectionError::Invalid { kind: "tally.result", detail, .. }
                if detail.contains("encrypted tally")),
            "{err}"
        );
    }
    assert!(state.sealed().unwrap().tally().is_none());
}

#[test]
fn complaints_and_answers_out_of_turn_twice_or_about_nobody_are_refused() {
    let mut log = Log::open(&manifest());
    let a = authority();
    let (states, dealt) = up_to_complaints(&mut log);
    // An answer before any complaint round has closed: wrong round.
    let (_, false_accusation_answers) = states
        .into_iter()
        .next()
        .unwrap()
        .receive(dealt.clone())
        .0
        .answer(
            [2, 3]
                .map(|complainer| Complaint {
                    complainer,
                    dealer: 1,
                    reason: ComplaintReason::ShareMismatch,
                })
                .to_vec(),
        );
    let answer = false_accusation_answers[0];
    let answer_to_3 = false_accusation_answers[1];
    assert_eq!((answer.recipient, answer_to_3.recipient), (2, 3));
    let e = log.refused(&trustee_key(1), CEREMONY_ANSWER, &answer.encode());
    assert!(
        matches!(
            e,
            ElectionError::WrongPhase {
                kind: "ceremony.answer",
                ..
            }
        ),
        "{e}"
    );
    // A complaint about oneself does not even decode.
    let mut about_self = Complaint {
        complainer: 2,
        dealer: 1,
        reason: ComplaintReason::Undecryptable,
    }
    .encode();
    about_self[3..5].copy_from_slice(&2u16.to_be_bytes());
    let e = log.refused(&trustee_key(2), CEREMONY_COMPLAINT, &about_self);
    assert_eq!(e.field(), "body.dealer", "{e}");
    // About a trustee the ceremony does not have, so who posted no shares.
    let e = log.refused(
        &trustee_key(2),
        CEREMONY_COMPLAINT,
        &Complaint {
            complainer: 2,
            dealer: 4,
            reason: ComplaintReason::Undecryptable,
        }
        .encode(),
    );
    assert_eq!(e.field(), "body.dealer", "{e}");
    // Posted by someone other than the complainer.
    let complaint = Complaint {
        complainer: 2,
        dealer: 1,
        reason: ComplaintReason::ShareMismatch,
    };
    let e = log.refused(&trustee_key(3), CEREMONY_COMPLAINT, &complaint.encode());
    assert!(matches!(e, ElectionError::NotAuthorized { .. }), "{e}");
    log.post(&trustee_key(2), CEREMONY_COMPLAINT, &complaint.encode())
        .unwrap();
    // The same complaint again, even for another reason.
    let again = Complaint {
        reason: ComplaintReason::Undecryptable,
        ..complaint
    };
    let e = log.refused(&trustee_key(2), CEREMONY_COMPLAINT, &again.encode());
    assert!(matches!(e, ElectionError::AlreadyUsed { .. }), "{e}");
    assert_eq!(e.field(), "body.dealer");
    log.post(
        &trustee_key(3),
        CEREMONY_COMPLAINT,
        &Complaint {
            complainer: 3,
            ..complaint
        }
        .encode(),
    )
    .unwrap();
    // The complaint round closes with complaints standing: the answer round opens.
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 5 }.to_body())
        .unwrap();
    assert_eq!(log.state().ceremony().round(), round::ANSWER);
    // An answer to a complaint nobody made (trustee 1 never complained about dealer 2).
    let unasked = urne_ceremony::ComplaintAnswer {
        dealer: 2,
        recipient: 1,
        ..answer
    };
    let e = log.refused(&trustee_key(2), CEREMONY_ANSWER, &unasked.encode());
    assert_eq!(e.field(), "body.recipient", "{e}");
    assert!(matches!(e, ElectionError::Invalid { .. }), "{e}");
    // The accused dealer answers, once.
    log.post(&trustee_key(1), CEREMONY_ANSWER, &answer.encode())
        .unwrap();
    let e = log.refused(&trustee_key(1), CEREMONY_ANSWER, &answer.encode());
    assert!(matches!(e, ElectionError::AlreadyUsed { .. }), "{e}");
    assert_eq!(e.field(), "body.recipient");
    log.post(&trustee_key(1), CEREMONY_ANSWER, &answer_to_3.encode())
        .unwrap();
    assert_eq!(log.state().ceremony().round(), round::DONE);
}

fn budget_manifest() -> Manifest {
    Manifest::new(
        "Budget",
        vec![Contest {
            title: "Projects".into(),
            kind: ContestKind::Budget {
                min_projects: 1,
                max_projects: 2,
                min_spend: 0,
                budget: 1_000,
                rule: urne_ballot::SelectionRule::MaxApprovals,
                costs: vec![700, 500, 450, 300],
            },
            blank: false,
            options: ["A", "B", "C", "D"].map(String::from).to_vec(),
        }],
    )
    .unwrap()
}

/// The board refuses a result whose funded projects are not the rule's (spec/24 §24.6
/// step 6), naming the funding and field, and accepts the honest one.
#[test]
fn a_result_that_funds_other_projects_than_the_rule_is_refused() {
    let mut log = Log::open(&budget_manifest());
    let trustees = through_ceremony(&mut log);
    let voters: Vec<Credential> = (0..3)
        .map(|_| Credential::generate(&mut rand::rng()))
        .collect();
    register(&mut log, &voters);
    // Approvals: A 2, B 0, C 1, D 2.
    for (v, projects) in voters.iter().zip([&[0, 3][..], &[0], &[2, 3]]) {
        let body = cast(&log, v, &[ContestSelection::approve(4, projects).unwrap()]);
        log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    }
    let result = decrypt(&mut log, &trustees, &[1, 2]);
    // A and D: 4 approvals for 1,000.
    assert_eq!(result.fundings[0].selection.funded, vec![0, 3]);
    let a = authority();
    let field = |e: ElectionError| match e {
        ElectionError::Invalid { field, .. } => field,
        other => panic!("{other:?}"),
    };
    let mut greedy_like = result.clone();
    greedy_like.fundings[0].selection.funded = vec![0];
    let e = log.refused(&a, TALLY_RESULT, &greedy_like.to_bytes());
    assert_eq!(field(e), "body.fundings[0].funded");
    let mut money = result.clone();
    money.fundings[0].selection.money_used = 999;
    let e = log.refused(&a, TALLY_RESULT, &money.to_bytes());
    assert_eq!(field(e), "body.fundings[0].money_used");
    let mut none = result.clone();
    none.fundings.clear();
    let e = log.refused(&a, TALLY_RESULT, &none.to_bytes());
    assert_eq!(field(e), "body.fundings");
    log.post(&a, TALLY_RESULT, &result.to_bytes()).unwrap();
}

/// A manifest whose ballots cannot fit in a `ballot.cast` record is refused when it is
/// posted, not discovered when the first voter cannot cast.
#[test]
fn a_manifest_whose_ballots_exceed_a_record_is_refused() {
    let big = Manifest::new(
        "Too many",
        vec![Contest {
            title: "Approve".into(),
            kind: ContestKind::Approval { min: 0, max: 256 },
            blank: false,
            options: (0..256).map(|i| format!("option {i}")).collect(),
        }],
    )
    .unwrap();
    let mut log = Log::open(&big);
    let e = log.refused(
        &authority(),
        ELECTION_MANIFEST,
        &ManifestRecord {
            manifest: big,
            eligibility: None,
        }
        .to_body(),
    );
    match e {
        ElectionError::Invalid { field, detail, .. } => {
            assert_eq!(field, "body.manifest");
            assert!(detail.contains("bytes"), "{detail}");
        }
        other => panic!("{other:?}"),
    }
}
