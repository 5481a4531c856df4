//! The anonymous mode from the command line: the citizen's wallet (spec/30 §30.5), the
//! registrars' snapshots (spec/31 §31.7) and petitions on the board (spec/32 §32.8).
//!
//! Petition commands read the petition's records from the board's log and recount them
//! with urne-petition's fold (every check the board ran, every signature verified), so
//! they act on what the log determines, never on what the board says about itself.

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Subcommand;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use urne_board::{ContextId, ContextOpen, ContextType, Record};
use urne_client::BoardClient;
use urne_credential::registry::{
    Cosignature, DEFAULT_BUCKET_BITS, Register, Registrars, SignedSnapshot, Snapshot, SnapshotPart,
};
use urne_credential::wallet::{
    ATTRIBUTE_AGE_BAND, ATTRIBUTE_DISTRICT, Enrolment, EnrolmentRequest, KdfParams, MAX_FILE_LEN,
    Wallet,
};
use urne_petition::kinds::*;
use urne_petition::signature::{self, BucketRing};
use urne_petition::{
    Definition, MIN_BUCKET_SIZE, MIN_DISCLOSURE_BIN, MIN_REAL_KEYS, PetitionCount, PetitionRecord,
    PetitionResult, Phase, Policy, SignatureBody, labels, recount,
};
use urne_record::Kind;
use urne_record::kinds::{CONTEXT_OPEN, CONTEXT_PHASE};
use zeroize::Zeroizing;

use crate::BoardArgs;
use crate::keys::{self, Role};
use crate::output::{Failure, say};

/// The commands of the anonymous mode.
#[derive(Subcommand)]
pub enum Command {
    /// A citizen's wallet: the secret key that signs petitions, kept on this device.
    Wallet {
        #[command(subcommand)]
        command: WalletCommand,
    },
    /// A registrar: build a registry snapshot from the enrolment requests, cosign it.
    Registry {
        #[command(subcommand)]
        command: RegistryCommand,
    },
    /// Petitions: create, open, sign (or withdraw), follow the count, close.
    Petition {
        #[command(subcommand)]
        command: PetitionCommand,
    },
}

/// `urne registry …`.
#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Build the next snapshot from every enrolment request in a directory (one file per
    /// person, the file name being the registrar's identifier of that person).
    Snapshot {
        /// The registry's id (64 hex digits).
        #[arg(long)]
        registry: String,
        /// The directory of enrolment requests.
        #[arg(long)]
        requests: PathBuf,
        /// The snapshot's number (1 for the first).
        #[arg(long, default_value_t = 1)]
        number: u32,
        /// The previous snapshot's id (64 hex digits), from number 2 on.
        #[arg(long)]
        previous: Option<String>,
        /// Bucket size as a power of two (1-16).
        #[arg(long, default_value_t = DEFAULT_BUCKET_BITS)]
        bucket_bits: u8,
        /// Where to write the snapshot file (refuses to overwrite).
        #[arg(long)]
        out: PathBuf,
    },
    /// Add this registrar's cosignature to a snapshot file.
    Cosign {
        /// The snapshot file.
        #[arg(long)]
        snapshot: PathBuf,
        /// This registrar's key file (an authority key: `urne keygen --role authority`).
        #[arg(long)]
        key: PathBuf,
        /// This registrar's index in the registry's set, from 0.
        #[arg(long)]
        registrar: u8,
    },
}

