//! Participatory budgets (spec/26-budget.md): which projects a budget funds, given the
//! decrypted approval totals, under the rule the manifest names.
//!
//! Both rules are total orders over project sets, so the funded set is unique and any
//! verifier that re-runs [`select`] on the published totals gets the same set bit for bit;
//! [`check_selection`] names the first difference from a published claim.
//!
//! Pure: no I/O, and no panic on anything read from outside.

mod exact;

use thiserror::Error;

/// How the funded projects are chosen (spec/26 §26.2, §26.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rule {
    /// By approvals, most first, funding each project that still fits (what Decidim does).
    Greedy,
    /// The affordable set with the most approvals (an exact knapsack).
    MaxApprovals,
}

impl Rule {
    /// The rule's name in manifests and reports.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Greedy => "greedy",
            Rule::MaxApprovals => "max-approvals",
        }
    }

    /// The rule's byte in a manifest (spec/21 §21.1): matched exhaustively here, so a new
    /// rule cannot be encoded as an old one.
    pub fn tag(self) -> u8 {
        match self {
            Rule::Greedy => 1,
            Rule::MaxApprovals => 2,
        }
    }

    /// The rule a manifest's byte names, if any.
    pub fn from_tag(tag: u8) -> Option<Rule> {
        [Rule::Greedy, Rule::MaxApprovals]
            .into_iter()
            .find(|r| r.tag() == tag)
    }

    /// The rule a manifest names, if it is one of ours.
    pub fn from_name(name: &str) -> Option<Rule> {
        match name {
            "greedy" => Some(Rule::Greedy),
            "max-approvals" => Some(Rule::MaxApprovals),
            _ => None,
        }
    }
}

/// One project's cost and decrypted approvals (spec/26 §26.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Project {
    /// In the currency unit the manifest names; at least 1.
    pub cost: u64,
    /// The decrypted (possibly weighted) number of approvals.
    pub approvals: u64,
}

/// The funded projects and what they add up to (spec/26 §26.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selection {
    /// Indices of the funded projects, ascending.
    pub funded: Vec<u32>,
    /// Total cost of the funded projects.
    pub money_used: u128,
    /// Total approvals of the funded projects.
    pub approvals_represented: u128,
    /// Total approvals of all projects.
    pub approvals_total: u128,
}

/// Why a selection cannot be made or a claimed one is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SelectionError {
    /// The input itself is invalid (spec/26 §26.1).
    #[error("invalid budget input at {field}: {detail}")]
    InvalidInput {
        /// Where: `projects`, `projects[i].cost` or `budget`.
        field: String,
        /// What is wrong.
        detail: String,
    },
    /// Too many projects with too large a budget for an exact selection in bounded
    /// memory (spec/26 §26.3); a manifest naming `max-approvals` for it is refused.
    #[error(
        "an exact selection of {projects} projects under a budget of {budget} is beyond the limits of spec/26 §26.3; state costs in a coarser unit"
    )]
    TooLarge {
        /// Number of projects.
        projects: usize,
        /// The budget.
        budget: u64,
    },
    /// A published selection differs from the rule's (spec/26 §26.5).
    #[error("the published selection is wrong at {field}: {detail}")]
    Mismatch {
        /// The first field that differs: `funded[k]`, `funded`, `money_used`, ….
        field: String,
        /// What the rule gives instead.
        detail: String,
    },
}

fn invalid(field: impl Into<String>, detail: impl Into<String>) -> SelectionError {
    SelectionError::InvalidInput {
        field: field.into(),
        detail: detail.into(),
    }
}

fn check_input(budget: u64, projects: &[Project]) -> Result<(), SelectionError> {
    if projects.is_empty() {
        return Err(invalid("projects", "a budget needs at least one project"));
    }
    if u32::try_from(projects.len()).is_err() {
        return Err(invalid("projects", "more than 2^32 - 1 projects"));
    }
    if budget == 0 {
        return Err(invalid("budget", "the budget must be at least 1"));
    }
    let approvals: u128 = projects.iter().map(|p| u128::from(p.approvals)).sum();
    if approvals > u128::from(u64::MAX) {
        return Err(invalid(
            "projects",
            "the approvals add up to 2^64 or more (spec/26 §26.1)",
        ));
    }
    if let Some(i) = projects.iter().position(|p| p.cost == 0) {
        return Err(invalid(
            format!("projects[{i}].cost"),
            "a project costs at least 1 unit",
        ));
    }
    Ok(())
}

