//! The group: ristretto255 (RFC 9496), its basepoint G, and the generators derived
//! from frozen labels (spec/01-group.md).

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use sha2::Sha512;

use crate::encoding::Point;
use crate::labels;

/// The basepoint G of RFC 9496 §4.4.
pub fn basepoint() -> Point {
    Point::from_ristretto(RISTRETTO_BASEPOINT_POINT)
}

/// The encoding of G, for comparisons without compressing.
pub(crate) const BASEPOINT_ENCODING: [u8; 32] = [
    0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9, 0x61, 0xc5, 0x00, 0x51, 0x5f,
    0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82, 0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76,
];

/// Hash-to-group: SHA-512 of `input`, then the RFC 9496 §4.3.4 one-way map on the 64 bytes.
pub fn hash_to_group(input: &[u8]) -> Point {
    Point::from_ristretto(RistrettoPoint::hash_from_bytes::<Sha512>(input))
}

/// The generator named `name`: hash-to-group(`urne/v1/generator/` ‖ name). Nobody knows
/// its discrete log with respect to G, which is the whole point (spec/01-group.md §1.3).
pub fn generator(name: &[u8]) -> Point {
    let mut input = Vec::with_capacity(labels::GENERATOR_PREFIX.len() + name.len());
    input.extend_from_slice(labels::GENERATOR_PREFIX);
    input.extend_from_slice(name);
    hash_to_group(&input)
}

/// The second Pedersen generator H.
pub fn generator_h() -> Point {
    generator(labels::GENERATOR_H)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::{DecodeErrorKind, from_hex};
    use curve25519_dalek::scalar::Scalar;

    // RFC 9496 Appendix A.1: encodings of 0·G … 15·G.
    const SMALL_MULTIPLES: [&str; 16] = [
        "0000000000000000000000000000000000000000000000000000000000000000",
        "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
        "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
        "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
        "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
        "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
        "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
        "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
        "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
        "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
        "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
        "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
        "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
        "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
        "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
        "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
    ];

    // RFC 9496 Appendix A.2: every listed invalid encoding.
    const INVALID_ENCODINGS: [&str; 29] = [
        // Non-canonical field encodings.
        "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        // Negative field elements.
        "0100000000000000000000000000000000000000000000000000000000000000",
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
        "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
        "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
        "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
        "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
        "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
        // Non-square x².
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
        "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
        "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
        "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
        "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
        "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
        "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
        "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
        // Negative xy value.
        "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
        "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
        "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
        "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
        "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
        "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
        "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
        "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
        // s = −1, which causes y = 0.
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ];

    // RFC 9496 Appendix A.3: the one-way map on SHA-512 of these labels.
    const HASH_TO_GROUP: [(&str, &str); 7] = [
        (
            "Ristretto is traditionally a short shot of espresso coffee",
            "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46",
        ),
        (
            "made with the normal amount of ground coffee but extracted with",
            "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b",
        ),
        (
            "about half the amount of water in the same amount of time",
            "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826",
        ),
        (
            "by using a finer grind.",
            "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a",
        ),
        (
            "This produces a concentrated shot of coffee per volume.",
            "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179",
        ),
        (
            "Just pulling a normal shot short will produce a weaker shot",
            "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628",
        ),
        (
            "and is not a Ristretto as some believe.",
            "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065",
        ),
    ];

    #[test]
    fn rfc9496_small_multiples_encode_and_decode() {
        for (i, hex) in SMALL_MULTIPLES.iter().enumerate() {
            let computed =
                Point::from_ristretto(RISTRETTO_BASEPOINT_POINT * Scalar::from(i as u64));
            assert_eq!(computed.to_hex(), *hex, "{i}·G");
            let decoded = Point::from_hex(hex).unwrap();
            assert_eq!(decoded, computed);
            assert_eq!(decoded.to_hex(), *hex, "decode-then-encode of {i}·G");
        }
    }

    #[test]
    fn rfc9496_invalid_encodings_are_all_rejected() {
        for hex in INVALID_ENCODINGS {
            let bytes = from_hex(hex).unwrap();
            let err = Point::decode(&bytes).unwrap_err();
            assert_eq!(err.kind(), &DecodeErrorKind::NonCanonicalPoint, "{hex}");
            assert!(Point::decode_non_identity(&bytes).is_err(), "{hex}");
        }
    }

    #[test]
    fn rfc9496_hash_to_group_vectors() {
        for (label, hex) in HASH_TO_GROUP {
            assert_eq!(hash_to_group(label.as_bytes()).to_hex(), hex, "{label}");
        }
    }

    #[test]
    fn basepoint_encoding_constant_matches() {
        assert_eq!(basepoint().to_bytes(), BASEPOINT_ENCODING);
    }

    #[test]
    fn generator_h_is_not_g_and_is_not_identity() {
        let h = generator_h();
        assert_ne!(h, basepoint());
        assert!(!h.is_identity());
        assert_eq!(generator(b"H"), h);
        assert_ne!(generator(b"H2"), h);
    }
}
