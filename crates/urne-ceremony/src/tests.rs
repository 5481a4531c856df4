//! Whole ceremonies, honest and not, through the trustees' typestates and
//! [`verify_ceremony`]; then threshold decryption.

#![allow(non_snake_case)]

use urne_crypto::rand_core::Rng;
use urne_crypto::{Ciphertext, ContextHash, EncryptionKey, Point, ProofContext, Scalar};

use super::*;

type Hook<T> = Box<dyn Fn(&mut Vec<T>)>;

/// Tampering between rounds: what the board would hold if a trustee misbehaved.
#[derive(Default)]
struct Hooks {
    corrupt: Option<(u16, u16)>,
    hashes: Option<Hook<CommitmentHash>>,
    commitments: Option<Hook<Commitments>>,
    shares: Option<Hook<EncryptedShares>>,
    complaints: Option<Hook<Complaint>>,
    answers: Option<Hook<ComplaintAnswer>>,
}

fn apply<T>(hook: &Option<Hook<T>>, records: &mut Vec<T>) {
    if let Some(hook) = hook {
        hook(records);
    }
}

struct Run {
    transcript: CeremonyTranscript,
    finished: Vec<Result<QualifiedTrustee, CeremonyError>>,
}

fn run(t: u16, n: u16, hooks: Hooks) -> Run {
    let mut rng = rand::rng();
    let identities: Vec<[u8; 32]> = (0..n)
        .map(|_| {
            let mut id = [0u8; 32];
            rng.fill_bytes(&mut id);
            id
        })
        .collect();
    let open = CeremonyOpen::new(t, identities).unwrap();
    let mut ceremony_id = [0u8; 32];
    rng.fill_bytes(&mut ceremony_id);
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=n).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    let context = CeremonyContext::new(ceremony_id, open.clone(), &registrations).unwrap();

    let (mut states, mut hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).unwrap())
        .unzip();
    if let Some((dealer, recipient)) = hooks.corrupt {
        states[usize::from(dealer) - 1].corrupt_share_for(recipient);
    }
    apply(&hooks.hashes, &mut hashes);
    let (states, mut commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    apply(&hooks.commitments, &mut commitments);
    let (states, mut shares): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).unwrap())
        .unzip();
    apply(&hooks.shares, &mut shares);
    let (states, complaints): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.receive(shares.clone()))
        .unzip();
    let mut complaints: Vec<Complaint> = complaints.into_iter().flatten().collect();
    apply(&hooks.complaints, &mut complaints);
    let (states, answers): (Vec<_>, Vec<_>) = states
        .into_iter()
        .map(|s| s.answer(complaints.clone()))
        .unzip();
    let mut answers: Vec<ComplaintAnswer> = answers.into_iter().flatten().collect();
    apply(&hooks.answers, &mut answers);
    let finished = states
        .into_iter()
        .map(|s| s.finish(answers.clone()))
        .collect();
    Run {
        transcript: CeremonyTranscript {
            ceremony_id,
            open,
            registrations,
            commitment_hashes: hashes,
            commitments,
            shares,
            complaints,
            answers,
        },
        finished,
    }
}

fn keys(run: Run) -> (CeremonyOutcome, Vec<TrusteeKey>) {
    let outcome = verify_ceremony(&run.transcript).unwrap();
    let keys = run
        .finished
        .into_iter()
        .map(|f| {
            let f = f.unwrap();
            assert_eq!(
                f.outcome(),
                &outcome,
                "every trustee reaches the public outcome"
            );
            f.into_key()
        })
        .collect();
    (outcome, keys)
}

const ELECTION: ContextHash = ContextHash([42; 32]);

fn encrypt(outcome: &CeremonyOutcome, messages: &[u64]) -> Vec<Ciphertext> {
    let key = EncryptionKey::new(outcome.joint_key);
    messages
        .iter()
        .map(|&m| key.encrypt(m, &mut rand::rng()).0)
        .collect()
}

fn plaintext_points(messages: &[u64]) -> Vec<Point> {
    messages
        .iter()
        .map(|&m| {
            Point::from_ristretto(
                curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT
                    * curve25519_dalek::scalar::Scalar::from(m),
            )
        })
        .collect()
}

/// Decrypts with the trustees in `subset` (1-based).
fn decrypt_with(
    outcome: &CeremonyOutcome,
    keys: &[TrusteeKey],
    subset: &[u16],
    ciphertexts: &[Ciphertext],
) -> Result<Vec<Point>, DecryptionError> {
    let verified = subset
        .iter()
        .map(|&j| {
            let shares = keys[usize::from(j) - 1]
                .decryption_shares(&ELECTION, ciphertexts, &mut rand::rng())
                .unwrap();
            let decoded = DecryptionShares::decode(&shares.encode()).unwrap();
            assert_eq!(decoded, shares);
            verify_decryption_shares(outcome, &ELECTION, ciphertexts, &decoded)
        })
        .collect::<Result<Vec<_>, _>>()?;
    combine(outcome.threshold, ciphertexts, &verified)
}

fn subsets(n: u16, size: usize) -> Vec<Vec<u16>> {
    let mut out = Vec::new();
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize == size {
            out.push((1..=n).filter(|j| mask & (1 << (j - 1)) != 0).collect());
        }
    }
    out
}

#[test]
fn whole_2_of_3_ceremony_decrypts_with_any_2_trustees() {
    let (outcome, keys) = keys(run(2, 3, Hooks::default()));
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    assert!(outcome.disqualified.is_empty());
    for key in &keys {
        assert_eq!(key.joint_key(), &outcome.joint_key);
        assert_eq!(
            Some(key.verification_key()),
            outcome.verification_key(key.trustee())
        );
    }
    let messages = [0, 1, 7, 1000];
    let mut ciphertexts = encrypt(&outcome, &messages);
    // An empty tally, Enc(0; 0), takes the trivial share.
    ciphertexts.push(Ciphertext::zero());
    let mut expected = plaintext_points(&messages);
    expected.push(Point::identity());
    for subset in subsets(3, 2).into_iter().chain(subsets(3, 3)) {
        assert_eq!(
            decrypt_with(&outcome, &keys, &subset, &ciphertexts).unwrap(),
            expected,
            "{subset:?}"
        );
    }
    assert_eq!(
        decrypt_with(&outcome, &keys, &[2], &ciphertexts).unwrap_err(),
        DecryptionError::NotEnoughShares {
            found: 1,
            threshold: 2
        }
    );
}

