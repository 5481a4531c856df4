//! The bodies of `ballot.cast` and `ballot.audit` (spec/23 §23.6, §23.7).
//!
//! urne-election owns these encodings, but it cannot be built for the browser (it
//! verifies in parallel and draws batch weights from the operating system), so the booth
//! writes the few framing bytes itself; the tests hold them equal, byte for byte, to
//! urne-election's encoder and decoder.

use urne_ballot::{AuditedBallot, Ballot, TrackingCode};
use urne_credential::BallotSignature;

/// The version byte of both bodies.
const BODY_VERSION: u8 = 1;

fn framed(ballot_bytes: &[u8], signature: &BallotSignature) -> Vec<u8> {
    let signature = signature.to_bytes();
    let mut out = Vec::with_capacity(5 + ballot_bytes.len() + signature.len());
    out.push(BODY_VERSION);
    // A ballot is at most a record (65,535 bytes): its length always fits.
    out.extend_from_slice(&(ballot_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(ballot_bytes);
    out.extend_from_slice(&signature);
    out
}

/// `ballot.cast`: version ‖ u32 length ‖ ballot ‖ the credential's signature.
pub fn cast_body(ballot: &Ballot, signature: &BallotSignature) -> Vec<u8> {
    framed(&ballot.to_bytes(), signature)
}

/// `ballot.audit`: version ‖ u32 length ‖ ballot ‖ signature ‖ the opening.
pub fn audit_body(
    ballot: &Ballot,
    signature: &BallotSignature,
    opening: &AuditedBallot,
) -> Vec<u8> {
    let mut out = framed(&ballot.to_bytes(), signature);
    out.extend_from_slice(&opening.to_bytes());
    out
}

/// Decodes a `ballot.cast` body strictly (spec/23 §23.6), as the board does: the ballot
/// and signature decode, nothing trails. Errors name the field (`body.ballot.contests`).
pub fn decode_cast_body(body: &[u8]) -> Result<(Ballot, TrackingCode), (String, String)> {
    let wrong = |field: &str, detail: String| (field.to_owned(), detail);
    let (&version, rest) = body
        .split_first()
        .ok_or_else(|| wrong("body.version", "the body is empty".into()))?;
    if version != BODY_VERSION {
        return Err(wrong(
            "body.version",
            format!("version {version}; this reads {BODY_VERSION}"),
        ));
    }
    let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(|| {
        wrong(
            "body.ballot",
            "the body ends inside the ballot's length".into(),
        )
    })?;
    let len = u32::from_be_bytes(*len) as usize;
    if rest.len() < len {
        return Err(wrong(
            "body.ballot",
            "the body ends inside the ballot".into(),
        ));
    }
    let (ballot_bytes, rest) = rest.split_at(len);
    let ballot = Ballot::decode(ballot_bytes)
        .map_err(|e| wrong(&format!("body.ballot.{}", e.field()), e.to_string()))?;
    if rest.len() < BallotSignature::LEN {
        return Err(wrong(
            "body.signature",
            "the body ends inside the signature".into(),
        ));
    }
    let (signature, rest) = rest.split_at(BallotSignature::LEN);
    BallotSignature::decode(signature).map_err(|e| wrong("body.signature", e.to_string()))?;
    if !rest.is_empty() {
        return Err(wrong(
            "body.end",
            format!("{} bytes after the signature", rest.len()),
        ));
    }
    Ok((ballot, TrackingCode::of_bytes(ballot_bytes)))
}
