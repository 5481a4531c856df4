//! The sitting's state as a pure fold (spec/40 §40.10): each record is decoded, checked
//! against the state of every record before it in the log, then applied. The board's
//! handlers, the recount and `urne demo assembly` all run this one piece of code.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use urne_record::ContextId;

use crate::body::{
    Correction, CredentialRegistration, Decoded, DivisionEvent, DivisionOpen, DivisionResult,
    ProxyGrant, Quorum, Vote, VoteChange,
};
use crate::chamber::{ChamberPhase, ChamberState};
use crate::error::AssemblyError;
use crate::kinds;

/// Label of the roll-call hash (§40.9).
pub const ROLL_CALL_LABEL: &[u8] = b"urne/v1/assembly/roll-call\n";
/// The unique-key space of a member's vote in a division under "first cast is final":
/// it names the field when the board refuses a second vote.
pub const VOTE_KEY: &str = "vote.member";
/// The unique-key space of a member's sequence number (§40.2): two records of one member
/// pending at once cannot both take the next number.
pub const SEQUENCE_KEY: &str = "member.sequence";

/// A phase of a sitting (spec/12 §12.3, type 3); its code is its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The presiding officer posts the rules, the clerk the roster.
    Setup = 0,
    /// The sitting is in session: presence, proxies, divisions and votes.
    InSession = 1,
    /// The sitting is closed. Final.
    Closed = 2,
}

impl Phase {
    /// The phase of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Setup),
            1 => Some(Self::InSession),
            2 => Some(Self::Closed),
            _ => None,
        }
    }
    /// Its code.
    pub fn code(self) -> u8 {
        self as u8
    }
    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Setup => "setup",
            Self::InSession => "in-session",
            Self::Closed => "closed",
        }
    }
    /// The phase after it.
    pub fn next(self) -> Option<Self> {
        match self {
            Self::Setup => Some(Self::InSession),
            Self::InSession => Some(Self::Closed),
            Self::Closed => None,
        }
    }
}

/// A unique key a record takes in its sitting.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// Its space; it names the field in a refusal.
    pub space: &'static str,
    /// Its bytes.
    pub key: Vec<u8>,
}

/// A member as the sitting knows them now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberState {
    /// Current key.
    pub key: [u8; 32],
    /// Group index.
    pub group: u16,
    /// Name.
    pub name: String,
    /// The roster version that revoked the member, if one did.
    pub revoked_in: Option<u32>,
}

/// Where a division stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DivisionStatus {
    /// Votes are taken.
    Open,
    /// Votes wait for `division.resume`.
    Suspended,
    /// No more votes; the result may be posted.
    Closed,
    /// Annulled: never counted.
    Voided,
}

/// The vote counted for a member in a division: one entry of its roll call (the
/// published form, with names and groups, is [`crate::RollCallEntry`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CountedVote {
    /// The choice counted.
    pub choice: u8,
    /// The delegate who cast it, if cast by proxy.
    pub delegate: Option<u32>,
    /// The index of the vote record counted.
    pub index: u64,
}

/// A member's credential registered for a secret division's election (§40.12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The public credential.
    pub credential: [u8; 32],
    /// The delegate who registered it, if registered by proxy.
    pub delegate: Option<u32>,
    /// The index of the `secret.credential` record.
    pub index: u64,
}

/// The unique-key space of a member's credential in a secret division: division ‖
/// member, both u32.
pub const CREDENTIAL_MEMBER_KEY: &str = "credential.member";
/// The unique-key space of a credential in a secret division: division (u32) ‖
/// credential (32 bytes).
pub const CREDENTIAL_KEY: &str = "credential.key";

/// A division and its votes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Division {
    /// Its opening.
    pub open: DivisionOpen,
    /// Index of its `division.open`.
    pub opened_at: u64,
    /// Where it stands.
    pub status: DivisionStatus,
    /// Members counted present when it opened.
    pub present: u32,
    /// The quorum it needed.
    pub quorum: u32,
    /// The vote counted for each member who voted, by member number.
    pub counted: BTreeMap<u32, CountedVote>,
    /// Corrections of voting intention: (member, choice meant, record index).
    pub corrections: Vec<(u32, u8, u64)>,
    /// Index of its `division.result`, once posted.
    pub result_at: Option<u64>,
    /// Its `division.result`, once posted (a secret division's counts are its
    /// election's, which the recount compares with the election's tally, §40.12).
    pub published: Option<DivisionResult>,
    /// A secret division's credentials, by member number (§40.12).
    pub registrations: BTreeMap<u32, Registration>,
    /// Index of the `division.close` or `division.void` that ended its window, the
    /// first of them: a secret division's registrations end there, and its election's
    /// credential list must come after it (§40.12).
    pub window_ended_at: Option<u64>,
    /// A secret division's trustee candidates, fixed at its `division.close`: each
    /// member in force there, with the key they held there, in member order (§40.12
    /// step 3). The draw ranks these keys, so a rotation or revocation after the close
    /// moves no one up. None before the close, for a roll call, and for a division
    /// voided before it closed.
    pub trustee_candidates: Option<Vec<(u32, [u8; 32])>>,
    /// The division that reruns it, once one does.
    pub rerun_by: Option<u32>,
    /// Why it was voided and the index of its `division.void`, once voided: the recount
    /// shows it, so annulling a closed division is never silent.
    pub voided: Option<(String, u64)>,
}

impl Division {
    /// Open or suspended: votes may still come.
    pub fn is_running(&self) -> bool {
        matches!(
            self.status,
            DivisionStatus::Open | DivisionStatus::Suspended
        )
    }

