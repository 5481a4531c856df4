//! The chamber (spec/40 §40.4): a context of type 4 that pins the clerk's key and the
//! standing rules, and holds the one roster of its members — every version, rotation and
//! revocation. Its records are barriers of one context, so its roster versions follow one
//! another in log order: two rosters under one version cannot be posted. Sittings name
//! their chamber and read the roster in force from it at each record's point in the log.

use std::collections::HashMap;

use crate::body::{Decoded, Roster, RosterChange, RosterOp, Rules, parameters_hash};
use crate::error::AssemblyError;
use crate::kinds;
use crate::state::MemberState;

/// A chamber's phase (spec/12 §12.3, type 4); its code is its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChamberPhase {
    /// The presiding officer posts the standing rules, the clerk the roster.
    Setup = 0,
    /// The roster is in force: its sittings may start; the clerk rotates and revokes keys.
    InForce = 1,
}

impl ChamberPhase {
    /// The phase of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Setup),
            1 => Some(Self::InForce),
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
            Self::InForce => "in-force",
        }
    }
}

/// The phases a chamber kind is accepted in (§40.2).
pub fn chamber_phases(kind: urne_record::Kind) -> &'static [ChamberPhase] {
    match kind {
        kinds::CHAMBER_RULES | kinds::ROSTER_MEMBERS => &[ChamberPhase::Setup],
        kinds::ROSTER_CHANGE => &[ChamberPhase::InForce],
        _ => &[],
    }
}

/// The state of one chamber: its rules and its roster in force.
#[derive(Clone, Debug)]
pub struct ChamberState {
    authority: [u8; 32],
    parameters: [u8; 32],
    phase: ChamberPhase,
    rules: Option<Rules>,
    roster_version: u32,
    groups: Vec<String>,
    members: Vec<MemberState>,
    by_key: HashMap<[u8; 32], u32>,
    /// Keys that were rotated out or revoked: (member, roster version that ended them).
    retired: HashMap<[u8; 32], (u32, u32)>,
}

impl ChamberState {
    /// A chamber opened by `authority` (its presiding officer) with the parameters hash
    /// of its `context.open`: that of its `chamber.rules` body (§40.3).
    pub fn new(authority: [u8; 32], parameters: [u8; 32]) -> Self {
        Self {
            authority,
            parameters,
            phase: ChamberPhase::Setup,
            rules: None,
            roster_version: 0,
            groups: Vec::new(),
            members: Vec::new(),
            by_key: HashMap::new(),
            retired: HashMap::new(),
        }
    }

    /// The presiding officer's key: it opens the chamber and presides over its sittings.
    pub fn authority(&self) -> &[u8; 32] {
        &self.authority
    }
    /// The phase.
    pub fn phase(&self) -> ChamberPhase {
        self.phase
    }
    /// The standing rules, once posted.
    pub fn rules(&self) -> Option<&Rules> {
        self.rules.as_ref()
    }
    /// The roster version in force (0 before the roster).
    pub fn roster_version(&self) -> u32 {
        self.roster_version
    }
    /// The group names.
    pub fn groups(&self) -> &[String] {
        &self.groups
    }
    /// The members, by number.
    pub fn members(&self) -> &[MemberState] {
        &self.members
    }
    /// The member holding `key` now.
    pub fn member_of(&self, key: &[u8; 32]) -> Option<u32> {
        self.by_key.get(key).copied()
    }
    /// Whether `key` is or was a member's key in the chamber.
    pub fn held_by_member(&self, key: &[u8; 32]) -> bool {
        self.by_key.contains_key(key) || self.retired.contains_key(key)
    }
    /// Whether `member` is on the roster in force (a member, not revoked).
    pub fn in_force(&self, member: u32) -> bool {
        self.members
            .get(member as usize)
            .is_some_and(|m| m.revoked_in.is_none())
    }

    /// The member whose key in force is `signer`, or why the signer is not one.
    pub fn signer_member(
        &self,
        kind: &'static str,
        signer: &[u8; 32],
    ) -> Result<u32, AssemblyError> {
        if let Some(m) = self.member_of(signer) {
            return Ok(m);
        }
        let detail = match self.retired.get(signer) {
            Some((m, v)) => {
                format!("the key of member {m} was rotated out or revoked in roster version {v}")
            }
            None => format!(
                "the signer is not a member in roster version {}",
                self.roster_version
            ),
        };
        Err(AssemblyError::NotAuthorized { kind, detail })
    }

    /// Checks a roster version a record states against the one in force.
    pub fn check_roster_version(
        &self,
        kind: &'static str,
        field: &str,
        version: u32,
    ) -> Result<(), AssemblyError> {
        if version == self.roster_version {
            Ok(())
        } else {
            Err(AssemblyError::invalid(
                kind,
                field,
                format!(
                    "roster version {version} is not the one in force, {}",
                    self.roster_version
                ),
            ))
        }
    }

    /// Whether the chamber may move to `to`: setup → in-force once its rules and roster
    /// are on the board; in-force is final.
    pub fn check_phase(&self, to: ChamberPhase) -> Result<(), AssemblyError> {
        let kind = "context.phase";
        if self.phase != ChamberPhase::Setup || to != ChamberPhase::InForce {
            return Err(AssemblyError::invalid(
                kind,
                "body",
                format!(
                    "a chamber in {} cannot move to {}",
                    self.phase.name(),
                    to.name()
                ),
            ));
        }
        if self.rules.is_none() || self.members.is_empty() {
            return Err(AssemblyError::invalid(
                kind,
                "body",
                "the roster cannot be in force before the rules and roster are on the board",
            ));
        }
        Ok(())
    }

