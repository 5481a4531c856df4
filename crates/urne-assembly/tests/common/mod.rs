//! A chamber for tests and benches: members' keys from fixed seeds, and a log that
//! every posted record goes through the fold on, as a board would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use ed25519_dalek::SigningKey;
use urne_assembly::body::DivisionEvent;
use urne_assembly::{
    CHAMBER_CONTEXT, ChamberState, Decoded, DivisionOpen, DivisionResult, Member, Presence,
    ProxyGrant, Quorum, Recount, Roster, Rules, SecretRules, SittingState, Violation, Vote,
    VoteChange, kinds, parameters_hash,
};
use urne_record::{ContextId, ContextOpen, ContextType, Kind, Record, kinds as base};

/// The election a secret division of the tests names.
pub const ELECTION: [u8; 32] = [0xee; 32];

pub fn key(seed: u32, role: u8) -> SigningKey {
    let mut bytes = [0u8; 32];
    bytes[0] = role;
    bytes[1..5].copy_from_slice(&seed.to_be_bytes());
    SigningKey::from_bytes(&bytes)
}

pub struct Chamber {
    /// The sitting.
    pub id: ContextId,
    /// The chamber the sitting belongs to.
    pub chamber_id: ContextId,
    pub officer: SigningKey,
    pub clerk: SigningKey,
    pub members: Vec<SigningKey>,
    pub log: Vec<(u64, Record)>,
    pub fold: Recount,
    pub text_hash: [u8; 32],
}

/// The tests' secret ballots: three trustees drawn, two to decrypt, three registrants
/// at least (the least a chamber may set).
pub const SECRET_RULES: SecretRules = SecretRules {
    trustees: 3,
    threshold: 2,
    min_registrants: 3,
};

pub fn rules(clerk: &SigningKey, vote_change: VoteChange) -> Rules {
    Rules {
        clerk: clerk.verifying_key().to_bytes(),
        quorum: Quorum::Fraction { num: 1, den: 4 },
        proxies_count_for_quorum: true,
        vote_change,
        max_proxies_held: 1,
        proxies_in_secret_ballots: false,
        secret: SECRET_RULES,
    }
}

/// The `context.open` body of a chamber with these rules.
pub fn chamber_open(rules: &Rules, nonce: u8) -> Vec<u8> {
    ContextOpen {
        context_type: CHAMBER_CONTEXT,
        nonce: [nonce; 16],
        name: "Assemblée nationale".into(),
        parameters: parameters_hash(&rules.to_body()),
    }
    .to_body()
    .unwrap()
}

/// The `context.open` body of a sitting of the chamber `chamber`.
pub fn sitting_open(chamber: ContextId, nonce: u8) -> Vec<u8> {
    ContextOpen {
        context_type: ContextType::SITTING,
        nonce: [nonce; 16],
        name: "Séance du 30 novembre".into(),
        parameters: chamber.0,
    }
    .to_body()
    .unwrap()
}

pub fn roster_of(members: &[SigningKey], version: u32) -> Roster {
    Roster {
        version,
        groups: vec!["Left".into(), "Right".into()],
        members: members
            .iter()
            .enumerate()
            .map(|(i, k)| Member {
                key: k.verifying_key().to_bytes(),
                group: (i % 2) as u16,
                name: format!("Member {i:03}"),
            })
            .collect(),
    }
}

impl Chamber {
    /// A sitting of `n` members in two groups, in session, in a chamber in force.
    pub fn new(n: u32, vote_change: VoteChange) -> Self {
        Self::sitting(n, vote_change, 7, key(0, 2), 1)
    }