    /// Closed, not secret, and no result posted yet (§40.9).
    pub fn awaits_result(&self) -> bool {
        self.status == DivisionStatus::Closed && !self.open.secret && self.result_at.is_none()
    }

    /// Its result as counted from its roll call (§40.9); for a secret division, every
    /// field but the counts, which are its election's (zero here, §40.12).
    pub fn count(&self) -> DivisionResult {
        let mut counts = vec![0u32; self.open.choices.len()];
        let mut proxy_votes = 0u32;
        if self.open.secret {
            proxy_votes = self
                .registrations
                .values()
                .filter(|r| r.delegate.is_some())
                .count() as u32;
        }
        for ballot in self.counted.values() {
            if let Some(c) = counts.get_mut(usize::from(ballot.choice)) {
                *c = c.saturating_add(1);
            }
            if ballot.delegate.is_some() {
                proxy_votes = proxy_votes.saturating_add(1);
            }
        }
        DivisionResult {
            division: self.open.division,
            roster_version: self.open.roster_version,
            counts,
            proxy_votes,
            present: self.present,
            quorum: self.quorum,
            roll_call_hash: roll_call_hash(self.open.division, &self.counted),
        }
    }
}

/// SHA-256(label ‖ division ‖ entries ‖ each entry) over the roll call in member order,
/// each entry member (u32) ‖ choice (u8) ‖ 0x00, or 0x01 ‖ delegate (u32) for a proxy
/// vote (§40.9).
pub fn roll_call_hash(division: u32, counted: &BTreeMap<u32, CountedVote>) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(ROLL_CALL_LABEL);
    h.update(division.to_be_bytes());
    h.update((counted.len() as u32).to_be_bytes());
    for (member, ballot) in counted {
        h.update(member.to_be_bytes());
        h.update([ballot.choice]);
        match ballot.delegate {
            None => h.update([0u8]),
            Some(d) => {
                h.update([1u8]);
                h.update(d.to_be_bytes());
            }
        }
    }
    h.finalize().into()
}

/// A delegation granted by a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Who votes on the grantor's behalf.
    pub delegate: u32,
    /// Its duration, in seconds of the sitting clock.
    pub seconds: u32,
    /// The sitting clock when it was granted; None when granted before the clock was
    /// first set (it then starts at the first time the presiding officer declares).
    pub start: Option<u64>,
    /// Index of its `proxy.grant`.
    pub index: u64,
}

/// The state of one sitting. The roster it reads is its chamber's ([`ChamberState`]),
/// passed to every check and apply: the roster in force at that record's point in the log.
#[derive(Clone, Debug)]
pub struct SittingState {
    authority: [u8; 32],
    chamber: ContextId,
    phase: Phase,
    present: Vec<bool>,
    grants: Vec<Option<Grant>>,
    /// The sequence number of each member's last record in the sitting (0: none yet).
    sequences: Vec<u32>,
    clock: Option<u64>,
    divisions: Vec<Division>,
}

pub(crate) fn kind_of(decoded: &Decoded) -> urne_record::Kind {
    match decoded {
        Decoded::Rules(_) => kinds::CHAMBER_RULES,
        Decoded::Roster(_) => kinds::ROSTER_MEMBERS,
        Decoded::RosterChange(_) => kinds::ROSTER_CHANGE,
        Decoded::Presence(_) => kinds::PRESENCE,
        Decoded::ProxyGrant(_) => kinds::PROXY_GRANT,
        Decoded::ProxyRevoke(_) => kinds::PROXY_REVOKE,
        Decoded::DivisionOpen(_) => kinds::DIVISION_OPEN,
        Decoded::DivisionSuspend(_) => kinds::DIVISION_SUSPEND,
        Decoded::DivisionResume(_) => kinds::DIVISION_RESUME,
        Decoded::DivisionClose(_) => kinds::DIVISION_CLOSE,
        Decoded::DivisionVoid(_) => kinds::DIVISION_VOID,
        Decoded::DivisionResult(_) => kinds::DIVISION_RESULT,
        Decoded::Vote(_) => kinds::VOTE,
        Decoded::Correction(_) => kinds::VOTE_CORRECTION,
        Decoded::Credential(_) => kinds::SECRET_CREDENTIAL,
    }
}

/// The phases a sitting kind is accepted in (§40.2); none for a chamber's kind.
pub fn phases(kind: urne_record::Kind) -> &'static [Phase] {
    match kind {
        kinds::CHAMBER_RULES | kinds::ROSTER_MEMBERS | kinds::ROSTER_CHANGE => &[],
        _ => &[Phase::InSession],
    }
}

/// Whether a kind is concurrent on the board (spec/12 §12.5): its apply changes
/// nothing another record's check reads but through unique keys.
pub fn is_concurrent(kind: urne_record::Kind) -> bool {
    matches!(
        kind,
        kinds::PRESENCE | kinds::VOTE | kinds::VOTE_CORRECTION | kinds::SECRET_CREDENTIAL
    )
}

impl SittingState {
    /// A sitting opened by `authority` (its presiding officer) in the chamber `chamber`,
    /// which its `context.open` names in its parameters field (§40.2).
    pub fn new(authority: [u8; 32], chamber: ContextId) -> Self {
        Self {
            authority,
            chamber,
            phase: Phase::Setup,
            present: Vec::new(),
            grants: Vec::new(),
            sequences: Vec::new(),
            clock: None,
            divisions: Vec::new(),
        }
    }