#[test]
fn whole_3_of_5_ceremony_decrypts_with_any_3_trustees() {
    let (outcome, keys) = keys(run(3, 5, Hooks::default()));
    assert_eq!(outcome.qualified, vec![1, 2, 3, 4, 5]);
    let messages = [3, 0, 12345];
    let ciphertexts = encrypt(&outcome, &messages);
    let expected = plaintext_points(&messages);
    for subset in subsets(5, 3) {
        assert_eq!(
            decrypt_with(&outcome, &keys, &subset, &ciphertexts).unwrap(),
            expected,
            "{subset:?}"
        );
    }
    assert!(decrypt_with(&outcome, &keys, &[1, 5], &ciphertexts).is_err());
}

#[test]
fn dealer_of_a_bad_share_is_caught_by_the_complaint_and_disqualified() {
    let run = run(
        3,
        5,
        Hooks {
            corrupt: Some((2, 4)),
            ..Hooks::default()
        },
    );
    assert_eq!(
        run.transcript.complaints,
        vec![Complaint {
            complainer: 4,
            dealer: 2,
            reason: ComplaintReason::ShareMismatch
        }]
    );
    assert_eq!(run.transcript.answers.len(), 1);
    let (outcome, keys) = keys(run);
    assert_eq!(outcome.qualified, vec![1, 3, 4, 5]);
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification {
            dealer: 2,
            reason: DisqualificationReason::RevealedShareInvalid { recipient: 4 }
        }]
    );
    // The ceremony completed without dealer 2, and trustee 2 still holds a share.
    let ciphertexts = encrypt(&outcome, &[5]);
    for subset in [[1, 2, 3], [2, 4, 5]] {
        assert_eq!(
            decrypt_with(&outcome, &keys, &subset, &ciphertexts).unwrap(),
            plaintext_points(&[5])
        );
    }
}

fn flip_share_ciphertext(dealer: u16, recipient: u16) -> Hook<EncryptedShares> {
    Box::new(move |shares| {
        for record in shares.iter_mut().filter(|r| r.dealer == dealer) {
            for share in record
                .shares
                .iter_mut()
                .filter(|s| s.recipient == recipient)
            {
                share.ciphertext[0] ^= 1;
            }
        }
    })
}

#[test]
fn undecryptable_share_answered_in_the_clear_keeps_the_dealer() {
    let run = run(
        2,
        3,
        Hooks {
            shares: Some(flip_share_ciphertext(1, 3)),
            ..Hooks::default()
        },
    );
    assert_eq!(
        run.transcript.complaints,
        vec![Complaint {
            complainer: 3,
            dealer: 1,
            reason: ComplaintReason::Undecryptable
        }]
    );
    let (outcome, keys) = keys(run);
    assert_eq!(outcome.qualified, vec![1, 2, 3]);
    // Trustee 3 took the revealed share: its key still decrypts.
    let ciphertexts = encrypt(&outcome, &[9]);
    assert_eq!(
        decrypt_with(&outcome, &keys, &[1, 3], &ciphertexts).unwrap(),
        plaintext_points(&[9])
    );
}

#[test]
fn unanswered_complaint_disqualifies_the_dealer() {
    let run = run(
        2,
        3,
        Hooks {
            shares: Some(flip_share_ciphertext(1, 3)),
            answers: Some(Box::new(|answers| answers.clear())),
            ..Hooks::default()
        },
    );
    let (outcome, _) = keys(run);
    assert_eq!(outcome.qualified, vec![2, 3]);
    assert_eq!(
        outcome.disqualified[0].reason,
        DisqualificationReason::ComplaintUnanswered { recipient: 3 }
    );
}

#[test]
fn altered_revealed_share_disqualifies_the_dealer() {
    let run = run(
        2,
        3,
        Hooks {
            shares: Some(flip_share_ciphertext(1, 3)),
            answers: Some(Box::new(|answers| {
                answers[0].share = Scalar::from_dalek(
                    answers[0].share.as_dalek() + curve25519_dalek::scalar::Scalar::ONE,
                )
            })),
            ..Hooks::default()
        },
    );
    let outcome = verify_ceremony(&run.transcript).unwrap();
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification {
            dealer: 1,
            reason: DisqualificationReason::RevealedShareInvalid { recipient: 3 }
        }]
    );
}

#[test]
fn reveal_that_does_not_match_the_commitment_hash_disqualifies_the_dealer() {
    // Dealer 3 reveals the commitments of another polynomial than the one it hashed:
    // its hash record is the hash of something else.
    let run = run(
        2,
        4,
        Hooks {
            hashes: Some(Box::new(|hashes| hashes[2].hash[31] ^= 1)),
            ..Hooks::default()
        },
    );
    let (outcome, keys) = keys(run);
    assert_eq!(outcome.qualified, vec![1, 2, 4]);
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification {
            dealer: 3,
            reason: DisqualificationReason::CommitmentHashMismatch
        }]
    );
    let ciphertexts = encrypt(&outcome, &[2]);
    assert_eq!(
        decrypt_with(&outcome, &keys, &[3, 4], &ciphertexts).unwrap(),
        plaintext_points(&[2])
    );
}

