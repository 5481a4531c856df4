//! What an anonymous ballot's ring signature costs a board or a verifier (spec/23
//! §23.13): each verified on its own, and the signatures over one bucket verified in one
//! Triptych batch (spec/08 §8.9), as `verify_deferred_casts` does, at buckets of 2^8 and
//! 2^12 keys. Reported per signature; the ratio single ÷ batched is what batching per
//! bucket buys. A third case is a batch with one junk signature among the others (well
//! formed, its tag the ballot's credential, over another ballot's context: what anyone
//! can send without a credential): the batch fails and every signature in it is checked
//! alone to name the bad one, as the board's precheck group does (spec/23 §23.13); its
//! cost per group, against the same signatures checked alone, is what one junk ballot
//! costs the board.
//!
//! `cargo bench -p urne-election --bench anonymous` (URNE_BENCH_SIGNATURES, default 32:
//! signatures per batch; URNE_BENCH_BITS, default `8,12`: bucket sizes).

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use urne_ballot::TrackingCode;
use urne_credential::registry::{Cosignature, Register, SignedSnapshot, Snapshot};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_crypto::triptych::{self, BatchVerifier, Ring};
use urne_election::anonymous::{
    bucket_ring, linking_base, position_of, sign_ballot, signature_context,
};

const REGISTRY: [u8; 32] = [0x42; 32];
const CONTEXT: [u8; 32] = [0x17; 32];

fn signatures_per_batch() -> usize {
    std::env::var("URNE_BENCH_SIGNATURES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

/// `n` wallets in one bucket of 2^`bits` keys, and each one's signature over its own
/// ballot's tracking code.
fn signed(
    bits: u8,
    n: usize,
) -> (
    Ring,
    curve25519_dalek::ristretto::RistrettoPoint,
    Vec<(Vec<u8>, triptych::Signature)>,
) {
    let mut rng = rand::rng();
    let mut register = Register::new();
    let mut wallets = Vec::new();
    for i in 0..n {
        let wallet = Wallet::generate(&[(ATTRIBUTE_DISTRICT, 1)], &mut rng).unwrap();
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
    let key = ed25519_dalek::SigningKey::from_bytes(&[0x60; 32]);
    let (header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], bits);
    let id = header.id();
    let signed = SignedSnapshot {
        header,
        cosignatures: vec![Cosignature::sign(0, &key, &id)],
    };
    let snapshot = Snapshot::new(signed, entries).unwrap();
    assert_eq!(snapshot.header().bucket_count(), 1);
    let started = Instant::now();
    let items: Vec<(Vec<u8>, triptych::Signature)> = wallets
        .iter()
        .enumerate()
        .map(|(i, wallet)| {
            let position = position_of(&snapshot, wallet.secret()).unwrap();
            let tracking = TrackingCode([i as u8; 32]);
            let signature = sign_ballot(
                &mut rng,
                wallet.secret(),
                &snapshot,
                position,
                &CONTEXT,
                urne_election::Decision::Cast,
                &tracking,
            )
            .unwrap();
            (
                signature_context(
                    urne_election::Decision::Cast,
                    &CONTEXT,
                    &snapshot.id(),
                    0,
                    &tracking,
                ),
                signature,
            )
        })
        .collect();
    eprintln!(
        "2^{bits}: signing (ring built each time, as a voter's device does) {:.1} ms per signature, signature {} bytes",
        started.elapsed().as_secs_f64() * 1e3 / n as f64,
        items[0].1.to_bytes().len()
    );
    (
        bucket_ring(&snapshot, 0).unwrap().unwrap(),
        linking_base(&snapshot.id(), &CONTEXT),
        items,
    )
}

/// Time and iterations over every sample criterion took (warm-up included), so the
/// ratio printed is of means, not of one sample.
#[derive(Default)]
struct Total {
    elapsed: Duration,
    iterations: u64,
}

impl Total {
    fn add(&mut self, elapsed: Duration, iterations: u64) -> Duration {
        self.elapsed += elapsed;
        self.iterations += iterations;
        elapsed
    }

    fn per_signature_ms(&self, n: usize) -> f64 {
        self.elapsed.as_secs_f64() * 1e3 / (self.iterations as f64 * n as f64)
    }
}

fn verification(c: &mut Criterion) {
    let n = signatures_per_batch();
    let mut group = c.benchmark_group("anonymous ballot signature");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    let bucket_bits: Vec<u8> = std::env::var("URNE_BENCH_BITS")
        .ok()
        .map(|v| v.split(',').filter_map(|b| b.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![8, 12]);
    for bits in bucket_bits {
        let (ring, u, items) = signed(bits, n);
        let mut junk = items.clone();
        let last = junk.len() - 1;
        junk[last].0 = junk[0].0.clone();
        let mut single = Total::default();
        let mut batched = Total::default();
        let mut with_junk = Total::default();
        group.bench_function(format!("2^{bits} single, {n} signatures"), |b| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                for _ in 0..iterations {
                    for (context, signature) in &items {
                        triptych::verify(&ring, &u, context, signature).unwrap();
                    }
                }
                single.add(started.elapsed(), iterations)
            })
        });
        group.bench_function(format!("2^{bits} batched, {n} signatures"), |b| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                for _ in 0..iterations {
                    let mut batch = BatchVerifier::new(&ring, u);
                    for (context, signature) in &items {
                        batch.push(context, signature);
                    }
                    batch.verify(&mut rand::rng()).unwrap();
                }
                batched.add(started.elapsed(), iterations)
            })
        });
        group.bench_function(format!("2^{bits} batched, {n} signatures, one junk"), |b| {
            b.iter_custom(|iterations| {
                let started = Instant::now();
                for _ in 0..iterations {
                    let mut batch = BatchVerifier::new(&ring, u);
                    for (context, signature) in &junk {
                        batch.push(context, signature);
                    }
                    let refused = batch.verify(&mut rand::rng());
                    assert!(
                        matches!(&refused, Err(triptych::Error::Batch { invalid }) if invalid.len() == 1),
                        "{refused:?}"
                    );
                }
                with_junk.add(started.elapsed(), iterations)
            })
        });
        let (single, batched, with_junk) = (
            single.per_signature_ms(n),
            batched.per_signature_ms(n),
            with_junk.per_signature_ms(n),
        );
        eprintln!(
            "2^{bits}: single {single:.3} ms, batched ({n} per batch) {batched:.3} ms per signature (means over every sample); single ÷ batched = {:.1}",
            single / batched
        );
        eprintln!(
            "2^{bits}: a batch of {n} with one junk signature {:.1} ms ({:.2}× the {n} checked alone, {:.1}× the batch without it): the junk ballot costs the board {:.1} ms",
            with_junk * n as f64,
            with_junk / single,
            with_junk / batched,
            (with_junk - batched) * n as f64
        );
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