    /// A chamber of `n` members whose `context.open` has nonce `nonce` × 16, with this
    /// clerk and roster version, in force, and one sitting of it in session.
    pub fn sitting(
        n: u32,
        vote_change: VoteChange,
        nonce: u8,
        clerk: SigningKey,
        roster_version: u32,
    ) -> Self {
        let officer = key(0, 1);
        let rules = rules(&clerk, vote_change);
        let open = chamber_open(&rules, nonce);
        let chamber_id = ContextId::derive(&officer.verifying_key().to_bytes(), &open);
        let sitting = sitting_open(chamber_id, nonce);
        let id = ContextId::derive(&officer.verifying_key().to_bytes(), &sitting);
        let mut chamber = Self {
            id,
            chamber_id,
            officer,
            clerk,
            members: (0..n).map(|i| key(i, 3)).collect(),
            log: Vec::new(),
            fold: Recount::new(),
            text_hash: [0x7e; 32],
        };
        let officer = chamber.officer.clone();
        chamber
            .post_in(chamber_id, base::CONTEXT_OPEN, &open, &officer)
            .unwrap();
        chamber
            .post(kinds::CHAMBER_RULES, &rules.to_body(), &officer)
            .unwrap();
        let roster = roster_of(&chamber.members, roster_version);
        let clerk = chamber.clerk.clone();
        chamber
            .post(kinds::ROSTER_MEMBERS, &roster.to_body().unwrap(), &clerk)
            .unwrap();
        chamber
            .post_in(chamber_id, base::CONTEXT_PHASE, &[1], &officer)
            .unwrap();
        chamber
            .post_in(id, base::CONTEXT_OPEN, &sitting, &officer)
            .unwrap();
        chamber.post(base::CONTEXT_PHASE, &[1], &officer).unwrap();
        chamber
    }

    /// The context a kind is posted in: the chamber's kinds in the chamber, the rest in
    /// the sitting.
    pub fn context_of(&self, kind: Kind) -> ContextId {
        if kinds::CHAMBER.contains(&kind) {
            self.chamber_id
        } else {
            self.id
        }
    }

    pub fn record(&self, kind: Kind, body: &[u8], signer: &SigningKey) -> Record {
        Record::sign(self.context_of(kind), kind, body, signer).unwrap()
    }

    /// Appends a record to the log if the fold accepts it (a board would refuse it
    /// otherwise, and the log stays as it was). The fold refuses bytes already in the
    /// sitting, as the board refuses a duplicate.
    pub fn post(&mut self, kind: Kind, body: &[u8], signer: &SigningKey) -> Result<u64, Violation> {
        let record = self.record(kind, body, signer);
        self.post_record(record)
    }

    /// Appends a record of the context `id` if the fold accepts it.
    pub fn post_in(
        &mut self,
        id: ContextId,
        kind: Kind,
        body: &[u8],
        signer: &SigningKey,
    ) -> Result<u64, Violation> {
        let record = Record::sign(id, kind, body, signer).unwrap();
        self.post_record(record)
    }

    pub fn post_record(&mut self, record: Record) -> Result<u64, Violation> {
        let index = self.log.len() as u64;
        record.verify_signature().unwrap();
        self.fold.feed_verified(index, &record)?;
        self.log.push((index, record));
        Ok(index)
    }

    /// Appends a record without any check: what a dishonest board could do.
    pub fn force(&mut self, kind: Kind, body: &[u8], signer: &SigningKey) -> u64 {
        let index = self.log.len() as u64;
        let record = self.record(kind, body, signer);
        self.log.push((index, record));
        index
    }

    /// Opens another sitting of the chamber, moves it in session, and makes it the one
    /// the helpers act in; returns the sitting they acted in before.
    pub fn next_sitting(&mut self, nonce: u8) -> ContextId {
        let officer = self.officer.clone();
        let body = sitting_open(self.chamber_id, nonce);
        let id = ContextId::derive(&officer.verifying_key().to_bytes(), &body);
        self.post_in(id, base::CONTEXT_OPEN, &body, &officer)
            .unwrap();
        self.post_in(id, base::CONTEXT_PHASE, &[1], &officer)
            .unwrap();
        std::mem::replace(&mut self.id, id)
    }

    /// The sitting's state.
    pub fn state(&self) -> &SittingState {
        self.fold.sitting(self.id).unwrap()
    }