#[test]
fn missing_records_disqualify_their_dealer() {
    let cases: Vec<(Hooks, DisqualificationReason)> = vec![
        (
            Hooks {
                hashes: Some(Box::new(|h| h.retain(|r| r.dealer != 2))),
                ..Hooks::default()
            },
            DisqualificationReason::NoCommitmentHash,
        ),
        (
            Hooks {
                commitments: Some(Box::new(|c| c.retain(|r| r.dealer != 2))),
                ..Hooks::default()
            },
            DisqualificationReason::NoCommitments,
        ),
        (
            Hooks {
                shares: Some(Box::new(|s| s.retain(|r| r.dealer != 2))),
                ..Hooks::default()
            },
            DisqualificationReason::NoShares,
        ),
        (
            Hooks {
                shares: Some(Box::new(|s| {
                    s[1].shares.pop();
                })),
                ..Hooks::default()
            },
            DisqualificationReason::WrongShareRecipients,
        ),
    ];
    for (hooks, reason) in cases {
        let (outcome, _) = keys(run(2, 3, hooks));
        assert_eq!(
            outcome.disqualified,
            vec![Disqualification { dealer: 2, reason }]
        );
        assert_eq!(outcome.qualified, vec![1, 3]);
    }
}

#[test]
fn coefficient_proofs_are_checked_by_every_observer() {
    // Swapping two proofs keeps the hash (it covers the points) but breaks both proofs.
    let run = run(
        3,
        3,
        Hooks {
            commitments: Some(Box::new(|c| {
                let first = c[0].coefficients[0].1;
                c[0].coefficients[0].1 = c[0].coefficients[1].1;
                c[0].coefficients[1].1 = first;
            })),
            ..Hooks::default()
        },
    );
    // 3-of-3 with a dealer out: there is no key.
    assert_eq!(
        verify_ceremony(&run.transcript).unwrap_err(),
        CeremonyFault::TooFewQualified {
            qualified: 2,
            threshold: 3
        }
    );
    assert!(run.finished.iter().all(|f| matches!(
        f,
        Err(CeremonyError::Fault(CeremonyFault::TooFewQualified { .. }))
    )));
}

#[test]
fn coefficient_proof_fails_under_each_altered_public_input() {
    let run = run(2, 3, Hooks::default());
    let context = CeremonyContext::new(
        run.transcript.ceremony_id,
        run.transcript.open.clone(),
        &run.transcript.registrations,
    )
    .unwrap();
    let (A, proof) = run.transcript.commitments[1].coefficients[1];
    let (A0, _) = run.transcript.commitments[1].coefficients[0];
    let good = verify::coefficient_binding(2, 1);
    proof
        .verify(&ProofContext::new(context.hash(), &good), &A)
        .unwrap();
    let other_context = ContextHash([0; 32]);
    assert!(
        proof
            .verify(&ProofContext::new(&other_context, &good), &A)
            .is_err(),
        "context"
    );
    let other_dealer = verify::coefficient_binding(3, 1);
    assert!(
        proof
            .verify(&ProofContext::new(context.hash(), &other_dealer), &A)
            .is_err(),
        "dealer"
    );
    let other_k = verify::coefficient_binding(2, 0);
    assert!(
        proof
            .verify(&ProofContext::new(context.hash(), &other_k), &A)
            .is_err(),
        "k"
    );
    assert!(
        proof
            .verify(&ProofContext::new(context.hash(), &good), &A0)
            .is_err(),
        "A"
    );
    // The context hash covers the ceremony id, the threshold and each trustee's keys.
    let mut other_id = run.transcript.ceremony_id;
    other_id[0] ^= 1;
    let moved = CeremonyContext::new(
        other_id,
        run.transcript.open.clone(),
        &run.transcript.registrations,
    )
    .unwrap();
    assert_ne!(moved.hash(), context.hash());
    let mut registrations = run.transcript.registrations.clone();
    registrations.swap(0, 1);
    registrations[0].trustee = 1;
    registrations[1].trustee = 2;
    let swapped = CeremonyContext::new(
        run.transcript.ceremony_id,
        run.transcript.open.clone(),
        &registrations,
    )
    .unwrap();
    assert_ne!(swapped.hash(), context.hash());
    let mut identities = run.transcript.open.identities.clone();
    identities[2][0] ^= 1;
    let reidentified = CeremonyContext::new(
        run.transcript.ceremony_id,
        CeremonyOpen::new(2, identities).unwrap(),
        &run.transcript.registrations,
    )
    .unwrap();
    assert_ne!(reidentified.hash(), context.hash());
    let rethresholded = CeremonyContext::new(
        run.transcript.ceremony_id,
        CeremonyOpen::new(3, run.transcript.open.identities.clone()).unwrap(),
        &run.transcript.registrations,
    )
    .unwrap();
    assert_ne!(rethresholded.hash(), context.hash());
}

#[test]
fn transcript_faults_are_named() {
    let base = run(2, 3, Hooks::default()).transcript;
    let mut t = base.clone();
    t.registrations.pop();
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::MissingRegistration { trustee: 3 }
    );
    let mut t = base.clone();
    t.commitments.push(t.commitments[0].clone());
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::DuplicateRecord {
            record: "ceremony.commitments",
            trustee: 1
        }
    );
    let mut t = base.clone();
    t.shares[0].dealer = 4;
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::UnknownTrustee {
            record: "ceremony.shares",
            trustee: 4
        }
    );
    let mut t = base.clone();
    t.answers.push(ComplaintAnswer {
        dealer: 1,
        recipient: 2,
        share: Scalar::ZERO,
    });
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::UnsolicitedAnswer {
            dealer: 1,
            recipient: 2
        }
    );
    let mut t = base.clone();
    t.shares.retain(|s| s.dealer != 1);
    t.complaints.push(Complaint {
        complainer: 2,
        dealer: 1,
        reason: ComplaintReason::Undecryptable,
    });
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::ComplaintWithoutShares {
            complainer: 2,
            dealer: 1
        }
    );
    // A complaint naming a dealer beyond n is an unknown trustee, not a complaint
    // against a dealer without shares.
    let mut t = base.clone();
    t.complaints.push(Complaint {
        complainer: 1,
        dealer: 4,
        reason: ComplaintReason::ShareMismatch,
    });
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::UnknownTrustee {
            record: "ceremony.complaint",
            trustee: 4
        }
    );
    let mut t = base;
    let c = Complaint {
        complainer: 2,
        dealer: 1,
        reason: ComplaintReason::Undecryptable,
    };
    t.complaints = vec![c, c];
    assert_eq!(
        verify_ceremony(&t).unwrap_err(),
        CeremonyFault::DuplicateRecord {
            record: "ceremony.complaint",
            trustee: 2
        }
    );
}

