//! The demo's trustees: a t-of-n key ceremony run with urne-ceremony's typestates, every
//! round's records posted to the board before the next round reads them, and the
//! decryption shares of the trustees who turn up for the tally.

use ed25519_dalek::SigningKey;
use urne_ceremony::{
    CeremonyContext, CeremonyOpen, CeremonyOutcome, Complaint, ComplaintAnswer, DecryptionShares,
    QualifiedTrustee, TrusteeKey, TrusteeSetup,
};
use urne_crypto::{Ciphertext, ContextHash};

use super::DemoError;

/// A round of the ceremony (spec/20 §20.1), in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Round {
    /// `ceremony.register`.
    Register,
    /// `ceremony.commitment-hash`.
    CommitmentHash,
    /// `ceremony.commitments`.
    Commitments,
    /// `ceremony.shares`.
    Shares,
    /// `ceremony.complaint`.
    Complaint,
    /// `ceremony.answer`.
    Answer,
}

/// Where the ceremony's records go: the board, through its real acceptance path.
pub trait CeremonyBoard {
    /// Called once before each round's records (a board whose election tracks rounds
    /// may need the authority to move it on).
    fn begin_round(&mut self, round: Round) -> Result<(), DemoError>;
    /// Posts one record body of `round`, signed by the trustee's identity key.
    fn post(&mut self, round: Round, trustee: &SigningKey, body: Vec<u8>) -> Result<(), DemoError>;
}

/// The trustees of the demo: their identity keys, in trustee order (trustee j is
/// `identities[j - 1]`).
pub struct Trustees {
    identities: Vec<SigningKey>,
    threshold: u16,
}

fn ceremony_error(what: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Ceremony(format!("{what}: {e}"))
}

impl Trustees {
    /// n trustees with fresh identity keys and threshold t.
    pub fn new(n: u16, threshold: u16) -> Self {
        let mut rng = rand::rng();
        let identities = (0..n)
            .map(|_| {
                let mut seed = zeroize::Zeroizing::new([0u8; 32]);
                rand::Rng::fill_bytes(&mut rng, seed.as_mut());
                SigningKey::from_bytes(&seed)
            })
            .collect();
        Self {
            identities,
            threshold,
        }
    }

    /// Trustees whose identity keys are given (the assembly's secret ballot draws them
    /// from the chamber's members, spec/40 §40.12), with threshold t.
    pub fn with_identities(identities: Vec<SigningKey>, threshold: u16) -> Self {
        Self {
            identities,
            threshold,
        }
    }

    /// The `ceremony.open` the authority posts.
    pub fn open(&self) -> Result<CeremonyOpen, DemoError> {
        let identities = self
            .identities
            .iter()
            .map(|k| k.verifying_key().to_bytes())
            .collect();
        CeremonyOpen::new(self.threshold, identities)
            .map_err(|e| ceremony_error("ceremony.open", e))
    }

    /// Trustee j's identity key.
    pub fn identity(&self, trustee: u16) -> Option<&SigningKey> {
        self.identities.get(usize::from(trustee).wrapping_sub(1))
    }

    fn identity_of(&self, trustee: u16) -> Result<&SigningKey, DemoError> {
        self.identity(trustee)
            .ok_or_else(|| DemoError::Ceremony(format!("no trustee {trustee}")))
    }