/// `urne petition …`.
#[derive(Subcommand)]
pub enum PetitionCommand {
    /// Open a petition context and post its definition.
    Create {
        /// The authority's key file.
        #[arg(long)]
        key: PathBuf,
        /// The petition's title.
        #[arg(long)]
        name: String,
        /// The file holding the petition's exact text (its SHA-256 is what is signed).
        #[arg(long)]
        text: PathBuf,
        /// Signatures needed.
        #[arg(long)]
        threshold: u64,
        /// Closing time, Unix seconds.
        #[arg(long)]
        deadline: u64,
        /// Who it is addressed to.
        #[arg(long)]
        scope: String,
        /// The registry's id.
        #[arg(long)]
        registry: String,
        /// Registrar cosignatures a snapshot needs.
        #[arg(long)]
        registrar_threshold: u8,
        /// A registrar's Ed25519 public key (64 hex digits), in the registry's order.
        #[arg(long = "registrar", required = true)]
        registrars: Vec<String>,
        /// The board refuses a snapshot whose buckets have fewer than 2^this keys
        /// (spec/32 §32.4; lower only for a test or a demo).
        #[arg(long, default_value_t = MIN_BUCKET_SIZE.trailing_zeros() as u8)]
        min_bucket_bits: u8,
        /// The board refuses a snapshot whose smallest bucket holds fewer registered
        /// keys than this (spec/32 §32.4; lower only for a test or a demo).
        #[arg(long, default_value_t = MIN_REAL_KEYS as u32)]
        min_real_keys: u32,
        /// The board refuses a snapshot numbered below this: one that may still hold a
        /// replaced key (spec/31 §31.3). Required, with no default: only the author knows
        /// which snapshot dropped the last replaced key, and a default of 1 would take
        /// every snapshot ever published.
        #[arg(long)]
        min_snapshot: u32,
        /// Let signers disclose their district (spec/32 §32.11). The district is then
        /// public in each disclosing record, for anyone reading the log; this minimum bin
        /// only shapes the summary (per-district counts shown only for districts with at
        /// least this many signatures) and refuses the disclosure of a district with fewer
        /// enrolled people. Wallets refuse to disclose below 100 unless lowered.
        #[arg(long)]
        disclosure_min_bin: Option<u32>,
    },
    /// Post the snapshot the petition uses, then open it for signatures.
    Open {
        #[command(flatten)]
        authority: PetitionAuthority,
        /// The cosigned snapshot file.
        #[arg(long)]
        snapshot: PathBuf,
    },
    /// Sign (or, with --withdraw, withdraw a signature) with your wallet.
    Sign {
        /// The petition's context id.
        #[arg(long)]
        petition: String,
        #[command(flatten)]
        wallet: WalletFile,
        /// Withdraw this wallet's signature instead.
        #[arg(long)]
        withdraw: bool,
        #[command(flatten)]
        board_key: BoardKey,
        /// Refuse a ring (bucket) smaller than this (spec/32 §32.9; lower only for a test
        /// or a demo: a small ring hides its signer among few people).
        #[arg(long, default_value_t = MIN_BUCKET_SIZE)]
        min_bucket: usize,
        /// Refuse a bucket with fewer registered (non-padding) keys than this (spec/32
        /// §32.9; lower only for a test or a demo).
        #[arg(long, default_value_t = MIN_REAL_KEYS)]
        min_real_keys: usize,
        /// Disclose this wallet's registered district with the signature (spec/32
        /// §32.11), if the petition takes it. The district is public in the record: it
        /// narrows who you hide among to the people of your district in your bucket (the
        /// minimum bin only withholds small counts from the summary).
        #[arg(long)]
        disclose_district: bool,
        /// Refuse to disclose under a petition whose minimum bin is below this (spec/32
        /// §32.11; lower only for a test or a demo).
        #[arg(long, default_value_t = MIN_DISCLOSURE_BIN)]
        min_disclosure_bin: u32,
    },
    /// Recount the petition from the board's log; with --watch, again every so often.
    Status {
        /// The petition's context id.
        #[arg(long)]
        petition: String,
        /// Recount every this many seconds until the petition is closed.
        #[arg(long)]
        watch: Option<u64>,
        /// With --watch, stop after this many counts.
        #[arg(long)]
        rounds: Option<u64>,
        #[command(flatten)]
        board_key: BoardKey,
    },
    /// Close the petition, post its result and its outcome.
    Close {
        #[command(flatten)]
        authority: PetitionAuthority,
        #[command(flatten)]
        board_key: BoardKey,
    },
}

/// A petition and its authority's key.
#[derive(clap::Args)]
pub struct PetitionAuthority {
    /// The petition's context id.
    #[arg(long)]
    petition: String,
    /// The authority's key file.
    #[arg(long)]
    key: PathBuf,
}

/// `urne wallet …`.
#[derive(Subcommand)]
pub enum WalletCommand {
    /// Draw a new secret key on this device and write it, encrypted under a passphrase.
    New {
        #[command(flatten)]
        wallet: WalletFile,
        /// The district to register (kept as a commitment only the registrar can open).
        #[arg(long)]
        district: Option<u32>,
        /// The age band to register.
        #[arg(long)]
        age_band: Option<u32>,
    },
    /// Print the wallet's public key and registered attributes (never the secret).
    Show {
        #[command(flatten)]
        wallet: WalletFile,
    },
    /// Write the enrolment request to hand the registrar with your identity documents.
    Enrol {
        #[command(flatten)]
        wallet: WalletFile,
        /// The registry's id (64 hex digits), as the registrar gives it to you in person.
        #[arg(long)]
        registry: String,
        /// Registrar cosignatures a snapshot of this registry needs, as the registrar gives it.
        #[arg(long)]
        registrar_threshold: u8,
        /// A registrar's Ed25519 public key (64 hex digits), in the registry's order, as
        /// the registrar gives them: the wallet signs only from snapshots they cosigned.
        #[arg(long = "registrar", required = true)]
        registrars: Vec<String>,
        /// Where to write the request (refuses to overwrite; mode 0600: it holds the
        /// openings of your attributes).
        #[arg(long)]
        out: PathBuf,
    },
}

/// The wallet file and its passphrase.
#[derive(clap::Args)]
pub struct WalletFile {
    /// The wallet file.
    #[arg(long)]
    wallet: PathBuf,
    /// A file whose first line is the wallet's passphrase.
    #[arg(long)]
    passphrase_file: PathBuf,
}

impl WalletFile {
    fn passphrase(&self) -> Result<Zeroizing<String>, Failure> {
        let path = &self.passphrase_file;
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?,
        );
        let line = text.lines().next().unwrap_or_default();
        if line.is_empty() {
            return Err(Failure::Message(format!(
                "{}: the first line (the passphrase) is empty",
                path.display()
            )));
        }
        Ok(Zeroizing::new(line.to_owned()))
    }

    pub(crate) fn open(&self) -> Result<Wallet, Failure> {
        let path = &self.wallet;
        let size = std::fs::metadata(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?
            .len();
        // Refused before it is read: a wallet file has a bounded length.
        if size > MAX_FILE_LEN as u64 {
            return Err(Failure::Message(format!(
                "{}: not a urne wallet file ({size} bytes)",
                path.display()
            )));
        }
        let bytes = std::fs::read(path)
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))?;
        Wallet::open(&bytes, self.passphrase()?.as_bytes())
            .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
    }
}

