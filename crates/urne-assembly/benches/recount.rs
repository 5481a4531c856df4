//! What counting and verifying one 577-member division costs (the Assemblée nationale's
//! size, issue 10's target: well under 100 ms): the recount of a sitting's log — every
//! signature in one Ed25519 batch (spec/40 §40.11), then the fold — with 577 presences,
//! 20 delegations, one division of 577 votes and its result. Also the signatures alone,
//! the division's 577 vote signatures alone in one batch, and every record of the log one
//! by one with `verify_strict`, to show what the batch buys.
//!
//! `cargo bench -p urne-assembly --bench recount`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use urne_assembly::{VoteChange, recount};

pub const MEMBERS: u32 = 577;

/// A sitting with one closed, published division of `MEMBERS` votes, 20 cast by proxy.
pub fn division_log() -> common::Chamber {
    let mut c = common::Chamber::new(MEMBERS, VoteChange::FinalOnFirstCast);
    for m in 0..MEMBERS - 20 {
        c.presence(m, true).unwrap();
    }
    for m in MEMBERS - 20..MEMBERS {
        c.grant(m, m - 100, urne_assembly::DEFAULT_PROXY_SECONDS)
            .unwrap();
    }
    c.open_division(1, 1_000).unwrap();
    for m in 0..MEMBERS - 20 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    for m in MEMBERS - 20..MEMBERS {
        c.proxy_vote(m - 100, m, 1, 0).unwrap();
    }
    c.event(urne_assembly::kinds::DIVISION_CLOSE, 1, 1_600)
        .unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    c
}

fn bench(c: &mut Criterion) {
    let chamber = division_log();
    let log = chamber.log.clone();
    let id = chamber.id;
    assert_eq!(
        recount(id, &log).unwrap()[0].roll_call.len(),
        MEMBERS as usize
    );
    let mut group = c.benchmark_group("assembly");
    group.sample_size(20);
    group.bench_function("recount_577_member_division_batch", |b| {
        b.iter(|| recount(id, &log).unwrap())
    });
    let votes: Vec<&urne_record::Record> = log
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.kind() == urne_assembly::kinds::VOTE)
        .collect();
    let messages: Vec<Vec<u8>> = votes.iter().map(|r| r.signed_message()).collect();
    let items: Vec<urne_assembly::batch::Item<'_>> = votes
        .iter()
        .zip(&messages)
        .map(|(r, message)| urne_assembly::batch::Item {
            message,
            key: *r.signer(),
            signature: r.signature(),
        })
        .collect();
    assert_eq!(items.len(), MEMBERS as usize);
    group.bench_function("batch_verify_577_vote_signatures", |b| {
        b.iter(|| urne_assembly::batch::verify(&items).unwrap())
    });
    group.bench_function("verify_strict_each_record_of_the_log", |b| {
        b.iter(|| {
            for (_, record) in &log {
                record.verify_signature().unwrap();
            }
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