    /// The chamber's state.
    pub fn chamber(&self) -> &ChamberState {
        self.fold.chamber(self.chamber_id).unwrap()
    }

    pub fn member(&self, m: u32) -> SigningKey {
        self.members[m as usize].clone()
    }

    pub fn roster_version(&self) -> u32 {
        self.chamber().roster_version()
    }

    /// The sequence number member `m`'s next record must carry.
    pub fn seq(&self, m: u32) -> u32 {
        self.state().next_sequence(m).unwrap()
    }

    pub fn presence(&mut self, m: u32, present: bool) -> Result<u64, Violation> {
        let body = Presence {
            sequence: self.seq(m),
            roster_version: self.roster_version(),
            present,
        }
        .to_body();
        let key = self.member(m);
        self.post(kinds::PRESENCE, &body, &key)
    }

    pub fn all_present(&mut self) {
        for m in 0..self.members.len() as u32 {
            self.presence(m, true).unwrap();
        }
    }

    pub fn open_body(&self, division: u32, time: u64, secret: bool) -> Vec<u8> {
        DivisionOpen {
            division,
            time,
            text_hash: self.text_hash,
            roster_version: self.roster_version(),
            window: 600,
            secret,
            election: secret.then_some(ELECTION),
            reruns: 0,
            choices: vec!["for".into(), "against".into(), "abstain".into()],
        }
        .to_body()
        .unwrap()
    }

    pub fn open_division(&mut self, division: u32, time: u64) -> Result<u64, Violation> {
        let body = self.open_body(division, time, false);
        let officer = self.officer.clone();
        self.post(kinds::DIVISION_OPEN, &body, &officer)
    }

    pub fn event(&mut self, kind: Kind, division: u32, time: u64) -> Result<u64, Violation> {
        let body = DivisionEvent {
            division,
            time,
            reason: "recount requested".into(),
        }
        .to_body(kind)
        .unwrap();
        let officer = self.officer.clone();
        self.post(kind, &body, &officer)
    }

    /// The body of a vote signed by member `by`.
    pub fn vote_body(&self, by: u32, division: u32, choice: u8, on_behalf: Option<u32>) -> Vec<u8> {
        Vote {
            sequence: self.seq(by),
            division,
            text_hash: self.text_hash,
            roster_version: self
                .state()
                .division(division)
                .map_or(1, |d| d.open.roster_version),
            choice,
            on_behalf,
        }
        .to_body()
    }

    pub fn vote(&mut self, m: u32, division: u32, choice: u8) -> Result<u64, Violation> {
        let body = self.vote_body(m, division, choice, None);
        let key = self.member(m);
        self.post(kinds::VOTE, &body, &key)
    }

    pub fn proxy_vote(
        &mut self,
        delegate: u32,
        on_behalf: u32,
        division: u32,
        choice: u8,
    ) -> Result<u64, Violation> {
        let body = self.vote_body(delegate, division, choice, Some(on_behalf));
        let key = self.member(delegate);
        self.post(kinds::VOTE, &body, &key)
    }

    pub fn grant(&mut self, from: u32, to: u32, seconds: u32) -> Result<u64, Violation> {
        let body = ProxyGrant {
            sequence: self.seq(from),
            roster_version: self.roster_version(),
            delegate: to,
            seconds,
            reason: "mission abroad".into(),
        }
        .to_body()
        .unwrap();
        let key = self.member(from);
        self.post(kinds::PROXY_GRANT, &body, &key)
    }

    /// The result the fold computes for a closed division.
    pub fn expected_result(&self, division: u32) -> DivisionResult {
        self.state().division(division).unwrap().count()
    }

    pub fn post_result(&mut self, result: &DivisionResult) -> Result<u64, Violation> {
        let officer = self.officer.clone();
        self.post(kinds::DIVISION_RESULT, &result.to_body().unwrap(), &officer)
    }

    pub fn decoded(&self, index: u64) -> Decoded {
        let record = &self.log[index as usize].1;
        urne_assembly::decode(record.kind(), record.body())
            .unwrap()
            .unwrap()
    }
}
