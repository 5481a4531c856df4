//! Verifiers on arbitrary input: decode a statement and a proof from the bytes and
//! verify; any outcome but a panic is fine, and a forged proof must never verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urne_crypto::proofs::{BitRangeProof, DleqProof, DleqStatement, RangeProof, SchnorrProof, ValueRange};
use urne_crypto::{Ciphertext, ContextHash, Point, ProofContext, PublicKey};

fuzz_target!(|data: &[u8]| {
    if data.len() < 4 + 64 + 32 {
        return;
    }
    let (head, rest) = data.split_at(4);
    let hash = ContextHash([head[1]; 32]);
    let ctx = ProofContext::new(&hash, &head[2..4]);
    let (statement, proof) = rest.split_at(96);
    let Ok(key) = PublicKey::decode(&statement[..32]) else { return };
    let Ok(ciphertext) = Ciphertext::decode(&statement[32..]) else { return };
    let accepted = match head[0] % 4 {
        0 => SchnorrProof::decode(proof).map(|p| p.verify(&ctx, key.point()).is_ok()),
        1 => DleqProof::decode(proof).map(|p| {
            let s = DleqStatement { G1: key.point(), X1: ciphertext.alpha(), G2: ciphertext.beta(), X2: &Point::identity() };
            p.verify(&ctx, &s).is_ok()
        }),
        2 => RangeProof::decode(proof).map(|p| {
            let max = p.branches.len().saturating_sub(1) as u64;
            ValueRange::new(0, max).map(|r| p.verify(&ctx, &key, &ciphertext, r).is_ok()).unwrap_or(false)
        }),
        _ => BitRangeProof::decode(proof).map(|p| p.verify(&ctx, &key, &ciphertext, p.bits.len()).is_ok()),
    };
    // Producing a valid proof for an unknown witness from random bytes would be a break.
    assert!(!accepted.unwrap_or(false), "a fuzzed proof verified");
});