    /// The presiding officer's key.
    pub fn authority(&self) -> &[u8; 32] {
        &self.authority
    }
    /// The chamber the sitting belongs to.
    pub fn chamber(&self) -> ContextId {
        self.chamber
    }
    /// The phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The sequence number a member's next record in the sitting must carry (§40.2).
    pub fn next_sequence(&self, member: u32) -> Option<u32> {
        self.sequences
            .get(member as usize)
            .copied()
            .unwrap_or(0)
            .checked_add(1)
    }
    /// Whether a member is present: their last presence says "arrives", and they were not
    /// revoked since (a revocation ends their presence, §40.4).
    pub fn is_present(&self, chamber: &ChamberState, member: u32) -> bool {
        chamber.in_force(member) && self.present.get(member as usize).copied().unwrap_or(false)
    }
    /// The divisions, by number − 1.
    pub fn divisions(&self) -> &[Division] {
        &self.divisions
    }
    /// A division by number.
    pub fn division(&self, number: u32) -> Option<&Division> {
        number
            .checked_sub(1)
            .and_then(|i| self.divisions.get(i as usize))
    }
    /// The sitting clock: the last time the presiding officer declared.
    pub fn clock(&self) -> Option<u64> {
        self.clock
    }
    /// The delegation a member granted, if one is in force now.
    pub fn grant_in_force(&self, chamber: &ChamberState, member: u32) -> Option<&Grant> {
        self.grant_in_force_at(chamber, member, self.clock)
    }

    /// The delegation a member granted, if one is in force when the sitting clock reads
    /// `clock` (None: before the first declared time). A revoked grantor's delegation
    /// ended with the revocation (§40.4).
    fn grant_in_force_at(
        &self,
        chamber: &ChamberState,
        member: u32,
        clock: Option<u64>,
    ) -> Option<&Grant> {
        if !chamber.in_force(member) {
            return None;
        }
        let grant = self.grants.get(member as usize)?.as_ref()?;
        match (grant.start, clock) {
            (Some(start), Some(now)) if now >= start.saturating_add(u64::from(grant.seconds)) => {
                None
            }
            _ => Some(grant),
        }
    }

    /// Members counted present now, and the quorum needed (§40.5).
    pub fn quorum_now(&self, chamber: &ChamberState) -> (u32, u32) {
        self.quorum_at(chamber, self.clock)
    }

    /// Members counted present and the quorum needed when the sitting clock reads
    /// `clock`: a division's opening moves the clock, and its quorum is counted at its
    /// own time, both when it is checked and when it is applied.
    fn quorum_at(&self, chamber: &ChamberState, clock: Option<u64>) -> (u32, u32) {
        let rules = chamber.rules();
        let proxies_count = rules.is_some_and(|r| r.proxies_count_for_quorum);
        let mut members = 0u64;
        let mut present = 0u32;
        for m in 0..chamber.members().len() as u32 {
            if !chamber.in_force(m) {
                continue;
            }
            members += 1;
            let represented = proxies_count
                && self
                    .grant_in_force_at(chamber, m, clock)
                    .is_some_and(|g| self.is_present(chamber, g.delegate));
            if self.is_present(chamber, m) || represented {
                present += 1;
            }
        }
        let required = match rules.map(|r| r.quorum) {
            Some(Quorum::Number(n)) => n,
            Some(Quorum::Fraction { num, den }) => {
                let need = (members * u64::from(num)).div_ceil(u64::from(den.max(1)));
                u32::try_from(need).unwrap_or(u32::MAX)
            }
            None => u32::MAX,
        };
        (present, required)
    }

