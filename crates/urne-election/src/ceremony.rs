//! The key ceremony inside the election's `ceremony` phase (spec/20 §20.1, §20.9;
//! spec/23 §23.4): which round is open, who may post what, and how a round closes.
//!
//! A round advances by itself when every trustee expected in it has posted; otherwise
//! the authority closes it with `ceremony.close-round`, and the trustees who did not
//! post are judged by spec/20 §20.6 (a dealer who skipped a round is disqualified). So
//! an absent trustee never blocks the election, and the round is a function of the log.

use std::collections::BTreeMap;

use urne_ceremony::{
    CeremonyContext, CeremonyFault, CeremonyOpen, CeremonyOutcome, CeremonyTranscript,
    CommitmentHash, Commitments, Complaint, ComplaintAnswer, EncryptedShares, TrusteeRegistration,
    verify_ceremony,
};

/// Rounds of the ceremony (spec/20 §20.1); [`round::DONE`] once it has an outcome.
pub mod round {
    /// Waiting for `ceremony.open`.
    pub const OPEN: u8 = 0;
    /// `ceremony.register`.
    pub const REGISTER: u8 = 1;
    /// `ceremony.commitment-hash`.
    pub const COMMIT: u8 = 2;
    /// `ceremony.commitments`.
    pub const REVEAL: u8 = 3;
    /// `ceremony.shares`.
    pub const DEAL: u8 = 4;
    /// `ceremony.complaint`.
    pub const COMPLAIN: u8 = 5;
    /// `ceremony.answer`.
    pub const ANSWER: u8 = 6;
    /// Finished: the outcome is computed.
    pub const DONE: u8 = 7;
}

/// The ceremony's records so far and its round.
#[derive(Clone, Debug, Default)]
pub struct Ceremony {
    pub(crate) round: u8,
    pub(crate) open: Option<CeremonyOpen>,
    pub(crate) context: Option<CeremonyContext>,
    pub(crate) registrations: BTreeMap<u16, TrusteeRegistration>,
    pub(crate) hashes: BTreeMap<u16, CommitmentHash>,
    pub(crate) commitments: BTreeMap<u16, Commitments>,
    pub(crate) shares: BTreeMap<u16, EncryptedShares>,
    /// By (dealer, complainer).
    pub(crate) complaints: BTreeMap<(u16, u16), Complaint>,
    /// By (dealer, recipient).
    pub(crate) answers: BTreeMap<(u16, u16), ComplaintAnswer>,
    pub(crate) outcome: Option<Result<CeremonyOutcome, CeremonyFault>>,
}

impl Ceremony {
    /// The current round (a [`round`] constant).
    pub fn round(&self) -> u8 {
        self.round
    }

    /// The `ceremony.open` on the board.
    pub fn open(&self) -> Option<&CeremonyOpen> {
        self.open.as_ref()
    }

    /// The ceremony context, once every trustee registered.
    pub fn context(&self) -> Option<&CeremonyContext> {
        self.context.as_ref()
    }

    /// The outcome (spec/20 §20.6), once the ceremony finished: a fault if it could not
    /// make a key.
    pub fn outcome(&self) -> Option<&Result<CeremonyOutcome, CeremonyFault>> {
        self.outcome.as_ref()
    }

    /// The identity key of trustee `j`.
    pub fn identity(&self, j: u16) -> Option<&[u8; 32]> {
        self.open
            .as_ref()
            .and_then(|o| o.identities.get(usize::from(j).wrapping_sub(1)))
    }

    pub(crate) fn trustee_count(&self) -> u16 {
        self.open.as_ref().map_or(0, CeremonyOpen::trustee_count)
    }

    /// Dealers still in the running for the current dealer round: those who posted in
    /// every earlier dealer round.
    pub(crate) fn is_active_dealer(&self, dealer: u16) -> bool {
        match self.round {
            round::COMMIT => true,
            round::REVEAL => self.hashes.contains_key(&dealer),
            round::DEAL => {
                self.hashes.contains_key(&dealer) && self.commitments.contains_key(&dealer)
            }
            _ => false,
        }
    }

    fn active_dealers(&self) -> usize {
        (1..=self.trustee_count())
            .filter(|&d| self.is_active_dealer(d))
            .count()
    }

    fn posted_this_round(&self) -> usize {
        match self.round {
            round::COMMIT => self.hashes.len(),
            round::REVEAL => self.commitments.len(),
            round::DEAL => self.shares.len(),
            _ => 0,
        }
    }

    /// Moves on when every trustee expected in the round has posted.
    pub(crate) fn advance_if_complete(&mut self, ceremony_id: [u8; 32]) {
        let n = usize::from(self.trustee_count());
        match self.round {
            round::REGISTER if self.registrations.len() == n => {
                if let Some(open) = &self.open {
                    let registrations: Vec<_> = self.registrations.values().cloned().collect();
                    // Every index 1..=n registered once (checked on arrival), so this
                    // cannot fail; if it did, the round stays open rather than guess.
                    if let Ok(context) =
                        CeremonyContext::new(ceremony_id, open.clone(), &registrations)
                    {
                        self.context = Some(context);
                        self.round = round::COMMIT;
                    }
                }
            }
            round::COMMIT | round::REVEAL | round::DEAL
                if self.posted_this_round() >= self.active_dealers() =>
            {
                self.round += 1;
            }
            round::ANSWER if self.answers.len() == self.complaints.len() => {
                self.finish(ceremony_id);
            }
            _ => {}
        }
    }

    /// Closes the current round by the authority's word.
    pub(crate) fn close(&mut self, ceremony_id: [u8; 32]) {
        match self.round {
            round::COMMIT | round::REVEAL | round::DEAL => self.round += 1,
            round::COMPLAIN if self.complaints.is_empty() => self.finish(ceremony_id),
            round::COMPLAIN => self.round = round::ANSWER,
            round::ANSWER => self.finish(ceremony_id),
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
        self.round = round::DONE;
    }
}
