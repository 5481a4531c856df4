//! Profiling harness (not a benchmark): verifies 1,000 0/1 selections in batches,
//! repeatedly, so a profiler sees the batched path. `cargo run --release --example profile_batch`.
#![allow(missing_docs, clippy::expect_used, clippy::unwrap_used)]

use urne_crypto::proofs::{RangeProof, ValueRange};
use urne_crypto::{BatchVerifier, Ciphertext, ContextHash, EncryptionKey, ProofContext, SecretKey};

fn main() {
    let key = EncryptionKey::new(SecretKey::generate(&mut rand::rng()).public_key());
    let hash = ContextHash([1; 32]);
    let ctx = ProofContext::new(&hash, b"profile");
    let range = ValueRange::new(0, 1).unwrap();
    let items: Vec<(Vec<u8>, Vec<u8>)> = (0..1000)
        .map(|i| {
            let (ct, proof, _) =
                RangeProof::encrypt_and_prove(&ctx, &key, i % 2, range, &mut rand::rng()).unwrap();
            (ct.to_bytes().to_vec(), proof.to_bytes())
        })
        .collect();
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(30);
    for _ in 0..rounds {
        let mut batch = BatchVerifier::with_capacity(items.len());
        for (i, (ct, proof)) in items.iter().enumerate() {
            let ct = Ciphertext::decode(ct).unwrap();
            let proof = RangeProof::decode(proof).unwrap();
            batch.push(i, proof.relations(&ctx, key.public_key(), &ct, range));
        }
        batch.verify(&mut rand::rng()).unwrap();
    }
}
