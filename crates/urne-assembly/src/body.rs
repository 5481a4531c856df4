//! The bodies of the assembly's record kinds (spec/40-assembly.md §40.3–§40.9).
//!
//! Every body starts with the version byte `0x01`; integers are big-endian; a text is a
//! one-byte length and that many bytes of UTF-8. A decoder refuses another version, a
//! field that runs past the end and any trailing byte, naming the field.

use curve25519_dalek::edwards::CompressedEdwardsY;
use sha2::{Digest, Sha256};
use urne_record::Kind;

use crate::error::AssemblyError;
use crate::kinds;

/// Version byte of every body of spec/40.
pub const BODY_VERSION: u8 = 1;
/// Label of the parameters hash a sitting's `context.open` carries (§40.3).
pub const PARAMETERS_LABEL: &[u8] = b"urne/v1/assembly/parameters\n";
/// Default duration of a delegation: 8 days, in seconds (§40.6).
pub const DEFAULT_PROXY_SECONDS: u32 = 8 * 24 * 3600;
/// Most choices a division may offer.
pub const MAX_CHOICES: usize = 16;

/// How many members make a quorum (§40.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quorum {
    /// At least this many members counted present.
    Number(u32),
    /// At least `num/den` of the roster's members in force, rounded up.
    Fraction {
        /// Numerator, 1..=den.
        num: u32,
        /// Denominator, at least 1.
        den: u32,
    },
}

/// When a member's vote may change (§40.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoteChange {
    /// A member's first vote in a division is final.
    FinalOnFirstCast,
    /// A member may vote again until the division closes; the last vote counts.
    LastVoteCounts,
}

/// `chamber.rules` (§40.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    /// The chamber clerk's Ed25519 key: signs the roster and its changes.
    pub clerk: [u8; 32],
    /// The quorum rule.
    pub quorum: Quorum,
    /// Whether a member represented by a present delegate counts toward quorum.
    pub proxies_count_for_quorum: bool,
    /// The vote-change policy.
    pub vote_change: VoteChange,
    /// How many delegations one member may hold at once (0: no proxies).
    pub max_proxies_held: u8,
    /// Whether proxies apply in secret ballots.
    pub proxies_in_secret_ballots: bool,
    /// How every secret ballot of the chamber is run (§40.12).
    pub secret: SecretRules,
}

/// The standing rules of a chamber's secret ballots (§40.3, §40.12), fixed by the
/// chamber's opening, before any division: the presiding officer, who opens each
/// ceremony after seeing the public draw, chooses neither how many trustees nor how many
/// of them decrypt, so cannot stop the draw where it suits them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SecretRules {
    /// n: how many trustees the draw names (at least the threshold).
    pub trustees: u8,
    /// t: how many of them it takes to decrypt (at least 2: one trustee alone would
    /// hold every ballot).
    pub threshold: u8,
    /// The fewest members who must register a wallet key for the division's vote to
    /// open (at least 3: with two, each learns the other's vote from the tally).
    pub min_registrants: u32,
}

/// The least `SecretRules::threshold` a chamber may set (§40.3).
pub const MIN_SECRET_THRESHOLD: u8 = 2;
/// The least `SecretRules::min_registrants` a chamber may set (§40.3).
pub const MIN_SECRET_REGISTRANTS: u32 = 3;

/// A member of the roster (§40.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The member's Ed25519 key, held by the member.
    pub key: [u8; 32],
    /// Index of the member's group in the roster's groups.
    pub group: u16,
    /// The member's name.
    pub name: String,
}

/// `roster.members`: the roster's first version (§40.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roster {
    /// Its version number.
    pub version: u32,
    /// Group names.
    pub groups: Vec<String>,
    /// Members; a member's number is its position.
    pub members: Vec<Member>,
}

/// What a `roster.change` does (§40.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RosterOp {
    /// The member's key becomes this one; the old key stops at once.
    Rotate([u8; 32]),
    /// The member's key stops at once; the member leaves the roster.
    Revoke,
}

