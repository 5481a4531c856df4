//! The assembly's kinds and bodies (spec/40 §40.2–§40.9, §40.12), decoded strictly by the
//! verifier itself: version `0x01`, big-endian integers, one-byte-length texts, a flag 0
//! or 1, every refusal naming its field, nothing after the last field.

use curve25519_dalek::edwards::CompressedEdwardsY;
use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::traits::IsIdentity;
use urne_record::Kind;

/// The assembly's record kinds (spec/40 §40.2).
pub mod kinds {
    use urne_record::Kind;

    /// `chamber.rules`.
    pub const CHAMBER_RULES: Kind = Kind(0x0301);
    /// `roster.members`.
    pub const ROSTER_MEMBERS: Kind = Kind(0x0302);
    /// `roster.change`.
    pub const ROSTER_CHANGE: Kind = Kind(0x0303);
    /// `presence`.
    pub const PRESENCE: Kind = Kind(0x0310);
    /// `proxy.grant`.
    pub const PROXY_GRANT: Kind = Kind(0x0320);
    /// `proxy.revoke`.
    pub const PROXY_REVOKE: Kind = Kind(0x0321);
    /// `division.open`.
    pub const DIVISION_OPEN: Kind = Kind(0x0330);
    /// `division.suspend`.
    pub const DIVISION_SUSPEND: Kind = Kind(0x0331);
    /// `division.resume`.
    pub const DIVISION_RESUME: Kind = Kind(0x0332);
    /// `division.close`.
    pub const DIVISION_CLOSE: Kind = Kind(0x0333);
    /// `division.void`.
    pub const DIVISION_VOID: Kind = Kind(0x0334);
    /// `division.result`.
    pub const DIVISION_RESULT: Kind = Kind(0x0335);
    /// `vote`.
    pub const VOTE: Kind = Kind(0x0340);
    /// `vote.correction`.
    pub const VOTE_CORRECTION: Kind = Kind(0x0341);
    /// `secret.credential`.
    pub const SECRET_CREDENTIAL: Kind = Kind(0x0342);
}

/// A kind's name (spec/40 §40.2), or None for a kind that is not the assembly's.
pub fn kind_name(kind: Kind) -> Option<&'static str> {
    use kinds::*;
    Some(match kind {
        CHAMBER_RULES => "chamber.rules",
        ROSTER_MEMBERS => "roster.members",
        ROSTER_CHANGE => "roster.change",
        PRESENCE => "presence",
        PROXY_GRANT => "proxy.grant",
        PROXY_REVOKE => "proxy.revoke",
        DIVISION_OPEN => "division.open",
        DIVISION_SUSPEND => "division.suspend",
        DIVISION_RESUME => "division.resume",
        DIVISION_CLOSE => "division.close",
        DIVISION_VOID => "division.void",
        DIVISION_RESULT => "division.result",
        VOTE => "vote",
        VOTE_CORRECTION => "vote.correction",
        SECRET_CREDENTIAL => "secret.credential",
        _ => return None,
    })
}

/// A kind's name for messages, spec/12's two included.
pub(crate) fn label(kind: Kind) -> &'static str {
    kind_name(kind).unwrap_or(match kind {
        urne_record::kinds::CONTEXT_OPEN => "context.open",
        urne_record::kinds::CONTEXT_PHASE => "context.phase",
        _ => "record",
    })
}

const BODY_VERSION: u8 = 1;
/// §40.3: the fewest trustees it takes to decrypt a secret ballot.
const MIN_SECRET_THRESHOLD: u8 = 2;
/// §40.3: the fewest registrants a secret ballot's vote opens with.
const MIN_SECRET_REGISTRANTS: u32 = 3;
/// §40.7: choices of a division.
const MAX_CHOICES: usize = 16;

/// Why a body does not decode: its field and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BodyError {
    pub field: String,
    pub reason: String,
}

fn error(field: impl Into<String>, reason: impl Into<String>) -> BodyError {
    BodyError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// §40.3's quorum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quorum {
    Number(u32),
    Fraction(u32, u32),
}

/// `chamber.rules` (§40.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rules {
    pub clerk: [u8; 32],
    pub quorum: Quorum,
    pub proxies_count_for_quorum: bool,
    /// 1: the last vote before close counts; 0: the first cast is final.
    pub last_vote_counts: bool,
    pub max_proxies_held: u8,
    pub proxies_in_secret_ballots: bool,
    pub secret_trustees: u8,
    pub secret_threshold: u8,
    pub secret_min_registrants: u32,
}

/// One member of `roster.members` (§40.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Member {
    pub key: [u8; 32],
}

