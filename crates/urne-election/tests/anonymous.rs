//! Anonymous elections through the pure fold (spec/23 §23.11–§23.13): voters are the
//! wallet keys of a cosigned registry snapshot and sign their ballots with a ring
//! signature over one bucket. A whole election tallies; each check fails alone, naming
//! its field, and a refused record changes nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ed25519_dalek::SigningKey;
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Manifest, TrackingCode,
};
use urne_ceremony::{CeremonyContext, CeremonyOpen, QualifiedTrustee, TrusteeSetup};
use urne_credential::registry::{
    Cosignature, Position, Register, Registrars, SignedSnapshot, Snapshot, SnapshotHeader,
};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_credential::{BallotSignature, Credential, CredentialList, Decision, ListedCredential};
use urne_crypto::triptych::{self, Zeroizing};
use urne_election::anonymous::{
    AnonymousAudit, AnonymousCast, AnonymousSignature, Eligibility, bucket_ring, credential_of_tag,
    linking_base, position_of, sign_ballot, signature_context, tag_for,
};
use urne_election::kinds::*;
use urne_election::{
    CastBallot, CloseRound, DeferredBallot, ElectionError, ElectionState, Fault,
    MAX_AUDITS_PER_CREDENTIAL, ManifestRecord, Phase, Replay, round, verify_deferred_casts,
};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextType, Kind, Record};

const ORIGIN: &str = "anonymous.example/board";
const REGISTRY: [u8; 32] = [0x42; 32];

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}

fn trustee_key(j: u16) -> SigningKey {
    SigningKey::from_bytes(&[10 + j as u8; 32])
}

fn registrar_keys() -> Vec<SigningKey> {
    (0..3u8)
        .map(|i| SigningKey::from_bytes(&[0x60 + i; 32]))
        .collect()
}

fn registrars() -> Registrars {
    Registrars::new(
        2,
        registrar_keys()
            .iter()
            .map(SigningKey::verifying_key)
            .collect(),
    )
    .unwrap()
}

fn fresh_key() -> SigningKey {
    let mut seed = [0u8; 32];
    rand::fill(&mut seed);
    SigningKey::from_bytes(&seed)
}

fn manifest() -> Manifest {
    Manifest::new(
        "Élection du bureau",
        vec![Contest {
            title: "Présidence".into(),
            kind: ContestKind::SingleChoice,
            blank: false,
            options: vec!["Inès".into(), "Jules".into(), "Zoé".into()],
        }],
    )
    .unwrap()
}

/// Buckets of 2^2 keys or more, 2 registered keys in the smallest, snapshot 1 or later.
fn eligibility() -> Eligibility {
    Eligibility {
        min_bucket_bits: 2,
        min_real_keys: 2,
        min_snapshot: 1,
        registry: REGISTRY,
        registrars: registrars(),
    }
}

/// `n` people enrolled with the registry: the register and their wallets.
fn enrol(n: usize) -> (Register, Vec<Wallet>) {
    let mut rng = rand::rng();
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for i in 0..n {
        let wallet =
            Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1 + (i % 2) as u32)], &mut rng).unwrap();
        let bytes = wallet
            .enrolment_request(&REGISTRY, &mut rng)
            .unwrap()
            .to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        let mut person = [0u8; 32];
        person[..8].copy_from_slice(&(i as u64).to_be_bytes());
        register.enrol(person, &request, false).unwrap();
        wallets.push(wallet);
    }
    (register, wallets)
}

fn cosign(header: SnapshotHeader, who: &[u8]) -> SignedSnapshot {
    let id = header.id();
    let keys = registrar_keys();
    SignedSnapshot {
        header,
        cosignatures: who
            .iter()
            .map(|&i| Cosignature::sign(i, &keys[usize::from(i)], &id))
            .collect(),
    }
}

/// The register's snapshot number 1 of buckets of 2^`bits`, cosigned by registrars 0 and 2.
fn snapshot(register: &Register, bits: u8) -> Snapshot {
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], bits);
    Snapshot::new(cosign(header, &[0, 2]), entries).unwrap()
}