/// `roster.change` (§40.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RosterChange {
    /// The version it makes (the current one plus 1).
    pub version: u32,
    /// The member concerned.
    pub member: u32,
    /// What changes.
    pub op: RosterOp,
}

/// `presence` (§40.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Presence {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
    /// The roster version in force.
    pub roster_version: u32,
    /// True: arrives; false: leaves.
    pub present: bool,
}

/// `proxy.grant` (§40.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyGrant {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
    /// The roster version in force.
    pub roster_version: u32,
    /// The member who will vote on the signer's behalf.
    pub delegate: u32,
    /// How long it lasts, in seconds of the sitting clock.
    pub seconds: u32,
    /// Why (illness, mission…).
    pub reason: String,
}

/// `proxy.revoke` (§40.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyRevoke {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
}

/// `division.open` (§40.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DivisionOpen {
    /// Its number: 1 for the sitting's first division, then one more each time.
    pub division: u32,
    /// The sitting clock (Unix seconds, declared by the presiding officer).
    pub time: u64,
    /// SHA-256 of the exact text voted.
    pub text_hash: [u8; 32],
    /// The roster version in force.
    pub roster_version: u32,
    /// The voting window, in seconds: the close may not come earlier.
    pub window: u32,
    /// A secret ballot (appointments): not voted on the roll call.
    pub secret: bool,
    /// The election context whose encrypted ballots vote it: present exactly when the
    /// division is secret (§40.12).
    pub election: Option<[u8; 32]>,
    /// The voided division it reruns, or 0.
    pub reruns: u32,
    /// The choices offered, in order.
    pub choices: Vec<String>,
}

/// `division.suspend`, `division.resume`, `division.close` and `division.void` (§40.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DivisionEvent {
    /// The division.
    pub division: u32,
    /// The sitting clock.
    pub time: u64,
    /// Why (`division.void` only; empty otherwise).
    pub reason: String,
}

/// `division.result` (§40.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DivisionResult {
    /// The division.
    pub division: u32,
    /// Its roster version.
    pub roster_version: u32,
    /// Votes per choice, in the division's choice order.
    pub counts: Vec<u32>,
    /// How many of the counted votes were cast by a delegate.
    pub proxy_votes: u32,
    /// Members counted present when it opened (§40.5).
    pub present: u32,
    /// The quorum it needed.
    pub quorum: u32,
    /// SHA-256 of the roll call (§40.9).
    pub roll_call_hash: [u8; 32],
}

/// `vote` (§40.8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vote {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
    /// The division.
    pub division: u32,
    /// The hash of the text voted, as the division states it.
    pub text_hash: [u8; 32],
    /// The division's roster version.
    pub roster_version: u32,
    /// The choice's position in the division's choices.
    pub choice: u8,
    /// The member on whose behalf a delegate votes; None for one's own vote.
    pub on_behalf: Option<u32>,
}

/// `secret.credential`: a member registers the public part of their credential for a
/// secret division's election (§40.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialRegistration {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
    /// The secret division.
    pub division: u32,
    /// The public credential (a Ristretto point: canonical, not the identity).
    pub credential: [u8; 32],
    /// The member registered on whose behalf, when a delegate registers; None for
    /// one's own.
    pub on_behalf: Option<u32>,
}

/// `vote.correction` (§40.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Correction {
    /// The signer's sequence number in the sitting (§40.2).
    pub sequence: u32,
    /// The division.
    pub division: u32,
    /// The choice the member meant.
    pub choice: u8,
    /// A note.
    pub note: String,
}

