//! `urne assembly …` (spec/40-assembly.md): the presiding officer's, the clerk's and the
//! members' commands against a running board, and anyone's `quorum` and `result`; and
//! `urne demo assembly`.
//!
//! Every command reads the sitting from the board's log and replays it through
//! urne-assembly's fold (the same checks the board ran), so it acts on the state the log
//! determines, never on what the board says about itself. A member's `vote` ends with
//! their receipt: the record's inclusion proof against a signed checkpoint.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde::Deserialize;
use urne_assembly::body::DivisionEvent;
use urne_assembly::kinds::*;
use urne_assembly::{
    ChamberPhase, ChamberState, Correction, DEFAULT_PROXY_SECONDS, DivisionOpen, Member, Presence,
    ProxyGrant, Quorum, Recount, Roster, RosterChange, RosterOp, Rules, SittingState, Vote,
    VoteChange, parameters_hash,
};
use urne_board::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use urne_board::{ContextId, ContextOpen, ContextType, Kind, Record};
use urne_client::BoardClient;
use urne_log::{leaf_hash, verify_inclusion};

use crate::keys::{self, Role};
use crate::output::{Failure, say};
use crate::{BoardArgs, BoardKeyArgs};

/// The sitting a command acts on.
#[derive(Args)]
pub struct SittingArg {
    /// The sitting's context id (printed by `urne assembly sitting open`).
    #[arg(long)]
    sitting: String,
}

/// The chamber a command acts on.
#[derive(Args)]
pub struct ChamberArg {
    /// The chamber's context id (printed by `urne assembly chamber open`).
    #[arg(long)]
    chamber: String,
}

/// A signed command on a chamber: the chamber and the signer's key file.
#[derive(Args)]
pub struct ChamberSigned {
    #[command(flatten)]
    chamber: ChamberArg,
    /// The signer's key file (the presiding officer's or the clerk's: role authority).
    #[arg(long)]
    key: PathBuf,
}

