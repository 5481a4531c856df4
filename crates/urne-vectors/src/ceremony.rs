//! vectors/ceremony.json (spec/20-ceremony.md): the spec's worked examples, a whole
//! 2-of-3 ceremony with a complaint answered, transcripts that each fail one check of
//! §20.6, and decryption shares with share sets that each fail §20.7.
#![allow(non_snake_case)]
// The generator stops at the first vector it cannot make as described: every expect and
// assert below is on our own fixed inputs (a bug here, never input from outside). The
// checker functions read files and return errors instead.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use curve25519_dalek::scalar::Scalar as DalekScalar;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha512};
use urne_ceremony::{
    AwaitingCommitments, CeremonyContext, CeremonyOpen, CeremonyOutcome, CeremonyTranscript,
    CommitmentHash, Commitments, Complaint, ComplaintAnswer, DecryptionShare, DecryptionShares,
    EncryptedShares, TrusteeKey, TrusteeRegistration, TrusteeSetup, VerifiedDecryptionShares,
    combine, verify_ceremony, verify_decryption_shares,
};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::group::basepoint;
use urne_crypto::proofs::SchnorrProof;
use urne_crypto::rand_core::Rng;
use urne_crypto::{
    Ciphertext, ContextHash, EncryptionKey, Point, ProofContext, Scalar, SecretScalar,
};

use crate::check::{Report, read};
use crate::names;
use crate::rng::VectorRng;
use crate::schema::*;

fn times_g(s: &DalekScalar) -> Point {
    Point::from_ristretto(basepoint().as_ristretto() * s)
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    from_hex(text)
        .map_err(|e| format!("{what}: {e}"))?
        .try_into()
        .map_err(|_| format!("{what}: not 32 bytes"))
}

/// A ceremony's records as the board holds them, and the trustees' keys.
pub(crate) struct Ceremony {
    pub(crate) transcript: CeremonyTranscript,
    pub(crate) keys: Vec<TrusteeKey>,
    pub(crate) outcome: CeremonyOutcome,
}

/// A whole honest t-of-n ceremony from the stream `name`; with `undecryptable`
/// (dealer, recipient), that share's ciphertext has a byte flipped on the board, so the
/// recipient complains and the dealer answers in the clear.
pub(crate) fn run(name: &str, t: u16, n: u16, undecryptable: Option<(u16, u16)>) -> Ceremony {
    let mut rng = VectorRng::new(name);
    let identities: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            id
        })
        .collect();
    let mut ceremony_id = [0u8; 32];
    rng.fill_bytes(&mut ceremony_id);
    let open = CeremonyOpen::new(t, identities).expect("distinct identities");
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=n).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    let context = CeremonyContext::new(ceremony_id, open.clone(), &registrations)
        .expect("every trustee registered");
    let mut states: Vec<AwaitingCommitments> = Vec::new();
    let mut hashes = Vec::new();
    for setup in setups {
        let (state, hash) = setup.begin(context.clone(), &mut rng).expect("own context");
        states.push(state);
        hashes.push(hash);
    }
    let (states, commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    let mut next = Vec::new();
    let mut shares = Vec::new();
    for state in states {
        let (state, dealt) = state
            .deal(commitments.clone(), &mut rng)
            .expect("shares seal");
        next.push(state);
        shares.push(dealt);
    }
    if let Some((dealer, recipient)) = undecryptable {
        let record = &mut shares[usize::from(dealer) - 1];
        if let Some(share) = record.shares.iter_mut().find(|s| s.recipient == recipient) {
            share.ciphertext[0] ^= 1;
        }
    }
    let (states, complaints): (Vec<_>, Vec<_>) =
        next.into_iter().map(|s| s.receive(shares.clone())).unzip();
    let complaints: Vec<Complaint> = complaints.into_iter().flatten().collect();
    let (states, answers): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.answer(complaints.clone()))
        .unzip();
    let answers: Vec<ComplaintAnswer> = answers.into_iter().flatten().collect();
    let keys: Vec<TrusteeKey> = states
        .into_iter()
        .map(|s| {
            s.finish(answers.clone())
                .expect("honest ceremony")
                .into_key()
        })
        .collect();
    let transcript = CeremonyTranscript {
        ceremony_id,
        open,
        registrations,
        commitment_hashes: hashes,
        commitments,
        shares,
        complaints,
        answers,
    };
    let outcome = verify_ceremony(&transcript).expect("honest ceremony");
    Ceremony {
        transcript,
        keys,
        outcome,
    }
}

