//! What the election's fold costs the board at scale: applying cast ballots (their
//! credential and ciphertexts read from the bytes, no point decoded) and the move to
//! `tallying`, which freeze the counted ballots, both under the board's state lock; and
//! the encrypted tally itself (every counted ciphertext decoded and summed, spec/23
//! §23.8), computed on first use outside the lock.
//!
//! `cargo bench -p urne-election --bench fold` (URNE_BENCH_BALLOTS, default 100000).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::SigningKey;
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Manifest, TrackingCode,
};
use urne_ceremony::{CeremonyContext, CeremonyOpen, TrusteeSetup};
use urne_credential::{BallotSignature, Credential, CredentialList, ListedCredential};
use urne_election::kinds::*;
use urne_election::{CastBallot, CloseRound, ElectionState, ManifestRecord, Phase, Replay};
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_record::{ContextId, ContextOpen, ContextType, Kind, Record};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn manifest() -> Manifest {
    Manifest::new(
        "Budget",
        vec![Contest {
            title: "Projets".into(),
            kind: ContestKind::Approval { min: 0, max: 10 },
            blank: false,
            options: (0..10).map(|i| format!("Projet {i}")).collect(),
        }],
    )
    .unwrap()
}

/// An election open for voting with `n` listed credentials, and one cast body per
/// credential (one real ballot, its credential field rewritten: apply reads only the
/// credential and the ciphertexts).
fn voting(n: usize) -> (ElectionState, Vec<Vec<u8>>) {
    let mut rng = rand::rng();
    let a = key(1);
    let record = ManifestRecord {
        manifest: manifest(),
        eligibility: None,
    };
    let open = ContextOpen {
        context_type: ContextType::ELECTION,
        nonce: [1; 16],
        name: "Bench".into(),
        parameters: record.parameters_hash(),
    }
    .to_body()
    .unwrap();
    let id = ContextId::derive(a.verifying_key().as_bytes(), &open);
    let mut replay = Replay::new(id, "bench.example");
    let mut index = 0;
    let mut post = |replay: &mut Replay, signer: &SigningKey, kind: Kind, body: &[u8]| {
        replay
            .feed(index, &Record::sign(id, kind, body, signer).unwrap())
            .unwrap();
        index += 1;
    };
    post(&mut replay, &a, CONTEXT_OPEN, &open);
    post(&mut replay, &a, ELECTION_MANIFEST, &record.to_body());
    post(&mut replay, &a, CONTEXT_PHASE, &[1]);
    // 2-of-2 (spec/20 §20.1: one key-holder alone never decrypts).
    let trustee_keys = [key(11), key(12)];
    let ceremony = CeremonyOpen::new(
        2,
        trustee_keys
            .iter()
            .map(|k| k.verifying_key().to_bytes())
            .collect(),
    )
    .unwrap();
    post(&mut replay, &a, CEREMONY_OPEN, &ceremony.encode());
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=2).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    for (signer, registration) in trustee_keys.iter().zip(&registrations) {
        post(
            &mut replay,
            signer,
            CEREMONY_REGISTER,
            &registration.encode(),
        );
    }
    let context = CeremonyContext::new(id.0, ceremony, &registrations).unwrap();
    let (states, hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|setup| setup.begin(context.clone(), &mut rng).unwrap())
        .unzip();
    for (signer, hash) in trustee_keys.iter().zip(&hashes) {
        post(
            &mut replay,
            signer,
            CEREMONY_COMMITMENT_HASH,
            &hash.encode(),
        );
    }
    let (states, commitments): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|state| state.reveal(hashes.clone()))
        .unzip();
    for (signer, c) in trustee_keys.iter().zip(&commitments) {
        post(&mut replay, signer, CEREMONY_COMMITMENTS, &c.encode());
    }
    for (signer, state) in trustee_keys.iter().zip(states) {
        let (_, shares) = state.deal(commitments.clone(), &mut rng).unwrap();
        post(&mut replay, signer, CEREMONY_SHARES, &shares.encode());
    }
    post(
        &mut replay,
        &a,
        CEREMONY_CLOSE_ROUND,
        &CloseRound { round: 5 }.to_body(),
    );
    post(&mut replay, &a, CONTEXT_PHASE, &[2]);
    let voters: Vec<Credential> = (0..n).map(|_| Credential::generate(&mut rng)).collect();
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
        post(&mut replay, &a, ELECTION_CREDENTIALS, &part.to_bytes());
    }
    post(&mut replay, &a, CONTEXT_PHASE, &[3]);
    let sealed = replay.state().unwrap().sealed().unwrap().clone();
    let credential = CredentialKey(voters[0].public().to_bytes());
    let selection = [ContestSelection::approve(10, &[1, 4, 7]).unwrap()];
    let (ballot, _) =
        Ballot::encrypt(sealed.election(), &credential, &selection, &mut rng).unwrap();
    let signature = BallotSignature::sign(
        &voters[0],
        sealed.election().context(),
        urne_credential::Decision::Cast,
        &TrackingCode::of(&ballot).0,
        &mut rng,
    )
    .unwrap();
    let body = CastBallot::new(ballot, signature).to_body();
    // version ‖ u32 length ‖ ballot (version ‖ context ‖ credential ‖ …).
    let at = 1 + 4 + 1 + 32;
    let bodies = voters
        .iter()
        .map(|v| {
            let mut b = body.clone();
            b[at..at + 32].copy_from_slice(&v.public().to_bytes());
            b
        })
        .collect();
    (replay.into_state().unwrap(), bodies)
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("URNE_BENCH_BALLOTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let mut group = c.benchmark_group("election-fold");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function(format!("apply {n} ballot.cast"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut state, bodies) = voting(n);
                let start = Instant::now();
                for (i, body) in bodies.iter().enumerate() {
                    state.apply(BALLOT_CAST, body, i as u64).unwrap();
                }
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function(format!("move to tallying over {n} ballots"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut state, bodies) = voting(n);
                for (i, body) in bodies.iter().enumerate() {
                    state.apply(BALLOT_CAST, body, i as u64).unwrap();
                }
                state.apply_phase(Phase::Closed).unwrap();
                let start = Instant::now();
                state.apply_phase(Phase::Tallying).unwrap();
                total += start.elapsed();
            }
            total
        })
    });
    group.bench_function(
        format!("encrypted tally of {n} ballots (outside the lock)"),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let (mut state, bodies) = voting(n);
                    for (i, body) in bodies.iter().enumerate() {
                        state.apply(BALLOT_CAST, body, i as u64).unwrap();
                    }
                    state.apply_phase(Phase::Closed).unwrap();
                    state.apply_phase(Phase::Tallying).unwrap();
                    let sealed = state.sealed().unwrap().clone();
                    let start = Instant::now();
                    assert_eq!(sealed.tally().unwrap().ballots, n as u64);
                    total += start.elapsed();
                }
                total
            })
        },
    );
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
