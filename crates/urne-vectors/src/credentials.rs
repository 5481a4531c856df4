//! vectors/credential.json (spec/22-credentials.md): credentials as printed with their
//! secret and public values, typed credentials that are refused, a credential list and
//! its part, parts that are refused, and ballot signatures.
// The generator stops at the first vector it cannot make as described: every expect and
// assert below is on our own fixed inputs (a bug here, never input from outside). The
// checker reads files and returns errors instead.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;

use curve25519_dalek::scalar::Scalar as DalekScalar;
use sha2::{Digest, Sha256, Sha512};
use urne_credential::{
    BallotSignature, Credential, CredentialError, CredentialList, CredentialListPart, Decision,
    ListedCredential, PublicCredential,
};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::group::basepoint;
use urne_crypto::{ContextHash, Point, Scalar};

use crate::check::{Report, read};
use crate::generate::{derive, file, header};
use crate::rng::VectorRng;
use crate::schema::*;

const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

fn verdict(result: Result<(), CredentialError>) -> String {
    match result {
        Ok(()) => "ok".into(),
        Err(CredentialError::Length { found, .. }) => format!("length {found}"),
        Err(CredentialError::Character { position, .. }) => format!("character {position}"),
        Err(CredentialError::Checksum) => "checksum".into(),
        Err(CredentialError::Decode { field, .. }) => format!("decode {field}"),
        Err(CredentialError::Order { index }) => format!("order {index}"),
        Err(CredentialError::Parts(_)) => "parts".into(),
        Err(CredentialError::Signature) => "signature".into(),
        Err(other) => format!("unnamed {other}"),
    }
}

/// §22.2 from the spec text alone: the checksum of the 22 random characters.
fn checksum(random: &[u8]) -> [u8; 2] {
    let digest = Sha256::new()
        .chain_update(b"urne/v1/credential/checksum\n")
        .chain_update(random)
        .finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    let v = u64::from_be_bytes(first) % 3364;
    [ALPHABET[(v / 58) as usize], ALPHABET[(v % 58) as usize]]
}

/// §22.2 from the spec text alone: x from the 22 random characters.
fn secret(random: &[u8]) -> DalekScalar {
    let digest = Sha512::new()
        .chain_update(b"urne/v1/credential/secret\n")
        .chain_update(random)
        .finalize();
    let mut wide = [0u8; 64];
    wide.copy_from_slice(&digest);
    DalekScalar::from_bytes_mod_order_wide(&wide)
}

fn kept(text: &str) -> Vec<u8> {
    text.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .map(|c| u8::try_from(c).unwrap_or(0))
        .collect()
}

