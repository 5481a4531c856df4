//! The recount a verifier runs over a petition's records (spec/32 §32.7): the same fold
//! as the board's, with every signature verified in one batch per bucket.

use std::collections::BTreeMap;

use rand_core::CryptoRng;
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;

use crate::body::PetitionResult;
use crate::error::{PetitionError, Violation};
use crate::kinds::{PETITION_DUPLICATE, PETITION_SIGN, PETITION_WITHDRAW};
use crate::phase::Phase;
use crate::signature::{self, RingSignature};
use crate::state::{Decoded, PetitionState};

/// Per bucket: (record index, context bytes, signature, district disclosed), verified
/// together at the end.
type Batches = BTreeMap<u32, Vec<(u64, Vec<u8>, RingSignature, Option<u32>)>>;

/// One record of the petition's context, as the log holds it.
#[derive(Clone, Debug)]
pub struct PetitionRecord {
    /// Its index in the log.
    pub index: u64,
    /// Its kind.
    pub kind: Kind,
    /// Its envelope's signer.
    pub signer: [u8; 32],
    /// Its body.
    pub body: Vec<u8>,
}

/// What the recount found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PetitionCount {
    /// The phase the records leave the petition in.
    pub phase: Phase,
    /// Distinct valid tags signed and not withdrawn.
    pub counted: u64,
    /// Tags withdrawn.
    pub withdrawn: u64,
    /// The threshold, once defined.
    pub threshold: Option<u64>,
    /// The result the authority posted, which the fold checked against the count.
    pub result: Option<PetitionResult>,
    /// Refused second signatures kept as evidence (`petition.duplicate`), never counted.
    pub duplicates: u64,
    /// Signatures per disclosed district, only for districts with at least the
    /// definition's minimum bin (spec/32 §32.11); the others are withheld.
    pub districts: Vec<(u32, u64)>,
}

fn violation(index: u64, e: PetitionError) -> Violation {
    Violation {
        index,
        field: e.field().to_owned(),
        reason: e.to_string(),
    }
}

/// Replays the records of the petition `context` (opened by `authority`, with `parameters`
/// the parameters hash of its `context.open`), in log order, after its `context.open`:
/// refuses the first record the board should have refused, naming it, its field and why;
/// otherwise returns the count.
pub fn recount<R: CryptoRng + ?Sized>(
    context: [u8; 32],
    authority: [u8; 32],
    parameters: [u8; 32],
    records: &[PetitionRecord],
    rng: &mut R,
) -> Result<PetitionCount, Violation> {
    let mut state = PetitionState::new(context, authority, parameters);
    let mut batches = Batches::new();
    let folded = fold(&mut state, records, &mut batches);
    let mut earliest = folded.err();
    if let Some(sealed) = state.sealed() {
        for (bucket, items) in &batches {
            let ring = match sealed.ring(*bucket) {
                Ok(ring) => ring,
                Err(e) => {
                    let index = items.first().map_or(0, |i| i.0);
                    earliest = Some(earlier(earliest, violation(index, e)));
                    continue;
                }
            };
            let refs: Vec<(Vec<u8>, &RingSignature, Option<u32>)> = items
                .iter()
                .map(|(_, c, s, d)| (c.clone(), s, *d))
                .collect();
            let commitments = if items.iter().any(|i| i.3.is_some()) {
                match sealed.commitment_ring(*bucket) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        let index = items.first().map_or(0, |i| i.0);
                        earliest = Some(earlier(earliest, violation(index, e)));
                        continue;
                    }
                }
            } else {
                None
            };
            if let Err(failures) =
                signature::verify_batch(ring, commitments, sealed.linking_base(), &refs, rng)
            {
                for (at, reason) in failures {
                    let index = items.get(at).map_or(0, |i| i.0);
                    // Evidence names its embedded body's fields under body.signed (§32.6 step 7).
                    let evidence = records
                        .binary_search_by_key(&index, |r| r.index)
                        .is_ok_and(|i| records[i].kind == PETITION_DUPLICATE);
                    let field = if evidence {
                        "body.signed.signature"
                    } else {
                        "body.signature"
                    };
                    earliest = Some(earlier(
                        earliest,
                        Violation {
                            index,
                            field: field.into(),
                            reason,
                        },
                    ));
                }
            }
        }
    }
    if let Some(v) = earliest {
        return Err(v);
    }
    Ok(PetitionCount {
        phase: state.phase(),
        counted: state.counted(),
        withdrawn: state.withdrawn(),
        threshold: state.definition().map(|d| d.threshold),
        result: state.result().copied(),
        duplicates: state.duplicates(),
        districts: state.district_counts(),
    })
}

