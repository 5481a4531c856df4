//! Why a tally could not be made or a result does not check, naming the ballot, contest,
//! option or trustee at fault.

use core::fmt;

use urne_ceremony::DecryptionError;

use crate::codec::DecodeError;

/// One entry of a contest's tally: an option, or the contest's explicit blank vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The option at this index, in manifest order.
    Option(usize),
    /// The blank vote (after the options).
    Blank,
}

/// Where in a tally: a contest (index in the manifest) and one of its entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// The contest's index in the manifest.
    pub contest: usize,
    /// The entry.
    pub entry: Entry,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry {
            Entry::Option(option) => write!(f, "contest {} option {option}", self.contest),
            Entry::Blank => write!(f, "contest {} blank vote", self.contest),
        }
    }
}

/// Why a tally could not be made, or why a result does not check.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TallyError {
    /// A ballot made for another election.
    #[error("ballot {ballot} (in log order) was made for another election")]
    BallotOfAnotherElection {
        /// Its index in the list of accepted ballots.
        ballot: usize,
    },
    /// A ballot whose credential the credential list does not hold.
    #[error("ballot {ballot} (in log order) is cast with a credential that is not listed")]
    UnlistedCredential {
        /// Its index in the list of accepted ballots.
        ballot: usize,
    },
    /// A ballot whose contests or options disagree with the manifest.
    #[error("ballot {ballot} (in log order), {field}: {expected} expected, {found} found")]
    BallotShape {
        /// Its index in the list of accepted ballots.
        ballot: usize,
        /// What disagrees (`contests`, `contests[2].options`, `contests[0].blank`).
        field: String,
        /// What the manifest says.
        expected: usize,
        /// What the ballot holds.
        found: usize,
    },
    /// A ballot equal, byte for byte, to an earlier one of the list: a replay. Honest
    /// ballots never repeat (fresh nonces), and a replay of a voter's earlier ballot after
    /// a revote would make it count again (spec/24 §24.3).
    #[error("ballot {ballot} (in log order) replays ballot {first}")]
    ReplayedBallot {
        /// Its index in the list of accepted ballots.
        ballot: usize,
        /// The index of the earlier, identical ballot.
        first: usize,
    },
    /// A tally or result whose contests or entries disagree with the manifest.
    #[error("the tally's {field}: {expected} expected, {found} found")]
    TallyShape {
        /// What disagrees (`contests`, `contests[1].entries`).
        field: String,
        /// What the manifest says.
        expected: usize,
        /// What the tally holds.
        found: usize,
    },
    /// A tally or result of another election.
    #[error("the tally is for another election")]
    TallyOfAnotherElection,
    /// The ceremony outcome given is not the one whose joint key the election uses: its
    /// verification keys cannot open this election's sums.
    #[error("the ceremony's joint key is not the election's")]
    CeremonyOfAnotherKey,
    /// Total weight × an entry's maximum exceeds what a discrete-log table solves.
    #[error("{at}: the bound {bound} exceeds the largest discrete-log bound")]
    BoundTooLarge {
        /// The entry.
        at: Position,
        /// Counted weight × the entry's per-ballot maximum.
        bound: u64,
    },
    /// A decrypted sum that is no count in [0, bound]: the shares or the sum are wrong.
    #[error("{at}: the decrypted sum is no count in [0, {bound}]")]
    NoCountWithinBound {
        /// The entry.
        at: Position,
        /// Counted weight × the entry's per-ballot maximum.
        bound: u64,
    },
    /// A trustee's decryption share of one entry fails its proof or its form.
    #[error("trustee {trustee}'s decryption share of {at} is invalid")]
    InvalidShare {
        /// The trustee at fault.
        trustee: u16,
        /// The entry whose share fails.
        at: Position,
    },
    /// Decryption shares that cannot be used for another reason (unknown trustee, wrong
    /// count, duplicates, too few).
    #[error("decryption shares: {0}")]
    Shares(DecryptionError),
    /// The result names trustees other than t distinct ones of the ceremony.
    #[error("the result names {found} trustees, the threshold is {threshold}")]
    WrongTrusteeCount {
        /// How many the result names.
        found: usize,
        /// t.
        threshold: u16,
    },
    /// The result names a trustee whose shares were not given.
    #[error("the result uses trustee {trustee}'s decryption shares, which are not given")]
    MissingShares {
        /// The trustee.
        trustee: u16,
    },
    /// The result's number of counted ballots is not the recomputed one.
    #[error("the result counts {found} ballots, the board's ballots give {expected}")]
    CountedBallots {
        /// Recomputed.
        expected: u64,
        /// In the result.
        found: u64,
    },
    /// The result's number of superseded ballots is not the recomputed one.
    #[error("the result has {found} superseded ballots, the board's ballots give {expected}")]
    SupersededBallots {
        /// Recomputed.
        expected: u64,
        /// In the result.
        found: u64,
    },
    /// The result's counted weight is not the recomputed one.
    #[error("the result's counted weight is {found}, the board's ballots give {expected}")]
    CountedWeight {
        /// Recomputed.
        expected: u64,
        /// In the result.
        found: u64,
    },
    /// An encrypted sum that is not the sum of the counted ballots.
    #[error("{at}: the encrypted sum is not the weighted sum of the counted ballots")]
    EncryptedSum {
        /// The entry.
        at: Position,
    },
    /// A count that the combined shares do not decrypt to.
    #[error("{at}: the count {count} is not what the decryption shares open the sum to")]
    Count {
        /// The entry.
        at: Position,
        /// The count in the result.
        count: u64,
    },
    /// A count above its bound.
    #[error("{at}: the count {count} is above the bound {bound}")]
    CountAboveBound {
        /// The entry.
        at: Position,
        /// The count in the result.
        count: u64,
        /// Counted weight × the entry's per-ballot maximum.
        bound: u64,
    },
    /// The result's fundings do not name exactly the manifest's budget contests, in
    /// order (spec/24 §24.6 step 6).
    #[error("the result funds contests {found:?}, the manifest's budget contests are {expected:?}")]
    FundingShape {
        /// The budget contests of the manifest.
        expected: Vec<usize>,
        /// The contests the result funds.
        found: Vec<usize>,
    },
    /// A budget contest's funded projects are not what its rule selects from the counts
    /// (spec/26 §26.5).
    #[error("funding {funding} (contest {contest}): {field}: {detail}")]
    Funding {
        /// Its position among the result's fundings.
        funding: usize,
        /// The budget contest.
        contest: usize,
        /// The first field that differs (`funded`, `money_used`, …).
        field: String,
        /// What the rule gives instead.
        detail: String,
    },
    /// An encoding that does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}
