//! V12's differential test: the verifier's own fold of chambers and sittings
//! (urne_verify::assembly) against the board's (urne-assembly's recount), on honest
//! sittings and on logs a dishonest board could write — each record dropped, repeated or
//! moved, random byte flips in every body re-signed by the record's own signer, and
//! records the board's fold refuses forced in. Both must agree on accept or refuse, on
//! the first record refused and its field, and on every division's counts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../../urne-assembly/tests/common/mod.rs"]
mod common;

use std::collections::HashMap;

use common::Chamber;
use ed25519_dalek::SigningKey;
use rand::RngExt;
use urne_assembly::body::DivisionEvent;
use urne_assembly::{DEFAULT_PROXY_SECONDS, RosterChange, RosterOp, VoteChange, kinds};
use urne_record::Record;

/// An honest sitting touching every kind: presence, a delegation used and revoked, a
/// roll call with a proxy vote, its result, a correction, a voided division and its
/// rerun, a roster rotation and revocation, a suspension, and a second sitting.
fn honest(vote_change: VoteChange) -> Chamber {
    let mut c = Chamber::new(10, vote_change);
    for m in 0..9 {
        c.presence(m, true).unwrap();
    }
    c.grant(9, 0, DEFAULT_PROXY_SECONDS).unwrap();
    c.open_division(1, 1_000).unwrap();
    for m in 0..9 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    c.proxy_vote(0, 9, 1, 1).unwrap();
    if vote_change == VoteChange::LastVoteCounts {
        c.vote(4, 1, 2).unwrap();
    }
    c.event(kinds::DIVISION_SUSPEND, 1, 1_100).unwrap();
    c.event(kinds::DIVISION_RESUME, 1, 1_200).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    let correction = urne_assembly::Correction {
        sequence: c.seq(3),
        division: 1,
        choice: 2,
        note: "meant to abstain".into(),
    }
    .to_body()
    .unwrap();
    let m3 = c.member(3);
    c.post(kinds::VOTE_CORRECTION, &correction, &m3).unwrap();
    let revoke = urne_assembly::ProxyRevoke { sequence: c.seq(9) }.to_body();
    let m9 = c.member(9);
    c.post(kinds::PROXY_REVOKE, &revoke, &m9).unwrap();
    c.open_division(2, 2_000).unwrap();
    c.vote(1, 2, 0).unwrap();
    c.event(kinds::DIVISION_VOID, 2, 2_100).unwrap();
    let rotate = RosterChange {
        version: c.roster_version() + 1,
        member: 5,
        op: RosterOp::Rotate(common::key(55, 3).verifying_key().to_bytes()),
    }
    .to_body();
    let clerk = c.clerk.clone();
    c.post(kinds::ROSTER_CHANGE, &rotate, &clerk).unwrap();
    c.members[5] = common::key(55, 3);
    let revoke = RosterChange {
        version: c.roster_version() + 1,
        member: 8,
        op: RosterOp::Revoke,
    }
    .to_body();
    c.post(kinds::ROSTER_CHANGE, &revoke, &clerk).unwrap();
    let mut rerun = division_open(&c.open_body(3, 2_200, false));
    rerun.reruns = 2;
    let officer = c.officer.clone();
    c.post(kinds::DIVISION_OPEN, &rerun.to_body().unwrap(), &officer)
        .unwrap();
    for m in [0, 1, 2, 5, 6] {
        c.vote(m, 3, 0).unwrap();
    }
    c.event(kinds::DIVISION_CLOSE, 3, 2_800).unwrap();
    let result = c.expected_result(3);
    c.post_result(&result).unwrap();
    c.next_sitting(9);
    c.presence(0, true).unwrap();
    c.presence(1, true).unwrap();
    c.presence(2, true).unwrap();
    c.open_division(1, 3_000).unwrap();
    c.vote(2, 1, 1).unwrap();
    c
}

fn division_open(body: &[u8]) -> urne_assembly::DivisionOpen {
    match urne_assembly::decode(kinds::DIVISION_OPEN, body) {
        Some(Ok(urne_assembly::Decoded::DivisionOpen(open))) => open,
        other => panic!("{other:?}"),
    }
}

