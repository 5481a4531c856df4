//! vectors/petition.json (spec/31-registry.md, spec/32-petitions.md): a registry
//! snapshot in buckets of 4 with its id, entries root and every ring, and a petition's
//! records from definition to outcome with its count; negative cases, each one record
//! replaced, that the recount must refuse naming that record and field.
// The generator stops at the first vector it cannot make as described: every expect
// below is on our own fixed inputs. The checker reads files and returns errors instead.
#![allow(clippy::expect_used)]

use std::path::Path;

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use urne_credential::registry::{
    Cosignature, Register, Registrars, SignedSnapshot, Snapshot, SnapshotPart,
};
use urne_credential::wallet::{ATTRIBUTE_DISTRICT, EnrolmentRequest, Wallet};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::group::hash_to_group;
use urne_log::hash::{leaf_hash, root_of};
use urne_petition::kinds::*;
use urne_petition::signature::{self, BucketRing};
use urne_petition::{
    Definition, PetitionRecord, PetitionResult, Phase, SignatureBody, labels, recount,
};
use urne_record::Kind;
use urne_record::kinds::CONTEXT_PHASE;

use crate::VectorFile;
use crate::check::{Report, read};
use crate::generate::{derive, file, header};
use crate::rng::VectorRng;
use crate::schema::Header;

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PetitionVectors {
    header: Header,
    /// The petition's context id and its authority's key.
    context: String,
    authority: String,
    /// The parameters hash of its `context.open`: SHA-256 of the definition's body.
    parameters: String,
    /// The snapshot's id, entries root, and each bucket's ring in order.
    snapshot_id: String,
    entries_root: String,
    buckets: Vec<Vec<String>>,
    /// The petition's records after its `context.open`, in log order.
    records: Vec<RecordVector>,
    /// What the recount finds.
    phase: String,
    counted: u64,
    withdrawn: u64,
    /// `petition.duplicate` records kept (version-2 scenario only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    duplicates: Option<u64>,
    /// The per-district counts shown, bins below the minimum withheld (version 2 only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    districts: Option<Vec<(u32, u64)>>,
    negative: Vec<NegativeVector>,
    /// The same petition with a version-2 definition (floors, district disclosure) and
    /// snapshot (the deal keyed by the registry id), disclosing signatures and a refused
    /// duplicate kept as evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version_2: Option<Box<PetitionVectors>>,
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordVector {
    index: u64,
    kind: u16,
    signer: String,
    body: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct NegativeVector {
    name: String,
    /// The position in `records` whose kind, signer and body are replaced.
    position: usize,
    kind: u16,
    signer: String,
    body: String,
    /// The recount's refusal: the record's index and the field at fault.
    expect_index: u64,
    expect_field: String,
    /// When the negative replaces the definition: the parameters hash of the
    /// `context.open` that opened the petition with it (SHA-256 of its body), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parameters: Option<String>,
}

fn push(records: &mut Vec<RecordVector>, kind: Kind, signer: [u8; 32], body: Vec<u8>) {
    let index = 1 + records.len() as u64;
    records.push(RecordVector {
        index,
        kind: kind.0,
        signer: to_hex(&signer),
        body: to_hex(&body),
    });
}

/// Wallet 0 (district 1) answers for district 2 with its own blinding, over the honest
/// context bytes of a district-2 disclosure (spec/32 §32.5): everything but the attribute
/// relation holds, so only E5 fails (checked here), and the board names the signature.
fn another_district(
    snapshot: &Snapshot,
    wallets: &[Wallet],
    definition: &Definition,
    context: &[u8; 32],
    position: usize,
    records: &[RecordVector],
) -> NegativeVector {
    use urne_crypto::hazmat;
    use urne_crypto::triptych::{self, Attribute, Ring, Zeroizing};
    let wallet = &wallets[0];
    let district = wallet
        .attributes()
        .iter()
        .find(|a| a.code == ATTRIBUTE_DISTRICT)
        .expect("a district");
    assert_eq!(district.value, 1);
    let claimed = 2;
    let envelope = key("petition/envelope/another-district")
        .verifying_key()
        .to_bytes();
    let at = snapshot
        .position(&wallet.public_key())
        .expect("in the snapshot");
    let ring_of = |points: Vec<urne_crypto::Point>| {
        Ring::new(points.iter().map(|p| *p.as_ristretto()).collect()).expect("ring")
    };
    let ring = ring_of(snapshot.bucket(at.bucket).expect("bucket"));
    let commitments = ring_of(snapshot.bucket_commitments(at.bucket).expect("bucket"));
    let attribute = Attribute {
        commitments: &commitments,
        base: *urne_credential::wallet::district_generator(claimed).as_ristretto(),
    };
    let bytes = signature::context_bytes_disclosing(
        labels::SIGNATURE,
        context,
        &snapshot.id(),
        at.bucket,
        &definition.text_hash,
        Some(claimed),
        &envelope,
    );
    let linking_base = signature::linking_base(&snapshot.id(), context);
    let forged = hazmat::triptych_forge_disclosing_with_nonces(
        &ring,
        &attribute,
        at.index,
        &Zeroizing::new(*wallet.secret().expose_secret()),
        &Zeroizing::new(*district.blinding().expose_secret()),
        &linking_base,
        &bytes,
        &crate::triptych::nonces(
            "petition/another-district",
            ring.parameters().disclosing_nonce_count(),
        ),
    )
    .expect("forge");
    let verdict = triptych::verify_disclosing(&ring, &attribute, &linking_base, &bytes, &forged)
        .expect_err("a forgery");
    assert_eq!(verdict.spec_check(), "E5", "{verdict}");
    let body = SignatureBody {
        bucket: at.bucket,
        disclosed: Some(claimed),
        signature: forged.to_bytes(),
    };
    NegativeVector {
        name: "proof for another district over honest context bytes (fails E5 only)".into(),
        position,
        kind: PETITION_SIGN.0,
        signer: to_hex(&envelope),
        body: to_hex(&body.to_bytes()),
        expect_index: records[position].index,
        expect_field: "body.signature".into(),
        parameters: None,
    }
}

/// The version-2 definition's floors and disclosure policy (spec/32 §32.6 step 2,
/// §32.11), each made one step stricter than this log's snapshot and signatures meet, the
/// petition opened with that definition: the recount must name the one check, at the
/// snapshot (`body.bucket_bits`, `body.total`, `body.number`) or at the first disclosing
/// signature (`body.disclosure`), every other record unchanged.
fn stricter_definitions(
    definition: &Definition,
    records: &[RecordVector],
    first_sign: usize,
    (context, authority): ([u8; 32], [u8; 32]),
) -> Vec<NegativeVector> {
    let policy = definition.policy.expect("a version-2 definition");
    let snapshot_position = records
        .iter()
        .position(|r| r.kind == REGISTRY_SNAPSHOT.0)
        .expect("a snapshot");
    let cases = [
        (
            "definition: buckets of at least 2^3 keys (the snapshot's are 2^2)",
            urne_petition::Policy {
                min_bucket_bits: 3,
                ..policy
            },
            snapshot_position,
            "body.bucket_bits",
        ),
        (
            "definition: at least 4 registered keys per bucket (6 in 2 buckets leave 3)",
            urne_petition::Policy {
                min_real_keys: 4,
                ..policy
            },
            snapshot_position,
            "body.total",
        ),
        (
            "definition: snapshot 2 or later (the log's is 1)",
            urne_petition::Policy {
                min_snapshot: 2,
                ..policy
            },
            snapshot_position,
            "body.number",
        ),
        (
            "definition: no disclosure (the first signature discloses its district)",
            urne_petition::Policy {
                disclosure: None,
                ..policy
            },
            first_sign,
            "body.disclosure",
        ),
        (
            "definition: a minimum bin of 4 (district 1 has 3 people enrolled)",
            urne_petition::Policy {
                disclosure: Some(4),
                ..policy
            },
            first_sign,
            "body.disclosure",
        ),
    ];
    let all = records_of(records);
    cases
        .into_iter()
        .map(|(name, policy, position, field)| {
            let stricter = Definition {
                policy: Some(policy),
                ..definition.clone()
            };
            let body = stricter.to_bytes();
            let parameters: [u8; 32] = Sha256::digest(&body).into();
            let mut tampered = all.clone();
            tampered[0].body = body.clone();
            let found = recount(
                context,
                authority,
                parameters,
                &tampered,
                &mut VectorRng::new(name),
            )
            .expect_err(name);
            assert_eq!(
                (found.index, found.field.as_str()),
                (records[position].index, field),
                "{name}: {found}"
            );
            NegativeVector {
                name: name.into(),
                position: 0,
                kind: PETITION_DEFINE.0,
                signer: records[0].signer.clone(),
                body: to_hex(&body),
                expect_index: records[position].index,
                expect_field: field.into(),
                parameters: Some(to_hex(&parameters)),
            }
        })
        .collect()
}

fn records_of(v: &[RecordVector]) -> Vec<PetitionRecord> {
    records(v).expect("our own records")
}

fn key(name: &str) -> SigningKey {
    SigningKey::from_bytes(&derive(name).to_bytes())
}

const REGISTRY: [u8; 32] = [0x5e; 32];

pub(crate) fn generate() -> VectorFile {
    let mut first = scenario(false);
    first.version_2 = Some(Box::new(scenario(true)));
    file("petition.json", &first)
}

/// The petition of the file: version 1 as first published, or (`v2`) its version-2 twin.
fn scenario(v2: bool) -> PetitionVectors {
    let wallets: Vec<Wallet> = (0..6)
        .map(|i| {
            Wallet::generate(
                &[(ATTRIBUTE_DISTRICT, 1 + i % 2)],
                &mut VectorRng::new(&format!("petition/wallet/{i}")),
            )
            .expect("wallet")
        })
        .collect();
    let mut register = Register::new();
    for (i, w) in wallets.iter().enumerate() {
        let bytes = w
            .enrolment_request(
                &REGISTRY,
                &mut VectorRng::new(&format!("petition/enrol/{i}")),
            )
            .expect("request")
            .to_bytes();
        let request = EnrolmentRequest::decode_and_verify(&bytes, &REGISTRY).expect("verifies");
        register
            .enrol([i as u8; 32], &request, false)
            .expect("enrol");
    }
    let registrar_keys: Vec<SigningKey> = (0..3)
        .map(|i| key(&format!("petition/registrar/{i}")))
        .collect();
    let registrars = Registrars::new(
        2,
        registrar_keys
            .iter()
            .map(SigningKey::verifying_key)
            .collect(),
    )
    .expect("registrars");
    let (mut snapshot_header, entries) = register.snapshot_header(REGISTRY, 1, [0; 32], 2);
    // Version 1, as first published (spec/31 §31.6: keyed by the snapshot id): it must
    // keep replaying.
    if !v2 {
        snapshot_header.version = 1;
    }
    let id = snapshot_header.id();
    let signed = SignedSnapshot {
        header: snapshot_header,
        cosignatures: vec![
            Cosignature::sign(0, &registrar_keys[0], &id),
            Cosignature::sign(2, &registrar_keys[2], &id),
        ],
    };
    let snapshot = Snapshot::new(signed, entries).expect("snapshot");
    let authority = key("petition/authority");
    let context: [u8; 32] = Sha256::digest(b"urne/v1/test-vectors/petition/context").into();
    let definition = Definition {
        text_hash: Sha256::digest(b"Open the library on Sundays.\n").into(),
        threshold: 2,
        deadline: 1_900_000_000,
        scope: "City council of Urneville".into(),
        // Version 1, as first published: it must keep replaying.
        policy: v2.then_some(urne_petition::Policy {
            min_bucket_bits: 2,
            min_real_keys: 2,
            min_snapshot: 1,
            disclosure: Some(2),
        }),
        registry: REGISTRY,
        registrars,
    };
    let a = authority.verifying_key().to_bytes();
    let mut records = Vec::new();
    push(&mut records, PETITION_DEFINE, a, definition.to_bytes());
    push(
        &mut records,
        REGISTRY_SNAPSHOT,
        a,
        snapshot.signed().to_bytes(),
    );
    for part in snapshot.parts() {
        push(&mut records, REGISTRY_SNAPSHOT_PART, a, part.to_bytes());
    }
    push(&mut records, CONTEXT_PHASE, a, vec![Phase::Open.code()]);
    let signature = |who: usize, withdrawal: bool, n: usize, disclose: bool| {
        let envelope = key(&format!("petition/envelope/{n}"))
            .verifying_key()
            .to_bytes();
        let at = snapshot
            .position(&wallets[who].public_key())
            .expect("in the snapshot");
        let ring = BucketRing::new(&snapshot.bucket(at.bucket).expect("bucket")).expect("ring");
        let district = wallets[who]
            .attributes()
            .iter()
            .find(|a| a.code == ATTRIBUTE_DISTRICT)
            .expect("a district");
        let disclosed = disclose.then_some(district.value);
        let bytes = signature::context_bytes_disclosing(
            if withdrawal {
                labels::WITHDRAWAL
            } else {
                labels::SIGNATURE
            },
            &context,
            &snapshot.id(),
            at.bucket,
            &definition.text_hash,
            disclosed,
            &envelope,
        );
        let linking_base = signature::linking_base(&snapshot.id(), &context);
        let mut rng = VectorRng::new(&format!("petition/signature/{n}"));
        let sig = if disclose {
            let commitments =
                BucketRing::new(&snapshot.bucket_commitments(at.bucket).expect("bucket"))
                    .expect("ring");
            signature::sign_disclosing(
                &ring,
                &commitments,
                at.index,
                wallets[who].secret(),
                district.blinding(),
                district.value,
                &linking_base,
                &bytes,
                &mut rng,
            )
        } else {
            signature::sign(
                &ring,
                at.index,
                wallets[who].secret(),
                &linking_base,
                &bytes,
                &mut rng,
            )
        }
        .expect("signs");
        let body = SignatureBody {
            bucket: at.bucket,
            disclosed,
            signature: sig.to_bytes(),
        };
        (envelope, body.to_bytes())
    };
    for (n, who) in [0usize, 3, 5].into_iter().enumerate() {
        // Version 2: wallets 0 (district 1) and 5 (district 2) disclose.
        let (signer, body) = signature(who, false, n, v2 && who != 3);
        push(&mut records, PETITION_SIGN, signer, body);
    }
    let (signer, body) = signature(3, true, 3, false);
    push(&mut records, PETITION_WITHDRAW, signer, body);
    let withdraw_position = records.len() - 1;
    let mut evidence_position = None;
    if v2 {
        // Wallet 2 (district 1) discloses: district 1 reaches the bin of 2, district 2
        // (wallet 5 alone) is withheld. Wallet 0's second signature, refused, is kept as
        // evidence by someone else.
        let (signer, body) = signature(2, false, 6, true);
        push(&mut records, PETITION_SIGN, signer, body);
        let (refused_signer, refused_body) = signature(0, false, 7, false);
        let evidence = urne_petition::Duplicate {
            signer: refused_signer,
            body: SignatureBody::decode(&refused_body).expect("body"),
        };
        push(
            &mut records,
            PETITION_DUPLICATE,
            key("petition/v2/evidence-poster")
                .verifying_key()
                .to_bytes(),
            evidence.to_bytes(),
        );
        evidence_position = Some(records.len() - 1);
    }
    push(&mut records, CONTEXT_PHASE, a, vec![Phase::Closed.code()]);
    let result = PetitionResult {
        counted: if v2 { 3 } else { 2 },
        withdrawn: 1,
        reached: true,
    };
    push(&mut records, PETITION_RESULT, a, result.to_bytes());
    let result_position = records.len() - 1;
    push(&mut records, CONTEXT_PHASE, a, vec![Phase::Reached.code()]);

    let first_sign = records
        .iter()
        .position(|r| r.kind == PETITION_SIGN.0)
        .expect("a signature");
    let mut altered = from_hex(&records[first_sign].body).expect("hex");
    let at = altered.len() - 32;
    altered[at] ^= 1;
    let (again_signer, again_body) = signature(0, false, 4, false);
    let (late_signer, late_body) = signature(1, false, 5, false);
    let wrong_count = PetitionResult {
        counted: result.counted + 1,
        withdrawn: 1,
        reached: true,
    };
    let mut negative = vec![
        NegativeVector {
            name: "altered proof".into(),
            position: first_sign,
            kind: PETITION_SIGN.0,
            signer: records[first_sign].signer.clone(),
            body: to_hex(&altered),
            expect_index: records[first_sign].index,
            expect_field: "body.signature".into(),
            parameters: None,
        },
        NegativeVector {
            name: "tag reused (a second signature by wallet 0 in place of the withdrawal)".into(),
            position: withdraw_position,
            kind: PETITION_SIGN.0,
            signer: to_hex(&again_signer),
            body: to_hex(&again_body),
            expect_index: records[withdraw_position].index,
            expect_field: "body.signature.tag".into(),
            parameters: None,
        },
        NegativeVector {
            name: "count altered".into(),
            position: result_position,
            kind: PETITION_RESULT.0,
            signer: records[result_position].signer.clone(),
            body: to_hex(&wrong_count.to_bytes()),
            expect_index: records[result_position].index,
            expect_field: "body".into(),
            parameters: None,
        },
        NegativeVector {
            name: "signature after close (in place of the result)".into(),
            position: result_position,
            kind: PETITION_SIGN.0,
            signer: to_hex(&late_signer),
            body: to_hex(&late_body),
            expect_index: records[result_position].index,
            expect_field: "kind".into(),
            parameters: None,
        },
    ];
    if let Some(position) = evidence_position {
        // Wallet 0's disclosure relabelled from district 1 to district 2.
        let mut relabelled = from_hex(&records[first_sign].body).expect("hex");
        relabelled[6..10].copy_from_slice(&2u32.to_be_bytes());
        negative.push(NegativeVector {
            name: "disclosed district relabelled".into(),
            position: first_sign,
            kind: PETITION_SIGN.0,
            signer: records[first_sign].signer.clone(),
            body: to_hex(&relabelled),
            expect_index: records[first_sign].index,
            expect_field: "body.signature".into(),
            parameters: None,
        });
        // Evidence whose tag no signature holds (wallet 1 never signed).
        let (signer, body) = signature(1, false, 8, false);
        let fresh = urne_petition::Duplicate {
            signer,
            body: SignatureBody::decode(&body).expect("body"),
        };
        negative.push(NegativeVector {
            name: "evidence that is no duplicate".into(),
            position,
            kind: PETITION_DUPLICATE.0,
            signer: records[position].signer.clone(),
            body: to_hex(&fresh.to_bytes()),
            expect_index: records[position].index,
            expect_field: "body.signed.signature.tag".into(),
            parameters: None,
        });
        negative.push(another_district(
            &snapshot,
            &wallets,
            &definition,
            &context,
            first_sign,
            &records,
        ));
        negative.extend(stricter_definitions(
            &definition,
            &records,
            first_sign,
            (context, a),
        ));
    }
    PetitionVectors {
        header: header(
            if v2 {
                "The same petition with a version-2 definition (floors, district disclosure with a minimum bin of 2) and snapshot (deal keyed by the registry id), disclosing signatures and a duplicate kept as evidence"
            } else {
                "A registry snapshot in buckets of 4 and a petition from definition to outcome; each negative case replaces one record and must be refused naming it and its field"
            },
            if v2 {
                "spec/31-registry.md §31.4–§31.6, spec/32-petitions.md §32.4–§32.7, §32.11"
            } else {
                "spec/31-registry.md §31.4–§31.6, spec/32-petitions.md §32.4–§32.7"
            },
        ),
        context: to_hex(&context),
        authority: to_hex(&a),
        parameters: to_hex(&Sha256::digest(definition.to_bytes())),
        snapshot_id: to_hex(&snapshot.id()),
        entries_root: to_hex(&snapshot.header().entries_root.0),
        buckets: snapshot
            .buckets()
            .iter()
            .map(|b| b.iter().map(|p| p.to_hex()).collect())
            .collect(),
        records,
        phase: Phase::Reached.name().into(),
        counted: result.counted,
        withdrawn: result.withdrawn,
        duplicates: v2.then_some(1),
        districts: v2.then(|| vec![(1, 2)]),
        negative,
        version_2: None,
    }
}

fn hex32(text: &str, what: &str) -> Result<[u8; 32], String> {
    from_hex(text)
        .map_err(|e| format!("{what}: {e}"))?
        .try_into()
        .map_err(|_| format!("{what}: not 32 bytes"))
}

fn records(v: &[RecordVector]) -> Result<Vec<PetitionRecord>, String> {
    v.iter()
        .map(|r| {
            Ok(PetitionRecord {
                index: r.index,
                kind: Kind(r.kind),
                signer: hex32(&r.signer, "signer")?,
                body: from_hex(&r.body).map_err(|e| format!("record {}: {e}", r.index))?,
            })
        })
        .collect()
}

/// spec/31 §31.4–§31.6 from the spec text alone: the id over the header bytes, the root
/// over the entries, the keyed deal and the padding points.
fn rederive(
    signed: &[u8],
    parts: &[Vec<u8>],
) -> Result<(String, String, Vec<Vec<String>>), String> {
    let districts = signed
        .get(142..146)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or("snapshot: short")?;
    let header_bytes = signed
        .get(..146 + 12 * districts)
        .ok_or("snapshot: short")?;
    let id: [u8; 32] = Sha256::new()
        .chain_update(b"urne/v1/registry/snapshot-id\n")
        .chain_update(header_bytes)
        .finalize()
        .into();
    let bits = header_bytes[109];
    // Version 2 deals by the registry id, version 1 by the snapshot id (§31.6).
    let deal_key: &[u8] = if header_bytes[0] == 2 {
        &header_bytes[1..33]
    } else {
        &id
    };
    let mut entries: Vec<&[u8]> = Vec::new();
    for p in parts {
        entries.extend(p.get(45..).ok_or("part: short")?.chunks(64));
    }
    let root = root_of(&entries.iter().map(|e| leaf_hash(e)).collect::<Vec<_>>());
    let size = 1usize << bits;
    let buckets = entries.len().div_ceil(size).max(1);
    let mut keyed: Vec<([u8; 32], &[u8])> = entries
        .iter()
        .map(|e| {
            let k = &e[..32];
            let order: [u8; 32] = Sha256::new()
                .chain_update(b"urne/v1/registry/bucket-order\n")
                .chain_update(deal_key)
                .chain_update(k)
                .finalize()
                .into();
            (order, k)
        })
        .collect();
    keyed.sort();
    let mut rings: Vec<Vec<String>> = vec![Vec::new(); buckets];
    for (i, (_, k)) in keyed.iter().enumerate() {
        rings[i % buckets].push(to_hex(k));
    }
    for (j, ring) in rings.iter_mut().enumerate() {
        for i in ring.len()..size {
            let mut input = b"urne/v1/registry/bucket-padding\n".to_vec();
            input.extend_from_slice(&id);
            input.extend_from_slice(&(j as u32).to_be_bytes());
            input.extend_from_slice(&(i as u32).to_be_bytes());
            ring.push(hash_to_group(&input).to_hex());
        }
    }
    Ok((to_hex(&id), to_hex(&root.0), rings))
}

pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: PetitionVectors = read(dir, "petition.json")?;
    check_scenario(&v, report)?;
    if let Some(v2) = &v.version_2 {
        check_scenario(v2, report)?;
    }
    Ok(())
}

fn check_scenario(v: &PetitionVectors, report: &mut Report) -> Result<(), String> {
    let context = hex32(&v.context, "context")?;
    let authority = hex32(&v.authority, "authority")?;
    let parameters = hex32(&v.parameters, "parameters")?;
    let all = records(&v.records)?;
    let signed = all
        .iter()
        .find(|r| r.kind == REGISTRY_SNAPSHOT)
        .ok_or("no registry.snapshot record")?;
    let parts: Vec<Vec<u8>> = all
        .iter()
        .filter(|r| r.kind == REGISTRY_SNAPSHOT_PART)
        .map(|r| r.body.clone())
        .collect();
    let (id, root, rings) = rederive(&signed.body, &parts)?;
    report.expect(id == v.snapshot_id, || {
        "petition: snapshot id (§31.4)".into()
    });
    report.expect(root == v.entries_root, || {
        "petition: entries root (§31.5)".into()
    });
    report.expect(rings == v.buckets, || "petition: buckets (§31.6)".into());
    // The implementation agrees with the spec's derivation.
    let snapshot = SignedSnapshot::decode(&signed.body).map_err(|e| e.to_string())?;
    let entries = parts
        .iter()
        .map(|p| SnapshotPart::decode(p).map(|p| p.entries))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?
        .concat();
    let built = Snapshot::new(snapshot, entries).map_err(|e| e.to_string())?;
    report.expect(
        built
            .buckets()
            .iter()
            .map(|b| b.iter().map(|p| p.to_hex()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            == v.buckets,
        || "petition: urne-credential's buckets".into(),
    );
    let mut rng = rand::rng();
    match recount(context, authority, parameters, &all, &mut rng) {
        Ok(count) => report.expect(
            count.phase.name() == v.phase
                && count.counted == v.counted
                && count.withdrawn == v.withdrawn
                && v.duplicates.is_none_or(|d| d == count.duplicates)
                && v.districts.as_ref().is_none_or(|d| *d == count.districts),
            || format!("petition: recount gave {count:?}"),
        ),
        Err(violation) => report.expect(false, || format!("petition: recount refused {violation}")),
    }
    for n in &v.negative {
        let mut tampered = all.clone();
        let record = tampered
            .get_mut(n.position)
            .ok_or_else(|| format!("negative `{}`: no record {}", n.name, n.position))?;
        record.kind = Kind(n.kind);
        record.signer = hex32(&n.signer, "signer")?;
        record.body = from_hex(&n.body).map_err(|e| format!("negative `{}`: {e}", n.name))?;
        let parameters = match &n.parameters {
            Some(p) => hex32(p, "negative parameters")?,
            None => parameters,
        };
        let found = recount(context, authority, parameters, &tampered, &mut rng);
        report.expect(
            matches!(&found, Err(v) if v.index == n.expect_index && v.field == n.expect_field),
            || format!("petition negative `{}`: {found:?}", n.name),
        );
    }
    Ok(())
}
