//! The funded projects of a budget contest in `tally.result` (spec/24 §24.5–§24.6 step
//! 6, spec/26): computed when the result is made, carried in version 2 of the body, and
//! every change to them refused by `verify_result`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use urne_ballot::{
    Ballot, Contest, ContestKind, ContestSelection, ContextInputs, CredentialKey, Election,
    Manifest, SelectionRule,
};
use urne_credential::{Credential, CredentialList, ListedCredential, PublicCredential};
use urne_tally::{TALLY_VERSION, TALLY_VERSION_FUNDED, TallyError, TallyResult};
mod support;

use support::Fixture;

/// Costs of the five projects; the budget is 1,000.
const COSTS: [u64; 5] = [700, 500, 450, 300, 100];

/// Each voter's approved projects, each within the budget. Approvals: A 3, the others 2.
const VOTES: [&[usize]; 6] = [&[0, 4], &[0, 3], &[1, 2], &[2, 3], &[0], &[1, 4]];

fn fixture(rule: SelectionRule) -> Fixture {
    let (outcome, keys) = support::ceremony(2, 3);
    let mut rng = rand::rng();
    let votes = VOTES;
    let voters: Vec<CredentialKey> = votes
        .iter()
        .map(|_| CredentialKey(Credential::generate(&mut rng).public().to_bytes()))
        .collect();
    let credentials = CredentialList::new(
        voters
            .iter()
            .map(|key| ListedCredential {
                credential: PublicCredential::decode(&key.0).unwrap(),
                weight: 1,
            })
            .collect(),
    )
    .unwrap();
    let manifest = Manifest::new(
        "Budget",
        vec![
            Contest {
                title: "Question".into(),
                kind: ContestKind::SingleChoice,
                blank: false,
                options: vec!["Yes".into(), "No".into()],
            },
            Contest {
                title: "Projects".into(),
                kind: ContestKind::Budget {
                    min_projects: 1,
                    max_projects: 3,
                    min_spend: 0,
                    budget: 1_000,
                    rule,
                    costs: COSTS.to_vec(),
                },
                blank: true,
                options: ["A", "B", "C", "D", "E"].map(String::from).to_vec(),
            },
        ],
    )
    .unwrap();
    let election = Election::new(ContextInputs {
        manifest: &manifest,
        joint_key: &outcome.joint_key,
        credential_root: &credentials.root().0,
        board_origin: "board.example/urne",
        context_id: &[6; 32],
    })
    .unwrap();
    let ballots = votes
        .iter()
        .zip(&voters)
        .map(|(projects, voter)| {
            let selections = [
                ContestSelection::single(2, 0).unwrap(),
                ContestSelection::approve(5, projects).unwrap(),
            ];
            Ballot::encrypt(&election, voter, &selections, &mut rng)
                .unwrap()
                .0
        })
        .collect();
    Fixture {
        outcome,
        keys,
        election,
        credentials,
        ballots,
    }
}

#[test]
fn each_rule_funds_its_projects_and_the_result_round_trips() {
    // Greedy: A (3 approvals, 700), then the 2s by cost: E (100) fits, D (300) does not
    // (200 left), nor C, nor B: A and E, 5 approvals for 800.
    // Max-approvals: 6 approvals by B + D + E (900) or C + D + E (850): the cheaper wins.
    for (rule, funded, money, represented) in [
        (SelectionRule::Greedy, vec![0, 4], 800, 5),
        (SelectionRule::MaxApprovals, vec![2, 3, 4], 850, 6),
    ] {
        let f = fixture(rule);
        let (result, shares) = f.tally(&f.ballots);
        assert_eq!(result.counts[1], vec![3, 2, 2, 2, 2, 0]);
        assert_eq!(result.fundings.len(), 1);
        let funding = &result.fundings[0];
        assert_eq!(funding.contest, 1);
        assert_eq!(funding.selection.funded, funded, "{rule:?}");
        assert_eq!(funding.selection.money_used, money);
        assert_eq!(funding.selection.approvals_represented, represented);
        assert_eq!(funding.selection.approvals_total, 11);
        f.verify(&shares, &result).unwrap();
        let bytes = result.to_bytes();
        assert_eq!(bytes[0], TALLY_VERSION_FUNDED);
        let decoded = TallyResult::decode(&bytes).unwrap();
        assert_eq!(decoded, result);
        f.verify(&shares, &decoded).unwrap();
    }
}

