//! Every byte decoder: no panic, and decode-then-encode gives back the input exactly.
//! The first byte picks the decoder, the rest is its input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use urne_crypto::proofs::{BitRangeProof, DleqProof, RangeProof, SchnorrProof};
use urne_crypto::{Ciphertext, Point, PublicKey, Scalar, SecretScalar};

fn round_trip<T>(input: &[u8], decode: impl Fn(&[u8]) -> Result<T, urne_crypto::DecodeError>, encode: impl Fn(&T) -> Vec<u8>) {
    if let Ok(value) = decode(input) {
        assert_eq!(encode(&value), input, "decode-then-encode changed the bytes");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    match selector % 10 {
        0 => round_trip(input, Point::decode, |p| p.to_bytes().to_vec()),
        1 => round_trip(input, Point::decode_non_identity, |p| p.to_bytes().to_vec()),
        2 => round_trip(input, Scalar::decode, |s| s.to_bytes().to_vec()),
        3 => round_trip(input, SecretScalar::decode, |s| s.to_bytes().to_vec()),
        4 => round_trip(input, Ciphertext::decode, |c| c.to_bytes().to_vec()),
        5 => round_trip(input, PublicKey::decode, |k| k.to_bytes().to_vec()),
        6 => round_trip(input, SchnorrProof::decode, |p| p.to_bytes()),
        7 => round_trip(input, DleqProof::decode, |p| p.to_bytes()),
        8 => round_trip(input, RangeProof::decode, |p| p.to_bytes()),
        _ => round_trip(input, BitRangeProof::decode, |p| p.to_bytes()),
    }
});
