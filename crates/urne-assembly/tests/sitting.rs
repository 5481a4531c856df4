//! The sitting's rules, each shown refusing a record that breaks it, in the fold the
//! board runs and in the recount a verifier runs over a log a dishonest board wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::Chamber;
use urne_assembly::body::DivisionEvent;
use urne_assembly::{
    DEFAULT_PROXY_SECONDS, DivisionStatus, Presence, RosterChange, RosterOp, VOTE_KEY, VoteChange,
    kinds, recount, recount_sittings,
};

/// An honest division: 10 members, 9 present, member 9 away with a proxy held by 0.
fn honest() -> Chamber {
    let mut c = Chamber::new(10, VoteChange::FinalOnFirstCast);
    for m in 0..9 {
        c.presence(m, true).unwrap();
    }
    c.grant(9, 0, DEFAULT_PROXY_SECONDS).unwrap();
    c.open_division(1, 1_000).unwrap();
    for m in 0..9 {
        c.vote(m, 1, (m % 3) as u8).unwrap();
    }
    c.proxy_vote(0, 9, 1, 1).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
    c
}

#[test]
fn honest_division_recounts_to_its_published_result_and_marks_proxy_votes() {
    let mut c = honest();
    let result = c.expected_result(1);
    assert_eq!(result.counts, vec![3, 4, 3]);
    assert_eq!(result.proxy_votes, 1);
    assert_eq!(
        result.present, 10,
        "9 present and 1 represented by a present delegate"
    );
    assert_eq!(result.quorum, 3, "a quarter of 10, rounded up");
    let at = c.post_result(&result).unwrap();
    let divisions = recount(c.id, &c.log).unwrap();
    assert_eq!(divisions.len(), 1);
    assert_eq!(divisions[0].result, result);
    assert_eq!(divisions[0].published_at, Some(at));
    let proxied: Vec<_> = divisions[0]
        .roll_call
        .iter()
        .filter(|e| e.by_proxy.is_some())
        .map(|e| (e.member, e.by_proxy))
        .collect();
    assert_eq!(proxied, vec![(9, Some(0))]);
    assert_eq!(divisions[0].roll_call[9].choice, "against");
}

#[test]
fn vote_after_close_is_outside_the_window() {
    let mut c = honest();
    let e = c.vote(5, 1, 0).unwrap_err();
    assert_eq!(e.field, "body.division");
    assert!(e.reason.contains("outside its voting window"), "{e}");
    // The same vote forced into the log by a dishonest board: the recount names it.
    let body = c.vote_body(5, 1, 0, None);
    let key = c.member(5);
    let at = c.force(kinds::VOTE, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.division"));
}

#[test]
fn vote_while_suspended_is_outside_the_window() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 10).unwrap();
    c.event(kinds::DIVISION_SUSPEND, 1, 20).unwrap();
    let e = c.vote(1, 1, 0).unwrap_err();
    assert_eq!(e.field, "body.division");
    assert!(e.reason.contains("suspended"));
    c.event(kinds::DIVISION_RESUME, 1, 30).unwrap();
    c.vote(1, 1, 0).unwrap();
}

#[test]
fn close_before_the_window_ends_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 1_000).unwrap();
    let e = c.event(kinds::DIVISION_CLOSE, 1, 1_599).unwrap_err();
    assert_eq!(e.field, "body.time");
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
}

#[test]
fn vote_by_a_revoked_key_is_refused_and_named() {
    let mut c = Chamber::new(6, VoteChange::FinalOnFirstCast);
    c.all_present();
    let body = RosterChange {
        version: 2,
        member: 3,
        op: RosterOp::Revoke,
    }
    .to_body();
    let clerk = c.clerk.clone();
    c.post(kinds::ROSTER_CHANGE, &body, &clerk).unwrap();
    c.open_division(1, 100).unwrap();
    let e = c.vote(3, 1, 0).unwrap_err();
    assert_eq!(e.field, "signer");
    assert!(e.reason.contains("revoked in roster version 2"), "{e}");
    let body = c.vote_body(3, 1, 0, None);
    let key = c.member(3);
    let at = c.force(kinds::VOTE, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "signer"));
}

#[test]
fn rotated_key_votes_and_old_key_does_not() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.all_present();
    let new_key = common::key(3, 9);
    let body = RosterChange {
        version: 2,
        member: 3,
        op: RosterOp::Rotate(new_key.verifying_key().to_bytes()),
    }
    .to_body();
    let clerk = c.clerk.clone();
    c.post(kinds::ROSTER_CHANGE, &body, &clerk).unwrap();
    c.open_division(1, 100).unwrap();
    assert_eq!(c.vote(3, 1, 0).unwrap_err().field, "signer");
    let vote = c.vote_body(3, 1, 2, None);
    c.post(kinds::VOTE, &vote, &new_key).unwrap();
    assert_eq!(c.expected_result(1).counts, vec![0, 0, 1]);
}

#[test]
fn roster_change_not_signed_by_the_clerk_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let body = RosterChange {
        version: 2,
        member: 1,
        op: RosterOp::Revoke,
    }
    .to_body();
    let officer = c.officer.clone();
    assert_eq!(
        c.post(kinds::ROSTER_CHANGE, &body, &officer)
            .unwrap_err()
            .field,
        "signer"
    );
}