/// A log of one election, fed to a replay as it grows.
struct Log {
    id: ContextId,
    replay: Replay,
    records: Vec<Record>,
}

type Observed = (Phase, u8, (u64, u64), bool, bool);

impl Log {
    fn open(record: &ManifestRecord) -> Self {
        let open = ContextOpen {
            context_type: ContextType::ELECTION,
            nonce: [5; 16],
            name: "Bureau".into(),
            parameters: record.parameters_hash(),
        }
        .to_body()
        .unwrap();
        let id = ContextId::derive(authority().verifying_key().as_bytes(), &open);
        let mut log = Self {
            id,
            replay: Replay::new(id, ORIGIN),
            records: Vec::new(),
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

    fn observed(&self) -> Observed {
        let s = self.state();
        (
            s.phase(),
            s.ceremony().round(),
            s.ballot_counts(),
            s.snapshot().is_some(),
            s.credential_list().is_some(),
        )
    }

    /// Posts a record that must be refused; checks the state did not move.
    #[track_caller]
    fn refused(&mut self, key: &SigningKey, kind: Kind, body: &[u8]) -> ElectionError {
        let before = self.observed();
        let fault = self.post(key, kind, body).expect_err("should be refused");
        assert_eq!(fault.index, self.records.len() as u64);
        assert_eq!(before, self.observed());
        fault.error
    }
}

/// Posts the manifest and runs a clean 2-of-3 ceremony; ends in `registration`.
fn through_ceremony(log: &mut Log, record: &ManifestRecord) -> Vec<QualifiedTrustee> {
    let mut rng = rand::rng();
    let a = authority();
    log.post(&a, ELECTION_MANIFEST, &record.to_body()).unwrap();
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
    let (states, hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).unwrap())
        .unzip();
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
    let (next, dealt): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).unwrap())
        .unzip();
    for d in &dealt {
        log.post(&trustee_key(d.dealer), CEREMONY_SHARES, &d.encode())
            .unwrap();
    }
    log.post(&a, CEREMONY_CLOSE_ROUND, &CloseRound { round: 5 }.to_body())
        .unwrap();
    assert_eq!(log.state().ceremony().round(), round::DONE);
    let trustees = next
        .into_iter()
        .map(|s| s.receive(dealt.clone()).0.answer(Vec::new()).0)
        .map(|s| s.finish(Vec::new()).unwrap())
        .collect();
    log.post(&a, CONTEXT_PHASE, &[2]).unwrap();
    trustees
}

fn anonymous_record() -> ManifestRecord {
    ManifestRecord {
        manifest: manifest(),
        eligibility: Some(eligibility()),
    }
}

fn post_snapshot(log: &mut Log, snapshot: &Snapshot) {
    log.post(
        &authority(),
        ELECTION_SNAPSHOT,
        &snapshot.signed().to_bytes(),
    )
    .unwrap();
    for part in snapshot.parts() {
        log.post(&authority(), ELECTION_SNAPSHOT_PART, &part.to_bytes())
            .unwrap();
    }
}

/// An anonymous election open for voting over a snapshot of six wallets in two buckets
/// of four.
struct Voting {
    log: Log,
    trustees: Vec<QualifiedTrustee>,
    snapshot: Snapshot,
    wallets: Vec<Wallet>,
}

fn voting() -> Voting {
    let record = anonymous_record();
    let mut log = Log::open(&record);
    let trustees = through_ceremony(&mut log, &record);
    let (register, wallets) = enrol(6);
    let snapshot = snapshot(&register, 2);
    assert_eq!(snapshot.header().bucket_count(), 2);
    post_snapshot(&mut log, &snapshot);
    log.post(&authority(), CONTEXT_PHASE, &[3]).unwrap();
    Voting {
        log,
        trustees,
        snapshot,
        wallets,
    }
}

/// A voter's ballot: encrypted under its tag, and where its key sits.
struct Made {
    ballot: Ballot,
    secrets: urne_ballot::BallotSecrets,
    position: Position,
    tracking: TrackingCode,
}

