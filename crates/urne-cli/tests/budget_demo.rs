//! `urne demo budget` (issue 12 §4): a participatory budget held end to end; the funded
//! projects the result publishes are the rule's (spec/26) on the verified totals, every
//! counted choice respects the budget, and the other rule is computed beside it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use urne_ballot::SelectionRule;
use urne_budget::{Project, select};
use urne_cli::demo::DemoOptions;
use urne_cli::demo::budget::{BUDGET, manifest, run_budget};

#[test]
fn both_rules_fund_from_the_verified_totals_within_the_budget() {
    for rule in [SelectionRule::MaxApprovals, SelectionRule::Greedy] {
        let options = DemoOptions {
            voters: 40,
            dir: None,
            keep: false,
        };
        let outcome = run_budget(&options, rule).unwrap();
        let counts = &outcome.election.result.counts[1];
        let costs = manifest(rule).unwrap().contests()[1]
            .spending()
            .unwrap()
            .costs
            .to_vec();
        let projects: Vec<Project> = costs
            .iter()
            .zip(counts)
            .map(|(&cost, &approvals)| Project { cost, approvals })
            .collect();
        assert_eq!(outcome.published, select(rule, BUDGET, &projects).unwrap());
        assert!(outcome.published.money_used <= u128::from(BUDGET));
        let (other_rule, other) = &outcome.other;
        assert_ne!(*other_rule, rule);
        assert_eq!(*other, select(*other_rule, BUDGET, &projects).unwrap());
        // The exact rule never represents fewer approvals than greedy.
        let (exact, greedy) = if rule == SelectionRule::MaxApprovals {
            (&outcome.published, other)
        } else {
            (other, &outcome.published)
        };
        assert!(exact.approvals_represented >= greedy.approvals_represented);
        // 40 voters (plus revotes) approving 2 to 8 projects each, each within budget:
        // the total approvals lie between 2 and 8 per counted ballot.
        let counted = outcome.election.result.tally.ballots as u128;
        let blank = u128::from(counts[30]);
        let total = outcome.published.approvals_total;
        assert!(
            total >= 2 * (counted - blank) && total <= 8 * counted,
            "{total}"
        );
    }
}

#[test]
fn the_command_prints_both_selections_and_refuses_an_unknown_rule() {
    let urne = env!("CARGO_BIN_EXE_urne");
    let out = Command::new(urne)
        .args(["demo", "budget", "--voters", "20", "--rule", "greedy"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("verification: PASSED"), "{stdout}");
    assert!(stdout.contains("rule greedy:"), "{stdout}");
    assert!(stdout.contains("rule max-approvals:"), "{stdout}");
    let out = Command::new(urne)
        .args(["demo", "budget", "--rule", "cheapest"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("the rules are `greedy` and `max-approvals`"),
        "{stderr}"
    );
}
