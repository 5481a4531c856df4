//! A sitting through the board library (spec/40): rules, roster, presence, proxies, a
//! division with votes and proxy votes, its result; every tamper of issue 10's list
//! refused with its code and field and nothing changed; two racing votes of one member
//! under "first cast is final" (one lands); the state rebuilt on reopen; and the log
//! read back from the store recounting to the published result.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use urne_assembly::body::DivisionEvent;
use urne_assembly::kinds::*;
use urne_assembly::{
    DivisionOpen, Member, Presence, ProxyGrant, Quorum, Roster, RosterChange, RosterOp, Rules,
    SittingState, VOTE_KEY, Vote, VoteChange, parameters_hash, recount,
};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{
    Board, BoardConfig, Code, ContextId, ContextOpen, ContextType, Kind, Record, Registry,
    Rejection,
};
use zeroize::Zeroizing;

const ORIGIN: &str = "test.example/board";
const MEMBERS: u32 = 12;

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("urne-assembly-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn officer() -> SigningKey {
    SigningKey::from_bytes(&[1; 32])
}
fn clerk() -> SigningKey {
    SigningKey::from_bytes(&[2; 32])
}
fn member(m: u32) -> SigningKey {
    let mut seed = [3u8; 32];
    seed[1..5].copy_from_slice(&m.to_be_bytes());
    SigningKey::from_bytes(&seed)
}

fn open_board(dir: &Path) -> Board {
    let config = BoardConfig::new(
        ORIGIN,
        Zeroizing::new([7; 32]),
        vec![officer().verifying_key().to_bytes()],
        vec![],
    );
    let mut registry = Registry::with_builtin();
    // The board's clock reads 1,200: the tests' declared times are within the skew.
    let clock: urne_board::assembly::Clock = std::sync::Arc::new(|| 1_200);
    urne_board::assembly::register_sittings(&mut registry, &clock).unwrap();
    Board::open(dir, config, registry).unwrap().0
}

fn post(
    board: &Board,
    key: &SigningKey,
    id: ContextId,
    kind: Kind,
    body: &[u8],
) -> Result<u64, Rejection> {
    board
        .submit(Record::sign(id, kind, body, key).unwrap().into_bytes())
        .map(|r| r.index)
}

fn refused(result: Result<u64, Rejection>, code: Code, field: &str) {
    let e = result.unwrap_err();
    assert_eq!((e.code, e.field.as_deref()), (code, Some(field)), "{e}");
}

const TEXT: [u8; 32] = [0x42; 32];

/// The sequence number member `m`'s next record in the sitting must carry.
fn seq(board: &Board, id: ContextId, m: u32) -> u32 {
    board
        .with_context_state(&id, |s: &SittingState| s.next_sequence(m).unwrap())
        .unwrap()
}

fn vote(sequence: u32, division: u32, choice: u8, on_behalf: Option<u32>) -> Vec<u8> {
    Vote {
        sequence,
        division,
        text_hash: TEXT,
        roster_version: 2,
        choice,
        on_behalf,
    }
    .to_body()
}

fn division(division: u32, time: u64, secret: bool) -> Vec<u8> {
    DivisionOpen {
        division,
        time,
        text_hash: TEXT,
        roster_version: 2,
        window: 300,
        secret,
        election: secret.then_some([0xee; 32]),
        reruns: 0,
        choices: vec!["for".into(), "against".into(), "abstain".into()],
    }
    .to_body()
    .unwrap()
}

fn event(kind: Kind, division: u32, time: u64) -> Vec<u8> {
    DivisionEvent {
        division,
        time,
        reason: "void".into(),
    }
    .to_body(kind)
    .unwrap()
}

fn rules() -> Rules {
    Rules {
        clerk: clerk().verifying_key().to_bytes(),
        quorum: Quorum::Fraction { num: 1, den: 2 },
        proxies_count_for_quorum: true,
        vote_change: VoteChange::FinalOnFirstCast,
        max_proxies_held: 1,
        proxies_in_secret_ballots: false,
        secret: urne_assembly::SecretRules {
            trustees: 3,
            threshold: 2,
            min_registrants: 3,
        },
    }
}