#[test]
fn vote_by_a_key_not_in_the_roster_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    let stranger = common::key(99, 3);
    let body = c.vote_body(0, 1, 0, None);
    let e = c.post(kinds::VOTE, &body, &stranger).unwrap_err();
    assert_eq!(e.field, "signer");
    assert!(e.reason.contains("not a member"), "{e}");
    let at = c.force(kinds::VOTE, &body, &stranger);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "signer"));
}

#[test]
fn second_vote_under_final_on_first_cast_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(2, 1, 0).unwrap();
    let e = c.vote(2, 1, 1).unwrap_err();
    assert_eq!(e.field, VOTE_KEY);
    // A delegate cannot vote again for a member who voted either.
    c.grant(1, 2, 3_600).unwrap_or_else(|e| panic!("{e}"));
    c.vote(1, 1, 2).unwrap();
    assert_eq!(c.proxy_vote(2, 1, 1, 0).unwrap_err().field, VOTE_KEY);
    let body = c.vote_body(2, 1, 1, None);
    let key = c.member(2);
    let at = c.force(kinds::VOTE, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, VOTE_KEY));
}

#[test]
fn last_vote_counts_when_the_rules_say_so() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(2, 1, 0).unwrap();
    c.vote(2, 1, 1).unwrap();
    assert_eq!(c.expected_result(1).counts, vec![0, 1, 0]);
}

#[test]
fn two_delegations_to_one_holder_are_refused() {
    let mut c = Chamber::new(6, VoteChange::FinalOnFirstCast);
    c.grant(1, 0, 3_600).unwrap();
    let e = c.grant(2, 0, 3_600).unwrap_err();
    assert_eq!(e.field, "body.delegate");
    assert!(e.reason.contains("already holds 1"), "{e}");
    let body = urne_assembly::ProxyGrant {
        sequence: c.seq(2),
        roster_version: 1,
        delegate: 0,
        seconds: 3_600,
        reason: "illness".into(),
    }
    .to_body()
    .unwrap();
    let key = c.member(2);
    let at = c.force(kinds::PROXY_GRANT, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.delegate"));
}

#[test]
fn a_member_grants_one_delegation_at_a_time_and_may_revoke_it() {
    let mut c = Chamber::new(6, VoteChange::FinalOnFirstCast);
    c.grant(1, 0, 3_600).unwrap();
    assert_eq!(c.grant(1, 2, 3_600).unwrap_err().field, "body");
    let key = c.member(1);
    let revoke = urne_assembly::ProxyRevoke { sequence: c.seq(1) };
    c.post(kinds::PROXY_REVOKE, &revoke.to_body(), &key)
        .unwrap();
    c.grant(1, 2, 3_600).unwrap();
    // The revoked delegation no longer lets member 0 vote for member 1.
    c.all_present();
    c.open_division(1, 100).unwrap();
    assert_eq!(
        c.proxy_vote(0, 1, 1, 0).unwrap_err().field,
        "body.on_behalf"
    );
    c.proxy_vote(2, 1, 1, 0).unwrap();
}

#[test]
fn delegation_expires_by_the_sitting_clock() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 1_000).unwrap();
    c.grant(3, 0, 700).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
    // At 1_700 the delegation granted at 1_000 for 700 s has run out.
    c.open_division(2, 1_700).unwrap();
    let e = c.proxy_vote(0, 3, 2, 0).unwrap_err();
    assert_eq!(e.field, "body.on_behalf");
    // And member 3 may grant a new one.
    c.grant(3, 1, 700).unwrap();
    c.proxy_vote(1, 3, 2, 0).unwrap();
}

#[test]
fn proxy_vote_in_a_secret_ballot_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.grant(3, 0, 3_600).unwrap();
    let body = c.open_body(1, 100, true);
    let officer = c.officer.clone();
    c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap();
    let e = c.proxy_vote(0, 3, 1, 0).unwrap_err();
    assert_eq!(e.field, "body.on_behalf");
    assert!(e.reason.contains("secret"), "{e}");
    let body = c.vote_body(0, 1, 0, Some(3));
    let key = c.member(0);
    let at = c.force(kinds::VOTE, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.on_behalf"));
}