#[test]
fn bad_decryption_share_is_rejected_naming_its_trustee() {
    let (outcome, keys) = keys(run(2, 3, Hooks::default()));
    let ciphertexts = encrypt(&outcome, &[1, 2]);
    let shares = keys[1]
        .decryption_shares(&ELECTION, &ciphertexts, &mut rand::rng())
        .unwrap();
    verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &shares).unwrap();
    let invalid = |ciphertext| DecryptionError::InvalidShare {
        trustee: 2,
        ciphertext,
    };

    // D altered.
    let mut bad = shares.clone();
    if let DecryptionShare::Proven { D, .. } = &mut bad.shares[1] {
        *D = Point::from_ristretto(D.as_ristretto() + D.as_ristretto());
    }
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        invalid(1)
    );
    // Proof altered.
    let mut bad = shares.clone();
    if let DecryptionShare::Proven { proof, .. } = &mut bad.shares[0] {
        proof.z = Scalar::from_dalek(proof.z.as_dalek() + curve25519_dalek::scalar::Scalar::ONE);
    }
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        invalid(0)
    );
    // Another election.
    assert_eq!(
        verify_decryption_shares(&outcome, &ContextHash([43; 32]), &ciphertexts, &shares)
            .unwrap_err(),
        invalid(0)
    );
    // Shares swapped between positions.
    let mut bad = shares.clone();
    bad.shares.swap(0, 1);
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        invalid(0)
    );
    // Claimed by another trustee (another S_j and another binding).
    let mut bad = shares.clone();
    bad.trustee = 3;
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        DecryptionError::InvalidShare {
            trustee: 3,
            ciphertext: 0
        }
    );
    // Other ciphertexts (another α).
    let other = encrypt(&outcome, &[1, 2]);
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &other, &shares).unwrap_err(),
        invalid(0)
    );
    // A trivial share for a real ciphertext, and the wrong count.
    let mut bad = shares.clone();
    bad.shares[1] = DecryptionShare::Trivial;
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        invalid(1)
    );
    let mut bad = shares.clone();
    bad.shares.pop();
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        DecryptionError::WrongCount {
            trustee: 2,
            expected: 2,
            found: 1
        }
    );
    let mut bad = shares.clone();
    bad.trustee = 9;
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &bad).unwrap_err(),
        DecryptionError::UnknownTrustee { trustee: 9 }
    );
    // Verified against other ciphertexts, then combined: refused.
    let v1 = verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &shares).unwrap();
    let s3 = keys[2]
        .decryption_shares(&ELECTION, &other, &mut rand::rng())
        .unwrap();
    let v3 = verify_decryption_shares(&outcome, &ELECTION, &other, &s3).unwrap();
    assert_eq!(
        combine(2, &ciphertexts, &[v1.clone(), v3]).unwrap_err(),
        DecryptionError::DifferentCiphertexts { trustee: 3 }
    );
    assert_eq!(
        combine(2, &ciphertexts, &[v1.clone(), v1]).unwrap_err(),
        DecryptionError::DuplicateTrustee { trustee: 2 }
    );
}

/// spec/20 §20.7: the DLEQ binding bytes are exactly DECRYPTION_SHARE ‖ u16(j) ‖ u32(m),
/// built here from the spec text, so a share verifies under urne-crypto's own DLEQ
/// check with them (and with nothing else); and the verified set names its trustee.
#[test]
fn decryption_share_proofs_bind_the_spec_bytes() {
    use urne_crypto::proofs::DleqStatement;
    let (outcome, keys) = keys(run(2, 3, Hooks::default()));
    let ciphertexts = encrypt(&outcome, &[5, 6, 7]);
    for key in &keys {
        let shares = key
            .decryption_shares(&ELECTION, &ciphertexts, &mut rand::rng())
            .unwrap();
        assert_eq!(shares.poster(), key.trustee());
        let verified =
            verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &shares).unwrap();
        assert_eq!(verified.trustee(), key.trustee());
        for (m, (ciphertext, share)) in ciphertexts.iter().zip(&shares.shares).enumerate() {
            let DecryptionShare::Proven { D, proof } = share else {
                panic!("α ≠ O takes a proven share");
            };
            let mut binding = b"urne/v1/ceremony/decryption-share".to_vec();
            binding.extend_from_slice(&key.trustee().to_be_bytes());
            binding.extend_from_slice(&(m as u32).to_be_bytes());
            let G = urne_crypto::group::basepoint();
            let statement = DleqStatement {
                G1: &G,
                X1: key.verification_key(),
                G2: ciphertext.alpha(),
                X2: D,
            };
            proof
                .verify(&ProofContext::new(&ELECTION, &binding), &statement)
                .unwrap();
            binding.push(0);
            assert!(
                proof
                    .verify(&ProofContext::new(&ELECTION, &binding), &statement)
                    .is_err()
            );
        }
    }
}

/// Each record names who posts it (the board checks the envelope's signer against it,
/// spec/20 §20.9).
#[test]
fn every_record_names_its_poster() {
    let run = run(2, 3, Hooks::default());
    let t = &run.transcript;
    for (j, r) in (1u16..).zip(&t.registrations) {
        assert_eq!(r.poster(), j);
    }
    for (i, ((h, c), s)) in (1u16..).zip(
        t.commitment_hashes
            .iter()
            .zip(&t.commitments)
            .zip(&t.shares),
    ) {
        assert_eq!((h.poster(), c.poster(), s.poster()), (i, i, i));
    }
    let complaint = Complaint {
        complainer: 3,
        dealer: 1,
        reason: ComplaintReason::ShareMismatch,
    };
    assert_eq!(complaint.poster(), 3);
    let answer = ComplaintAnswer {
        dealer: 1,
        recipient: 3,
        share: Scalar::ZERO,
    };
    assert_eq!(answer.poster(), 1);
}

