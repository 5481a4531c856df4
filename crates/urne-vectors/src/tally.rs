//! vectors/tally.json (spec/24-tally.md): a weighted election with revotes and a trustee
//! absent, its result, and results that each fail one check of §24.6.
// The generator stops at the first vector it cannot make as described: every expect and
// assert below is on our own fixed inputs (a bug here, never input from outside). The
// checker functions read files and return errors instead.
#![allow(clippy::expect_used, clippy::panic)]

use std::path::Path;

use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest,
};
use urne_ceremony::{CeremonyOutcome, DecryptionShares};
use urne_credential::{Credential, CredentialList, ListedCredential, PublicCredential};
use urne_crypto::encoding::{from_hex, to_hex};
use urne_crypto::{ContextHash, EncryptionKey, PublicKey};
use urne_tally::{TallyResult, aggregate, decrypt_tally, verify_result};

use crate::check::{Report, read};
use crate::generate::{derive, file, header};
use crate::names;
use crate::rng::VectorRng;
use crate::schema::*;

fn manifest() -> Manifest {
    Manifest::new(
        "Municipal consultation",
        vec![
            Contest {
                title: "Mayor".into(),
                kind: ContestKind::SingleChoice,
                blank: true,
                options: vec!["Ada".into(), "Grace".into(), "Edsger".into()],
            },
            Contest {
                title: "Priorities".into(),
                kind: ContestKind::Cumulative {
                    per_option_max: 3,
                    min_total: 2,
                    max_total: 5,
                },
                blank: false,
                options: vec!["Parks".into(), "Roads".into()],
            },
        ],
    )
    .expect("tally manifest")
}

const WEIGHTS: [u32; 5] = [1, 2, 1, 3, 1];

/// In log order: (voter, Mayor choice or blank, Priorities points). Voters 0 and 3 vote
/// again; voter 4 abstains.
const VOTES: [(usize, Option<usize>, [u64; 2]); 6] = [
    (0, Some(0), [1, 1]),
    (1, Some(1), [3, 2]),
    (3, None, [2, 0]),
    (2, Some(1), [0, 3]),
    (0, Some(2), [2, 2]),
    (3, Some(0), [1, 3]),
];

fn hex_all<T>(items: &[T], encode: impl Fn(&T) -> Vec<u8>) -> Vec<String> {
    items.iter().map(|i| to_hex(&encode(i))).collect()
}