/// `division.open` (§40.7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DivisionOpen {
    pub division: u32,
    pub time: u64,
    pub text_hash: [u8; 32],
    pub roster_version: u32,
    pub window: u32,
    pub election: Option<[u8; 32]>,
    pub reruns: u32,
    pub choices: Vec<String>,
}

/// `division.result` (§40.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DivisionResult {
    pub division: u32,
    pub roster_version: u32,
    pub counts: Vec<u32>,
    pub proxy_votes: u32,
    pub present: u32,
    pub quorum: u32,
    pub roll_call_hash: [u8; 32],
}

/// A decoded assembly body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Body {
    Rules(Rules),
    Roster {
        version: u32,
        members: Vec<Member>,
    },
    /// `roster.change`: a new key, or None for a revocation.
    RosterChange {
        version: u32,
        member: u32,
        rotate_to: Option<[u8; 32]>,
    },
    Presence {
        sequence: u32,
        roster_version: u32,
        present: bool,
    },
    ProxyGrant {
        sequence: u32,
        roster_version: u32,
        delegate: u32,
        seconds: u32,
    },
    ProxyRevoke {
        sequence: u32,
    },
    DivisionOpen(DivisionOpen),
    /// suspend, resume, close, void: the division and the declared time (a void's reason
    /// is kept in the log; the fold needs it not).
    Event {
        division: u32,
        time: u64,
    },
    DivisionResult(DivisionResult),
    Vote {
        sequence: u32,
        division: u32,
        text_hash: [u8; 32],
        roster_version: u32,
        choice: u8,
        on_behalf: Option<u32>,
    },
    Correction {
        sequence: u32,
        division: u32,
        choice: u8,
    },
    Credential {
        sequence: u32,
        division: u32,
        key: [u8; 32],
        on_behalf: Option<u32>,
    },
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &str) -> Result<&'a [u8], BodyError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| error(field, "the body ends inside this field"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self, field: &str) -> Result<u8, BodyError> {
        Ok(self.take(1, field)?[0])
    }
    fn flag(&mut self, field: &str) -> Result<bool, BodyError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(error(field, format!("{v} is neither 0 nor 1"))),
        }
    }
    fn u16(&mut self, field: &str) -> Result<u16, BodyError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, field: &str) -> Result<u32, BodyError> {
        let b = self.take(4, field)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self, field: &str) -> Result<u64, BodyError> {
        let mut a = [0u8; 8];
        a.copy_from_slice(self.take(8, field)?);
        Ok(u64::from_be_bytes(a))
    }
    fn bytes32(&mut self, field: &str) -> Result<[u8; 32], BodyError> {
        let mut a = [0u8; 32];
        a.copy_from_slice(self.take(32, field)?);
        Ok(a)
    }
    /// An Ed25519 key no member or clerk may hold otherwise (§40.3): canonical, not of
    /// small order, torsion-free (a torsion component lets a cofactored batch and
    /// `verify_strict` disagree on its signatures).
    fn key(&mut self, field: &str) -> Result<[u8; 32], BodyError> {
        let bytes = self.bytes32(field)?;
        let compressed = CompressedEdwardsY(bytes);
        let point = compressed
            .decompress()
            .ok_or_else(|| error(field, "not the encoding of an Edwards point"))?;
        if point.compress() != compressed {
            return Err(error(field, "a non-canonical point encoding"));
        }
        if point.is_small_order() {
            return Err(error(field, "a point of small order"));
        }
        if !point.is_torsion_free() {
            return Err(error(field, "a point with a small-order component"));
        }
        Ok(bytes)
    }
    /// A text (§40.2): UTF-8, none of spec/12 §12.4's hiding characters, and, when it
    /// must be non-empty, not white space alone.
    fn text(&mut self, field: &str, non_empty: bool) -> Result<String, BodyError> {
        let len = usize::from(self.u8(&format!("{field}_length"))?);
        let raw = self.take(len, field)?;
        let text = core::str::from_utf8(raw).map_err(|_| error(field, "not UTF-8"))?;
        if non_empty && len == 0 {
            return Err(error(field, "empty"));
        }
        if non_empty && text.chars().all(char::is_whitespace) {
            return Err(error(field, "only white space"));
        }
        if text.chars().any(urne_record::hides_text) {
            return Err(error(
                field,
                "a character that hides or reorders text (spec/12 §12.4)",
            ));
        }
        Ok(text.to_owned())
    }
    fn on_behalf(&mut self) -> Result<Option<u32>, BodyError> {
        match self.u8("body.proxy")? {
            0 => Ok(None),
            1 => Ok(Some(self.u32("body.on_behalf")?)),
            v => Err(error("body.proxy", format!("{v} is neither 0 nor 1"))),
        }
    }
}