/// spec/32 §32.6 steps 4, 5 and 7 check a signature before the tag it carries, and the
/// replay defers its ring verification to the batch: when a record fails a check that
/// comes after its signature, its signature is verified alone first, so a record whose
/// ring equation fails is named for it (`body.signature`), as the board names it, rather
/// than for a tag lookup a forged tag happens to fail. Only on the error path, so the
/// batch keeps its speed.
fn signature_first(
    state: &PetitionState,
    record: &PetitionRecord,
    decoded: &Decoded,
    refusal: PetitionError,
) -> PetitionError {
    let after_signature = ["body.signature.tag", "body.signed"]
        .iter()
        .any(|prefix| refusal.field().starts_with(prefix));
    let Some(sealed) = state.sealed().filter(|_| after_signature) else {
        return refusal;
    };
    let verified = match decoded {
        Decoded::Sign(body, _) => sealed.verify(false, &record.signer, body),
        Decoded::Withdraw(body, _) => sealed.verify(true, &record.signer, body),
        Decoded::Duplicate(duplicate, _) => sealed
            .verify(false, &duplicate.signer, &duplicate.body)
            .map_err(|e| match e {
                PetitionError::Invalid { field, reason } => PetitionError::Invalid {
                    field: field.replacen("body", "body.signed", 1),
                    reason,
                },
                other => other,
            }),
        _ => return refusal,
    };
    verified.err().unwrap_or(refusal)
}

fn earlier(a: Option<Violation>, b: Violation) -> Violation {
    match a {
        Some(a) if a.index <= b.index => a,
        _ => b,
    }
}

fn fold(
    state: &mut PetitionState,
    records: &[PetitionRecord],
    batches: &mut Batches,
) -> Result<(), Violation> {
    for record in records {
        let at = |e| violation(record.index, e);
        if record.kind == CONTEXT_PHASE {
            if record.signer != state.authority() {
                return Err(at(PetitionError::NotAuthorized(
                    "context.phase is posted by the petition's authority".into(),
                )));
            }
            let to = match record.body.as_slice() {
                [code] => Phase::from_code(*code).ok_or_else(|| {
                    PetitionError::invalid("body", format!("a petition has no phase {code}"))
                }),
                _ => Err(PetitionError::invalid("body", "one byte, the phase code")),
            }
            .map_err(at)?;
            state.apply_phase(to).map_err(at)?;
            continue;
        }
        let mut decoded = Decoded::decode(record.kind, &record.body)
            .ok_or_else(|| {
                PetitionError::invalid(
                    "kind",
                    format!("0x{:04x} is not a petition kind", record.kind.0),
                )
            })
            .and_then(|d| d)
            .map_err(at)?;
        if record.kind == PETITION_SIGN
            || record.kind == PETITION_WITHDRAW
            || record.kind == PETITION_DUPLICATE
        {
            let sealed = state.sealed().cloned().ok_or_else(|| {
                at(PetitionError::WrongPhase {
                    kind: crate::kinds::name(record.kind).unwrap_or("petition record"),
                    phase: state.phase().name(),
                })
            })?;
            let withdrawal = record.kind == PETITION_WITHDRAW;
            let (body, tag, signer) = match &mut decoded {
                Decoded::Sign(body, tag) | Decoded::Withdraw(body, tag) => {
                    (&*body, tag, &record.signer)
                }
                // Its signature binds the refused record's envelope key.
                Decoded::Duplicate(duplicate, tag) => (&duplicate.body, tag, &duplicate.signer),
                _ => continue,
            };
            sealed
                .check_disclosure(withdrawal, body.disclosed)
                .map_err(at)?;
            let signature = sealed.decode_signature(body).map_err(|e| {
                at(if record.kind == PETITION_DUPLICATE {
                    match e {
                        PetitionError::Invalid { field, reason } => PetitionError::Invalid {
                            field: field.replacen("body", "body.signed", 1),
                            reason,
                        },
                        other => other,
                    }
                } else {
                    e
                })
            })?;
            *tag = Some(signature.tag());
            batches.entry(body.bucket).or_default().push((
                record.index,
                sealed.context_bytes_disclosing(withdrawal, body.bucket, body.disclosed, signer),
                signature,
                body.disclosed,
            ));
        }
        if let Err(e) = state.check(&record.signer, &decoded) {
            return Err(at(signature_first(state, record, &decoded, e)));
        }
        state
            .apply(record.kind, &record.body, record.index)
            .map_err(at)?;
    }
    Ok(())
}
