//! The assembly's record kinds (spec/40-assembly.md §40.2). Not frozen yet: they and
//! their bodies changed in place at version 0x01 during the first review, so a log of
//! that first round is not readable (spec/40 §40.2). From the first release, a code
//! keeps its meaning and a body changes only with a new version byte.

use urne_record::Kind;

/// `chamber.rules`: the chamber's standing rules — the clerk's key, quorum, vote-change
/// and proxy policy (§40.3).
pub const CHAMBER_RULES: Kind = Kind(0x0301);
/// `roster.members`: the chamber's roster, first version, posted by the clerk (§40.4).
pub const ROSTER_MEMBERS: Kind = Kind(0x0302);
/// `roster.change`: a key rotation or a revocation, by the clerk (§40.4).
pub const ROSTER_CHANGE: Kind = Kind(0x0303);
/// `presence`: a member arrives or leaves (§40.5).
pub const PRESENCE: Kind = Kind(0x0310);
/// `proxy.grant`: a member delegates their vote to one other member (§40.6).
pub const PROXY_GRANT: Kind = Kind(0x0320);
/// `proxy.revoke`: a member ends the delegation they granted (§40.6).
pub const PROXY_REVOKE: Kind = Kind(0x0321);
/// `division.open`: the presiding officer opens a division on a text's hash (§40.7).
pub const DIVISION_OPEN: Kind = Kind(0x0330);
/// `division.suspend` (§40.7).
pub const DIVISION_SUSPEND: Kind = Kind(0x0331);
/// `division.resume` (§40.7).
pub const DIVISION_RESUME: Kind = Kind(0x0332);
/// `division.close` (§40.7).
pub const DIVISION_CLOSE: Kind = Kind(0x0333);
/// `division.void`: the division is annulled; a rerun opens a new one naming it (§40.7).
pub const DIVISION_VOID: Kind = Kind(0x0334);
/// `division.result`: the counts, quorum and roll-call hash, after close (§40.9).
pub const DIVISION_RESULT: Kind = Kind(0x0335);
/// `vote`: a member's vote, or a delegate's vote on a member's behalf (§40.8).
pub const VOTE: Kind = Kind(0x0340);
/// `vote.correction`: a member's correction of voting intention; never counted (§40.8).
pub const VOTE_CORRECTION: Kind = Kind(0x0341);

/// The kinds of a chamber's context (type 4).
pub const CHAMBER: [Kind; 3] = [CHAMBER_RULES, ROSTER_MEMBERS, ROSTER_CHANGE];

/// `secret.credential`: a member registers their public credential for a secret
/// division's election (§40.12).
pub const SECRET_CREDENTIAL: Kind = Kind(0x0342);

/// Every assembly kind, by code: the chamber's, then the sitting's.
pub const ALL: [Kind; 15] = [
    CHAMBER_RULES,
    ROSTER_MEMBERS,
    ROSTER_CHANGE,
    PRESENCE,
    PROXY_GRANT,
    PROXY_REVOKE,
    DIVISION_OPEN,
    DIVISION_SUSPEND,
    DIVISION_RESUME,
    DIVISION_CLOSE,
    DIVISION_VOID,
    DIVISION_RESULT,
    VOTE,
    VOTE_CORRECTION,
    SECRET_CREDENTIAL,
];

/// An assembly record's kind name, for messages: the assembly's, the two built-in context
/// kinds', or `record` for any other code.
pub fn label(kind: Kind) -> &'static str {
    name(kind).unwrap_or(match kind {
        urne_record::kinds::CONTEXT_OPEN => "context.open",
        urne_record::kinds::CONTEXT_PHASE => "context.phase",
        _ => "record",
    })
}

/// A kind's name, or None for a kind that is not the assembly's.
pub fn name(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        CHAMBER_RULES => "chamber.rules",
        ROSTER_MEMBERS => "roster.members",
        ROSTER_CHANGE => "roster.change",
        PRESENCE => "presence",
        PROXY_GRANT => "proxy.grant",
        PROXY_REVOKE => "proxy.revoke",
        DIVISION_OPEN => "division.open",
        DIVISION_SUSPEND => "division.suspend",
        DIVISION_RESUME => "division.resume",
        DIVISION_CLOSE => "division.close",
        DIVISION_VOID => "division.void",
        DIVISION_RESULT => "division.result",
        VOTE => "vote",
        VOTE_CORRECTION => "vote.correction",
        SECRET_CREDENTIAL => "secret.credential",
        _ => return None,
    })
}