#[test]
fn altered_result_is_refused_and_named_by_field() {
    let mut c = honest();
    let mut result = c.expected_result(1);
    result.counts[0] += 1;
    let e = c.post_result(&result).unwrap_err();
    assert_eq!(e.field, "body.counts[0]");
    let officer = c.officer.clone();
    let at = c.force(kinds::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.counts[0]"));
    let mut result = c.expected_result(1);
    result.roll_call_hash[0] ^= 1;
    assert_eq!(
        c.post_result(&result).unwrap_err().field,
        "body.roll_call_hash"
    );
    let mut result = c.expected_result(1);
    result.proxy_votes = 0;
    assert_eq!(
        c.post_result(&result).unwrap_err().field,
        "body.proxy_votes"
    );
}

#[test]
fn miscounted_quorum_in_a_result_is_refused() {
    let mut c = honest();
    let mut result = c.expected_result(1);
    result.present -= 1;
    assert_eq!(c.post_result(&result).unwrap_err().field, "body.present");
    let mut result = c.expected_result(1);
    result.quorum = 2;
    assert_eq!(c.post_result(&result).unwrap_err().field, "body.quorum");
    let officer = c.officer.clone();
    let at = c.force(kinds::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.quorum"));
}

#[test]
fn division_without_quorum_does_not_open_and_proxies_count_when_the_rules_say() {
    let mut c = Chamber::new(12, VoteChange::FinalOnFirstCast);
    // A quarter of 12 is 3: two present and none represented is not enough.
    c.presence(0, true).unwrap();
    c.presence(1, true).unwrap();
    let e = c.open_division(1, 100).unwrap_err();
    assert_eq!(e.field, "quorum");
    assert!(e.reason.contains("2 counted present, 3 required"), "{e}");
    // Member 5 away, represented by present member 0: counted.
    c.grant(5, 0, 3_600).unwrap();
    c.open_division(1, 100).unwrap();
    assert_eq!(c.state().division(1).unwrap().present, 3);
}

#[test]
fn result_before_close_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(0, 1, 0).unwrap();
    let result = c.expected_result(1);
    let e = c.post_result(&result).unwrap_err();
    assert_eq!(e.field, "body.division");
    assert!(e.reason.contains("only after close"));
}

#[test]
fn correction_of_voting_intention_is_recorded_without_changing_the_tally() {
    let mut c = honest();
    let before = c.expected_result(1);
    let body = urne_assembly::Correction {
        sequence: c.seq(1),
        division: 1,
        choice: 0,
        note: "I meant to vote for".into(),
    }
    .to_body()
    .unwrap();
    let key = c.member(1);
    let at = c.post(kinds::VOTE_CORRECTION, &body, &key).unwrap();
    assert_eq!(c.expected_result(1), before);
    c.post_result(&before).unwrap();
    let divisions = recount(c.id, &c.log).unwrap();
    assert_eq!(divisions[0].corrections, vec![(1, "for".into(), at)]);
}

#[test]
fn void_and_rerun() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(0, 1, 0).unwrap();
    c.event(kinds::DIVISION_VOID, 1, 200).unwrap();
    assert_eq!(c.vote(1, 1, 0).unwrap_err().field, "body.division");
    let mut body = urne_assembly::DivisionOpen {
        division: 2,
        time: 300,
        text_hash: c.text_hash,
        roster_version: 1,
        window: 60,
        secret: false,
        election: None,
        reruns: 3,
        choices: vec!["for".into(), "against".into(), "abstain".into()],
    };
    let officer = c.officer.clone();
    let e = c
        .post(kinds::DIVISION_OPEN, &body.to_body().unwrap(), &officer)
        .unwrap_err();
    assert_eq!(e.field, "body.reruns");
    body.reruns = 1;
    // A rerun on another text, other choices or the other kind of ballot is refused,
    // by the board and by the recount.
    let mut other_text = body.clone();
    other_text.text_hash = [0x01; 32];
    let mut other_choices = body.clone();
    other_choices.choices = vec!["yes".into(), "no".into()];
    let mut other_kind = body.clone();
    other_kind.secret = true;
    other_kind.election = Some(common::ELECTION);
    for (bad, field) in [
        (other_text, "body.text_hash"),
        (other_choices, "body.choices"),
        (other_kind, "body.secret"),
    ] {
        let bytes = bad.to_body().unwrap();
        assert_eq!(
            c.post(kinds::DIVISION_OPEN, &bytes, &officer)
                .unwrap_err()
                .field,
            field
        );
        let at = c.force(kinds::DIVISION_OPEN, &bytes, &officer);
        let v = recount(c.id, &c.log).unwrap_err();
        assert_eq!((v.index, v.field.as_str()), (at, field));
        c.log.pop();
    }
    c.post(kinds::DIVISION_OPEN, &body.to_body().unwrap(), &officer)
        .unwrap();
    c.vote(0, 2, 1).unwrap();
    let state = c.state();
    assert_eq!(state.division(1).unwrap().status, DivisionStatus::Voided);
    assert_eq!(state.division(1).unwrap().rerun_by, Some(2));
    // The void's reason stays in the recount.
    let recounted = recount(c.id, &c.log).unwrap();
    let (reason, _) = recounted[0].voided.clone().unwrap();
    assert_eq!(reason, "recount requested");
    // A voided division gets no result.
    let result = c.expected_result(1);
    assert_eq!(c.post_result(&result).unwrap_err().field, "body.division");
}

#[test]
fn officer_events_keep_the_sitting_clock_monotonic() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 1_000).unwrap();
    let e = c.event(kinds::DIVISION_SUSPEND, 1, 999).unwrap_err();
    assert_eq!(e.field, "body.time");
}

#[test]
fn division_event_signed_by_a_member_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 1_000).unwrap();
    let body = DivisionEvent {
        division: 1,
        time: 2_000,
        reason: String::new(),
    }
    .to_body(kinds::DIVISION_CLOSE)
    .unwrap();
    let key = c.member(0);
    assert_eq!(
        c.post(kinds::DIVISION_CLOSE, &body, &key)
            .unwrap_err()
            .field,
        "signer"
    );
}

