//! One test per rule of the fold (spec/40): each record below passes every other check and
//! fails only the one named, refused by the fold the board runs and, forced into the log by
//! a dishonest board, named by the recount at its index and field.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::Chamber;
use ed25519_dalek::SigningKey;
use urne_assembly::body::DivisionEvent;
use urne_assembly::{
    Correction, DivisionResult, Member, Presence, ProxyGrant, ProxyRevoke, Roster, RosterChange,
    RosterOp, Vote, VoteChange, kinds, recount,
};
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;

/// Refused by the fold with `field`; forced into the log, named by the recount.
fn refused(c: &mut Chamber, kind: Kind, body: &[u8], signer: &SigningKey, field: &str) {
    let e = c.post(kind, body, signer).unwrap_err();
    assert_eq!(e.field, field, "fold: {e}");
    let at = c.force(kind, body, signer);
    // A chamber's record is judged whether or not a sitting of it is in the log.
    let v = if kinds::CHAMBER.contains(&kind) {
        urne_assembly::recount_sittings(&c.log).unwrap_err()
    } else {
        recount(c.id, &c.log).unwrap_err()
    };
    assert_eq!((v.index, v.field.as_str()), (at, field), "recount: {v}");
    c.log.pop();
}

fn event(kind: Kind, division: u32, time: u64) -> Vec<u8> {
    DivisionEvent {
        division,
        time,
        reason: "incident".into(),
    }
    .to_body(kind)
    .unwrap()
}

fn roster(version: u32, c: &Chamber) -> Roster {
    Roster {
        version,
        groups: vec!["Left".into(), "Right".into()],
        members: c
            .members
            .iter()
            .map(|k| Member {
                key: k.verifying_key().to_bytes(),
                group: 0,
                name: "M".into(),
            })
            .collect(),
    }
}

#[test]
fn setup_records_posted_twice_or_out_of_rule_are_refused() {
    // In setup: the rules and the roster are posted; a second of each is refused.
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    // The harness has put the chamber in force: these are refused by phase, so check
    // them against a chamber still in setup (its opening, rules and roster).
    c.log.truncate(3);
    c.fold = urne_assembly::Recount::new();
    let log = std::mem::take(&mut c.log);
    for (_, record) in log {
        c.post_record(record).unwrap();
    }
    let officer = c.officer.clone();
    let clerk = c.clerk.clone();
    // The same rules again are the same bytes (only they hash to the parameters): a
    // duplicate; other rules are refused as a second posting.
    let rules = common::rules(&clerk, VoteChange::FinalOnFirstCast).to_body();
    refused(&mut c, kinds::CHAMBER_RULES, &rules, &officer, "record");
    let other = common::rules(&clerk, VoteChange::LastVoteCounts).to_body();
    refused(&mut c, kinds::CHAMBER_RULES, &other, &officer, "body");
    let again = roster(2, &c).to_body().unwrap();
    refused(&mut c, kinds::ROSTER_MEMBERS, &again, &clerk, "body");
}

#[test]
fn a_roster_of_version_0_is_refused() {
    let c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    // A fresh sitting whose roster says version 0.
    let mut fresh = Chamber::new(4, VoteChange::FinalOnFirstCast);
    fresh.log.truncate(2);
    fresh.fold = urne_assembly::Recount::new();
    let log = std::mem::take(&mut fresh.log);
    for (_, record) in log {
        fresh.post_record(record).unwrap();
    }
    let clerk = c.clerk.clone();
    let zero = roster(0, &c).to_body().unwrap();
    refused(
        &mut fresh,
        kinds::ROSTER_MEMBERS,
        &zero,
        &clerk,
        "body.version_number",
    );
    // Decoding: a duplicate key, a group out of range.
    let mut twice = roster(1, &c);
    twice.members[2].key = twice.members[0].key;
    let e = urne_assembly::decode(kinds::ROSTER_MEMBERS, &twice.to_body().unwrap())
        .unwrap()
        .unwrap_err();
    assert_eq!(e.field(), "body.members");
    let mut out = roster(1, &c);
    out.members[1].group = 2;
    let e = urne_assembly::decode(kinds::ROSTER_MEMBERS, &out.to_body().unwrap())
        .unwrap()
        .unwrap_err();
    assert_eq!(e.field(), "body.members[1].group");
}

#[test]
fn roster_changes_break_one_rule_each() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let clerk = c.clerk.clone();
    let change = |version: u32, member: u32, op: RosterOp| {
        RosterChange {
            version,
            member,
            op,
        }
        .to_body()
    };
    refused(
        &mut c,
        kinds::ROSTER_CHANGE,
        &change(3, 0, RosterOp::Revoke),
        &clerk,
        "body.version_number",
    );
    // Member 1 arrives and grants a delegation, then is revoked: both end.
    c.presence(1, true).unwrap();
    c.grant(1, 2, 3_600).unwrap();
    c.post(
        kinds::ROSTER_CHANGE,
        &change(2, 1, RosterOp::Revoke),
        &clerk,
    )
    .unwrap();
    let state = c.state();
    assert!(!state.is_present(c.chamber(), 1));
    assert!(state.grant_in_force(c.chamber(), 1).is_none());
    refused(
        &mut c,
        kinds::ROSTER_CHANGE,
        &change(3, 1, RosterOp::Revoke),
        &clerk,
        "body.member",
    );
    // A key held now, and a retired key (member 1's).
    let held = c.member(0).verifying_key().to_bytes();
    let retired = c.member(1).verifying_key().to_bytes();
    for key in [held, retired] {
        refused(
            &mut c,
            kinds::ROSTER_CHANGE,
            &change(3, 2, RosterOp::Rotate(key)),
            &clerk,
            "body.key",
        );
    }
}

