//! The C2SP tlog-witness `add-checkpoint` wire format (c2sp.org/tlog-witness), both
//! ends, as pure functions: the request a log sends, the request a witness reads, and the
//! two answers a log reads back (cosignature lines, or the witness's size on 409).
//! spec/14-witness.md §14.2.
//!
//! Request body:
//!
//! ```text
//! old <size>\n
//! <base64 hash>\n      (0 to 63 consistency proof lines)
//! \n
//! <signed checkpoint note>
//! ```

use core::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::hash::Hash;
use crate::note::{CosignatureVerifier, Note, NoteError, NoteSignature};

/// The path, below the witness's submission prefix.
pub const ADD_CHECKPOINT_PATH: &str = "/add-checkpoint";
/// Content type of a 409 answer: the witness's latest cosigned size, a newline.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";
/// The most consistency proof lines a request may carry (the spec's bound).
pub const MAX_PROOF_LINES: usize = 63;
/// The largest request body read (a note is at most [`crate::note::MAX_NOTE_BYTES`]).
pub const MAX_REQUEST_BYTES: usize = crate::note::MAX_NOTE_BYTES + 4096;
/// The largest answer body a log reads.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;

/// A parsed `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    /// The size of the previous checkpoint the client believes the witness holds.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, as sent.
    pub checkpoint: Note,
}