fn decode_all<T, E: core::fmt::Display>(
    items: &[String],
    what: &str,
    decode: impl Fn(&[u8]) -> Result<T, E>,
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

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let ceremony = crate::ceremony::run("tally/ceremony", 2, 3, None);
    let outcome = &ceremony.outcome;
    let mut rng = VectorRng::new("tally/election");
    let voters: Vec<PublicCredential> = WEIGHTS
        .iter()
        .map(|_| Credential::generate(&mut rng).public())
        .collect();
    let credentials = CredentialList::new(
        voters
            .iter()
            .zip(WEIGHTS)
            .map(|(credential, weight)| ListedCredential {
                credential: *credential,
                weight,
            })
            .collect(),
    )
    .expect("distinct credentials");
    let manifest = manifest();
    let root = credentials.root().0;
    let context_id = derive("tally/context-id").to_bytes();
    let inputs = ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &root,
        board_origin: "board.example/urne",
        context_id: &context_id,
    };
    let election = Election::new(inputs).expect("short origin");
    let ballots: Vec<Ballot> = VOTES
        .iter()
        .map(|(voter, mayor, points)| {
            let mayor = match mayor {
                Some(choice) => ContestSelection::single(3, *choice).expect("option"),
                None => ContestSelection::blank(3),
            };
            let selections = [mayor, ContestSelection::values(points.to_vec())];
            let credential = CredentialKey(voters[*voter].to_bytes());
            Ballot::encrypt(&election, &credential, &selections, &mut rng)
                .expect("valid vote")
                .0
        })
        .collect();
    let shares_for = |ballots: &[Ballot], trustees: &[u16], rng: &mut VectorRng| {
        let aggregation = aggregate(&election, &credentials, ballots).expect("listed ballots");
        let shares: Vec<DecryptionShares> = trustees
            .iter()
            .map(|&j| {
                ceremony.keys[usize::from(j) - 1]
                    .decryption_shares(election.context(), &aggregation.tally.ciphertexts(), rng)
                    .expect("own shares")
            })
            .collect();
        (aggregation, shares)
    };
    let (aggregation, shares) = shares_for(&ballots, &[1, 3], &mut rng);
    let result = decrypt_tally(&election, outcome, &aggregation, &shares).expect("honest tally");
    assert_eq!(result.counts, vec![vec![3, 3, 1, 0], vec![11, 18]]);
    verify_result(&election, outcome, &credentials, &ballots, &shares, &result)
        .expect("honest result");

    let mut negative = Vec::new();
    let mut add = |name: &str,
                   expect: &str,
                   changed_ballots: Option<&[Ballot]>,
                   changed_shares: Option<&[DecryptionShares]>,
                   result: &TallyResult| {
        let verdict = names::tally(&verify_result(
            &election,
            outcome,
            &credentials,
            changed_ballots.unwrap_or(&ballots),
            changed_shares.unwrap_or(&shares),
            result,
        ));
        assert_eq!(verdict, expect, "tally negative {name}");
        negative.push(TallyNegative {
            name: name.into(),
            ballots: changed_ballots.map(|b| hex_all(b, Ballot::to_bytes)),
            shares: changed_shares.map(|s| hex_all(s, DecryptionShares::encode)),
            result: to_hex(&result.to_bytes()),
            expect: verdict,
        });
    };
    let mut r = result.clone();
    r.tally.context.0[0] ^= 1;
    add(
        "the result names another election",
        "tally-of-another-election",
        None,
        None,
        &r,
    );
    let mut r = result.clone();
    r.tally.contests[1].pop();
    r.counts[1].pop();
    add(
        "Priorities has one entry too few",
        "tally-shape contests[1].entries",
        None,
        None,
        &r,
    );
    let mut r = result.clone();
    r.tally.ballots += 1;
    add(
        "one more counted ballot claimed",
        "counted-ballots",
        None,
        None,
        &r,
    );
    let mut r = result.clone();
    r.superseded -= 1;
    add(
        "one superseded ballot fewer claimed",
        "superseded-ballots",
        None,
        None,
        &r,
    );
    let mut r = result.clone();
    r.tally.weight += 1;
    add(
        "a counted weight one too high",
        "counted-weight",
        None,
        None,
        &r,
    );
    // Voter 0's first ballot counted instead of their revote: sums, shares and counts
    // of that dishonest tally agree with each other, not with the board's ballots.
    let mut dishonest = ballots.clone();
    dishonest.swap(0, 4);
    let (dishonest_aggregation, dishonest_shares) = shares_for(&dishonest, &[1, 3], &mut rng);
    let r = decrypt_tally(
        &election,
        outcome,
        &dishonest_aggregation,
        &dishonest_shares,
    )
    .expect("a consistent dishonest tally");
    add(
        "a superseded ballot counted instead of its revote, with shares and counts of those sums",
        "encrypted-sum 0 0",
        None,
        Some(&dishonest_shares),
        &r,
    );
    let (_, all_shares) = shares_for(&ballots, &[1, 2, 3], &mut rng);
    let mut r = result.clone();
    r.trustees = vec![1, 2, 3];
    add(
        "three trustees named, t = 2",
        "wrong-trustee-count",
        None,
        Some(&all_shares),
        &r,
    );
    add(
        "trustee 3's shares not posted",
        "missing-shares 3",
        None,
        Some(&shares[..1]),
        &result,
    );
    let mut swapped = shares.clone();
    swapped[1].shares.swap(0, 4);
    add(
        "trustee 3's shares of Ada and Parks swapped",
        "invalid-share 3 0 0",
        None,
        Some(&swapped),
        &result,
    );
    let mut r = result.clone();
    r.counts[0][1] += 1;
    add("Grace's count plus one", "count 0 1", None, None, &r);
    // Voter 2's ballot (weight 1, for Grace) with a Grace ciphertext of 6 and no valid
    // proof (the tally does not check proofs; the board did): the shares open Grace's
    // sum to 2 + 6 = 8, a count that matches them but exceeds W × 1 = 7.
    let mut forged = ballots.clone();
    let key = EncryptionKey::new(outcome.joint_key);
    forged[3].contests[0].options[1].ciphertext = key.encrypt(6, &mut rng).0;
    let (forged_aggregation, forged_shares) = shares_for(&forged, &[1, 3], &mut rng);
    let mut r = result.clone();
    r.tally = forged_aggregation.tally.clone();
    r.counts[0][1] = 8;
    add(
        "a ballot encrypting 6 for Grace: her count 8 matches the shares, above W × 1 = 7",
        "count-above-bound 0 1",
        Some(&forged),
        Some(&forged_shares),
        &r,
    );
    let mut other = ballots.clone();
    other[2].context.0[0] ^= 1;
    add(
        "ballot 2 names another election",
        "ballot-of-another-election 2",
        Some(&other),
        None,
        &result,
    );
    let mut replayed = ballots.clone();
    replayed.push(ballots[0].clone());
    add(
        "voter 0's first ballot posted again after their revote",
        "replayed-ballot 6 0",
        Some(&replayed),
        None,
        &result,
    );
    let mut other = ballots.clone();
    other[5].credential = CredentialKey(derive("tally/unlisted").to_bytes());
    add(
        "ballot 5's credential is not listed",
        "unlisted-credential 5",
        Some(&other),
        None,
        &result,
    );

    let election_vector = ElectionVector {
        name: "tally".into(),
        manifest: to_hex(&manifest.to_bytes()),
        joint_key: *outcome.joint_key.point(),
        credential_root: to_hex(&root),
        board_origin: inputs.board_origin.into(),
        context_id: to_hex(&context_id),
        context: to_hex(&election.context().0),
    };
    file(
        "tally.json",
        &TallyVectors {
            header: header(
                "Tally: a weighted election with revotes and trustee 2 absent, its result, and results that each fail one check of §24.6",
                "spec/24-tally.md",
            ),
            election: election_vector,
            credentials: credentials
                .entries()
                .iter()
                .map(|e| ListedCredentialVector {
                    credential: e.credential.0,
                    weight: e.weight,
                })
                .collect(),
            ceremony: TallyCeremonyVector {
                context: to_hex(&outcome.context.0),
                threshold: outcome.threshold,
                joint_key: *outcome.joint_key.point(),
                verification_keys: outcome.verification_keys.clone(),
            },
            ballots: hex_all(&ballots, Ballot::to_bytes),
            shares: hex_all(&shares, DecryptionShares::encode),
            result: to_hex(&result.to_bytes()),
            counts: result.counts.clone(),
            negative,
        },
    )
}