impl Voting {
    fn context_id(&self) -> [u8; 32] {
        self.log.id.0
    }

    fn make(&self, wallet: &Wallet, choice: usize) -> Made {
        let mut rng = rand::rng();
        let sealed = self.log.state().sealed().unwrap().clone();
        let tag = tag_for(wallet.secret(), &self.snapshot.id(), &self.context_id());
        let selections = [ContestSelection::single(3, choice).unwrap()];
        let (ballot, secrets) = Ballot::encrypt(
            sealed.election(),
            &credential_of_tag(&tag),
            &selections,
            &mut rng,
        )
        .unwrap();
        Made {
            tracking: TrackingCode::of(&ballot),
            position: position_of(&self.snapshot, wallet.secret()).unwrap(),
            ballot,
            secrets,
        }
    }

    fn sign(&self, wallet: &Wallet, made: &Made, decision: Decision) -> AnonymousSignature {
        let signature = sign_ballot(
            &mut rand::rng(),
            wallet.secret(),
            &self.snapshot,
            made.position,
            &self.context_id(),
            decision,
            &made.tracking,
        )
        .unwrap();
        AnonymousSignature::new(made.position.bucket, &signature)
    }

    /// Signs with the right ring and linking base over other context bytes.
    fn sign_over(&self, wallet: &Wallet, made: &Made, context: &[u8]) -> AnonymousSignature {
        let ring = bucket_ring(&self.snapshot, made.position.bucket)
            .unwrap()
            .unwrap();
        let secret = Zeroizing::new(*wallet.secret().expose_secret());
        let signature = triptych::sign(
            &ring,
            made.position.index,
            &secret,
            &linking_base(&self.snapshot.id(), &self.context_id()),
            context,
            &mut rand::rng(),
        )
        .unwrap();
        AnonymousSignature::new(made.position.bucket, &signature)
    }

    fn cast(&self, wallet: &Wallet, choice: usize) -> Vec<u8> {
        let made = self.make(wallet, choice);
        let signature = self.sign(wallet, &made, Decision::Cast);
        AnonymousCast::new(made.ballot, signature).to_body()
    }

    fn audit(&self, wallet: &Wallet) -> Vec<u8> {
        let made = self.make(wallet, 0);
        let signature = self.sign(wallet, &made, Decision::Audit);
        let opening = made.secrets.audit(&made.ballot);
        AnonymousAudit::new(made.ballot, signature, opening).to_body()
    }
}

