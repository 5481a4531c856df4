//! The voter's receipt (spec/52), written and checked in the browser: the same JSON as
//! `urne vote --cast` writes, the same checks, in the same order, as `urne receipt check`
//! (the tests hold both to urne-verify's).

use serde::{Deserialize, Serialize};
use urne_ballot::TrackingCode;
use urne_log::note::{CosignatureVerifier, Note, NoteVerifier, count_cosignatures};
use urne_log::{Checkpoint, Hash, leaf_hash, strict_hex, verify_consistency, verify_inclusion};
use urne_record::{ContextId, Kind, Record};

use crate::booth::BoothError;
use crate::records::decode_cast_body;

/// `ballot.cast` (spec/23 §23.1).
pub(crate) const BALLOT_CAST: Kind = Kind(0x0120);
/// `ballot.audit` (spec/23 §23.1).
pub(crate) const BALLOT_AUDIT: Kind = Kind(0x0121);

const RECEIPT_VERSION: u8 = 1;

/// A voter's receipt for one cast ballot (spec/52 §52.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The election.
    pub election: ContextId,
    /// The ballot's tracking code.
    pub tracking_code: TrackingCode,
    /// The record's index in the log.
    pub index: u64,
    /// The `ballot.cast` record as logged.
    pub record: Vec<u8>,
    /// Its inclusion proof in the checkpoint's tree.
    pub inclusion: Vec<Hash>,
    /// The signed checkpoint note.
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

/// What a receipt check established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReceiptCheck {
    /// The record's index.
    pub index: u64,
    /// The size of the receipt's checkpoint.
    pub size: u64,
    /// Its root, hex.
    pub root: String,
    /// The later checkpoint's size, when one was checked (spec/52 §52.3).
    pub later_size: Option<u64>,
    /// The board key the checkpoints were checked under (vkey): the page shows it, so a
    /// voter can compare it with the key published out of band.
    pub board_key: String,
    /// The names of the witnesses given that cosigned the later checkpoint.
    pub cosigned_by: Vec<String>,
    /// How many of them were required.
    pub quorum: usize,
}

fn wrong(field: &str, detail: impl Into<String>) -> BoothError {
    BoothError::new(field, detail)
}

fn hash_field(field: &str, text: &str) -> Result<Hash, BoothError> {
    strict_hex::decode_array::<32>(text)
        .map(Hash)
        .ok_or_else(|| wrong(field, "not 64 lowercase hex digits"))
}

impl Receipt {
    /// The receipt's text (spec/52 §52.1), as urne-verify writes it.
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
        serde_json::to_string_pretty(&json).unwrap_or_default()
    }

    /// Parses strictly: every field, no other, canonical hex, the entry hash the record's.
    pub fn parse(text: &str) -> Result<Self, BoothError> {
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

    /// The offline check (spec/52 §52.2) against the board's key: the checkpoint signed
    /// by the board; the record a `ballot.cast` of the election with the tracking code;
    /// the record at its index in the checkpoint's tree. The booth asks for no witness
    /// quorum: it shows the cosignatures the checkpoint carries.
    pub fn check(&self, board: &NoteVerifier) -> Result<Checkpoint, BoothError> {
        let checkpoint = open_checkpoint("checkpoint", &self.checkpoint, board)?;
        let record = Record::parse(self.record.clone())
            .map_err(|e| wrong("record", format!("not a record: {e}")))?;
        record
            .verify_signature()
            .map_err(|e| wrong("record", e.to_string()))?;
        if record.context() != self.election {
            return Err(wrong("record", "a record of another context"));
        }
        if record.kind() != BALLOT_CAST {
            return Err(wrong("record", "not a ballot.cast"));
        }
        let (_, code) = decode_cast_body(record.body())
            .map_err(|(field, detail)| wrong("record", format!("field {field}: {detail}")))?;
        if code != self.tracking_code {
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
        Ok(checkpoint)
    }

    /// Checks that a later checkpoint signed by the board extends the receipt's, with
    /// the board's consistency proof (spec/52 §52.3): the ballot is still on the board.
    pub fn check_later(
        &self,
        board: &NoteVerifier,
        later: &str,
        proof: &[Hash],
    ) -> Result<Checkpoint, BoothError> {
        let old = open_checkpoint("checkpoint", &self.checkpoint, board)?;
        let new = open_checkpoint("later", later, board)?;
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

impl Receipt {
    /// [`Receipt::check_later`], and the later checkpoint cosigned by at least `quorum`
    /// distinct witnesses among `witnesses` (spec/13: a checkpoint a quorum of witnesses
    /// cosigned is one the board showed them too, so not a split view made for this
    /// voter). Answers the names of the witnesses that cosigned.
    pub fn check_later_witnessed(
        &self,
        board: &NoteVerifier,
        later: &str,
        proof: &[Hash],
        witnesses: &[CosignatureVerifier],
        quorum: usize,
    ) -> Result<(Checkpoint, Vec<String>), BoothError> {
        if quorum > witnesses.len() {
            return Err(wrong(
                "quorum",
                format!(
                    "{quorum} cosignatures asked of {} witnesses given",
                    witnesses.len()
                ),
            ));
        }
        let newer = self.check_later(board, later, proof)?;
        let note = Note::parse(later.as_bytes())
            .map_err(|e| wrong("later", format!("not a signed note: {e}")))?;
        let mut cosigned_by: Vec<String> = Vec::new();
        for w in witnesses {
            if !cosigned_by.iter().any(|n| n == w.name()) && w.verify(&note).is_ok() {
                cosigned_by.push(w.name().to_owned());
            }
        }
        // Counted as urne receipt check counts (distinct keys), so both agree on a quorum.
        let counted = count_cosignatures(&note, witnesses);
        if counted < quorum {
            return Err(wrong(
                "later",
                format!("cosigned by {counted} of the witnesses given; the quorum is {quorum}"),
            ));
        }
        Ok((newer, cosigned_by))
    }
}

fn open_checkpoint(
    field: &str,
    text: &str,
    board: &NoteVerifier,
) -> Result<Checkpoint, BoothError> {
    let note = Note::parse(text.as_bytes())
        .map_err(|e| wrong(field, format!("not a signed note: {e}")))?;
    Checkpoint::open(&note, board)
        .map_err(|e| wrong(field, format!("not signed by the board: {e}")))
}