    /// Whether the sitting may move to `to` (§40.2); `chamber` is the state of the
    /// chamber it names, None when no such chamber is open.
    pub fn check_phase(
        &self,
        chamber: Option<&ChamberState>,
        to: Phase,
    ) -> Result<(), AssemblyError> {
        let kind = "context.phase";
        if self.phase.next() != Some(to) {
            return Err(AssemblyError::invalid(
                kind,
                "body",
                format!(
                    "a sitting in {} cannot move to {} (one step forward at a time)",
                    self.phase.name(),
                    to.name()
                ),
            ));
        }
        match to {
            Phase::InSession => match chamber {
                None => Err(AssemblyError::invalid(
                    kind,
                    "body",
                    format!(
                        "the sitting's chamber {} is not open on the board",
                        self.chamber.to_hex()
                    ),
                )),
                Some(c) if c.phase() != ChamberPhase::InForce => Err(AssemblyError::invalid(
                    kind,
                    "body",
                    "the sitting cannot open before its chamber's roster is in force",
                )),
                Some(c) if c.authority() != &self.authority => Err(AssemblyError::invalid(
                    kind,
                    "body",
                    "the sitting's presiding officer is not its chamber's",
                )),
                Some(_) => Ok(()),
            },
            Phase::Closed => {
                if let Some(d) = self.divisions.iter().find(|d| d.is_running()) {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        format!(
                            "division {} is still open: close or void it first",
                            d.open.division
                        ),
                    ));
                }
                // Results are accepted only in session: closing first would leave a
                // closed division without a result for ever.
                if let Some(d) = self.divisions.iter().find(|d| d.awaits_result()) {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        format!(
                            "division {} is closed without its result: post it first",
                            d.open.division
                        ),
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Moves the sitting to `to` (after [`Self::check_phase`]).
    pub fn apply_phase(&mut self, to: Phase) {
        self.phase = to;
    }

    fn division_ref(&self, kind: &'static str, number: u32) -> Result<&Division, AssemblyError> {
        self.division(number).ok_or_else(|| {
            AssemblyError::invalid(
                kind,
                "body.division",
                format!(
                    "no division {number} (the sitting has {})",
                    self.divisions.len()
                ),
            )
        })
    }

    fn check_time(&self, kind: &'static str, time: u64) -> Result<(), AssemblyError> {
        match self.clock {
            Some(now) if time < now => Err(AssemblyError::invalid(
                kind,
                "body.time",
                format!("{time} is before the sitting clock, {now}"),
            )),
            _ => Ok(()),
        }
    }

    fn authority_only(&self, kind: &'static str, signer: &[u8; 32]) -> Result<(), AssemblyError> {
        if signer == &self.authority {
            Ok(())
        } else {
            Err(AssemblyError::NotAuthorized {
                kind,
                detail: "must be signed by the sitting's presiding officer".into(),
            })
        }
    }

    /// Checks a decoded record signed by `signer` against the state of every record
    /// before it, its chamber's included; returns the unique keys it takes (spec/40
    /// §40.10).
    pub fn check(
        &self,
        chamber: &ChamberState,
        signer: &[u8; 32],
        decoded: &Decoded,
    ) -> Result<Vec<Key>, AssemblyError> {
        let kind = kinds::label(kind_of(decoded));
        let accepted = phases(kind_of(decoded));
        if accepted.is_empty() {
            return Err(AssemblyError::WrongPhase {
                kind,
                phase: "sitting's (a chamber's record)",
            });
        }
        if !accepted.contains(&self.phase) {
            return Err(AssemblyError::WrongPhase {
                kind,
                phase: self.phase.name(),
            });
        }
        let c = chamber;
        match decoded {
            Decoded::Rules(_) | Decoded::Roster(_) | Decoded::RosterChange(_) => {
                return Err(AssemblyError::WrongPhase {
                    kind,
                    phase: "sitting's (a chamber's record)",
                });
            }
            Decoded::Presence(p) => {
                let member = c.signer_member(kind, signer)?;
                let key = self.check_sequence(kind, member, p.sequence)?;
                c.check_roster_version(kind, "body.roster_version", p.roster_version)?;
                return Ok(vec![key]);
            }
            Decoded::ProxyGrant(grant) => {
                let grantor = c.signer_member(kind, signer)?;
                let key = self.check_sequence(kind, grantor, grant.sequence)?;
                self.check_grant(c, kind, grantor, grant)?;
                return Ok(vec![key]);
            }
            Decoded::ProxyRevoke(revoke) => {
                let grantor = c.signer_member(kind, signer)?;
                let key = self.check_sequence(kind, grantor, revoke.sequence)?;
                if self.grant_in_force(c, grantor).is_none() {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        format!("member {grantor} has no delegation in force to revoke"),
                    ));
                }
                return Ok(vec![key]);
            }
            Decoded::DivisionOpen(open) => {
                self.authority_only(kind, signer)?;
                self.check_open(c, kind, open)?;
            }
            Decoded::DivisionSuspend(e) => {
                self.authority_only(kind, signer)?;
                self.check_event(kind, e, &[DivisionStatus::Open])?;
            }
            Decoded::DivisionResume(e) => {
                self.authority_only(kind, signer)?;
                self.check_event(kind, e, &[DivisionStatus::Suspended])?;
            }
            Decoded::DivisionClose(e) => {
                self.authority_only(kind, signer)?;
                self.check_event(kind, e, &[DivisionStatus::Open, DivisionStatus::Suspended])?;
                let d = self.division_ref(kind, e.division)?;
                let ends = d.open.time.saturating_add(u64::from(d.open.window));
                if e.time < ends {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.time",
                        format!(
                            "the voting window of division {} ends at {ends}, not before",
                            e.division
                        ),
                    ));
                }
            }
            Decoded::DivisionVoid(e) => {
                self.authority_only(kind, signer)?;
                self.check_event(
                    kind,
                    e,
                    &[
                        DivisionStatus::Open,
                        DivisionStatus::Suspended,
                        DivisionStatus::Closed,
                    ],
                )?;
                if self.division_ref(kind, e.division)?.result_at.is_some() {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.division",
                        format!("division {} has a published result", e.division),
                    ));
                }
            }
            Decoded::DivisionResult(result) => {
                self.authority_only(kind, signer)?;
                self.check_result(c, kind, result)?;
            }
            Decoded::Vote(vote) => return self.check_vote(c, kind, signer, vote),
            Decoded::Credential(registration) => {
                return self.check_credential(c, kind, signer, registration);
            }
            Decoded::Correction(correction) => {
                let member = c.signer_member(kind, signer)?;
                let key = self.check_sequence(kind, member, correction.sequence)?;
                self.check_correction(kind, member, correction)?;
                return Ok(vec![key]);
            }
        }
        Ok(Vec::new())
    }

    /// A member's record must carry the member's previous sequence number plus 1: the
    /// signatures are deterministic and bodies carry no time, so without it an honest
    /// repeat (arrive, leave, arrive) would repeat its bytes, and a board could replay an
    /// old signed record after a later one.
    fn check_sequence(
        &self,
        kind: &'static str,
        member: u32,
        sequence: u32,
    ) -> Result<Key, AssemblyError> {
        let last = self.sequences.get(member as usize).copied().unwrap_or(0);
        if Some(sequence) != last.checked_add(1) {
            return Err(AssemblyError::invalid(
                kind,
                "body.sequence",
                format!(
                    "member {member}'s last record in the sitting is number {last}: this one must be {}, not {sequence}",
                    u64::from(last) + 1
                ),
            ));
        }
        let mut key = member.to_be_bytes().to_vec();
        key.extend_from_slice(&sequence.to_be_bytes());
        Ok(Key {
            space: SEQUENCE_KEY,
            key,
        })
    }

    fn check_grant(
        &self,
        c: &ChamberState,
        kind: &'static str,
        grantor: u32,
        grant: &ProxyGrant,
    ) -> Result<(), AssemblyError> {
        let max = c.rules().map_or(0, |r| r.max_proxies_held);
        if max == 0 {
            return Err(AssemblyError::invalid(
                kind,
                "body",
                "the chamber's rules allow no proxies",
            ));
        }
        c.check_roster_version(kind, "body.roster_version", grant.roster_version)?;
        if grant.delegate == grantor || !c.in_force(grant.delegate) {
            return Err(AssemblyError::invalid(
                kind,
                "body.delegate",
                format!(
                    "member {} cannot be member {grantor}'s delegate (not another member in force)",
                    grant.delegate
                ),
            ));
        }
        if let Some(g) = self.grant_in_force(c, grantor) {
            return Err(AssemblyError::invalid(
                kind,
                "body",
                format!(
                    "member {grantor} already has a delegation in force (record {}): revoke it first",
                    g.index
                ),
            ));
        }
        let held = (0..self.grants.len() as u32)
            .filter(|&m| {
                self.grant_in_force(c, m)
                    .is_some_and(|g| g.delegate == grant.delegate)
            })
            .count();
        if held >= usize::from(max) {
            return Err(AssemblyError::invalid(
                kind,
                "body.delegate",
                format!(
                    "member {} already holds {held} delegation(s), the most the rules allow",
                    grant.delegate
                ),
            ));
        }
        Ok(())
    }

    fn check_open(
        &self,
        c: &ChamberState,
        kind: &'static str,
        open: &DivisionOpen,
    ) -> Result<(), AssemblyError> {
        let next = self.divisions.len() as u32 + 1;
        if open.division != next {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("the next division is number {next}"),
            ));
        }
        if let Some(d) = self.divisions.iter().find(|d| d.is_running()) {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("division {} is still open", d.open.division),
            ));
        }
        if let Some(election) = open.election
            && let Some(d) = self
                .divisions
                .iter()
                .find(|d| d.open.election == Some(election))
        {
            // One election votes one division: a second would reuse its ballots and
            // tally, or count twice what one set of credentials cast.
            return Err(AssemblyError::invalid(
                kind,
                "body.election",
                format!(
                    "division {} already names election {}: a secret division needs an election of its own",
                    d.open.division,
                    ContextId(election).to_hex()
                ),
            ));
        }
        self.check_time(kind, open.time)?;
        c.check_roster_version(kind, "body.roster_version", open.roster_version)?;
        if open.secret
            && let Some(rules) = c.rules()
        {
            // A chamber too small for its own secret-ballot rules can never draw its
            // trustees or reach its floor: refused now rather than after the vote.
            let in_force = (0..c.members().len() as u32)
                .filter(|&m| c.in_force(m))
                .count() as u64;
            let needed =
                u64::from(rules.secret.trustees).max(u64::from(rules.secret.min_registrants));
            if in_force < needed {
                return Err(AssemblyError::invalid(
                    kind,
                    "body.secret",
                    format!(
                        "{in_force} members in force; the chamber's secret ballots need {} trustees and {} registrants",
                        rules.secret.trustees, rules.secret.min_registrants
                    ),
                ));
            }
        }
        if open.reruns != 0 {
            match self.division(open.reruns) {
                Some(d) if d.status == DivisionStatus::Voided && d.rerun_by.is_none() => {
                    // A rerun votes again on what was voided, not on something else.
                    if open.text_hash != d.open.text_hash {
                        return Err(AssemblyError::invalid(
                            kind,
                            "body.text_hash",
                            format!("not the text of division {}, which it reruns", open.reruns),
                        ));
                    }
                    if open.choices != d.open.choices {
                        return Err(AssemblyError::invalid(
                            kind,
                            "body.choices",
                            format!(
                                "not the choices of division {}, which it reruns",
                                open.reruns
                            ),
                        ));
                    }
                    if open.secret != d.open.secret {
                        return Err(AssemblyError::invalid(
                            kind,
                            "body.secret",
                            format!(
                                "division {} was {}a secret ballot",
                                open.reruns,
                                if d.open.secret { "" } else { "not " }
                            ),
                        ));
                    }
                }
                _ => {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.reruns",
                        format!(
                            "division {} is not a voided division awaiting its rerun",
                            open.reruns
                        ),
                    ));
                }
            }
        }
        let (present, required) = self.quorum_at(c, Some(open.time));
        if present < required {
            return Err(AssemblyError::invalid(
                kind,
                "quorum",
                format!("quorum not met: {present} counted present, {required} required"),
            ));
        }
        Ok(())
    }

    fn check_event(
        &self,
        kind: &'static str,
        event: &DivisionEvent,
        from: &[DivisionStatus],
    ) -> Result<(), AssemblyError> {
        let d = self.division_ref(kind, event.division)?;
        if !from.contains(&d.status) {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("division {} is {:?}", event.division, d.status),
            ));
        }
        self.check_time(kind, event.time)
    }

    fn check_result(
        &self,
        c: &ChamberState,
        kind: &'static str,
        claimed: &DivisionResult,
    ) -> Result<(), AssemblyError> {
        let d = self.division_ref(kind, claimed.division)?;
        if d.status != DivisionStatus::Closed {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!(
                    "division {} is {:?}: a result comes only after close",
                    claimed.division, d.status
                ),
            ));
        }
        if let Some(at) = d.result_at {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("the result of division {} is record {at}", claimed.division),
            ));
        }
        let mut expected = d.count();
        if d.open.secret {
            // The counts are the election's: the recount compares them with its tally
            // (§40.12). Here: enough registrants for a ballot to hide among them, one
            // count per choice, and no more ballots than credentials.
            let floor = c.rules().map_or(0, |r| r.secret.min_registrants);
            if (d.registrations.len() as u64) < u64::from(floor) {
                return Err(AssemblyError::invalid(
                    kind,
                    "body.counts",
                    format!(
                        "division {} had {} registrants, fewer than the chamber's floor of {floor}: its vote does not open, so it has no result (void it and rerun)",
                        claimed.division,
                        d.registrations.len()
                    ),
                ));
            }
            if claimed.counts.len() == expected.counts.len() {
                let total: u64 = claimed.counts.iter().map(|&c| u64::from(c)).sum();
                if total > d.registrations.len() as u64 {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.counts",
                        format!(
                            "{total} votes counted from {} registered credentials",
                            d.registrations.len()
                        ),
                    ));
                }
                expected.counts.clone_from(&claimed.counts);
            }
        }
        compare_result(&expected, claimed)
            .map_err(|(field, detail)| AssemblyError::invalid(kind, field, detail))
    }

    /// A member registers a credential for a secret division's election: as a vote is
    /// cast, in the chamber, during the division's window, once per member (§40.12).
    fn check_credential(
        &self,
        c: &ChamberState,
        kind: &'static str,
        signer: &[u8; 32],
        registration: &CredentialRegistration,
    ) -> Result<Vec<Key>, AssemblyError> {
        let signer_member = c.signer_member(kind, signer)?;
        let sequence_key = self.check_sequence(kind, signer_member, registration.sequence)?;
        let division = registration.division;
        let d = self.division_ref(kind, division)?;
        if !d.open.secret {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("division {division} is not a secret ballot"),
            ));
        }
        if d.status != DivisionStatus::Open {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!(
                    "division {division} is {:?}: outside its voting window",
                    d.status
                ),
            ));
        }
        if !self.is_present(c, signer_member) {
            return Err(AssemblyError::invalid(
                kind,
                "presence",
                format!(
                    "member {signer_member} has not registered presence: register after arriving"
                ),
            ));
        }
        let member = match registration.on_behalf {
            None => signer_member,
            Some(m) => {
                if !c.rules().is_some_and(|r| r.proxies_in_secret_ballots) {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.on_behalf",
                        "the chamber's rules say proxies do not apply in secret ballots",
                    ));
                }
                let in_force = self
                    .grant_in_force(c, m)
                    .is_some_and(|g| g.delegate == signer_member);
                if m == signer_member || !in_force {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.on_behalf",
                        format!(
                            "no delegation from member {m} to member {signer_member} is in force at this point of the log"
                        ),
                    ));
                }
                m
            }
        };
        if let Some(r) = d.registrations.get(&member) {
            return Err(AssemblyError::AlreadyUsed {
                kind,
                field: CREDENTIAL_MEMBER_KEY.into(),
                detail: format!(
                    "member {member} registered a credential for division {division} already (record {})",
                    r.index
                ),
            });
        }
        if let Some((m, r)) = d
            .registrations
            .iter()
            .find(|(_, r)| r.credential == registration.credential)
        {
            return Err(AssemblyError::invalid(
                kind,
                "body.credential",
                format!(
                    "member {m} registered this credential for division {division} (record {})",
                    r.index
                ),
            ));
        }
        let mut member_key = division.to_be_bytes().to_vec();
        member_key.extend_from_slice(&member.to_be_bytes());
        let mut credential_key = division.to_be_bytes().to_vec();
        credential_key.extend_from_slice(&registration.credential);
        Ok(vec![
            Key {
                space: CREDENTIAL_MEMBER_KEY,
                key: member_key,
            },
            Key {
                space: CREDENTIAL_KEY,
                key: credential_key,
            },
            sequence_key,
        ])
    }

    fn check_vote(
        &self,
        c: &ChamberState,
        kind: &'static str,
        signer: &[u8; 32],
        vote: &Vote,
    ) -> Result<Vec<Key>, AssemblyError> {
        let voter = c.signer_member(kind, signer)?;
        let sequence_key = self.check_sequence(kind, voter, vote.sequence)?;
        let d = self.division_ref(kind, vote.division)?;
        match d.status {
            DivisionStatus::Open => {}
            DivisionStatus::Suspended => {
                return Err(AssemblyError::invalid(
                    kind,
                    "body.division",
                    format!(
                        "division {} is suspended: outside its voting window",
                        vote.division
                    ),
                ));
            }
            DivisionStatus::Closed | DivisionStatus::Voided => {
                return Err(AssemblyError::invalid(
                    kind,
                    "body.division",
                    format!(
                        "division {} is {:?}: outside its voting window",
                        vote.division, d.status
                    ),
                ));
            }
        }
        // A vote is cast in the chamber: by a member present, for themself or, as a
        // delegate, for the member they represent (spec/40 §40.8).
        if !self.is_present(c, voter) {
            return Err(AssemblyError::invalid(
                kind,
                "presence",
                format!("member {voter} has not registered presence: vote after arriving"),
            ));
        }
        if vote.text_hash != d.open.text_hash {
            return Err(AssemblyError::invalid(
                kind,
                "body.text_hash",
                format!("not the hash of division {}'s text", vote.division),
            ));
        }
        if vote.roster_version != d.open.roster_version {
            return Err(AssemblyError::invalid(
                kind,
                "body.roster_version",
                format!(
                    "division {} is voted under roster version {}",
                    vote.division, d.open.roster_version
                ),
            ));
        }
        if usize::from(vote.choice) >= d.open.choices.len() {
            return Err(AssemblyError::invalid(
                kind,
                "body.choice",
                format!("choice {} of {} offered", vote.choice, d.open.choices.len()),
            ));
        }
        if d.open.secret {
            let proxies_in_secret = c.rules().is_some_and(|r| r.proxies_in_secret_ballots);
            if vote.on_behalf.is_some() && !proxies_in_secret {
                return Err(AssemblyError::invalid(
                    kind,
                    "body.on_behalf",
                    "the rules say proxies do not apply in secret ballots",
                ));
            }
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!(
                    "division {} is a secret ballot: it is voted through its election, not on the roll call",
                    vote.division
                ),
            ));
        }
        let member = match vote.on_behalf {
            None => voter,
            Some(m) => {
                let in_force = self
                    .grant_in_force(c, m)
                    .is_some_and(|g| g.delegate == voter);
                if m == voter || !in_force {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.on_behalf",
                        format!(
                            "no delegation from member {m} to member {voter} is in force at this point of the log"
                        ),
                    ));
                }
                m
            }
        };
        let final_on_first = c
            .rules()
            .is_some_and(|r| r.vote_change == VoteChange::FinalOnFirstCast);
        if !final_on_first {
            return Ok(vec![sequence_key]);
        }
        if let Some(b) = d.counted.get(&member) {
            return Err(AssemblyError::AlreadyUsed {
                kind,
                field: VOTE_KEY.into(),
                detail: format!(
                    "member {member} already voted in division {} (record {}) and the first cast is final",
                    vote.division, b.index
                ),
            });
        }
        Ok(vec![vote_key(vote.division, member), sequence_key])
    }

    fn check_correction(
        &self,
        kind: &'static str,
        _member: u32,
        c: &Correction,
    ) -> Result<(), AssemblyError> {
        let d = self.division_ref(kind, c.division)?;
        if d.status == DivisionStatus::Voided || d.open.secret {
            return Err(AssemblyError::invalid(
                kind,
                "body.division",
                format!("division {} has no roll call to correct", c.division),
            ));
        }
        if usize::from(c.choice) >= d.open.choices.len() {
            return Err(AssemblyError::invalid(
                kind,
                "body.choice",
                format!("choice {} of {} offered", c.choice, d.open.choices.len()),
            ));
        }
        Ok(())
    }

    /// Applies a record that [`Self::check`] accepted against `chamber`, at log index
    /// `index`. On a record check refused, it fails and changes nothing.
    pub fn apply(
        &mut self,
        chamber: &ChamberState,
        signer: &[u8; 32],
        decoded: &Decoded,
        index: u64,
    ) -> Result<(), AssemblyError> {
        let kind = kinds::label(kind_of(decoded));
        let broken = || AssemblyError::invalid(kind, "body", "applied without being checked");
        self.fit(chamber.members().len());
        match decoded {
            Decoded::Rules(_) | Decoded::Roster(_) | Decoded::RosterChange(_) => {
                return Err(broken());
            }
            Decoded::Presence(p) => {
                let m = chamber.member_of(signer).ok_or_else(broken)?;
                self.present[m as usize] = p.present;
                self.sequences[m as usize] = p.sequence;
            }
            Decoded::ProxyGrant(grant) => {
                let m = chamber.member_of(signer).ok_or_else(broken)?;
                self.sequences[m as usize] = grant.sequence;
                self.grants[m as usize] = Some(Grant {
                    delegate: grant.delegate,
                    seconds: grant.seconds,
                    start: self.clock,
                    index,
                });
            }
            Decoded::ProxyRevoke(revoke) => {
                let m = chamber.member_of(signer).ok_or_else(broken)?;
                self.sequences[m as usize] = revoke.sequence;
                self.grants[m as usize] = None;
            }
            Decoded::DivisionOpen(open) => {
                self.set_clock(open.time);
                let (present, quorum) = self.quorum_now(chamber);
                if open.reruns != 0 {
                    let voided = self
                        .divisions
                        .get_mut(open.reruns as usize - 1)
                        .ok_or_else(broken)?;
                    voided.rerun_by = Some(open.division);
                }
                self.divisions.push(Division {
                    open: open.clone(),
                    opened_at: index,
                    status: DivisionStatus::Open,
                    present,
                    quorum,
                    counted: BTreeMap::new(),
                    corrections: Vec::new(),
                    result_at: None,
                    published: None,
                    registrations: BTreeMap::new(),
                    window_ended_at: None,
                    trustee_candidates: None,
                    rerun_by: None,
                    voided: None,
                });
            }
            Decoded::DivisionSuspend(e) => self.apply_event(e, DivisionStatus::Suspended)?,
            Decoded::DivisionResume(e) => self.apply_event(e, DivisionStatus::Open)?,
            Decoded::DivisionClose(e) => {
                self.apply_event(e, DivisionStatus::Closed)?;
                let d = self.division_mut(e.division).ok_or_else(broken)?;
                d.window_ended_at.get_or_insert(index);
                if d.open.secret {
                    d.trustee_candidates = Some(
                        chamber
                            .members()
                            .iter()
                            .enumerate()
                            .map(|(m, member)| (m as u32, member.key))
                            .filter(|(m, _)| chamber.in_force(*m))
                            .collect(),
                    );
                }
            }
            Decoded::DivisionVoid(e) => {
                self.apply_event(e, DivisionStatus::Voided)?;
                let d = self.division_mut(e.division).ok_or_else(broken)?;
                d.voided = Some((e.reason.clone(), index));
                d.window_ended_at.get_or_insert(index);
            }
            Decoded::DivisionResult(r) => {
                let d = self.division_mut(r.division).ok_or_else(broken)?;
                d.result_at = Some(index);
                d.published = Some(r.clone());
            }
            Decoded::Credential(registration) => {
                let signer_member = chamber.member_of(signer).ok_or_else(broken)?;
                self.sequences[signer_member as usize] = registration.sequence;
                let (member, delegate) = match registration.on_behalf {
                    Some(m) => (m, Some(signer_member)),
                    None => (signer_member, None),
                };
                let d = self
                    .division_mut(registration.division)
                    .ok_or_else(broken)?;
                d.registrations.insert(
                    member,
                    Registration {
                        credential: registration.credential,
                        delegate,
                        index,
                    },
                );
            }
            Decoded::Vote(vote) => {
                let voter = chamber.member_of(signer).ok_or_else(broken)?;
                self.sequences[voter as usize] = vote.sequence;
                let (member, delegate) = match vote.on_behalf {
                    Some(m) => (m, Some(voter)),
                    None => (voter, None),
                };
                let d = self.division_mut(vote.division).ok_or_else(broken)?;
                d.counted.insert(
                    member,
                    CountedVote {
                        choice: vote.choice,
                        delegate,
                        index,
                    },
                );
            }
            Decoded::Correction(c) => {
                let member = chamber.member_of(signer).ok_or_else(broken)?;
                self.sequences[member as usize] = c.sequence;
                let d = self.division_mut(c.division).ok_or_else(broken)?;
                d.corrections.push((member, c.choice, index));
            }
        }
        Ok(())
    }

    /// Sizes the per-member state to the chamber's roster, which only a roster posted
    /// after the sitting opened can change (it never shrinks: revoked members keep
    /// their number).
    fn fit(&mut self, members: usize) {
        if self.present.len() < members {
            self.present.resize(members, false);
            self.grants.resize(members, None);
            self.sequences.resize(members, 0);
        }
    }

    fn set_clock(&mut self, time: u64) {
        if self.clock.is_none() {
            // Delegations granted before the first declared time start with it.
            for grant in self.grants.iter_mut().flatten() {
                grant.start.get_or_insert(time);
            }
        }
        self.clock = Some(time);
    }

    fn division_mut(&mut self, number: u32) -> Option<&mut Division> {
        number
            .checked_sub(1)
            .and_then(|i| self.divisions.get_mut(i as usize))
    }

    fn apply_event(&mut self, e: &DivisionEvent, to: DivisionStatus) -> Result<(), AssemblyError> {
        self.set_clock(e.time);
        let d = self.division_mut(e.division).ok_or_else(|| {
            AssemblyError::invalid("division event", "body.division", "no such division")
        })?;
        d.status = to;
        Ok(())
    }
}

