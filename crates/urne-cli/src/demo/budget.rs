//! `urne demo budget`: a participatory budget of 30 projects held as an election — every
//! ballot proves it respects the budget (spec/21 §21.4), the trustees' result carries the
//! funded projects (spec/24 §24.5), and the verification from the board's log recomputes
//! them (spec/26) — then what the other selection rule would have funded, from the same
//! verified totals.

use urne_ballot::{Contest, ContestKind, Manifest, SelectionRule};
use urne_budget::{Project, Selection, select};

use super::{DemoError, DemoOptions, DemoOutcome, run_election_on};

/// The budget, in euros: just under 2^20, the spend range the issue measures.
pub const BUDGET: u64 = 1_000_000;
/// The least a ballot spends: 30% of the budget, as a Decidim "minimum to spend" rule.
pub const MIN_SPEND: u64 = 300_000;

/// The projects and their costs in euros.
const PROJECTS: [(&str, u64); 30] = [
    ("Cycle lanes on the ring road", 240_000),
    ("A new public library branch", 290_000),
    ("Trees in every school yard", 85_000),
    ("Free swimming lessons", 60_000),
    ("Night buses on weekends", 130_000),
    ("Repair the old bridge", 275_000),
    ("Benches along the river", 40_000),
    ("A skate park", 150_000),
    ("Public drinking fountains", 45_000),
    ("Solar panels on the town hall", 210_000),
    ("A community garden", 55_000),
    ("Playground renovation", 120_000),
    ("Street lighting in the old town", 180_000),
    ("A covered market", 260_000),
    ("Bicycle parking at the station", 70_000),
    ("Accessible pavements", 195_000),
    ("An outdoor gym", 65_000),
    ("Wi-Fi in public squares", 50_000),
    ("A dog park", 42_000),
    ("Murals by local artists", 48_000),
    ("Composting stations", 58_000),
    ("A youth centre", 230_000),
    ("Shade sails over playgrounds", 75_000),
    ("Traffic calming near schools", 110_000),
    ("A riverside walk", 205_000),
    ("Public toilets in the park", 95_000),
    ("Heat-wave cooling rooms", 140_000),
    ("A tool library", 44_000),
    ("Electric car-sharing station", 165_000),
    ("An open-air cinema", 62_000),
];

/// A yes/no question and the budget of 30 projects (2 to 8 of them, a blank vote
/// offered), whose funded projects `rule` selects.
pub fn manifest(rule: SelectionRule) -> Result<Manifest, DemoError> {
    let contests = vec![
        Contest {
            title: "Should the participatory budget become yearly?".to_owned(),
            kind: ContestKind::SingleChoice,
            blank: true,
            options: vec!["Yes".to_owned(), "No".to_owned()],
        },
        Contest {
            title: format!(
                "Participatory budget: 2 to 8 projects costing {MIN_SPEND} to {BUDGET} euros"
            ),
            kind: ContestKind::Budget {
                min_projects: 2,
                max_projects: 8,
                min_spend: MIN_SPEND,
                budget: BUDGET,
                rule,
                costs: PROJECTS.iter().map(|&(_, cost)| cost).collect(),
            },
            blank: true,
            options: PROJECTS.iter().map(|&(name, _)| name.to_owned()).collect(),
        },
    ];
    Manifest::new("Urneville participatory budget 2027", contests)
        .map_err(|e| DemoError::Setup(format!("the budget manifest is refused: {e}")))
}

/// What the budget demo did: the election, and both rules' selections from its verified
/// totals (the published one is the manifest's rule, checked by the verification).
pub struct BudgetOutcome {
    /// The election, verified.
    pub election: DemoOutcome,
    /// The rule the manifest named.
    pub rule: SelectionRule,
    /// The funding the result published, verified.
    pub published: Selection,
    /// What the other rule funds from the same totals.
    pub other: (SelectionRule, Selection),
}

/// Holds the budget election and compares the two rules on its verified totals.
pub fn run_budget(options: &DemoOptions, rule: SelectionRule) -> Result<BudgetOutcome, DemoError> {
    let election = run_election_on(options, manifest(rule)?)?;
    let published = election
        .result
        .fundings
        .first()
        .map(|f| f.selection.clone())
        .ok_or_else(|| DemoError::Mismatch("the verified result funds nothing".into()))?;
    let counts =
        election.result.counts.get(1).ok_or_else(|| {
            DemoError::Mismatch("the verified result has no budget contest".into())
        })?;
    let projects: Vec<Project> = PROJECTS
        .iter()
        .zip(counts)
        .map(|(&(_, cost), &approvals)| Project { cost, approvals })
        .collect();
    let other_rule = match rule {
        SelectionRule::Greedy => SelectionRule::MaxApprovals,
        _ => SelectionRule::Greedy,
    };
    let other = select(other_rule, BUDGET, &projects)
        .map_err(|e| DemoError::Tally(format!("the {} rule: {e}", other_rule.name())))?;
    Ok(BudgetOutcome {
        election,
        rule,
        published,
        other: (other_rule, other),
    })
}