fn encode(t: &CeremonyTranscript) -> CeremonyTranscriptVector {
    fn all<T>(items: &[T], encode: impl Fn(&T) -> Vec<u8>) -> Vec<String> {
        items.iter().map(|i| to_hex(&encode(i))).collect()
    }
    CeremonyTranscriptVector {
        ceremony_id: to_hex(&t.ceremony_id),
        open: to_hex(&t.open.encode()),
        registrations: all(&t.registrations, TrusteeRegistration::encode),
        commitment_hashes: all(&t.commitment_hashes, CommitmentHash::encode),
        commitments: all(&t.commitments, Commitments::encode),
        shares: all(&t.shares, EncryptedShares::encode),
        complaints: all(&t.complaints, Complaint::encode),
        answers: all(&t.answers, ComplaintAnswer::encode),
    }
}

fn decode(v: &CeremonyTranscriptVector) -> Result<CeremonyTranscript, String> {
    fn all<T>(
        items: &[String],
        what: &str,
        decode: impl Fn(&[u8]) -> Result<T, urne_ceremony::DecodeError>,
    ) -> Result<Vec<T>, String> {
        items
            .iter()
            .enumerate()
            .map(|(i, hex)| {
                let bytes = from_hex(hex).map_err(|e| format!("{what}[{i}]: {e}"))?;
                decode(&bytes).map_err(|e| format!("{what}[{i}]: {e}"))
            })
            .collect()
    }
    let open = from_hex(&v.open).map_err(|e| format!("open: {e}"))?;
    Ok(CeremonyTranscript {
        ceremony_id: hex32(&v.ceremony_id, "ceremony_id")?,
        open: CeremonyOpen::decode(&open).map_err(|e| e.to_string())?,
        registrations: all(
            &v.registrations,
            "registrations",
            TrusteeRegistration::decode,
        )?,
        commitment_hashes: all(
            &v.commitment_hashes,
            "commitment_hashes",
            CommitmentHash::decode,
        )?,
        commitments: all(&v.commitments, "commitments", Commitments::decode)?,
        shares: all(&v.shares, "shares", EncryptedShares::decode)?,
        complaints: all(&v.complaints, "complaints", Complaint::decode)?,
        answers: all(&v.answers, "answers", ComplaintAnswer::decode)?,
    })
}

/// §20.4 step 1, from the spec text alone.
fn context_hash(
    ceremony_id: &[u8; 32],
    t: u16,
    identities: &[[u8; 32]],
    keys: &[Point],
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urne/v1/ceremony/context");
    h.update(ceremony_id);
    h.update(t.to_be_bytes());
    h.update((identities.len() as u16).to_be_bytes());
    for (identity, key) in identities.iter().zip(keys) {
        h.update(identity);
        h.update(key.as_bytes());
    }
    h.finalize().into()
}

/// §20.4 step 2, from the spec text alone.
fn commitment_hash(context: &[u8; 32], dealer: u16, commitments: &[Point]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"urne/v1/ceremony/commitment-hash");
    h.update(context);
    h.update(dealer.to_be_bytes());
    h.update((commitments.len() as u16).to_be_bytes());
    for A in commitments {
        h.update(A.as_bytes());
    }
    h.finalize().into()
}

/// §20.5, from the spec text alone: HKDF-SHA512 then ChaCha20-Poly1305.
fn seal(
    context: &[u8; 32],
    E: &Point,
    P: &Point,
    Z: &Point,
    i: u16,
    j: u16,
    share: &Scalar,
) -> Vec<u8> {
    let mut info = b"urne/v1/ceremony/share-key".to_vec();
    info.extend_from_slice(E.as_bytes());
    info.extend_from_slice(P.as_bytes());
    info.extend_from_slice(&i.to_be_bytes());
    info.extend_from_slice(&j.to_be_bytes());
    let mut key = [0u8; 32];
    Hkdf::<Sha512>::new(Some(context), Z.as_bytes())
        .expand(&info, &mut key)
        .expect("32 bytes");
    let mut aad = b"urne/v1/ceremony/share-aad".to_vec();
    aad.extend_from_slice(context);
    aad.extend_from_slice(&i.to_be_bytes());
    aad.extend_from_slice(&j.to_be_bytes());
    ChaCha20Poly1305::new(&Key::from(key))
        .encrypt(
            &Nonce::from([0u8; 12]),
            Payload {
                msg: &share.to_bytes(),
                aad: &aad,
            },
        )
        .expect("ChaCha20-Poly1305 seals any 32 bytes")
}

