//! vectors/budget.json (spec/26-budget.md): instances of both selection rules — many
//! with equal approvals and equal costs, so the order's later keys decide — with the
//! funded set and its totals, and published selections that each fail one check of §26.5.
// The generator stops at the first vector it cannot make as described: every expect below
// is on our own fixed inputs. The checker returns errors instead.
#![allow(clippy::expect_used)]

use std::path::Path;

use rand::RngExt;
use serde::{Deserialize, Serialize};
use urne_budget::{Project, Rule, Selection, SelectionError, check_selection, select};

use crate::check::{Report, read};
use crate::generate::{file, header};
use crate::rng::VectorRng;
use crate::schema::Header;

/// One instance and the selection its rule makes.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    rule: String,
    budget: u64,
    costs: Vec<u64>,
    approvals: Vec<u64>,
    funded: Vec<u32>,
    money_used: u64,
    approvals_represented: u64,
    approvals_total: u64,
}

/// A published selection for a case, and the first check of §26.5 it fails.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Negative {
    name: String,
    case: String,
    funded: Vec<u32>,
    money_used: u64,
    approvals_represented: u64,
    approvals_total: u64,
    expect: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetVectors {
    #[serde(flatten)]
    header: Header,
    cases: Vec<Case>,
    negative: Vec<Negative>,
}

fn projects(costs: &[u64], approvals: &[u64]) -> Vec<Project> {
    costs
        .iter()
        .zip(approvals)
        .map(|(&cost, &approvals)| Project { cost, approvals })
        .collect()
}

fn selection(funded: &[u32], totals: [u64; 3]) -> Selection {
    Selection {
        funded: funded.to_vec(),
        money_used: totals[0].into(),
        approvals_represented: totals[1].into(),
        approvals_total: totals[2].into(),
    }
}

fn narrow(total: u128) -> u64 {
    u64::try_from(total).expect("vector totals are small")
}

fn case(name: String, rule: Rule, budget: u64, costs: Vec<u64>, approvals: Vec<u64>) -> Case {
    let s = select(rule, budget, &projects(&costs, &approvals)).expect("a valid instance");
    Case {
        name,
        rule: rule.name().into(),
        budget,
        money_used: narrow(s.money_used),
        approvals_represented: narrow(s.approvals_represented),
        approvals_total: narrow(s.approvals_total),
        funded: s.funded,
        costs,
        approvals,
    }
}

/// `n` projects whose costs and approvals are drawn from `spread` values (small spreads
/// make ties common), under a budget drawn below their total cost.
fn drawn(rng: &mut VectorRng, n: usize, spread: u64) -> (u64, Vec<u64>, Vec<u64>) {
    let costs: Vec<u64> = (0..n).map(|_| 1 + rng.random_range(0..spread)).collect();
    let approvals: Vec<u64> = (0..n).map(|_| rng.random_range(0..spread)).collect();
    let total: u64 = costs.iter().sum();
    (1 + rng.random_range(0..total), costs, approvals)
}