fn tally(voting: &mut Voting) -> urne_tally::TallyResult {
    let mut rng = rand::rng();
    let log = &mut voting.log;
    log.post(&authority(), CONTEXT_PHASE, &[4]).unwrap();
    log.post(&authority(), CONTEXT_PHASE, &[5]).unwrap();
    let sealed = log.state().sealed().unwrap().clone();
    for j in [1u16, 3] {
        let shares = voting.trustees[usize::from(j) - 1]
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
    let result = log.state().decrypt_result().unwrap();
    log.post(&authority(), TALLY_RESULT, &result.to_bytes())
        .unwrap();
    log.post(&authority(), CONTEXT_PHASE, &[6]).unwrap();
    result
}

#[test]
fn an_anonymous_election_counts_the_latest_ballot_of_each_tag_once() {
    let mut v = voting();
    let sealed = v.log.state().sealed().unwrap().clone();
    // The context hash binds the snapshot id where a list's root would stand.
    assert_eq!(sealed.credential_root(), v.snapshot.id());
    assert_eq!(sealed.anonymous().unwrap().id(), &v.snapshot.id());
    // Voters 0-4 vote 0, 1, 1, 2, 1; voter 1 then revotes 2 under the same tag.
    for (w, choice) in [(0, 0), (1, 1), (2, 1), (3, 2), (4, 1)] {
        let body = v.cast(&v.wallets[w], choice);
        v.log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    }
    let body = v.cast(&v.wallets[1], 2);
    v.log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    // Voter 5 audits a ballot: never counted.
    let body = v.audit(&v.wallets[5]);
    v.log.post(&fresh_key(), BALLOT_AUDIT, &body).unwrap();
    assert_eq!(v.log.state().ballot_counts(), (6, 1));
    // Both buckets were used.
    let buckets: std::collections::BTreeSet<u32> = v
        .wallets
        .iter()
        .map(|w| position_of(&v.snapshot, w.secret()).unwrap().bucket)
        .collect();
    assert_eq!(buckets.len(), 2);
    let result = tally(&mut v);
    assert_eq!(result.counts[0], vec![1, 2, 2]);
    assert_eq!(result.tally.ballots, 5);
    assert_eq!(result.superseded, 1);
    assert_eq!(result.tally.weight, 5);

    // A deferring replay verifies the same casts in batches per bucket and agrees.
    let mut replay = Replay::new(v.log.id, ORIGIN).deferring_casts();
    for (i, record) in v.log.records.iter().enumerate() {
        replay.feed(i as u64, record).unwrap();
    }
    let deferred = replay.take_deferred();
    assert_eq!(deferred.len(), 6);
    assert!(
        deferred
            .iter()
            .all(|d| matches!(d.cast, DeferredBallot::Anonymous(_)))
    );
    assert!(verify_deferred_casts(&deferred, &|_| {}).is_empty());
    assert_eq!(
        replay.into_state().unwrap().result().unwrap().counts,
        result.counts
    );
}

#[test]
fn a_deferred_batch_names_each_ballot_whose_ring_signature_or_proofs_fail() {
    let v = voting();
    let context_id = v.context_id();
    let mut bodies: Vec<Vec<u8>> = (0..6).map(|w| v.cast(&v.wallets[w], w % 3)).collect();
    // Ballot 3's signature is made over another tracking code: only the batch can tell.
    let made = v.make(&v.wallets[3], 0);
    let other = signature_context(
        Decision::Cast,
        &context_id,
        &v.snapshot.id(),
        made.position.bucket,
        &TrackingCode([9; 32]),
    );
    let signature = v.sign_over(&v.wallets[3], &made, &other);
    bodies[3] = AnonymousCast::new(made.ballot, signature).to_body();
    // Ballot 5's proofs were made for another tag: its signature, over its tracking code,
    // verifies; only the proofs' batch can tell.
    let wallet = &v.wallets[5];
    let made = v.make(wallet, 2);
    let (mut ballot, _) = Ballot::encrypt(
        v.log.state().sealed().unwrap().election(),
        &CredentialKey([0xe2; 32]),
        &[ContestSelection::single(3, 2).unwrap()],
        &mut rand::rng(),
    )
    .unwrap();
    ballot.credential = made.ballot.credential;
    let crossed = Made {
        tracking: TrackingCode::of(&ballot),
        ballot,
        ..made
    };
    let signature = v.sign(wallet, &crossed, Decision::Cast);
    bodies[5] = AnonymousCast::new(crossed.ballot, signature).to_body();
    let mut replay = Replay::new(v.log.id, ORIGIN).deferring_casts();
    let mut index = 0u64;
    for record in &v.log.records {
        replay.feed(index, record).unwrap();
        index += 1;
    }
    let first = index;
    for body in &bodies {
        let record = Record::sign(v.log.id, BALLOT_CAST, body, &fresh_key()).unwrap();
        replay.feed(index, &record).unwrap();
        index += 1;
    }
    let faults = verify_deferred_casts(&replay.take_deferred(), &|_| {});
    assert_eq!(faults.len(), 2, "{faults:?}");
    assert_eq!(faults[0].index, first + 3);
    assert_eq!(faults[0].error.field(), "body.signature");
    assert_eq!(faults[1].index, first + 5);
    assert!(
        faults[1]
            .error
            .field()
            .starts_with("body.ballot.contests[0]"),
        "{}",
        faults[1].error
    );
}

#[test]
fn each_check_of_an_anonymous_ballot_fails_alone_naming_its_field() {
    let mut v = voting();
    let context_id = v.context_id();
    let snapshot_id = v.snapshot.id();
    let wallet = &v.wallets[0];
    let made = v.make(wallet, 1);
    let good = v.sign(wallet, &made, Decision::Cast);

    // A version-1 body (a credential's signature) in an anonymous election.
    let credential = Credential::generate(&mut rand::rng());
    let sealed = v.log.state().sealed().unwrap().clone();
    let signature = BallotSignature::sign(
        &credential,
        sealed.election().context(),
        Decision::Cast,
        &made.tracking.0,
        &mut rand::rng(),
    )
    .unwrap();
    let v1 = CastBallot::new(made.ballot.clone(), signature).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &v1);
    assert_eq!(e.field(), "body.version", "{e}");

    // A bucket the snapshot does not have.
    let mut outside = good.clone();
    outside.bucket = 2;
    let body = AnonymousCast::new(made.ballot.clone(), outside).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert_eq!(e.field(), "body.bucket", "{e}");

    // The signature of the other bucket's ring, claimed for this one.
    let mut other_bucket = good.clone();
    other_bucket.bucket ^= 1;
    let body = AnonymousCast::new(made.ballot.clone(), other_bucket).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert_eq!(e.field(), "body.signature", "{e}");

    // The ballot's credential is not the signature's tag (a ballot made under another
    // voter's tag, signed by this voter).
    let crossed = Made {
        position: made.position,
        ..v.make(&v.wallets[1], 1)
    };
    let signature = v.sign(wallet, &crossed, Decision::Cast);
    let body = AnonymousCast::new(crossed.ballot.clone(), signature).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert_eq!(e.field(), "body.signature.tag", "{e}");

    // Signatures over the context bytes of another bucket, election, snapshot or ballot.
    let b = made.position.bucket;
    for context in [
        signature_context(
            Decision::Cast,
            &context_id,
            &snapshot_id,
            b ^ 1,
            &made.tracking,
        ),
        signature_context(Decision::Cast, &[7; 32], &snapshot_id, b, &made.tracking),
        signature_context(Decision::Cast, &context_id, &[8; 32], b, &made.tracking),
        signature_context(
            Decision::Cast,
            &context_id,
            &snapshot_id,
            b,
            &TrackingCode([9; 32]),
        ),
        // The audit's context bytes: an audit's signature is no cast's.
        signature_context(
            Decision::Audit,
            &context_id,
            &snapshot_id,
            b,
            &made.tracking,
        ),
    ] {
        let signature = v.sign_over(wallet, &made, &context);
        let body = AnonymousCast::new(made.ballot.clone(), signature).to_body();
        let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
        assert_eq!(e.field(), "body.signature", "{e}");
    }

    // One byte of the signature flipped, at its start (the tag), middle and end.
    for at in [0, good.bytes.len() / 2, good.bytes.len() - 1] {
        let mut flipped = good.clone();
        flipped.bytes[at] ^= 1;
        let body = AnonymousCast::new(made.ballot.clone(), flipped).to_body();
        let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
        assert!(e.field().starts_with("body.signature"), "{at}: {e}");
    }
    // A signature one byte short.
    let mut short = good.clone();
    short.bytes.pop();
    let body = AnonymousCast::new(made.ballot.clone(), short).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert_eq!(e.field(), "body.signature", "{e}");

    // The honest ballot is accepted, once: a re-enveloped copy is a replay.
    let body = AnonymousCast::new(made.ballot.clone(), good).to_body();
    v.log.post(&fresh_key(), BALLOT_CAST, &body).unwrap();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert!(
        matches!(&e, ElectionError::AlreadyUsed { field, .. } if field == "body.ballot"),
        "{e}"
    );
    assert_eq!(v.log.state().ballot_counts(), (1, 0));
}

