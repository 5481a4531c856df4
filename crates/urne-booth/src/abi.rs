//! The module's interface to JavaScript (spec/60 §60.2): no generated glue, four exports
//! and one JSON request per operation.
//!
//! The page asks `booth_input(len)` for a buffer of `len` bytes inside the module's
//! memory and writes the request there (UTF-8 JSON); `booth_call(op)` runs operation
//! `op` on it and returns the length of the answer, which `booth_output()` locates. The
//! answer is `{"ok": …}` or `{"error": {"field": …, "message": …, "code"?: …}}`. The
//! module imports nothing: randomness arrives as 32 fresh bytes that the page's
//! `crypto.getRandomValues` writes straight into the buffer `booth_seed()` locates, so
//! they never pass through a JavaScript string (which the page could not wipe).

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use urne_log::note::{CosignatureVerifier, NoteVerifier};
use urne_log::{Hash, strict_hex};
use urne_record::ContextId;
use zeroize::{Zeroize, Zeroizing};

use crate::booth::{Booth, BoothError, ElectionParams, Seed, Selection};
use crate::receipt::Receipt;

/// The version of this interface, exported as `booth_abi()`: raised whenever an export,
/// an op, a request or an answer changes. The page refuses a module of another version
/// (spec/60 §60.2), so a stale bundle fails loudly instead of half-working.
pub const ABI_VERSION: u32 = 4;

