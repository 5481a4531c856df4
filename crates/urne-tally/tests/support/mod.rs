//! A whole honest ceremony, shared by the tests and the benchmarks.
#![allow(clippy::unwrap_used, dead_code)]

use urne_ballot::{Ballot, Election};
use urne_ceremony::DecryptionShares;
use urne_ceremony::{
    CeremonyContext, CeremonyOpen, CeremonyOutcome, CeremonyTranscript, TrusteeKey, TrusteeSetup,
    verify_ceremony,
};
use urne_credential::CredentialList;
use urne_crypto::rand_core::Rng;
use urne_tally::{
    EncryptedTally, TallyError, TallyResult, aggregate, decrypt_tally, verify_result,
};

/// An honest t-of-n ceremony: its public outcome and each trustee's key.
pub fn ceremony(t: u16, n: u16) -> (CeremonyOutcome, Vec<TrusteeKey>) {
    let mut rng = rand::rng();
    let identities: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            id
        })
        .collect();
    let open = CeremonyOpen::new(t, identities).unwrap();
    let mut ceremony_id = [0u8; 32];
    rng.fill_bytes(&mut ceremony_id);
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=n).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    let context = CeremonyContext::new(ceremony_id, open.clone(), &registrations).unwrap();
    let (states, hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).unwrap())
        .unzip();
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    let (states, shares): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).unwrap())
        .unzip();
    let (states, complaints): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.receive(shares.clone()))
        .unzip();
    let complaints: Vec<_> = complaints.into_iter().flatten().collect();
    let (states, answers): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.answer(complaints.clone()))
        .unzip();
    let answers: Vec<_> = answers.into_iter().flatten().collect();
    let keys: Vec<TrusteeKey> = states
        .into_iter()
        .map(|s| s.finish(answers.clone()).unwrap().into_key())
        .collect();
    let outcome = verify_ceremony(&CeremonyTranscript {
        ceremony_id,
        open,
        registrations,
        commitment_hashes: hashes,
        commitments,
        shares,
        complaints,
        answers,
    })
    .unwrap();
    (outcome, keys)
}

/// An election with its ceremony, credential list and accepted ballots (log order).
pub struct Fixture {
    pub outcome: CeremonyOutcome,
    pub keys: Vec<TrusteeKey>,
    pub election: Election,
    pub credentials: CredentialList,
    pub ballots: Vec<Ballot>,
}

impl Fixture {
    /// The decryption shares of `trustees` (numbered from 1) for `tally`.
    pub fn shares(&self, trustees: &[u16], tally: &EncryptedTally) -> Vec<DecryptionShares> {
        trustees
            .iter()
            .map(|&j| {
                self.keys[usize::from(j) - 1]
                    .decryption_shares(
                        self.election.context(),
                        &tally.ciphertexts(),
                        &mut rand::rng(),
                    )
                    .unwrap()
            })
            .collect()
    }

    /// An honest tally of `ballots`, opened by trustees 1 and 3 (trustee 2 is absent).
    pub fn tally(&self, ballots: &[Ballot]) -> (TallyResult, Vec<DecryptionShares>) {
        let aggregation = aggregate(&self.election, &self.credentials, ballots).unwrap();
        let shares = self.shares(&[1, 3], &aggregation.tally);
        let result = decrypt_tally(&self.election, &self.outcome, &aggregation, &shares).unwrap();
        (result, shares)
    }

    /// `verify_result` of `result` against this election's ballots.
    pub fn verify(
        &self,
        shares: &[DecryptionShares],
        result: &TallyResult,
    ) -> Result<(), TallyError> {
        verify_result(
            &self.election,
            &self.outcome,
            &self.credentials,
            &self.ballots,
            shares,
            result,
        )
    }
}
