//! The election's record kinds (spec/23-election-records.md §23.1). Codes are frozen:
//! a verifier reading an old log must find the same meaning under the same code.

use urne_record::Kind;

/// `election.manifest`: the manifest, posted once by the authority in `setup`.
pub const ELECTION_MANIFEST: Kind = Kind(0x0101);
/// `ceremony.open`: threshold and trustee identities (spec/20 §20.3, round 0).
pub const CEREMONY_OPEN: Kind = Kind(0x0102);
/// `ceremony.register`: a trustee's share key (round 1).
pub const CEREMONY_REGISTER: Kind = Kind(0x0103);
/// `ceremony.commitment-hash` (round 2).
pub const CEREMONY_COMMITMENT_HASH: Kind = Kind(0x0104);
/// `ceremony.commitments` (round 3).
pub const CEREMONY_COMMITMENTS: Kind = Kind(0x0105);
/// `ceremony.shares` (round 4).
pub const CEREMONY_SHARES: Kind = Kind(0x0106);
/// `ceremony.complaint` (round 5).
pub const CEREMONY_COMPLAINT: Kind = Kind(0x0107);
/// `ceremony.answer` (round 6).
pub const CEREMONY_ANSWER: Kind = Kind(0x0108);
/// `ceremony.close-round`: the authority ends a round some trustee left unfinished.
pub const CEREMONY_CLOSE_ROUND: Kind = Kind(0x0109);
/// `election.credentials`: one part of the public credential list (spec/22 §22.3).
pub const ELECTION_CREDENTIALS: Kind = Kind(0x0110);
/// `election.snapshot`: an anonymous election's registry snapshot header, cosigned
/// (spec/23 §23.12, body spec/31 §31.4).
pub const ELECTION_SNAPSHOT: Kind = Kind(0x0111);
/// `election.snapshot-part`: one part of that snapshot's entries (spec/31 §31.5).
pub const ELECTION_SNAPSHOT_PART: Kind = Kind(0x0112);
/// `ballot.cast`: a ballot and its credential's signature.
pub const BALLOT_CAST: Kind = Kind(0x0120);
/// `ballot.audit`: a spoiled ballot and its opening (Benaloh), never counted.
pub const BALLOT_AUDIT: Kind = Kind(0x0121);
/// `tally.decryption-shares`: a trustee's shares of the encrypted tally.
pub const TALLY_DECRYPTION_SHARES: Kind = Kind(0x0130);
/// `tally.result`: the counts with everything needed to check them (spec/24 §24.5).
pub const TALLY_RESULT: Kind = Kind(0x0131);

/// Every election kind, by code.
pub const ALL: [Kind; 16] = [
    ELECTION_MANIFEST,
    CEREMONY_OPEN,
    CEREMONY_REGISTER,
    CEREMONY_COMMITMENT_HASH,
    CEREMONY_COMMITMENTS,
    CEREMONY_SHARES,
    CEREMONY_COMPLAINT,
    CEREMONY_ANSWER,
    CEREMONY_CLOSE_ROUND,
    ELECTION_CREDENTIALS,
    ELECTION_SNAPSHOT,
    ELECTION_SNAPSHOT_PART,
    BALLOT_CAST,
    BALLOT_AUDIT,
    TALLY_DECRYPTION_SHARES,
    TALLY_RESULT,
];

/// A kind's name, or None for a kind that is not an election's.
pub fn name(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        ELECTION_MANIFEST => "election.manifest",
        CEREMONY_OPEN => "ceremony.open",
        CEREMONY_REGISTER => "ceremony.register",
        CEREMONY_COMMITMENT_HASH => "ceremony.commitment-hash",
        CEREMONY_COMMITMENTS => "ceremony.commitments",
        CEREMONY_SHARES => "ceremony.shares",
        CEREMONY_COMPLAINT => "ceremony.complaint",
        CEREMONY_ANSWER => "ceremony.answer",
        CEREMONY_CLOSE_ROUND => "ceremony.close-round",
        ELECTION_CREDENTIALS => "election.credentials",
        ELECTION_SNAPSHOT => "election.snapshot",
        ELECTION_SNAPSHOT_PART => "election.snapshot-part",
        BALLOT_CAST => "ballot.cast",
        BALLOT_AUDIT => "ballot.audit",
        TALLY_DECRYPTION_SHARES => "tally.decryption-shares",
        TALLY_RESULT => "tally.result",
        _ => return None,
    })
}
