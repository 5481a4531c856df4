//! The election role commands against a running board (`urne serve`): the authority's
//! `election …` and `tally`, the registrar's `registrar issue`, the trustee's `trustee …`,
//! the voter's `vote`, anyone's `audit` and `results` (spec/25-cli-elections.md).
//!
//! Every command reads the election from the board's log and replays it through
//! urne-election's fold (the same checks the board ran), so it acts on the state the log
//! determines, never on what the board says about itself; `results` goes further and
//! verifies the whole board against its signed checkpoint before printing anything.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use ed25519_dalek::SigningKey;
use serde::Deserialize;
use urne_ballot::{
    AuditedBallot, Ballot, Contest, ContestKind, ContestSelection, CredentialKey, Manifest,
    TrackingCode, check_audit,
};
use urne_board::{ContextId, ContextOpen, ContextType, Record};
use urne_ceremony::{
    CeremonyOpen, CommitmentHash, Commitments, Complaint, ComplaintAnswer, EncryptedShares,
    TrusteeSetup, state_file,
};
use urne_client::BoardClient;
use urne_credential::registry::{
    Position, SignedSnapshot, Snapshot, SnapshotAssembler, SnapshotPart,
};
use urne_credential::wallet::{MAX_FILE_LEN, Wallet};
use urne_credential::{BallotSignature, Credential, CredentialList, Decision, ListedCredential};
use urne_election::anonymous::{
    AnonymousAudit, AnonymousCast, AnonymousSignature, Eligibility, credential_of_tag, sign_ballot,
    tag_for,
};
use urne_election::{
    AuditRecord, CastBallot, CloseRound, Decoded, ElectionState, ManifestRecord, Phase, Replay,
    Sealed, decode, kinds, round,
};
use urne_record::Kind;
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use zeroize::Zeroizing;

use crate::BoardArgs;
use crate::keys::{self, Role};
use crate::output::{Failure, say};

/// The election a command acts on, and the key it signs with.
#[derive(Args)]
pub struct AuthorityArgs {
    /// The election's context id (printed by `urne election create`).
    #[arg(long)]
    election: String,
    /// The election authority's key file.
    #[arg(long)]
    key: PathBuf,
}

#[derive(Subcommand)]
pub enum ElectionCommand {
    /// Open an election: `context.open` committing to the manifest, then the manifest.
    Create {
        /// The election authority's key file.
        #[arg(long)]
        key: PathBuf,
        /// The manifest, a TOML file (spec/25 §25.2).
        #[arg(long)]
        manifest: PathBuf,
    },
    /// Show an election: its phase, its contests with option numbers, its ceremony.
    Show {
        /// The election's context id.
        #[arg(long)]
        election: String,
    },
    /// Start the key ceremony with these trustees, in order, and this threshold.
    Ceremony {
        #[command(flatten)]
        authority: AuthorityArgs,
        /// A trustee's public key (hex, from `urne trustee keygen`); repeat, in order.
        #[arg(long = "trustee", required = true)]
        trustees: Vec<String>,
        /// How many trustees it takes to decrypt: at least 2, since one key-holder alone
        /// never decrypts (spec/20 §20.1).
        #[arg(long)]
        threshold: u16,
    },
    /// End the ceremony's current round for trustees who did not post in it (the
    /// complaint round always ends this way: nobody else can know no complaint is coming).
    CloseRound {
        #[command(flatten)]
        authority: AuthorityArgs,
        /// Wait until the ceremony reaches this round before closing it (5: complaints).
        #[arg(long)]
        round: Option<u8>,
    },
    /// Post the registry snapshot of an anonymous election (a file cosigned by its
    /// registrars, spec/31 §31.7) as `election.snapshot` and its parts.
    Snapshot {
        #[command(flatten)]
        authority: AuthorityArgs,
        /// The cosigned snapshot file (`urne registry snapshot`, then `urne registry cosign`).
        #[arg(long)]
        snapshot: PathBuf,
    },
    /// Open voting (the credential list or the snapshot must be complete on the board).
    Open {
        #[command(flatten)]
        authority: AuthorityArgs,
    },
    /// Close voting and start the tally (the encrypted tally is sealed on the board).
    Close {
        #[command(flatten)]
        authority: AuthorityArgs,
    },
}