/// A decoded assembly record.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Decoded {
    /// `chamber.rules`.
    Rules(Rules),
    /// `roster.members`.
    Roster(Roster),
    /// `roster.change`.
    RosterChange(RosterChange),
    /// `presence`.
    Presence(Presence),
    /// `proxy.grant`.
    ProxyGrant(ProxyGrant),
    /// `proxy.revoke`.
    ProxyRevoke(ProxyRevoke),
    /// `division.open`.
    DivisionOpen(DivisionOpen),
    /// `division.suspend`.
    DivisionSuspend(DivisionEvent),
    /// `division.resume`.
    DivisionResume(DivisionEvent),
    /// `division.close`.
    DivisionClose(DivisionEvent),
    /// `division.void`.
    DivisionVoid(DivisionEvent),
    /// `division.result`.
    DivisionResult(DivisionResult),
    /// `vote`.
    Vote(Vote),
    /// `vote.correction`.
    Correction(Correction),
    /// `secret.credential`.
    Credential(CredentialRegistration),
}

impl Decoded {
    /// The body it decodes from: decoding is strict, so `decode(kind, b)` gives a value
    /// whose body is `b` again, byte for byte.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        Ok(match self {
            Self::Rules(r) => r.to_body(),
            Self::Roster(r) => r.to_body()?,
            Self::RosterChange(c) => c.to_body(),
            Self::Presence(p) => p.to_body(),
            Self::ProxyGrant(g) => g.to_body()?,
            Self::ProxyRevoke(r) => r.to_body(),
            Self::DivisionOpen(o) => o.to_body()?,
            Self::DivisionSuspend(e) => e.to_body(kinds::DIVISION_SUSPEND)?,
            Self::DivisionResume(e) => e.to_body(kinds::DIVISION_RESUME)?,
            Self::DivisionClose(e) => e.to_body(kinds::DIVISION_CLOSE)?,
            Self::DivisionVoid(e) => e.to_body(kinds::DIVISION_VOID)?,
            Self::DivisionResult(r) => r.to_body()?,
            Self::Vote(v) => v.to_body(),
            Self::Correction(c) => c.to_body()?,
            Self::Credential(c) => c.to_body(),
        })
    }
}

/// The hash a chamber's `context.open` carries: SHA-256(label ‖ `chamber.rules` body).
pub fn parameters_hash(rules_body: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(PARAMETERS_LABEL);
    h.update(rules_body);
    h.finalize().into()
}

struct Reader<'a> {
    kind: &'static str,
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(kind: &'static str, bytes: &'a [u8]) -> Result<Self, AssemblyError> {
        match bytes.first() {
            None => Err(AssemblyError::invalid(
                kind,
                "body.version",
                "the body is empty",
            )),
            Some(&BODY_VERSION) => Ok(Self { kind, bytes, at: 1 }),
            Some(v) => Err(AssemblyError::invalid(
                kind,
                "body.version",
                format!("version {v} is not {BODY_VERSION}"),
            )),
        }
    }

    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], AssemblyError> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(AssemblyError::invalid(
                self.kind,
                field,
                "the body ends inside this field",
            ));
        };
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn u8(&mut self, field: &str) -> Result<u8, AssemblyError> {
        Ok(self.take(1, field)?[0])
    }

    fn flag(&mut self, field: &str) -> Result<bool, AssemblyError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(AssemblyError::invalid(
                self.kind,
                field,
                format!("{v} is neither 0 nor 1"),
            )),
        }
    }

    fn u16(&mut self, field: &str) -> Result<u16, AssemblyError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    fn u32(&mut self, field: &str) -> Result<u32, AssemblyError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, field: &str) -> Result<u64, AssemblyError> {
        let b = self.take(8, field)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    fn bytes32(&mut self, field: &str) -> Result<[u8; 32], AssemblyError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32, field)?);
        Ok(a)
    }

    /// An Ed25519 key that `verify_strict` could ever accept: a canonical encoding of a
    /// point that is not of small order.
    fn key(&mut self, field: &str) -> Result<[u8; 32], AssemblyError> {
        let bytes = self.bytes32(field)?;
        check_key(&bytes).map_err(|why| AssemblyError::invalid(self.kind, field, why))?;
        Ok(bytes)
    }

    fn text(&mut self, field: &str, min: usize) -> Result<String, AssemblyError> {
        let len = usize::from(self.u8(&format!("{field}_length"))?);
        let raw = self.take(len, field)?;
        let text = core::str::from_utf8(raw)
            .map_err(|_| AssemblyError::invalid(self.kind, field, "not UTF-8"))?;
        if len < min {
            return Err(AssemblyError::invalid(self.kind, field, "empty"));
        }
        // As spec/12 §12.4 refuses a blank context name: a name, group, choice or reason
        // of white space alone shows nothing.
        if min > 0 && text.chars().all(char::is_whitespace) {
            return Err(AssemblyError::invalid(self.kind, field, "only white space"));
        }
        if text.chars().any(urne_record::hides_text) {
            return Err(AssemblyError::invalid(
                self.kind,
                field,
                "contains a character that hides or reorders text (spec/12 §12.4)",
            ));
        }
        Ok(text.to_owned())
    }

    fn end(self) -> Result<(), AssemblyError> {
        if self.at == self.bytes.len() {
            Ok(())
        } else {
            Err(AssemblyError::invalid(
                self.kind,
                "body.end",
                format!("{} bytes after the last field", self.bytes.len() - self.at),
            ))
        }
    }
}