/// Decodes an assembly body strictly; None for a kind that is not the assembly's.
pub(crate) fn decode(kind: Kind, body: &[u8]) -> Option<Result<Body, BodyError>> {
    kind_name(kind)?;
    Some(decode_known(kind, body))
}

fn decode_known(kind: Kind, body: &[u8]) -> Result<Body, BodyError> {
    use kinds::*;
    match body.first() {
        None => return Err(error("body.version", "the body is empty")),
        Some(&BODY_VERSION) => {}
        Some(v) => {
            return Err(error(
                "body.version",
                format!("version {v}, this verifier reads {BODY_VERSION}"),
            ));
        }
    }
    let mut r = Reader { bytes: body, at: 1 };
    let decoded = match kind {
        CHAMBER_RULES => Body::Rules(rules(&mut r)?),
        ROSTER_MEMBERS => {
            let version = r.u32("body.version_number")?;
            let groups = r.u16("body.group_count")?;
            for g in 0..groups {
                r.text(&format!("body.groups[{g}]"), true)?;
            }
            let count = r.u32("body.member_count")?;
            let mut members = Vec::new();
            for m in 0..count {
                let key = r.key(&format!("body.members[{m}].key"))?;
                let group = r.u16(&format!("body.members[{m}].group"))?;
                if group >= groups {
                    return Err(error(
                        format!("body.members[{m}].group"),
                        format!("group {group} of {groups}"),
                    ));
                }
                r.text(&format!("body.members[{m}].name"), true)?;
                members.push(Member { key });
            }
            if members.is_empty() {
                return Err(error("body.member_count", "a roster of no member"));
            }
            let mut keys: Vec<&[u8; 32]> = members.iter().map(|m| &m.key).collect();
            keys.sort_unstable();
            if keys.windows(2).any(|w| w[0] == w[1]) {
                return Err(error("body.members", "two members hold one key"));
            }
            Body::Roster { version, members }
        }
        ROSTER_CHANGE => {
            let version = r.u32("body.version_number")?;
            let member = r.u32("body.member")?;
            let rotate_to = match r.u8("body.op")? {
                1 => Some(r.key("body.key")?),
                2 => None,
                v => return Err(error("body.op", format!("{v} is neither 1 nor 2"))),
            };
            Body::RosterChange {
                version,
                member,
                rotate_to,
            }
        }
        PRESENCE => Body::Presence {
            sequence: r.u32("body.sequence")?,
            roster_version: r.u32("body.roster_version")?,
            present: r.flag("body.present")?,
        },
        PROXY_GRANT => {
            let sequence = r.u32("body.sequence")?;
            let roster_version = r.u32("body.roster_version")?;
            let delegate = r.u32("body.delegate")?;
            let seconds = r.u32("body.seconds")?;
            if seconds == 0 {
                return Err(error("body.seconds", "a delegation of no duration"));
            }
            r.text("body.reason", true)?;
            Body::ProxyGrant {
                sequence,
                roster_version,
                delegate,
                seconds,
            }
        }
        PROXY_REVOKE => Body::ProxyRevoke {
            sequence: r.u32("body.sequence")?,
        },
        DIVISION_OPEN => Body::DivisionOpen(division_open(&mut r)?),
        DIVISION_SUSPEND | DIVISION_RESUME | DIVISION_CLOSE | DIVISION_VOID => {
            let division = r.u32("body.division")?;
            let time = r.u64("body.time")?;
            if kind == DIVISION_VOID {
                r.text("body.reason", true)?;
            }
            Body::Event { division, time }
        }
        DIVISION_RESULT => {
            let division = r.u32("body.division")?;
            let roster_version = r.u32("body.roster_version")?;
            let n = r.u8("body.choice_count")?;
            let counts = (0..n)
                .map(|c| r.u32(&format!("body.counts[{c}]")))
                .collect::<Result<Vec<_>, _>>()?;
            Body::DivisionResult(DivisionResult {
                division,
                roster_version,
                counts,
                proxy_votes: r.u32("body.proxy_votes")?,
                present: r.u32("body.present")?,
                quorum: r.u32("body.quorum")?,
                roll_call_hash: r.bytes32("body.roll_call_hash")?,
            })
        }
        VOTE => Body::Vote {
            sequence: r.u32("body.sequence")?,
            division: r.u32("body.division")?,
            text_hash: r.bytes32("body.text_hash")?,
            roster_version: r.u32("body.roster_version")?,
            choice: r.u8("body.choice")?,
            on_behalf: r.on_behalf()?,
        },
        VOTE_CORRECTION => {
            let sequence = r.u32("body.sequence")?;
            let division = r.u32("body.division")?;
            let choice = r.u8("body.choice")?;
            r.text("body.note", false)?;
            Body::Correction {
                sequence,
                division,
                choice,
            }
        }
        SECRET_CREDENTIAL => {
            let sequence = r.u32("body.sequence")?;
            let division = r.u32("body.division")?;
            let key = r.bytes32("body.credential")?;
            let wallet_key = CompressedRistretto(key)
                .decompress()
                .is_some_and(|p| !p.is_identity());
            if !wallet_key {
                return Err(error(
                    "body.credential",
                    "not a canonical Ristretto point other than the identity",
                ));
            }
            Body::Credential {
                sequence,
                division,
                key,
                on_behalf: r.on_behalf()?,
            }
        }
        _ => return Err(error("kind", "not an assembly kind")),
    };
    match body.len() - r.at {
        0 => Ok(decoded),
        extra => Err(error(
            "body.end",
            format!("{extra} bytes after the last field"),
        )),
    }
}

