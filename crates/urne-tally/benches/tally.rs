//! Aggregation of 100,000 ten-option ballots, and their 2-of-3 decryption with discrete
//! logs. Figures and the command are in BENCHMARKS.md.
#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest,
};
use urne_credential::{Credential, CredentialList, ListedCredential};
use urne_tally::{aggregate, decrypt_tally, verify_result};

#[path = "../tests/support/mod.rs"]
mod support;

const VOTERS: usize = 100_000;
const OPTIONS: usize = 10;
/// Distinct encrypted ballots, reused in turn: aggregation does not look at the proofs,
/// and making 100,000 ballots with proofs would take minutes of set-up.
const DISTINCT: usize = 64;

fn bench(c: &mut Criterion) {
    let mut rng = rand::rng();
    let (outcome, keys) = support::ceremony(2, 3);
    let listed: Vec<ListedCredential> = (0..VOTERS)
        .map(|i| ListedCredential {
            credential: Credential::generate(&mut rng).public(),
            // One voter in ten weighs 3: the sums take both paths (plain and scaled).
            weight: if i % 10 == 0 { 3 } else { 1 },
        })
        .collect();
    let credentials = CredentialList::new(listed.clone()).unwrap();
    let manifest = Manifest::new(
        "Bench",
        vec![Contest {
            title: "Ten options".into(),
            kind: ContestKind::SingleChoice,
            blank: false,
            options: (0..OPTIONS).map(|i| format!("Option {i}")).collect(),
        }],
    )
    .unwrap();
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &credentials.root().0,
        board_origin: "bench.example/urne",
        context_id: &[1; 32],
    })
    .unwrap();
    let templates: Vec<Ballot> = (0..DISTINCT)
        .map(|i| {
            let choice = ContestSelection::single(OPTIONS, i % OPTIONS).unwrap();
            let key = CredentialKey(listed[i].credential.to_bytes());
            Ballot::encrypt(&election, &key, &[choice], &mut rng)
                .unwrap()
                .0
        })
        .collect();
    let ballots: Vec<Ballot> = listed
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let mut ballot = templates[i % DISTINCT].clone();
            ballot.credential = CredentialKey(entry.credential.to_bytes());
            ballot
        })
        .collect();

    let mut group = c.benchmark_group("tally");
    group.sample_size(10);
    group.bench_function("aggregate 100,000 ten-option ballots", |b| {
        b.iter(|| aggregate(&election, &credentials, &ballots).unwrap());
    });
    let aggregation = aggregate(&election, &credentials, &ballots).unwrap();
    let ciphertexts = aggregation.tally.ciphertexts();
    group.bench_function("decryption shares of one trustee (10 sums)", |b| {
        b.iter(|| {
            keys[0]
                .decryption_shares(election.context(), &ciphertexts, &mut rand::rng())
                .unwrap()
        });
    });
    let shares: Vec<_> = [0usize, 2]
        .iter()
        .map(|&j| {
            keys[j]
                .decryption_shares(election.context(), &ciphertexts, &mut rand::rng())
                .unwrap()
        })
        .collect();
    group.bench_function("2-of-3 decryption and discrete logs (bound 120,000)", |b| {
        b.iter(|| decrypt_tally(&election, &outcome, &aggregation, &shares).unwrap());
    });
    let result = decrypt_tally(&election, &outcome, &aggregation, &shares).unwrap();
    group.bench_function("verify_result over 100,000 ballots", |b| {
        b.iter(|| {
            verify_result(
                &election,
                &outcome,
                &credentials,
                &ballots,
                &shares,
                &result,
            )
            .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