/// Why a 32-byte string is not an Ed25519 key a member may hold: a non-canonical
/// encoding, not a point, or a point of small order (which `verify_strict` refuses).
pub fn check_key(bytes: &[u8; 32]) -> Result<(), &'static str> {
    let compressed = CompressedEdwardsY(*bytes);
    let point = compressed
        .decompress()
        .ok_or("not the encoding of an Edwards point")?;
    if point.compress() != compressed {
        return Err("a non-canonical point encoding");
    }
    if point.is_small_order() {
        return Err("a point of small order");
    }
    // verify_strict accepts a key with a torsion component, but the cofactored batch of
    // the recount and verify_strict can then disagree on its signatures: no member holds one.
    if !point.is_torsion_free() {
        return Err("a point with a small-order (torsion) component");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_mixed_order_key_is_refused() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]).verifying_key();
        let honest = key.to_bytes();
        assert_eq!(check_key(&honest), Ok(()));
        let point = CompressedEdwardsY(honest).decompress().unwrap();
        let mixed = (point + curve25519_dalek::constants::EIGHT_TORSION[1])
            .compress()
            .to_bytes();
        assert_eq!(
            check_key(&mixed),
            Err("a point with a small-order (torsion) component")
        );
    }
}

/// A public credential as spec/22 encodes it: a canonical Ristretto point, not the
/// identity (decompression refuses a non-canonical encoding).
fn is_public_credential(bytes: &[u8; 32]) -> bool {
    use curve25519_dalek::ristretto::CompressedRistretto;
    use curve25519_dalek::traits::IsIdentity;
    CompressedRistretto(*bytes)
        .decompress()
        .is_some_and(|p| !p.is_identity())
}

fn push_text(out: &mut Vec<u8>, text: &str, field: &'static str) -> Result<(), EncodeError> {
    let len = u8::try_from(text.len()).map_err(|_| EncodeError(field))?;
    out.push(len);
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// A value that has no encoding: a text over 255 bytes, too many groups, members or
/// choices. Names the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0} does not fit its encoding")]
pub struct EncodeError(pub &'static str);

impl Rules {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.clerk);
        match self.quorum {
            Quorum::Number(n) => {
                out.push(0);
                out.extend_from_slice(&n.to_be_bytes());
                out.extend_from_slice(&0u32.to_be_bytes());
            }
            Quorum::Fraction { num, den } => {
                out.push(1);
                out.extend_from_slice(&num.to_be_bytes());
                out.extend_from_slice(&den.to_be_bytes());
            }
        }
        out.push(u8::from(self.proxies_count_for_quorum));
        out.push(match self.vote_change {
            VoteChange::FinalOnFirstCast => 0,
            VoteChange::LastVoteCounts => 1,
        });
        out.push(self.max_proxies_held);
        out.push(u8::from(self.proxies_in_secret_ballots));
        out.push(self.secret.trustees);
        out.push(self.secret.threshold);
        out.extend_from_slice(&self.secret.min_registrants.to_be_bytes());
        out
    }
}