#[test]
fn vote_on_another_text_or_choice_or_roster_version_is_refused() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    let key = c.member(0);
    let mut vote = urne_assembly::Vote {
        sequence: c.seq(0),
        division: 1,
        text_hash: [0; 32],
        roster_version: 1,
        choice: 0,
        on_behalf: None,
    };
    let field = |c: &mut Chamber, v: &urne_assembly::Vote| {
        c.post(kinds::VOTE, &v.to_body(), &key).unwrap_err().field
    };
    assert_eq!(field(&mut c, &vote), "body.text_hash");
    vote.text_hash = c.text_hash;
    vote.choice = 3;
    assert_eq!(field(&mut c, &vote), "body.choice");
    vote.choice = 0;
    vote.roster_version = 2;
    assert_eq!(field(&mut c, &vote), "body.roster_version");
    vote.division = 2;
    assert_eq!(field(&mut c, &vote), "body.division");
}

#[test]
fn record_with_a_broken_signature_is_named_by_the_batch_recount() {
    let mut c = honest();
    let mut bytes = c.log[20].1.bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    c.log[20].1 = urne_record::Record::parse(bytes).unwrap();
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (20, "signature"));
}

#[test]
fn rules_that_do_not_match_the_opening_parameters_are_refused() {
    let officer = common::key(0, 1);
    let clerk = common::key(0, 2);
    let rules = common::rules(&clerk, VoteChange::FinalOnFirstCast);
    let body = common::chamber_open(&rules, 1);
    let id = urne_record::ContextId::derive(&officer.verifying_key().to_bytes(), &body);
    let mut fold = urne_assembly::Recount::new();
    let r0 =
        urne_record::Record::sign(id, urne_record::kinds::CONTEXT_OPEN, &body, &officer).unwrap();
    fold.feed_verified(0, &r0).unwrap();
    let mut other = rules.clone();
    other.max_proxies_held = 2;
    let r1 =
        urne_record::Record::sign(id, kinds::CHAMBER_RULES, &other.to_body(), &officer).unwrap();
    let v = fold.feed_verified(1, &r1).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (1, "body"));
    // The rules it was opened with pass.
    let r1 =
        urne_record::Record::sign(id, kinds::CHAMBER_RULES, &rules.to_body(), &officer).unwrap();
    fold.feed_verified(1, &r1).unwrap();
}

#[test]
fn bodies_are_decoded_strictly() {
    let c = honest();
    for (index, record) in &c.log[1..] {
        if record.kind().0 < 0x0300 {
            continue;
        }
        let mut body = record.body().to_vec();
        body.push(0);
        let e = urne_assembly::decode(record.kind(), &body)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.field(), "body.end", "record {index}");
        let mut body = record.body().to_vec();
        body[0] = 2;
        let e = urne_assembly::decode(record.kind(), &body)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.field(), "body.version", "record {index}");
        assert_eq!(
            c.decoded(*index).to_body().unwrap(),
            record.body(),
            "record {index}"
        );
    }
    // A roster with a small-order key is refused.
    let roster = urne_assembly::Roster {
        version: 1,
        groups: vec!["g".into()],
        members: vec![urne_assembly::Member {
            key: [0; 32],
            group: 0,
            name: "m".into(),
        }],
    };
    let mut small = [0u8; 32];
    small[0] = 1; // the identity point
    let mut roster = roster;
    roster.members[0].key = small;
    let e = urne_assembly::decode(kinds::ROSTER_MEMBERS, &roster.to_body().unwrap())
        .unwrap()
        .unwrap_err();
    assert_eq!(e.field(), "body.members[0].key");
}

#[test]
fn sitting_moves_are_guarded_by_its_state() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    let officer = c.officer.clone();
    let e = c
        .post(urne_record::kinds::CONTEXT_PHASE, &[2], &officer)
        .unwrap_err();
    assert_eq!(e.field, "body");
    assert!(e.reason.contains("still open"), "{e}");
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    c.post(urne_record::kinds::CONTEXT_PHASE, &[2], &officer)
        .unwrap();
    // Nothing is accepted in a closed sitting.
    let e = c.presence(0, false).unwrap_err();
    assert_eq!(e.field, "kind");
}