/// Checks tally.json.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: TallyVectors = read(dir, "tally.json")?;
    let hex32 = |text: &str, what: &str| -> Result<[u8; 32], String> {
        from_hex(text)
            .map_err(|e| format!("{what}: {e}"))?
            .try_into()
            .map_err(|_| format!("{what}: not 32 bytes"))
    };
    let credentials = CredentialList::new(
        v.credentials
            .iter()
            .map(|e| ListedCredential {
                credential: PublicCredential(e.credential),
                weight: e.weight,
            })
            .collect(),
    )
    .map_err(|e| format!("credentials: {e}"))?;
    report.expect(
        to_hex(&credentials.root().0) == v.election.credential_root,
        || "tally: credential root".into(),
    );
    let manifest = from_hex(&v.election.manifest)
        .map_err(|e| e.to_string())
        .and_then(|b| Manifest::decode(&b).map_err(|e| e.to_string()))?;
    let joint_key = PublicKey::from_point(v.ceremony.joint_key).map_err(|e| e.to_string())?;
    report.expect(v.election.joint_key == v.ceremony.joint_key, || {
        "tally: the election's key is the ceremony's".into()
    });
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &joint_key,
        credential_root: &credentials.root().0,
        board_origin: &v.election.board_origin,
        context_id: &hex32(&v.election.context_id, "context_id")?,
    })
    .map_err(|e| e.to_string())?;
    report.expect(to_hex(&election.context().0) == v.election.context, || {
        "tally: election context".into()
    });
    let n = u16::try_from(v.ceremony.verification_keys.len()).map_err(|e| e.to_string())?;
    let outcome = CeremonyOutcome {
        context: ContextHash(hex32(&v.ceremony.context, "ceremony context")?),
        threshold: v.ceremony.threshold,
        qualified: (1..=n).collect(),
        disqualified: Vec::new(),
        joint_key,
        verification_keys: v.ceremony.verification_keys.clone(),
    };
    let ballots = decode_all(&v.ballots, "ballots", Ballot::decode)?;
    let shares = decode_all(&v.shares, "shares", DecryptionShares::decode)?;
    let result = from_hex(&v.result)
        .map_err(|e| e.to_string())
        .and_then(|b| TallyResult::decode(&b).map_err(|e| e.to_string()))?;
    report.expect(result.counts == v.counts, || "tally: counts".into());
    let remade = aggregate(&election, &credentials, &ballots)
        .and_then(|a| decrypt_tally(&election, &outcome, &a, &shares))
        .map(|r| to_hex(&r.to_bytes()));
    report.expect(remade.as_deref() == Ok(v.result.as_str()), || {
        format!("tally: the result remade from the ballots and shares is {remade:?}")
    });
    let verdict = names::tally(&verify_result(
        &election,
        &outcome,
        &credentials,
        &ballots,
        &shares,
        &result,
    ));
    report.expect(verdict == "ok", || {
        format!("tally: the result gives {verdict}")
    });
    for negative in &v.negative {
        let verdict = (|| -> Result<String, String> {
            let ballots = match &negative.ballots {
                Some(b) => decode_all(b, "ballots", Ballot::decode)?,
                None => ballots.clone(),
            };
            let shares = match &negative.shares {
                Some(s) => decode_all(s, "shares", DecryptionShares::decode)?,
                None => shares.clone(),
            };
            let result = from_hex(&negative.result)
                .map_err(|e| e.to_string())
                .and_then(|b| TallyResult::decode(&b).map_err(|e| e.to_string()))?;
            Ok(names::tally(&verify_result(
                &election,
                &outcome,
                &credentials,
                &ballots,
                &shares,
                &result,
            )))
        })();
        report.expect(verdict.as_deref() == Ok(negative.expect.as_str()), || {
            format!(
                "tally negative `{}`: {verdict:?}, expected {}",
                negative.name, negative.expect
            )
        });
    }
    Ok(())
}