fn context_example() -> CeremonyContextExample {
    let ceremony_id = [9u8; 32];
    let identities = vec![[1u8; 32], [2u8; 32]];
    let share_keys = vec![
        times_g(&DalekScalar::from(7u64)),
        times_g(&DalekScalar::from(11u64)),
    ];
    let context = context_hash(&ceremony_id, 2, &identities, &share_keys);
    // The crate computes the same (its own test pins the spec's hex too).
    let open = CeremonyOpen::new(2, identities.clone()).expect("example");
    let registrations: Vec<TrusteeRegistration> = share_keys
        .iter()
        .zip(1u16..)
        .map(|(k, trustee)| TrusteeRegistration {
            trustee,
            share_key: *k,
        })
        .collect();
    let crate_context = CeremonyContext::new(ceremony_id, open, &registrations).expect("example");
    assert_eq!(crate_context.hash().0, context, "spec/20 §20.4 step 1");
    let commitments = share_keys.clone();
    let hash = commitment_hash(&context, 1, &commitments);
    assert_eq!(
        CommitmentHash::of(crate_context.hash(), 1, &commitments),
        hash
    );
    CeremonyContextExample {
        ceremony_id: to_hex(&ceremony_id),
        threshold: 2,
        identities: identities.iter().map(|i| to_hex(i)).collect(),
        share_keys,
        context: to_hex(&context),
        dealer: 1,
        commitments,
        commitment_hash: to_hex(&hash),
    }
}

fn share_encryption() -> ShareEncryptionExample {
    let e = DalekScalar::from(7u64);
    let p = DalekScalar::from(11u64);
    let context = [1u8; 32];
    let E = times_g(&e);
    let P = times_g(&p);
    let Z = Point::from_ristretto(P.as_ristretto() * e);
    let share = Scalar::from_u64(5);
    let sealed = seal(&context, &E, &P, &Z, 2, 3, &share);
    ShareEncryptionExample {
        e: Scalar::from_dalek(e),
        p: Scalar::from_dalek(p),
        context: to_hex(&context),
        dealer: 2,
        recipient: 3,
        share,
        E,
        P,
        Z,
        sealed: to_hex(&sealed),
    }
}

fn outcome_vector(outcome: &CeremonyOutcome) -> CeremonyOutcomeVector {
    CeremonyOutcomeVector {
        context: to_hex(&outcome.context.0),
        qualified: outcome.qualified.clone(),
        joint_key: *outcome.joint_key.point(),
        verification_keys: outcome.verification_keys.clone(),
    }
}

