//! The petition's record kinds (spec/32 §32.2). Codes are frozen.

use urne_record::Kind;

/// `registry.snapshot`: the snapshot header and its cosignatures (spec/31 §31.4).
pub const REGISTRY_SNAPSHOT: Kind = Kind(0x0201);
/// `registry.snapshot-part`: one part of the snapshot's entries (spec/31 §31.5).
pub const REGISTRY_SNAPSHOT_PART: Kind = Kind(0x0202);
/// `petition.define`: text hash, threshold, deadline, scope, registrars.
pub const PETITION_DEFINE: Kind = Kind(0x0210);
/// `petition.sign`: an anonymous signature.
pub const PETITION_SIGN: Kind = Kind(0x0211);
/// `petition.withdraw`: a signer withdraws, by the same tag.
pub const PETITION_WITHDRAW: Kind = Kind(0x0212);
/// `petition.result`: the count, posted by the authority once closed.
pub const PETITION_RESULT: Kind = Kind(0x0213);

/// `petition.duplicate`: a refused second signature by a tag already counted, kept as
/// evidence of the attempt and never counted (spec/32 §32.6 step 7).
pub const PETITION_DUPLICATE: Kind = Kind(0x0214);

/// Every petition kind, by code.
pub const ALL: [Kind; 7] = [
    REGISTRY_SNAPSHOT,
    REGISTRY_SNAPSHOT_PART,
    PETITION_DEFINE,
    PETITION_SIGN,
    PETITION_WITHDRAW,
    PETITION_RESULT,
    PETITION_DUPLICATE,
];

/// A kind's name, or None for a kind that is not a petition's.
pub fn name(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        REGISTRY_SNAPSHOT => "registry.snapshot",
        REGISTRY_SNAPSHOT_PART => "registry.snapshot-part",
        PETITION_DEFINE => "petition.define",
        PETITION_SIGN => "petition.sign",
        PETITION_WITHDRAW => "petition.withdraw",
        PETITION_RESULT => "petition.result",
        PETITION_DUPLICATE => "petition.duplicate",
        _ => return None,
    })
}