/// Every key that signs in these logs, by its public key: a dishonest board re-signs
/// nothing, but these tests play every signer to isolate one rule at a time.
fn signers(c: &Chamber) -> HashMap<[u8; 32], SigningKey> {
    let mut keys: Vec<SigningKey> = vec![c.officer.clone(), c.clerk.clone()];
    keys.extend((0..c.members.len() as u32).map(|m| common::key(m, 3)));
    keys.push(common::key(55, 3));
    keys.into_iter()
        .map(|k| (k.verifying_key().to_bytes(), k))
        .collect()
}

/// The two verdicts: the first violation's (index, field), or every sitting's divisions'
/// counts.
type Verdict = Result<Vec<Vec<Vec<u32>>>, (u64, String)>;

fn board(log: &[(u64, Record)]) -> Verdict {
    urne_assembly::recount_sittings(log)
        .map(|sittings| {
            sittings
                .into_iter()
                .map(|(_, ds)| ds.into_iter().map(|d| d.result.counts).collect())
                .collect()
        })
        .map_err(|v| (v.index, v.field))
}

fn verifier(log: &[(u64, Record)]) -> Verdict {
    urne_verify::assembly::recount(log)
        .map(|sittings| {
            sittings
                .into_iter()
                .map(|(_, ds)| ds.into_iter().map(|d| d.counts).collect())
                .collect()
        })
        .map_err(|v| (v.index, v.field))
}

/// Both folds' verdicts on `log`, which must agree; returns whether it was refused.
fn judge(case: &str, log: &[(u64, Record)]) -> bool {
    let (b, v) = (board(log), verifier(log));
    assert_eq!(
        b, v,
        "{case}: the board's fold (left) and the verifier's (right) disagree"
    );
    b.is_err()
}

fn reindexed(records: Vec<Record>) -> Vec<(u64, Record)> {
    records
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i as u64, r))
        .collect()
}

fn records(c: &Chamber) -> Vec<Record> {
    c.log.iter().map(|(_, r)| r.clone()).collect()
}

#[test]
fn both_folds_recount_honest_sittings_alike() {
    for vote_change in [VoteChange::FinalOnFirstCast, VoteChange::LastVoteCounts] {
        let c = honest(vote_change);
        let verdict = verifier(&c.log).unwrap();
        assert_eq!(verdict.len(), 2, "two sittings");
        assert_eq!(verdict[0].len(), 3, "three divisions in the first");
        assert!(!judge(&format!("honest, {vote_change:?}"), &c.log));
    }
}

#[test]
fn both_folds_agree_on_every_record_dropped_repeated_or_moved() {
    let c = honest(VoteChange::FinalOnFirstCast);
    let base = records(&c);
    let mut refused = 0;
    for at in 0..base.len() {
        let mut dropped = base.clone();
        dropped.remove(at);
        refused += usize::from(judge(&format!("record {at} dropped"), &reindexed(dropped)));
        let mut repeated = base.clone();
        repeated.push(base[at].clone());
        refused += usize::from(judge(
            &format!("record {at} repeated"),
            &reindexed(repeated),
        ));
        if at + 1 < base.len() {
            let mut swapped = base.clone();
            swapped.swap(at, at + 1);
            refused += usize::from(judge(
                &format!("records {at} and {} swapped", at + 1),
                &reindexed(swapped),
            ));
        }
    }
    assert!(refused > base.len(), "{refused} refusals");
}

#[test]
fn both_folds_agree_on_random_byte_flips_in_every_body_re_signed() {
    let mut rng = rand::rng();
    for vote_change in [VoteChange::FinalOnFirstCast, VoteChange::LastVoteCounts] {
        let c = honest(vote_change);
        let keys = signers(&c);
        let base = records(&c);
        let mut refused = 0;
        for at in 0..base.len() {
            let record = &base[at];
            let key = &keys[record.signer()];
            for _ in 0..6 {
                let mut body = record.body().to_vec();
                let byte = rng.random_range(0..body.len());
                body[byte] ^= 1 << rng.random_range(0..8);
                let mut log = base.clone();
                log[at] = Record::sign(record.context(), record.kind(), &body, key).unwrap();
                refused += usize::from(judge(
                    &format!(
                        "record {at} (kind 0x{:04x}) byte {byte} flipped",
                        record.kind().0
                    ),
                    &reindexed(log),
                ));
            }
        }
        assert!(refused > base.len() * 3, "{refused} refusals");
    }
}