/// One change to the honest transcript, and the verdict it must get.
fn negatives(base: &CeremonyTranscript) -> Vec<CeremonyNegative> {
    let context = CeremonyContext::new(base.ceremony_id, base.open.clone(), &base.registrations)
        .expect("honest");
    let mut out = Vec::new();
    let mut add = |name: &str, expect: &str, change: &dyn Fn(&mut CeremonyTranscript)| {
        let mut t = base.clone();
        change(&mut t);
        let verdict = names::ceremony(&verify_ceremony(&t));
        assert_eq!(verdict, expect, "ceremony negative {name}");
        out.push(CeremonyNegative {
            name: name.into(),
            transcript: encode(&t),
            expect: verdict,
        });
    };
    let dealer = |i: u16| move |r: &u16| *r != i;
    add(
        "dealer 2 posted no commitment hash",
        "disqualified 2 no-commitment-hash",
        &|t| t.commitment_hashes.retain(|h| dealer(2)(&h.dealer)),
    );
    add(
        "dealer 2 posted no commitments",
        "disqualified 2 no-commitments",
        &|t| t.commitments.retain(|c| dealer(2)(&c.dealer)),
    );
    add(
        "dealer 2's commitment hash is of other commitments",
        "disqualified 2 commitment-hash-mismatch",
        &|t| t.commitment_hashes[1].hash[0] ^= 1,
    );
    // Three coefficients, each with a valid proof, under a matching hash: only the
    // count is wrong.
    let mut rng = VectorRng::new("ceremony/negative/three-coefficients");
    let coefficients: Vec<(Point, SchnorrProof)> = (0..3u16)
        .map(|k| {
            let a = SecretScalar::random(&mut rng);
            let A = times_g(a.expose_secret());
            let mut binding = [0u8; 4];
            binding[..2].copy_from_slice(&2u16.to_be_bytes());
            binding[2..].copy_from_slice(&k.to_be_bytes());
            let proof = SchnorrProof::prove(
                &ProofContext::new(context.hash(), &binding),
                &a,
                &A,
                &mut rng,
            )
            .expect("true statement");
            (A, proof)
        })
        .collect();
    let points: Vec<Point> = coefficients.iter().map(|(A, _)| *A).collect();
    let three_hash = CommitmentHash::of(context.hash(), 2, &points);
    add(
        "dealer 2 commits to three coefficients, t = 2",
        "disqualified 2 wrong-coefficient-count 3",
        &|t| {
            t.commitment_hashes[1].hash = three_hash;
            t.commitments[1].coefficients = coefficients.clone();
        },
    );
    add(
        "dealer 2's two coefficient proofs swapped (the hash covers the points only)",
        "disqualified 2 bad-coefficient-proof 0",
        &|t| {
            let c = &mut t.commitments[1].coefficients;
            let first = c[0].1;
            c[0].1 = c[1].1;
            c[1].1 = first;
        },
    );
    add(
        "dealer 2 posted no shares",
        "disqualified 2 no-shares",
        &|t| t.shares.retain(|s| dealer(2)(&s.dealer)),
    );
    add(
        "dealer 2 sent no share to trustee 3",
        "disqualified 2 wrong-share-recipients",
        &|t| t.shares[1].shares.retain(|s| s.recipient != 3),
    );
    add(
        "dealer 3 did not answer trustee 1's complaint",
        "disqualified 3 complaint-unanswered 1",
        &|t| t.answers.clear(),
    );
    add(
        "dealer 3 revealed f(1) + 1",
        "disqualified 3 revealed-share-invalid 1",
        &|t| {
            let share = &mut t.answers[0].share;
            *share = Scalar::from_dalek(share.as_dalek() + DalekScalar::ONE);
        },
    );
    add(
        "trustee 3 never registered",
        "missing-registration 3",
        &|t| {
            t.registrations.pop();
        },
    );
    add(
        "dealer 1's commitments posted twice",
        "duplicate-record ceremony.commitments 1",
        &|t| t.commitments.push(t.commitments[0].clone()),
    );
    add(
        "a complaint against dealer 4 of 3",
        "unknown-trustee ceremony.complaint 4",
        &|t| {
            t.complaints.push(Complaint {
                complainer: 1,
                dealer: 4,
                reason: urne_ceremony::ComplaintReason::ShareMismatch,
            })
        },
    );
    add(
        "a complaint against dealer 2, who posted no shares",
        "complaint-without-shares 1 2",
        &|t| {
            t.shares.retain(|s| s.dealer != 2);
            t.complaints.push(Complaint {
                complainer: 1,
                dealer: 2,
                reason: urne_ceremony::ComplaintReason::Undecryptable,
            });
        },
    );
    add(
        "dealer 1 answers a complaint nobody made",
        "unsolicited-answer 1 2",
        &|t| {
            t.answers.push(ComplaintAnswer {
                dealer: 1,
                recipient: 2,
                share: Scalar::ZERO,
            })
        },
    );
    add(
        "dealers 2 and 3 posted no commitment hash",
        "too-few-qualified 1 2",
        &|t| t.commitment_hashes.truncate(1),
    );
    out
}