/// spec/20 §20.3: a `tally.decryption-shares` count may equal the body's length (it is
/// then refused as truncated, where the entries run out); only a larger one is refused
/// at `count`, before anything is allocated.
#[test]
fn a_share_count_is_bounded_by_the_body_length() {
    let body = |count: u32, entries: usize| {
        let mut b = vec![1, 0, 1];
        b.extend_from_slice(&count.to_be_bytes());
        b.extend(std::iter::repeat_n(0u8, entries));
        b
    };
    let at_length = body(20, 13);
    assert_eq!(at_length.len(), 20);
    assert_eq!(
        DecryptionShares::decode(&at_length).unwrap_err().field,
        "shares[13].tag"
    );
    assert_eq!(
        DecryptionShares::decode(&body(21, 13)).unwrap_err().field,
        "count"
    );
    assert_eq!(
        DecryptionShares::decode(&body(13, 13))
            .unwrap()
            .shares
            .len(),
        13
    );
}

/// spec/20 §20.6 step 5: two dealers whose constant terms cancel (dealer 2 posts
/// A_20 = −A_10 with a true proof of knowledge, which it can only do with dealer 1's
/// help) pass every per-dealer check; only the joint-key check refuses the outcome.
#[test]
fn a_joint_key_of_identity_is_a_fault() {
    use urne_crypto::SecretScalar;
    use urne_crypto::proofs::SchnorrProof;
    let mut rng = rand::rng();
    let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).unwrap();
    let (setups, registrations): (Vec<_>, Vec<_>) =
        (1..=2).map(|j| TrusteeSetup::new(j, &mut rng)).unzip();
    let context = CeremonyContext::new([9; 32], open.clone(), &registrations).unwrap();
    let (states, mut hashes): (Vec<_>, Vec<_>) = setups
        .into_iter()
        .map(|s| s.begin(context.clone(), &mut rng).unwrap())
        .unzip();
    let a =
        SecretScalar::from_dalek(-states[0].common.polynomial.coefficients()[0].expose_secret());
    let A =
        Point::from_ristretto(urne_crypto::group::basepoint().as_ristretto() * a.expose_secret());
    let binding = verify::coefficient_binding(2, 0);
    let proof = SchnorrProof::prove(
        &ProofContext::new(context.hash(), &binding),
        &a,
        &A,
        &mut rng,
    )
    .unwrap();
    // Dealer 2 keeps its own coefficient 1 (and its proof) and replaces only A_20.
    let A_21 = Point::from_ristretto(
        urne_crypto::group::basepoint().as_ristretto()
            * states[1].common.polynomial.coefficients()[1].expose_secret(),
    );
    hashes[1] = CommitmentHash {
        dealer: 2,
        hash: CommitmentHash::of(context.hash(), 2, &[A, A_21]),
    };
    let (states, mut commitments): (Vec<_>, Vec<_>) =
        states.into_iter().map(|s| s.reveal(hashes.clone())).unzip();
    assert_eq!(commitments[1].coefficients[1].0, A_21);
    commitments[1].coefficients[0] = (A, proof);
    let shares: Vec<EncryptedShares> = states
        .into_iter()
        .map(|s| s.deal(commitments.clone(), &mut rng).unwrap().1)
        .collect();
    let transcript = CeremonyTranscript {
        ceremony_id: [9; 32],
        open,
        registrations,
        commitment_hashes: hashes,
        commitments,
        shares,
        complaints: vec![],
        answers: vec![],
    };
    assert_eq!(
        verify_ceremony(&transcript).unwrap_err(),
        CeremonyFault::JointKeyIsIdentity
    );
}

/// spec/20-ceremony.md §20.7 check 3, the empty-contest rule: α = O takes the trivial
/// entry and nothing else. A proven entry for α = O carries a DLEQ proof that verifies on
/// its own (spec/04 §4.3.1 allows G2 = O), so only this rule refuses it.
#[test]
fn an_empty_sum_takes_the_trivial_share_and_a_proven_one_is_refused() {
    use urne_crypto::proofs::{DleqProof, DleqStatement};
    let (outcome, keys) = keys(run(2, 3, Hooks::default()));
    let mut ciphertexts = encrypt(&outcome, &[3]);
    ciphertexts.push(Ciphertext::zero());
    let key = &keys[0];
    let honest = key
        .decryption_shares(&ELECTION, &ciphertexts, &mut rand::rng())
        .unwrap();
    assert_eq!(honest.shares[1], DecryptionShare::Trivial);
    verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &honest).unwrap();

    let mut binding = labels::DECRYPTION_SHARE.to_vec();
    binding.extend_from_slice(&key.trustee().to_be_bytes());
    binding.extend_from_slice(&1u32.to_be_bytes());
    let identity = Point::identity();
    let G = urne_crypto::group::basepoint();
    let statement = DleqStatement {
        G1: &G,
        X1: key.verification_key(),
        G2: &identity,
        X2: &identity,
    };
    let context = ProofContext::new(&ELECTION, &binding);
    let proof = DleqProof::prove(&context, &statement, &key.share, &mut rand::rng()).unwrap();
    proof.verify(&context, &statement).unwrap();
    let mut proven = honest.clone();
    proven.shares[1] = DecryptionShare::Proven { D: identity, proof };
    assert_eq!(DecryptionShares::decode(&proven.encode()).unwrap(), proven);
    assert_eq!(
        verify_decryption_shares(&outcome, &ELECTION, &ciphertexts, &proven).unwrap_err(),
        DecryptionError::InvalidShare {
            trustee: key.trustee(),
            ciphertext: 1
        }
    );
}