/// A signed command: the sitting and the signer's key file.
#[derive(Args)]
pub struct Signed {
    #[command(flatten)]
    sitting: SittingArg,
    /// The signer's key file (the presiding officer's or the clerk's: role authority;
    /// a member's: role member).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Subcommand)]
pub enum AssemblyCommand {
    /// The presiding officer: open a chamber with its standing rules, put its roster in
    /// force.
    Chamber {
        #[command(subcommand)]
        command: ChamberCommand,
    },
    /// The presiding officer: open, start or close a sitting.
    Sitting {
        #[command(subcommand)]
        command: SittingCommand,
    },
    /// The clerk: post the roster, rotate or revoke a member's key; anyone: show it.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// A member: register presence (or departure with --leave).
    Presence {
        #[command(flatten)]
        signed: Signed,
        /// Register departure instead.
        #[arg(long)]
        leave: bool,
    },
    /// The presiding officer: open, suspend, resume, close or void a division.
    Division {
        #[command(subcommand)]
        command: DivisionCommand,
    },
    /// A member: vote in a division (or on behalf of a member whose delegation you hold),
    /// then check the receipt against a signed checkpoint.
    Vote(VoteArgs),
    /// A member: record a correction of voting intention (never counted).
    Correct {
        #[command(flatten)]
        signed: Signed,
        #[arg(long)]
        division: u32,
        /// The choice meant, by name.
        #[arg(long)]
        choice: String,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// A member: delegate your vote, or revoke your delegation.
    Proxy {
        #[command(subcommand)]
        command: ProxyCommand,
    },
    /// A member, in a secret division: draw a wallet key on this device for the
    /// division, keep it in a passphrase-sealed wallet file, and register its public
    /// key (spec/40 §40.12); then vote with `urne vote --election <the division's
    /// election> --wallet FILE --passphrase-file P`.
    RegisterKey {
        #[command(flatten)]
        signed: Signed,
        /// The secret division.
        #[arg(long)]
        division: u32,
        /// Where to write the wallet (refuses to overwrite; mode 0600).
        #[arg(long)]
        wallet: PathBuf,
        /// A file whose first line is the wallet's passphrase.
        #[arg(long)]
        passphrase_file: PathBuf,
    },
    /// The presiding officer, after a secret division's close: write its election's
    /// snapshot of exactly the registered wallet keys, cosigned (spec/40 §40.12, spec/31
    /// §31.7); post it with `urne election snapshot --snapshot FILE`.
    Snapshot {
        #[command(flatten)]
        signed: Signed,
        /// The secret division.
        #[arg(long)]
        division: u32,
        /// Where to write the snapshot file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Anyone: the quorum now, computed from the log.
    Quorum(SittingArg),
    /// Anyone: every division recounted from the log, with its roll call (proxy votes
    /// marked); with --post, the presiding officer posts the result of each closed
    /// division that has none.
    Result {
        #[command(flatten)]
        sitting: SittingArg,
        /// Print the roll call of each division.
        #[arg(long)]
        roll_call: bool,
        /// Post the results (needs --key, the presiding officer's).
        #[arg(long, requires = "key")]
        post: bool,
        #[arg(long)]
        key: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum ChamberCommand {
    /// Open a chamber: `context.open` committing to its standing rules, then the rules.
    Open {
        /// The presiding officer's key file (role authority).
        #[arg(long)]
        key: PathBuf,
        /// The chamber's name.
        #[arg(long)]
        name: String,
        /// The clerk's public key (hex).
        #[arg(long)]
        clerk: String,
        /// The quorum: a number of members (289) or a fraction of the roster (1/2).
        #[arg(long, default_value = "1/2")]
        quorum: String,
        /// Members represented by a present delegate count toward quorum.
        #[arg(long)]
        proxies_count_for_quorum: bool,
        /// `final`: a member's first vote is final; `last`: the last vote before close counts.
        #[arg(long, default_value = "final")]
        vote_change: String,
        /// How many delegations a member may hold (0: no proxies).
        #[arg(long, default_value_t = 1)]
        max_proxies: u8,
        /// Proxies apply in secret ballots.
        #[arg(long)]
        proxies_in_secret_ballots: bool,
        /// How many trustees the public draw names for each secret ballot (spec/40
        /// §40.3), fixed now, before any division.
        #[arg(long, default_value_t = 3)]
        secret_trustees: u8,
        /// How many of them it takes to decrypt (at least 2).
        #[arg(long, default_value_t = 2)]
        secret_threshold: u8,
        /// The fewest members who must register a wallet key for a secret ballot's vote
        /// to open (at least 3).
        #[arg(long, default_value_t = 20)]
        secret_min_registrants: u32,
    },
    /// Put the chamber's roster in force (rules and roster on the board): its sittings
    /// may start.
    Start(ChamberSigned),
}

#[derive(Subcommand)]
pub enum SittingCommand {
    /// Open a sitting of a chamber: `context.open` naming the chamber.
    Open {
        /// The presiding officer's key file (role authority): the chamber's.
        #[arg(long)]
        key: PathBuf,
        /// The sitting's name.
        #[arg(long)]
        name: String,
        /// The chamber's context id.
        #[arg(long)]
        chamber: String,
    },
    /// Move the sitting to `in-session` (its chamber's roster in force).
    Start(Signed),
    /// Close the sitting (no division left open). Final.
    Close(Signed),
}

#[derive(Subcommand)]
pub enum RosterCommand {
    /// Post the roster (a TOML file: `version`, `groups`, and `[[member]]` tables with
    /// `name`, `group`, `key`).
    Post {
        #[command(flatten)]
        signed: ChamberSigned,
        #[arg(long)]
        members: PathBuf,
    },
    /// Give member N a new key; the old one stops at once, in every sitting.
    Rotate {
        #[command(flatten)]
        signed: ChamberSigned,
        #[arg(long)]
        member: u32,
        /// The new public key (hex).
        #[arg(long)]
        new_key: String,
    },
    /// Revoke member N's key; the member leaves the roster.
    Revoke {
        #[command(flatten)]
        signed: ChamberSigned,
        #[arg(long)]
        member: u32,
    },
    /// Print the roster in force.
    Show(ChamberArg),
}

#[derive(Subcommand)]
pub enum DivisionCommand {
    /// Open the next division on the exact text of a file.
    Open {
        #[command(flatten)]
        signed: Signed,
        /// The text voted; its SHA-256 goes on the board.
        #[arg(long)]
        text: PathBuf,
        /// A choice, in order; repeat. Default: for, against, abstain.
        #[arg(long = "choice")]
        choices: Vec<String>,
        /// The voting window, in seconds.
        #[arg(long, default_value_t = 300)]
        window: u32,
        /// A secret ballot voted through the election of this context id (spec/40
        /// §40.12).
        #[arg(long)]
        secret: Option<String>,
        /// The voided division this one reruns.
        #[arg(long, default_value_t = 0)]
        reruns: u32,
    },
    /// Suspend an open division.
    Suspend(EventArgs),
    /// Resume a suspended division.
    Resume(EventArgs),
    /// Close a division (its window must be over).
    Close(EventArgs),
    /// Void a division (then open its rerun with --reruns).
    Void {
        #[command(flatten)]
        event: EventArgs,
        #[arg(long)]
        reason: String,
    },
}

#[derive(Args)]
pub struct EventArgs {
    #[command(flatten)]
    signed: Signed,
    #[arg(long)]
    division: u32,
}

#[derive(Args)]
pub struct VoteArgs {
    #[command(flatten)]
    signed: Signed,
    #[arg(long)]
    division: u32,
    /// The choice, by name (`for`).
    #[arg(long)]
    choice: String,
    /// Vote on behalf of this member, whose delegation you hold.
    #[arg(long)]
    on_behalf: Option<u32>,
    #[command(flatten)]
    keys: BoardKeyArgs,
    /// How long to wait for a checkpoint that covers the vote, in seconds.
    #[arg(long, default_value_t = 30)]
    wait: u64,
}

#[derive(Subcommand)]
pub enum ProxyCommand {
    /// Delegate your vote to member N.
    Grant {
        #[command(flatten)]
        signed: Signed,
        #[arg(long)]
        delegate: u32,
        /// Duration in days (default 8).
        #[arg(long, default_value_t = DEFAULT_PROXY_SECONDS / 86_400)]
        days: u32,
        #[arg(long)]
        reason: String,
    },
    /// Revoke your delegation in force.
    Revoke(Signed),
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::Message(message.into())
}

fn context_id(text: &str, what: &str) -> Result<ContextId, Failure> {
    ContextId::from_hex(text).ok_or_else(|| {
        fail(format!(
            "--{what}: expected the {what}'s context id, 64 lowercase hex digits"
        ))
    })
}

fn key_of(path: &Path, role: Role) -> Result<SigningKey, Failure> {
    let seed = keys::read_seed(path, role)?;
    Ok(keys::signing_key(&seed))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A sitting, or a chamber, read from the board's log and replayed through the fold:
/// the sitting's records and its chamber's, or the chamber's alone.
struct Follower {
    client: BoardClient,
    /// The sitting (or, for a chamber's command, the chamber).
    id: ContextId,
    chamber: ContextId,
    fold: Recount,
}

impl Follower {
    fn new(board: &BoardArgs, sitting: &SittingArg) -> Result<Self, Failure> {
        Self::follow(board, context_id(&sitting.sitting, "sitting")?, false)
    }

    fn chamber(board: &BoardArgs, chamber: &ChamberArg) -> Result<Self, Failure> {
        Self::follow(board, context_id(&chamber.chamber, "chamber")?, true)
    }

    fn follow(board: &BoardArgs, id: ContextId, is_chamber: bool) -> Result<Self, Failure> {
        let client = board.client()?;
        let mut records = Vec::new();
        for entry in client.entries(0, u64::MAX)? {
            let record = Record::parse(entry.record)
                .map_err(|e| fail(format!("entry {}: {e}", entry.index)))?;
            records.push((entry.index, record));
        }
        let opening = records
            .iter()
            .find(|(_, r)| r.context() == id && r.kind() == CONTEXT_OPEN)
            .and_then(|(_, r)| ContextOpen::parse(r.body()).ok());
        let (what, want) = if is_chamber {
            ("chamber", urne_assembly::CHAMBER_CONTEXT)
        } else {
            ("sitting", ContextType::SITTING)
        };
        let chamber = match opening {
            Some(open) if open.context_type == want && is_chamber => id,
            Some(open) if open.context_type == want => urne_assembly::chamber_of(&open),
            _ => {
                return Err(fail(format!(
                    "no {what} {} on the board (its context.open is not on the log)",
                    id.to_hex()
                )));
            }
        };
        let mut fold = Recount::new();
        for (index, record) in records
            .iter()
            .filter(|(_, r)| r.context() == id || r.context() == chamber)
        {
            record
                .verify_signature()
                .map_err(|e| fail(format!("entry {index}: {e}")))?;
            fold.feed_verified(*index, record).map_err(|v| {
                fail(format!(
                    "the board's log breaks the assembly's rules at {v}; refusing to act on it"
                ))
            })?;
        }
        Ok(Self {
            client,
            id,
            chamber,
            fold,
        })
    }

    fn state(&self) -> Result<&SittingState, Failure> {
        self.fold
            .sitting(self.id)
            .ok_or_else(|| fail("the sitting is not on the board"))
    }

    fn chamber_state(&self) -> Result<&ChamberState, Failure> {
        self.fold.chamber(self.chamber).ok_or_else(|| {
            fail(format!(
                "the chamber {} is not on the board",
                self.chamber.to_hex()
            ))
        })
    }

    /// Posts in the chamber for a chamber's kind, else in the sitting.
    fn post(&self, kind: Kind, body: &[u8], key: &SigningKey) -> Result<Record, Failure> {
        let context = if CHAMBER.contains(&kind) {
            self.chamber
        } else {
            self.id
        };
        post(&self.client, context, kind, body, key)
    }

    /// The sequence number the next record signed by `key` must carry (spec/40 §40.2).
    fn next_sequence(&self, key: &SigningKey) -> Result<u32, Failure> {
        let member = self
            .chamber_state()?
            .member_of(&key.verifying_key().to_bytes())
            .ok_or_else(|| fail("this key is not a member's key in force in the chamber"))?;
        self.state()?
            .next_sequence(member)
            .ok_or_else(|| fail(format!("member {member} has used every sequence number")))
    }
}

fn post(
    client: &BoardClient,
    id: ContextId,
    kind: Kind,
    body: &[u8],
    key: &SigningKey,
) -> Result<Record, Failure> {
    let name = urne_assembly::kinds::label(kind);
    let record = Record::sign(id, kind, body, key).map_err(|e| fail(format!("{name}: {e}")))?;
    let receipt = client
        .post_record(record.bytes())
        .map_err(|e| match e.board_code() {
            Some(_) => fail(format!("the board refused {name}: {e}")),
            None => fail(format!("submitting {name} failed: {e}")),
        })?;
    say!("{name} accepted: entry {}", receipt.index)?;
    Ok(record)
}

fn choice_index(state: &SittingState, division: u32, choice: &str) -> Result<u8, Failure> {
    let d = state
        .division(division)
        .ok_or_else(|| fail(format!("no division {division} in this sitting")))?;
    d.open
        .choices
        .iter()
        .position(|c| c == choice)
        .map(|i| i as u8)
        .ok_or_else(|| {
            fail(format!(
                "division {division} offers {}; not {choice:?}",
                d.open.choices.join(", ")
            ))
        })
}

fn parse_quorum(text: &str) -> Result<Quorum, Failure> {
    let bad = || {
        fail(format!(
            "--quorum {text}: a number (289) or a fraction (1/2)"
        ))
    };
    match text.split_once('/') {
        Some((num, den)) => Ok(Quorum::Fraction {
            num: num.trim().parse().map_err(|_| bad())?,
            den: den.trim().parse().map_err(|_| bad())?,
        }),
        None => Ok(Quorum::Number(text.trim().parse().map_err(|_| bad())?)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    version: u32,
    groups: Vec<String>,
    #[serde(rename = "member")]
    members: Vec<MemberFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberFile {
    name: String,
    group: String,
    key: String,
}

fn read_roster(path: &Path) -> Result<Roster, Failure> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{where_}: {e}")))?;
    let file: RosterFile = toml::from_str(&text).map_err(|e| fail(format!("{where_}: {e}")))?;
    let members = file
        .members
        .iter()
        .enumerate()
        .map(|(m, member)| {
            let group = file
                .groups
                .iter()
                .position(|g| g == &member.group)
                .ok_or_else(|| {
                    fail(format!(
                        "{where_}: member {m} ({}): group {:?} is not in groups",
                        member.name, member.group
                    ))
                })?;
            Ok(Member {
                key: keys::parse_hex32(&member.key, &format!("{where_}: member {m} key"))?,
                group: group as u16,
                name: member.name.clone(),
            })
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Ok(Roster {
        version: file.version,
        groups: file.groups,
        members,
    })
}

/// Runs `urne assembly …`.
pub fn run(board: &BoardArgs, command: AssemblyCommand) -> Result<(), Failure> {
    match command {
        AssemblyCommand::Chamber { command } => chamber(board, command),
        AssemblyCommand::Sitting { command } => sitting(board, command),
        AssemblyCommand::Roster { command } => roster(board, command),
        AssemblyCommand::Presence { signed, leave } => {
            let follower = Follower::new(board, &signed.sitting)?;
            let key = key_of(&signed.key, Role::Member)?;
            let body = Presence {
                sequence: follower.next_sequence(&key)?,
                roster_version: follower.chamber_state()?.roster_version(),
                present: !leave,
            }
            .to_body();
            follower.post(PRESENCE, &body, &key)?;
            Ok(())
        }
        AssemblyCommand::Division { command } => division(board, command),
        AssemblyCommand::Vote(args) => vote(board, args),
        AssemblyCommand::Correct {
            signed,
            division,
            choice,
            note,
        } => {
            let follower = Follower::new(board, &signed.sitting)?;
            let key = key_of(&signed.key, Role::Member)?;
            let choice = choice_index(follower.state()?, division, &choice)?;
            let body = Correction {
                sequence: follower.next_sequence(&key)?,
                division,
                choice,
                note,
            }
            .to_body()
            .map_err(|e| fail(e.to_string()))?;
            follower.post(VOTE_CORRECTION, &body, &key)?;
            Ok(())
        }
        AssemblyCommand::Proxy { command } => match command {
            ProxyCommand::Grant {
                signed,
                delegate,
                days,
                reason,
            } => {
                let follower = Follower::new(board, &signed.sitting)?;
                let seconds = days
                    .checked_mul(86_400)
                    .filter(|s| *s > 0)
                    .ok_or_else(|| fail("--days: 1 to 49,710"))?;
                let key = key_of(&signed.key, Role::Member)?;
                let body = ProxyGrant {
                    sequence: follower.next_sequence(&key)?,
                    roster_version: follower.chamber_state()?.roster_version(),
                    delegate,
                    seconds,
                    reason,
                }
                .to_body()
                .map_err(|e| fail(e.to_string()))?;
                follower.post(PROXY_GRANT, &body, &key)?;
                Ok(())
            }
            ProxyCommand::Revoke(signed) => {
                let follower = Follower::new(board, &signed.sitting)?;
                let key = key_of(&signed.key, Role::Member)?;
                let body = urne_assembly::ProxyRevoke {
                    sequence: follower.next_sequence(&key)?,
                }
                .to_body();
                follower.post(PROXY_REVOKE, &body, &key)?;
                Ok(())
            }
        },
        AssemblyCommand::RegisterKey {
            signed,
            division,
            wallet,
            passphrase_file,
        } => register_key(board, &signed, division, &wallet, &passphrase_file),
        AssemblyCommand::Snapshot {
            signed,
            division,
            out,
        } => secret_snapshot(board, &signed, division, &out),
        AssemblyCommand::Quorum(sitting) => {
            let follower = Follower::new(board, &sitting)?;
            let (present, required) = follower.state()?.quorum_now(follower.chamber_state()?);
            say!(
                "{present} counted present, {required} required: quorum {}",
                if present >= required {
                    "met"
                } else {
                    "NOT met"
                }
            )?;
            Ok(())
        }
        AssemblyCommand::Result {
            sitting,
            roll_call,
            post,
            key,
        } => result(board, &sitting, roll_call, post.then_some(key).flatten()),
    }
}

fn chamber(board: &BoardArgs, command: ChamberCommand) -> Result<(), Failure> {
    match command {
        ChamberCommand::Open {
            key,
            name,
            clerk,
            quorum,
            proxies_count_for_quorum,
            vote_change,
            max_proxies,
            proxies_in_secret_ballots,
            secret_trustees,
            secret_threshold,
            secret_min_registrants,
        } => {
            let officer = key_of(&key, Role::Authority)?;
            let rules = Rules {
                clerk: keys::parse_hex32(&clerk, "--clerk")?,
                quorum: parse_quorum(&quorum)?,
                proxies_count_for_quorum,
                vote_change: match vote_change.as_str() {
                    "final" => VoteChange::FinalOnFirstCast,
                    "last" => VoteChange::LastVoteCounts,
                    other => return Err(fail(format!("--vote-change {other}: final or last"))),
                },
                max_proxies_held: max_proxies,
                proxies_in_secret_ballots,
                secret: urne_assembly::SecretRules {
                    trustees: secret_trustees,
                    threshold: secret_threshold,
                    min_registrants: secret_min_registrants,
                },
            };
            // The board's decoder would refuse them; say so before the chamber opens.
            if let Some(Err(e)) = urne_assembly::decode(CHAMBER_RULES, &rules.to_body()) {
                return Err(fail(format!("the chamber's rules: {e}")));
            }
            let mut nonce = [0u8; 16];
            rand::fill(&mut nonce);
            let open = ContextOpen {
                context_type: urne_assembly::CHAMBER_CONTEXT,
                nonce,
                name,
                parameters: parameters_hash(&rules.to_body()),
            };
            let body = open.to_body().map_err(|e| fail(e.to_string()))?;
            let id = ContextId::derive(&officer.verifying_key().to_bytes(), &body);
            let client = board.client()?;
            post(&client, id, CONTEXT_OPEN, &body, &officer)?;
            post(&client, id, CHAMBER_RULES, &rules.to_body(), &officer)?;
            say!("chamber: {}", id.to_hex())?;
            Ok(())
        }
        ChamberCommand::Start(signed) => {
            let follower = Follower::chamber(board, &signed.chamber)?;
            if follower.chamber_state()?.phase() != ChamberPhase::Setup {
                return Err(fail("the chamber's roster is in force already"));
            }
            follower.post(
                CONTEXT_PHASE,
                &[ChamberPhase::InForce.code()],
                &key_of(&signed.key, Role::Authority)?,
            )?;
            say!("chamber moved to {}", ChamberPhase::InForce.name())?;
            Ok(())
        }
    }
}

fn sitting(board: &BoardArgs, command: SittingCommand) -> Result<(), Failure> {
    match command {
        SittingCommand::Open { key, name, chamber } => {
            let officer = key_of(&key, Role::Authority)?;
            let chamber = context_id(&chamber, "chamber")?;
            let mut nonce = [0u8; 16];
            rand::fill(&mut nonce);
            let open = ContextOpen {
                context_type: ContextType::SITTING,
                nonce,
                name,
                parameters: chamber.0,
            };
            let body = open.to_body().map_err(|e| fail(e.to_string()))?;
            let id = ContextId::derive(&officer.verifying_key().to_bytes(), &body);
            post(&board.client()?, id, CONTEXT_OPEN, &body, &officer)?;
            say!("sitting: {}", id.to_hex())?;
            Ok(())
        }
        SittingCommand::Start(signed) | SittingCommand::Close(signed) => {
            let follower = Follower::new(board, &signed.sitting)?;
            let to = follower
                .state()?
                .phase()
                .next()
                .ok_or_else(|| fail("the sitting is closed"))?;
            follower.post(
                CONTEXT_PHASE,
                &[to.code()],
                &key_of(&signed.key, Role::Authority)?,
            )?;
            say!("sitting moved to {}", to.name())?;
            Ok(())
        }
    }
}

fn roster(board: &BoardArgs, command: RosterCommand) -> Result<(), Failure> {
    match command {
        RosterCommand::Post { signed, members } => {
            let follower = Follower::chamber(board, &signed.chamber)?;
            let roster = read_roster(&members)?;
            let body = roster.to_body().map_err(|e| fail(e.to_string()))?;
            follower.post(
                ROSTER_MEMBERS,
                &body,
                &key_of(&signed.key, Role::Authority)?,
            )?;
            say!(
                "roster version {}: {} members",
                roster.version,
                roster.members.len()
            )?;
            Ok(())
        }
        RosterCommand::Rotate {
            signed,
            member,
            new_key,
        } => change(
            board,
            &signed,
            member,
            RosterOp::Rotate(keys::parse_hex32(&new_key, "--new-key")?),
        ),
        RosterCommand::Revoke { signed, member } => {
            change(board, &signed, member, RosterOp::Revoke)
        }
        RosterCommand::Show(chamber) => {
            let follower = Follower::chamber(board, &chamber)?;
            let state = follower.chamber_state()?;
            say!("roster version {}", state.roster_version())?;
            for (m, member) in state.members().iter().enumerate() {
                let group = state
                    .groups()
                    .get(usize::from(member.group))
                    .map_or("?", String::as_str);
                let revoked = member
                    .revoked_in
                    .map(|v| format!("  (revoked in version {v})"))
                    .unwrap_or_default();
                say!(
                    "{m:>4}  {:<30} {group:<10} {}{revoked}",
                    member.name,
                    hex::encode(member.key)
                )?;
            }
            Ok(())
        }
    }
}

fn change(
    board: &BoardArgs,
    signed: &ChamberSigned,
    member: u32,
    op: RosterOp,
) -> Result<(), Failure> {
    let follower = Follower::chamber(board, &signed.chamber)?;
    let body = RosterChange {
        version: follower
            .chamber_state()?
            .roster_version()
            .checked_add(1)
            .ok_or_else(|| fail("the roster has used every version number"))?,
        member,
        op,
    }
    .to_body();
    follower.post(ROSTER_CHANGE, &body, &key_of(&signed.key, Role::Authority)?)?;
    Ok(())
}

fn division(board: &BoardArgs, command: DivisionCommand) -> Result<(), Failure> {
    let event = |args: &EventArgs, kind: Kind, reason: String| -> Result<(), Failure> {
        let follower = Follower::new(board, &args.signed.sitting)?;
        let time = now().max(follower.state()?.clock().unwrap_or(0));
        let body = DivisionEvent {
            division: args.division,
            time,
            reason,
        }
        .to_body(kind)
        .map_err(|e| fail(e.to_string()))?;
        follower.post(kind, &body, &key_of(&args.signed.key, Role::Authority)?)?;
        Ok(())
    };
    match command {
        DivisionCommand::Open {
            signed,
            text,
            choices,
            window,
            secret,
            reruns,
        } => {
            use sha2::{Digest, Sha256};
            let follower = Follower::new(board, &signed.sitting)?;
            let state = follower.state()?;
            let bytes =
                std::fs::read(&text).map_err(|e| fail(format!("{}: {e}", text.display())))?;
            let choices = if choices.is_empty() {
                vec!["for".into(), "against".into(), "abstain".into()]
            } else {
                choices
            };
            let election = secret
                .map(|id| context_id(&id, "secret").map(|id| id.0))
                .transpose()?;
            let open = DivisionOpen {
                division: state.divisions().len() as u32 + 1,
                time: now().max(state.clock().unwrap_or(0)),
                text_hash: Sha256::digest(&bytes).into(),
                roster_version: follower.chamber_state()?.roster_version(),
                window,
                secret: election.is_some(),
                election,
                reruns,
                choices,
            };
            let body = open.to_body().map_err(|e| fail(e.to_string()))?;
            follower.post(DIVISION_OPEN, &body, &key_of(&signed.key, Role::Authority)?)?;
            say!(
                "division {} open on text {} until at least {}",
                open.division,
                hex::encode(open.text_hash),
                open.time.saturating_add(u64::from(window))
            )?;
            Ok(())
        }
        DivisionCommand::Suspend(args) => event(&args, DIVISION_SUSPEND, String::new()),
        DivisionCommand::Resume(args) => event(&args, DIVISION_RESUME, String::new()),
        DivisionCommand::Close(args) => event(&args, DIVISION_CLOSE, String::new()),
        DivisionCommand::Void {
            event: args,
            reason,
        } => event(&args, DIVISION_VOID, reason),
    }
}

fn vote(board: &BoardArgs, args: VoteArgs) -> Result<(), Failure> {
    let follower = Follower::new(board, &args.signed.sitting)?;
    let state = follower.state()?;
    let d = state
        .division(args.division)
        .ok_or_else(|| fail(format!("no division {} in this sitting", args.division)))?;
    let key = key_of(&args.signed.key, Role::Member)?;
    let body = Vote {
        sequence: follower.next_sequence(&key)?,
        division: args.division,
        text_hash: d.open.text_hash,
        roster_version: d.open.roster_version,
        choice: choice_index(state, args.division, &args.choice)?,
        on_behalf: args.on_behalf,
    }
    .to_body();
    let record = follower.post(VOTE, &body, &key)?;
    // The receipt (spec/15 §15.3): the record is in the log a signed checkpoint commits to.
    let leaf = leaf_hash(record.bytes());
    let (index, _) = follower.client.record(&leaf)?;
    let signed = follower.client.checkpoint_covering(
        &args.keys.verifier()?,
        &args.keys.witnesses()?,
        args.keys.quorum,
        &leaf,
        index,
        Duration::from_secs(args.wait),
    )?;
    let checkpoint = &signed.checkpoint;
    let proof = follower.client.inclusion_proof(&leaf, checkpoint.size())?;
    if proof.index != index {
        return Err(fail(format!(
            "RECEIPT FAILED: the board served the vote as entry {index} but proves it at {}",
            proof.index
        )));
    }
    verify_inclusion(
        &leaf,
        index,
        checkpoint.size(),
        &proof.proof,
        checkpoint.root(),
    )
    .map_err(|e| fail(format!("RECEIPT FAILED: {e}")))?;
    say!(
        "receipt: vote {leaf} is entry {index} of the log of size {} signed by {} (cosigned by {} known witnesses)",
        checkpoint.size(),
        checkpoint.origin(),
        signed.cosigned
    )?;
    Ok(())
}

/// The secret division `division` of the sitting, or a refusal naming why not.
fn secret_division(
    state: &SittingState,
    division: u32,
) -> Result<&urne_assembly::Division, Failure> {
    let d = state
        .division(division)
        .ok_or_else(|| fail(format!("no division {division} in this sitting")))?;
    if !d.open.secret {
        return Err(fail(format!(
            "division {division} is a roll call, not a secret ballot: vote with `urne assembly vote`"
        )));
    }
    Ok(d)
}

/// `assembly register-key`: the wallet is written before the registration is posted,
/// so a key on the board always has its secret on the device; the wallet records the
/// division's registry and its one registrar, the presiding officer, so `urne vote`
/// takes part only in the division's election.
fn register_key(
    board: &BoardArgs,
    signed: &Signed,
    division: u32,
    wallet_path: &Path,
    passphrase_file: &Path,
) -> Result<(), Failure> {
    use urne_credential::wallet::{Enrolment, KdfParams, Wallet};
    let follower = Follower::new(board, &signed.sitting)?;
    let state = follower.state()?;
    secret_division(state, division)?;
    let key = key_of(&signed.key, Role::Member)?;
    let sequence = follower.next_sequence(&key)?;
    let passphrase = {
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(passphrase_file)
                .map_err(|e| fail(format!("{}: {e}", passphrase_file.display())))?,
        );
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(fail(format!(
                "{}: the first line (the passphrase) is empty",
                passphrase_file.display()
            )));
        }
        zeroize::Zeroizing::new(line.to_owned())
    };
    let officer = ed25519_dalek::VerifyingKey::from_bytes(state.authority())
        .map_err(|e| fail(format!("the presiding officer's key: {e}")))?;
    let mut rng = rand::rng();
    let mut wallet =
        Wallet::generate(&[], &mut rng).map_err(|e| fail(format!("the wallet: {e}")))?;
    wallet
        .record_enrolment(Enrolment {
            registry: urne_assembly::secret::registry_id(follower.id, division),
            registrars: urne_assembly::secret::registrars(officer),
        })
        .map_err(|e| fail(format!("the wallet: {e}")))?;
    let sealed = wallet
        .seal(passphrase.as_bytes(), KdfParams::RECOMMENDED, &mut rng)
        .map_err(|e| fail(format!("the wallet: {e}")))?;
    urne_fsutil::write_new(wallet_path, &sealed, 0o600).map_err(|e| {
        fail(format!(
            "{}: {e} (one wallet per division: a key already registered keeps its file)",
            wallet_path.display()
        ))
    })?;
    let body = urne_assembly::CredentialRegistration {
        sequence,
        division,
        credential: wallet.public_key().to_bytes(),
        on_behalf: None,
    }
    .to_body();
    follower.post(SECRET_CREDENTIAL, &body, &key)?;
    say!(
        "wallet key {} registered for division {division}; the wallet is in {}",
        wallet.public_key().to_hex(),
        wallet_path.display()
    )?;
    Ok(())
}

/// `assembly snapshot`: the division's snapshot as the recount demands it (spec/40
/// §40.12), built from the registrations the log holds once the division has closed.
fn secret_snapshot(
    board: &BoardArgs,
    signed: &Signed,
    division: u32,
    out: &Path,
) -> Result<(), Failure> {
    let follower = Follower::new(board, &signed.sitting)?;
    let state = follower.state()?;
    let d = secret_division(state, division)?;
    let key = key_of(&signed.key, Role::Authority)?;
    if key.verifying_key().as_bytes() != state.authority() {
        return Err(fail(
            "this key is not the sitting's presiding officer's: only it vouches for a secret division's snapshot",
        ));
    }
    if d.window_ended_at.is_none() {
        return Err(fail(format!(
            "division {division} is still open: members may still register, so its snapshot comes after the close"
        )));
    }
    let keys = d
        .registrations
        .values()
        .map(|r| urne_crypto::Point::decode_non_identity(&r.credential))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(format!("a registered key: {e}")))?;
    let snapshot = urne_assembly::secret::snapshot(follower.id, division, &key, &keys)
        .map_err(|e| fail(format!("division {division}'s snapshot: {e}")))?;
    urne_fsutil::write_new(
        out,
        &crate::anonymous::snapshot_file(snapshot.signed(), &snapshot.parts()),
        0o644,
    )
    .map_err(|e| fail(format!("{}: {e}", out.display())))?;
    let header = snapshot.header();
    say!(
        "snapshot {} of division {division}: {} registered keys in one bucket of {}, cosigned by the presiding officer; written to {}",
        hex::encode(snapshot.id()),
        header.total,
        header.bucket_size(),
        out.display()
    )?;
    if let Some(election) = d.open.election {
        say!(
            "post it with `urne election snapshot --election {} --snapshot {}`",
            ContextId(election).to_hex(),
            out.display()
        )?;
    }
    Ok(())
}

fn result(
    board: &BoardArgs,
    sitting: &SittingArg,
    roll_call: bool,
    key: Option<PathBuf>,
) -> Result<(), Failure> {
    let follower = Follower::new(board, sitting)?;
    let officer = key.map(|k| key_of(&k, Role::Authority)).transpose()?;
    for recounted in follower.fold.divisions(follower.id) {
        let r = &recounted.result;
        say!(
            "division {} ({:?}), text {}, roster version {}: {} present, quorum {}",
            r.division,
            recounted.status,
            hex::encode(recounted.text_hash),
            r.roster_version,
            r.present,
            r.quorum
        )?;
        for (choice, count) in recounted.choices.iter().zip(&r.counts) {
            say!("  {choice:<20} {count:>5}")?;
        }
        say!("  ({} of them cast by proxy)", r.proxy_votes)?;
        match recounted.published_at {
            // A secret division's counts are its election's tally, which this follower
            // does not read: only `urne verify` compares them.
            Some(at) if recounted.secret => say!(
                "  published result: entry {at}; its counts are NOT compared here with its election's tally (urne verify does)"
            )?,
            Some(at) => say!("  published result: entry {at}, equal to the recount")?,
            None => say!("  no result published")?,
        }
        if recounted.secret {
            say!("  {SECRET_BALLOT_LIMITATION}")?;
        }
        for (member, choice, at) in &recounted.corrections {
            say!("  correction (not counted): member {member} meant {choice} (entry {at})")?;
        }
        if roll_call {
            for e in &recounted.roll_call {
                let proxy = e
                    .by_proxy
                    .map(|d| format!("  by proxy of member {d}"))
                    .unwrap_or_default();
                say!(
                    "    {:>4} {:<30} {:<10} {}{proxy}",
                    e.member,
                    e.name,
                    e.group,
                    e.choice
                )?;
            }
        }
        // A secret division's result is its election's tally, never a division.result.
        if let Some(officer) = &officer
            && recounted.awaits_result()
        {
            let body = r.to_body().map_err(|e| fail(e.to_string()))?;
            follower.post(DIVISION_RESULT, &body, officer)?;
        }
    }
    Ok(())
}

/// What a secret division's secrecy rests on, and what it does not defend yet (spec/40
/// §40.12, spec/90): said wherever one is shown.
const SECRET_BALLOT_LIMITATION: &str = "anonymous: each ballot is ring-signed over the wallet keys the members registered (one bucket), under a tag no one can tie to a member; trustees drawn publicly over the registered keys; NOT DEFENDED YET: a threshold of trustees can decrypt one (unattributed) ballot, and the draw can be steered by the officer's choice of when to close or by the last member to register trying keys (spec/40 \u{a7}40.12)";

/// `urne demo assembly`.
#[derive(Args)]
pub struct AssemblyDemoArgs {
    /// Where to put the board (a new or empty directory, kept). Default: a temporary
    /// directory, removed at the end unless --keep.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the temporary directory.
    #[arg(long)]
    keep: bool,
    /// Print each division's roll call.
    #[arg(long)]
    roll_call: bool,
}

/// Runs `urne demo assembly` and prints what the recount found.
pub fn demo(args: AssemblyDemoArgs) -> Result<(), Failure> {
    use urne_cli::assembly::{AssemblyDemoOptions, run as run_demo};
    say!("urne demo assembly: a 577-member chamber on an embedded board")?;
    let outcome = run_demo(&AssemblyDemoOptions {
        dir: args.dir,
        keep: args.keep,
    })
    .map_err(Failure::Message)?;
    say!(
        "{} members in {} groups; {} present, {} proxies; {} records in the sitting, posted in {:.2} s",
        outcome.members,
        outcome.groups.len(),
        outcome.present,
        outcome.proxies,
        outcome.records,
        outcome.posting.as_secs_f64()
    )?;
    say!("")?;
    say!("recounted from the board's log, under its signed checkpoint:")?;
    for (recounted, title) in outcome.divisions.iter().zip(&outcome.titles) {
        let r = &recounted.result;
        say!("division {}: {title}", r.division)?;
        if let Some((reason, at)) = &recounted.voided {
            say!("  voided (entry {at}: {reason}); rerun as a new division, never counted")?;
            continue;
        }
        let counts: Vec<String> = recounted
            .choices
            .iter()
            .zip(&r.counts)
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        if recounted.secret {
            say!(
                "  secret ballot: {}; {} members registered a wallet key and voted in anonymous election {}, whose ceremony (3 members drawn as trustees), snapshot, ring-signed ballots and tally were verified by its own replay; the result is its tally, equal to the demo's own count",
                counts.join(", "),
                outcome.secret_voters,
                outcome.secret_election.to_hex()
            )?;
            say!("  {SECRET_BALLOT_LIMITATION}")?;
            continue;
        }
        say!(
            "  {}; {} by proxy; {} present (quorum {}); published result equal to the recount",
            counts.join(", "),
            r.proxy_votes,
            r.present,
            r.quorum
        )?;
        for (member, choice, at) in &recounted.corrections {
            say!(
                "  correction of voting intention (not counted): member {member} meant {choice} (entry {at})"
            )?;
        }
        if args.roll_call {
            for e in &recounted.roll_call {
                let proxy = e
                    .by_proxy
                    .map(|d| format!(" (by proxy: {d})"))
                    .unwrap_or_default();
                say!(
                    "    {:>4} {:<16} {:<5} {}{proxy}",
                    e.member,
                    e.name,
                    e.group,
                    e.choice
                )?;
            }
        }
    }
    say!("")?;
    say!(
        "recount of the whole sitting ({} records, one Ed25519 batch, then the fold): {:.1} ms",
        outcome.records,
        outcome.recount.as_secs_f64() * 1e3
    )?;
    say!(
        "one division's {} vote signatures in one batch: {:.1} ms (verify_strict on every record of the log, one by one: {:.1} ms)",
        outcome.one_division_votes,
        outcome.one_division.as_secs_f64() * 1e3,
        outcome.strict_each.as_secs_f64() * 1e3
    )?;
    say!(
        "the independent verifier (urne-verify, spec/50) over the whole log: PASSED, V12 checked {} items, {:.1} ms",
        outcome.independent_divisions,
        outcome.independent.as_secs_f64() * 1e3
    )?;
    if outcome.removed {
        say!(
            "the board was in {} (removed; --keep keeps it)",
            outcome.dir.display()
        )?;
    } else {
        say!("the board is kept in {}", outcome.dir.display())?;
    }
    Ok(())
}