fn decryption(ceremony: &Ceremony) -> DecryptionVector {
    let mut rng = VectorRng::new("ceremony/decryption");
    let election = {
        let mut bytes = [0u8; 32];
        rng.fill_bytes(&mut bytes);
        ContextHash(bytes)
    };
    let key = EncryptionKey::new(ceremony.outcome.joint_key);
    let messages = vec![0u64, 1, 7, 1000, 0];
    let mut ciphertexts: Vec<Ciphertext> = messages[..4]
        .iter()
        .map(|&m| key.encrypt(m, &mut rng).0)
        .collect();
    ciphertexts.push(Ciphertext::zero());
    let sets: Vec<DecryptionShares> = ceremony
        .keys
        .iter()
        .map(|k| {
            k.decryption_shares(&election, &ciphertexts, &mut rng)
                .expect("own shares")
        })
        .collect();
    let combined: Vec<Point> = messages
        .iter()
        .map(|&m| times_g(&DalekScalar::from(m)))
        .collect();
    let mut negative = Vec::new();
    let mut add = |name: &str, expect: &str, shares: DecryptionShares| {
        let verdict = names::decryption(
            &verify_decryption_shares(&ceremony.outcome, &election, &ciphertexts, &shares)
                .map(|_| ()),
        );
        assert_eq!(verdict, expect, "decryption negative {name}");
        negative.push(DecryptionNegative {
            name: name.into(),
            shares: to_hex(&shares.encode()),
            expect: verdict,
        });
    };
    let two = &sets[1];
    let mut bad = two.clone();
    if let DecryptionShare::Proven { D, .. } = &mut bad.shares[1] {
        *D = Point::from_ristretto(D.as_ristretto() + basepoint().as_ristretto());
    }
    add(
        "trustee 2's share of ciphertext 1 plus G",
        "invalid-share 2 1",
        bad,
    );
    let mut bad = two.clone();
    bad.shares.swap(1, 2);
    add(
        "trustee 2's shares of ciphertexts 1 and 2 swapped",
        "invalid-share 2 1",
        bad,
    );
    let mut bad = two.clone();
    bad.shares[3] = DecryptionShare::Trivial;
    add(
        "a trivial entry for ciphertext 3, whose α is not O",
        "invalid-share 2 3",
        bad,
    );
    let mut bad = two.clone();
    bad.trustee = 3;
    add(
        "trustee 2's shares posted as trustee 3's",
        "invalid-share 3 0",
        bad,
    );
    let mut bad = two.clone();
    bad.shares.pop();
    add("one entry short", "wrong-count 2", bad);
    let mut bad = two.clone();
    bad.trustee = 4;
    add("trustee 4 of 3", "unknown-trustee 4", bad);
    let other = ContextHash([0x42; 32]);
    let bad = ceremony.keys[1]
        .decryption_shares(&other, &ciphertexts, &mut rng)
        .expect("own shares");
    add(
        "trustee 2's shares made under another election",
        "invalid-share 2 0",
        bad,
    );
    DecryptionVector {
        election: to_hex(&election.0),
        ciphertexts,
        shares: sets.iter().map(|s| to_hex(&s.encode())).collect(),
        combined,
        messages,
        negative,
    }
}

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let ceremony = run("ceremony/transcript", 2, 3, Some((3, 1)));
    assert_eq!(
        ceremony.transcript.complaints.len(),
        1,
        "one complaint, answered"
    );
    crate::generate::file(
        "ceremony.json",
        &CeremonyVectors {
            header: crate::generate::header(
                "Trustee key ceremony: the worked examples, a 2-of-3 ceremony whose dealer 3 answers trustee 1's complaint, transcripts that each fail one check of §20.6, and decryption shares",
                "spec/20-ceremony.md",
            ),
            context_example: context_example(),
            share_encryption: share_encryption(),
            transcript: encode(&ceremony.transcript),
            outcome: outcome_vector(&ceremony.outcome),
            negative: negatives(&ceremony.transcript),
            decryption: decryption(&ceremony),
        },
    )
}