/// The relay of an audit holds its ballot, its signature and its openings: it must not be
/// able to post that ballot as a cast (it would count a ballot whose choices it knows,
/// and a device cheating with it would never be caught by an audit). Nor can a cast's
/// signature serve an audit.
#[test]
fn an_audits_signature_is_no_casts_and_a_casts_no_audits() {
    let mut v = voting();
    let wallet = &v.wallets[1];
    let made = v.make(wallet, 2);
    let audit_signature = v.sign(wallet, &made, Decision::Audit);
    let cast_signature = v.sign(wallet, &made, Decision::Cast);
    let relayed = AnonymousCast::new(made.ballot.clone(), audit_signature.clone()).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_CAST, &relayed);
    assert_eq!(e.field(), "body.signature", "{e}");
    let opening = made.secrets.audit(&made.ballot);
    let swapped = AnonymousAudit::new(made.ballot.clone(), cast_signature.clone(), opening.clone());
    let e = v
        .log
        .refused(&fresh_key(), BALLOT_AUDIT, &swapped.to_body());
    assert_eq!(e.field(), "body.signature", "{e}");
    // Each with its own signature is accepted: the audit, then (a new ballot) the cast.
    v.log
        .post(
            &fresh_key(),
            BALLOT_AUDIT,
            &AnonymousAudit::new(made.ballot.clone(), audit_signature, opening).to_body(),
        )
        .unwrap();
    let made = v.make(wallet, 2);
    let signature = v.sign(wallet, &made, Decision::Cast);
    v.log
        .post(
            &fresh_key(),
            BALLOT_CAST,
            &AnonymousCast::new(made.ballot, signature).to_body(),
        )
        .unwrap();
    assert_eq!(v.log.state().ballot_counts(), (1, 1));
}

