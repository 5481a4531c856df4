//! RFC 6962 reference vectors (the certificate-transparency test tree of 8 leaves) and
//! property tests of every proof between every pair of sizes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use urne_log::hash::root_of;
use urne_log::proof::{consistency_proof, inclusion_proof};
use urne_log::{Hash, ProofError, leaf_hash, verify_consistency, verify_inclusion};

fn hd(s: &str) -> Hash {
    Hash::from_hex(s).unwrap()
}

fn leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| {
        (0..h.len() / 2)
            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    })
    .collect()
}

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn leaf_hashes() -> Vec<Hash> {
    leaves().iter().map(|l| leaf_hash(l)).collect()
}

#[test]
fn roots_of_the_reference_tree_match_for_every_size() {
    let hashes = leaf_hashes();
    for (size, root) in ROOTS.iter().enumerate() {
        assert_eq!(root_of(&hashes[..size]), hd(root), "size {size}");
    }
    assert_eq!(Hash::empty(), hd(ROOTS[0]));
}

#[test]
fn reference_inclusion_proofs() {
    let hashes = leaf_hashes();
    let cases: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, expected) in cases {
        let expected: Vec<Hash> = expected.iter().map(|h| hd(h)).collect();
        let proof = inclusion_proof(&hashes[..size as usize], index, size).unwrap();
        assert_eq!(proof, expected, "leaf {index} in {size}");
        verify_inclusion(
            &hashes[index as usize],
            index,
            size,
            &proof,
            &hd(ROOTS[size as usize]),
        )
        .unwrap();
    }
}

#[test]
fn reference_consistency_proofs() {
    let hashes = leaf_hashes();
    let cases: [(u64, u64, &[&str]); 5] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
        (0, 8, &[]),
    ];
    for (first, second, expected) in cases {
        let expected: Vec<Hash> = expected.iter().map(|h| hd(h)).collect();
        let proof = consistency_proof(&hashes[..second as usize], first, second).unwrap();
        assert_eq!(proof, expected, "{first} -> {second}");
        verify_consistency(
            first,
            second,
            &hd(ROOTS[first as usize]),
            &hd(ROOTS[second as usize]),
            &proof,
        )
        .unwrap();
    }
}

#[test]
fn malformed_requests_and_proofs_are_refused() {
    let hashes = leaf_hashes();
    assert!(inclusion_proof(&hashes[..], 8, 8).is_err());
    // Asking an in-memory tree for more than it holds is an error, never a panic.
    assert!(matches!(
        consistency_proof(&hashes[..4], 4, 8),
        Err(urne_log::proof::ProofRequestError::Source(_))
    ));
    assert!(inclusion_proof(&hashes[..4], 1, 9).is_err());
    assert!(consistency_proof(&hashes[..], 5, 4).is_err());
    let root = hd(ROOTS[8]);
    assert_eq!(
        verify_inclusion(&hashes[0], 8, 8, &[], &root),
        Err(ProofError::IndexOutOfRange)
    );
    assert_eq!(
        verify_consistency(5, 4, &root, &root, &[]),
        Err(ProofError::SizesOutOfOrder)
    );
    assert_eq!(
        verify_consistency(3, 3, &root, &hd(ROOTS[3]), &[]),
        Err(ProofError::RootMismatch)
    );
    assert_eq!(
        verify_consistency(3, 3, &root, &root, &[root]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        verify_consistency(0, 3, &root, &root, &[root]),
        Err(ProofError::WrongLength)
    );
    assert_eq!(
        verify_consistency(3, 8, &hd(ROOTS[3]), &root, &[]),
        Err(ProofError::WrongLength)
    );
}

fn random_leaves(n: usize) -> Vec<Hash> {
    (0..n)
        .map(|i| leaf_hash(&(i as u64).to_le_bytes()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_inclusion_proof_verifies_and_every_alteration_fails(size in 1u64..300, seed in any::<u64>()) {
        let leaves = random_leaves(size as usize);
        let index = seed % size;
        let root = root_of(&leaves);
        let proof = inclusion_proof(&leaves[..], index, size).unwrap();
        prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &proof, &root).is_ok());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i].0[(seed as usize) % 32] ^= 1;
            prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &bad, &root).is_err());
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &longer, &root).is_err());
        if !proof.is_empty() {
            prop_assert!(verify_inclusion(&leaves[index as usize], index, size, &proof[1..], &root).is_err());
        }
        if size > 1 {
            let other = (index + 1) % size;
            prop_assert!(verify_inclusion(&leaves[index as usize], other, size, &proof, &root).is_err());
        }
        prop_assert!(verify_inclusion(&leaf_hash(b"not in the tree"), index, size, &proof, &root).is_err());
    }

    #[test]
    fn every_consistency_proof_verifies_and_every_alteration_fails(second in 1u64..300, seed in any::<u64>()) {
        let leaves = random_leaves(second as usize);
        let first = seed % (second + 1);
        let first_root = root_of(&leaves[..first as usize]);
        let second_root = root_of(&leaves);
        let proof = consistency_proof(&leaves[..], first, second).unwrap();
        prop_assert!(verify_consistency(first, second, &first_root, &second_root, &proof).is_ok());
        for i in 0..proof.len() {
            let mut bad = proof.clone();
            bad[i].0[(seed as usize) % 32] ^= 1;
            prop_assert!(verify_consistency(first, second, &first_root, &second_root, &bad).is_err());
        }
        if first > 0 && first < second {
            let mut wrong_first = first_root;
            wrong_first.0[0] ^= 1;
            prop_assert!(verify_consistency(first, second, &wrong_first, &second_root, &proof).is_err());
            let mut wrong_second = second_root;
            wrong_second.0[0] ^= 1;
            prop_assert!(verify_consistency(first, second, &first_root, &wrong_second, &proof).is_err());
            prop_assert!(verify_consistency(first, second, &first_root, &second_root, &proof[1..]).is_err());
        }
    }
}