#[test]
fn a_sitting_does_not_open_before_its_chamber_s_roster_is_in_force() {
    let officer = common::key(0, 1);
    let clerk = common::key(0, 2);
    let rules = common::rules(&clerk, VoteChange::FinalOnFirstCast);
    let chamber_body = common::chamber_open(&rules, 2);
    let chamber =
        urne_record::ContextId::derive(&officer.verifying_key().to_bytes(), &chamber_body);
    let body = common::sitting_open(chamber, 2);
    let id = urne_record::ContextId::derive(&officer.verifying_key().to_bytes(), &body);
    let sign = |id, kind, body: &[u8]| urne_record::Record::sign(id, kind, body, &officer).unwrap();
    let open = urne_record::kinds::CONTEXT_OPEN;
    let phase = urne_record::kinds::CONTEXT_PHASE;
    // No chamber on the board at all.
    let log = vec![(0, sign(id, open, &body)), (1, sign(id, phase, &[1]))];
    let v = recount(id, &log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (1, "body"));
    assert!(v.reason.contains("not open"), "{v}");
    // A chamber with its rules and no roster.
    let log = vec![
        (0, sign(chamber, open, &chamber_body)),
        (1, sign(chamber, kinds::CHAMBER_RULES, &rules.to_body())),
        (2, sign(id, open, &body)),
        (3, sign(id, phase, &[1])),
    ];
    let v = recount(id, &log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (3, "body"));
    assert!(v.reason.contains("in force"), "{v}");
    // Nor may the chamber's roster come into force without its roster.
    let log = vec![
        (0, sign(chamber, open, &chamber_body)),
        (1, sign(chamber, kinds::CHAMBER_RULES, &rules.to_body())),
        (2, sign(chamber, phase, &[1])),
    ];
    let v = recount_sittings(&log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (2, "body"));
}

#[test]
fn a_sitting_is_presided_by_its_chamber_s_presiding_officer() {
    let c = Chamber::new(3, VoteChange::FinalOnFirstCast);
    let stranger = common::key(5, 1);
    let body = common::sitting_open(c.chamber_id, 9);
    let id = urne_record::ContextId::derive(&stranger.verifying_key().to_bytes(), &body);
    let mut log = c.log.clone();
    for (kind, body) in [
        (urne_record::kinds::CONTEXT_OPEN, body.as_slice()),
        (urne_record::kinds::CONTEXT_PHASE, &[1]),
    ] {
        let index = log.len() as u64;
        log.push((
            index,
            urne_record::Record::sign(id, kind, body, &stranger).unwrap(),
        ));
    }
    let v = recount(id, &log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (log.len() as u64 - 1, "body"));
    assert!(v.reason.contains("presiding officer"), "{v}");
}

#[test]
fn every_sitting_of_a_log_is_recounted() {
    let mut c = honest();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    let all = urne_assembly::recount_sittings(&c.log).unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, c.id);
    assert_eq!(all[0].1[0].result, result);
}

/// Golden bytes (spec/40 §40.3 and §40.8 give them as examples): a change to an
/// encoding or a label breaks this test before it breaks a verifier.
#[test]
fn golden_rules_parameters_and_vote_bodies() {
    let rules = urne_assembly::Rules {
        clerk: common::key(0, 2).verifying_key().to_bytes(),
        quorum: urne_assembly::Quorum::Fraction { num: 1, den: 2 },
        proxies_count_for_quorum: false,
        vote_change: VoteChange::FinalOnFirstCast,
        max_proxies_held: 1,
        proxies_in_secret_ballots: false,
        secret: urne_assembly::SecretRules {
            trustees: 5,
            threshold: 3,
            min_registrants: 20,
        },
    };
    let body = rules.to_body();
    assert_eq!(
        hex(&body[33..]),
        "01000000010000000200000100050300000014",
        "quorum kind ‖ a ‖ b ‖ proxies count ‖ vote change ‖ max held ‖ in secret ‖ trustees ‖ threshold ‖ min registrants"
    );
    assert_eq!(hex(&urne_assembly::parameters_hash(&body)), PARAMETERS);
    let vote = urne_assembly::Vote {
        sequence: 5,
        division: 3,
        text_hash: [0x11; 32],
        roster_version: 2,
        choice: 1,
        on_behalf: Some(289),
    };
    assert_eq!(
        hex(&vote.to_body()),
        "010000000500000003111111111111111111111111111111111111111111111111111111111111111100000002010100000121"
    );
    let ballots = [(
        289u32,
        urne_assembly::CountedVote {
            choice: 1,
            delegate: Some(7),
            index: 0,
        },
    )]
    .into_iter()
    .collect();
    assert_eq!(hex(&urne_assembly::roll_call_hash(3, &ballots)), ROLL_CALL);
}

// Computed independently (Python: hashlib, and the Ed25519 key of `cryptography`).
const PARAMETERS: &str = "2503bdc8e628511e7da9755ab068500f898fef37b37d88a1f8b2e82485cb5a73";
const ROLL_CALL: &str = "18b766d52cf782b469a32c27607112da276455ca29bf6d9cb0e9002fb12f1916";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn truncated_or_flipped_bodies_are_refused_without_panicking() {
    let mut c = honest();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    let mut refused = 0;
    for (_, record) in &c.log {
        let kind = record.kind();
        let Some(Ok(_)) = urne_assembly::decode(kind, record.body()) else {
            continue;
        };
        let body = record.body();
        for cut in 0..body.len() {
            let decoded = urne_assembly::decode(kind, &body[..cut]).unwrap();
            assert!(decoded.is_err(), "{kind:?} cut at {cut} decoded");
            refused += 1;
        }
        for at in 0..body.len() {
            for bit in [0x01u8, 0x80] {
                let mut flipped = body.to_vec();
                flipped[at] ^= bit;
                // Either refused, or a different valid body: never a panic, and never
                // the same value from other bytes.
                if let Some(Ok(d)) = urne_assembly::decode(kind, &flipped) {
                    assert_eq!(d.to_body().unwrap(), flipped);
                }
            }
        }
    }
    assert!(refused > 1_000);
}