/// Checks ceremony.json.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: CeremonyVectors = read(dir, "ceremony.json")?;

    let x = &v.context_example;
    let identities = x
        .identities
        .iter()
        .map(|i| hex32(i, "identity"))
        .collect::<Result<Vec<_>, _>>()?;
    let ceremony_id = hex32(&x.ceremony_id, "ceremony_id")?;
    let context = context_hash(&ceremony_id, x.threshold, &identities, &x.share_keys);
    report.expect(to_hex(&context) == x.context, || {
        "ceremony: context hash".into()
    });
    let hash = commitment_hash(&context, x.dealer, &x.commitments);
    report.expect(to_hex(&hash) == x.commitment_hash, || {
        "ceremony: commitment hash".into()
    });

    let s = &v.share_encryption;
    report.expect(times_g(s.e.as_dalek()) == s.E, || {
        "ceremony: E = e·G".into()
    });
    report.expect(times_g(s.p.as_dalek()) == s.P, || {
        "ceremony: P = p·G".into()
    });
    let Z = Point::from_ristretto(s.P.as_ristretto() * s.e.as_dalek());
    let Z_recipient = Point::from_ristretto(s.E.as_ristretto() * s.p.as_dalek());
    report.expect(Z == s.Z && Z_recipient == s.Z, || "ceremony: Z".into());
    let sealed = seal(
        &hex32(&s.context, "context")?,
        &s.E,
        &s.P,
        &s.Z,
        s.dealer,
        s.recipient,
        &s.share,
    );
    report.expect(to_hex(&sealed) == s.sealed, || {
        "ceremony: sealed share".into()
    });

    let transcript = decode(&v.transcript)?;
    // Every body re-encodes to its bytes: one encoding per value.
    report.expect(encode(&transcript) == v.transcript, || {
        "ceremony: the transcript does not re-encode to its bytes".into()
    });
    let outcome = verify_ceremony(&transcript);
    report.expect(names::ceremony(&outcome) == "ok", || {
        format!("ceremony: transcript gives {}", names::ceremony(&outcome))
    });
    let Ok(outcome) = outcome else {
        return Err("the positive ceremony does not verify".into());
    };
    let expected = &v.outcome;
    report.expect(
        to_hex(&outcome.context.0) == expected.context
            && outcome.qualified == expected.qualified
            && outcome.joint_key.point() == &expected.joint_key
            && outcome.verification_keys == expected.verification_keys,
        || "ceremony: outcome differs".into(),
    );
    for negative in &v.negative {
        let verdict = decode(&negative.transcript).map(|t| names::ceremony(&verify_ceremony(&t)));
        report.expect(verdict.as_deref() == Ok(negative.expect.as_str()), || {
            format!(
                "ceremony negative `{}`: {verdict:?}, expected {}",
                negative.name, negative.expect
            )
        });
    }

    let d = &v.decryption;
    let election = ContextHash(hex32(&d.election, "election")?);
    let mut verified: Vec<VerifiedDecryptionShares> = Vec::new();
    for (i, hex) in d.shares.iter().enumerate() {
        let shares = from_hex(hex)
            .map_err(|e| e.to_string())
            .and_then(|b| DecryptionShares::decode(&b).map_err(|e| e.to_string()))
            .map_err(|e| format!("decryption shares[{i}]: {e}"))?;
        match verify_decryption_shares(&outcome, &election, &d.ciphertexts, &shares) {
            Ok(v) => verified.push(v),
            Err(e) => report.expect(false, || format!("decryption shares[{i}]: {e}")),
        }
    }
    for pair in [[0usize, 1], [0, 2], [1, 2]] {
        let chosen: Vec<VerifiedDecryptionShares> = pair
            .iter()
            .filter_map(|&i| verified.get(i).cloned())
            .collect();
        let points = combine(outcome.threshold, &d.ciphertexts, &chosen);
        report.expect(points.as_ref() == Ok(&d.combined), || {
            format!("decryption: trustees {pair:?} combine to {points:?}")
        });
    }
    for (m, point) in d.messages.iter().zip(&d.combined) {
        report.expect(times_g(&DalekScalar::from(*m)) == *point, || {
            format!("decryption: {m}·G")
        });
    }
    for negative in &d.negative {
        let verdict = from_hex(&negative.shares)
            .map_err(|e| e.to_string())
            .and_then(|b| DecryptionShares::decode(&b).map_err(|e| e.to_string()))
            .map(|shares| {
                names::decryption(
                    &verify_decryption_shares(&outcome, &election, &d.ciphertexts, &shares)
                        .map(|_| ()),
                )
            });
        report.expect(verdict.as_deref() == Ok(negative.expect.as_str()), || {
            format!(
                "decryption negative `{}`: {verdict:?}, expected {}",
                negative.name, negative.expect
            )
        });
    }
    Ok(())
}