impl Roster {
    /// Its body.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.version.to_be_bytes());
        let groups = u16::try_from(self.groups.len()).map_err(|_| EncodeError("body.groups"))?;
        out.extend_from_slice(&groups.to_be_bytes());
        for g in &self.groups {
            push_text(&mut out, g, "body.groups[g]")?;
        }
        let members = u32::try_from(self.members.len()).map_err(|_| EncodeError("body.members"))?;
        out.extend_from_slice(&members.to_be_bytes());
        for m in &self.members {
            out.extend_from_slice(&m.key);
            out.extend_from_slice(&m.group.to_be_bytes());
            push_text(&mut out, &m.name, "body.members[m].name")?;
        }
        Ok(out)
    }
}

impl RosterChange {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.member.to_be_bytes());
        match self.op {
            RosterOp::Rotate(key) => {
                out.push(1);
                out.extend_from_slice(&key);
            }
            RosterOp::Revoke => out.push(2),
        }
        out
    }
}

impl Presence {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.roster_version.to_be_bytes());
        out.push(u8::from(self.present));
        out
    }
}

impl ProxyGrant {
    /// Its body.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.roster_version.to_be_bytes());
        out.extend_from_slice(&self.delegate.to_be_bytes());
        out.extend_from_slice(&self.seconds.to_be_bytes());
        push_text(&mut out, &self.reason, "body.reason")?;
        Ok(out)
    }
}

impl ProxyRevoke {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out
    }
}

impl DivisionOpen {
    /// Its body.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.division.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        out.extend_from_slice(&self.text_hash);
        out.extend_from_slice(&self.roster_version.to_be_bytes());
        out.extend_from_slice(&self.window.to_be_bytes());
        out.push(u8::from(self.secret));
        match (self.secret, self.election) {
            (true, Some(election)) => out.extend_from_slice(&election),
            (false, None) => {}
            _ => return Err(EncodeError("body.election")),
        }
        out.extend_from_slice(&self.reruns.to_be_bytes());
        let n = u8::try_from(self.choices.len()).map_err(|_| EncodeError("body.choices"))?;
        out.push(n);
        for c in &self.choices {
            push_text(&mut out, c, "body.choices[c]")?;
        }
        Ok(out)
    }
}

impl DivisionEvent {
    /// Its body (`reason` is encoded for `division.void` only).
    pub fn to_body(&self, kind: Kind) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.division.to_be_bytes());
        out.extend_from_slice(&self.time.to_be_bytes());
        if kind == kinds::DIVISION_VOID {
            push_text(&mut out, &self.reason, "body.reason")?;
        }
        Ok(out)
    }
}

impl DivisionResult {
    /// Its body.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.division.to_be_bytes());
        out.extend_from_slice(&self.roster_version.to_be_bytes());
        let n = u8::try_from(self.counts.len()).map_err(|_| EncodeError("body.counts"))?;
        out.push(n);
        for c in &self.counts {
            out.extend_from_slice(&c.to_be_bytes());
        }
        out.extend_from_slice(&self.proxy_votes.to_be_bytes());
        out.extend_from_slice(&self.present.to_be_bytes());
        out.extend_from_slice(&self.quorum.to_be_bytes());
        out.extend_from_slice(&self.roll_call_hash);
        Ok(out)
    }
}

impl Vote {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.division.to_be_bytes());
        out.extend_from_slice(&self.text_hash);
        out.extend_from_slice(&self.roster_version.to_be_bytes());
        out.push(self.choice);
        match self.on_behalf {
            None => out.push(0),
            Some(m) => {
                out.push(1);
                out.extend_from_slice(&m.to_be_bytes());
            }
        }
        out
    }
}