#[test]
fn quorum_is_counted_at_the_division_s_own_time() {
    let mut c = Chamber::new(12, VoteChange::FinalOnFirstCast);
    c.presence(0, true).unwrap();
    c.presence(1, true).unwrap();
    c.open_division(1, 1_000).unwrap_err();
    c.presence(2, true).unwrap();
    c.open_division(1, 1_000).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 1_600).unwrap();
    c.presence(2, false).unwrap();
    // Member 5, away, is represented by member 0 until 1_600 + 500 = 2_100.
    c.grant(5, 0, 500).unwrap();
    // At 2_100 the delegation has run out: 2 counted present, 3 required, although the
    // sitting clock before the opening (1_600) still had it in force.
    let e = c.open_division(2, 2_100).unwrap_err();
    assert_eq!(e.field, "quorum");
    assert!(e.reason.contains("2 counted present, 3 required"), "{e}");
    c.open_division(2, 2_099).unwrap();
    assert_eq!(c.state().division(2).unwrap().present, 3);
}

/// Appends the bytes of record `at` again, as a dishonest board could.
fn replay(c: &mut Chamber, at: u64) -> u64 {
    let record = c.log[at as usize].1.clone();
    let index = c.log.len() as u64;
    c.log.push((index, record));
    index
}

#[test]
fn replayed_presence_grant_and_vote_are_named_by_the_recount() {
    // An old "arrives" after a later "leaves".
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    let arrived = c.presence(0, true).unwrap();
    c.presence(0, false).unwrap();
    let at = replay(&mut c, arrived);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "record"), "{v}");
    // The same presence signed again with a stale sequence number (not the same bytes):
    // the fold refuses it by its number.
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.presence(0, true).unwrap();
    c.presence(0, false).unwrap();
    let stale = urne_assembly::Presence {
        sequence: 2,
        roster_version: 1,
        present: true,
    }
    .to_body();
    let key = c.member(0);
    assert_eq!(
        c.post(kinds::PRESENCE, &stale, &key).unwrap_err().field,
        "body.sequence"
    );

    // An old grant after its revocation.
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    let granted = c.grant(1, 0, 3_600).unwrap();
    let key = c.member(1);
    let revoke = urne_assembly::ProxyRevoke { sequence: c.seq(1) };
    c.post(kinds::PROXY_REVOKE, &revoke.to_body(), &key)
        .unwrap();
    let at = replay(&mut c, granted);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "record"), "{v}");

    // An old vote after a later one, under "last vote counts".
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.all_present();
    c.open_division(1, 100).unwrap();
    let first = c.vote(2, 1, 0).unwrap();
    c.vote(2, 1, 1).unwrap();
    let at = replay(&mut c, first);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "record"), "{v}");
}

#[test]
fn honest_repeats_have_fresh_bytes_and_are_accepted() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.presence(0, true).unwrap();
    c.presence(0, false).unwrap();
    c.presence(0, true).unwrap();
    c.grant(1, 2, 3_600).unwrap();
    let key = c.member(1);
    for _ in 0..2 {
        let revoke = urne_assembly::ProxyRevoke { sequence: c.seq(1) };
        let e = c.post(kinds::PROXY_REVOKE, &revoke.to_body(), &key);
        // The second revocation has nothing to end, and says so (not "duplicate").
        if let Err(e) = e {
            assert_eq!(e.field, "body");
        }
    }
    c.grant(1, 2, 3_600).unwrap();
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(3, 1, 0).unwrap();
    c.vote(3, 1, 1).unwrap();
    c.vote(3, 1, 0).unwrap();
    assert_eq!(c.expected_result(1).counts, vec![1, 0, 0]);
    recount(c.id, &c.log).unwrap();
}

#[test]
fn member_records_carry_the_next_sequence_number() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    c.presence(0, true).unwrap();
    let key = c.member(0);
    for sequence in [0, 1, 3, u32::MAX] {
        let body = urne_assembly::Presence {
            sequence,
            roster_version: 1,
            present: false,
        }
        .to_body();
        let e = c.post(kinds::PRESENCE, &body, &key).unwrap_err();
        assert_eq!(e.field, "body.sequence", "{sequence}: {e}");
        let at = c.force(kinds::PRESENCE, &body, &key);
        let v = recount(c.id, &c.log).unwrap_err();
        assert_eq!((v.index, v.field.as_str()), (at, "body.sequence"));
        c.log.pop();
    }
    // A delegate's vote takes the delegate's number, not the member represented's.
    c.grant(1, 0, 3_600).unwrap();
    c.all_present();
    c.open_division(1, 100).unwrap();
    let before = (c.seq(0), c.seq(1));
    c.proxy_vote(0, 1, 1, 0).unwrap();
    assert_eq!((c.seq(0), c.seq(1)), (before.0 + 1, before.1));
}