/// The chamber's id: its `context.open` commits to its rules.
fn chamber_open() -> (ContextId, Vec<u8>) {
    let open = ContextOpen {
        context_type: urne_assembly::CHAMBER_CONTEXT,
        nonce: [8; 16],
        name: "Assemblée".into(),
        parameters: parameters_hash(&rules().to_body()),
    };
    let body = open.to_body().unwrap();
    (
        ContextId::derive(&officer().verifying_key().to_bytes(), &body),
        body,
    )
}

/// Opens a sitting of `chamber` (not started).
fn open_sitting(board: &Board, chamber: ContextId, nonce: u8) -> ContextId {
    let open = ContextOpen {
        context_type: ContextType::SITTING,
        nonce: [nonce; 16],
        name: "Séance publique".into(),
        parameters: chamber.0,
    };
    let body = open.to_body().unwrap();
    let id = ContextId::derive(&officer().verifying_key().to_bytes(), &body);
    post(board, &officer(), id, CONTEXT_OPEN, &body).unwrap();
    id
}

/// Opens a chamber of 12 members, member 11 revoked (roster version 2), and a sitting
/// of it with everyone else present, member 10 away with a proxy held by member 0.
fn sitting(board: &Board) -> ContextId {
    let rules = rules();
    let (chamber, body) = chamber_open();
    post(board, &officer(), chamber, CONTEXT_OPEN, &body).unwrap();
    post(board, &officer(), chamber, CHAMBER_RULES, &rules.to_body()).unwrap();
    let roster = Roster {
        version: 1,
        groups: vec!["A".into(), "B".into()],
        members: (0..MEMBERS)
            .map(|m| Member {
                key: member(m).verifying_key().to_bytes(),
                group: (m % 2) as u16,
                name: format!("M{m}"),
            })
            .collect(),
    };
    // Only the clerk posts the roster.
    refused(
        post(
            board,
            &officer(),
            chamber,
            ROSTER_MEMBERS,
            &roster.to_body().unwrap(),
        ),
        Code::NotAuthorized,
        "signer",
    );
    post(
        board,
        &clerk(),
        chamber,
        ROSTER_MEMBERS,
        &roster.to_body().unwrap(),
    )
    .unwrap();
    let id = open_sitting(board, chamber, 9);
    // The sitting does not start before its chamber's roster is in force.
    refused(
        post(board, &officer(), id, CONTEXT_PHASE, &[1]),
        Code::InvalidBody,
        "body",
    );
    post(board, &officer(), chamber, CONTEXT_PHASE, &[1]).unwrap();
    let revoke = RosterChange {
        version: 2,
        member: 11,
        op: RosterOp::Revoke,
    };
    post(board, &clerk(), chamber, ROSTER_CHANGE, &revoke.to_body()).unwrap();
    // Presence before the sitting is in session: wrong phase.
    let here = Presence {
        sequence: 1,
        roster_version: 2,
        present: true,
    }
    .to_body();
    refused(
        post(board, &member(0), id, PRESENCE, &here),
        Code::WrongPhase,
        "kind",
    );
    post(board, &officer(), id, CONTEXT_PHASE, &[1]).unwrap();
    for m in 0..10 {
        post(board, &member(m), id, PRESENCE, &here).unwrap();
    }
    let grant = |sequence: u32, to: u32| {
        ProxyGrant {
            sequence,
            roster_version: 2,
            delegate: to,
            seconds: urne_assembly::DEFAULT_PROXY_SECONDS,
            reason: "mission".into(),
        }
        .to_body()
        .unwrap()
    };
    post(board, &member(10), id, PROXY_GRANT, &grant(1, 0)).unwrap();
    // Two delegations to one holder.
    refused(
        post(board, &member(9), id, PROXY_GRANT, &grant(2, 0)),
        Code::InvalidBody,
        "body.delegate",
    );
    id
}