impl CredentialRegistration {
    /// Its body.
    pub fn to_body(&self) -> Vec<u8> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.division.to_be_bytes());
        out.extend_from_slice(&self.credential);
        match self.on_behalf {
            None => out.push(0),
            Some(m) => {
                out.push(1);
                out.extend_from_slice(&m.to_be_bytes());
            }
        }
        out
    }
}

impl Correction {
    /// Its body.
    pub fn to_body(&self) -> Result<Vec<u8>, EncodeError> {
        let mut out = vec![BODY_VERSION];
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.division.to_be_bytes());
        out.push(self.choice);
        push_text(&mut out, &self.note, "body.note")?;
        Ok(out)
    }
}

fn event(r: &mut Reader<'_>, with_reason: bool) -> Result<DivisionEvent, AssemblyError> {
    let division = r.u32("body.division")?;
    let time = r.u64("body.time")?;
    let reason = if with_reason {
        r.text("body.reason", 1)?
    } else {
        String::new()
    };
    Ok(DivisionEvent {
        division,
        time,
        reason,
    })
}

/// Decodes a body of an assembly kind; None for a kind that is not the assembly's.
pub fn decode(kind: Kind, body: &[u8]) -> Option<Result<Decoded, AssemblyError>> {
    let name = kinds::name(kind)?;
    Some(decode_named(kind, name, body))
}

