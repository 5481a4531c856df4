//! A petition through the board library (spec/32): defined, its snapshot posted and
//! checked, opened, signed, a signature withdrawn, closed, its result checked against the
//! count; every validator refusing its tamper with its own code and field and nothing
//! changed; the state rebuilt on reopen; and the verifier's recount of the accepted
//! records agreeing with the board.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Kind, Record, Registry,
    Rejection,
};
use urne_credential::registry::{Cosignature, Register, Registrars, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_petition::kinds::*;
use urne_petition::signature::{self, BucketRing};
use urne_petition::{
    Definition, Duplicate, PetitionRecord, PetitionResult, PetitionState, Phase, SignatureBody,
    labels, recount,
};
use zeroize::Zeroizing;

const ORIGIN: &str = "test.example/board";
const REGISTRY: [u8; 32] = [4; 32];

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-petition-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn authority() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
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

/// The board, and every record it accepted in this petition (for the recount).
struct Harness {
    board: Board,
    id: ContextId,
    accepted: Vec<PetitionRecord>,
}

impl Harness {
    fn post(&mut self, key: &SigningKey, kind: Kind, body: &[u8]) -> Result<u64, Rejection> {
        let record = Record::sign(self.id, kind, body, key).unwrap();
        let index = self.board.submit(record.bytes().to_vec())?.index;
        self.accepted.push(PetitionRecord {
            index,
            kind,
            signer: key.verifying_key().to_bytes(),
            body: body.to_vec(),
        });
        Ok(index)
    }

    /// Asserts a refusal with its code and field, and that the log did not grow.
    #[track_caller]
    fn refused(
        &mut self,
        key: &SigningKey,
        kind: Kind,
        body: &[u8],
        code: Code,
        field: &str,
    ) -> Rejection {
        let size = self.board.store().size();
        let rejection = self
            .post(key, kind, body)
            .expect_err("should have been refused");
        assert_eq!(rejection.code, code, "{rejection:?}");
        assert_eq!(rejection.field.as_deref(), Some(field), "{rejection:?}");
        assert_eq!(self.board.store().size(), size);
        rejection
    }

    fn phase(&self) -> Phase {
        self.board
            .with_context_state(&self.id, |s: &PetitionState| s.phase())
            .unwrap()
    }

    fn counted(&self) -> (u64, u64) {
        self.board
            .with_context_state(&self.id, |s: &PetitionState| (s.counted(), s.withdrawn()))
            .unwrap()
    }
}

fn snapshot(wallets: &[Wallet], keys: &[SigningKey], registry: [u8; 32]) -> Snapshot {
    let mut rng = rand::rng();
    let mut register = Register::new();
    for (i, w) in wallets.iter().enumerate() {
        let bytes = w.enrolment_request(&REGISTRY, &mut rng).unwrap().to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).unwrap();
        register.enrol([i as u8; 32], &request, false).unwrap();
    }
    let (header, entries) = register.snapshot_header(registry, 1, [0; 32], 2);
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![
            Cosignature::sign(0, &keys[0], &id),
            Cosignature::sign(1, &keys[1], &id),
        ],
    };
    Snapshot::new(signed, entries).unwrap()
}

fn signature_body(
    snapshot: &Snapshot,
    petition: &ContextId,
    text_hash: &[u8; 32],
    wallet: &Wallet,
    withdrawal: bool,
    envelope: &SigningKey,
) -> SignatureBody {
    let at = snapshot.position(&wallet.public_key()).unwrap();
    let ring = BucketRing::new(&snapshot.bucket(at.bucket).unwrap()).unwrap();
    let context = signature::context_bytes(
        if withdrawal {
            labels::WITHDRAWAL
        } else {
            labels::SIGNATURE
        },
        &petition.0,
        &snapshot.id(),
        at.bucket,
        text_hash,
        &envelope.verifying_key().to_bytes(),
    );
    let sig = signature::sign(
        &ring,
        at.index,
        wallet.secret(),
        &signature::linking_base(&snapshot.id(), &petition.0),
        &context,
        &mut rand::rng(),
    )
    .unwrap();
    SignatureBody {
        bucket: at.bucket,
        disclosed: None,
        signature: sig.to_bytes(),
    }
}