#[test]
fn a_tag_posts_at_most_its_quota_of_audits() {
    let mut v = voting();
    for _ in 0..MAX_AUDITS_PER_CREDENTIAL {
        let body = v.audit(&v.wallets[2]);
        v.log.post(&fresh_key(), BALLOT_AUDIT, &body).unwrap();
    }
    let body = v.audit(&v.wallets[2]);
    let e = v.log.refused(&fresh_key(), BALLOT_AUDIT, &body);
    assert!(
        matches!(&e, ElectionError::AlreadyUsed { field, .. } if field == "body.ballot.credential"),
        "{e}"
    );
    // Another tag still may.
    let body = v.audit(&v.wallets[3]);
    v.log.post(&fresh_key(), BALLOT_AUDIT, &body).unwrap();
    // An audit whose opening is of another ballot.
    let made = v.make(&v.wallets[4], 0);
    let signature = v.sign(&v.wallets[4], &made, Decision::Audit);
    let other = v.make(&v.wallets[4], 1);
    let body =
        AnonymousAudit::new(made.ballot, signature, other.secrets.audit(&other.ballot)).to_body();
    let e = v.log.refused(&fresh_key(), BALLOT_AUDIT, &body);
    assert_eq!(e.field(), "body.opening", "{e}");
}

/// An anonymous election in `registration`, with six enrolled wallets.
fn registration() -> (Log, Register) {
    let record = anonymous_record();
    let mut log = Log::open(&record);
    through_ceremony(&mut log, &record);
    (log, enrol(6).0)
}

#[test]
fn a_snapshot_below_the_elections_promises_is_refused_naming_the_field() {
    let (mut log, register) = registration();
    let a = authority();
    let refused = |log: &mut Log, signed: SignedSnapshot| {
        log.refused(&a, ELECTION_SNAPSHOT, &signed.to_bytes())
    };
    let header = |bits: u8| register.snapshot_header(REGISTRY, 1, [0; 32], bits).0;
    // Another registry.
    let other = register.snapshot_header([0x43; 32], 1, [0; 32], 2).0;
    assert_eq!(
        refused(&mut log, cosign(other, &[0, 2])).field(),
        "body.registry"
    );
    // One cosignature where two are needed, and a cosignature that does not verify.
    assert_eq!(
        refused(&mut log, cosign(header(2), &[1])).field(),
        "body.cosignatures"
    );
    let mut forged = cosign(header(2), &[0, 1]);
    forged.cosignatures[1].signature = cosign(header(3), &[1]).cosignatures[0].signature;
    assert_eq!(refused(&mut log, forged).field(), "body.cosignatures");
    // Buckets of 2^1 below the floor of 2^2.
    assert_eq!(
        refused(&mut log, cosign(header(1), &[0, 2])).field(),
        "body.bucket_bits"
    );
    // One registered key in a bucket of 4, below the 2 promised.
    let (lonely, _) = enrol(1);
    let one = lonely.snapshot_header(REGISTRY, 1, [0; 32], 2).0;
    assert_eq!(
        refused(&mut log, cosign(one, &[0, 2])).field(),
        "body.total"
    );
    // A version-1 snapshot.
    let mut v1 = header(2);
    v1.version = 1;
    assert_eq!(
        refused(&mut log, cosign(v1, &[0, 2])).field(),
        "body.version"
    );
    // Nothing was taken: an honest snapshot is accepted after all those refusals.
    log.post(
        &a,
        ELECTION_SNAPSHOT,
        &cosign(header(2), &[0, 2]).to_bytes(),
    )
    .unwrap();
    // A second snapshot.
    let e = refused(&mut log, cosign(header(2), &[0, 2]));
    assert_eq!(e.field(), "kind", "{e}");
}