/// The unique key of a member's vote in a division: division ‖ member, both u32.
pub fn vote_key(division: u32, member: u32) -> Key {
    let mut key = division.to_be_bytes().to_vec();
    key.extend_from_slice(&member.to_be_bytes());
    Key {
        space: VOTE_KEY,
        key,
    }
}

/// The first field where a claimed result differs from the recount, with why.
fn compare_result(
    expected: &DivisionResult,
    claimed: &DivisionResult,
) -> Result<(), (String, String)> {
    let differs = |field: &str, e: String, c: String| {
        Err((
            field.to_owned(),
            format!("the result says {c}; the recount from the log gives {e}"),
        ))
    };
    if claimed.roster_version != expected.roster_version {
        return differs(
            "body.roster_version",
            expected.roster_version.to_string(),
            claimed.roster_version.to_string(),
        );
    }
    if claimed.counts.len() != expected.counts.len() {
        return differs(
            "body.choice_count",
            expected.counts.len().to_string(),
            claimed.counts.len().to_string(),
        );
    }
    for (i, (e, c)) in expected.counts.iter().zip(&claimed.counts).enumerate() {
        if e != c {
            return differs(&format!("body.counts[{i}]"), e.to_string(), c.to_string());
        }
    }
    if claimed.proxy_votes != expected.proxy_votes {
        return differs(
            "body.proxy_votes",
            expected.proxy_votes.to_string(),
            claimed.proxy_votes.to_string(),
        );
    }
    if claimed.present != expected.present {
        return differs(
            "body.present",
            expected.present.to_string(),
            claimed.present.to_string(),
        );
    }
    if claimed.quorum != expected.quorum {
        return differs(
            "body.quorum",
            expected.quorum.to_string(),
            claimed.quorum.to_string(),
        );
    }
    if claimed.roll_call_hash != expected.roll_call_hash {
        return Err((
            "body.roll_call_hash".into(),
            "not the hash of the roll call recounted from the log".into(),
        ));
    }
    Ok(())
}
