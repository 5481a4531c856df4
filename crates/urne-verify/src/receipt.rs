//! The voter's receipt (spec/52): the cast record, where it is in the log, its inclusion
//! proof and the signed checkpoint (with cosignatures) the proof leads to. Checked
//! offline against the board's key alone; against a later checkpoint with the board's
//! consistency proof.

use crate::election::{cast_ballot, kinds};
use serde::{Deserialize, Serialize};
use urne_ballot::TrackingCode;
use urne_log::note::{CosignatureVerifier, Note, NoteVerifier, count_cosignatures};
use urne_log::{Checkpoint, Hash, leaf_hash, strict_hex, verify_consistency, verify_inclusion};
use urne_record::{ContextId, Record};

/// The receipt's version (spec/52 §52.1).
pub const RECEIPT_VERSION: u8 = 1;

/// A voter's receipt for one cast ballot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoterReceipt {
    /// The election.
    pub election: ContextId,
    /// The ballot's tracking code.
    pub tracking_code: TrackingCode,
    /// The record's index in the log.
    pub index: u64,
    /// The `ballot.cast` record as the board logged it.
    pub record: Vec<u8>,
    /// Its inclusion proof in the tree of the checkpoint.
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note, with the cosignatures gathered when it was written.
    pub checkpoint: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptJson {
    version: u8,
    election: String,
    tracking_code: String,
    entry_hash: String,
    index: u64,
    record: String,
    inclusion: Vec<String>,
    checkpoint: String,
}

/// What is wrong with a receipt, naming the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("receipt, field {field}: {detail}")]
pub struct ReceiptError {
    /// The field (spec/52 names).
    pub field: &'static str,
    /// What is wrong.
    pub detail: String,
}

fn wrong(field: &'static str, detail: impl Into<String>) -> ReceiptError {
    ReceiptError {
        field,
        detail: detail.into(),
    }
}

fn hash_field(field: &'static str, text: &str) -> Result<Hash, ReceiptError> {
    strict_hex::decode_array::<32>(text)
        .map(Hash)
        .ok_or_else(|| wrong(field, "not 64 lowercase hex digits"))
}

/// A receipt checked: its checkpoint, signed by the board.
#[derive(Clone, Debug)]
pub struct CheckedReceipt {
    /// The checkpoint the record is proven in.
    pub checkpoint: Checkpoint,
    /// Known witnesses that cosigned it.
    pub cosigned: usize,
}

impl VoterReceipt {
    /// The receipt's text (spec/52 §52.1).
    pub fn to_json(&self) -> String {
        let json = ReceiptJson {
            version: RECEIPT_VERSION,
            election: self.election.to_hex(),
            tracking_code: hex::encode(self.tracking_code.0),
            entry_hash: leaf_hash(&self.record).to_hex(),
            index: self.index,
            record: hex::encode(&self.record),
            inclusion: self.inclusion.iter().map(Hash::to_hex).collect(),
            checkpoint: self.checkpoint.clone(),
        };
        // Strings and integers only: serialising cannot fail.
        serde_json::to_string_pretty(&json).unwrap_or_default()
    }