fn parts_verdict(parts: &[String]) -> String {
    let decoded: Result<Vec<CredentialListPart>, CredentialError> = parts
        .iter()
        .map(|hex| {
            let bytes = from_hex(hex).map_err(|e| CredentialError::Parts(e.to_string()))?;
            CredentialListPart::decode(&bytes)
        })
        .collect();
    verdict(
        decoded
            .and_then(|p| CredentialList::from_parts(&p))
            .map(|_| ()),
    )
}

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let mut rng = VectorRng::new("credential");
    let generated: Vec<Credential> = (0..3).map(|_| Credential::generate(&mut rng)).collect();
    let credentials: Vec<CredentialCase> = generated
        .iter()
        .map(|c| CredentialCase {
            text: c.to_text().to_string(),
            secret: Scalar::from_dalek(*c.secret().expose_secret()),
            public: c.public().0,
        })
        .collect();
    let text = credentials[0].text.clone();
    let compact: String = text.chars().filter(|c| *c != '-').collect();
    let mut invalid = Vec::new();
    let mut refuse = |text: String, expect: &str| {
        let found = verdict(Credential::parse(&text).map(|_| ()));
        assert_eq!(found, expect, "credential {text}");
        invalid.push(InvalidCredential {
            text,
            expect: found,
        });
    };
    refuse(format!("O{}", &compact[1..]), "character 1");
    refuse(format!("{compact}0"), "character 25");
    refuse(compact[1..].to_owned(), "length 23");
    refuse(format!("{compact}2"), "length 25");
    // One random character changed, the checksum kept: a typing mistake.
    let mut typo = compact.clone().into_bytes();
    typo[5] = if typo[5] == b'2' { b'3' } else { b'2' };
    refuse(String::from_utf8(typo).expect("ASCII"), "checksum");

    let list = CredentialList::new(
        generated
            .iter()
            .zip([1u32, 3, 1])
            .map(|(c, weight)| ListedCredential {
                credential: c.public(),
                weight,
            })
            .collect(),
    )
    .expect("distinct");
    let parts = list.parts();
    assert_eq!(parts.len(), 1);
    let part = parts[0].to_bytes();
    let mut list_negative = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>, expect: &str| {
        let hex = vec![to_hex(&bytes)];
        let found = parts_verdict(&hex);
        assert_eq!(found, expect, "list negative {name}");
        list_negative.push(CredentialListNegative {
            name: name.into(),
            parts: hex,
            expect: found,
        });
    };
    let header_len = 1 + 32 + 8 + 4 + 4 + 4;
    let mut b = part.clone();
    b[0] = 2;
    add("version 2", b, "decode version");
    add(
        "a header cut short",
        part[..header_len - 1].to_vec(),
        "decode part",
    );
    let mut b = part.clone();
    b.push(0);
    add("a byte after the entries", b, "decode entries");
    let mut b = part.clone();
    b[header_len + 36 + 32..header_len + 36 + 36].copy_from_slice(&[0; 4]);
    add("entry 1 of weight 0", b, "decode entries[1].weight");
    let mut b = part.clone();
    b[header_len + 72..header_len + 104].copy_from_slice(&[0; 32]);
    add("entry 2 is the identity", b, "decode entries[2].credential");
    let mut b = part.clone();
    let (x, y) = (header_len, header_len + 36);
    let first = b[x..y].to_vec();
    b.copy_within(y..y + 36, x);
    b[y..y + 36].copy_from_slice(&first);
    add("entries 0 and 1 swapped", b, "order 1");
    let mut b = part.clone();
    b[1] ^= 1;
    add("a root the entries do not hash to", b, "parts");
    let mut b = part.clone();
    b[33 + 7] = 4;
    add("a total of 4 for 3 entries", b, "parts");

    let context = ContextHash(derive("credential/election").to_bytes());
    let digest = derive("credential/ballot").to_bytes();
    let signature =
        BallotSignature::sign(&generated[0], &context, Decision::Cast, &digest, &mut rng)
            .expect("own credential");
    let case =
        |name: &str, credential: &Point, context: &ContextHash, digest: &[u8; 32]| SignatureCase {
            name: name.into(),
            credential: *credential,
            context: to_hex(&context.0),
            ballot_digest: to_hex(digest),
            signature: to_hex(&signature.to_bytes()),
            decision: "cast".into(),
        };
    let public = generated[0].public().0;
    // Made after the cast's, so the cast's bytes stay those of files written before
    // decisions were bound.
    let audit_signature =
        BallotSignature::sign(&generated[0], &context, Decision::Audit, &digest, &mut rng)
            .expect("own credential");
    let for_decision = |name: &str, signature: &BallotSignature, decision: &str| SignatureCase {
        name: name.into(),
        credential: public,
        context: to_hex(&context.0),
        ballot_digest: to_hex(&digest),
        signature: to_hex(&signature.to_bytes()),
        decision: decision.into(),
    };
    let signatures = vec![
        case("signed by credential 0", &public, &context, &digest),
        for_decision(
            "an audit's signature by credential 0",
            &audit_signature,
            "audit",
        ),
    ];
    let mut other_digest = digest;
    other_digest[0] ^= 1;
    let signature_negative = vec![
        case(
            "checked for credential 1",
            &generated[1].public().0,
            &context,
            &digest,
        ),
        case(
            "checked in another election",
            &public,
            &ContextHash([0; 32]),
            &digest,
        ),
        case(
            "checked for another ballot",
            &public,
            &context,
            &other_digest,
        ),
        for_decision(
            "the cast's signature checked as an audit's",
            &signature,
            "audit",
        ),
        for_decision(
            "the audit's signature checked as a cast's",
            &audit_signature,
            "cast",
        ),
    ];
    for s in &signature_negative {
        assert!(check_signature(s).is_err(), "{}", s.name);
    }

    file(
        "credential.json",
        &CredentialVectors {
            header: header(
                "Voter credentials: printed credentials and their keys, refused typings, a weighted list and its part, refused parts, ballot signatures",
                "spec/22-credentials.md",
            ),
            credentials,
            invalid_credentials: invalid,
            list: CredentialListVector {
                entries: list
                    .entries()
                    .iter()
                    .map(|e| ListedCredentialVector {
                        credential: e.credential.0,
                        weight: e.weight,
                    })
                    .collect(),
                root: to_hex(&list.root().0),
                parts: vec![to_hex(&part)],
            },
            list_negative,
            signatures,
            signature_negative,
        },
    )
}

