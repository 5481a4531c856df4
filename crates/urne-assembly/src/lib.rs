//! Parliamentary remote voting (spec/40-assembly.md), as a pure fold.
//!
//! What it is for: a chamber on the board — its standing rules and the roster of
//! members' Ed25519 keys with its changes ([`ChamberState`]) — and its sittings:
//! presence and quorum, proxies, roll-call divisions and their results ([`kinds`],
//! [`body`]), the state those records build ([`SittingState`]) against the roster in
//! force in the chamber, which the board's adapter, the recount ([`recount`]) and
//! `urne demo assembly` all run, so what the board accepted and what anyone recounts
//! are one piece of code.
//!
//! What it must never do: I/O, depend on the board or its storage, hold a member's
//! secret key, keep state the records alone do not determine, or panic on a record
//! from outside.

#![deny(unsafe_code)]

pub mod batch;
pub mod body;
mod chamber;
mod error;
pub mod kinds;
mod recount;
pub mod secret;
mod state;

pub use body::{
    Correction, CredentialRegistration, DEFAULT_PROXY_SECONDS, Decoded, DivisionEvent,
    DivisionOpen, DivisionResult, Member, Presence, ProxyGrant, ProxyRevoke, Quorum, Roster,
    RosterChange, RosterOp, Rules, SecretRules, Vote, VoteChange, decode, parameters_hash,
};
pub use chamber::{ChamberPhase, ChamberState, chamber_phases};
pub use error::AssemblyError;
pub use recount::{
    ELECTION_LINK_KINDS, Recount, Recounted, RollCallEntry, Violation, chamber_of, recount,
    recount_sittings,
};

/// The context type of a chamber (spec/12 §12.3): its roster and standing rules.
pub const CHAMBER_CONTEXT: urne_record::ContextType = urne_record::ContextType(4);
pub use state::{
    CREDENTIAL_KEY, CREDENTIAL_MEMBER_KEY, CountedVote, Division, DivisionStatus, Grant, Key,
    MemberState, Phase, Registration, SittingState, VOTE_KEY, is_concurrent, phases,
    roll_call_hash, vote_key,
};
