//! Criterion benchmarks of urne-ballot (figures in ../BENCHMARKS.md).
//!
//! Run: `cargo bench -p urne-ballot --bench ballot`. Verification starts from the
//! ballot's bytes, as the board and the verifier do, so decoding is in every figure.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use curve25519_dalek::traits::VartimeMultiscalarMul;
use curve25519_dalek::{RistrettoPoint, Scalar};
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest, SelectionRule,
};
use urne_crypto::{BatchVerifier, SecretKey};

const BATCH: usize = 100;

/// One approval contest of 10 options, 0 to 10 selections: the reference ballot.
fn election() -> Election {
    let manifest = Manifest::new(
        "bench",
        vec![Contest {
            title: "10-option approval".into(),
            kind: ContestKind::Approval { min: 0, max: 10 },
            blank: false,
            options: (0..10).map(|i| format!("option {i}")).collect(),
        }],
    )
    .expect("manifest");
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &key,
        credential_root: &[1; 32],
        board_origin: "bench.urne.example",
        context_id: &[2; 32],
    })
    .expect("election")
}

fn credential(i: usize) -> CredentialKey {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&(i as u64).to_be_bytes());
    CredentialKey(key)
}

fn selection(i: usize) -> Vec<ContestSelection> {
    let chosen: Vec<usize> = (0..10).filter(|o| (i + o).is_multiple_of(3)).collect();
    vec![ContestSelection::approve(10, &chosen).unwrap()]
}

/// Encrypt, verify one, verify a batch of 100, and the floor in the same run: decode the
/// 100 ballots (every point decompressed) and one multiscalar multiplication over their
/// points, what any batch verifier must do at least.
fn ballot_group(
    c: &mut Criterion,
    name: &str,
    election: &Election,
    selection: fn(usize) -> Vec<ContestSelection>,
) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("encrypt_and_prove", |b| {
        b.iter(|| {
            Ballot::encrypt(election, &credential(0), &selection(0), &mut rand::rng())
                .expect("encrypt")
        })
    });
    let ballots: Vec<(CredentialKey, Vec<u8>)> = (0..BATCH)
        .map(|i| {
            let (ballot, _) =
                Ballot::encrypt(election, &credential(i), &selection(i), &mut rand::rng())
                    .expect("encrypt");
            (credential(i), ballot.to_bytes())
        })
        .collect();
    let relations = |(credential, bytes): &(CredentialKey, Vec<u8>)| {
        Ballot::decode(bytes)
            .expect("decode")
            .relations(election, credential)
            .expect("shape")
    };
    group.bench_function("verify one (decode + per-equation check)", |b| {
        b.iter(|| {
            let (credential, bytes) = &ballots[0];
            Ballot::decode(bytes)
                .expect("decode")
                .verify(election, credential)
                .expect("valid")
        })
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("verify batch of 100 (decode + batch)", |b| {
        b.iter(|| {
            let mut batch = BatchVerifier::with_capacity(BATCH);
            for (i, ballot) in ballots.iter().enumerate() {
                batch.push(i, Ok(relations(ballot)));
            }
            batch.verify(&mut rand::rng()).expect("valid batch")
        })
    });
    let points: usize = ballots.iter().map(|b| relations(b).local_points()).sum();
    let bases: Vec<RistrettoPoint> = (0..points)
        .map(|_| RistrettoPoint::random(&mut rand::rng()))
        .collect();
    let scalars: Vec<Scalar> = (0..points)
        .map(|_| Scalar::random(&mut rand::rng()))
        .collect();
    group.bench_function(
        format!("floor: decode 100 + one MSM of their {points} points"),
        |b| {
            b.iter(|| {
                for (_, bytes) in &ballots {
                    std::hint::black_box(Ballot::decode(bytes).expect("decode"));
                }
                RistrettoPoint::vartime_multiscalar_mul(&scalars, &bases)
            })
        },
    );
    group.finish();
}

fn approval_ballot(c: &mut Criterion) {
    ballot_group(c, "10-option approval ballot", &election(), selection);
}

/// 30 projects under a budget of 2^20 − 1 with no minimum spend: the spend is proven by
/// two 20-bit proofs (issue 12's reference ballot).
fn budget_election() -> Election {
    let budget = (1 << 20) - 1;
    let manifest = Manifest::new(
        "bench",
        vec![Contest {
            title: "30-project budget".into(),
            kind: ContestKind::Budget {
                min_projects: 0,
                max_projects: 30,
                min_spend: 0,
                budget,
                rule: SelectionRule::MaxApprovals,
                costs: (0..30).map(|i| 20_000 + 3_000 * i).collect(),
            },
            blank: false,
            options: (0..30).map(|i| format!("project {i}")).collect(),
        }],
    )
    .expect("manifest");
    let key = SecretKey::generate(&mut rand::rng()).public_key();
    Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &key,
        credential_root: &[1; 32],
        board_origin: "bench.urne.example",
        context_id: &[3; 32],
    })
    .expect("election")
}

/// Five to ten projects, well within the budget.
fn budget_selection(i: usize) -> Vec<ContestSelection> {
    let chosen: Vec<usize> = (0..30).filter(|o| (i + o).is_multiple_of(5)).collect();
    vec![ContestSelection::approve(30, &chosen).unwrap()]
}

fn budget_ballot(c: &mut Criterion) {
    ballot_group(
        c,
        "30-project budget ballot, 2^20 range",
        &budget_election(),
        budget_selection,
    );
}

criterion_group!(benches, approval_ballot, budget_ballot);
criterion_main!(benches);