fn check_signature(s: &SignatureCase) -> Result<(), String> {
    let bytes = from_hex(&s.signature).map_err(|e| e.to_string())?;
    let signature = BallotSignature::decode(&bytes).map_err(|e| e.to_string())?;
    let context = from_hex(&s.context)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "context: not 32 bytes".to_owned())?;
    let digest: [u8; 32] = from_hex(&s.ballot_digest)
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "ballot_digest: not 32 bytes".to_owned())?;
    let decision = match s.decision.as_str() {
        "cast" => Decision::Cast,
        "audit" => Decision::Audit,
        other => return Err(format!("decision: {other:?} is neither cast nor audit")),
    };
    signature
        .verify(
            &PublicCredential(s.credential),
            &ContextHash(context),
            decision,
            &digest,
        )
        .map_err(|e| e.to_string())
}

/// Checks credential.json.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: CredentialVectors = read(dir, "credential.json")?;
    for case in &v.credentials {
        let chars = kept(&case.text);
        let well_formed = chars.len() == 24 && checksum(&chars[..22]) == chars[22..];
        report.expect(well_formed, || {
            format!("credential {}: checksum", case.text)
        });
        if chars.len() >= 22 {
            let x = secret(&chars[..22]);
            report.expect(Scalar::from_dalek(x) == case.secret, || {
                format!("credential {}: secret", case.text)
            });
            let public = Point::from_ristretto(basepoint().as_ristretto() * x);
            report.expect(public == case.public, || {
                format!("credential {}: public", case.text)
            });
        }
        let parsed = Credential::parse(&case.text).map(|c| c.public().0);
        report.expect(parsed.as_ref() == Ok(&case.public), || {
            format!("credential {}: read as {parsed:?}", case.text)
        });
    }
    for case in &v.invalid_credentials {
        let found = verdict(Credential::parse(&case.text).map(|_| ()));
        report.expect(found == case.expect, || {
            format!(
                "credential {:?}: {found}, expected {}",
                case.text, case.expect
            )
        });
    }
    let list = CredentialList::new(
        v.list
            .entries
            .iter()
            .map(|e| ListedCredential {
                credential: PublicCredential(e.credential),
                weight: e.weight,
            })
            .collect(),
    )
    .map_err(|e| format!("credential list: {e}"))?;
    report.expect(to_hex(&list.root().0) == v.list.root, || {
        "credential list: root".into()
    });
    let parts = list.parts();
    report.expect(
        parts
            .iter()
            .map(|p| to_hex(&p.to_bytes()))
            .collect::<Vec<_>>()
            == v.list.parts,
        || "credential list: parts".into(),
    );
    report.expect(parts_verdict(&v.list.parts) == "ok", || {
        "credential list: its parts do not assemble".into()
    });
    for negative in &v.list_negative {
        let found = parts_verdict(&negative.parts);
        report.expect(found == negative.expect, || {
            format!(
                "credential list negative `{}`: {found}, expected {}",
                negative.name, negative.expect
            )
        });
    }
    for s in &v.signatures {
        let result = check_signature(s);
        report.expect(result.is_ok(), || {
            format!("signature `{}`: {result:?}", s.name)
        });
    }
    for s in &v.signature_negative {
        report.expect(check_signature(s).is_err(), || {
            format!("signature `{}` verifies", s.name)
        });
    }
    Ok(())
}