#[derive(Subcommand)]
pub enum TrusteeCommand {
    /// Make a trustee's identity key file and print its public key for the authority.
    Keygen {
        /// Where to write the key (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Take part in the key ceremony from start to end: post each round's record as soon
    /// as the board has the previous round, then keep the key share in a passphrase-
    /// encrypted state file. Runs until the ceremony is over.
    Ceremony(TrusteeArgs),
    /// Post this trustee's decryption shares of the election's encrypted tally.
    Decrypt(TrusteeArgs),
}

#[derive(Args)]
pub struct TrusteeArgs {
    /// The election's context id.
    #[arg(long)]
    election: String,
    /// The trustee's identity key file.
    #[arg(long)]
    key: PathBuf,
    /// The trustee's state file (written by `ceremony`, read by `decrypt`).
    #[arg(long)]
    state: PathBuf,
    /// A file whose first line is the state file's passphrase.
    #[arg(long)]
    passphrase_file: PathBuf,
    /// Give up waiting for the other trustees after this many seconds.
    #[arg(long, default_value_t = 3600)]
    timeout: u64,
}

#[derive(Subcommand)]
pub enum RegistrarCommand {
    /// Draw one secret credential per voter, write each to its own file for mailing, and
    /// post the public credential list (never who holds which).
    Issue {
        #[command(flatten)]
        authority: AuthorityArgs,
        /// The voters: a CSV file, one voter per line, `id` or `id,weight` (a header line
        /// `id` or `id,weight` is allowed).
        #[arg(long)]
        voters: PathBuf,
        /// A new directory for the credential files, one `<id>.credential` per voter.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Args)]
pub struct VoteArgs {
    /// The election's context id.
    #[arg(long, required_unless_present_any = ["cast", "audit"])]
    election: Option<String>,
    /// The voter's credential file (from the registrar), in a pseudonymous election.
    #[arg(long, required_unless_present_any = ["cast", "audit", "wallet"], conflicts_with = "wallet")]
    credential: Option<PathBuf>,
    /// The voter's wallet file (`urne wallet new`), in an anonymous election.
    #[arg(long, requires = "passphrase_file")]
    wallet: Option<PathBuf>,
    /// A file whose first line is the wallet's passphrase (with `--wallet`, and with
    /// `--cast`/`--audit` of a wallet's pending ballot, which it seals).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// The choice in each contest, in order: option numbers as `urne election show`
    /// prints them (`2`, `1,3`), `blank`, or points for a cumulative contest (`1=2,3=1`).
    #[arg(long = "pick", required_unless_present_any = ["cast", "audit"])]
    picks: Vec<String>,
    /// Where the encrypted ballot waits, with its openings, until it is cast or
    /// audited (default: the credential or wallet file's name ending in `.pending`).
    #[arg(long)]
    pending: Option<PathBuf>,
    /// Cast the pending ballot in this file.
    #[arg(long, conflicts_with_all = ["audit", "election", "credential", "wallet", "picks", "pending"])]
    cast: Option<PathBuf>,
    /// Audit the pending ballot in this file instead (Benaloh): it is posted opened,
    /// never counted; check it with `urne audit`, then vote again.
    #[arg(long, conflicts_with_all = ["election", "credential", "wallet", "picks", "pending"])]
    audit: Option<PathBuf>,
}

/// A ballot encrypted and signed, waiting for the voter's decision. The device commits to
/// it (prints its tracking code) before it learns whether it will be audited, which is
/// what makes the Benaloh challenge catch a device that cheats (spec/25 §25.5). It holds
/// both signatures, the cast's and the audit's, made before the decision; only the one
/// decided is ever posted (spec/23 §23.7). Before it is posted the file is rewritten to
/// hold that one alone ([`PendingBallot::spent_for`]): a try that fails after the record
/// left the device (a relay or board may hold it) can be retried, never turned into the
/// other decision.
struct PendingBallot {
    election: ContextId,
    ballot: Ballot,
    /// Whether a wallet's ring signs it (anonymous election), or a credential.
    anonymous: bool,
    cast: Option<PendingSignature>,
    audit: Option<PendingSignature>,
    /// The nonces and values: an audit needs them; a ballot spent for a cast drops them.
    opening: Option<AuditedBallot>,
}

/// A signature of a pending ballot: a credential's Schnorr signature (pseudonymous), or a
/// wallet's ring signature over a bucket of the snapshot (anonymous).
#[derive(Clone)]
enum PendingSignature {
    Credential(Box<BallotSignature>),
    Ring(AnonymousSignature),
}

const PENDING_HEADER: &str = "urne pending ballot v2";
/// The pending file of an anonymous election's ballot: a `bucket` line, and the
/// signatures are the Triptych signatures' bytes.
const PENDING_ANONYMOUS_HEADER: &str = "urne pending anonymous ballot v2";
/// Version 1 files held one signature for both decisions (before spec/23 §23.7 bound it).
const PENDING_HEADERS_V1: [&str; 2] =
    ["urne pending ballot v1", "urne pending anonymous ballot v1"];
/// A wallet's pending ballot is sealed under the wallet's passphrase (spec/25 §25.5): its
/// opening shows the vote, and the wallet beside it is sealed too.
const PENDING_SEALED: urne_sealed::Format = urne_sealed::Format {
    magic: b"urne-pending-sealed\n",
    version: 1,
    max_memory_kib: 1024 * 1024,
};

impl PendingBallot {
    fn to_text(&self) -> Zeroizing<String> {
        let hex_of = |signature: &Option<PendingSignature>| match signature {
            Some(PendingSignature::Credential(s)) => hex::encode(s.to_bytes()),
            Some(PendingSignature::Ring(s)) => hex::encode(&s.bytes),
            None => "none".to_owned(),
        };
        let bucket = [&self.cast, &self.audit].into_iter().find_map(|s| match s {
            Some(PendingSignature::Ring(s)) => Some(s.bucket),
            _ => None,
        });
        let (header, bucket) = match bucket {
            Some(bucket) => (PENDING_ANONYMOUS_HEADER, format!("bucket {bucket}\n")),
            None => (PENDING_HEADER, String::new()),
        };
        let opening = match &self.opening {
            Some(opening) => {
                Zeroizing::new(hex::encode(Zeroizing::new(opening.to_bytes()).as_slice()))
            }
            None => Zeroizing::new("none".to_owned()),
        };
        Zeroizing::new(format!(
            "{header}\nelection {}\nballot {}\n{bucket}cast-signature {}\naudit-signature {}\nopening {}\n",
            self.election.to_hex(),
            hex::encode(self.ballot.to_bytes()),
            hex_of(&self.cast),
            hex_of(&self.audit),
            opening.as_str(),
        ))
    }

    /// This ballot as the file must hold it once `decision` is taken: the other
    /// signature dropped, and for a cast the openings too.
    fn spent_for(self, decision: Decision) -> Self {
        let cast = decision == Decision::Cast;
        Self {
            cast: self.cast.filter(|_| cast),
            audit: self.audit.filter(|_| !cast),
            opening: self.opening.filter(|_| !cast),
            ..self
        }
    }

    /// Whether the file still holds what [`Self::spent_for`] `decision` drops.
    fn holds_more_than(&self, decision: Decision) -> bool {
        match decision {
            Decision::Cast => self.audit.is_some() || self.opening.is_some(),
            Decision::Audit => self.cast.is_some(),
        }
    }

    fn parse(text: &str, path: &Path) -> Result<Self, Failure> {
        let bad = |what: &str| fail(format!("{}: not a pending ballot: {what}", path.display()));
        let mut lines = text.lines();
        let anonymous = match lines.next() {
            Some(PENDING_HEADER) => false,
            Some(PENDING_ANONYMOUS_HEADER) => true,
            Some(old) if PENDING_HEADERS_V1.contains(&old) => {
                return Err(fail(format!(
                    "{}: a pending ballot of an earlier urne, whose cast and audit shared one signature (spec/23 §23.7 now binds the decision): make the ballot again",
                    path.display()
                )));
            }
            _ => {
                return Err(bad(&format!(
                    "the first line must be `{PENDING_HEADER}` or `{PENDING_ANONYMOUS_HEADER}`"
                )));
            }
        };
        let mut line = |name: &str| -> Result<&str, Failure> {
            lines
                .next()
                .unwrap_or_default()
                .strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .ok_or_else(|| bad(&format!("expected the `{name}` line")))
        };
        let unhex = |name: &str, value: &str| -> Result<Zeroizing<Vec<u8>>, Failure> {
            hex::decode(value)
                .map(Zeroizing::new)
                .map_err(|e| bad(&format!("`{name}`: {e}")))
        };
        let election: [u8; 32] = unhex("election", line("election")?)?
            .as_slice()
            .try_into()
            .map_err(|_| bad("`election`: not 32 bytes"))?;
        let ballot = Ballot::decode(&unhex("ballot", line("ballot")?)?)
            .map_err(|e| bad(&format!("`ballot`: {e}")))?;
        let bucket = if anonymous {
            Some(
                line("bucket")?
                    .parse::<u32>()
                    .map_err(|e| bad(&format!("`bucket`: {e}")))?,
            )
        } else {
            None
        };
        let mut signature = |name: &str| -> Result<Option<PendingSignature>, Failure> {
            let value = line(name)?;
            if value == "none" {
                return Ok(None);
            }
            let bytes = unhex(name, value)?;
            Ok(Some(match bucket {
                Some(bucket) => PendingSignature::Ring(AnonymousSignature {
                    bucket,
                    bytes: bytes.to_vec(),
                }),
                None => PendingSignature::Credential(Box::new(
                    BallotSignature::decode(&bytes).map_err(|e| bad(&format!("`{name}`: {e}")))?,
                )),
            }))
        };
        let cast = signature("cast-signature")?;
        let audit = signature("audit-signature")?;
        let opening = match line("opening")? {
            "none" => None,
            value => Some(
                AuditedBallot::decode(&unhex("opening", value)?)
                    .map_err(|e| bad(&format!("`opening`: {e}")))?,
            ),
        };
        if cast.is_none() && audit.is_none() {
            return Err(bad("neither a cast's nor an audit's signature"));
        }
        if audit.is_some() && opening.is_none() {
            return Err(bad("an audit's signature without the opening"));
        }
        Ok(Self {
            election: ContextId(election),
            ballot,
            anonymous,
            cast,
            audit,
            opening,
        })
    }
}

/// The pending file's bytes: its text, sealed under the wallet's passphrase when a wallet
/// signed it.
fn pending_file_bytes(
    pending: &PendingBallot,
    wallet_passphrase: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let text = pending.to_text();
    match wallet_passphrase {
        None => Ok(Zeroizing::new(text.as_bytes().to_vec())),
        Some(passphrase) => urne_sealed::seal(
            &PENDING_SEALED,
            text.as_bytes(),
            passphrase.as_bytes(),
            urne_sealed::KdfParams::RECOMMENDED,
            &mut rand::rng(),
        )
        .map(Zeroizing::new)
        .map_err(|e| fail(format!("sealing the pending ballot: {e}"))),
    }
}

/// Reads a pending file: plain text, or sealed by a wallet's passphrase, which must then
/// be given.
fn read_pending(
    path: &Path,
    passphrase_file: Option<&Path>,
) -> Result<(PendingBallot, Option<Zeroizing<String>>), Failure> {
    let bytes =
        Zeroizing::new(std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))?);
    let sealed = bytes.starts_with(PENDING_SEALED.magic);
    let mut unsealed_with = None;
    let text = match (sealed, passphrase_file) {
        (true, Some(passphrase_file)) => {
            let passphrase = read_passphrase(passphrase_file)?;
            let text = urne_sealed::open(&PENDING_SEALED, &bytes, passphrase.as_bytes())
                .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            unsealed_with = Some(passphrase);
            text
        }
        (true, None) => {
            return Err(fail(format!(
                "{}: this pending ballot is sealed with the wallet's passphrase: give --passphrase-file",
                path.display()
            )));
        }
        (false, Some(_)) => {
            return Err(fail(format!(
                "{}: this pending ballot is a credential's, not sealed: --passphrase-file is for a wallet's",
                path.display()
            )));
        }
        (false, None) => bytes,
    };
    let text = std::str::from_utf8(&text).map_err(|_| {
        fail(format!(
            "{}: not a pending ballot: not UTF-8",
            path.display()
        ))
    })?;
    let pending = PendingBallot::parse(text, path)?;
    // A wallet's pending ballot is always sealed (spec/25 §25.5): one in the clear was
    // written or altered by something else.
    if !sealed && pending.anonymous {
        return Err(fail(format!(
            "{}: an anonymous pending ballot in the clear: a wallet's is always sealed under its passphrase",
            path.display()
        )));
    }
    Ok((pending, unsealed_with))
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::Message(message.into())
}

fn election_id(text: &str) -> Result<ContextId, Failure> {
    Ok(ContextId(keys::parse_hex32(text, "--election")?))
}

fn authority_key(path: &Path) -> Result<SigningKey, Failure> {
    let seed = keys::read_seed(path, Role::Authority)?;
    Ok(keys::signing_key(&seed))
}

fn trustee_key(path: &Path) -> Result<SigningKey, Failure> {
    let seed = keys::read_seed(path, Role::Trustee)?;
    Ok(keys::signing_key(&seed))
}

/// The board's log, read in order and replayed through the election's fold.
struct Follower {
    client: BoardClient,
    id: ContextId,
    replay: Replay,
    records: Vec<(u64, Record)>,
    next: u64,
}

impl Follower {
    fn new(board: &BoardArgs, id: ContextId) -> Result<Self, Failure> {
        let client = board.client()?;
        let origin = client.board_info()?.origin;
        let mut follower = Self {
            client,
            id,
            // Cast ballots' proofs are verified in parallel batches after each read of the
            // log (urne-election's deferred casts), not one by one.
            replay: Replay::new(id, &origin).deferring_casts(),
            records: Vec::new(),
            next: 0,
        };
        follower.sync()?;
        if follower.replay.state().is_none() {
            return Err(fail(format!(
                "no election {} on the board (its context.open is not on the log)",
                id.to_hex()
            )));
        }
        Ok(follower)
    }

    /// Reads and replays what was appended since the last sync.
    fn sync(&mut self) -> Result<(), Failure> {
        for entry in self.client.entries(self.next, u64::MAX)? {
            let record = Record::parse(entry.record)
                .map_err(|e| fail(format!("entry {}: {e}", entry.index)))?;
            self.replay.feed(entry.index, &record).map_err(|e| {
                fail(format!(
                    "the board's log breaks the election's rules at {e}; refusing to act on it"
                ))
            })?;
            if record.context() == self.id {
                self.records.push((entry.index, record));
            }
            self.next = entry.index + 1;
        }
        let deferred = self.replay.take_deferred();
        if let Some(e) = urne_election::verify_deferred_casts(&deferred, &|_| {}).first() {
            return Err(fail(format!(
                "the board's log breaks the election's rules at {e}; refusing to act on it"
            )));
        }
        Ok(())
    }

    fn state(&self) -> Result<&ElectionState, Failure> {
        self.replay
            .state()
            .ok_or_else(|| fail("the election is not on the board"))
    }