fn decode_named(kind: Kind, name: &'static str, body: &[u8]) -> Result<Decoded, AssemblyError> {
    let mut r = Reader::new(name, body)?;
    let decoded = match kind {
        kinds::CHAMBER_RULES => {
            let clerk = r.key("body.clerk")?;
            let quorum = match r.u8("body.quorum.kind")? {
                0 => {
                    let n = r.u32("body.quorum.a")?;
                    if r.u32("body.quorum.b")? != 0 {
                        return Err(AssemblyError::invalid(
                            name,
                            "body.quorum.b",
                            "must be 0 for a quorum given as a number",
                        ));
                    }
                    Quorum::Number(n)
                }
                1 => {
                    let num = r.u32("body.quorum.a")?;
                    let den = r.u32("body.quorum.b")?;
                    if num == 0 || den == 0 || num > den {
                        return Err(AssemblyError::invalid(
                            name,
                            "body.quorum",
                            format!("{num}/{den} is not a fraction in (0, 1]"),
                        ));
                    }
                    Quorum::Fraction { num, den }
                }
                v => {
                    return Err(AssemblyError::invalid(
                        name,
                        "body.quorum.kind",
                        format!("{v} is neither 0 (a number) nor 1 (a fraction)"),
                    ));
                }
            };
            let proxies_count_for_quorum = r.flag("body.proxies_count_for_quorum")?;
            let vote_change = match r.u8("body.vote_change")? {
                0 => VoteChange::FinalOnFirstCast,
                1 => VoteChange::LastVoteCounts,
                v => {
                    return Err(AssemblyError::invalid(
                        name,
                        "body.vote_change",
                        format!("{v} is neither 0 (first cast final) nor 1 (last vote counts)"),
                    ));
                }
            };
            let max_proxies_held = r.u8("body.max_proxies_held")?;
            let proxies_in_secret_ballots = r.flag("body.proxies_in_secret_ballots")?;
            let trustees = r.u8("body.secret_trustees")?;
            let threshold = r.u8("body.secret_threshold")?;
            let min_registrants = r.u32("body.secret_min_registrants")?;
            if threshold < MIN_SECRET_THRESHOLD {
                return Err(AssemblyError::invalid(
                    name,
                    "body.secret_threshold",
                    format!(
                        "a threshold of {threshold}: at least {MIN_SECRET_THRESHOLD}, or one trustee alone could decrypt every ballot"
                    ),
                ));
            }
            if trustees < threshold {
                return Err(AssemblyError::invalid(
                    name,
                    "body.secret_trustees",
                    format!("{trustees} trustees cannot meet a threshold of {threshold}"),
                ));
            }
            if min_registrants < MIN_SECRET_REGISTRANTS {
                return Err(AssemblyError::invalid(
                    name,
                    "body.secret_min_registrants",
                    format!(
                        "a floor of {min_registrants} registrants: at least {MIN_SECRET_REGISTRANTS}, or two members could each read the other's vote off the tally"
                    ),
                ));
            }
            Decoded::Rules(Rules {
                clerk,
                quorum,
                proxies_count_for_quorum,
                vote_change,
                max_proxies_held,
                proxies_in_secret_ballots,
                secret: SecretRules {
                    trustees,
                    threshold,
                    min_registrants,
                },
            })
        }
        kinds::ROSTER_MEMBERS => {
            let version = r.u32("body.version_number")?;
            let group_count = r.u16("body.group_count")?;
            let mut groups = Vec::new();
            for g in 0..group_count {
                groups.push(r.text(&format!("body.groups[{g}]"), 1)?);
            }
            let count = r.u32("body.member_count")?;
            let mut members = Vec::new();
            for m in 0..count {
                let key = r.key(&format!("body.members[{m}].key"))?;
                let group = r.u16(&format!("body.members[{m}].group"))?;
                if group >= group_count {
                    return Err(AssemblyError::invalid(
                        name,
                        format!("body.members[{m}].group"),
                        format!("group {group} of {group_count}"),
                    ));
                }
                let member_name = r.text(&format!("body.members[{m}].name"), 1)?;
                members.push(Member {
                    key,
                    group,
                    name: member_name,
                });
            }
            if members.is_empty() {
                return Err(AssemblyError::invalid(
                    name,
                    "body.member_count",
                    "a roster without members",
                ));
            }
            let mut keys: Vec<&[u8; 32]> = members.iter().map(|m| &m.key).collect();
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err(AssemblyError::invalid(
                    name,
                    "body.members",
                    "two members hold the same key",
                ));
            }
            Decoded::Roster(Roster {
                version,
                groups,
                members,
            })
        }
        kinds::ROSTER_CHANGE => {
            let version = r.u32("body.version_number")?;
            let member = r.u32("body.member")?;
            let op = match r.u8("body.op")? {
                1 => RosterOp::Rotate(r.key("body.key")?),
                2 => RosterOp::Revoke,
                v => {
                    return Err(AssemblyError::invalid(
                        name,
                        "body.op",
                        format!("{v} is neither 1 (rotate) nor 2 (revoke)"),
                    ));
                }
            };
            Decoded::RosterChange(RosterChange {
                version,
                member,
                op,
            })
        }
        kinds::PRESENCE => Decoded::Presence(Presence {
            sequence: r.u32("body.sequence")?,
            roster_version: r.u32("body.roster_version")?,
            present: r.flag("body.present")?,
        }),
        kinds::PROXY_GRANT => {
            let sequence = r.u32("body.sequence")?;
            let roster_version = r.u32("body.roster_version")?;
            let delegate = r.u32("body.delegate")?;
            let seconds = r.u32("body.seconds")?;
            if seconds == 0 {
                return Err(AssemblyError::invalid(
                    name,
                    "body.seconds",
                    "a delegation of no duration",
                ));
            }
            let reason = r.text("body.reason", 1)?;
            Decoded::ProxyGrant(ProxyGrant {
                sequence,
                roster_version,
                delegate,
                seconds,
                reason,
            })
        }
        kinds::PROXY_REVOKE => Decoded::ProxyRevoke(ProxyRevoke {
            sequence: r.u32("body.sequence")?,
        }),
        kinds::DIVISION_OPEN => {
            let division = r.u32("body.division")?;
            let time = r.u64("body.time")?;
            let text_hash = r.bytes32("body.text_hash")?;
            let roster_version = r.u32("body.roster_version")?;
            let window = r.u32("body.window")?;
            let secret = r.flag("body.secret")?;
            let election = if secret {
                Some(r.bytes32("body.election")?)
            } else {
                None
            };
            let reruns = r.u32("body.reruns")?;
            let n = usize::from(r.u8("body.choice_count")?);
            if !(2..=MAX_CHOICES).contains(&n) {
                return Err(AssemblyError::invalid(
                    name,
                    "body.choice_count",
                    format!("{n} choices (2 to {MAX_CHOICES})"),
                ));
            }
            let mut choices: Vec<String> = Vec::with_capacity(n);
            for c in 0..n {
                let choice = r.text(&format!("body.choices[{c}]"), 1)?;
                if choices.contains(&choice) {
                    return Err(AssemblyError::invalid(
                        name,
                        format!("body.choices[{c}]"),
                        "offered twice",
                    ));
                }
                choices.push(choice);
            }
            Decoded::DivisionOpen(DivisionOpen {
                division,
                time,
                text_hash,
                roster_version,
                window,
                secret,
                election,
                reruns,
                choices,
            })
        }
        kinds::DIVISION_SUSPEND => Decoded::DivisionSuspend(event(&mut r, false)?),
        kinds::DIVISION_RESUME => Decoded::DivisionResume(event(&mut r, false)?),
        kinds::DIVISION_CLOSE => Decoded::DivisionClose(event(&mut r, false)?),
        kinds::DIVISION_VOID => Decoded::DivisionVoid(event(&mut r, true)?),
        kinds::DIVISION_RESULT => {
            let division = r.u32("body.division")?;
            let roster_version = r.u32("body.roster_version")?;
            let n = r.u8("body.choice_count")?;
            let mut counts = Vec::new();
            for c in 0..n {
                counts.push(r.u32(&format!("body.counts[{c}]"))?);
            }
            Decoded::DivisionResult(DivisionResult {
                division,
                roster_version,
                counts,
                proxy_votes: r.u32("body.proxy_votes")?,
                present: r.u32("body.present")?,
                quorum: r.u32("body.quorum")?,
                roll_call_hash: r.bytes32("body.roll_call_hash")?,
            })
        }
        kinds::VOTE => {
            let sequence = r.u32("body.sequence")?;
            let division = r.u32("body.division")?;
            let text_hash = r.bytes32("body.text_hash")?;
            let roster_version = r.u32("body.roster_version")?;
            let choice = r.u8("body.choice")?;
            let on_behalf = match r.u8("body.proxy")? {
                0 => None,
                1 => Some(r.u32("body.on_behalf")?),
                v => {
                    return Err(AssemblyError::invalid(
                        name,
                        "body.proxy",
                        format!("{v} is neither 0 (own vote) nor 1 (on behalf)"),
                    ));
                }
            };
            Decoded::Vote(Vote {
                sequence,
                division,
                text_hash,
                roster_version,
                choice,
                on_behalf,
            })
        }
        kinds::SECRET_CREDENTIAL => {
            let sequence = r.u32("body.sequence")?;
            let division = r.u32("body.division")?;
            let credential = r.bytes32("body.credential")?;
            if !is_public_credential(&credential) {
                return Err(AssemblyError::invalid(
                    name,
                    "body.credential",
                    "not a canonical Ristretto point other than the identity",
                ));
            }
            let on_behalf = match r.u8("body.proxy")? {
                0 => None,
                1 => Some(r.u32("body.on_behalf")?),
                v => {
                    return Err(AssemblyError::invalid(
                        name,
                        "body.proxy",
                        format!("{v} is neither 0 (own) nor 1 (on behalf)"),
                    ));
                }
            };
            Decoded::Credential(CredentialRegistration {
                sequence,
                division,
                credential,
                on_behalf,
            })
        }
        kinds::VOTE_CORRECTION => Decoded::Correction(Correction {
            sequence: r.u32("body.sequence")?,
            division: r.u32("body.division")?,
            choice: r.u8("body.choice")?,
            note: r.text("body.note", 0)?,
        }),
        _ => {
            return Err(AssemblyError::invalid(name, "kind", "not an assembly kind"));
        }
    };
    r.end()?;
    Ok(decoded)
}