/// Runs a command of the anonymous mode.
pub fn run(board: &BoardArgs, command: Command) -> Result<(), Failure> {
    match command {
        Command::Wallet { command } => wallet(command),
        Command::Registry { command } => registry(command),
        Command::Petition { command } => petition(board, command),
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure::Message(message.into())
}

fn write_new(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    urne_fsutil::write_new(path, bytes, 0o600)
        .map_err(|e| Failure::Message(format!("{}: {e}", path.display())))
}

fn wallet(command: WalletCommand) -> Result<(), Failure> {
    let mut rng = rand::rng();
    match command {
        WalletCommand::New {
            wallet,
            district,
            age_band,
        } => {
            let mut attributes = Vec::new();
            if let Some(d) = district {
                if d == 0 {
                    return Err("--district: districts are numbered from 1".into());
                }
                attributes.push((ATTRIBUTE_DISTRICT, d));
            }
            if let Some(a) = age_band {
                attributes.push((ATTRIBUTE_AGE_BAND, a));
            }
            let passphrase = wallet.passphrase()?;
            let w = Wallet::generate(&attributes, &mut rng).map_err(|e| e.to_string())?;
            let bytes = w
                .seal(passphrase.as_bytes(), KdfParams::RECOMMENDED, &mut rng)
                .map_err(|e| e.to_string())?;
            write_new(&wallet.wallet, &bytes)?;
            say!("key: {}", w.public_key().to_hex())
        }
        WalletCommand::Show { wallet } => {
            let w = wallet.open()?;
            say!("key: {}", w.public_key().to_hex())?;
            for a in w.attributes() {
                let name = match a.code {
                    ATTRIBUTE_DISTRICT => "district",
                    ATTRIBUTE_AGE_BAND => "age band",
                    _ => "attribute",
                };
                say!(
                    "{name} ({}): {} commitment {}",
                    a.code,
                    a.value,
                    a.commitment().to_hex()
                )?;
            }
            Ok(())
        }
        WalletCommand::Enrol {
            wallet,
            registry,
            registrar_threshold,
            registrars,
            out,
        } => {
            let registry = keys::parse_hex32(&registry, "--registry")?;
            let registrars = parse_registrars(registrar_threshold, &registrars)?;
            let mut w = wallet.open()?;
            w.record_enrolment(Enrolment {
                registry,
                registrars,
            })
            .map_err(|e| fail(format!("{}: {e}", wallet.wallet.display())))?;
            let request = w
                .enrolment_request(&registry, &mut rng)
                .map_err(|e| e.to_string())?;
            write_new(&out, &request.to_bytes())?;
            let sealed = w
                .seal(
                    wallet.passphrase()?.as_bytes(),
                    KdfParams::RECOMMENDED,
                    &mut rng,
                )
                .map_err(|e| e.to_string())?;
            urne_fsutil::replace(&wallet.wallet, &sealed, 0o600)
                .map_err(|e| fail(format!("{}: {e}", wallet.wallet.display())))?;
            say!(
                "enrolment request for key {} written to {}: hand it to the registrar",
                w.public_key().to_hex(),
                out.display()
            )
        }
    }
}

// ---- registry ----

/// The snapshot file (spec/31 §31.7): signed snapshot length (u32 BE) ‖ signed snapshot ‖
/// part count (u32 BE) ‖ (part length (u32 BE) ‖ part)*.
pub(crate) fn snapshot_file(signed: &SignedSnapshot, parts: &[SnapshotPart]) -> Vec<u8> {
    let mut out = Vec::new();
    let body = signed.to_bytes();
    out.extend_from_slice(&(body.len() as u32).to_be_bytes());
    out.extend_from_slice(&body);
    out.extend_from_slice(&(parts.len() as u32).to_be_bytes());
    for p in parts {
        let bytes = p.to_bytes();
        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

pub(crate) fn read_snapshot_file(
    path: &Path,
) -> Result<(SignedSnapshot, Vec<SnapshotPart>), Failure> {
    let where_ = path.display();
    let bytes = std::fs::read(path).map_err(|e| fail(format!("{where_}: {e}")))?;
    let mut at = 0usize;
    let mut take = |n: usize, what: &str| -> Result<&[u8], Failure> {
        let slice = bytes
            .get(at..at + n)
            .ok_or_else(|| fail(format!("{where_}: the file ends inside {what}")))?;
        at += n;
        Ok(slice)
    };
    let word = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let len = word(take(4, "the snapshot's length")?);
    let signed = SignedSnapshot::decode(take(len, "the snapshot")?)
        .map_err(|e| fail(format!("{where_}: snapshot: {e}")))?;
    let count = word(take(4, "the part count")?);
    let mut parts = Vec::new();
    for i in 0..count {
        let len = word(take(4, "a part's length")?);
        parts.push(
            SnapshotPart::decode(take(len, "a part")?)
                .map_err(|e| fail(format!("{where_}: part {i}: {e}")))?,
        );
    }
    if at != bytes.len() {
        return Err(fail(format!("{where_}: bytes after the last part")));
    }
    Ok((signed, parts))
}

fn registry(command: RegistryCommand) -> Result<(), Failure> {
    match command {
        RegistryCommand::Snapshot {
            registry,
            requests,
            number,
            previous,
            bucket_bits,
            out,
        } => {
            let registry = keys::parse_hex32(&registry, "--registry")?;
            let previous = match previous {
                Some(p) => keys::parse_hex32(&p, "--previous")?,
                None => [0; 32],
            };
            let mut register = Register::new();
            let mut files: Vec<PathBuf> = std::fs::read_dir(&requests)
                .map_err(|e| fail(format!("{}: {e}", requests.display())))?
                .map(|e| e.map(|e| e.path()))
                .collect::<Result<_, _>>()
                .map_err(|e| fail(format!("{}: {e}", requests.display())))?;
            files.sort();
            for file in &files {
                let bytes =
                    std::fs::read(file).map_err(|e| fail(format!("{}: {e}", file.display())))?;
                let request = EnrolmentRequest::decode_and_verify(&bytes, &registry)
                    .map_err(|e| fail(format!("{}: {e}", file.display())))?;
                let name = file.file_name().map(|n| n.to_string_lossy().into_owned());
                let person: [u8; 32] = Sha256::digest(name.unwrap_or_default().as_bytes()).into();
                register
                    .enrol(person, &request, false)
                    .map_err(|e| fail(format!("{}: {e}", file.display())))?;
            }
            let (header, entries) =
                register.snapshot_header(registry, number, previous, bucket_bits);
            let signed = SignedSnapshot {
                header,
                cosignatures: Vec::new(),
            };
            let snapshot =
                Snapshot::new(signed.clone(), entries).map_err(|e| fail(e.to_string()))?;
            write_new(&out, &snapshot_file(&signed, &snapshot.parts()))?;
            say!(
                "snapshot {}: {} people, {} buckets of {}",
                urne_crypto::encoding::to_hex(&snapshot.id()),
                register.len(),
                snapshot.header().bucket_count(),
                snapshot.header().bucket_size()
            )
        }
        RegistryCommand::Cosign {
            snapshot,
            key,
            registrar,
        } => {
            let (mut signed, parts) = read_snapshot_file(&snapshot)?;
            // A version-1 deal is keyed by the snapshot id the registrar chose, so it could
            // have been ground to place someone; it stays readable, never newly cosigned.
            if !signed.header.deal_is_fixed() {
                return Err(fail(format!(
                    "{}: snapshot version {} deals its buckets by its own id, which its maker can grind (spec/31 §31.6); refusing to cosign it, rebuild it with `urne registry snapshot`",
                    snapshot.display(),
                    signed.header.version
                )));
            }
            let key = authority_key(&key)?;
            let id = signed.header.id();
            signed.cosignatures.retain(|c| c.registrar != registrar);
            signed
                .cosignatures
                .push(Cosignature::sign(registrar, &key, &id));
            signed.cosignatures.sort_by_key(|c| c.registrar);
            urne_fsutil::replace(&snapshot, &snapshot_file(&signed, &parts), 0o644)
                .map_err(|e| fail(format!("{}: {e}", snapshot.display())))?;
            say!(
                "snapshot {} cosigned by registrar {registrar} ({} cosignatures)",
                urne_crypto::encoding::to_hex(&id),
                signed.cosignatures.len()
            )
        }
    }
}

// ---- petitions ----

fn post(
    client: &BoardClient,
    context: ContextId,
    kind: Kind,
    body: &[u8],
    key: &SigningKey,
) -> Result<u64, Failure> {
    let name = urne_petition::kinds::name(kind).unwrap_or(match kind {
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

/// A petition as the board's log has it, recounted.
struct Petition {
    id: ContextId,
    records: Vec<PetitionRecord>,
    count: PetitionCount,
}

/// The board's key, which signs the checkpoints the petition commands check the log against.
#[derive(clap::Args)]
pub struct BoardKey {
    /// A file holding the board's verifier key (vkey), obtained out of band (e.g.
    /// <data>/board.vkey): the log read is checked against a checkpoint it signed.
    #[arg(long, env = "URNE_BOARD_KEY_FILE")]
    board_key_file: PathBuf,
}

impl BoardKey {
    fn vkey(&self) -> Result<String, Failure> {
        let path = &self.board_key_file;
        Ok(std::fs::read_to_string(path)
            .map_err(|e| fail(format!("{}: {e}", path.display())))?
            .trim()
            .to_owned())
    }
}

/// How long to wait for a checkpoint that covers the log as read.
const CHECKPOINT_WAIT: Duration = Duration::from_secs(30);

/// The whole log as the board serves it, checked against a checkpoint signed by the board's
/// key: a board that served a forged, dropped or reordered entry fails here.
fn read_checked_log(client: &BoardClient, key: &BoardKey) -> Result<Vec<(u64, Record)>, Failure> {
    let vkey = key.vkey()?;
    let verifier = urne_log::note::NoteVerifier::from_vkey(&vkey)
        .map_err(|e| fail(format!("the board key: {e}")))?;
    let mut entries = client.entries(0, u64::MAX)?;
    let last = entries.last().map_or(Default::default(), |e| e.hash);
    let signed = client.checkpoint_covering(
        &verifier,
        &[],
        0,
        &last,
        (entries.len() as u64).saturating_sub(1),
        CHECKPOINT_WAIT,
    )?;
    let size = signed.checkpoint.size();
    if size > entries.len() as u64 {
        entries.extend(client.entries(entries.len() as u64, size)?);
    }
    entries.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let log = entries
        .into_iter()
        .map(|e| {
            Record::parse(e.record)
                .map(|r| (e.index, r))
                .map_err(|err| fail(format!("entry {}: {err}", e.index)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    urne_cli::assembly::check_checkpoint(&log, &signed.text, &vkey).map_err(fail)?;
    Ok(log)
}

/// A petition's `context.open` as the log has it: its authority (the signer) and its
/// parameters hash, then the petition's other records.
struct PetitionLog {
    authority: [u8; 32],
    parameters: [u8; 32],
    records: Vec<PetitionRecord>,
}

/// The petition `id`'s authority, parameters hash and records from a checked log: each record's envelope
/// signature verified, exactly one `context.open`, first, of type petition, whose signer
/// and body derive `id` (so nobody else's open can stand for it).
fn petition_records(id: ContextId, log: &[(u64, Record)]) -> Result<PetitionLog, Failure> {
    let mut authority = None;
    let mut records = Vec::new();
    for (index, record) in log {
        if record.context() != id {
            continue;
        }
        record
            .verify_signature()
            .map_err(|e| fail(format!("entry {index}: {e}; refusing to act on the log")))?;
        if record.kind() == CONTEXT_OPEN {
            if authority.is_some() {
                return Err(fail(format!(
                    "entry {index}: a second context.open of petition {}; refusing to act on the log",
                    id.to_hex()
                )));
            }
            if !records.is_empty() {
                return Err(fail(format!(
                    "entry {index}: the petition's context.open comes after its records; refusing to act on the log"
                )));
            }
            let open = ContextOpen::parse(record.body())
                .map_err(|e| fail(format!("entry {index}: {e}")))?;
            if open.context_type != ContextType::PETITION {
                return Err(fail(format!("{} is not a petition", id.to_hex())));
            }
            if ContextId::derive(record.signer(), record.body()) != id {
                return Err(fail(format!(
                    "entry {index}: this context.open does not derive petition id {}; refusing to act on the log",
                    id.to_hex()
                )));
            }
            authority = Some((*record.signer(), open.parameters));
            continue;
        }
        records.push(PetitionRecord {
            index: *index,
            kind: record.kind(),
            signer: *record.signer(),
            body: record.body().to_vec(),
        });
    }
    let (authority, parameters) = authority.ok_or_else(|| {
        fail(format!(
            "no petition {} on the board (its context.open is not in the checked log)",
            id.to_hex()
        ))
    })?;
    Ok(PetitionLog {
        authority,
        parameters,
        records,
    })
}

fn read_petition(client: &BoardClient, key: &BoardKey, id: ContextId) -> Result<Petition, Failure> {
    let log = read_checked_log(client, key)?;
    let PetitionLog {
        authority,
        parameters,
        records,
    } = petition_records(id, &log)?;
    let count = recount(id.0, authority, parameters, &records, &mut rand::rng()).map_err(|v| {
        fail(format!(
            "the board's log breaks the petition's rules at {v}; refusing to act on it"
        ))
    })?;
    Ok(Petition { id, records, count })
}

impl Petition {
    fn definition(&self) -> Result<Definition, Failure> {
        let record = self
            .records
            .iter()
            .find(|r| r.kind == PETITION_DEFINE)
            .ok_or_else(|| fail("the petition is not defined yet"))?;
        Definition::decode(&record.body).map_err(|e| fail(e.to_string()))
    }

    fn snapshot(&self) -> Result<Snapshot, Failure> {
        let record = self
            .records
            .iter()
            .find(|r| r.kind == REGISTRY_SNAPSHOT)
            .ok_or_else(|| fail("the petition has no snapshot yet"))?;
        let signed = SignedSnapshot::decode(&record.body).map_err(|e| fail(e.to_string()))?;
        let mut entries = Vec::new();
        for r in self
            .records
            .iter()
            .filter(|r| r.kind == REGISTRY_SNAPSHOT_PART)
        {
            entries.extend(
                SnapshotPart::decode(&r.body)
                    .map_err(|e| fail(e.to_string()))?
                    .entries,
            );
        }
        Snapshot::new(signed, entries).map_err(|e| fail(e.to_string()))
    }
}

fn parse_registrars(threshold: u8, keys: &[String]) -> Result<Registrars, Failure> {
    let keys = keys
        .iter()
        .map(|k| {
            let bytes = keys::parse_hex32(k, "--registrar")?;
            VerifyingKey::from_bytes(&bytes)
                .map_err(|_| fail(format!("--registrar {k}: not an Ed25519 key")))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    Registrars::new(threshold, keys).map_err(|e| fail(e.to_string()))
}

fn registrars_text(registrars: &Registrars) -> String {
    let keys: Vec<String> = registrars
        .keys
        .iter()
        .map(|k| urne_crypto::encoding::to_hex(k.as_bytes()))
        .collect();
    format!(
        "{} of {} ({})",
        registrars.threshold,
        registrars.keys.len(),
        keys.join(", ")
    )
}

/// The wallet signs only into the registry it was enrolled in, under the registrars it
/// was given in person: the petition's author names both in its definition, and an author
/// who named itself registrar could otherwise make rings of copied keys and padding.
fn check_registry(w: &Wallet, definition: &Definition) -> Result<(), Failure> {
    let enrolment = w.enrolment().ok_or_else(|| {
        fail(
            "this wallet records no registry: enrol it first (`urne wallet enrol --registry … \
             --registrar-threshold … --registrar …`) with what the registrars gave you",
        )
    })?;
    if enrolment.registry != definition.registry {
        return Err(fail(format!(
            "the petition uses registry {}, this wallet was enrolled in registry {}: refusing to sign",
            urne_crypto::encoding::to_hex(&definition.registry),
            urne_crypto::encoding::to_hex(&enrolment.registry)
        )));
    }
    if enrolment.registrars != definition.registrars {
        return Err(fail(format!(
            "the petition names registrars {}, this wallet's registry has registrars {}: refusing to sign",
            registrars_text(&definition.registrars),
            registrars_text(&enrolment.registrars)
        )));
    }
    Ok(())
}

fn petition_id(text: &str) -> Result<ContextId, Failure> {
    Ok(ContextId(keys::parse_hex32(text, "--petition")?))
}

fn authority_key(path: &Path) -> Result<SigningKey, Failure> {
    let seed = keys::read_seed(path, Role::Authority)?;
    Ok(keys::signing_key(&seed))
}

fn print_count(p: &Petition) -> Result<(), Failure> {
    let c = &p.count;
    if let Ok(definition) = p.definition() {
        say!(
            "registry {}, registrars {}",
            urne_crypto::encoding::to_hex(&definition.registry),
            registrars_text(&definition.registrars)
        )?;
    }
    if let Ok(snapshot) = p.snapshot() {
        let buckets = snapshot.header().bucket_count();
        let real: Vec<usize> = (0..buckets)
            .map(|b| snapshot.real_keys(b).unwrap_or(0))
            .collect();
        let fewest = real.iter().copied().min().unwrap_or(0);
        let size = snapshot.header().bucket_size();
        let floor = if size < MIN_BUCKET_SIZE || fewest < MIN_REAL_KEYS {
            format!(
                "below the floor of spec/32 §32.9 ({MIN_BUCKET_SIZE} keys, {MIN_REAL_KEYS} registered): wallets sign only with a lowered --min-bucket/--min-real-keys, for a test or a demo"
            )
        } else {
            "at or above the floor of spec/32 §32.9".to_owned()
        };
        say!(
            "rings: {buckets} buckets of {size} keys, at least {fewest} registered in each; {floor}"
        )?;
    }
    say!(
        "petition {}: {}, {} signatures (threshold {}), {} withdrawn",
        p.id.to_hex(),
        c.phase.name(),
        c.counted,
        c.threshold.map_or("-".to_owned(), |t| t.to_string()),
        c.withdrawn
    )?;
    if let Some(min_bin) = p.definition().ok().and_then(|d| d.disclosure()) {
        let shown: Vec<String> = c
            .districts
            .iter()
            .map(|(d, n)| format!("district {d}: {n}"))
            .collect();
        say!(
            "disclosed districts (public in each record; bins of at least {min_bin} shown here, the rest withheld): {}",
            if shown.is_empty() {
                "none shown".to_owned()
            } else {
                shown.join(", ")
            }
        )?;
    }
    if c.duplicates > 0 {
        say!(
            "{} refused second signature(s) kept as evidence, not counted",
            c.duplicates
        )?;
    }
    Ok(())
}

fn petition(board: &BoardArgs, command: PetitionCommand) -> Result<(), Failure> {
    let client = board.client()?;
    match command {
        PetitionCommand::Create {
            key,
            name,
            text,
            threshold,
            deadline,
            scope,
            registry,
            registrar_threshold,
            registrars,
            min_bucket_bits,
            min_real_keys,
            min_snapshot,
            disclosure_min_bin,
        } => {
            let key = authority_key(&key)?;
            let text =
                std::fs::read(&text).map_err(|e| fail(format!("{}: {e}", text.display())))?;
            let definition = Definition {
                text_hash: Sha256::digest(&text).into(),
                threshold,
                deadline,
                scope,
                policy: Some(Policy {
                    min_bucket_bits,
                    min_real_keys,
                    min_snapshot,
                    disclosure: disclosure_min_bin,
                }),
                registry: keys::parse_hex32(&registry, "--registry")?,
                registrars: parse_registrars(registrar_threshold, &registrars)?,
            };
            let body = definition.to_bytes();
            // Refuse locally what the board would refuse, with the same message.
            Definition::decode(&body).map_err(|e| fail(e.to_string()))?;
            let mut nonce = [0u8; 16];
            rand::fill(&mut nonce);
            let open = ContextOpen {
                context_type: ContextType::PETITION,
                nonce,
                name,
                parameters: Sha256::digest(&body).into(),
            }
            .to_body()
            .map_err(|e| fail(format!("context.open: {e}")))?;
            let id = ContextId::derive(key.verifying_key().as_bytes(), &open);
            post(&client, id, CONTEXT_OPEN, &open, &key)?;
            post(&client, id, PETITION_DEFINE, &body, &key)?;
            say!("petition: {}", id.to_hex())
        }
        PetitionCommand::Open {
            authority,
            snapshot,
        } => {
            let key = authority_key(&authority.key)?;
            let id = petition_id(&authority.petition)?;
            let (signed, parts) = read_snapshot_file(&snapshot)?;
            post(&client, id, REGISTRY_SNAPSHOT, &signed.to_bytes(), &key)?;
            for part in &parts {
                post(&client, id, REGISTRY_SNAPSHOT_PART, &part.to_bytes(), &key)?;
            }
            post(&client, id, CONTEXT_PHASE, &[Phase::Open.code()], &key)?;
            say!(
                "petition {} open, snapshot {} ({} parts)",
                id.to_hex(),
                urne_crypto::encoding::to_hex(&signed.header.id()),
                parts.len()
            )
        }
        PetitionCommand::Sign {
            petition,
            wallet,
            withdraw,
            board_key,
            min_bucket,
            min_real_keys,
            disclose_district,
            min_disclosure_bin,
        } => {
            let id = petition_id(&petition)?;
            let mut w = wallet.open()?;
            let p = read_petition(&client, &board_key, id)?;
            if p.count.phase != Phase::Open {
                return Err(fail(format!(
                    "the petition is {}, not open",
                    p.count.phase.name()
                )));
            }
            let definition = p.definition()?;
            check_registry(&w, &definition)?;
            let snapshot = p.snapshot()?;
            // The board refuses this too; a wallet does not sign on a board's word.
            definition
                .check_snapshot_version(snapshot.header())
                .map_err(|e| fail(format!("{e}: refusing to sign")))?;
            let at = snapshot.position(&w.public_key()).ok_or_else(|| {
                fail("this wallet's key is not in the petition's registry snapshot")
            })?;
            let newer = w
                .see_snapshot(snapshot.header().number)
                .map_err(|e| fail(format!("{e}: refusing to sign")))?;
            let size = snapshot.header().bucket_size();
            let real = snapshot.real_keys(at.bucket).unwrap_or(0);
            say!(
                "registry {}, registrars {}",
                urne_crypto::encoding::to_hex(&definition.registry),
                registrars_text(&definition.registrars)
            )?;
            say!(
                "ring: bucket {} of {}, {size} keys of which {real} registered",
                at.bucket,
                snapshot.header().bucket_count()
            )?;
            if min_bucket < MIN_BUCKET_SIZE || min_real_keys < MIN_REAL_KEYS {
                say!(
                    "warning: ring floor lowered to {min_bucket} keys, {min_real_keys} registered \
                     (spec/32 §32.9: {MIN_BUCKET_SIZE}, {MIN_REAL_KEYS}): a test or a demo only"
                )?;
            }
            if size < min_bucket {
                return Err(fail(format!(
                    "the ring has {size} keys, fewer than {min_bucket}: it would hide you among too few; refusing to sign"
                )));
            }
            if real < min_real_keys {
                return Err(fail(format!(
                    "the ring holds {real} registered keys, fewer than {min_real_keys} (the rest is padding, which hides nobody); refusing to sign"
                )));
            }
            let ring = BucketRing::new(
                &snapshot
                    .bucket(at.bucket)
                    .ok_or_else(|| fail("the wallet's bucket is missing"))?,
            )
            .map_err(|e| fail(e.to_string()))?;
            // A one-time envelope key, forgotten once the record is posted.
            let mut seed = Zeroizing::new([0u8; 32]);
            rand::fill(seed.as_mut());
            let envelope = SigningKey::from_bytes(&seed);
            let signer = envelope.verifying_key().to_bytes();
            let district = if disclose_district {
                if withdraw {
                    return Err(fail(
                        "a withdrawal discloses nothing (spec/32 §32.6 step 5); withdraw without --disclose-district",
                    ));
                }
                let min_bin = definition.disclosure().ok_or_else(|| {
                    fail(
                        "this petition takes no disclosure (spec/32 §32.11); sign without --disclose-district",
                    )
                })?;
                if min_disclosure_bin < MIN_DISCLOSURE_BIN {
                    say!(
                        "warning: disclosure floor lowered to a minimum bin of {min_disclosure_bin} \
                         (spec/32 §32.11: {MIN_DISCLOSURE_BIN}): a test or a demo only"
                    )?;
                }
                if min_bin < min_disclosure_bin {
                    return Err(fail(format!(
                        "the petition's minimum bin is {min_bin}, below {min_disclosure_bin}: disclosing would single you out among few people (spec/32 §32.11); sign without --disclose-district"
                    )));
                }
                let attribute = w
                    .attributes()
                    .iter()
                    .find(|a| a.code == ATTRIBUTE_DISTRICT)
                    .ok_or_else(|| fail("this wallet holds no district to disclose"))?;
                let header = snapshot.header();
                let enrolled = header
                    .districts
                    .iter()
                    .find(|(d, _)| *d == attribute.value)
                    .map_or(0, |(_, n)| *n);
                let expected =
                    u128::from(enrolled) * real as u128 / u128::from(header.total.max(1));
                say!(
                    "warning: district {} will be public in this record; you hide only among the \
                     people of district {} in bucket {}: about {expected} of its {real} registered \
                     keys ({enrolled} of {} enrolled are of district {}); the minimum bin only \
                     withholds small counts from the summary",
                    attribute.value,
                    attribute.value,
                    at.bucket,
                    header.total,
                    attribute.value
                )?;
                Some(attribute)
            } else {
                None
            };
            let disclosed = district.map(|d| d.value);
            let context = signature::context_bytes_disclosing(
                if withdraw {
                    labels::WITHDRAWAL
                } else {
                    labels::SIGNATURE
                },
                &id.0,
                &snapshot.id(),
                at.bucket,
                &definition.text_hash,
                disclosed,
                &signer,
            );
            let linking_base = signature::linking_base(&snapshot.id(), &id.0);
            let sig = match district {
                None => signature::sign(
                    &ring,
                    at.index,
                    w.secret(),
                    &linking_base,
                    &context,
                    &mut rand::rng(),
                ),
                Some(d) => {
                    let commitments = BucketRing::new(
                        &snapshot
                            .bucket_commitments(at.bucket)
                            .ok_or_else(|| fail("the wallet's bucket is missing"))?,
                    )
                    .map_err(|e| fail(e.to_string()))?;
                    say!("disclosing district {}", d.value)?;
                    signature::sign_disclosing(
                        &ring,
                        &commitments,
                        at.index,
                        w.secret(),
                        d.blinding(),
                        d.value,
                        &linking_base,
                        &context,
                        &mut rand::rng(),
                    )
                }
            }
            .map_err(|e| fail(e.to_string()))?;
            // An honest retry (a lost reply, a second click) must not post a second
            // signature under the same tag: the board would refuse it and anyone could
            // then post it as evidence of signing twice (spec/32 §32.6 step 7). The tag
            // is a signature's first point (§32.5).
            if !withdraw {
                let tag = sig.tag();
                let held = p.records.iter().find(|r| {
                    r.kind == PETITION_SIGN
                        && SignatureBody::decode(&r.body)
                            .is_ok_and(|b| b.encoded_tag() == Some(tag))
                });
                if let Some(record) = held {
                    return Err(fail(format!(
                        "this wallet already signed this petition in record #{}; not signing again",
                        record.index
                    )));
                }
            }
            let body = SignatureBody {
                bucket: at.bucket,
                disclosed,
                signature: sig.to_bytes(),
            };
            let kind = if withdraw {
                PETITION_WITHDRAW
            } else {
                PETITION_SIGN
            };
            if newer {
                // Recorded before posting: a crash after the post must not let an older
                // snapshot through next time.
                let sealed = w
                    .seal(
                        wallet.passphrase()?.as_bytes(),
                        KdfParams::RECOMMENDED,
                        &mut rand::rng(),
                    )
                    .map_err(|e| e.to_string())?;
                urne_fsutil::replace(&wallet.wallet, &sealed, 0o600)
                    .map_err(|e| fail(format!("{}: {e}", wallet.wallet.display())))?;
            }
            let index = post(&client, id, kind, &body.to_bytes(), &envelope)?;
            say!(
                "{} (entry {index}); tag {}",
                if withdraw { "withdrawn" } else { "signed" },
                urne_crypto::encoding::to_hex(&sig.tag())
            )
        }
        PetitionCommand::Status {
            petition,
            watch,
            rounds,
            board_key,
        } => {
            let id = petition_id(&petition)?;
            let mut done = 0u64;
            loop {
                let p = read_petition(&client, &board_key, id)?;
                print_count(&p)?;
                done += 1;
                let Some(every) = watch else {
                    return Ok(());
                };
                if matches!(p.count.phase, Phase::Reached | Phase::NotReached)
                    || rounds.is_some_and(|r| done >= r)
                {
                    return Ok(());
                }
                std::thread::sleep(Duration::from_secs(every.max(1)));
            }
        }
        PetitionCommand::Close {
            authority,
            board_key,
        } => {
            let key = authority_key(&authority.key)?;
            let id = petition_id(&authority.petition)?;
            if read_petition(&client, &board_key, id)?.count.phase == Phase::Open {
                post(&client, id, CONTEXT_PHASE, &[Phase::Closed.code()], &key)?;
            }
            // Recounted after the close: no signature can land in between.
            let p = read_petition(&client, &board_key, id)?;
            let threshold = p.definition()?.threshold;
            let result = PetitionResult {
                counted: p.count.counted,
                withdrawn: p.count.withdrawn,
                reached: p.count.counted >= threshold,
            };
            if p.count.result.is_none() {
                post(&client, id, PETITION_RESULT, &result.to_bytes(), &key)?;
            }
            let outcome = if result.reached {
                Phase::Reached
            } else {
                Phase::NotReached
            };
            post(&client, id, CONTEXT_PHASE, &[outcome.code()], &key)?;
            say!(
                "petition {} closed: {} signatures, threshold {threshold}: {}",
                id.to_hex(),
                result.counted,
                outcome.name()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn open_body(nonce: u8) -> Vec<u8> {
        ContextOpen {
            context_type: ContextType::PETITION,
            nonce: [nonce; 16],
            name: "a petition".into(),
            parameters: [0; 32],
        }
        .to_body()
        .unwrap()
    }

    /// A petition's log: its context.open by the authority, then a phase move.
    fn log() -> (ContextId, Vec<(u64, Record)>) {
        let authority = key(1);
        let open = open_body(1);
        let id = ContextId::derive(authority.verifying_key().as_bytes(), &open);
        let records = vec![
            Record::sign(id, CONTEXT_OPEN, &open, &authority).unwrap(),
            Record::sign(id, CONTEXT_PHASE, &[Phase::Open.code()], &authority).unwrap(),
        ];
        (
            id,
            records
                .into_iter()
                .enumerate()
                .map(|(i, r)| (i as u64, r))
                .collect(),
        )
    }

    fn refusal(id: ContextId, log: &[(u64, Record)]) -> String {
        match petition_records(id, log) {
            Err(Failure::Message(m)) => m,
            Err(_) => panic!("another failure"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn an_honest_log_gives_the_authority_and_the_records() {
        let (id, log) = log();
        let found = petition_records(id, &log).unwrap();
        assert_eq!(found.authority, *key(1).verifying_key().as_bytes());
        assert_eq!(found.parameters, [0; 32]);
        assert_eq!(found.records.len(), 1);
        assert_eq!(found.records[0].kind, CONTEXT_PHASE);
    }

    #[test]
    fn a_forged_record_is_refused_by_its_envelope_signature() {
        let (id, mut log) = log();
        // The board swaps the phase byte of the authority's record, keeping its signature.
        let mut bytes = log[1].1.bytes().to_vec();
        bytes[39] = Phase::Closed.code();
        log[1].1 = Record::parse(bytes).unwrap();
        assert!(
            refusal(id, &log).contains("entry 1"),
            "{}",
            refusal(id, &log)
        );
    }

    #[test]
    fn an_open_that_does_not_derive_the_id_is_refused() {
        let (id, mut log) = log();
        // Someone else's open, served under this id: its signer did not make the id.
        let mallory = key(2);
        log[0].1 = Record::sign(id, CONTEXT_OPEN, &open_body(1), &mallory).unwrap();
        assert!(
            refusal(id, &log).contains("does not derive petition id"),
            "{}",
            refusal(id, &log)
        );
    }

    #[test]
    fn a_second_open_or_records_before_the_open_are_refused() {
        let (id, log) = log();
        let mut twice = log.clone();
        twice.push((2, log[0].1.clone()));
        assert!(refusal(id, &twice).contains("entry 2: a second context.open"));
        let late = vec![(0, log[1].1.clone()), (1, log[0].1.clone())];
        assert!(refusal(id, &late).contains("comes after its records"));
    }
}
