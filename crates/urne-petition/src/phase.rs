//! The petition's phases (spec/32 §32.3).

/// A petition's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Being defined: definition and snapshot.
    Draft,
    /// Taking signatures and withdrawals.
    Open,
    /// No more signatures; the result is posted.
    Closed,
    /// Final: the threshold was reached.
    Reached,
    /// Final: it was not.
    NotReached,
}

impl Phase {
    /// Its code.
    pub fn code(self) -> u8 {
        match self {
            Self::Draft => 0,
            Self::Open => 1,
            Self::Closed => 2,
            Self::Reached => 3,
            Self::NotReached => 4,
        }
    }

    /// The phase of a code.
    pub fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => Self::Draft,
            1 => Self::Open,
            2 => Self::Closed,
            3 => Self::Reached,
            4 => Self::NotReached,
            _ => return None,
        })
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Open => "open",
            Self::Closed => "closed",
            Self::Reached => "reached",
            Self::NotReached => "not-reached",
        }
    }

    /// Whether a context may move from `self` to `to`: draft → open → closed → reached
    /// or not reached.
    pub fn may_move(self, to: Phase) -> bool {
        matches!(
            (self, to),
            (Self::Draft, Self::Open)
                | (Self::Open, Self::Closed)
                | (Self::Closed, Self::Reached)
                | (Self::Closed, Self::NotReached)
        )
    }
}
