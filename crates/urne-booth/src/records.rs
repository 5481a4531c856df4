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

/// The version byte of an anonymous election's bodies (spec/23 §23.13).
const ANONYMOUS_VERSION: u8 = 2;

/// The label of an anonymous cast ballot's ring signature (spec/23 §23.11, frozen).
pub(crate) const ANONYMOUS_BALLOT: &[u8] = b"urne/v1/election/anonymous-ballot\n";
/// The label of an anonymous audited ballot's ring signature (spec/23 §23.11, frozen).
pub(crate) const ANONYMOUS_AUDIT: &[u8] = b"urne/v1/election/anonymous-audit\n";

fn ring_framed(ballot_bytes: &[u8], bucket: u32, signature: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(13 + ballot_bytes.len() + signature.len());
    out.push(ANONYMOUS_VERSION);
    out.extend_from_slice(&(ballot_bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(ballot_bytes);
    out.extend_from_slice(&bucket.to_be_bytes());
    // A signature is at most 2,017 bytes (spec/08 §8.6, 2^16 keys): its length fits.
    out.extend_from_slice(&(signature.len() as u32).to_be_bytes());
    out.extend_from_slice(signature);
    out
}

/// An anonymous `ballot.cast`: 0x02 ‖ u32 length ‖ ballot ‖ bucket ‖ u32 length ‖ the
/// Triptych signature (spec/23 §23.13).
pub fn anonymous_cast_body(ballot: &Ballot, bucket: u32, signature: &[u8]) -> Vec<u8> {
    ring_framed(&ballot.to_bytes(), bucket, signature)
}

/// An anonymous `ballot.audit`: the cast body's fields, then the opening.
pub fn anonymous_audit_body(
    ballot: &Ballot,
    bucket: u32,
    signature: &[u8],
    opening: &AuditedBallot,
) -> Vec<u8> {
    let mut out = ring_framed(&ballot.to_bytes(), bucket, signature);
    out.extend_from_slice(&opening.to_bytes());
    out
}

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

/// Decodes a `ballot.cast` body strictly (spec/23 §23.6, §23.13), as the board does: the
/// ballot and signature decode (an anonymous body's ring signature: its framing), nothing
/// trails. Errors name the field (`body.ballot.contests`).
pub fn decode_cast_body(body: &[u8]) -> Result<(Ballot, TrackingCode), (String, String)> {
    let wrong = |field: &str, detail: String| (field.to_owned(), detail);
    let (&version, rest) = body
        .split_first()
        .ok_or_else(|| wrong("body.version", "the body is empty".into()))?;
    if version != BODY_VERSION && version != ANONYMOUS_VERSION {
        return Err(wrong(
            "body.version",
            format!("version {version}; this reads {BODY_VERSION} and {ANONYMOUS_VERSION}"),
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
    if version == ANONYMOUS_VERSION {
        // The ring signature decodes only against its ring's size, which the snapshot
        // gives; a receipt needs the tracking code, and the framing is checked whole.
        let (_bucket, rest) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| wrong("body.bucket", "the body ends inside the bucket".into()))?;
        let (len, rest) = rest.split_first_chunk::<4>().ok_or_else(|| {
            wrong(
                "body.signature_length",
                "the body ends inside the signature's length".into(),
            )
        })?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() != len {
            return Err(wrong(
                if rest.len() < len {
                    "body.signature"
                } else {
                    "body.end"
                },
                format!("{} bytes where the signature takes {len}", rest.len()),
            ));
        }
        return Ok((ballot, TrackingCode::of_bytes(ballot_bytes)));
    }
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
