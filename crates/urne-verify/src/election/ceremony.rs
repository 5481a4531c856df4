//! The key ceremony's rounds on the board, from spec/23 §23.4 and spec/20 §20.1: which
//! round is open, who may post in it, when it closes. The outcome is urne-ceremony's
//! `verify_ceremony` (spec/20 §20.6) over the records this fold kept.

use std::collections::BTreeMap;

use urne_ceremony::{
    CeremonyContext, CeremonyFault, CeremonyOpen, CeremonyOutcome, CeremonyTranscript,
    CommitmentHash, Commitments, Complaint, ComplaintAnswer, EncryptedShares, TrusteeRegistration,
    verify_ceremony,
};

// Round 0 waits for `ceremony.open` (the fold's default).
/// `ceremony.register`.
pub(crate) const REGISTER: u8 = 1;
/// `ceremony.commitment-hash`.
pub(crate) const COMMIT: u8 = 2;
/// `ceremony.commitments`.
pub(crate) const REVEAL: u8 = 3;
/// `ceremony.shares`.
pub(crate) const DEAL: u8 = 4;
/// `ceremony.complaint`.
pub(crate) const COMPLAIN: u8 = 5;
/// `ceremony.answer`.
pub(crate) const ANSWER: u8 = 6;
/// Finished, with an outcome.
pub(crate) const DONE: u8 = 7;

/// The ceremony's records kept so far, and its round.
#[derive(Debug, Default)]
pub(crate) struct CeremonyFold {
    pub round: u8,
    pub open: Option<CeremonyOpen>,
    pub registrations: BTreeMap<u16, TrusteeRegistration>,
    pub hashes: BTreeMap<u16, CommitmentHash>,
    pub commitments: BTreeMap<u16, Commitments>,
    pub shares: BTreeMap<u16, EncryptedShares>,
    /// By (dealer, complainer).
    pub complaints: BTreeMap<(u16, u16), Complaint>,
    /// By (dealer, recipient).
    pub answers: BTreeMap<(u16, u16), ComplaintAnswer>,
    pub outcome: Option<Result<CeremonyOutcome, CeremonyFault>>,
}

impl CeremonyFold {
    /// Trustee `j`'s identity key, from the roster that stands.
    pub fn identity(&self, j: u16) -> Option<&[u8; 32]> {
        self.open
            .as_ref()
            .and_then(|o| o.identities.get(usize::from(j).wrapping_sub(1)))
    }

    fn trustees(&self) -> u16 {
        self.open.as_ref().map_or(0, CeremonyOpen::trustee_count)
    }

    /// A dealer still in the running in the current dealer round: it posted in each
    /// earlier dealer round (spec/23 §23.4).
    pub fn in_the_running(&self, dealer: u16) -> bool {
        match self.round {
            COMMIT => true,
            REVEAL => self.hashes.contains_key(&dealer),
            DEAL => self.hashes.contains_key(&dealer) && self.commitments.contains_key(&dealer),
            _ => false,
        }
    }

    /// A new roster: registrations under the old one do not carry over.
    pub fn reopen(&mut self, open: CeremonyOpen) {
        self.registrations.clear();
        self.open = Some(open);
        self.round = REGISTER;
    }

    /// After a record was kept: the round ends when everyone expected in it posted.
    pub fn advance(&mut self, ceremony_id: [u8; 32]) {
        let n = self.trustees();
        match self.round {
            REGISTER if self.registrations.len() == usize::from(n) => {
                // The ceremony context hash is fixed here (spec/20 §20.4); a roster
                // whose registrations do not make one leaves the round open.
                if let Some(open) = &self.open {
                    let registrations: Vec<_> = self.registrations.values().cloned().collect();
                    if CeremonyContext::new(ceremony_id, open.clone(), &registrations).is_ok() {
                        self.round = COMMIT;
                    }
                }
            }
            COMMIT | REVEAL | DEAL => {
                let posted = match self.round {
                    COMMIT => self.hashes.len(),
                    REVEAL => self.commitments.len(),
                    _ => self.shares.len(),
                };
                let running = (1..=n).filter(|&d| self.in_the_running(d)).count();
                if posted >= running {
                    self.round += 1;
                }
            }
            ANSWER if self.answers.len() == self.complaints.len() => self.finish(ceremony_id),
            _ => {}
        }
    }

    /// `ceremony.close-round` of the current round (2 to 6).
    pub fn close(&mut self, ceremony_id: [u8; 32]) {
        match self.round {
            COMMIT | REVEAL | DEAL => self.round += 1,
            COMPLAIN if self.complaints.is_empty() => self.finish(ceremony_id),
            COMPLAIN => self.round = ANSWER,
            ANSWER => self.finish(ceremony_id),
            _ => {}
        }
    }

    fn finish(&mut self, ceremony_id: [u8; 32]) {
        let Some(open) = self.open.clone() else {
            return;
        };
        let transcript = CeremonyTranscript {
            ceremony_id,
            open,
            registrations: self.registrations.values().cloned().collect(),
            commitment_hashes: self.hashes.values().cloned().collect(),
            commitments: self.commitments.values().cloned().collect(),
            shares: self.shares.values().cloned().collect(),
            complaints: self.complaints.values().cloned().collect(),
            answers: self.answers.values().cloned().collect(),
        };
        self.outcome = Some(verify_ceremony(&transcript));
        self.round = DONE;
    }
}