#[test]
fn a_petition_on_the_board_refuses_every_tamper_and_is_recounted() {
    let dir = scratch("walk");
    let mut rng = rand::rng();
    let wallets: Vec<Wallet> = (0..10)
        .map(|i| Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1 + i % 2)], &mut rng).unwrap())
        .collect();
    let registrar_keys: Vec<SigningKey> = (0..3u8)
        .map(|i| SigningKey::from_bytes(&[i + 20; 32]))
        .collect();
    let registrars = Registrars::new(
        2,
        registrar_keys
            .iter()
            .map(SigningKey::verifying_key)
            .collect(),
    )
    .unwrap();
    let snap = snapshot(&wallets, &registrar_keys, REGISTRY);
    let definition = Definition {
        text_hash: [7; 32],
        threshold: 2,
        deadline: 1_900_000_000,
        scope: "City council".into(),
        policy: Some(urne_petition::Policy {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            disclosure: None,
        }),
        registry: REGISTRY,
        registrars,
    };
    let open = ContextOpen {
        context_type: ContextType::PETITION,
        nonce: [3; 16],
        name: "Sunday library".into(),
        parameters: Sha256::digest(definition.to_bytes()).into(),
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(authority().verifying_key().as_bytes(), &open);
    let mut h = Harness {
        board: open_board(&dir),
        id,
        accepted: Vec::new(),
    };
    let a = authority();
    h.post(&a, CONTEXT_OPEN, &open).unwrap();
    h.accepted.clear();
    assert_eq!(h.phase(), Phase::Draft);

    // Draft: definition by the authority only; the snapshot checked against its registrars.
    h.refused(
        &fresh_key(),
        PETITION_DEFINE,
        &definition.to_bytes(),
        Code::NotAuthorized,
        "signer",
    );
    h.refused(
        &a,
        REGISTRY_SNAPSHOT,
        &snap.signed().to_bytes(),
        Code::InvalidBody,
        "kind",
    );
    // Another definition than the one context.open's parameters hash names.
    let mut other = definition.clone();
    other.threshold += 1;
    h.refused(
        &a,
        PETITION_DEFINE,
        &other.to_bytes(),
        Code::InvalidBody,
        "body",
    );
    h.post(&a, PETITION_DEFINE, &definition.to_bytes()).unwrap();
    let mut one_cosignature = snap.signed().clone();
    one_cosignature.cosignatures.pop();
    h.refused(
        &a,
        REGISTRY_SNAPSHOT,
        &one_cosignature.to_bytes(),
        Code::InvalidBody,
        "body.cosignatures",
    );
    let other_registry = snapshot(&wallets, &registrar_keys, [5; 32]);
    h.refused(
        &a,
        REGISTRY_SNAPSHOT,
        &other_registry.signed().to_bytes(),
        Code::InvalidBody,
        "body.registry",
    );
    // Opening before the snapshot is complete.
    h.refused(
        &a,
        CONTEXT_PHASE,
        &[Phase::Open.code()],
        Code::InvalidBody,
        "body",
    );
    h.post(&a, REGISTRY_SNAPSHOT, &snap.signed().to_bytes())
        .unwrap();
    let mut altered = snap.parts()[0].clone();
    altered.entries.swap(0, 1);
    h.refused(
        &a,
        REGISTRY_SNAPSHOT_PART,
        &altered.to_bytes(),
        Code::InvalidBody,
        "body.entries[1]",
    );
    for part in snap.parts() {
        h.post(&a, REGISTRY_SNAPSHOT_PART, &part.to_bytes())
            .unwrap();
    }
    let text = definition.text_hash;
    let body = |w: usize, withdrawal: bool, envelope: &SigningKey| {
        signature_body(&snap, &id, &text, &wallets[w], withdrawal, envelope).to_bytes()
    };
    // A signature before the petition opens.
    let e = fresh_key();
    h.refused(
        &e,
        PETITION_SIGN,
        &body(0, false, &e),
        Code::WrongPhase,
        "kind",
    );
    h.post(&a, CONTEXT_PHASE, &[Phase::Open.code()]).unwrap();
    assert_eq!(h.phase(), Phase::Open);

    // Open: signatures.
    for w in 0..3 {
        let e = fresh_key();
        h.post(&e, PETITION_SIGN, &body(w, false, &e)).unwrap();
    }
    // Tag reused: refused, naming the record that holds it.
    let e = fresh_key();
    let first = h
        .accepted
        .iter()
        .find(|r| r.kind == PETITION_SIGN)
        .unwrap()
        .index;
    let second = body(0, false, &e);
    let r = h.refused(
        &e,
        PETITION_SIGN,
        &second,
        Code::AlreadyUsed,
        "body.signature.tag",
    );
    assert!(r.message.contains(&format!("record #{first}")), "{r:?}");
    // The refused record kept as evidence, posted by anyone; never counted, never twice.
    let evidence = Duplicate {
        signer: e.verifying_key().to_bytes(),
        body: SignatureBody::decode(&second).unwrap(),
    }
    .to_bytes();
    h.post(&fresh_key(), PETITION_DUPLICATE, &evidence).unwrap();
    h.refused(
        &fresh_key(),
        PETITION_DUPLICATE,
        &evidence,
        Code::AlreadyUsed,
        "body.signed",
    );
    assert_eq!(h.counted(), (3, 0));
    // Altered proof.
    let e = fresh_key();
    let mut bad = body(4, false, &e);
    let at = bad.len() - 32;
    bad[at] ^= 1;
    h.refused(&e, PETITION_SIGN, &bad, Code::InvalidBody, "body.signature");
    // A signature re-enveloped under another one-time key.
    let e = fresh_key();
    h.refused(
        &fresh_key(),
        PETITION_SIGN,
        &body(4, false, &e),
        Code::InvalidBody,
        "body.signature",
    );
    // Signer outside the bucket: a real signature presented as over another bucket.
    let e = fresh_key();
    let mut moved = signature_body(&snap, &id, &text, &wallets[4], false, &e);
    moved.bucket = (moved.bucket + 1) % snap.header().bucket_count();
    h.refused(
        &e,
        PETITION_SIGN,
        &moved.to_bytes(),
        Code::InvalidBody,
        "body.signature",
    );
    // Snapshot swapped: a signature over a bucket of another snapshot of the same
    // registry (without wallet 9), where the signer's key is too.
    let other = snapshot(&wallets[..9], &registrar_keys, REGISTRY);
    assert_ne!(other.id(), snap.id());
    let e = fresh_key();
    let swapped = signature_body(&other, &id, &text, &wallets[4], false, &e);
    h.refused(
        &e,
        PETITION_SIGN,
        &swapped.to_bytes(),
        Code::InvalidBody,
        "body.signature",
    );
    // A signature presented as a withdrawal; a withdrawal by someone who never signed.
    let e = fresh_key();
    h.refused(
        &e,
        PETITION_WITHDRAW,
        &body(1, false, &e),
        Code::InvalidBody,
        "body.signature",
    );
    let e = fresh_key();
    h.refused(
        &e,
        PETITION_WITHDRAW,
        &body(5, true, &e),
        Code::InvalidBody,
        "body.signature.tag",
    );
    // Withdrawal by signer 1, once.
    let e = fresh_key();
    h.post(&e, PETITION_WITHDRAW, &body(1, true, &e)).unwrap();
    let e = fresh_key();
    h.refused(
        &e,
        PETITION_WITHDRAW,
        &body(1, true, &e),
        Code::AlreadyUsed,
        "body.signature.tag",
    );
    assert_eq!(h.counted(), (2, 1));

    // Closed: no more signatures; the result must be the count.
    h.post(&a, CONTEXT_PHASE, &[Phase::Closed.code()]).unwrap();
    let e = fresh_key();
    h.refused(
        &e,
        PETITION_SIGN,
        &body(6, false, &e),
        Code::WrongPhase,
        "kind",
    );
    let wrong = PetitionResult {
        counted: 3,
        withdrawn: 1,
        reached: true,
    };
    h.refused(
        &a,
        PETITION_RESULT,
        &wrong.to_bytes(),
        Code::InvalidBody,
        "body",
    );
    h.refused(
        &a,
        CONTEXT_PHASE,
        &[Phase::Reached.code()],
        Code::InvalidBody,
        "body",
    );
    let result = PetitionResult {
        counted: 2,
        withdrawn: 1,
        reached: true,
    };
    h.post(&a, PETITION_RESULT, &result.to_bytes()).unwrap();
    h.refused(
        &a,
        CONTEXT_PHASE,
        &[Phase::NotReached.code()],
        Code::InvalidBody,
        "body",
    );
    h.post(&a, CONTEXT_PHASE, &[Phase::Reached.code()]).unwrap();
    assert_eq!(h.phase(), Phase::Reached);

    // The verifier's recount of what the board accepted agrees with it.
    let count = recount(
        id.0,
        a.verifying_key().to_bytes(),
        Sha256::digest(definition.to_bytes()).into(),
        &h.accepted,
        &mut rand::rng(),
    )
    .unwrap();
    assert_eq!(
        (
            count.phase,
            count.counted,
            count.withdrawn,
            count.duplicates
        ),
        (Phase::Reached, 2, 1, 1)
    );
    assert_eq!(count.result, Some(result));

    // The state rebuilt from the log on reopen is the same.
    let before = h.board.context(&id).unwrap();
    drop(h.board);
    let board = open_board(&dir);
    assert_eq!(board.context(&id).unwrap(), before);
    assert_eq!(
        board
            .with_context_state(&id, |s: &PetitionState| (
                s.phase(),
                s.counted(),
                s.withdrawn()
            ))
            .unwrap(),
        (Phase::Reached, 2, 1)
    );
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}