#[test]
fn every_change_to_the_funding_is_refused_and_named() {
    let f = fixture(SelectionRule::MaxApprovals);
    let (result, shares) = f.tally(&f.ballots);
    let with = |change: &dyn Fn(&mut TallyResult)| {
        let mut bad = result.clone();
        change(&mut bad);
        f.verify(&shares, &bad).unwrap_err()
    };
    let funding_field = |e: TallyError| match e {
        TallyError::Funding {
            contest: 1, field, ..
        } => field,
        other => panic!("{other:?}"),
    };
    // A project the rule would not fund, one it would, both at once.
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.funded = vec![1, 3, 4])),
        "funded"
    );
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.funded = vec![2, 3])),
        "funded"
    );
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.funded = vec![3, 2, 4])),
        "funded[1]"
    );
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.money_used = 900)),
        "money_used"
    );
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.approvals_represented = 7)),
        "approvals_represented"
    );
    assert_eq!(
        funding_field(with(&|r| r.fundings[0].selection.approvals_total = 12)),
        "approvals_total"
    );
    // No funding, or one for the yes/no question.
    assert!(matches!(
        with(&|r| r.fundings.clear()),
        TallyError::FundingShape { expected, found } if expected == vec![1] && found.is_empty()
    ));
    assert!(matches!(
        with(&|r| r.fundings[0].contest = 0),
        TallyError::FundingShape { expected, found } if expected == vec![1] && found == vec![0]
    ));
    // The funding follows the counts: with an altered count, the count fails first.
    assert!(matches!(
        with(&|r| r.counts[1][4] += 1),
        TallyError::Count { .. }
    ));
}

#[test]
fn version_two_of_the_result_is_strict() {
    let f = fixture(SelectionRule::Greedy);
    let (result, _) = f.tally(&f.ballots);
    let bytes = result.to_bytes();
    // Read as version 1, the fundings are bytes after the end.
    let mut as_v1 = bytes.clone();
    as_v1[0] = TALLY_VERSION;
    assert_eq!(TallyResult::decode(&as_v1).unwrap_err().field(), "end");
    // Fundings: u16 count ‖ u16 contest ‖ u16 n ‖ n × u16 ‖ 3 × u64.
    let fundings_at = bytes.len() - (2 + 2 + 2 + 2 * 2 + 3 * 8);
    let mut none = bytes.clone();
    none[fundings_at..fundings_at + 2].copy_from_slice(&0u16.to_be_bytes());
    none.truncate(fundings_at + 2);
    assert_eq!(TallyResult::decode(&none).unwrap_err().field(), "fundings");
    // Greedy funds A and E: indices 0 then 4, swapped.
    let mut unordered = bytes.clone();
    let first = fundings_at + 6;
    unordered.swap(first + 1, first + 3);
    assert_eq!(
        TallyResult::decode(&unordered).unwrap_err().field(),
        "fundings[0].funded[1]"
    );
    assert!(TallyResult::decode(&bytes[..bytes.len() - 1]).is_err());
    // Two fundings of one contest: contests strictly increasing.
    let mut twice = result.clone();
    twice.fundings.push(twice.fundings[0].clone());
    assert_eq!(
        TallyResult::decode(&twice.to_bytes()).unwrap_err().field(),
        "fundings[1].contest"
    );
    // A result without a budget contest keeps version 1, byte for byte.
    let mut plain = result.clone();
    plain.fundings.clear();
    assert_eq!(plain.to_bytes()[0], TALLY_VERSION);
    let mut expected = bytes[..fundings_at].to_vec();
    expected[0] = TALLY_VERSION;
    assert_eq!(plain.to_bytes(), expected);
}