    /// Parses a receipt strictly: every field present, no other, hex canonical, the
    /// entry hash the record's.
    pub fn parse(text: &str) -> Result<Self, ReceiptError> {
        let json: ReceiptJson =
            serde_json::from_str(text).map_err(|e| wrong("receipt", e.to_string()))?;
        if json.version != RECEIPT_VERSION {
            return Err(wrong(
                "version",
                format!("version {}; this reads {RECEIPT_VERSION}", json.version),
            ));
        }
        let election = ContextId(
            strict_hex::decode_array::<32>(&json.election)
                .ok_or_else(|| wrong("election", "not 64 lowercase hex digits"))?,
        );
        let tracking_code = TrackingCode(hash_field("tracking_code", &json.tracking_code)?.0);
        let record =
            strict_hex::decode(&json.record).ok_or_else(|| wrong("record", "not lowercase hex"))?;
        if leaf_hash(&record) != hash_field("entry_hash", &json.entry_hash)? {
            return Err(wrong("entry_hash", "not the leaf hash of the record"));
        }
        let inclusion = json
            .inclusion
            .iter()
            .map(|h| hash_field("inclusion", h))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            election,
            tracking_code,
            index: json.index,
            record,
            inclusion,
            checkpoint: json.checkpoint,
        })
    }

    /// The offline check (spec/52 §52.2): the checkpoint signed by the board and cosigned
    /// by `quorum` of `witnesses`; the record a `ballot.cast` of the election whose ballot
    /// has the tracking code; the record in the checkpoint's tree at its index.
    pub fn check(
        &self,
        board: &NoteVerifier,
        witnesses: &[CosignatureVerifier],
        quorum: usize,
    ) -> Result<CheckedReceipt, ReceiptError> {
        let note = Note::parse(self.checkpoint.as_bytes())
            .map_err(|e| wrong("checkpoint", format!("not a signed note: {e}")))?;
        let checkpoint = Checkpoint::open(&note, board)
            .map_err(|e| wrong("checkpoint", format!("not signed by the board: {e}")))?;
        let cosigned = count_cosignatures(&note, witnesses);
        if cosigned < quorum {
            return Err(wrong(
                "checkpoint",
                format!("{cosigned} of the known witnesses cosigned it, {quorum} required"),
            ));
        }
        let record = Record::parse(self.record.clone())
            .map_err(|e| wrong("record", format!("not a record: {e}")))?;
        record
            .verify_signature()
            .map_err(|e| wrong("record", e.to_string()))?;
        if record.context() != self.election {
            return Err(wrong("record", "a record of another context"));
        }
        if record.kind() != kinds::BALLOT_CAST {
            return Err(wrong("record", "not a ballot.cast"));
        }
        let (_, tracking) = cast_ballot(record.body())
            .map_err(|e| wrong("record", format!("{}: {}", e.field, e.message)))?;
        if tracking != self.tracking_code {
            return Err(wrong(
                "tracking_code",
                "not the tracking code of the record's ballot",
            ));
        }
        verify_inclusion(
            &leaf_hash(&self.record),
            self.index,
            checkpoint.size(),
            &self.inclusion,
            checkpoint.root(),
        )
        .map_err(|e| {
            wrong(
                "inclusion",
                format!("the record is not at its index under the checkpoint: {e}"),
            )
        })?;
        Ok(CheckedReceipt {
            checkpoint,
            cosigned,
        })
    }

    /// Checks that a later checkpoint (signed by the board) extends the receipt's
    /// (spec/52 §52.3), with the board's consistency proof: the record is still there.
    pub fn check_later(
        &self,
        board: &NoteVerifier,
        later: &str,
        proof: &[Hash],
    ) -> Result<Checkpoint, ReceiptError> {
        let note = Note::parse(self.checkpoint.as_bytes())
            .map_err(|e| wrong("checkpoint", e.to_string()))?;
        let old = Checkpoint::open(&note, board).map_err(|e| wrong("checkpoint", e.to_string()))?;
        let later_note = Note::parse(later.as_bytes())
            .map_err(|e| wrong("later", format!("not a signed note: {e}")))?;
        let new = Checkpoint::open(&later_note, board)
            .map_err(|e| wrong("later", format!("not signed by the board: {e}")))?;
        if new.origin() != old.origin() {
            return Err(wrong("later", "a checkpoint of another log"));
        }
        verify_consistency(old.size(), new.size(), old.root(), new.root(), proof).map_err(|e| {
            wrong(
                "later",
                format!(
                    "not consistent with the receipt's checkpoint ({} → {} entries): {e}",
                    old.size(),
                    new.size()
                ),
            )
        })?;
        Ok(new)
    }
}

/// Every `ballot.cast` of `election` on the log cast with `credential` (its public key),
/// in log order, with its tracking code: none means no ballot was cast with it (VEleS
/// art. 5(2)(b)); otherwise the last one is the one counted (spec/24 §24.1). Meaningful on
/// a log [`crate::verify`] passed.
pub fn ballots_with_credential(
    entries: &[Vec<u8>],
    election: ContextId,
    credential: &[u8; 32],
) -> Vec<(u64, TrackingCode)> {
    entries
        .iter()
        .enumerate()
        .filter_map(|(index, bytes)| {
            let record = Record::parse(bytes.clone()).ok()?;
            if record.context() != election || record.kind() != kinds::BALLOT_CAST {
                return None;
            }
            let (ballot, tracking) = cast_ballot(record.body()).ok()?;
            (ballot.credential.0 == *credential).then_some((index as u64, tracking))
        })
        .collect()
}