fn rules(r: &mut Reader<'_>) -> Result<Rules, BodyError> {
    let clerk = r.key("body.clerk")?;
    let quorum = match r.u8("body.quorum.kind")? {
        0 => {
            let n = r.u32("body.quorum.a")?;
            if r.u32("body.quorum.b")? != 0 {
                return Err(error("body.quorum.b", "0 for a quorum given as a number"));
            }
            Quorum::Number(n)
        }
        1 => {
            let a = r.u32("body.quorum.a")?;
            let b = r.u32("body.quorum.b")?;
            if a == 0 || b == 0 || a > b {
                return Err(error(
                    "body.quorum",
                    format!("{a}/{b} is not a fraction in (0, 1]"),
                ));
            }
            Quorum::Fraction(a, b)
        }
        v => return Err(error("body.quorum.kind", format!("{v} is neither 0 nor 1"))),
    };
    let proxies_count_for_quorum = r.flag("body.proxies_count_for_quorum")?;
    let last_vote_counts = match r.u8("body.vote_change")? {
        0 => false,
        1 => true,
        v => return Err(error("body.vote_change", format!("{v} is neither 0 nor 1"))),
    };
    let max_proxies_held = r.u8("body.max_proxies_held")?;
    let proxies_in_secret_ballots = r.flag("body.proxies_in_secret_ballots")?;
    let secret_trustees = r.u8("body.secret_trustees")?;
    let secret_threshold = r.u8("body.secret_threshold")?;
    let secret_min_registrants = r.u32("body.secret_min_registrants")?;
    if secret_threshold < MIN_SECRET_THRESHOLD {
        return Err(error(
            "body.secret_threshold",
            format!("{secret_threshold}: one trustee alone would hold every ballot"),
        ));
    }
    if secret_trustees < secret_threshold {
        return Err(error(
            "body.secret_trustees",
            format!("{secret_trustees} trustees cannot meet a threshold of {secret_threshold}"),
        ));
    }
    if secret_min_registrants < MIN_SECRET_REGISTRANTS {
        return Err(error(
            "body.secret_min_registrants",
            format!(
                "a floor of {secret_min_registrants}: with two, each reads the other's vote off the tally"
            ),
        ));
    }
    Ok(Rules {
        clerk,
        quorum,
        proxies_count_for_quorum,
        last_vote_counts,
        max_proxies_held,
        proxies_in_secret_ballots,
        secret_trustees,
        secret_threshold,
        secret_min_registrants,
    })
}

fn division_open(r: &mut Reader<'_>) -> Result<DivisionOpen, BodyError> {
    let division = r.u32("body.division")?;
    let time = r.u64("body.time")?;
    let text_hash = r.bytes32("body.text_hash")?;
    let roster_version = r.u32("body.roster_version")?;
    let window = r.u32("body.window")?;
    let election = if r.flag("body.secret")? {
        Some(r.bytes32("body.election")?)
    } else {
        None
    };
    let reruns = r.u32("body.reruns")?;
    let n = usize::from(r.u8("body.choice_count")?);
    if !(2..=MAX_CHOICES).contains(&n) {
        return Err(error(
            "body.choice_count",
            format!("{n} choices, not 2 to {MAX_CHOICES}"),
        ));
    }
    let mut choices: Vec<String> = Vec::with_capacity(n);
    for c in 0..n {
        let field = format!("body.choices[{c}]");
        let choice = r.text(&field, true)?;
        if choices.contains(&choice) {
            return Err(error(field, "offered twice"));
        }
        choices.push(choice);
    }
    Ok(DivisionOpen {
        division,
        time,
        text_hash,
        roster_version,
        window,
        election,
        reruns,
        choices,
    })
}