#[test]
fn a_snapshot_older_than_the_elections_oldest_is_refused() {
    let mut record = anonymous_record();
    record.eligibility.as_mut().unwrap().min_snapshot = 2;
    let mut log = Log::open(&record);
    through_ceremony(&mut log, &record);
    let (register, _) = enrol(6);
    let first = register.snapshot_header(REGISTRY, 1, [0; 32], 2).0;
    let e = log.refused(
        &authority(),
        ELECTION_SNAPSHOT,
        &cosign(first.clone(), &[0, 2]).to_bytes(),
    );
    assert_eq!(e.field(), "body.number", "{e}");
    let second = register.snapshot_header(REGISTRY, 2, first.id(), 2).0;
    log.post(
        &authority(),
        ELECTION_SNAPSHOT,
        &cosign(second, &[0, 2]).to_bytes(),
    )
    .unwrap();
}

#[test]
fn voting_opens_only_on_a_complete_snapshot_and_an_anonymous_election_takes_no_list() {
    let (mut log, register) = registration();
    let a = authority();
    let snapshot = snapshot(&register, 2);
    // No list in an anonymous election.
    let list = CredentialList::new(vec![ListedCredential {
        credential: Credential::generate(&mut rand::rng()).public(),
        weight: 1,
    }])
    .unwrap();
    let e = log.refused(&a, ELECTION_CREDENTIALS, &list.parts()[0].to_bytes());
    assert_eq!(e.field(), "kind", "{e}");
    // Parts before their snapshot.
    let part = snapshot.parts()[0].to_bytes();
    let e = log.refused(&a, ELECTION_SNAPSHOT_PART, &part);
    assert_eq!(e.field(), "kind", "{e}");
    // Not by anyone but the authority.
    let e = log.refused(
        &fresh_key(),
        ELECTION_SNAPSHOT,
        &snapshot.signed().to_bytes(),
    );
    assert!(matches!(e, ElectionError::NotAuthorized { .. }), "{e}");
    log.post(&a, ELECTION_SNAPSHOT, &snapshot.signed().to_bytes())
        .unwrap();
    // The header alone does not open voting.
    let e = log.refused(&a, CONTEXT_PHASE, &[3]);
    assert_eq!(e.field(), "body", "{e}");
    assert!(e.to_string().contains("snapshot"), "{e}");
    // A part of another snapshot.
    let other = self::snapshot(&enrol(6).0, 2);
    let e = log.refused(&a, ELECTION_SNAPSHOT_PART, &other.parts()[0].to_bytes());
    assert_eq!(e.field(), "body", "{e}");
    log.post(&a, ELECTION_SNAPSHOT_PART, &part).unwrap();
    assert!(log.state().snapshot().is_some());
    // A part once the snapshot is complete.
    let e = log.refused(&a, ELECTION_SNAPSHOT_PART, &part);
    assert_eq!(e.field(), "body", "{e}");
    log.post(&a, CONTEXT_PHASE, &[3]).unwrap();
    assert_eq!(log.state().phase(), Phase::Voting);
}

