//! What ties a chamber's sittings together (spec/40 §40.4, "Across sittings"): the clerk
//! the first sitting names, the highest roster version, and every key ever retired. The
//! board's adapter and `recount_sittings` both keep one, fed in log order, so a sitting
//! cannot name another clerk, go back to an older roster, or give a revoked key back.

use std::collections::HashSet;

use crate::body::{Decoded, RosterOp};
use crate::error::AssemblyError;
use crate::kinds;
use crate::state::SittingState;

/// The chamber's state across its sittings.
#[derive(Clone, Debug, Default)]
pub struct Chamber {
    clerk: Option<[u8; 32]>,
    roster_version: u32,
    retired: HashSet<[u8; 32]>,
}

impl Chamber {
    /// A chamber with no sitting yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The clerk the first sitting named.
    pub fn clerk(&self) -> Option<&[u8; 32]> {
        self.clerk.as_ref()
    }

    /// The highest roster version of any sitting so far.
    pub fn roster_version(&self) -> u32 {
        self.roster_version
    }

    /// Checks a record of a sitting against the sittings before it, after the sitting's
    /// own checks passed.
    pub fn check(&self, decoded: &Decoded) -> Result<(), AssemblyError> {
        match decoded {
            Decoded::Rules(rules) => match &self.clerk {
                Some(clerk) if clerk != &rules.clerk => Err(AssemblyError::invalid(
                    kinds::label(kinds::SITTING_RULES),
                    "body.clerk",
                    "not the chamber's clerk, whom its first sitting named",
                )),
                _ => Ok(()),
            },
            Decoded::Roster(roster) => {
                let kind = "roster.members";
                if roster.version < self.roster_version {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.version_number",
                        format!(
                            "version {} is older than the chamber's roster version {}",
                            roster.version, self.roster_version
                        ),
                    ));
                }
                if let Some(m) = roster
                    .members
                    .iter()
                    .position(|m| self.retired.contains(&m.key))
                {
                    return Err(AssemblyError::invalid(
                        kind,
                        format!("body.members[{m}].key"),
                        "this key was rotated out or revoked in an earlier sitting",
                    ));
                }
                Ok(())
            }
            Decoded::RosterChange(change) => {
                let kind = "roster.change";
                if change.version <= self.roster_version {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.version_number",
                        format!(
                            "the chamber's roster is at version {} already: this sitting's roster is not the latest",
                            self.roster_version
                        ),
                    ));
                }
                if let RosterOp::Rotate(key) = change.op
                    && self.retired.contains(&key)
                {
                    return Err(AssemblyError::invalid(
                        kind,
                        "body.key",
                        "this key was rotated out or revoked in an earlier sitting",
                    ));
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Applies a record [`Self::check`] accepted; `before` is its sitting's state before
    /// the record is applied (it names the key a change retires).
    pub fn apply(&mut self, decoded: &Decoded, before: &SittingState) {
        match decoded {
            Decoded::Rules(rules) => {
                self.clerk.get_or_insert(rules.clerk);
            }
            Decoded::Roster(roster) => {
                self.roster_version = self.roster_version.max(roster.version);
            }
            Decoded::RosterChange(change) => {
                self.roster_version = self.roster_version.max(change.version);
                if let Some(m) = before.members().get(change.member as usize) {
                    self.retired.insert(m.key);
                }
            }
            _ => {}
        }
    }
}