#[test]
fn sitting_through_the_board_refuses_every_tamper_and_recounts_from_the_store() {
    let dir = scratch("sitting");
    let board = open_board(&dir);
    let id = sitting(&board);
    post(
        &board,
        &officer(),
        id,
        DIVISION_OPEN,
        &division(1, 1_000, false),
    )
    .unwrap();
    // Vote not in the roster; vote by a revoked key.
    let stranger = SigningKey::from_bytes(&[99; 32]);
    refused(
        post(
            &board,
            &stranger,
            id,
            VOTE,
            &vote(seq(&board, id, 0), 1, 0, None),
        ),
        Code::NotAuthorized,
        "signer",
    );
    refused(
        post(
            &board,
            &member(11),
            id,
            VOTE,
            &vote(seq(&board, id, 11), 1, 0, None),
        ),
        Code::NotAuthorized,
        "signer",
    );
    for m in 0..10 {
        post(
            &board,
            &member(m),
            id,
            VOTE,
            &vote(seq(&board, id, m), 1, (m % 2) as u8, None),
        )
        .unwrap();
    }
    post(
        &board,
        &member(0),
        id,
        VOTE,
        &vote(seq(&board, id, 0), 1, 2, Some(10)),
    )
    .unwrap();
    // Duplicate vote under "first cast is final", own and by proxy.
    refused(
        post(
            &board,
            &member(3),
            id,
            VOTE,
            &vote(seq(&board, id, 3), 1, 2, None),
        ),
        Code::AlreadyUsed,
        VOTE_KEY,
    );
    refused(
        post(
            &board,
            &member(0),
            id,
            VOTE,
            &vote(seq(&board, id, 0), 1, 1, Some(10)),
        ),
        Code::AlreadyUsed,
        VOTE_KEY,
    );
    // A result before close.
    let expected = board
        .with_context_state(&id, |s: &SittingState| s.division(1).unwrap().count())
        .unwrap();
    refused(
        post(
            &board,
            &officer(),
            id,
            DIVISION_RESULT,
            &expected.to_body().unwrap(),
        ),
        Code::InvalidBody,
        "body.division",
    );
    post(
        &board,
        &officer(),
        id,
        DIVISION_CLOSE,
        &event(DIVISION_CLOSE, 1, 1_300),
    )
    .unwrap();
    // Vote outside the window.
    refused(
        post(
            &board,
            &member(11 - 1),
            id,
            VOTE,
            &vote(seq(&board, id, 11 - 1), 1, 0, None),
        ),
        Code::InvalidBody,
        "body.division",
    );
    // Altered result; miscounted quorum.
    let mut altered = expected.clone();
    altered.counts[1] += 1;
    refused(
        post(
            &board,
            &officer(),
            id,
            DIVISION_RESULT,
            &altered.to_body().unwrap(),
        ),
        Code::InvalidBody,
        "body.counts[1]",
    );
    let mut miscounted = expected.clone();
    miscounted.present = 10;
    refused(
        post(
            &board,
            &officer(),
            id,
            DIVISION_RESULT,
            &miscounted.to_body().unwrap(),
        ),
        Code::InvalidBody,
        "body.present",
    );
    assert_eq!(expected.counts, vec![5, 5, 1]);
    assert_eq!(
        (expected.present, expected.quorum, expected.proxy_votes),
        (11, 6, 1)
    );
    let published = post(
        &board,
        &officer(),
        id,
        DIVISION_RESULT,
        &expected.to_body().unwrap(),
    )
    .unwrap();
    // Proxy vote in a secret ballot.
    post(
        &board,
        &officer(),
        id,
        DIVISION_OPEN,
        &division(2, 1_400, true),
    )
    .unwrap();
    refused(
        post(
            &board,
            &member(0),
            id,
            VOTE,
            &vote(seq(&board, id, 0), 2, 0, Some(10)),
        ),
        Code::InvalidBody,
        "body.on_behalf",
    );
    post(
        &board,
        &officer(),
        id,
        DIVISION_VOID,
        &event(DIVISION_VOID, 2, 1_500),
    )
    .unwrap();
    post(&board, &officer(), id, CONTEXT_PHASE, &[2]).unwrap();

    // The log read back from the store recounts to the published result.
    let size = board.store().size();
    let log: Vec<(u64, Record)> = (0..size)
        .map(|i| (i, Record::parse(board.store().entry(i).unwrap()).unwrap()))
        .collect();
    let divisions = recount(id, &log).unwrap();
    assert_eq!(divisions[0].result, expected);
    assert_eq!(divisions[0].published_at, Some(published));
    assert_eq!(divisions[0].roll_call[10].by_proxy, Some(0));
    drop(board);

    // Reopened, the board rebuilds the same state from the log.
    let board = open_board(&dir);
    let rebuilt = board
        .with_context_state(&id, |s: &SittingState| {
            (s.phase(), s.division(1).unwrap().result_at)
        })
        .unwrap();
    assert_eq!(rebuilt, (urne_assembly::Phase::Closed, Some(published)));
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn racing_votes_of_one_member_under_first_cast_final_land_once() {
    let dir = scratch("race");
    let board = open_board(&dir);
    let id = sitting(&board);
    post(
        &board,
        &officer(),
        id,
        DIVISION_OPEN,
        &division(1, 1_000, false),
    )
    .unwrap();
    let results: Vec<Result<u64, Rejection>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..3u8)
            .map(|choice| {
                let board = &board;
                s.spawn(move || {
                    post(
                        board,
                        &member(4),
                        id,
                        VOTE,
                        &vote(seq(board, id, 4), 1, choice, None),
                    )
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    // A vote checked while the winner was pending finds its key taken; one checked
    // after the winner was applied finds the member's sequence number used.
    for r in results.into_iter().filter_map(Result::err) {
        let why = (r.code, r.field.as_deref());
        assert!(
            why == (Code::AlreadyUsed, Some(VOTE_KEY))
                || why == (Code::InvalidBody, Some("body.sequence")),
            "{r}"
        );
    }
    let votes = board
        .with_context_state(&id, |s: &SittingState| s.division(1).unwrap().counted.len())
        .unwrap();
    assert_eq!(votes, 1);
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_member_arrives_leaves_and_arrives_again_and_a_replay_is_a_duplicate() {
    let dir = scratch("presence");
    let board = open_board(&dir);
    let id = sitting(&board);
    let presence = |sequence: u32, present: bool| {
        Presence {
            sequence,
            roster_version: 2,
            present,
        }
        .to_body()
    };
    // Member 0 arrived in `sitting` (number 1): leaves, arrives, leaves again.
    let left = post(&board, &member(0), id, PRESENCE, &presence(2, false)).unwrap();
    post(&board, &member(0), id, PRESENCE, &presence(3, true)).unwrap();
    // Member 0's presence, as the log read back from the store gives it.
    let present = |board: &Board| {
        let mut fold = urne_assembly::Recount::new();
        for i in 0..board.store().size() {
            let record = Record::parse(board.store().entry(i).unwrap()).unwrap();
            fold.feed_verified(i, &record).unwrap();
        }
        let sitting = fold.sitting(id).unwrap();
        sitting.is_present(fold.chamber(sitting.chamber()).unwrap(), 0)
    };
    assert!(present(&board));
    // The old "leaves" again, byte for byte: the board refuses it as a duplicate.
    let old = board.store().entry(left).unwrap();
    let e = board.submit(old).unwrap_err();
    assert_eq!(e.code, Code::Duplicate, "{e}");
    // Signed anew with its old number: refused by the number.
    refused(
        post(&board, &member(0), id, PRESENCE, &presence(2, true)),
        Code::InvalidBody,
        "body.sequence",
    );
    assert!(present(&board));
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_declared_time_far_from_the_board_s_clock_is_refused() {
    let dir = scratch("skew");
    let board = open_board(&dir);
    let id = sitting(&board);
    let skew = urne_board::assembly::CLOCK_SKEW_SECONDS;
    for time in [1_200 + skew + 1, 1_200 - skew - 1] {
        refused(
            post(
                &board,
                &officer(),
                id,
                DIVISION_OPEN,
                &division(1, time, false),
            ),
            Code::InvalidBody,
            "body.time",
        );
    }
    post(
        &board,
        &officer(),
        id,
        DIVISION_OPEN,
        &division(1, 1_200 - skew, false),
    )
    .unwrap();
    // Jumping ahead to close (and run delegations out) is refused the same way.
    refused(
        post(
            &board,
            &officer(),
            id,
            DIVISION_CLOSE,
            &event(DIVISION_CLOSE, 1, 1_200 + skew + 1),
        ),
        Code::InvalidBody,
        "body.time",
    );
    post(
        &board,
        &officer(),
        id,
        DIVISION_CLOSE,
        &event(DIVISION_CLOSE, 1, 1_200 + skew),
    )
    .unwrap();
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_sittings_of_a_chamber_share_its_one_roster_also_after_reopening() {
    let dir = scratch("chamber");
    let board = open_board(&dir);
    // The first sitting: roster version 1, then member 11 revoked (version 2).
    sitting(&board);
    let (chamber, _) = chamber_open();
    let second = open_sitting(&board, chamber, 10);
    post(&board, &officer(), second, CONTEXT_PHASE, &[1]).unwrap();
    let here = |sequence: u32, roster_version: u32| {
        Presence {
            sequence,
            roster_version,
            present: true,
        }
        .to_body()
    };
    // Member 11's key was revoked in the chamber: it signs nothing in any sitting.
    refused(
        post(&board, &member(11), second, PRESENCE, &here(1, 2)),
        Code::NotAuthorized,
        "signer",
    );
    post(&board, &member(0), second, PRESENCE, &here(1, 2)).unwrap();
    // One roster per chamber: no second roster, in the chamber or in a sitting, and no
    // change to a version already made.
    let roster = Roster {
        version: 2,
        groups: vec!["A".into()],
        members: (0..3)
            .map(|m| Member {
                key: member(100 + m).verifying_key().to_bytes(),
                group: 0,
                name: format!("N{m}"),
            })
            .collect(),
    };
    let body = roster.to_body().unwrap();
    refused(
        post(&board, &clerk(), chamber, ROSTER_MEMBERS, &body),
        Code::WrongPhase,
        "kind",
    );
    refused(
        post(&board, &clerk(), second, ROSTER_MEMBERS, &body),
        Code::WrongPhase,
        "kind",
    );
    let again = RosterChange {
        version: 2,
        member: 1,
        op: RosterOp::Revoke,
    };
    refused(
        post(&board, &clerk(), chamber, ROSTER_CHANGE, &again.to_body()),
        Code::InvalidBody,
        "body.version_number",
    );
    // Member 1's key rotated in the chamber: the old key stops in every sitting.
    let new_key = member(200);
    let rotate = RosterChange {
        version: 3,
        member: 1,
        op: RosterOp::Rotate(new_key.verifying_key().to_bytes()),
    };
    post(&board, &clerk(), chamber, ROSTER_CHANGE, &rotate.to_body()).unwrap();
    refused(
        post(&board, &member(1), second, PRESENCE, &here(1, 3)),
        Code::NotAuthorized,
        "signer",
    );
    post(&board, &new_key, second, PRESENCE, &here(1, 3)).unwrap();
    // A sitting naming no chamber on the board never starts.
    let orphan = open_sitting(&board, ContextId([5; 32]), 11);
    refused(
        post(&board, &officer(), orphan, CONTEXT_PHASE, &[1]),
        Code::InvalidBody,
        "body",
    );
    drop(board);
    // Reopened, the board rebuilds the chamber from the log: the same refusals.
    let board = open_board(&dir);
    refused(
        post(&board, &member(1), second, PRESENCE, &here(2, 3)),
        Code::NotAuthorized,
        "signer",
    );
    post(&board, &new_key, second, PRESENCE, &here(2, 3)).unwrap();
    refused(
        post(&board, &clerk(), chamber, ROSTER_CHANGE, &again.to_body()),
        Code::InvalidBody,
        "body.version_number",
    );
    // And the whole log recounts, every sitting against the one roster.
    let size = board.store().size();
    let log: Vec<(u64, Record)> = (0..size)
        .map(|i| (i, Record::parse(board.store().entry(i).unwrap()).unwrap()))
        .collect();
    assert_eq!(urne_assembly::recount_sittings(&log).unwrap().len(), 3);
    drop(board);
    let _ = std::fs::remove_dir_all(&dir);
}