#[test]
fn a_closed_division_s_void_reason_is_shown_and_a_secret_one_awaits_no_result() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(0, 1, 0).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let void = c.event(kinds::DIVISION_VOID, 1, 800).unwrap();
    let recounted = recount(c.id, &c.log).unwrap();
    assert_eq!(
        recounted[0].voided,
        Some(("recount requested".into(), void))
    );
    assert!(!recounted[0].awaits_result());
    // A closed secret division: no result to post (`urne assembly result --post` skips it).
    let body = c.open_body(2, 900, true);
    let officer = c.officer.clone();
    let opened = c.post(kinds::DIVISION_OPEN, &body, &officer).unwrap();
    c.event(kinds::DIVISION_CLOSE, 2, 1_500).unwrap();
    let d = c.state().division(2).unwrap();
    assert!(d.open.secret && !d.awaits_result());
    // None of its election's records is on the log: nothing of its vote was checked,
    // and the recount says so (§40.12), result or no result.
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!(
        (v.index, v.field.as_str()),
        (opened, "body.election"),
        "{v}"
    );
    // Nor does the fold take a result for it: nobody registered, fewer than the chamber's
    // floor of registrants, so its vote never opened (§40.12); forced onto the log, the
    // recount names it.
    let result = c.expected_result(2);
    assert_eq!(c.post_result(&result).unwrap_err().field, "body.counts");
    let at = c.force(kinds::DIVISION_RESULT, &result.to_body().unwrap(), &officer);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body.counts"), "{v}");
    c.log.pop();
    // A closed public division awaits its result.
    c.open_division(3, 1_600).unwrap();
    c.event(kinds::DIVISION_CLOSE, 3, 2_200).unwrap();
    assert!(c.state().division(3).unwrap().awaits_result());
}

#[test]
fn the_sitting_does_not_close_before_every_closed_division_has_its_result() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(0, 1, 0).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let officer = c.officer.clone();
    let e = c
        .post(urne_record::kinds::CONTEXT_PHASE, &[2], &officer)
        .unwrap_err();
    assert_eq!(e.field, "body");
    assert!(e.reason.contains("without its result"), "{e}");
    let at = c.force(urne_record::kinds::CONTEXT_PHASE, &[2], &officer);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "body"));
    c.log.pop();
    let result = c.expected_result(1);
    c.post_result(&result).unwrap();
    c.post(urne_record::kinds::CONTEXT_PHASE, &[2], &officer)
        .unwrap();
}

#[test]
fn texts_of_white_space_alone_are_refused() {
    let clerk = common::key(0, 2);
    let roster = |group: &str, name: &str| urne_assembly::Roster {
        version: 1,
        groups: vec![group.into()],
        members: vec![urne_assembly::Member {
            key: clerk.verifying_key().to_bytes(),
            group: 0,
            name: name.into(),
        }],
    };
    for (r, field) in [
        (roster(" ", "Member"), "body.groups[0]"),
        (roster("Left", "\u{a0}\u{3000}"), "body.members[0].name"),
    ] {
        let e = urne_assembly::decode(kinds::ROSTER_MEMBERS, &r.to_body().unwrap())
            .unwrap()
            .unwrap_err();
        assert_eq!(e.field(), field, "{e}");
    }
    let c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let mut open = urne_assembly::body::decode(kinds::DIVISION_OPEN, &c.open_body(1, 100, false))
        .unwrap()
        .unwrap();
    if let urne_assembly::Decoded::DivisionOpen(o) = &mut open {
        o.choices[1] = "  ".into();
    }
    let e = urne_assembly::decode(kinds::DIVISION_OPEN, &open.to_body().unwrap())
        .unwrap()
        .unwrap_err();
    assert_eq!(e.field(), "body.choices[1]");
}

#[test]
fn the_first_record_that_breaks_a_rule_is_named_even_before_a_bad_signature() {
    let mut c = honest();
    // A vote after the close (a rule the fold checks), then a broken signature later.
    let body = c.vote_body(5, 1, 0, None);
    let key = c.member(5);
    let rule = c.force(kinds::VOTE, &body, &key);
    let body = c.vote_body(6, 1, 0, None);
    let key = c.member(6);
    let later = c.force(kinds::VOTE, &body, &key);
    let mut bytes = c.log[later as usize].1.bytes().to_vec();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    c.log[later as usize].1 = urne_record::Record::parse(bytes).unwrap();
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (rule, "body.division"), "{v}");
    // And the other way round: the bad signature first is named first.
    c.log.swap(rule as usize, later as usize);
    c.log[rule as usize].0 = rule;
    c.log[later as usize].0 = later;
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (rule, "signature"), "{v}");
}

#[test]
fn a_vote_requires_its_signer_s_presence() {
    let mut c = Chamber::new(4, VoteChange::LastVoteCounts);
    for m in 0..3 {
        c.presence(m, true).unwrap();
    }
    c.grant(3, 0, 3_600).unwrap();
    c.open_division(1, 100).unwrap();
    let e = c.vote(3, 1, 0).unwrap_err();
    assert_eq!(e.field, "presence", "{e}");
    let body = c.vote_body(3, 1, 0, None);
    let key = c.member(3);
    let at = c.force(kinds::VOTE, &body, &key);
    let v = recount(c.id, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "presence"));
    c.log.pop();
    // A present delegate votes for the absent member; a delegate who leaves cannot.
    c.proxy_vote(0, 3, 1, 0).unwrap();
    c.presence(0, false).unwrap();
    assert_eq!(c.proxy_vote(0, 3, 1, 1).unwrap_err().field, "presence");
    assert_eq!(c.vote(0, 1, 1).unwrap_err().field, "presence");
}

