//! Every JSON decoder: no panic; what decodes re-encodes to the lowercase hex of its bytes
//! and decodes again to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use urne_crypto::encoding::to_hex;
use urne_crypto::proofs::{BitRangeProof, DleqProof, RangeProof, SchnorrProof};
use urne_crypto::{Ciphertext, Point, PublicKey, Scalar};

fn round_trip<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(text: &str, bytes: impl Fn(&T) -> Vec<u8>) {
    if let Ok(value) = serde_json::from_str::<T>(text) {
        let out = serde_json::to_string(&value).expect("serialising a decoded value");
        assert_eq!(out, format!("\"{}\"", to_hex(&bytes(&value))));
        let again: T = serde_json::from_str(&out).expect("re-decoding our own output");
        assert_eq!(again, value);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    let Ok(text) = std::str::from_utf8(input) else { return };
    match selector % 8 {
        0 => round_trip::<Point>(text, |p| p.to_bytes().to_vec()),
        1 => round_trip::<Scalar>(text, |s| s.to_bytes().to_vec()),
        2 => round_trip::<Ciphertext>(text, |c| c.to_bytes().to_vec()),
        3 => round_trip::<PublicKey>(text, |k| k.to_bytes().to_vec()),
        4 => round_trip::<SchnorrProof>(text, |p| p.to_bytes()),
        5 => round_trip::<DleqProof>(text, |p| p.to_bytes()),
        6 => round_trip::<RangeProof>(text, |p| p.to_bytes()),
        _ => round_trip::<BitRangeProof>(text, |p| p.to_bytes()),
    }
});
