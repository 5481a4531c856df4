//! A Triptych batch at 2^16 keys, verified in a loop, for `perf record` (spec/08 §8.9):
//! `cargo build --release -p urne-crypto --example profile_triptych` then
//! `perf record -g target/release/examples/profile_triptych`. `URNE_TRIPTYCH_BATCH` sets
//! the batch size (default 256), the first argument the number of batches (default 3).
#![allow(missing_docs, non_snake_case, clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_TABLE;
use urne_crypto::SecretScalar;
use urne_crypto::triptych::{BatchVerifier, Ring, Signature, Zeroizing, linking_base, sign};

/// CPU time of this thread in seconds (utime + stime of /proc/thread-self/stat, in clock
/// ticks of 10 ms): on a loaded machine wall time counts the other processes too.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let batch: usize = std::env::var("URNE_TRIPTYCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let size = 1usize << 16;
    let mut rng = rand::rng();
    let secrets: Vec<_> = (0..size)
        .map(|_| Zeroizing::new(*SecretScalar::random(&mut rng).expose_secret()))
        .collect();
    let ring = Ring::new(
        secrets
            .iter()
            .map(|r| RISTRETTO_BASEPOINT_TABLE * &**r)
            .collect(),
    )
    .expect("ring");
    let U = linking_base(&[1; 32], &[2; 32]);
    let signatures: Vec<(Vec<u8>, Vec<u8>)> = (0..8)
        .map(|i| {
            let l = i * 8191 + 5;
            let context = format!("signature {i}").into_bytes();
            let s = sign(&ring, l, &secrets[l], &U, &context, &mut rng).expect("sign");
            (context, s.to_bytes())
        })
        .collect();
    let p = ring.parameters();
    {
        use curve25519_dalek::ristretto::RistrettoPoint;
        use curve25519_dalek::traits::VartimeMultiscalarMul;
        let keys: Vec<RistrettoPoint> = (0..size).map(|k| *ring.key(k).expect("key")).collect();
        let scalars: Vec<_> = (0..size)
            .map(|_| *SecretScalar::random(&mut rng).expose_secret())
            .collect();
        let (start, cpu) = (Instant::now(), cpu_seconds());
        std::hint::black_box(RistrettoPoint::vartime_multiscalar_mul(&scalars, &keys));
        println!(
            "one multiscalar multiplication over the {size} ring keys: {:.1} ms wall, {:.0} ms CPU",
            start.elapsed().as_secs_f64() * 1e3,
            (cpu_seconds() - cpu) * 1e3
        );
    }
    for _ in 0..rounds {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let mut verifier = BatchVerifier::new(&ring, U);
        for k in 0..batch {
            let (context, bytes) = &signatures[k % signatures.len()];
            verifier.push(context, &Signature::from_bytes(bytes, p).expect("decode"));
        }
        verifier.verify(&mut rng).expect("valid");
        let elapsed = start.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu;
        println!(
            "batch of {batch}: {:.1} ms wall ({:.2} ms per signature), {:.0} ms CPU ({:.2} ms per signature)",
            elapsed * 1e3,
            elapsed * 1e3 / batch as f64,
            cpu * 1e3,
            cpu * 1e3 / batch as f64
        );
    }
}
