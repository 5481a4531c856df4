//! The election's phases (spec/12 §12.3): the one definition the board, the verifier and
//! the CLI read.

/// A phase of an election, in order; its code is its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Phase {
    /// The authority posts the manifest.
    Setup = 0,
    /// Trustees run the key ceremony.
    Ceremony = 1,
    /// The registrar posts the credential list.
    Registration = 2,
    /// Ballots and audits are accepted.
    Voting = 3,
    /// No more ballots.
    Closed = 4,
    /// Trustees post decryption shares; the authority posts the result.
    Tallying = 5,
    /// The result is on the board. Final.
    Published = 6,
}

/// Every phase's name, by code.
pub const PHASE_NAMES: &[&str] = &[
    "setup",
    "ceremony",
    "registration",
    "voting",
    "closed",
    "tallying",
    "published",
];

impl Phase {
    /// Every phase, in order.
    pub const ALL: [Phase; 7] = [
        Phase::Setup,
        Phase::Ceremony,
        Phase::Registration,
        Phase::Voting,
        Phase::Closed,
        Phase::Tallying,
        Phase::Published,
    ];

    /// The phase of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// Its code.
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        PHASE_NAMES[self as usize]
    }

    /// The only phase it may move to, if any: one step forward at a time.
    pub fn next(self) -> Option<Self> {
        Self::from_code(self.code() + 1)
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