#[test]
fn the_sittings_of_a_chamber_read_its_roster_at_each_point_of_the_log() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let first = c.id;
    c.all_present();
    let second = {
        c.next_sitting(8);
        c.id
    };
    // Sequence numbers are the sitting's: everyone arrives again with number 1.
    c.all_present();
    c.open_division(1, 100).unwrap();
    c.vote(3, 1, 0).unwrap();
    // The clerk revokes member 3 in the chamber: at once, in every sitting.
    let clerk = c.clerk.clone();
    let revoke = RosterChange {
        version: 2,
        member: 3,
        op: RosterOp::Revoke,
    }
    .to_body();
    c.post(kinds::ROSTER_CHANGE, &revoke, &clerk).unwrap();
    c.id = first;
    let e = c.presence(3, false).unwrap_err();
    assert_eq!(e.field, "signer");
    assert!(e.reason.contains("revoked in roster version 2"), "{e}");
    // A record in force before the revocation stays: member 3's vote is counted.
    c.id = second;
    c.vote(2, 1, 1).unwrap();
    c.event(kinds::DIVISION_CLOSE, 1, 700).unwrap();
    let divisions = recount(second, &c.log).unwrap();
    let voters: Vec<u32> = divisions[0].roll_call.iter().map(|e| e.member).collect();
    assert_eq!(voters, vec![2, 3]);
    assert_eq!(recount_sittings(&c.log).unwrap().len(), 2);
    // A dishonest board that puts member 3's record after the revocation in the first
    // sitting is named, though nothing in the first sitting itself changed.
    c.id = first;
    let body = Presence {
        sequence: c.seq(3),
        roster_version: 1,
        present: false,
    }
    .to_body();
    let key = c.member(3);
    let at = c.force(kinds::PRESENCE, &body, &key);
    let v = recount(first, &c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "signer"), "{v}");
    let v = recount_sittings(&c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "signer"), "{v}");
}

#[test]
fn two_rosters_under_one_version_cannot_be_posted() {
    let mut c = Chamber::new(4, VoteChange::FinalOnFirstCast);
    let clerk = c.clerk.clone();
    let mut others = c.members.clone();
    others[0] = common::key(99, 3);
    let again = common::roster_of(&others, 1).to_body().unwrap();
    // The chamber holds one roster: once in force, a later version is a roster.change.
    let e = c.post(kinds::ROSTER_MEMBERS, &again, &clerk).unwrap_err();
    assert_eq!(e.field, "kind");
    // A sitting holds none of its own.
    let sitting = c.id;
    let e = c
        .post_in(sitting, kinds::ROSTER_MEMBERS, &again, &clerk)
        .unwrap_err();
    assert_eq!(e.field, "kind");
    // A change makes the version after the one in force, never an equal one.
    let equal = RosterChange {
        version: 1,
        member: 0,
        op: RosterOp::Revoke,
    }
    .to_body();
    let e = c.post(kinds::ROSTER_CHANGE, &equal, &clerk).unwrap_err();
    assert_eq!(e.field, "body.version_number");
    // A second sitting posts nothing about the roster: it reads the chamber's.
    c.next_sitting(8);
    assert_eq!(c.roster_version(), 1);
    // A dishonest board that writes a second roster under version 1 anyway is named.
    let at = c.force(kinds::ROSTER_MEMBERS, &again, &clerk);
    let v = recount_sittings(&c.log).unwrap_err();
    assert_eq!((v.index, v.field.as_str()), (at, "kind"), "{v}");
}

/// A chamber's secret-ballot rules are refused by the decoder where they would defeat
/// the ballot: one trustee decrypting alone, fewer trustees than the threshold, or a
/// floor of registrants under which a member reads another's vote off the tally.
#[test]
fn secret_ballot_rules_that_weaken_the_ballot_are_refused() {
    let clerk = common::key(0, 2);
    let honest = common::rules(&clerk, VoteChange::FinalOnFirstCast);
    assert!(
        urne_assembly::decode(kinds::CHAMBER_RULES, &honest.to_body())
            .unwrap()
            .is_ok()
    );
    for (trustees, threshold, min_registrants, field) in [
        (3, 1, 3, "body.secret_threshold"),
        (2, 3, 3, "body.secret_trustees"),
        (3, 2, 2, "body.secret_min_registrants"),
    ] {
        let mut rules = honest.clone();
        rules.secret = urne_assembly::SecretRules {
            trustees,
            threshold,
            min_registrants,
        };
        let e = urne_assembly::decode(kinds::CHAMBER_RULES, &rules.to_body())
            .unwrap()
            .unwrap_err();
        assert_eq!(e.field(), field, "{e}");
    }
}