    /// Syncs until `ready` holds, every half second, for at most `timeout`.
    fn wait_for(
        &mut self,
        what: &str,
        timeout: Duration,
        ready: impl Fn(&ElectionState) -> bool,
    ) -> Result<(), Failure> {
        let started = Instant::now();
        loop {
            if ready(self.state()?) {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(fail(format!(
                    "gave up after {} s waiting for {what}",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(Duration::from_millis(500));
            self.sync()?;
        }
    }

    /// The decoded election records of `kind`, in log order.
    fn decoded(&self, kind: Kind) -> Result<Vec<Decoded>, Failure> {
        self.records
            .iter()
            .filter(|(_, r)| r.kind() == kind)
            .map(|(index, r)| {
                decode(kind, r.body())
                    .unwrap_or_else(|| {
                        Err(urne_election::ElectionError::Invalid {
                            kind: "record",
                            field: "kind".into(),
                            detail: "not an election kind".into(),
                        })
                    })
                    .map_err(|e| fail(format!("record {index}: {e}")))
            })
            .collect()
    }

    fn post(&self, kind: Kind, body: &[u8], key: &SigningKey) -> Result<u64, Failure> {
        post(&self.client, self.id, kind, body, key)
    }

    /// The election's eligibility: None for a pseudonymous election.
    fn eligibility(&self) -> Result<Option<Eligibility>, Failure> {
        Ok(self
            .decoded(kinds::ELECTION_MANIFEST)?
            .into_iter()
            .find_map(|d| match d {
                Decoded::Manifest(record) => Some(record.eligibility),
                _ => None,
            })
            .flatten())
    }

    /// The snapshot of an anonymous election, assembled from its records on the log
    /// (which the fold has already checked as the board did).
    fn snapshot(&self) -> Result<Snapshot, Failure> {
        let mut records = self.records.iter();
        let (index, signed) = records
            .by_ref()
            .find(|(_, r)| r.kind() == kinds::ELECTION_SNAPSHOT)
            .map(|(index, r)| (*index, SignedSnapshot::decode(r.body())))
            .ok_or_else(|| fail("the election has no registry snapshot on the board yet"))?;
        let signed = signed.map_err(|e| fail(format!("record {index}: {e}")))?;
        let mut assembler = SnapshotAssembler::new(signed);
        for (index, record) in records.filter(|(_, r)| r.kind() == kinds::ELECTION_SNAPSHOT_PART) {
            let part = SnapshotPart::decode(record.body())
                .map_err(|e| fail(format!("record {index}: {e}")))?;
            assembler
                .push(&part)
                .map_err(|e| fail(format!("record {index}: {e}")))?;
        }
        assembler
            .finish()
            .map_err(|e| fail(format!("the election's snapshot: {e}")))
    }
}

fn post(
    client: &BoardClient,
    context: ContextId,
    kind: Kind,
    body: &[u8],
    key: &SigningKey,
) -> Result<u64, Failure> {
    let name = kinds::name(kind).unwrap_or(match kind {
        CONTEXT_OPEN => "context.open",
        CONTEXT_PHASE => "context.phase",
        _ => "record",
    });
    let record =
        Record::sign(context, kind, body, key).map_err(|e| fail(format!("{name}: {e}")))?;
    let receipt = client
        .post_record(record.bytes())
        .map_err(|e| match e.board_code() {
            Some(_) => fail(format!("the board refused {name}: {e}")),
            None => fail(format!("submitting {name} failed: {e}")),
        })?;
    Ok(receipt.index)
}

fn move_to(follower: &Follower, key: &SigningKey, to: Phase) -> Result<(), Failure> {
    let index = follower.post(CONTEXT_PHASE, &[to.code()], key)?;
    say!("election moved to {to} (entry {index})")?;
    Ok(())
}

// ---- manifest files ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    title: String,
    #[serde(rename = "contest")]
    contests: Vec<ContestFile>,
    /// Absent: a pseudonymous election (a credential list); present: where its voters'
    /// wallet keys come from (spec/25 §25.2).
    eligibility: Option<EligibilityFile>,
}

/// The `[eligibility]` section of an anonymous election's manifest file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct EligibilityFile {
    mode: String,
    registry: String,
    registrar_threshold: u8,
    registrars: Vec<String>,
    min_bucket_bits: u8,
    min_registered_keys: u32,
    #[serde(default = "first_snapshot")]
    min_snapshot: u32,
}

fn first_snapshot() -> u32 {
    1
}

impl EligibilityFile {
    fn read(self, where_: &std::path::Display<'_>) -> Result<Eligibility, Failure> {
        let bad =
            |field: &str, why: String| fail(format!("{where_}: [eligibility] {field}: {why}"));
        if self.mode != "anonymous" {
            return Err(bad(
                "mode",
                format!(
                    "{:?} is not \"anonymous\" (a pseudonymous election has no [eligibility])",
                    self.mode
                ),
            ));
        }
        let registry = urne_crypto::encoding::from_hex(&self.registry)
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| bad("registry", "not 64 hex digits".into()))?;
        let keys = self
            .registrars
            .iter()
            .enumerate()
            .map(|(i, k)| {
                urne_crypto::encoding::from_hex(k)
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
                    .and_then(|b| ed25519_dalek::VerifyingKey::from_bytes(&b).ok())
                    .ok_or_else(|| {
                        bad(
                            &format!("registrars[{i}]"),
                            "not an Ed25519 public key (64 hex digits)".into(),
                        )
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let registrars = urne_credential::registry::Registrars::new(self.registrar_threshold, keys)
            .map_err(|e| bad("registrars", e.to_string()))?;
        let eligibility = Eligibility {
            min_bucket_bits: self.min_bucket_bits,
            min_real_keys: self.min_registered_keys,
            min_snapshot: self.min_snapshot,
            registry,
            registrars,
        };
        eligibility
            .check()
            .map_err(|e| fail(format!("{where_}: [eligibility]: {e}")))?;
        Ok(eligibility)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ContestFile {
    title: String,
    kind: String,
    #[serde(default)]
    blank: bool,
    options: Vec<String>,
    min: Option<u16>,
    max: Option<u16>,
    per_option_max: Option<u8>,
    min_total: Option<u32>,
    max_total: Option<u32>,
    min_projects: Option<u16>,
    max_projects: Option<u16>,
    min_spend: Option<u64>,
    budget: Option<u64>,
    rule: Option<String>,
    costs: Option<Vec<u64>>,
}

/// Reads a manifest file (spec/25 §25.2).
#[cfg(test)]
fn read_manifest(path: &Path) -> Result<Manifest, Failure> {
    read_manifest_record(path).map(|r| r.manifest)
}

/// Reads a manifest file and its eligibility section (spec/25 §25.2).
pub fn read_manifest_record(path: &Path) -> Result<ManifestRecord, Failure> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{where_}: {e}")))?;
    let file: ManifestFile = toml::from_str(&text).map_err(|e| fail(format!("{where_}: {e}")))?;
    let eligibility = file.eligibility.map(|e| e.read(&where_)).transpose()?;
    let mut contests = Vec::with_capacity(file.contests.len());
    for (i, c) in file.contests.into_iter().enumerate() {
        let need = |v: Option<u32>, name: &str| {
            v.ok_or_else(|| {
                fail(format!(
                    "{where_}: contest {} ({}) needs `{name}`",
                    i + 1,
                    c.kind
                ))
            })
        };
        let kind = match c.kind.as_str() {
            "single-choice" => ContestKind::SingleChoice,
            "approval" => ContestKind::Approval {
                min: need(c.min.map(u32::from), "min")? as u16,
                max: need(c.max.map(u32::from), "max")? as u16,
            },
            "cumulative" => ContestKind::Cumulative {
                per_option_max: need(c.per_option_max.map(u32::from), "per-option-max")? as u8,
                min_total: need(c.min_total, "min-total")?,
                max_total: need(c.max_total, "max-total")?,
            },
            "budget" => {
                let missing = |name: &str| {
                    fail(format!(
                        "{where_}: contest {} (budget) needs `{name}`",
                        i + 1
                    ))
                };
                let rule = c.rule.as_deref().unwrap_or("max-approvals");
                ContestKind::Budget {
                    min_projects: c.min_projects.unwrap_or(0),
                    max_projects: c.max_projects.ok_or_else(|| missing("max-projects"))?,
                    min_spend: c.min_spend.unwrap_or(0),
                    budget: c.budget.ok_or_else(|| missing("budget"))?,
                    rule: urne_ballot::SelectionRule::from_name(rule).ok_or_else(|| {
                        fail(format!(
                            "{where_}: contest {}: rule {rule:?} is not greedy or max-approvals",
                            i + 1
                        ))
                    })?,
                    costs: c.costs.clone().ok_or_else(|| missing("costs"))?,
                }
            }
            other => {
                return Err(fail(format!(
                    "{where_}: contest {}: kind {other:?} is not single-choice, approval, cumulative or budget",
                    i + 1
                )));
            }
        };
        contests.push(Contest {
            title: c.title,
            kind,
            blank: c.blank,
            options: c.options,
        });
    }
    let manifest =
        Manifest::new(file.title, contests).map_err(|e| fail(format!("{where_}: {e}")))?;
    Ok(ManifestRecord {
        manifest,
        eligibility,
    })
}

// ---- election ----

pub fn election(board: &BoardArgs, command: ElectionCommand) -> Result<(), Failure> {
    match command {
        ElectionCommand::Create { key, manifest } => {
            let key = authority_key(&key)?;
            let record = read_manifest_record(&manifest)?;
            let mut nonce = [0u8; 16];
            rand::fill(&mut nonce);
            let name: String = record.manifest.title().chars().take(200).collect();
            let open = ContextOpen {
                context_type: ContextType::ELECTION,
                nonce,
                name,
                parameters: record.parameters_hash(),
            }
            .to_body()
            .map_err(|e| fail(format!("context.open: {e}")))?;
            let id = ContextId::derive(key.verifying_key().as_bytes(), &open);
            let client = board.client()?;
            post(&client, id, CONTEXT_OPEN, &open, &key)?;
            post(
                &client,
                id,
                kinds::ELECTION_MANIFEST,
                &record.to_body(),
                &key,
            )?;
            say!("election: {}", id.to_hex())?;
            if let Some(eligibility) = &record.eligibility {
                say!(
                    "eligibility: anonymous, the wallet keys of registry {}'s snapshot (number {} or later, cosigned by {} of {} registrars, buckets of 2^{} keys or more, {} registered keys or more in each)",
                    hex::encode(eligibility.registry),
                    eligibility.min_snapshot,
                    eligibility.registrars.threshold,
                    eligibility.registrars.keys.len(),
                    eligibility.min_bucket_bits,
                    eligibility.min_real_keys
                )?;
            }
            Ok(())
        }
        ElectionCommand::Show { election } => {
            let follower = Follower::new(board, election_id(&election)?)?;
            show(&follower)
        }
        ElectionCommand::Ceremony {
            authority,
            trustees,
            threshold,
        } => {
            let key = authority_key(&authority.key)?;
            let follower = Follower::new(board, election_id(&authority.election)?)?;
            let identities = trustees
                .iter()
                .map(|t| keys::parse_hex32(t, "--trustee"))
                .collect::<Result<Vec<_>, _>>()?;
            let open = CeremonyOpen::new(threshold, identities)
                .map_err(|e| fail(format!("ceremony.open: {e}")))?;
            move_to(&follower, &key, Phase::Ceremony)?;
            let index = follower.post(kinds::CEREMONY_OPEN, &open.encode(), &key)?;
            say!(
                "key ceremony opened (entry {index}): {threshold} of {} trustees",
                open.trustee_count()
            )?;
            Ok(())
        }
        ElectionCommand::CloseRound {
            authority,
            round: wanted,
        } => {
            let key = authority_key(&authority.key)?;
            let mut follower = Follower::new(board, election_id(&authority.election)?)?;
            if let Some(wanted) = wanted {
                follower.wait_for(
                    &format!("ceremony round {wanted}"),
                    Duration::from_secs(3600),
                    |s| s.phase() != Phase::Ceremony || s.ceremony().round() >= wanted,
                )?;
            }
            let state = follower.state()?;
            if state.phase() != Phase::Ceremony {
                return Err(fail(format!(
                    "the election is in its {} phase, not in its ceremony",
                    state.phase()
                )));
            }
            let current = state.ceremony().round();
            if wanted.is_some_and(|w| w != current) {
                say!("ceremony round {current} is open; nothing to close")?;
                return Ok(());
            }
            let body = CloseRound { round: current }.to_body();
            let index = follower.post(kinds::CEREMONY_CLOSE_ROUND, &body, &key)?;
            say!("ceremony round {current} closed (entry {index})")?;
            Ok(())
        }
        ElectionCommand::Snapshot {
            authority,
            snapshot,
        } => post_snapshot(board, authority, &snapshot),
        ElectionCommand::Open { authority } => {
            let key = authority_key(&authority.key)?;
            let follower = Follower::new(board, election_id(&authority.election)?)?;
            move_to(&follower, &key, Phase::Voting)
        }
        ElectionCommand::Close { authority } => {
            let key = authority_key(&authority.key)?;
            let mut follower = Follower::new(board, election_id(&authority.election)?)?;
            move_to(&follower, &key, Phase::Closed)?;
            follower.sync()?;
            move_to(&follower, &key, Phase::Tallying)
        }
    }
}

/// `election snapshot`: posts the cosigned snapshot file as `election.snapshot` and its
/// parts (spec/25 §25.3). Checked here first, for a clear message: an anonymous election,
/// the registry it names, and enough cosignatures of its registrars (the board checks all
/// of spec/23 again). A run stopped part-way resumes: what is on the board must be the
/// file's first records, and only the rest is posted.
fn post_snapshot(board: &BoardArgs, authority: AuthorityArgs, path: &Path) -> Result<(), Failure> {
    let key = authority_key(&authority.key)?;
    let (signed, parts) = crate::anonymous::read_snapshot_file(path)?;
    let mut follower = Follower::new(board, election_id(&authority.election)?)?;
    let eligibility = follower.eligibility()?.ok_or_else(|| {
        fail("this election is pseudonymous: its voters come from `urne registrar issue`, not from a registry snapshot")
    })?;
    let where_ = path.display();
    if signed.header.registry != eligibility.registry {
        return Err(fail(format!(
            "{where_}: a snapshot of registry {}, the election takes registry {}",
            hex::encode(signed.header.registry),
            hex::encode(eligibility.registry)
        )));
    }
    signed.verify(&eligibility.registrars).map_err(|e| {
        fail(format!(
            "{where_}: not vouched for by the election's registrars: {e}"
        ))
    })?;
    if follower.state()?.phase() == Phase::Ceremony {
        move_to(&follower, &key, Phase::Registration)?;
        follower.sync()?;
    }
    let mut bodies = vec![(kinds::ELECTION_SNAPSHOT, signed.to_bytes())];
    bodies.extend(
        parts
            .iter()
            .map(|p| (kinds::ELECTION_SNAPSHOT_PART, p.to_bytes())),
    );
    let posted: Vec<&[u8]> = follower
        .records
        .iter()
        .filter(|(_, r)| {
            r.kind() == kinds::ELECTION_SNAPSHOT || r.kind() == kinds::ELECTION_SNAPSHOT_PART
        })
        .map(|(_, r)| r.body())
        .collect();
    if posted.len() > bodies.len()
        || posted
            .iter()
            .zip(&bodies)
            .any(|(on_board, (_, body))| *on_board != body.as_slice())
    {
        return Err(fail(format!(
            "the board holds another snapshot for this election than {where_}"
        )));
    }
    let already = posted.len();
    for (kind, body) in bodies.iter().skip(already) {
        follower.post(*kind, body, &key)?;
    }
    let header = &signed.header;
    say!(
        "snapshot {} posted ({} of {} records were already on the board): {} keys in {} buckets of {}",
        hex::encode(header.id()),
        already,
        bodies.len(),
        header.total,
        header.bucket_count(),
        header.bucket_size()
    )?;
    Ok(())
}

fn show(follower: &Follower) -> Result<(), Failure> {
    let state = follower.state()?;
    say!("election {}", follower.id.to_hex())?;
    say!("phase: {}", state.phase())?;
    if let Some(manifest) = state.manifest() {
        say!("title: {}", manifest.title())?;
        for (i, contest) in manifest.contests().iter().enumerate() {
            say!("contest {}: {} ({})", i + 1, contest.title, rule(contest))?;
            let costs = contest.spending().map(|s| s.costs);
            for (o, option) in contest.options.iter().enumerate() {
                match costs.and_then(|c| c.get(o)) {
                    Some(cost) => say!("  {}. {option} (costs {cost})", o + 1)?,
                    None => say!("  {}. {option}", o + 1)?,
                }
            }
            if contest.blank {
                say!("  blank: the blank vote")?;
            }
        }
    }
    if state.phase() == Phase::Ceremony {
        say!("ceremony round: {}", state.ceremony().round())?;
    }
    if let Some(Ok(outcome)) = state.ceremony().outcome() {
        say!(
            "joint key: {} ({} of {} trustees qualified, threshold {})",
            hex::encode(outcome.joint_key.to_bytes()),
            outcome.qualified.len(),
            outcome.verification_keys.len(),
            outcome.threshold
        )?;
    }
    if let Some(list) = state.credential_list() {
        say!("credentials: {}", list.entries().len())?;
    }
    if let Some(eligibility) = follower.eligibility()? {
        say!(
            "eligibility: anonymous, registry {} ({} of {} registrars)",
            hex::encode(eligibility.registry),
            eligibility.registrars.threshold,
            eligibility.registrars.keys.len()
        )?;
        if let Ok(snapshot) = follower.snapshot() {
            let header = snapshot.header();
            say!(
                "snapshot: {} (number {}): {} keys in {} buckets of {}",
                hex::encode(snapshot.id()),
                header.number,
                header.total,
                header.bucket_count(),
                header.bucket_size()
            )?;
        }
    }
    let (cast, audited) = state.ballot_counts();
    say!("ballots: {cast} cast, {audited} audited")?;
    Ok(())
}

fn rule(contest: &Contest) -> String {
    match contest.kind {
        ContestKind::SingleChoice => "pick one".into(),
        ContestKind::Approval { min, max } => format!("pick {min} to {max}"),
        ContestKind::Cumulative {
            per_option_max,
            min_total,
            max_total,
        } => format!("{min_total} to {max_total} points, at most {per_option_max} per option"),
        ContestKind::Budget {
            min_projects,
            max_projects,
            min_spend,
            budget,
            rule,
            ..
        } => format!(
            "pick {min_projects} to {max_projects} projects costing {min_spend} to {budget} in all; funded by rule {}",
            rule.name()
        ),
        _ => "see the manifest".into(),
    }
}

// ---- registrar ----

/// One line of the voters file.
fn parse_voters(path: &Path) -> Result<Vec<(String, u32)>, Failure> {
    let where_ = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| fail(format!("{where_}: {e}")))?;
    let mut voters = Vec::new();
    let mut seen = BTreeSet::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (n == 0 && (line == "id" || line == "id,weight")) {
            continue;
        }
        let mut fields = line.split(',').map(str::trim);
        let id = fields.next().unwrap_or_default();
        let weight = match fields.next() {
            None => 1,
            Some(w) => w.parse::<u32>().ok().filter(|w| *w >= 1).ok_or_else(|| {
                fail(format!(
                    "{where_}: line {}: weight {w:?} is not a whole number of at least 1",
                    n + 1
                ))
            })?,
        };
        if fields.next().is_some() {
            return Err(fail(format!(
                "{where_}: line {}: expected `id` or `id,weight`",
                n + 1
            )));
        }
        // The id names a file: nothing that could leave the output directory.
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
            || id.starts_with('.')
        {
            return Err(fail(format!(
                "{where_}: line {}: voter id {id:?} must be letters, digits, - _ . @ (it names the credential file)",
                n + 1
            )));
        }
        if !seen.insert(id.to_owned()) {
            return Err(fail(format!(
                "{where_}: line {}: voter {id} is listed twice",
                n + 1
            )));
        }
        voters.push((id.to_owned(), weight));
    }
    if voters.is_empty() {
        return Err(fail(format!("{where_}: no voters")));
    }
    Ok(voters)
}

pub fn registrar(board: &BoardArgs, command: RegistrarCommand) -> Result<(), Failure> {
    let RegistrarCommand::Issue {
        authority,
        voters,
        out,
    } = command;
    let key = authority_key(&authority.key)?;
    let voters = parse_voters(&voters)?;
    let mut follower = Follower::new(board, election_id(&authority.election)?)?;
    if follower.eligibility()?.is_some() {
        return Err(fail(
            "this election is anonymous: its voters are the wallet keys of its registry snapshot (`urne election snapshot`), not credentials",
        ));
    }
    // The files are written before anything is posted; a run stopped or refused half-way
    // is resumed from them: an existing file is read, never drawn again or overwritten.
    let resuming = out.is_dir();
    if !resuming {
        // Every voter's secret credential goes in here: nobody else may list or read it.
        std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
            .create(&out)
            .map_err(|e| fail(format!("{}: {e}", out.display())))?;
    }
    let mut rng = rand::rng();
    let mut entries = Vec::with_capacity(voters.len());
    for (id, weight) in &voters {
        let path = out.join(format!("{id}.credential"));
        let credential = if path.exists() {
            let text = Zeroizing::new(
                std::fs::read_to_string(&path)
                    .map_err(|e| fail(format!("{}: {e}", path.display())))?,
            );
            Credential::parse(text.trim()).map_err(|e| fail(format!("{}: {e}", path.display())))?
        } else {
            let credential = Credential::generate(&mut rng);
            let text = Zeroizing::new(format!("{}\n", credential.to_text().as_str()));
            urne_fsutil::write_new(&path, text.as_bytes(), 0o600)
                .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            credential
        };
        entries.push(ListedCredential {
            credential: credential.public(),
            weight: *weight,
        });
    }
    let list =
        CredentialList::new(entries).map_err(|e| fail(format!("the credential list: {e}")))?;
    if follower.state()?.phase() == Phase::Ceremony {
        move_to(&follower, &key, Phase::Registration)?;
        follower.sync()?;
    }
    let posted: Vec<Vec<u8>> = follower
        .records
        .iter()
        .filter(|(_, r)| r.kind() == kinds::ELECTION_CREDENTIALS)
        .map(|(_, r)| r.body().to_vec())
        .collect();
    let parts = list.parts();
    for (n, part) in parts.iter().enumerate() {
        let body = part.to_bytes();
        match posted.get(n) {
            Some(on_board) if *on_board == body => {}
            Some(_) => {
                return Err(fail(format!(
                    "the board holds another credential list: its part {} is not the one the files in {} make (other voters, weights or files?)",
                    n + 1,
                    out.display()
                )));
            }
            None => {
                follower.post(kinds::ELECTION_CREDENTIALS, &body, &key)?;
            }
        }
    }
    if posted.len() > parts.len() {
        return Err(fail(format!(
            "the board holds {} credential list parts, the files in {} make {}",
            posted.len(),
            out.display(),
            parts.len()
        )));
    }
    if resuming {
        say!(
            "resumed from {}: {} of {} list parts were already on the board",
            out.display(),
            posted.len().min(parts.len()),
            parts.len()
        )?;
    }
    say!(
        "{} credentials written to {} (one file per voter, to mail); public list posted, root {}",
        voters.len(),
        out.display(),
        list.root()
    )?;
    Ok(())
}

// ---- trustee ----

fn read_passphrase(path: &Path) -> Result<Zeroizing<String>, Failure> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| fail(format!("{}: {e}", path.display())))?,
    );
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(fail(format!(
            "{}: the first line (the passphrase) is empty",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.to_owned()))
}

/// This trustee's index in the ceremony: its key's position in `ceremony.open`.
fn trustee_index(state: &ElectionState, key: &SigningKey) -> Result<u16, Failure> {
    let open = state
        .ceremony()
        .open()
        .ok_or_else(|| fail("the key ceremony is not open yet (no ceremony.open)"))?;
    let mine = key.verifying_key().to_bytes();
    open.identities
        .iter()
        .position(|i| *i == mine)
        .map(|p| p as u16 + 1)
        .ok_or_else(|| fail("this trustee key is not one of the ceremony's trustees"))
}

fn all<T>(decoded: Vec<Decoded>, pick: impl Fn(Decoded) -> Option<T>) -> Vec<T> {
    decoded.into_iter().filter_map(pick).collect()
}

pub fn trustee(board: &BoardArgs, command: TrusteeCommand) -> Result<(), Failure> {
    match command {
        TrusteeCommand::Keygen { out } => {
            let seed = keys::create_seed(&out, Role::Trustee)?;
            let key = keys::signing_key(&seed);
            say!("key file:   {} (trustee key)", out.display())?;
            say!(
                "public key: {}",
                hex::encode(key.verifying_key().as_bytes())
            )?;
            Ok(())
        }
        TrusteeCommand::Ceremony(args) => ceremony(board, args),
        TrusteeCommand::Decrypt(args) => decrypt(board, args),
    }
}

fn ceremony(board: &BoardArgs, args: TrusteeArgs) -> Result<(), Failure> {
    let key = trustee_key(&args.key)?;
    let passphrase = read_passphrase(&args.passphrase_file)?;
    if args.state.exists() {
        return Err(fail(format!(
            "{}: a state file is already there; the ceremony writes a new one",
            args.state.display()
        )));
    }
    let timeout = Duration::from_secs(args.timeout);
    let mut f = Follower::new(board, election_id(&args.election)?)?;
    f.wait_for("the key ceremony to open", timeout, |s| {
        s.ceremony().open().is_some()
    })?;
    let j = trustee_index(f.state()?, &key)?;
    if f.decoded(kinds::CEREMONY_REGISTER)?
        .iter()
        .any(|d| matches!(d, Decoded::Register(r) if r.trustee == j))
    {
        return Err(fail(format!(
            "trustee {j} has already registered: a ceremony cannot be resumed (its secrets lived only in the process that registered)"
        )));
    }
    let mut rng = rand::rng();
    let (setup, registration) = TrusteeSetup::new(j, &mut rng);
    f.post(kinds::CEREMONY_REGISTER, &registration.encode(), &key)?;
    say!("trustee {j}: registered")?;

    let at_least = |r: u8| move |s: &ElectionState| s.ceremony().round() >= r;
    f.wait_for(
        "every trustee to register",
        timeout,
        at_least(round::COMMIT),
    )?;
    let context = f
        .state()?
        .ceremony()
        .context()
        .cloned()
        .ok_or_else(|| fail("the ceremony has no context after registration"))?;
    let (awaiting, hash) = setup
        .begin(context, &mut rng)
        .map_err(|e| fail(format!("trustee {j}: {e}")))?;
    f.post(kinds::CEREMONY_COMMITMENT_HASH, &hash.encode(), &key)?;

    f.wait_for("every commitment hash", timeout, at_least(round::REVEAL))?;
    let hashes: Vec<CommitmentHash> =
        all(f.decoded(kinds::CEREMONY_COMMITMENT_HASH)?, |d| match d {
            Decoded::CommitmentHash(h) => Some(h),
            _ => None,
        });
    let (revealed, commitments) = awaiting.reveal(hashes);
    f.post(kinds::CEREMONY_COMMITMENTS, &commitments.encode(), &key)?;

    f.wait_for("every dealer's commitments", timeout, at_least(round::DEAL))?;
    let commitments: Vec<Commitments> = all(f.decoded(kinds::CEREMONY_COMMITMENTS)?, |d| match d {
        Decoded::Commitments(c) => Some(c),
        _ => None,
    });
    let (dealt, shares) = revealed
        .deal(commitments, &mut rng)
        .map_err(|e| fail(format!("trustee {j}: {e}")))?;
    f.post(kinds::CEREMONY_SHARES, &shares.encode(), &key)?;
    say!("trustee {j}: commitments revealed, shares dealt")?;

    f.wait_for("every dealer's shares", timeout, at_least(round::COMPLAIN))?;
    let shares: Vec<EncryptedShares> = all(f.decoded(kinds::CEREMONY_SHARES)?, |d| match d {
        Decoded::Shares(s) => Some(s),
        _ => None,
    });
    let (received, complaints) = dealt.receive(shares);
    for complaint in &complaints {
        f.post(kinds::CEREMONY_COMPLAINT, &complaint.encode(), &key)?;
        say!("trustee {j}: complained about dealer {}", complaint.dealer)?;
    }

    f.wait_for(
        "the authority to close the complaint round",
        timeout,
        at_least(round::ANSWER),
    )?;
    let complaints: Vec<Complaint> = all(f.decoded(kinds::CEREMONY_COMPLAINT)?, |d| match d {
        Decoded::Complaint(c) => Some(c),
        _ => None,
    });
    let (answering, answers) = received.answer(complaints);
    for answer in &answers {
        f.post(kinds::CEREMONY_ANSWER, &answer.encode(), &key)?;
    }

    f.wait_for("the end of the ceremony", timeout, at_least(round::DONE))?;
    let answers: Vec<ComplaintAnswer> = all(f.decoded(kinds::CEREMONY_ANSWER)?, |d| match d {
        Decoded::Answer(a) => Some(a),
        _ => None,
    });
    let qualified = answering
        .finish(answers)
        .map_err(|e| fail(format!("trustee {j}: {e}")))?;
    match f.state()?.ceremony().outcome() {
        Some(Ok(outcome)) if outcome == qualified.outcome() => {}
        Some(Ok(_)) => {
            return Err(fail(
                "the board's ceremony outcome differs from this trustee's: not keeping the share",
            ));
        }
        Some(Err(fault)) => return Err(fail(format!("the ceremony failed: {fault}"))),
        None => return Err(fail("the ceremony has no outcome")),
    }
    let outcome = qualified.outcome().clone();
    state_file::write(
        &args.state,
        qualified.key(),
        passphrase.as_bytes(),
        state_file::KdfParams::RECOMMENDED,
        &mut rng,
    )
    .map_err(|e| fail(format!("{}: {e}", args.state.display())))?;
    say!(
        "trustee {j}: ceremony complete; joint key {}; {} dealers qualified; share kept in {}",
        hex::encode(outcome.joint_key.to_bytes()),
        outcome.qualified.len(),
        args.state.display()
    )?;
    Ok(())
}

fn decrypt(board: &BoardArgs, args: TrusteeArgs) -> Result<(), Failure> {
    let key = trustee_key(&args.key)?;
    let passphrase = read_passphrase(&args.passphrase_file)?;
    let share = state_file::read(&args.state, passphrase.as_bytes())
        .map_err(|e| fail(format!("{}: {e}", args.state.display())))?;
    let follower = Follower::new(board, election_id(&args.election)?)?;
    let state = follower.state()?;
    let j = trustee_index(state, &key)?;
    if share.trustee() != j {
        return Err(fail(format!(
            "the state file is trustee {}'s, the key trustee {j}'s",
            share.trustee()
        )));
    }
    let sealed = state
        .sealed()
        .ok_or_else(|| fail("voting has not opened: there is nothing to decrypt"))?;
    let ciphertexts = sealed.tally_ciphertexts().ok_or_else(|| {
        fail(format!(
            "the election is in its {} phase: trustees decrypt once it is tallying",
            state.phase()
        ))
    })?;
    let shares = share
        .decryption_shares(sealed.election().context(), ciphertexts, &mut rand::rng())
        .map_err(|e| fail(format!("trustee {j}: {e}")))?;
    let index = follower.post(kinds::TALLY_DECRYPTION_SHARES, &shares.encode(), &key)?;
    say!(
        "trustee {j}: decryption shares of {} sums posted (entry {index})",
        ciphertexts.len()
    )?;
    Ok(())
}

// ---- voter ----

fn selection(contest: &Contest, number: usize, pick: &str) -> Result<ContestSelection, Failure> {
    let n = contest.options.len();
    let bad = |why: String| {
        fail(format!(
            "--pick {number} ({pick:?}) for {:?}: {why}",
            contest.title
        ))
    };
    if pick.trim() == "blank" {
        return Ok(ContestSelection::blank(n));
    }
    let mut values = vec![0u64; n];
    for item in pick.split(',').map(str::trim) {
        let (option, points) = match item.split_once('=') {
            Some((o, p)) => (
                o,
                p.parse::<u64>()
                    .map_err(|_| bad(format!("{p:?} is not a number of points")))?,
            ),
            None => (item, 1),
        };
        let option: usize = option
            .parse()
            .ok()
            .filter(|o| (1..=n).contains(o))
            .ok_or_else(|| bad(format!("{option:?} is not an option number 1 to {n}")))?;
        if values[option - 1] != 0 {
            return Err(bad(format!("option {option} is given twice")));
        }
        values[option - 1] = points;
    }
    Ok(ContestSelection::values(values))
}

/// Who signs a ballot: a credential from the registrar (pseudonymous election), or a
/// wallet whose key is in the election's snapshot (anonymous election).
enum Voter {
    Credential(Credential),
    Wallet {
        wallet: Box<Wallet>,
        snapshot: Box<Snapshot>,
        position: Position,
        /// What opened the wallet, read once: it seals the pending ballot too.
        passphrase: Zeroizing<String>,
    },
}

pub fn vote(board: &BoardArgs, args: VoteArgs) -> Result<(), Failure> {
    let passphrase_file = args.passphrase_file.as_deref();
    if let Some(path) = &args.cast {
        return decide(board, path, passphrase_file, Decision::Cast);
    }
    if let Some(path) = &args.audit {
        return decide(board, path, passphrase_file, Decision::Audit);
    }
    let Some(election_text) = &args.election else {
        return Err(fail(
            "give --election, --credential (or --wallet) and --pick to make a ballot, or --cast/--audit with a pending ballot",
        ));
    };
    let follower = Follower::new(board, election_id(election_text)?)?;
    let state = follower.state()?;
    let sealed = voting(state)?;
    let election = sealed.election();
    let eligibility = follower.eligibility()?;
    let (voter, signer_path) = match (&args.credential, &args.wallet, &eligibility) {
        (Some(_), None, None) if args.passphrase_file.is_some() => {
            return Err(fail(
                "--passphrase-file goes with --wallet (or --cast/--audit of a wallet's pending ballot), not with --credential",
            ));
        }
        (Some(path), None, None) => {
            let text = Zeroizing::new(
                std::fs::read_to_string(path)
                    .map_err(|e| fail(format!("{}: {e}", path.display())))?,
            );
            let credential = Credential::parse(text.trim())
                .map_err(|e| fail(format!("{}: {e}", path.display())))?;
            if sealed
                .credentials()
                .weight_of(&credential.public())
                .is_none()
            {
                return Err(fail(
                    "this credential is not on the election's credential list (another election's?)",
                ));
            }
            (Voter::Credential(credential), path)
        }
        (None, Some(path), Some(eligibility)) => {
            let passphrase_file = args
                .passphrase_file
                .as_deref()
                .ok_or_else(|| fail("--wallet needs --passphrase-file"))?;
            (
                wallet_voter(&follower, eligibility, path, passphrase_file)?,
                path,
            )
        }
        (Some(_), _, Some(_)) => {
            return Err(fail(
                "this election is anonymous: its voters are the wallet keys of a registry snapshot; vote with --wallet and --passphrase-file",
            ));
        }
        (_, Some(_), None) => {
            return Err(fail(
                "this election is pseudonymous: vote with the --credential its registrar sent you",
            ));
        }
        _ => {
            return Err(fail(
                "give --credential (pseudonymous election) or --wallet (anonymous election)",
            ));
        }
    };
    let contests = election.manifest().contests();
    if args.picks.len() != contests.len() {
        return Err(fail(format!(
            "the election has {} contests: give one --pick for each, in order (got {})",
            contests.len(),
            args.picks.len()
        )));
    }
    let selections = contests
        .iter()
        .zip(&args.picks)
        .enumerate()
        .map(|(i, (c, p))| selection(c, i + 1, p))
        .collect::<Result<Vec<_>, _>>()?;
    let mut rng = rand::rng();
    // The ballot's credential field: the credential's public key, or the wallet's tag in
    // this election (which every ballot proof binds, so it is needed before encrypting).
    let credential_key = match &voter {
        Voter::Credential(c) => CredentialKey(c.public().to_bytes()),
        Voter::Wallet {
            wallet, snapshot, ..
        } => credential_of_tag(&tag_for(wallet.secret(), &snapshot.id(), &follower.id.0)),
    };
    let (ballot, secrets) = Ballot::encrypt(election, &credential_key, &selections, &mut rng)
        .map_err(|e| fail(format!("the ballot: {e}")))?;
    let code = TrackingCode::of(&ballot);
    // Both signatures, the cast's and the audit's, are made now: the tracking code they
    // sign commits to no choice and the device has shown it, so making them tells the
    // device nothing; only the one the voter decides is ever posted (spec/23 §23.7).
    let (cast, audit) = match &voter {
        Voter::Credential(credential) => {
            let mut sign = |decision| {
                BallotSignature::sign(credential, election.context(), decision, &code.0, &mut rng)
                    .map(|s| PendingSignature::Credential(Box::new(s)))
                    .map_err(|e| fail(format!("signing the ballot: {e}")))
            };
            let cast = sign(Decision::Cast)?;
            (cast, sign(Decision::Audit)?)
        }
        Voter::Wallet {
            wallet,
            snapshot,
            position,
            ..
        } => {
            let mut sign = |decision| {
                sign_ballot(
                    &mut rng,
                    wallet.secret(),
                    snapshot,
                    *position,
                    &follower.id.0,
                    decision,
                    &code,
                )
                .map(|s| PendingSignature::Ring(AnonymousSignature::new(position.bucket, &s)))
                .map_err(|e| fail(format!("signing the ballot: {e}")))
            };
            let cast = sign(Decision::Cast)?;
            (cast, sign(Decision::Audit)?)
        }
    };
    let opening = secrets.audit(&ballot);
    let pending = PendingBallot {
        election: follower.id,
        ballot,
        anonymous: matches!(voter, Voter::Wallet { .. }),
        cast: Some(cast),
        audit: Some(audit),
        opening: Some(opening),
    };
    let path = args
        .pending
        .clone()
        .unwrap_or_else(|| signer_path.with_extension("pending"));
    let wallet_passphrase = match &voter {
        Voter::Wallet { passphrase, .. } => Some(passphrase.as_str()),
        Voter::Credential(_) => None,
    };
    let bytes = pending_file_bytes(&pending, wallet_passphrase)?;
    urne_fsutil::write_new(&path, &bytes, 0o600).map_err(|e| {
        fail(format!(
            "{}: {e} (a pending ballot already there? cast or audit it first, or remove it)",
            path.display()
        ))
    })?;
    say!("tracking code: {}", code.short())?;
    say!(
        "ballot encrypted and saved to {} (keep it private: it can open your vote)",
        path.display()
    )?;
    if std::io::stdin().is_terminal() {
        say!(
            "cast it, or audit it to check this device (audited ballots never count)? [cast/audit]"
        )?;
        let mut answer = String::new();
        std::io::stdin()
            .read_line(&mut answer)
            .map_err(|e| fail(format!("reading the answer: {e}")))?;
        match answer.trim() {
            "cast" | "c" => return decide(board, &path, passphrase_file, Decision::Cast),
            "audit" | "a" => return decide(board, &path, passphrase_file, Decision::Audit),
            _ => {}
        }
    }
    let unseal = match (wallet_passphrase.is_some(), passphrase_file) {
        (true, Some(file)) => format!(" --passphrase-file {}", file.display()),
        _ => String::new(),
    };
    say!(
        "then `urne vote --cast {0}{unseal}` to cast it, or `urne vote --audit {0}{unseal}` to audit it",
        path.display()
    )?;
    Ok(())
}

/// Opens the wallet and finds its key in the election's snapshot: the wallet must be
/// enrolled in the registry the election names, with the same registrars, and the
/// snapshot must not be older than one it has seen (spec/30 §30.5).
fn wallet_voter(
    follower: &Follower,
    eligibility: &Eligibility,
    path: &Path,
    passphrase_file: &Path,
) -> Result<Voter, Failure> {
    let passphrase = read_passphrase(passphrase_file)?;
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("{}: {e}", path.display())))?
        .len();
    // Refused before it is read: a wallet file has a bounded length.
    if size > MAX_FILE_LEN as u64 {
        return Err(fail(format!(
            "{}: not a urne wallet file ({size} bytes)",
            path.display()
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let mut wallet = Wallet::open(&bytes, passphrase.as_bytes())
        .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    let enrolment = wallet.enrolment().ok_or_else(|| {
        fail("this wallet records no registry: enrol it first (`urne wallet enrol`)")
    })?;
    if enrolment.registry != eligibility.registry {
        return Err(fail(format!(
            "the election takes registry {}, this wallet was enrolled in registry {}: refusing to vote",
            hex::encode(eligibility.registry),
            hex::encode(enrolment.registry)
        )));
    }
    if enrolment.registrars != eligibility.registrars {
        return Err(fail(
            "the election names other registrars than this wallet's registry has: refusing to vote",
        ));
    }
    let snapshot = follower.snapshot()?;
    let position = snapshot.position(&wallet.public_key()).ok_or_else(|| {
        fail(format!(
            "this wallet's key is not in the election's registry snapshot (number {}, {} keys): it cannot vote in this election",
            snapshot.header().number,
            snapshot.header().total
        ))
    })?;
    let newer = wallet
        .see_snapshot(snapshot.header().number)
        .map_err(|e| fail(format!("{e}: refusing to vote")))?;
    if newer {
        // Recorded before the ballot is made: a wallet never goes back to an older
        // snapshot (one a registrar replaced a lost key in).
        let sealed = wallet
            .seal(
                passphrase.as_bytes(),
                urne_credential::wallet::KdfParams::RECOMMENDED,
                &mut rand::rng(),
            )
            .map_err(|e| fail(format!("{}: {e}", path.display())))?;
        urne_fsutil::replace(path, &sealed, 0o600)
            .map_err(|e| fail(format!("{}: {e}", path.display())))?;
    }
    say!(
        "ring: bucket {} of {}, {} keys of which {} registered",
        position.bucket,
        snapshot.header().bucket_count(),
        snapshot.header().bucket_size(),
        snapshot.real_keys(position.bucket).unwrap_or(0)
    )?;
    Ok(Voter::Wallet {
        wallet: Box::new(wallet),
        snapshot: Box::new(snapshot),
        position,
        passphrase,
    })
}

/// The election's sealed parameters, while it accepts ballots.
fn voting(state: &ElectionState) -> Result<&Arc<Sealed>, Failure> {
    let sealed = state.sealed().ok_or_else(|| {
        fail(format!(
            "the election is in its {} phase: voting has not opened",
            state.phase()
        ))
    })?;
    if state.phase() != Phase::Voting {
        return Err(fail(format!(
            "the election is in its {} phase: ballots are accepted only while voting is open",
            state.phase()
        )));
    }
    Ok(sealed)
}

/// Posts the pending ballot in `path` as cast or audited, then removes the file (after a
/// cast its openings must not outlive the vote; after an audit they are public).
fn decide(
    board: &BoardArgs,
    path: &Path,
    passphrase_file: Option<&Path>,
    decision: Decision,
) -> Result<(), Failure> {
    let (pending, passphrase) = read_pending(path, passphrase_file)?;
    let anonymous_pending = pending.anonymous;
    let holder = if anonymous_pending {
        "wallet"
    } else {
        "credential"
    };
    let signature = match decision {
        Decision::Cast => pending.cast.clone().ok_or_else(|| {
            fail(format!(
                "{}: this ballot was sent for an audit already (its openings left the device), so it can never be cast: audit it again (`--audit`) to finish, then vote again",
                path.display()
            ))
        })?,
        Decision::Audit => pending.audit.clone().ok_or_else(|| {
            fail(format!(
                "{}: this ballot was sent as a cast already, so it can no longer be audited: cast it again (`--cast`) to finish, or vote again with this {holder} to replace it",
                path.display()
            ))
        })?,
    };
    let follower_id = pending.election;
    let mut follower = Follower::new(board, follower_id)?;
    let state = follower.state()?;
    let sealed = voting(state)?;
    let election = sealed.election();
    let code = TrackingCode::of(&pending.ballot);
    if decision == Decision::Audit {
        let opening = pending
            .opening
            .as_ref()
            .ok_or_else(|| fail(format!("{}: no opening to audit", path.display())))?;
        check_audit(election, &pending.ballot, opening)
            .map_err(|e| fail(format!("this device's own ballot fails its audit: {e}")))?;
    }
    // Spent before it leaves the device: the file keeps only the decided signature (and,
    // for a cast, no openings), so a try whose record reached a relay or the board but
    // whose answer was lost can be retried, never turned into the other decision.
    let rewrite = pending.holds_more_than(decision);
    let spent = pending.spent_for(decision);
    if rewrite {
        let bytes = pending_file_bytes(&spent, passphrase.as_deref().map(String::as_str))?;
        urne_fsutil::replace(path, &bytes, 0o600).map_err(|e| {
            fail(format!(
                "{}: spending it for the {decision:?}: {e}",
                path.display()
            ))
        })?;
    }
    // A device key per ballot: the envelope says nothing of the voter.
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::fill(seed.as_mut_slice());
    let device = SigningKey::from_bytes(&seed);
    let ballot = spent.ballot;
    match decision {
        Decision::Audit => {
            let opening = spent
                .opening
                .ok_or_else(|| fail(format!("{}: no opening to audit", path.display())))?;
            let body = match signature {
                PendingSignature::Credential(audit) => {
                    AuditRecord::new(ballot, *audit, opening).to_body()
                }
                PendingSignature::Ring(audit) => {
                    AnonymousAudit::new(ballot, audit, opening).to_body()
                }
            };
            let record = Record::sign(follower.id, kinds::BALLOT_AUDIT, &body, &device)
                .map_err(|e| fail(format!("ballot.audit: {e}")))?;
            let index = match follower.client.post_record(record.bytes()) {
                Ok(receipt) => receipt.index,
                Err(e) if e.board_code() == Some("already-used") => {
                    let found = find_on_board(&mut follower, code);
                    return Err(already_used(
                        &follower, path, code, decision, holder, &e, found,
                    ));
                }
                Err(e) if e.board_code().is_some() => {
                    return Err(fail(format!(
                        "the board refused ballot.audit: {e} (the ballot is spent for an audit: it can only be audited again; vote again to cast)"
                    )));
                }
                Err(e) => {
                    return Err(fail(format!(
                        "submitting ballot.audit failed: {e} (retry with --audit; the ballot can no longer be cast)"
                    )));
                }
            };
            remove_pending(path)?;
            say!("tracking code: {}", code.short())?;
            say!(
                "audited, NOT cast (entry {index}); check it with `urne audit --election {} --tracking-code {}`, then vote again",
                follower.id.to_hex(),
                code.short()
            )?;
        }
        Decision::Cast => {
            let body = match signature {
                PendingSignature::Credential(cast) => CastBallot::new(ballot, *cast).to_body(),
                PendingSignature::Ring(cast) => AnonymousCast::new(ballot, cast).to_body(),
            };
            let record = Record::sign(follower.id, kinds::BALLOT_CAST, &body, &device)
                .map_err(|e| fail(format!("ballot.cast: {e}")))?;
            let (index, record, earlier) = match follower.client.post_record(record.bytes()) {
                Ok(receipt) => (receipt.index, record, false),
                Err(e) if e.board_code() == Some("already-used") => {
                    match find_on_board(&mut follower, code) {
                        // An earlier try of this very cast landed (its answer was
                        // lost): the receipt is that record's.
                        Ok(OnBoard::Cast { index, record }) => (index, record, true),
                        found => {
                            return Err(already_used(
                                &follower, path, code, decision, holder, &e, found,
                            ));
                        }
                    }
                }
                Err(e) if e.board_code().is_some() => {
                    return Err(fail(format!("the board refused ballot.cast: {e}")));
                }
                Err(e) => {
                    return Err(fail(format!(
                        "submitting ballot.cast failed: {e} (retry with --cast; the ballot can no longer be audited)"
                    )));
                }
            };
            say!("tracking code: {}", code.short())?;
            say!(
                "cast (entry {index}{}); a later ballot with this {holder} replaces it",
                if earlier {
                    ", by an earlier try whose answer was lost"
                } else {
                    ""
                }
            )?;
            // The receipt is written before the pending file goes, so a voter never
            // holds neither.
            let receipt = write_receipt(&follower.client, follower.id, code, index, record, path);
            remove_pending(path)?;
            receipt?;
        }
    }
    Ok(())
}

/// Where a ballot's tracking code stands on the board.
enum OnBoard {
    /// Cast, at this entry.
    Cast { index: u64, record: Record },
    /// Audited.
    Audited,
    /// Neither.
    Nowhere,
}

/// Reads what the board appended since the follower's last sync and finds `code`.
fn find_on_board(follower: &mut Follower, code: TrackingCode) -> Result<OnBoard, Failure> {
    follower.sync()?;
    for (index, record) in &follower.records {
        let kind = record.kind();
        if (kind == kinds::BALLOT_CAST || kind == kinds::BALLOT_AUDIT)
            && urne_election::body::tracking_code_of_body(kind, record.body()).ok() == Some(code)
        {
            return Ok(if kind == kinds::BALLOT_CAST {
                OnBoard::Cast {
                    index: *index,
                    record: record.clone(),
                }
            } else {
                OnBoard::Audited
            });
        }
    }
    Ok(OnBoard::Nowhere)
}

/// A cast or an audit refused `already-used`, explained from the board (spec/25 §25.5). A
/// relay cannot turn an audit into a cast (the signatures differ, spec/23 §23.7), so the
/// tracking code on the board is this device's own doing: an earlier try that landed, or
/// the same pending ballot posted from a copy. The pending file goes when its ballot is on
/// the board (cast, its openings must not outlive the vote; audited, they are public), and
/// stays otherwise (a full audit quota).
fn already_used(
    follower: &Follower,
    path: &Path,
    code: TrackingCode,
    decision: Decision,
    holder: &str,
    refusal: &urne_client::ClientError,
    found: Result<OnBoard, Failure>,
) -> Failure {
    let tried = match decision {
        Decision::Cast => "ballot.cast",
        Decision::Audit => "ballot.audit",
    };
    let found = match found {
        Ok(found) => found,
        Err(Failure::Message(m)) => {
            return fail(format!(
                "the board refused {tried}: {refusal}; reading the board to see where the ballot is failed: {m}"
            ));
        }
        Err(other) => return other,
    };
    let (explained, on_board) = match found {
        OnBoard::Cast { index, record } => {
            // Counted: the voter gets its receipt, as after their own cast.
            let receipt =
                match write_receipt(&follower.client, follower.id, code, index, record, path) {
                    Ok(()) => String::new(),
                    Err(Failure::Message(m)) => format!(" (no receipt written: {m})"),
                    Err(Failure::StdoutClosed) => String::new(),
                };
            (
                format!(
                    "ballot {} is already CAST (entry {index}), from this pending ballot or a copy of it: it counts, and a later ballot with this {holder} replaces it{receipt}",
                    code.short()
                ),
                true,
            )
        }
        OnBoard::Audited => (
            format!(
                "ballot {0} is already audited (an earlier try landed, or a copy of this pending ballot): it never counts; check it with `urne audit --election {1} --tracking-code {0}`, then vote again",
                code.short(),
                follower.id.to_hex(),
            ),
            true,
        ),
        // An earlier try still queued on the board, or (an audit) the credential's audit
        // quota: the file stays, spent for this decision.
        OnBoard::Nowhere => (
            format!(
                "the board refused {tried}: {refusal} (an earlier try may still be queued: retry in a moment{})",
                if decision == Decision::Audit {
                    "; or this credential's audits are used up: vote again, this ballot can no longer be cast"
                } else {
                    ""
                }
            ),
            false,
        ),
    };
    if on_board && let Err(Failure::Message(m)) = remove_pending(path) {
        return fail(format!("{explained}; and {m}"));
    }
    fail(explained)
}

/// The voter's receipt (spec/52), written beside the pending file as `<pending>.receipt`
/// once the board's checkpoint covers the ballot: `urne receipt check` reads it offline.
fn write_receipt(
    client: &BoardClient,
    election: ContextId,
    code: TrackingCode,
    index: u64,
    record: Record,
    pending: &Path,
) -> Result<(), Failure> {
    let vkey = client.board_info()?.vkey;
    let verifier = urne_log::note::NoteVerifier::from_vkey(&vkey)
        .map_err(|e| fail(format!("the board's key: {e}")))?;
    let hash = urne_log::leaf_hash(record.bytes());
    let signed =
        client.checkpoint_covering(&verifier, &[], 0, &hash, index, Duration::from_secs(30))?;
    let proof = client.inclusion_proof(&hash, signed.checkpoint.size())?;
    let anonymous = record.body().first() == Some(&urne_election::anonymous::ANONYMOUS_VERSION);
    let receipt = urne_verify::VoterReceipt {
        election,
        tracking_code: code,
        index,
        record: record.into_bytes(),
        inclusion: proof.proof,
        checkpoint: signed.text,
    };
    match receipt.check(&verifier, &[], 0) {
        Ok(_) => {}
        // urne-verify's receipt reader may not read a version-2 cast yet: the ballot's
        // inclusion under the board's signed checkpoint is checked here instead, and
        // the voter told what was not.
        Err(e) if anonymous => {
            urne_log::verify_inclusion(
                &hash,
                index,
                signed.checkpoint.size(),
                &receipt.inclusion,
                signed.checkpoint.root(),
            )
            .map_err(|e| fail(format!("the board's proof of the ballot fails: {e}")))?;
            say!(
                "the ballot's inclusion in the board's signed log is checked; the receipt reader of this build could not read it ({e}), so `urne receipt check` may not either"
            )?;
        }
        Err(e) => return Err(fail(format!("the board's proof of the ballot fails: {e}"))),
    }
    let mut name = pending.as_os_str().to_owned();
    name.push(".receipt");
    let out = PathBuf::from(name);
    urne_fsutil::replace(&out, receipt.to_json().as_bytes(), 0o644)
        .map_err(|e| fail(format!("{}: {e}", out.display())))?;
    say!(
        "receipt written to {}; check it with `urne receipt check {} --board-key-file <board.vkey>`",
        out.display(),
        out.display()
    )
}

fn remove_pending(path: &Path) -> Result<(), Failure> {
    std::fs::remove_file(path).map_err(|e| {
        fail(format!(
            "the ballot is posted, but {} could not be removed: {e}; remove it yourself",
            path.display()
        ))
    })
}

// ---- audit, tally, results ----

pub fn audit(board: &BoardArgs, election: &str, tracking_code: &str) -> Result<(), Failure> {
    let follower = Follower::new(board, election_id(election)?)?;
    let state = follower.state()?;
    let sealed = state
        .sealed()
        .ok_or_else(|| fail("voting has not opened: there is no ballot to audit"))?;
    let wanted = |code: &TrackingCode| {
        code.matches_short(tracking_code) || code.to_hex() == tracking_code.trim()
    };
    for decoded in follower.decoded(kinds::BALLOT_AUDIT)? {
        // A pseudonymous audit or an anonymous one (spec/23 §23.12): the same opening.
        let (code, ballot, opening) = match &decoded {
            Decoded::Audit(record) => (record.tracking_code(), &record.ballot, &record.opening),
            Decoded::AnonymousAudit(record) => {
                (record.tracking_code(), &record.ballot, &record.opening)
            }
            _ => continue,
        };
        if !wanted(&code) {
            continue;
        }
        check_audit(sealed.election(), ballot, opening)
            .map_err(|e| fail(format!("AUDIT FAILED: {e}")))?;
        say!(
            "audit passed: ballot {} encrypts exactly these choices",
            code.short()
        )?;
        for (contest, selection) in sealed
            .election()
            .manifest()
            .contests()
            .iter()
            .zip(opening.selections())
        {
            let shown = if selection.is_blank() {
                "blank vote".to_owned()
            } else {
                let picked: Vec<String> = contest
                    .options
                    .iter()
                    .zip(selection.option_values())
                    .filter(|(_, v)| **v > 0)
                    .map(|(o, v)| {
                        if *v == 1 {
                            o.clone()
                        } else {
                            format!("{o} ({v})")
                        }
                    })
                    .collect();
                picked.join(", ")
            };
            say!("  {}: {shown}", contest.title)?;
        }
        say!("compare them with what you chose; this ballot is never counted")?;
        return Ok(());
    }
    if follower
        .decoded(kinds::BALLOT_CAST)?
        .iter()
        .any(|d| match d {
            Decoded::Cast(c) => wanted(&c.tracking_code()),
            Decoded::AnonymousCast(c) => wanted(&c.tracking_code()),
            _ => false,
        })
    {
        return Err(fail(
            "that ballot was cast, not audited: a cast ballot's choices stay secret",
        ));
    }
    Err(fail(format!(
        "no audited ballot with tracking code {tracking_code} on the board"
    )))
}

pub fn tally(board: &BoardArgs, authority: AuthorityArgs) -> Result<(), Failure> {
    let key = authority_key(&authority.key)?;
    let mut follower = Follower::new(board, election_id(&authority.election)?)?;
    let result = follower
        .state()?
        .decrypt_result()
        .map_err(|e| fail(format!("the tally: {e}")))?;
    let index = follower.post(kinds::TALLY_RESULT, &result.to_bytes(), &key)?;
    say!(
        "result posted (entry {index}): {} ballots counted, {} replaced by a revote, trustees {:?}",
        result.tally.ballots,
        result.superseded,
        result.trustees
    )?;
    follower.sync()?;
    move_to(&follower, &key, Phase::Published)
}

pub fn results(
    board: &BoardArgs,
    election: &str,
    keys: &crate::BoardKeyArgs,
) -> Result<(), Failure> {
    let id = election_id(election)?;
    let client = board.client()?;
    let verifier = keys.verifier()?;
    let witnesses = keys.witnesses()?;
    // Everything the board holds now, result included, is in the next checkpoint: wait
    // for it (a few seconds at most) rather than verify an older one.
    let wanted = client.board_info()?.size;
    let started = Instant::now();
    let signed = loop {
        let signed = client.checkpoint(&verifier, &witnesses, keys.quorum)?;
        if signed.checkpoint.size() >= wanted || started.elapsed() > Duration::from_secs(30) {
            break signed;
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    let size = signed.checkpoint.size();
    let entries: Vec<Vec<u8>> = client
        .entries(0, size)?
        .into_iter()
        .map(|e| e.record)
        .collect();
    let verified = urne_cli::demo::verify_log(&entries, &signed.text, &verifier.to_vkey())
        .map_err(|e| fail(format!("VERIFICATION FAILED: {e}")))?;
    if let Some(unfinished) = verified.unfinished.iter().find(|e| e.context == id) {
        return Err(fail(format!(
            "board verified ({} records); election {} never opened voting: it is in its {} phase{}",
            verified.entries,
            id.to_hex(),
            unfinished.phase,
            match &unfinished.ceremony {
                Some(Err(fault)) => format!(", its key ceremony failed ({fault})"),
                _ => String::new(),
            }
        )));
    }
    let found = verified
        .elections
        .iter()
        .find(|e| e.context == id)
        .ok_or_else(|| fail(format!("no election {} in the signed log", id.to_hex())))?;
    say!(
        "board verified: {} records under its signed checkpoint; election {}: ceremony, {} ballots, {} audits checked",
        verified.entries,
        id.to_hex(),
        found.ballots,
        found.audits
    )?;
    let Some(result) = &found.result else {
        return Err(fail("the election has no result on the board yet"));
    };
    say!("{}", found.manifest.title())?;
    for (contest, counts) in found.manifest.contests().iter().zip(&result.counts) {
        say!("  {}", contest.title)?;
        let labels = contest
            .options
            .iter()
            .map(String::as_str)
            .chain(contest.blank.then_some("(blank vote)"));
        for (label, count) in labels.zip(counts) {
            say!("    {label:<40} {count:>8}")?;
        }
    }
    for funding in &result.fundings {
        let Some(contest) = found.manifest.contests().get(usize::from(funding.contest)) else {
            continue;
        };
        let s = &funding.selection;
        say!(
            "  {}: funded (verified against rule {}): {} projects, {} spent, {} of {} approvals represented",
            contest.title,
            match &contest.kind {
                ContestKind::Budget { rule, .. } => rule.name(),
                _ => "?",
            },
            s.funded.len(),
            s.money_used,
            s.approvals_represented,
            s.approvals_total
        )?;
        let costs = contest.spending().map(|s| s.costs).unwrap_or(&[]);
        for &i in &s.funded {
            let i = i as usize;
            say!(
                "    {:<40} {:>12}",
                contest.options.get(i).map_or("?", String::as_str),
                costs.get(i).copied().unwrap_or(0)
            )?;
        }
    }
    say!(
        "{} ballots counted, {} replaced by a revote; decrypted by trustees {:?}",
        result.tally.ballots,
        result.superseded,
        result.trustees
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn file(name: &str, text: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("urne-roles-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn message(r: Result<impl std::fmt::Debug, Failure>) -> String {
        match r {
            Err(Failure::Message(m)) => m,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn voters_file_with_weights_and_a_header_is_read() {
        let path = file("ok.csv", "id,weight\nalice\nbob,3\n\ncarol@example.org,1\n");
        let voters = parse_voters(&path).unwrap();
        assert_eq!(
            voters,
            vec![
                ("alice".to_owned(), 1),
                ("bob".to_owned(), 3),
                ("carol@example.org".to_owned(), 1)
            ]
        );
    }

    #[test]
    fn voters_file_errors_name_the_line_and_what_is_wrong() {
        for (name, text, expected) in [
            (
                "dup.csv",
                "alice\nbob\nalice\n",
                "line 3: voter alice is listed twice",
            ),
            ("slash.csv", "alice\n../etc/passwd\n", "line 2: voter id"),
            ("dot.csv", ".hidden\n", "line 1: voter id"),
            ("weight0.csv", "alice,0\n", "line 1: weight \"0\""),
            ("weightx.csv", "alice,x\n", "line 1: weight \"x\""),
            (
                "fields.csv",
                "alice,1,2\n",
                "line 1: expected `id` or `id,weight`",
            ),
            ("empty.csv", "id\n\n", "no voters"),
        ] {
            let err = message(parse_voters(&file(name, text)));
            assert!(err.contains(expected), "{name}: {err}");
            assert!(err.contains(name), "{name}: {err}");
        }
    }

    const MANIFEST: &str = r#"title = "T"
[[contest]]
title = "A"
kind = "single-choice"
blank = true
options = ["x", "y"]
[[contest]]
title = "B"
kind = "approval"
min = 1
max = 2
options = ["p", "q", "r"]
[[contest]]
title = "C"
kind = "cumulative"
per-option-max = 3
min-total = 0
max-total = 5
options = ["u", "v"]
"#;

    #[test]
    fn manifest_file_of_each_contest_kind_is_read() {
        let manifest = read_manifest(&file("m.toml", MANIFEST)).unwrap();
        let contests = manifest.contests();
        assert_eq!(contests.len(), 3);
        assert!(contests[0].blank);
        assert_eq!(contests[1].kind, ContestKind::Approval { min: 1, max: 2 });
        assert_eq!(
            contests[2].kind,
            ContestKind::Cumulative {
                per_option_max: 3,
                min_total: 0,
                max_total: 5
            }
        );
    }

    #[test]
    fn manifest_file_errors_name_the_contest_and_the_field() {
        let missing = MANIFEST.replace("min = 1\n", "");
        let err = message(read_manifest(&file("missing.toml", &missing)));
        assert!(err.contains("contest 2 (approval) needs `min`"), "{err}");
        let unknown = MANIFEST.replace("\"single-choice\"", "\"ranked\"");
        let err = message(read_manifest(&file("unknown.toml", &unknown)));
        assert!(err.contains("contest 1: kind \"ranked\""), "{err}");
        let typo = MANIFEST.replace("blank = true", "blanc = true");
        let err = message(read_manifest(&file("typo.toml", &typo)));
        assert!(err.contains("blanc"), "{err}");
        let inverted = MANIFEST.replace("min = 1\nmax = 2", "min = 3\nmax = 2");
        assert!(read_manifest(&file("inverted.toml", &inverted)).is_err());
    }

    const BUDGET: &str = r#"title = "Budget"

[[contest]]
title = "Participatory budget 2027"
kind = "budget"
budget = 1000000
min-spend = 300000
min-projects = 1
max-projects = 3
rule = "greedy"
blank = true
options = ["Park", "Library", "Bike lanes", "Pool"]
costs = [300000, 450000, 120000, 800000]
"#;

    #[test]
    fn a_budget_contest_is_read_and_its_errors_are_named() {
        let manifest = read_manifest(&file("budget.toml", BUDGET)).unwrap();
        assert_eq!(
            manifest.contests()[0].kind,
            ContestKind::Budget {
                min_projects: 1,
                max_projects: 3,
                min_spend: 300_000,
                budget: 1_000_000,
                rule: urne_ballot::SelectionRule::Greedy,
                costs: vec![300_000, 450_000, 120_000, 800_000],
            }
        );
        let no_costs = BUDGET.replace("costs = [300000, 450000, 120000, 800000]\n", "");
        let err = message(read_manifest(&file("no-costs.toml", &no_costs)));
        assert!(err.contains("contest 1 (budget) needs `costs`"), "{err}");
        let rule = BUDGET.replace("\"greedy\"", "\"cheapest\"");
        let err = message(read_manifest(&file("rule.toml", &rule)));
        assert!(err.contains("rule \"cheapest\""), "{err}");
        let short = BUDGET.replace(", 800000]", "]");
        let err = message(read_manifest(&file("short.toml", &short)));
        assert!(err.contains("costs"), "{err}");
        // The default rule is the exact one.
        let default = BUDGET.replace("rule = \"greedy\"\n", "");
        let manifest = read_manifest(&file("default.toml", &default)).unwrap();
        assert!(matches!(
            manifest.contests()[0].kind,
            ContestKind::Budget {
                rule: urne_ballot::SelectionRule::MaxApprovals,
                ..
            }
        ));
    }

    fn anonymous(section: &str) -> String {
        format!("{MANIFEST}\n[eligibility]\n{section}")
    }

    const ELIGIBILITY: &str = r#"mode = "anonymous"
registry = "a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7"
registrar-threshold = 1
registrars = ["d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"]
min-bucket-bits = 4
min-registered-keys = 8
"#;

    #[test]
    fn an_eligibility_section_makes_the_election_anonymous() {
        let record = read_manifest_record(&file("anon.toml", &anonymous(ELIGIBILITY))).unwrap();
        let e = record.eligibility.unwrap();
        assert_eq!(e.registry, [0xa7; 32]);
        assert_eq!(
            (e.min_bucket_bits, e.min_real_keys, e.min_snapshot),
            (4, 8, 1)
        );
        assert_eq!(e.registrars.threshold, 1);
        assert_eq!(e.registrars.keys.len(), 1);
        assert!(
            read_manifest_record(&file("pseudo.toml", MANIFEST))
                .unwrap()
                .eligibility
                .is_none()
        );
    }

    #[test]
    fn eligibility_errors_name_the_file_and_the_field() {
        for (name, from, to, expected) in [
            (
                "mode.toml",
                "\"anonymous\"",
                "\"pseudonymous\"",
                "[eligibility] mode",
            ),
            (
                "registry.toml",
                "registry = \"a7a7",
                "registry = \"zza7",
                "[eligibility] registry",
            ),
            (
                "registrar.toml",
                "[\"d75a",
                "[\"zz5a",
                "[eligibility] registrars[0]",
            ),
            (
                "threshold.toml",
                "registrar-threshold = 1",
                "registrar-threshold = 2",
                "[eligibility] registrars",
            ),
            (
                "floor.toml",
                "min-registered-keys = 8",
                "min-registered-keys = 17",
                "min_real_keys",
            ),
            (
                "bits.toml",
                "min-bucket-bits = 4",
                "min-bucket-bits = 17",
                "min_bucket_bits",
            ),
            (
                "typo.toml",
                "min-bucket-bits",
                "min-buckets-bits",
                "min-buckets-bits",
            ),
        ] {
            let text = anonymous(&ELIGIBILITY.replace(from, to));
            let err = message(read_manifest_record(&file(name, &text)));
            assert!(err.contains(expected), "{name}: {err}");
            assert!(err.contains(name), "{name}: {err}");
        }
    }

    #[test]
    fn picks_are_option_numbers_blank_or_points() {
        let manifest = read_manifest(&file("picks.toml", MANIFEST)).unwrap();
        let [a, b, c] = manifest.contests() else {
            panic!("three contests")
        };
        assert!(selection(a, 1, "blank").unwrap().is_blank());
        assert_eq!(selection(a, 1, "2").unwrap().option_values(), &[0, 1]);
        assert_eq!(selection(b, 2, "1, 3").unwrap().option_values(), &[1, 0, 1]);
        assert_eq!(selection(c, 3, "1=2,2=3").unwrap().option_values(), &[2, 3]);
        for (contest, pick, expected) in [
            (a, "3", "not an option number 1 to 2"),
            (a, "0", "not an option number 1 to 2"),
            (b, "1,1", "option 1 is given twice"),
            (c, "1=two", "not a number of points"),
        ] {
            let err = message(selection(contest, 1, pick));
            assert!(err.contains(expected), "{pick}: {err}");
            assert!(err.contains(&contest.title), "{pick}: {err}");
        }
    }
}