/// Whether `max-approvals` can be computed for this many projects and this budget
/// (spec/26 §26.3); the manifest check refuses the rule otherwise.
pub fn exact_rule_supported(projects: usize, budget: u64) -> bool {
    exact::method(projects, budget).is_some()
}

/// The projects `rule` funds under `budget` (spec/26).
pub fn select(rule: Rule, budget: u64, projects: &[Project]) -> Result<Selection, SelectionError> {
    check_input(budget, projects)?;
    let funded = match rule {
        Rule::Greedy => greedy(budget, projects),
        Rule::MaxApprovals => exact::max_approvals(budget, projects)?,
    };
    Ok(summarise(funded, projects))
}

fn summarise(funded: Vec<u32>, projects: &[Project]) -> Selection {
    let total = |of: &mut dyn Iterator<Item = &Project>, field: fn(&Project) -> u64| -> u128 {
        of.map(|p| u128::from(field(p))).sum()
    };
    let chosen = || funded.iter().map(|&i| &projects[i as usize]);
    Selection {
        money_used: total(&mut chosen(), |p| p.cost),
        approvals_represented: total(&mut chosen(), |p| p.approvals),
        approvals_total: total(&mut projects.iter(), |p| p.approvals),
        funded,
    }
}

/// spec/26 §26.2.
fn greedy(budget: u64, projects: &[Project]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..projects.len() as u32).collect();
    order.sort_by_key(|&i| {
        let p = projects[i as usize];
        (std::cmp::Reverse(p.approvals), p.cost, i)
    });
    let mut remaining = budget;
    let mut funded = Vec::new();
    for i in order {
        let p = projects[i as usize];
        if p.approvals == 0 {
            break;
        }
        if p.cost <= remaining {
            remaining -= p.cost;
            funded.push(i);
        }
    }
    funded.sort_unstable();
    funded
}

/// Recomputes the selection and compares a published one with it, naming the first
/// difference in the order of spec/26 §26.5.
pub fn check_selection(
    rule: Rule,
    budget: u64,
    projects: &[Project],
    claimed: &Selection,
) -> Result<(), SelectionError> {
    let mismatch = |field: String, detail: String| SelectionError::Mismatch { field, detail };
    for (k, &i) in claimed.funded.iter().enumerate() {
        if i as usize >= projects.len() {
            return Err(mismatch(
                format!("funded[{k}]"),
                format!("project {i} does not exist ({} projects)", projects.len()),
            ));
        }
        if k > 0 && claimed.funded[k - 1] >= i {
            return Err(mismatch(
                format!("funded[{k}]"),
                "the funded indices must be strictly ascending".into(),
            ));
        }
    }
    let expected = select(rule, budget, projects)?;
    let claimed_set: std::collections::BTreeSet<u32> = claimed.funded.iter().copied().collect();
    let expected_set: std::collections::BTreeSet<u32> = expected.funded.iter().copied().collect();
    let omitted = expected_set.difference(&claimed_set).next();
    let extra = claimed_set.difference(&expected_set).next();
    let first = match (omitted, extra) {
        (Some(&a), Some(&b)) => Some(a.min(b)),
        (Some(&a), None) | (None, Some(&a)) => Some(a),
        (None, None) => None,
    };
    if let Some(i) = first {
        let detail = if expected_set.contains(&i) {
            format!(
                "rule {} funds project {i}, which the selection omits",
                rule.name()
            )
        } else {
            format!(
                "the selection funds project {i}, which rule {} does not",
                rule.name()
            )
        };
        return Err(mismatch("funded".into(), detail));
    }
    let totals = [
        ("money_used", claimed.money_used, expected.money_used),
        (
            "approvals_represented",
            claimed.approvals_represented,
            expected.approvals_represented,
        ),
        (
            "approvals_total",
            claimed.approvals_total,
            expected.approvals_total,
        ),
    ];
    for (field, got, want) in totals {
        if got != want {
            return Err(mismatch(
                field.into(),
                format!("is {got}, the sum is {want}"),
            ));
        }
    }
    Ok(())
}