#[test]
fn both_folds_agree_on_a_forged_signature_and_on_records_the_board_refuses() {
    let c = honest(VoteChange::FinalOnFirstCast);
    let base = records(&c);
    // A vote whose signature is not its signer's.
    let at = base.iter().position(|r| r.kind() == kinds::VOTE).unwrap();
    let forged = Record::sign(
        base[at].context(),
        kinds::VOTE,
        base[at].body(),
        &common::key(99, 3),
    )
    .unwrap();
    let mut log = base.clone();
    log[at] = forged;
    assert!(judge("a vote signed by a stranger", &reindexed(log)));

    // Records the board's fold refuses, forced into the first sitting after its last
    // record: each breaks one rule, named by both folds.
    type Case = fn(&Chamber) -> (urne_record::Kind, Vec<u8>, SigningKey);
    let event = |kind, division, time| {
        DivisionEvent {
            division,
            time,
            reason: "why".into(),
        }
        .to_body(kind)
        .unwrap()
    };
    let cases: Vec<(&str, &str, Case)> = vec![
        ("a second vote under first-cast-final", "vote.member", |c| {
            (kinds::VOTE, c.vote_body(2, 4, 1, None), c.member(2))
        }),
        ("a vote of a member not present", "presence", |c| {
            (kinds::VOTE, c.vote_body(9, 4, 1, None), c.member(9))
        }),
        ("a vote by the revoked member", "signer", |c| {
            (kinds::VOTE, c.vote_body(8, 4, 1, None), common::key(8, 3))
        }),
        ("a vote by a rotated-out key", "signer", |c| {
            (kinds::VOTE, c.vote_body(5, 4, 1, None), common::key(5, 3))
        }),
        ("a proxy vote after the revocation", "body.on_behalf", |c| {
            (kinds::VOTE, c.vote_body(0, 4, 1, Some(9)), c.member(0))
        }),
        (
            "a division opened while another runs",
            "body.division",
            |c| {
                (
                    kinds::DIVISION_OPEN,
                    c.open_body(5, 2_900, false),
                    c.officer.clone(),
                )
            },
        ),
        ("a vote on a closed division", "body.division", |c| {
            (kinds::VOTE, c.vote_body(6, 3, 1, None), c.member(6))
        }),
    ];
    for (case, field, make) in cases {
        let mut c = honest(VoteChange::FinalOnFirstCast);
        c.id = c.fold.sittings()[0];
        c.open_division(4, 2_900).unwrap();
        c.vote(2, 4, 0).unwrap();
        let (kind, body, key) = make(&c);
        let index = c.force(kind, &body, &key);
        assert!(judge(case, &c.log), "{case}: accepted");
        assert_eq!(
            verifier(&c.log).unwrap_err(),
            (index, field.to_owned()),
            "{case}"
        );
    }
    for (case, field, kind, time) in [
        (
            "a close of a closed division",
            "body.division",
            kinds::DIVISION_CLOSE,
            2_900,
        ),
        (
            "a void of a division with a result",
            "body.division",
            kinds::DIVISION_VOID,
            2_900,
        ),
        (
            "a suspend back in time",
            "body.time",
            kinds::DIVISION_SUSPEND,
            10,
        ),
    ] {
        let mut c = honest(VoteChange::FinalOnFirstCast);
        c.id = c.fold.sittings()[0];
        c.open_division(4, 2_900).unwrap();
        let division = match kind {
            kinds::DIVISION_CLOSE => 3,
            kinds::DIVISION_VOID => 1,
            _ => 4,
        };
        let officer = c.officer.clone();
        let index = c.force(kind, &event(kind, division, time), &officer);
        assert!(judge(case, &c.log), "{case}: accepted");
        assert_eq!(
            verifier(&c.log).unwrap_err(),
            (index, field.to_owned()),
            "{case}"
        );
    }
}