/// `load`: [`ElectionParams`] → [`crate::ElectionView`].
pub const OP_LOAD: u32 = 1;
/// `credential`: `{credential}` → the public key, hex.
pub const OP_CREDENTIAL: u32 = 2;
/// `ballot`: `{credential?, selections}` and a seed → [`crate::MadeBallot`] (no
/// credential in an anonymous election: the opened wallet signs).
pub const OP_BALLOT: u32 = 3;
/// `cast`: `{}` and a seed → [`crate::CastOutcome`].
pub const OP_CAST: u32 = 4;
/// `audit`: `{}` and a seed → [`crate::AuditOutcome`].
pub const OP_AUDIT: u32 = 5;
/// `receipt`: the board's answers after a cast → `{receipt, size, root}` (checked).
pub const OP_RECEIPT: u32 = 6;
/// `receipt-check`: `{receipt, vkey, later?, proof?, witnesses?, quorum?}` →
/// [`crate::ReceiptCheck`]; with a quorum, the later checkpoint must carry cosignatures
/// of at least `quorum` of the witness vkeys given (spec/52 §52.3, spec/13).
pub const OP_RECEIPT_CHECK: u32 = 7;
/// `wallet`: `{wallet, passphrase}` → [`crate::WalletView`]: opens the voter's wallet for
/// the loaded anonymous election (spec/60 §60.2).
pub const OP_WALLET: u32 = 8;
/// `trap-drill`: `{op}` → `{armed}`: the next call of operation `op` on this instance
/// traps (a WebAssembly `unreachable`) before it runs. For the page's tests of its
/// recovery from a trap; the page sends it only under its test switch (spec/60 §60.2).
pub const OP_TRAP_DRILL: u32 = 9;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialRequest {
    #[serde(deserialize_with = "secret")]
    credential: Zeroizing<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BallotRequest {
    /// Absent in an anonymous election: the opened wallet signs.
    #[serde(default, deserialize_with = "optional_secret")]
    credential: Option<Zeroizing<String>>,
    selections: Vec<Selection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WalletRequest {
    /// The wallet file's bytes, hex (sealed under the passphrase: not a secret alone).
    wallet: String,
    #[serde(deserialize_with = "secret")]
    passphrase: Zeroizing<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrapDrillRequest {
    op: u32,
}

/// The request of an operation whose only input is its seed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NoRequest {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptRequest {
    election: String,
    tracking_code: String,
    index: u64,
    record: String,
    inclusion: Vec<String>,
    checkpoint: String,
    vkey: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptCheckRequest {
    receipt: String,
    vkey: String,
    #[serde(default)]
    later: Option<String>,
    #[serde(default)]
    proof: Vec<String>,
    #[serde(default)]
    witnesses: Vec<String>,
    #[serde(default)]
    quorum: usize,
}

/// A secret string (the credential, a passphrase), wiped when the request is dropped.
fn secret<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
    String::deserialize(d).map(Zeroizing::new)
}

fn optional_secret<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Zeroizing<String>>, D::Error> {
    Option::<String>::deserialize(d).map(|s| s.map(Zeroizing::new))
}

fn request<T: DeserializeOwned>(input: &[u8]) -> Result<T, BoothError> {
    serde_json::from_slice(input).map_err(|e| BoothError::new("request", e.to_string()))
}

/// The seed the page wrote for this call, taken out of the seed buffer (which is left
/// zeroed, so no two operations ever draw on the same bytes). All zeros means the page
/// wrote none: refused rather than run on no randomness at all.
fn take_seed(buffer: &mut [u8; 32]) -> Result<Seed, BoothError> {
    let seed = Seed::take(buffer);
    if seed.is_all_zeros() {
        return Err(BoothError::new(
            "seed",
            "the page wrote no fresh bytes of crypto.getRandomValues at booth_seed()",
        ));
    }
    Ok(seed)
}

fn hashes(field: &str, list: &[String]) -> Result<Vec<Hash>, BoothError> {
    list.iter()
        .map(|h| {
            strict_hex::decode_array::<32>(h)
                .map(Hash)
                .ok_or_else(|| BoothError::new(field, "not 64 lowercase hex digits"))
        })
        .collect()
}

fn board_key(vkey: &str) -> Result<NoteVerifier, BoothError> {
    NoteVerifier::from_vkey(vkey.trim()).map_err(|e| BoothError::new("vkey", e.to_string()))
}

fn answer<T: serde::Serialize>(value: T) -> Result<Value, BoothError> {
    serde_json::to_value(value).map_err(|e| BoothError::new("answer", e.to_string()))
}

fn run(booth: &mut Booth, op: u32, input: &[u8], seed: &mut [u8; 32]) -> Result<Value, BoothError> {
    match op {
        OP_LOAD => answer(booth.load(&request::<ElectionParams>(input)?)?),
        OP_CREDENTIAL => {
            let r: CredentialRequest = request(input)?;
            answer(Booth::credential_key(&r.credential)?)
        }
        OP_BALLOT => {
            let r: BallotRequest = request(input)?;
            answer(booth.make_ballot(
                r.credential.as_deref().map(String::as_str),
                &r.selections,
                take_seed(seed)?,
            )?)
        }
        OP_CAST => {
            let NoRequest {} = request(input)?;
            answer(booth.cast(take_seed(seed)?)?)
        }
        OP_AUDIT => {
            let NoRequest {} = request(input)?;
            answer(booth.audit(take_seed(seed)?)?)
        }
        OP_RECEIPT => {
            let r: ReceiptRequest = request(input)?;
            let receipt =
                Receipt {
                    election: ContextId(strict_hex::decode_array::<32>(&r.election).ok_or_else(
                        || BoothError::new("election", "not 64 lowercase hex digits"),
                    )?),
                    tracking_code: urne_ballot::TrackingCode(
                        strict_hex::decode_array::<32>(&r.tracking_code).ok_or_else(|| {
                            BoothError::new("tracking_code", "not 64 lowercase hex digits")
                        })?,
                    ),
                    index: r.index,
                    record: strict_hex::decode(&r.record)
                        .ok_or_else(|| BoothError::new("record", "not lowercase hex"))?,
                    inclusion: hashes("inclusion", &r.inclusion)?,
                    checkpoint: r.checkpoint,
                };
            let checkpoint = receipt.check(&board_key(&r.vkey)?)?;
            Ok(json!({
                "receipt": receipt.to_json(),
                "size": checkpoint.size(),
                "root": checkpoint.root().to_hex(),
            }))
        }
        OP_WALLET => {
            let r: WalletRequest = request(input)?;
            let file = Zeroizing::new(
                strict_hex::decode(&r.wallet)
                    .ok_or_else(|| BoothError::new("wallet", "not lowercase hex"))?,
            );
            answer(booth.open_wallet(&file, &r.passphrase)?)
        }
        // Whatever is wrong with a receipt, the voter learns one thing first: it does not
        // hold (the detail names the field).
        OP_RECEIPT_CHECK => receipt_check(input).map_err(|e| e.or_code("receipt")),
        OP_TRAP_DRILL => {
            let r: TrapDrillRequest = request(input)?;
            if !(OP_LOAD..OP_TRAP_DRILL).contains(&r.op) {
                return Err(BoothError::new(
                    "op",
                    format!("no operation {} to arm the trap drill on", r.op),
                ));
            }
            booth.arm_trap_drill(r.op);
            Ok(json!({ "armed": r.op }))
        }
        other => Err(BoothError::new("op", format!("no operation {other}"))),
    }
}

fn receipt_check(input: &[u8]) -> Result<Value, BoothError> {
    let r: ReceiptCheckRequest = request(input)?;
    let receipt = Receipt::parse(&r.receipt)?;
    let board = board_key(&r.vkey)?;
    let witnesses = r
        .witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| {
            CosignatureVerifier::from_vkey(w.trim())
                .map_err(|e| BoothError::new(format!("witnesses[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let checkpoint = receipt.check(&board)?;
    let (later_size, cosigned_by) = match &r.later {
        Some(later) => {
            let proof = hashes("proof", &r.proof)?;
            let (newer, cosigned_by) =
                receipt.check_later_witnessed(&board, later, &proof, &witnesses, r.quorum)?;
            (Some(newer.size()), cosigned_by)
        }
        None if r.quorum > 0 => {
            return Err(BoothError::new(
                "later",
                "a witness quorum is checked on the later checkpoint: none was given",
            ));
        }
        None => (None, Vec::new()),
    };
    answer(crate::ReceiptCheck {
        index: receipt.index,
        size: checkpoint.size(),
        root: checkpoint.root().to_hex(),
        later_size,
        board_key: board.to_vkey(),
        cosigned_by,
        quorum: r.quorum,
    })
}

/// A buffer that may hold a secret — a request carrying a credential or a passphrase, an
/// answer carrying an audit's nonces: the one place the module's exchange buffers are
/// kept. Wiped before it is reused and when dropped; and when it must grow, the old
/// allocation is wiped before it is freed (a `Vec` growing by itself frees its old bytes
/// as they are, into memory the page can read).
#[derive(Default)]
pub struct SecretBuffer(Vec<u8>);

impl SecretBuffer {
    /// An empty buffer (no allocation yet).
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Wipes the buffer's whole allocation and empties it.
    pub fn wipe(&mut self) {
        self.0.zeroize();
    }

    /// The old content wiped, then `len` zero bytes, which stay where they are until the
    /// buffer is next changed (the page writes a request there).
    pub fn zeroed(&mut self, len: usize) -> &mut [u8] {
        self.wipe();
        self.reserve_wiped(len);
        self.0.resize(len, 0);
        &mut self.0
    }

    /// What it holds.
    pub fn as_slice(&self) -> &[u8] {
        &self.0
    }

    /// Room for `total` bytes; an allocation outgrown is wiped before it is freed.
    fn reserve_wiped(&mut self, total: usize) {
        if total <= self.0.capacity() {
            return;
        }
        let mut grown = Vec::with_capacity(total.max(2 * self.0.capacity()));
        grown.extend_from_slice(&self.0);
        self.0.zeroize();
        self.0 = grown;
    }
}

impl std::io::Write for SecretBuffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.reserve_wiped(self.0.len() + bytes.len());
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SecretBuffer {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// Runs operation `op` on a JSON request and writes `{"ok": …}` or `{"error": …}` into
/// `answer` (wiped first): what the exports below do. `seed` is the seed buffer: an
/// operation that needs randomness takes its bytes, and every call leaves it zeroed.
pub fn dispatch_into(
    booth: &mut Booth,
    op: u32,
    input: &[u8],
    seed: &mut [u8; 32],
    answer: &mut SecretBuffer,
) {
    let outcome = run(booth, op, input, seed);
    seed.zeroize();
    let value = match outcome {
        Ok(ok) => json!({ "ok": ok }),
        Err(e) => json!({ "error": e }),
    };
    answer.wipe();
    if serde_json::to_writer(&mut *answer, &value).is_err() {
        answer.wipe();
    }
}

/// [`dispatch_into`] with the answer returned, for tests natively.
pub fn dispatch(booth: &mut Booth, op: u32, input: &[u8], seed: &mut [u8; 32]) -> Vec<u8> {
    let mut answer = SecretBuffer::new();
    dispatch_into(booth, op, input, seed, &mut answer);
    answer.as_slice().to_vec()
}

#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod exports {
    use std::cell::RefCell;

    use super::{SecretBuffer, dispatch_into};
    use crate::booth::Booth;

    thread_local! {
        static BOOTH: RefCell<Booth> = RefCell::new(Booth::default());
        static INPUT: RefCell<SecretBuffer> = const { RefCell::new(SecretBuffer::new()) };
        static OUTPUT: RefCell<SecretBuffer> = const { RefCell::new(SecretBuffer::new()) };
        static SEED: RefCell<[u8; 32]> = const { RefCell::new([0; 32]) };
    }

    /// Where the page writes the 32 fresh bytes of `crypto.getRandomValues` before a
    /// call that needs them (spec/60 §60.2); the call takes them and zeroes the buffer.
    #[unsafe(no_mangle)]
    pub extern "C" fn booth_seed() -> u32 {
        SEED.with_borrow_mut(|seed| seed.as_mut_ptr() as usize as u32)
    }

    /// Where the page writes a request of `len` bytes (zero-filled first; the last
    /// request, which may hold a credential, wiped).
    #[unsafe(no_mangle)]
    pub extern "C" fn booth_input(len: u32) -> u32 {
        INPUT.with_borrow_mut(|input| input.zeroed(len as usize).as_mut_ptr() as usize as u32)
    }

    /// Runs operation `op` on the request written at `booth_input`; returns the answer's
    /// length. The request is wiped afterwards, the last answer before this one is made.
    #[unsafe(no_mangle)]
    pub extern "C" fn booth_call(op: u32) -> u32 {
        INPUT.with_borrow_mut(|input| {
            OUTPUT.with_borrow_mut(|output| {
                SEED.with_borrow_mut(|seed| {
                    BOOTH.with_borrow_mut(|booth| {
                        if booth.trap_drill_due(op) {
                            // Mid-call, every buffer borrowed and the booth's secrets in
                            // memory: where a real fault would leave the instance.
                            core::arch::wasm32::unreachable();
                        }
                        dispatch_into(booth, op, input.as_slice(), seed, output);
                    })
                });
                input.wipe();
                output.as_slice().len() as u32
            })
        })
    }

    /// Where the last answer is.
    #[unsafe(no_mangle)]
    pub extern "C" fn booth_output() -> u32 {
        OUTPUT.with_borrow(|output| output.as_slice().as_ptr() as usize as u32)
    }

    /// The interface version ([`super::ABI_VERSION`]).
    #[unsafe(no_mangle)]
    pub extern "C" fn booth_abi() -> u32 {
        super::ABI_VERSION
    }
}