/// spec/20 §20.8: the state file's own memory bound (4 GiB) is the one applied, before any
/// work; the other bounds, at both ends, are urne-sealed's tests.
#[test]
fn the_state_files_memory_bound_is_checked_before_any_work() {
    let (_, mut keys) = keys(run(2, 3, Hooks::default()));
    let heavy = state_file::KdfParams {
        memory_kib: state_file::MAX_MEMORY_KIB + 1,
        ..state_file::KdfParams::RECOMMENDED
    };
    assert!(matches!(
        state_file::seal(&keys.remove(0), b"pass", heavy, &mut rand::rng()),
        Err(state_file::StateFileError::BadParameters {
            field: "memory_kib",
            ..
        })
    ));
}

#[test]
fn trustee_key_survives_the_state_file_and_a_wrong_passphrase_is_refused() {
    let (outcome, mut keys) = keys(run(2, 3, Hooks::default()));
    let key = keys.remove(0);
    assert!(!format!("{key:?}").contains(&urne_crypto::encoding::to_hex(
        key.share.to_bytes().as_ref()
    )));
    let params = state_file::KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let dir = std::env::temp_dir().join(format!("urne-ceremony-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("trustee-1.state");
    state_file::write(&path, &key, b"correct horse", params, &mut rand::rng()).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the state file is readable by others: {mode:o}"
        );
    }
    // A second write never replaces the share already kept.
    let before = std::fs::read(&path).unwrap();
    match state_file::write(&path, &key, b"other", params, &mut rand::rng()) {
        Err(state_file::StateFileError::Io(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists)
        }
        other => panic!("a second write must be refused: {other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let restored = state_file::read(&path, b"correct horse").unwrap();
    assert_eq!(restored.trustee(), 1);
    assert_eq!(restored.verification_key(), key.verification_key());
    assert_eq!(restored.joint_key(), key.joint_key());
    assert_eq!(restored.ceremony(), key.ceremony());
    // The restored key decrypts with trustee 2.
    let ciphertexts = encrypt(&outcome, &[4]);
    let keys = [restored, keys.remove(0)];
    assert_eq!(
        decrypt_with(&outcome, &keys, &[1, 2], &ciphertexts).unwrap(),
        plaintext_points(&[4])
    );

    assert!(matches!(
        state_file::read(&path, b"correct horsf"),
        Err(state_file::StateFileError::WrongPassphrase)
    ));
    let bytes = std::fs::read(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    // Weaker parameters written into the header are caught by the AEAD.
    let mut weaker = bytes.clone();
    let at = labels::STATE_FILE_MAGIC.len() + 1;
    weaker[at + 3] = 32;
    assert!(matches!(
        state_file::open(&weaker, b"correct horse"),
        Err(state_file::StateFileError::WrongPassphrase)
    ));
    // Absurd parameters are refused before any work.
    let mut huge = bytes.clone();
    huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        state_file::open(&huge, b"correct horse"),
        Err(state_file::StateFileError::BadParameters {
            field: "memory_kib",
            ..
        })
    ));
    let mut other = bytes.clone();
    other[0] ^= 1;
    assert!(matches!(
        state_file::open(&other, b"correct horse"),
        Err(state_file::StateFileError::NotAStateFile { field: "magic" })
    ));
    let mut other = bytes.clone();
    other[at - 1] = 2;
    assert!(matches!(
        state_file::open(&other, b"correct horse"),
        Err(state_file::StateFileError::NotAStateFile { field: "version" })
    ));
    let mut longer = bytes;
    longer.push(0);
    assert!(matches!(
        state_file::open(&longer, b"correct horse"),
        Err(state_file::StateFileError::NotAStateFile { field: "length" })
    ));
}

mod decoding {
    use super::*;
    use crate::codec::DecodeProblem;
    use urne_crypto::DecodeErrorKind;

    type Decoder = fn(&[u8]) -> Result<Vec<u8>, DecodeError>;

    /// Every body of a real 2-of-3 ceremony with one complaint, and its decoder (which
    /// re-encodes, so a round trip is checked too).
    fn bodies() -> Vec<(&'static str, Vec<u8>, Decoder)> {
        let run = run(
            2,
            3,
            Hooks {
                shares: Some(flip_share_ciphertext(1, 3)),
                ..Hooks::default()
            },
        );
        let t = &run.transcript;
        let (outcome, keys) = keys(Run {
            transcript: t.clone(),
            finished: run.finished,
        });
        let ciphertexts = encrypt(&outcome, &[1]);
        let shares = keys[0]
            .decryption_shares(&ELECTION, &ciphertexts, &mut rand::rng())
            .unwrap();
        vec![
            ("ceremony.open", t.open.encode(), |b| {
                CeremonyOpen::decode(b).map(|r| r.encode())
            }),
            ("ceremony.register", t.registrations[0].encode(), |b| {
                TrusteeRegistration::decode(b).map(|r| r.encode())
            }),
            (
                "ceremony.commitment-hash",
                t.commitment_hashes[0].encode(),
                |b| CommitmentHash::decode(b).map(|r| r.encode()),
            ),
            ("ceremony.commitments", t.commitments[0].encode(), |b| {
                Commitments::decode(b).map(|r| r.encode())
            }),
            ("ceremony.shares", t.shares[0].encode(), |b| {
                EncryptedShares::decode(b).map(|r| r.encode())
            }),
            ("ceremony.complaint", t.complaints[0].encode(), |b| {
                Complaint::decode(b).map(|r| r.encode())
            }),
            ("ceremony.answer", t.answers[0].encode(), |b| {
                ComplaintAnswer::decode(b).map(|r| r.encode())
            }),
            ("tally.decryption-shares", shares.encode(), |b| {
                DecryptionShares::decode(b).map(|r| r.encode())
            }),
        ]
    }

    #[test]
    fn every_body_round_trips_and_refuses_trailing_bytes_wrong_version_and_truncation() {
        for (name, bytes, decode) in bodies() {
            assert_eq!(decode(&bytes).unwrap(), bytes, "{name} round trip");
            let mut longer = bytes.clone();
            longer.push(0);
            let err = decode(&longer).unwrap_err();
            assert_eq!(err.record, name);
            assert_eq!(
                err.problem,
                DecodeProblem::TrailingBytes { count: 1 },
                "{name}"
            );
            let mut other_version = bytes.clone();
            other_version[0] = 2;
            let err = decode(&other_version).unwrap_err();
            assert_eq!(
                (err.field.as_str(), &err.problem),
                ("version", &DecodeProblem::UnsupportedVersion { found: 2 }),
                "{name}"
            );
            for cut in 0..bytes.len() {
                let err = decode(&bytes[..cut]).unwrap_err();
                assert!(
                    matches!(err.problem, DecodeProblem::Truncated { .. }),
                    "{name} cut at {cut}: {err}"
                );
            }
        }
    }

    #[test]
    fn non_canonical_points_and_scalars_are_refused_naming_the_field() {
        let bodies = bodies();
        let cases: [(usize, usize, &str, DecodeErrorKind); 7] = [
            (1, 3, "share_key", DecodeErrorKind::NonCanonicalPoint),
            (
                3,
                5,
                "coefficients[0].A",
                DecodeErrorKind::NonCanonicalPoint,
            ),
            (
                3,
                5 + 32 + 1,
                "coefficients[0].proof.A",
                DecodeErrorKind::NonCanonicalPoint,
            ),
            (4, 3, "ephemeral", DecodeErrorKind::NonCanonicalPoint),
            (6, 5, "share", DecodeErrorKind::NonCanonicalScalar),
            (7, 8, "shares[0].D", DecodeErrorKind::NonCanonicalPoint),
            (
                7,
                8 + 32 + 1,
                "shares[0].proof.A1",
                DecodeErrorKind::NonCanonicalPoint,
            ),
        ];
        for (body, offset, field, kind) in cases {
            let (name, bytes, decode) = &bodies[body];
            let mut bad = bytes.clone();
            bad[offset..offset + 32].fill(0xff);
            let err = decode(&bad).unwrap_err();
            assert_eq!(err.field, field, "{name}: {err}");
            assert_eq!(err.problem, DecodeProblem::Encoding(kind), "{name}");
        }
        // The identity is refused where a key or commitment is expected.
        for (body, offset, field) in [
            (1, 3, "share_key"),
            (3, 5, "coefficients[0].A"),
            (4, 3, "ephemeral"),
        ] {
            let (name, bytes, decode) = &bodies[body];
            let mut bad = bytes.clone();
            bad[offset..offset + 32].fill(0);
            let err = decode(&bad).unwrap_err();
            assert_eq!(
                (err.field.as_str(), &err.problem),
                (
                    field,
                    &DecodeProblem::Encoding(DecodeErrorKind::IdentityPoint)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn indices_counts_and_order_out_of_bounds_are_refused() {
        let bodies = bodies();
        let field_of = |body: usize, patch: &dyn Fn(&mut Vec<u8>)| {
            let (_, bytes, decode) = &bodies[body];
            let mut bad = bytes.clone();
            patch(&mut bad);
            decode(&bad).unwrap_err().field
        };
        // ceremony.open: t = 0, t = 1 (one key-holder alone, spec/20 §20.1), t > n, n = 0,
        // n = 1 (with t = 1), a repeated identity.
        assert_eq!(
            field_of(0, &|b| b[1..3].copy_from_slice(&[0, 0])),
            "threshold"
        );
        assert_eq!(
            field_of(0, &|b| b[1..3].copy_from_slice(&[0, 1])),
            "threshold"
        );
        assert_eq!(
            field_of(0, &|b| b[1..3].copy_from_slice(&[0, 4])),
            "threshold"
        );
        assert_eq!(
            field_of(0, &|b| b[3..5].copy_from_slice(&[0, 0])),
            "trustee_count"
        );
        assert_eq!(
            field_of(0, &|b| {
                b[1..5].copy_from_slice(&[0, 1, 0, 1]);
                b.truncate(5 + 32);
            }),
            "trustee_count"
        );
        // The constructor is the decoder: t = 1 is no ceremony, whatever n.
        let refused = CeremonyOpen::new(1, vec![[1; 32], [2; 32]]).unwrap_err();
        assert_eq!(refused.field, "threshold");
        assert!(
            refused.to_string().contains("one key-holder alone"),
            "{refused}"
        );
        assert!(CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).is_ok());
        assert_eq!(
            field_of(0, &|b| {
                let first: Vec<u8> = b[5..37].to_vec();
                b[37..69].copy_from_slice(&first)
            }),
            "identities[1]"
        );
        // Trustee index 0.
        assert_eq!(
            field_of(1, &|b| b[1..3].copy_from_slice(&[0, 0])),
            "trustee"
        );
        assert_eq!(field_of(2, &|b| b[1..3].copy_from_slice(&[0, 0])), "dealer");
        // Commitments: a count of 0.
        assert_eq!(field_of(3, &|b| b[3..5].copy_from_slice(&[0, 0])), "count");
        // Shares: a recipient equal to the dealer (dealer 1; first recipient 2 at 37).
        assert_eq!(
            field_of(4, &|b| b[37..39].copy_from_slice(&[0, 1])),
            "shares[0].recipient"
        );
        // Shares: recipients out of order.
        assert_eq!(
            field_of(4, &|b| b[87..89].copy_from_slice(&[0, 2])),
            "shares[1].recipient"
        );
        // A complaint against oneself, and an unknown reason.
        assert_eq!(field_of(5, &|b| b.copy_within(1..3, 3)), "dealer");
        assert_eq!(field_of(5, &|b| b[5] = 3), "reason");
        // An answer to oneself.
        assert_eq!(field_of(6, &|b| b.copy_within(1..3, 3)), "recipient");
        // Decryption shares: an unknown tag, and a count beyond the bytes.
        assert_eq!(field_of(7, &|b| b[7] = 2), "shares[0].tag");
        assert_eq!(
            field_of(7, &|b| b[3..7].copy_from_slice(&u32::MAX.to_be_bytes())),
            "count"
        );
    }
}

#[test]
fn coefficient_count_and_proofs_are_checked_per_dealer() {
    let base = run(2, 3, Hooks::default()).transcript;
    let context =
        CeremonyContext::new(base.ceremony_id, base.open.clone(), &base.registrations).unwrap();

    // One coefficient too few, under a hash that matches it: the count check catches it.
    let mut t = base.clone();
    t.commitments[0].coefficients.pop();
    t.commitment_hashes[0].hash = CommitmentHash::of(context.hash(), 1, &t.commitments[0].points());
    let outcome = verify_ceremony(&t).unwrap();
    assert_eq!(
        outcome.disqualified,
        vec![Disqualification {
            dealer: 1,
            reason: DisqualificationReason::WrongCoefficientCount { found: 1 }
        }]
    );
    assert_eq!(outcome.qualified, vec![2, 3]);

    // Proofs swapped between coefficients: the hash still matches, the proofs do not.
    let mut t = base.clone();
    let first = t.commitments[0].coefficients[0].1;
    t.commitments[0].coefficients[0].1 = t.commitments[0].coefficients[1].1;
    t.commitments[0].coefficients[1].1 = first;
    assert_eq!(
        verify_ceremony(&t).unwrap().disqualified,
        vec![Disqualification {
            dealer: 1,
            reason: DisqualificationReason::BadCoefficientProof { coefficient: 0 }
        }]
    );

    // Dealer 2's commitments and proofs replayed as dealer 3's (with a matching hash):
    // the proofs are bound to dealer 2.
    let mut t = base;
    let mut copied = t.commitments[1].clone();
    copied.dealer = 3;
    t.commitments[2] = copied;
    t.commitment_hashes[2].hash = CommitmentHash::of(context.hash(), 3, &t.commitments[2].points());
    assert_eq!(
        verify_ceremony(&t).unwrap().disqualified,
        vec![Disqualification {
            dealer: 3,
            reason: DisqualificationReason::BadCoefficientProof { coefficient: 0 }
        }]
    );
}

#[test]
fn a_trustee_refuses_a_context_that_is_not_its_own() {
    let mut rng = rand::rng();
    let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).unwrap();
    let (_, reg1) = TrusteeSetup::new(1, &mut rng);
    let (_, reg2) = TrusteeSetup::new(2, &mut rng);
    let context = CeremonyContext::new([0; 32], open, &[reg1, reg2]).unwrap();
    // Trustee 1's key is not the one registered for index 1.
    let (impostor, _) = TrusteeSetup::new(1, &mut rng);
    assert!(matches!(
        impostor.begin(context.clone(), &mut rng),
        Err(CeremonyError::ShareKeyMismatch { trustee: 1 })
    ));
    let (outsider, _) = TrusteeSetup::new(3, &mut rng);
    assert!(matches!(
        outsider.begin(context, &mut rng),
        Err(CeremonyError::NotInCeremony { trustee: 3 })
    ));
}

#[test]
fn a_state_file_whose_share_disagrees_with_its_verification_key_is_refused() {
    let (_, mut keys) = keys(run(2, 2, Hooks::default()));
    let mut key = keys.remove(0);
    key.verification_key = *keys[0].verification_key();
    let params = state_file::KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let bytes = state_file::seal(&key, b"pass", params, &mut rand::rng()).unwrap();
    assert!(matches!(
        state_file::open(&bytes, b"pass"),
        Err(state_file::StateFileError::Inconsistent { .. })
    ));
}

#[test]
fn debug_output_of_every_state_shows_no_secret() {
    let mut rng = rand::rng();
    let open = CeremonyOpen::new(2, vec![[1; 32], [2; 32]]).unwrap();
    let (setup, registration) = TrusteeSetup::new(1, &mut rng);
    let (other, other_registration) = TrusteeSetup::new(2, &mut rng);
    let share_key_secret =
        urne_crypto::encoding::to_hex(setup.share_key_secret.to_bytes().as_ref());
    let context = CeremonyContext::new([0; 32], open, &[registration, other_registration]).unwrap();
    let (state, hash) = setup.begin(context.clone(), &mut rng).unwrap();
    let (other, other_hash) = other.begin(context, &mut rng).unwrap();
    let coefficient = urne_crypto::encoding::to_hex(
        state.common.polynomial.coefficients()[0]
            .to_bytes()
            .as_ref(),
    );
    let secrets = [share_key_secret, coefficient];
    let clean = |shown: String| {
        for secret in &secrets {
            assert!(!shown.contains(secret.as_str()), "{shown}");
        }
    };
    // Trustee 1's states are shown; trustee 2 only sends what trustee 1 receives.
    clean(format!("{state:?}"));
    let hashes = vec![hash, other_hash];
    let (state, commitments) = state.reveal(hashes.clone());
    let (other, other_commitments) = other.reveal(hashes);
    clean(format!("{state:?}"));
    let commitments = vec![commitments, other_commitments];
    let (state, shares) = state.deal(commitments.clone(), &mut rng).unwrap();
    let (other, other_shares) = other.deal(commitments, &mut rng).unwrap();
    clean(format!("{state:?}"));
    let shares = vec![shares, other_shares];
    let (state, complaints) = state.receive(shares.clone());
    let (other, other_complaints) = other.receive(shares);
    clean(format!("{state:?}"));
    let complaints: Vec<_> = complaints.into_iter().chain(other_complaints).collect();
    assert!(complaints.is_empty());
    let (state, answers) = state.answer(complaints.clone());
    let (_, other_answers) = other.answer(complaints);
    clean(format!("{state:?}"));
    let answers: Vec<_> = answers.into_iter().chain(other_answers).collect();
    let done = state.finish(answers).unwrap();
    clean(format!("{done:?}"));
    assert!(format!("{done:?}").contains("<redacted>"));
}