#[test]
fn presence_and_proxies_break_one_rule_each() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let m0 = c.member(0);
    let presence = Presence {
        sequence: c.seq(0),
        roster_version: 2,
        present: true,
    }
    .to_body();
    refused(
        &mut c,
        kinds::PRESENCE,
        &presence,
        &m0,
        "body.roster_version",
    );
    let grant = |c: &Chamber, from: u32, delegate: u32| {
        ProxyGrant {
            sequence: c.seq(from),
            roster_version: 1,
            delegate,
            seconds: 3_600,
            reason: "illness".into(),
        }
        .to_body()
        .unwrap()
    };
    let body = grant(&c, 0, 0);
    refused(&mut c, kinds::PROXY_GRANT, &body, &m0, "body.delegate");
    // A revoked delegate.
    let clerk = c.clerk.clone();
    let revoke3 = RosterChange {
        version: 2,
        member: 3,
        op: RosterOp::Revoke,
    }
    .to_body();
    c.post(kinds::ROSTER_CHANGE, &revoke3, &clerk).unwrap();
    let mut body = grant(&c, 0, 3);
    // The roster version moved on: the grant says the one in force.
    body[5..9].copy_from_slice(&2u32.to_be_bytes());
    refused(&mut c, kinds::PROXY_GRANT, &body, &m0, "body.delegate");
    // Nothing in force to revoke.
    let revoke = ProxyRevoke { sequence: c.seq(0) }.to_body();
    refused(&mut c, kinds::PROXY_REVOKE, &revoke, &m0, "body");

    // Rules that allow no proxies (the harness's sitting allows one): a fold of its own.
    let c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let officer = c.officer.verifying_key().to_bytes();
    let mut chamber = urne_assembly::ChamberState::new(
        officer,
        urne_assembly::parameters_hash(&rules_body_no_proxies(&c)),
    );
    let decoded = urne_assembly::decode(kinds::CHAMBER_RULES, &rules_body_no_proxies(&c))
        .unwrap()
        .unwrap();
    chamber.check(&officer, &decoded).unwrap();
    chamber.apply(&decoded).unwrap();
    let roster_body = roster(1, &c).to_body().unwrap();
    let decoded = urne_assembly::decode(kinds::ROSTER_MEMBERS, &roster_body)
        .unwrap()
        .unwrap();
    let clerk = c.clerk.verifying_key().to_bytes();
    chamber.check(&clerk, &decoded).unwrap();
    chamber.apply(&decoded).unwrap();
    chamber
        .check_phase(urne_assembly::ChamberPhase::InForce)
        .unwrap();
    chamber.apply_phase(urne_assembly::ChamberPhase::InForce);
    let mut state = urne_assembly::SittingState::new(officer, urne_record::ContextId([9; 32]));
    state
        .check_phase(Some(&chamber), urne_assembly::Phase::InSession)
        .unwrap();
    state.apply_phase(urne_assembly::Phase::InSession);
    let decoded = urne_assembly::decode(kinds::PROXY_GRANT, &grant(&c, 0, 1))
        .unwrap()
        .unwrap();
    let e = state
        .check(&chamber, &c.member(0).verifying_key().to_bytes(), &decoded)
        .unwrap_err();
    assert_eq!(e.field(), "body");
    assert!(e.to_string().contains("no proxies"), "{e}");
}

fn rules_body_no_proxies(c: &Chamber) -> Vec<u8> {
    let mut rules = common::rules(&c.clerk, VoteChange::FinalOnFirstCast);
    rules.max_proxies_held = 0;
    rules.to_body()
}