    /// Runs every round, each trustee's records posted before any trustee reads them;
    /// returns each trustee's key (its share, kept secret by that trustee alone) and the
    /// outcome they agree on.
    pub fn run_ceremony(
        &self,
        ceremony_id: [u8; 32],
        board: &mut dyn CeremonyBoard,
    ) -> Result<(Vec<TrusteeKey>, CeremonyOutcome), DemoError> {
        let mut rng = rand::rng();
        let open = self.open()?;
        let indices: Vec<u16> = (1..=open.trustee_count()).collect();

        board.begin_round(Round::Register)?;
        let mut setups = Vec::new();
        let mut registrations = Vec::new();
        for &j in &indices {
            let (setup, registration) = TrusteeSetup::new(j, &mut rng);
            board.post(Round::Register, self.identity_of(j)?, registration.encode())?;
            setups.push(setup);
            registrations.push(registration);
        }
        let context = CeremonyContext::new(ceremony_id, open, &registrations)
            .map_err(|e| ceremony_error("ceremony context", e))?;

        board.begin_round(Round::CommitmentHash)?;
        let mut awaiting = Vec::new();
        let mut hashes = Vec::new();
        for setup in setups {
            let (state, hash) = setup
                .begin(context.clone(), &mut rng)
                .map_err(|e| ceremony_error("commitment round", e))?;
            board.post(
                Round::CommitmentHash,
                self.identity_of(hash.poster())?,
                hash.encode(),
            )?;
            awaiting.push(state);
            hashes.push(hash);
        }

        board.begin_round(Round::Commitments)?;
        let mut revealed = Vec::new();
        let mut commitments = Vec::new();
        for state in awaiting {
            let (state, reveal) = state.reveal(hashes.clone());
            board.post(
                Round::Commitments,
                self.identity_of(reveal.poster())?,
                reveal.encode(),
            )?;
            revealed.push(state);
            commitments.push(reveal);
        }

        board.begin_round(Round::Shares)?;
        let mut dealt = Vec::new();
        let mut shares = Vec::new();
        for state in revealed {
            let (state, sealed) = state
                .deal(commitments.clone(), &mut rng)
                .map_err(|e| ceremony_error("dealing shares", e))?;
            board.post(
                Round::Shares,
                self.identity_of(sealed.poster())?,
                sealed.encode(),
            )?;
            dealt.push(state);
            shares.push(sealed);
        }

        board.begin_round(Round::Complaint)?;
        let mut received = Vec::new();
        let mut complaints: Vec<Complaint> = Vec::new();
        for state in dealt {
            let (state, made) = state.receive(shares.clone());
            for complaint in &made {
                board.post(
                    Round::Complaint,
                    self.identity_of(complaint.poster())?,
                    complaint.encode(),
                )?;
            }
            received.push(state);
            complaints.extend(made);
        }

        board.begin_round(Round::Answer)?;
        let mut answered = Vec::new();
        let mut answers: Vec<ComplaintAnswer> = Vec::new();
        for state in received {
            let (state, made) = state.answer(complaints.clone());
            for answer in &made {
                board.post(
                    Round::Answer,
                    self.identity_of(answer.poster())?,
                    answer.encode(),
                )?;
            }
            answered.push(state);
            answers.extend(made);
        }

        let qualified = answered
            .into_iter()
            .map(|s| s.finish(answers.clone()))
            .collect::<Result<Vec<QualifiedTrustee>, _>>()
            .map_err(|e| ceremony_error("finishing the ceremony", e))?;
        let outcome = qualified
            .first()
            .map(|q| q.outcome().clone())
            .ok_or_else(|| DemoError::Ceremony("no trustee finished the ceremony".into()))?;
        if let Some(q) = qualified.iter().find(|q| q.outcome() != &outcome) {
            return Err(DemoError::Ceremony(format!(
                "trustee {} reached another outcome than trustee 1",
                q.key().trustee()
            )));
        }
        Ok((
            qualified
                .into_iter()
                .map(QualifiedTrustee::into_key)
                .collect(),
            outcome,
        ))
    }
}

/// Trustee `key`'s decryption shares of the tally's ciphertexts, bound to the election.
pub fn decryption_shares(
    key: &TrusteeKey,
    election: &ContextHash,
    ciphertexts: &[Ciphertext],
) -> Result<DecryptionShares, DemoError> {
    key.decryption_shares(election, ciphertexts, &mut rand::rng())
        .map_err(|e| DemoError::Tally(format!("trustee {}: decryption shares: {e}", key.trustee())))
}
