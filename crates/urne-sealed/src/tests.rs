#![allow(clippy::unwrap_used)]

use super::*;

const FORMAT: Format = Format {
    magic: b"test-sealed\n",
    version: 1,
    max_memory_kib: 1024,
};
const LIGHT: KdfParams = KdfParams {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

fn sealed() -> Vec<u8> {
    seal(&FORMAT, b"the secret", b"pass", LIGHT, &mut rand::rng()).unwrap()
}

#[test]
fn a_sealed_file_opens_with_its_passphrase_only() {
    let file = sealed();
    assert_eq!(file.len(), header_len(FORMAT.magic.len()) + 10 + TAG_LEN);
    assert_eq!(
        open(&FORMAT, &file, b"pass").unwrap().as_slice(),
        b"the secret"
    );
    assert_eq!(
        open(&FORMAT, &file, b"Pass"),
        Err(SealError::WrongPassphrase)
    );
}

/// The header is the associated data: any byte of it altered (a parameter, the salt, the
/// nonce) fails like a wrong passphrase, and so does any byte after it.
#[test]
fn every_byte_of_the_file_is_authenticated() {
    let file = sealed();
    let header = header_len(FORMAT.magic.len());
    for at in FORMAT.magic.len() + 1..file.len() {
        let mut altered = file.clone();
        altered[at] ^= 1;
        let opened = open(&FORMAT, &altered, b"pass");
        assert!(opened.is_err(), "byte {at} altered went unnoticed");
        if at >= FORMAT.magic.len() + 13 {
            assert_eq!(
                opened,
                Err(SealError::WrongPassphrase),
                "byte {at} of {header}"
            );
        }
    }
}

#[test]
fn another_format_length_or_version_is_named() {
    let file = sealed();
    let other = Format {
        magic: b"other-sealed\n",
        ..FORMAT
    };
    assert_eq!(
        open(&other, &file, b"pass"),
        Err(SealError::NotThisFormat { field: "magic" })
    );
    let mut versioned = file.clone();
    versioned[FORMAT.magic.len()] = 2;
    assert_eq!(
        open(&FORMAT, &versioned, b"pass"),
        Err(SealError::NotThisFormat { field: "version" })
    );
    assert_eq!(
        open(
            &FORMAT,
            &file[..header_len(FORMAT.magic.len()) + TAG_LEN - 1],
            b"pass"
        ),
        Err(SealError::NotThisFormat { field: "length" })
    );
}

/// A file that asks for more work than the format allows is refused before any of it.
#[test]
fn parameters_out_of_bounds_are_refused_before_any_work() {
    let at = FORMAT.magic.len() + 1;
    for (offset, value, field) in [
        (0, FORMAT.max_memory_kib + 1, "memory_kib"),
        (0, 7, "memory_kib"),
        (4, 0, "iterations"),
        (4, MAX_ITERATIONS + 1, "iterations"),
        (8, 0, "parallelism"),
        (8, MAX_PARALLELISM + 1, "parallelism"),
    ] {
        let mut file = sealed();
        file[at + offset..at + offset + 4].copy_from_slice(&value.to_be_bytes());
        assert_eq!(
            open(&FORMAT, &file, b"pass"),
            Err(SealError::BadParameters { field, value }),
        );
    }
    let heavy = KdfParams {
        memory_kib: FORMAT.max_memory_kib + 1,
        ..LIGHT
    };
    assert!(matches!(
        seal(&FORMAT, b"x", b"pass", heavy, &mut rand::rng()),
        Err(SealError::BadParameters {
            field: "memory_kib",
            ..
        })
    ));
}

/// Fails to compile without the `zeroize` features of chacha20poly1305 and argon2
/// (Cargo.toml): the AEAD would keep the passphrase-derived key, and Argon2 its blocks,
/// in freed memory.
#[test]
fn the_key_schedule_and_the_kdf_wipe_themselves() {
    fn wipes<T: zeroize::ZeroizeOnDrop>() {}
    fn wipeable<T: zeroize::Zeroize>() {}
    wipes::<ChaCha20Poly1305>();
    wipeable::<argon2::Block>();
}

/// Each Argon2id bound is checked at both ends: one past it refused, the bound itself
/// taken (spec/20 §20.8, spec/30 §30.3).
#[test]
fn every_parameter_bound_holds_at_both_ends() {
    let format = Format {
        max_memory_kib: 4 * 1024 * 1024,
        ..FORMAT
    };
    let ok = KdfParams {
        memory_kib: 8 * 4,
        iterations: 1,
        parallelism: 4,
    };
    let refused = |p: KdfParams| match argon2_params(&format, p) {
        Err(SealError::BadParameters { field, .. }) => field,
        other => panic!("{p:?} gave {other:?}"),
    };
    for (params, field) in [
        (
            KdfParams {
                parallelism: 0,
                ..ok
            },
            "parallelism",
        ),
        (
            KdfParams {
                parallelism: MAX_PARALLELISM + 1,
                memory_kib: 8 * (MAX_PARALLELISM + 1),
                ..ok
            },
            "parallelism",
        ),
        (
            KdfParams {
                iterations: 0,
                ..ok
            },
            "iterations",
        ),
        (
            KdfParams {
                iterations: MAX_ITERATIONS + 1,
                ..ok
            },
            "iterations",
        ),
        (
            KdfParams {
                memory_kib: 8 * 4 - 1,
                ..ok
            },
            "memory_kib",
        ),
        (
            KdfParams {
                memory_kib: format.max_memory_kib + 1,
                ..ok
            },
            "memory_kib",
        ),
    ] {
        assert_eq!(refused(params), field, "{params:?}");
    }
    for params in [
        ok,
        KdfParams {
            memory_kib: 8 * MAX_PARALLELISM,
            iterations: MAX_ITERATIONS,
            parallelism: MAX_PARALLELISM,
        },
        KdfParams {
            memory_kib: format.max_memory_kib,
            ..ok
        },
        KdfParams::RECOMMENDED,
    ] {
        assert!(argon2_params(&format, params).is_ok(), "{params:?}");
    }
}