#[test]
fn a_pseudonymous_election_takes_neither_snapshots_nor_version_2_ballots() {
    let record = ManifestRecord {
        manifest: manifest(),
        eligibility: None,
    };
    let mut log = Log::open(&record);
    through_ceremony(&mut log, &record);
    let a = authority();
    let (register, wallets) = enrol(6);
    let snapshot = snapshot(&register, 2);
    let e = log.refused(&a, ELECTION_SNAPSHOT, &snapshot.signed().to_bytes());
    assert_eq!(e.field(), "kind", "{e}");
    let e = log.refused(&a, ELECTION_SNAPSHOT_PART, &snapshot.parts()[0].to_bytes());
    assert_eq!(e.field(), "kind", "{e}");
    let voter = Credential::generate(&mut rand::rng());
    let list = CredentialList::new(vec![ListedCredential {
        credential: voter.public(),
        weight: 1,
    }])
    .unwrap();
    log.post(&a, ELECTION_CREDENTIALS, &list.parts()[0].to_bytes())
        .unwrap();
    log.post(&a, CONTEXT_PHASE, &[3]).unwrap();
    // A version-2 ballot: a ring signature where a credential's signature is expected.
    let sealed = log.state().sealed().unwrap().clone();
    let wallet = &wallets[0];
    let tag = tag_for(wallet.secret(), &snapshot.id(), &log.id.0);
    let (ballot, _) = Ballot::encrypt(
        sealed.election(),
        &CredentialKey(tag.compress().to_bytes()),
        &[ContestSelection::single(3, 0).unwrap()],
        &mut rand::rng(),
    )
    .unwrap();
    let position = position_of(&snapshot, wallet.secret()).unwrap();
    let signature = sign_ballot(
        &mut rand::rng(),
        wallet.secret(),
        &snapshot,
        position,
        &log.id.0,
        Decision::Cast,
        &TrackingCode::of(&ballot),
    )
    .unwrap();
    let body =
        AnonymousCast::new(ballot, AnonymousSignature::new(position.bucket, &signature)).to_body();
    let e = log.refused(&fresh_key(), BALLOT_CAST, &body);
    assert_eq!(e.field(), "body.version", "{e}");
}

#[test]
fn a_snapshot_whose_signatures_leave_no_room_for_a_ballot_in_a_record_is_refused() {
    use urne_election::anonymous::{CAST_BODY_FIXED, parameters_for};
    let room = urne_record::MAX_RECORD_BYTES - urne_record::ENVELOPE_OVERHEAD - CAST_BODY_FIXED;
    let small = parameters_for(2).unwrap().signature_len();
    let large = parameters_for(16).unwrap().signature_len();
    let approval = |n: usize| {
        Manifest::new(
            "Many",
            vec![Contest {
                title: "Approve".into(),
                kind: ContestKind::Approval {
                    min: 0,
                    max: n as u16,
                },
                blank: false,
                options: (0..n).map(|i| format!("option {i}")).collect(),
            }],
        )
        .unwrap()
    };
    // The widest ballot a signature over buckets of 4 leaves room for.
    let n = (1..256)
        .rev()
        .find(|&n| approval(n).ballot_len() + small <= room)
        .unwrap();
    let manifest = approval(n);
    assert!(manifest.ballot_len() + large > room);
    let record = ManifestRecord {
        manifest,
        eligibility: Some(eligibility()),
    };
    let mut log = Log::open(&record);
    through_ceremony(&mut log, &record);
    let (register, _) = enrol(3);
    let wide = register.snapshot_header(REGISTRY, 1, [0; 32], 16).0;
    let e = log.refused(
        &authority(),
        ELECTION_SNAPSHOT,
        &cosign(wide, &[0, 2]).to_bytes(),
    );
    assert_eq!(e.field(), "body.bucket_bits", "{e}");
    let narrow = register.snapshot_header(REGISTRY, 1, [0; 32], 2).0;
    log.post(
        &authority(),
        ELECTION_SNAPSHOT,
        &cosign(narrow, &[0, 2]).to_bytes(),
    )
    .unwrap();
}