#[test]
fn division_events_break_one_rule_each() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    let officer = c.officer.clone();
    let body = c.open_body(2, 100, false);
    refused(
        &mut c,
        kinds::DIVISION_OPEN,
        &body,
        &officer,
        "body.division",
    );
    // No division yet: resume, suspend, close name it.
    for kind in [
        kinds::DIVISION_SUSPEND,
        kinds::DIVISION_RESUME,
        kinds::DIVISION_CLOSE,
    ] {
        refused(
            &mut c,
            kind,
            &event(kind, 1, 100),
            &officer,
            "body.division",
        );
    }
    c.open_division(1, 100).unwrap();
    let body = c.open_body(2, 100, false);
    refused(
        &mut c,
        kinds::DIVISION_OPEN,
        &body,
        &officer,
        "body.division",
    );
    // Resume an open division; suspend then suspend again; an event before the clock.
    let resume = event(kinds::DIVISION_RESUME, 1, 150);
    refused(
        &mut c,
        kinds::DIVISION_RESUME,
        &resume,
        &officer,
        "body.division",
    );
    let early = event(kinds::DIVISION_SUSPEND, 1, 99);
    refused(
        &mut c,
        kinds::DIVISION_SUSPEND,
        &early,
        &officer,
        "body.time",
    );
    c.event(kinds::DIVISION_SUSPEND, 1, 150).unwrap();
    let again = event(kinds::DIVISION_SUSPEND, 1, 160);
    refused(
        &mut c,
        kinds::DIVISION_SUSPEND,
        &again,
        &officer,
        "body.division",
    );
    // The sitting cannot close with a suspended division.
    refused(&mut c, CONTEXT_PHASE, &[2], &officer, "body");
    c.event(kinds::DIVISION_RESUME, 1, 200).unwrap();
    c.vote(0, 1, 0).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let close = event(kinds::DIVISION_CLOSE, 1, 710);
    refused(
        &mut c,
        kinds::DIVISION_CLOSE,
        &close,
        &officer,
        "body.division",
    );
    let body = c.open_body(2, 650, false);
    refused(&mut c, kinds::DIVISION_OPEN, &body, &officer, "body.time");
    // Results: wrong choice count, wrong roster version; then twice; then void after it.
    let result = c.expected_result(1);
    let mut fewer = result.clone();
    fewer.counts.pop();
    let mut other_roster = result.clone();
    other_roster.roster_version = 2;
    for (bad, field) in [
        (fewer, "body.choice_count"),
        (other_roster, "body.roster_version"),
    ] {
        let body = bad.to_body().unwrap();
        refused(&mut c, kinds::DIVISION_RESULT, &body, &officer, field);
    }
    let posted = result.to_body().unwrap();
    c.post(kinds::DIVISION_RESULT, &posted, &officer).unwrap();
    // The same result again is the same bytes (a duplicate); one that differs only in its
    // roll-call hash is refused as a second result, before its fields are compared.
    let mut second: DivisionResult = result.clone();
    second.roll_call_hash = [0; 32];
    refused(
        &mut c,
        kinds::DIVISION_RESULT,
        &second.to_body().unwrap(),
        &officer,
        "body.division",
    );
    let void = event(kinds::DIVISION_VOID, 1, 800);
    refused(
        &mut c,
        kinds::DIVISION_VOID,
        &void,
        &officer,
        "body.division",
    );
}

#[test]
fn votes_and_corrections_break_one_rule_each() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.all_present();
    let officer = c.officer.clone();
    // A secret division: a plain vote is refused, and so is a correction.
    let body = c.open_body(1, 100, true);
    c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap();
    let m0 = c.member(0);
    let body = c.vote_body(0, 1, 0, None);
    refused(&mut c, kinds::VOTE, &body, &m0, "body.division");
    let correction = |c: &Chamber, m: u32, division: u32, choice: u8| {
        Correction {
            sequence: c.seq(m),
            division,
            choice,
            note: String::new(),
        }
        .to_body()
        .unwrap()
    };
    let body = correction(&c, 0, 1, 0);
    refused(&mut c, kinds::VOTE_CORRECTION, &body, &m0, "body.division");
    c.event(kinds::DIVISION_VOID, 1, 200).unwrap();
    // A voided division and one that does not exist: no roll call to correct.
    for division in [1, 9] {
        let body = correction(&c, 0, division, 0);
        refused(&mut c, kinds::VOTE_CORRECTION, &body, &m0, "body.division");
    }
    // A public division: a correction's choice out of range; on_behalf = self; on behalf
    // of a revoked member whose delegation named the signer.
    c.grant(3, 0, 3_600).unwrap();
    c.open_division(2, 300).unwrap();
    let body = correction(&c, 0, 2, 3);
    refused(&mut c, kinds::VOTE_CORRECTION, &body, &m0, "body.choice");
    let body = c.vote_body(0, 2, 0, Some(0));
    refused(&mut c, kinds::VOTE, &body, &m0, "body.on_behalf");
    c.proxy_vote(0, 3, 2, 1).unwrap();
    let clerk = c.clerk.clone();
    let revoke3 = RosterChange {
        version: 2,
        member: 3,
        op: RosterOp::Revoke,
    }
    .to_body();
    c.post(kinds::ROSTER_CHANGE, &revoke3, &clerk).unwrap();
    let body = Vote {
        sequence: c.seq(0),
        division: 2,
        text_hash: c.text_hash,
        roster_version: 1,
        choice: 0,
        on_behalf: Some(3),
    }
    .to_body();
    refused(&mut c, kinds::VOTE, &body, &m0, "body.on_behalf");
    // The vote cast before the revocation stays counted.
    assert_eq!(c.expected_result(2).counts, vec![0, 1, 0]);
    // A correction in range is recorded.
    let body = correction(&c, 0, 2, 2);
    c.post(kinds::VOTE_CORRECTION, &body, &m0).unwrap();
}