    /// Moves the chamber to `to` (after [`Self::check_phase`]).
    pub fn apply_phase(&mut self, to: ChamberPhase) {
        self.phase = to;
    }

    /// Checks a chamber record signed by `signer` against every earlier record of the
    /// chamber (§40.3, §40.4).
    pub fn check(&self, signer: &[u8; 32], decoded: &Decoded) -> Result<(), AssemblyError> {
        let kind = kinds::label(crate::state::kind_of(decoded));
        let accepted = chamber_phases(crate::state::kind_of(decoded));
        if accepted.is_empty() {
            return Err(AssemblyError::WrongPhase {
                kind,
                phase: "chamber's (a sitting's record)",
            });
        }
        if !accepted.contains(&self.phase) {
            return Err(AssemblyError::WrongPhase {
                kind,
                phase: self.phase.name(),
            });
        }
        match decoded {
            Decoded::Rules(rules) => {
                if signer != &self.authority {
                    return Err(AssemblyError::NotAuthorized {
                        kind,
                        detail: "must be signed by the chamber's presiding officer".into(),
                    });
                }
                if self.rules.is_some() {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        "the chamber's rules are already posted",
                    ));
                }
                // The decoder is strict, so the re-encoded body is the record's body.
                if parameters_hash(&rules.to_body()) != self.parameters {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        "these rules do not hash to the parameters of the chamber's context.open",
                    ));
                }
                Ok(())
            }
            Decoded::Roster(roster) => {
                self.clerk_only(kind, signer)?;
                if !self.members.is_empty() {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body",
                        "the chamber's roster is already posted: later versions are roster.change records",
                    ));
                }
                if roster.version == 0 {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.version_number",
                        "version 0 means no roster",
                    ));
                }
                Ok(())
            }
            Decoded::RosterChange(change) => {
                self.clerk_only(kind, signer)?;
                self.check_roster_change(kind, change)
            }
            _ => Err(AssemblyError::WrongPhase {
                kind,
                phase: "chamber's (a sitting's record)",
            }),
        }
    }

    fn clerk_only(&self, kind: &'static str, signer: &[u8; 32]) -> Result<(), AssemblyError> {
        match &self.rules {
            Some(rules) if &rules.clerk == signer => Ok(()),
            Some(_) => Err(AssemblyError::NotAuthorized {
                kind,
                detail: "must be signed by the clerk the chamber's rules name".into(),
            }),
            None => Err(AssemblyError::invalid(
                kind,
                "body",
                "the roster comes after chamber.rules, which names the clerk",
            )),
        }
    }

    fn check_roster_change(
        &self,
        kind: &'static str,
        change: &RosterChange,
    ) -> Result<(), AssemblyError> {
        if Some(change.version) != self.roster_version.checked_add(1) {
            return Err(AssemblyError::invalid(
                kind,
                "body.version_number",
                format!(
                    "version {} does not follow version {}, the one in force",
                    change.version, self.roster_version
                ),
            ));
        }
        if !self.in_force(change.member) {
            return Err(AssemblyError::invalid(
                kind,
                "body.member",
                format!("member {} is not on the roster in force", change.member),
            ));
        }
        if let RosterOp::Rotate(key) = change.op
            && (self.by_key.contains_key(&key) || self.retired.contains_key(&key))
        {
            return Err(AssemblyError::invalid(
                kind,
                "body.key",
                "this key is or was held by a member",
            ));
        }
        Ok(())
    }

    /// Applies a record [`Self::check`] accepted. On a record it refused, it fails and
    /// changes nothing.
    pub fn apply(&mut self, decoded: &Decoded) -> Result<(), AssemblyError> {
        let kind = kinds::label(crate::state::kind_of(decoded));
        let broken = || AssemblyError::invalid(kind, "body", "applied without being checked");
        match decoded {
            Decoded::Rules(rules) => self.rules = Some(rules.clone()),
            Decoded::Roster(roster) => self.apply_roster(roster),
            Decoded::RosterChange(change) => {
                let m = change.member as usize;
                let old = self.members.get(m).ok_or_else(broken)?.key;
                self.by_key.remove(&old);
                self.retired.insert(old, (change.member, change.version));
                match change.op {
                    RosterOp::Rotate(key) => {
                        self.by_key.insert(key, change.member);
                        self.members[m].key = key;
                    }
                    RosterOp::Revoke => self.members[m].revoked_in = Some(change.version),
                }
                self.roster_version = change.version;
            }
            _ => return Err(broken()),
        }
        Ok(())
    }

    fn apply_roster(&mut self, roster: &Roster) {
        self.roster_version = roster.version;
        self.groups = roster.groups.clone();
        self.members = roster
            .members
            .iter()
            .map(|m| MemberState {
                key: m.key,
                group: m.group,
                name: m.name.clone(),
                revoked_in: None,
            })
            .collect();
        self.by_key = roster
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| (m.key, i as u32))
            .collect();
    }
}
