//! The ceremony's costs: a whole t-of-n ceremony (every trustee's side), its public
//! verification, and the decryption of a tally's ciphertexts.
//!
//! `cargo bench -p urne-ceremony`

#![allow(missing_docs, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use urne_ceremony::*;
use urne_crypto::{Ciphertext, ContextHash, EncryptionKey};

struct Done {
    transcript: CeremonyTranscript,
    trustees: Vec<QualifiedTrustee>,
}

fn ceremony(t: u16, n: u16) -> Done {
    let mut rng = rand::rng();
    let open = CeremonyOpen::new(t, (1..=n).map(|j| [j as u8; 32]).collect()).expect("open");
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=n).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    let context = CeremonyContext::new([7; 32], open.clone(), &registrations).expect("context");
    let (states, hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).expect("begin"))
        .unzip();
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    let (states, shares): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).expect("deal"))
        .unzip();
    let (states, complaints): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.receive(shares.clone()))
        .unzip();
    let complaints: Vec<Complaint> = complaints.into_iter().flatten().collect();
    let (states, answers): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.answer(complaints.clone()))
        .unzip();
    let answers: Vec<ComplaintAnswer> = answers.into_iter().flatten().collect();
    let trustees = states
        .into_iter()
        .map(|s| s.finish(answers.clone()).expect("finish"))
        .collect();
    Done {
        transcript: CeremonyTranscript {
            ceremony_id: [7; 32],
            open,
            registrations,
            commitment_hashes: hashes,
            commitments,
            shares,
            complaints,
            answers,
        },
        trustees,
    }
}

fn bench(c: &mut Criterion) {
    for (t, n) in [(2u16, 3u16), (3, 5), (5, 9)] {
        c.bench_function(&format!("ceremony/whole {t}-of-{n}, every trustee"), |b| {
            b.iter(|| ceremony(t, n))
        });
        let done = ceremony(t, n);
        c.bench_function(&format!("ceremony/verify_ceremony {t}-of-{n}"), |b| {
            b.iter(|| verify_ceremony(&done.transcript).expect("verifies"))
        });
    }

    // A 10-option tally decrypted by 2 of 3 trustees.
    let done = ceremony(2, 3);
    let outcome = done.trustees[0].outcome().clone();
    let key = EncryptionKey::new(outcome.joint_key);
    let ciphertexts: Vec<Ciphertext> = (0..10)
        .map(|m| key.encrypt(m, &mut rand::rng()).0)
        .collect();
    let election = ContextHash([1; 32]);
    c.bench_function("decryption/shares of 10 ciphertexts, one trustee", |b| {
        b.iter(|| {
            done.trustees[0]
                .key()
                .decryption_shares(&election, &ciphertexts, &mut rand::rng())
                .expect("shares")
        })
    });
    let shares: Vec<DecryptionShares> = done.trustees[..2]
        .iter()
        .map(|q| {
            q.key()
                .decryption_shares(&election, &ciphertexts, &mut rand::rng())
                .expect("shares")
        })
        .collect();
    c.bench_function("decryption/verify 10 shares of one trustee", |b| {
        b.iter(|| verify_decryption_shares(&outcome, &election, &ciphertexts, &shares[0]))
    });
    let verified: Vec<VerifiedDecryptionShares> = shares
        .iter()
        .map(|s| verify_decryption_shares(&outcome, &election, &ciphertexts, s).expect("valid"))
        .collect();
    c.bench_function("decryption/combine 2 of 3 for 10 ciphertexts", |b| {
        b.iter(|| combine(2, &ciphertexts, &verified).expect("combines"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