/// Why a request or an answer was refused; `line` is 1-based in the body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The body is larger than its limit.
    TooLarge,
    /// The body is not UTF-8.
    NotUtf8,
    /// A line is not what the format requires.
    BadLine {
        /// Line number.
        line: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// No blank line before the checkpoint.
    MissingCheckpoint,
    /// More than [`MAX_PROOF_LINES`] proof lines.
    TooManyProofLines,
    /// The checkpoint note (or the answer's signature lines) did not parse.
    Note(NoteError),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => f.write_str("body too large"),
            Self::NotUtf8 => f.write_str("body is not UTF-8"),
            Self::BadLine { line, detail } => write!(f, "line {line}: {detail}"),
            Self::MissingCheckpoint => {
                f.write_str("no blank line between the proof and the checkpoint")
            }
            Self::TooManyProofLines => {
                write!(f, "more than {MAX_PROOF_LINES} consistency proof lines")
            }
            Self::Note(e) => write!(f, "checkpoint note: {e}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

fn decimal(text: &str) -> Option<u64> {
    if text.is_empty()
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse().ok()
}

/// The request body for `old_size`, `proof` and the signed checkpoint note.
pub fn encode_request(old_size: u64, proof: &[Hash], checkpoint_note: &str) -> String {
    let mut body = format!("old {old_size}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash.0));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(checkpoint_note);
    body
}

/// Parses a request body strictly: the old size line (decimal, no leading zero), up to
/// 63 canonical base64 hashes, a blank line, a signed note.
pub fn parse_request(body: &[u8]) -> Result<AddCheckpoint, ProtocolError> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let text = core::str::from_utf8(body).map_err(|_| ProtocolError::NotUtf8)?;
    let (first, mut rest) = text.split_once('\n').ok_or(ProtocolError::BadLine {
        line: 1,
        detail: "no old size line",
    })?;
    let old_size = first
        .strip_prefix("old ")
        .and_then(decimal)
        .ok_or(ProtocolError::BadLine {
            line: 1,
            detail: "expected `old <size>` in decimal without leading zeros",
        })?;
    let mut proof = Vec::new();
    loop {
        let (line, after) = rest
            .split_once('\n')
            .ok_or(ProtocolError::MissingCheckpoint)?;
        rest = after;
        if line.is_empty() {
            break;
        }
        if proof.len() == MAX_PROOF_LINES {
            return Err(ProtocolError::TooManyProofLines);
        }
        let line_no = proof.len().saturating_add(2);
        let hash = STANDARD
            .decode(line)
            .ok()
            .and_then(|raw| Hash::from_slice(&raw))
            .ok_or(ProtocolError::BadLine {
                line: line_no,
                detail: "a proof line is not the canonical base64 of 32 bytes",
            })?;
        proof.push(hash);
    }
    let checkpoint = Note::parse(rest.as_bytes()).map_err(ProtocolError::Note)?;
    Ok(AddCheckpoint {
        old_size,
        proof,
        checkpoint,
    })
}

/// The body of a 409 answer.
pub fn encode_size(size: u64) -> String {
    format!("{size}\n")
}

/// Reads the body of a 409 answer: the witness's latest cosigned size.
pub fn parse_size(body: &[u8]) -> Result<u64, ProtocolError> {
    core::str::from_utf8(body)
        .ok()
        .and_then(|t| t.strip_suffix('\n'))
        .and_then(decimal)
        .ok_or(ProtocolError::BadLine {
            line: 1,
            detail: "expected a tree size in decimal and a newline",
        })
}

/// Reads a 200 answer: signature lines for `checkpoint_note`'s text. Returns the lines
/// by `witness` that verify on it; lines by other keys are ignored (as the spec says),
/// a line by `witness` that does not verify refuses the answer.
pub fn parse_cosignatures(
    checkpoint_text: &str,
    body: &[u8],
    witness: &CosignatureVerifier,
) -> Result<Vec<NoteSignature>, ProtocolError> {
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(ProtocolError::TooLarge);
    }
    let lines = core::str::from_utf8(body).map_err(|_| ProtocolError::NotUtf8)?;
    // The answer is a note's signature block: parse it as one, behind the text it signs.
    let note = Note::parse(format!("{checkpoint_text}\n{lines}").as_bytes())
        .map_err(ProtocolError::Note)?;
    let mut ours = Vec::new();
    for line in note.signatures() {
        if line.name == witness.name() && line.key_id == witness.key_id() {
            witness
                .verify_line(note.text(), line)
                .map_err(ProtocolError::Note)?;
            ours.push(line.clone());
        }
    }
    if ours.is_empty() {
        return Err(ProtocolError::Note(NoteError::NotSignedBy {
            name: witness.name().to_owned(),
        }));
    }
    Ok(ours)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::leaf_hash;
    use crate::note::{Cosigner, NoteSigner};

    fn signed_note() -> String {
        let signer = NoteSigner::from_seed("board.example", &[1; 32]).unwrap();
        let cp = crate::Checkpoint::new("board.example", 5, leaf_hash(b"r"), vec![]).unwrap();
        let mut note = Note::new(&cp.to_text()).unwrap();
        signer.sign(&mut note);
        note.to_text()
    }

    #[test]
    fn a_request_round_trips_and_bad_requests_name_their_line() {
        let note = signed_note();
        let proof = vec![leaf_hash(b"a"), leaf_hash(b"b")];
        let body = encode_request(3, &proof, &note);
        let parsed = parse_request(body.as_bytes());
        assert_eq!(
            parsed
                .as_ref()
                .map(|r| (r.old_size, r.proof.clone(), r.checkpoint.to_text())),
            Ok((3, proof.clone(), note.clone()))
        );
        let spec_example = "old 0\n\n".to_owned() + &note;
        assert_eq!(
            parse_request(spec_example.as_bytes()).map(|r| r.old_size),
            Ok(0)
        );
        let proof_line = STANDARD.encode(proof[0].0);
        for (bad, what, expected) in [
            (
                body.replace("old 3", "old 03"),
                "leading zero",
                ProtocolError::BadLine {
                    line: 1,
                    detail: "expected `old <size>` in decimal without leading zeros",
                },
            ),
            (
                body.replace("old 3", "old  3"),
                "double space",
                ProtocolError::BadLine {
                    line: 1,
                    detail: "expected `old <size>` in decimal without leading zeros",
                },
            ),
            (
                body.replace("old 3", "new 3"),
                "wrong keyword",
                ProtocolError::BadLine {
                    line: 1,
                    detail: "expected `old <size>` in decimal without leading zeros",
                },
            ),
            (
                body.replace(&proof_line, &proof_line[..proof_line.len() - 1]),
                "bad base64",
                ProtocolError::BadLine {
                    line: 2,
                    detail: "a proof line is not the canonical base64 of 32 bytes",
                },
            ),
            (
                body.replace(&proof_line, "AAAA"),
                "short hash",
                ProtocolError::BadLine {
                    line: 2,
                    detail: "a proof line is not the canonical base64 of 32 bytes",
                },
            ),
            (
                format!("old 3\n{proof_line}\n"),
                "no blank line",
                ProtocolError::MissingCheckpoint,
            ),
            (
                "old 3".to_owned(),
                "no newline",
                ProtocolError::BadLine {
                    line: 1,
                    detail: "no old size line",
                },
            ),
        ] {
            assert_eq!(parse_request(bad.as_bytes()), Err(expected), "{what}");
        }
        let too_many = encode_request(3, &vec![leaf_hash(b"x"); 64], &note);
        assert_eq!(
            parse_request(too_many.as_bytes()),
            Err(ProtocolError::TooManyProofLines)
        );
        let max = encode_request(3, &vec![leaf_hash(b"x"); 63], &note);
        assert!(parse_request(max.as_bytes()).is_ok());
        assert!(matches!(
            parse_request(body.replace("— ", "- ").as_bytes()),
            Err(ProtocolError::Note(_))
        ));
        assert_eq!(
            parse_request(&vec![b'a'; MAX_REQUEST_BYTES + 1]),
            Err(ProtocolError::TooLarge)
        );
    }

    #[test]
    fn answers_parse_strictly() {
        assert_eq!(parse_size(encode_size(20852014).as_bytes()), Ok(20852014));
        for bad in ["", "12", "012\n", "-1\n", "1 \n", "18446744073709551616\n"] {
            assert!(parse_size(bad.as_bytes()).is_err(), "{bad:?}");
        }
        let note = signed_note();
        let text = &note[..note.find("\n\n").map_or(0, |i| i + 1)];
        let w = Cosigner::from_seed("w.example", &[3; 32]).unwrap();
        let other = Cosigner::from_seed("o.example", &[4; 32]).unwrap();
        let body = w.cosign(text, 7).to_line() + &other.cosign(text, 7).to_line();
        let lines = parse_cosignatures(text, body.as_bytes(), &w.verifier());
        assert_eq!(lines, Ok(vec![w.cosign(text, 7)]));
        // A line by the expected witness over another text refuses the answer.
        let wrong = w.cosign("other\n", 7).to_line();
        assert!(parse_cosignatures(text, wrong.as_bytes(), &w.verifier()).is_err());
        // Only other keys' lines: nothing by the witness asked.
        assert!(
            parse_cosignatures(
                text,
                other.cosign(text, 7).to_line().as_bytes(),
                &w.verifier()
            )
            .is_err()
        );
        assert!(parse_cosignatures(text, b"", &w.verifier()).is_err());
    }
}