/// The file.
pub(crate) fn generate() -> crate::VectorFile {
    let mut cases = vec![
        // Greedy funds A (most approvals) and skips B, which no longer fits; max-approvals
        // funds B and C for more approvals.
        case(
            "greedy-and-exact-differ".into(),
            Rule::Greedy,
            10,
            vec![6, 5, 5],
            vec![10, 9, 8],
        ),
        case(
            "greedy-and-exact-differ".into(),
            Rule::MaxApprovals,
            10,
            vec![6, 5, 5],
            vec![10, 9, 8],
        ),
        // Equal approvals: the cheaper set, then the earlier project.
        case(
            "exact-cheaper-wins".into(),
            Rule::MaxApprovals,
            4,
            vec![4, 3],
            vec![5, 5],
        ),
        case(
            "exact-earlier-wins".into(),
            Rule::MaxApprovals,
            3,
            vec![3, 3],
            vec![5, 5],
        ),
        case(
            "greedy-cost-then-index".into(),
            Rule::Greedy,
            10,
            vec![6, 5, 5],
            vec![50, 50, 50],
        ),
        // Nobody approved project 0: neither rule funds it.
        case(
            "unapproved-never-funded".into(),
            Rule::Greedy,
            100,
            vec![1, 2],
            vec![0, 3],
        ),
        case(
            "unapproved-never-funded".into(),
            Rule::MaxApprovals,
            100,
            vec![1, 2],
            vec![0, 3],
        ),
    ];
    let mut rng = VectorRng::new("budget/instances");
    for i in 0..24 {
        let n = 2 + i % 11;
        let spread = [2, 3, 5, 40][i % 4];
        let (budget, costs, approvals) = drawn(&mut rng, n, spread);
        for rule in [Rule::Greedy, Rule::MaxApprovals] {
            cases.push(case(
                format!("drawn-{i}"),
                rule,
                budget,
                costs.clone(),
                approvals.clone(),
            ));
        }
    }
    // 30 projects by meet in the middle, 45 by the dynamic programme.
    for (i, n) in [30usize, 45].into_iter().enumerate() {
        let (_, costs, approvals) = drawn(&mut rng, n, 1000);
        let budget = costs.iter().sum::<u64>() / 3;
        cases.push(case(
            format!("large-{i}"),
            Rule::MaxApprovals,
            budget,
            costs,
            approvals,
        ));
    }

    let base = cases
        .iter()
        .find(|c| c.name == "greedy-and-exact-differ" && c.rule == "max-approvals")
        .expect("the case above")
        .clone();
    let totals = [
        base.money_used,
        base.approvals_represented,
        base.approvals_total,
    ];
    let negative = [
        (
            "a project that does not exist",
            vec![1, 9],
            totals,
            "funded[1]",
        ),
        ("indices not ascending", vec![2, 1], totals, "funded[1]"),
        ("a project twice", vec![1, 1], totals, "funded[1]"),
        (
            "greedy's set under max-approvals",
            vec![0],
            [6, 10, 27],
            "funded",
        ),
        ("a project left out", vec![1], totals, "funded"),
        (
            "money used",
            base.funded.clone(),
            [11, 17, 27],
            "money_used",
        ),
        (
            "approvals represented",
            base.funded.clone(),
            [10, 18, 27],
            "approvals_represented",
        ),
        (
            "approvals in all",
            base.funded.clone(),
            [10, 17, 26],
            "approvals_total",
        ),
    ]
    .into_iter()
    .map(|(name, funded, totals, expect)| {
        let verdict = verdict(&base, &selection(&funded, totals));
        assert_eq!(verdict, expect, "budget negative {name}");
        Negative {
            name: name.into(),
            case: base.name.clone(),
            funded,
            money_used: totals[0],
            approvals_represented: totals[1],
            approvals_total: totals[2],
            expect: verdict,
        }
    })
    .collect();
    file(
        "budget.json",
        &BudgetVectors {
            header: header(
                "Participatory budgets: both selection rules on instances full of ties, and published selections that each fail one check of §26.5",
                "spec/26-budget.md",
            ),
            cases,
            negative,
        },
    )
}

fn rule_of(name: &str) -> Result<Rule, String> {
    Rule::from_name(name).ok_or_else(|| format!("unknown rule {name}"))
}

/// `ok` or the field §26.5 names.
fn verdict(case: &Case, claimed: &Selection) -> String {
    let result = rule_of(&case.rule).and_then(|rule| {
        check_selection(
            rule,
            case.budget,
            &projects(&case.costs, &case.approvals),
            claimed,
        )
        .map_err(|e| match e {
            SelectionError::Mismatch { field, .. } => field,
            other => format!("unnamed {other}"),
        })
    });
    match result {
        Ok(()) => "ok".into(),
        Err(field) => field,
    }
}

/// Checks budget.json.
pub(crate) fn check(dir: &Path, report: &mut Report) -> Result<(), String> {
    let v: BudgetVectors = read(dir, "budget.json")?;
    for case in &v.cases {
        let rule = rule_of(&case.rule)?;
        let made = select(rule, case.budget, &projects(&case.costs, &case.approvals))
            .map_err(|e| format!("case {} ({}): {e}", case.name, case.rule))?;
        let stored = selection(
            &case.funded,
            [
                case.money_used,
                case.approvals_represented,
                case.approvals_total,
            ],
        );
        report.expect(made == stored, || {
            format!("case {} ({}): selected {made:?}", case.name, case.rule)
        });
        let verdict = verdict(case, &stored);
        report.expect(verdict == "ok", || {
            format!("case {} ({}): {verdict}", case.name, case.rule)
        });
    }
    for negative in &v.negative {
        let case = v
            .cases
            .iter()
            .find(|c| c.name == negative.case && c.rule == "max-approvals")
            .ok_or_else(|| format!("no case {}", negative.case))?;
        let claimed = selection(
            &negative.funded,
            [
                negative.money_used,
                negative.approvals_represented,
                negative.approvals_total,
            ],
        );
        let verdict = verdict(case, &claimed);
        report.expect(verdict == negative.expect, || {
            format!(
                "negative {}: {verdict}, expected {}",
                negative.name, negative.expect
            )
        });
    }
    Ok(())
}
