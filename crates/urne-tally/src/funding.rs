//! The funded projects of each budget contest (spec/24 §24.5, spec/26): computed from the
//! decrypted approvals when the result is made, carried in `tally.result`, and recomputed
//! by every check of a result.

use urne_ballot::{Contest, ContestKind, Manifest};
use urne_budget::{Project, Selection, SelectionError, check_selection, select};

use crate::codec::{DecodeError, Reader};
use crate::error::TallyError;

/// The selection of one budget contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Funding {
    /// Index of the budget contest in the manifest.
    pub contest: u16,
    /// The funded projects and what they add up to.
    pub selection: Selection,
}

/// The projects of a budget contest with their decrypted approvals (the option counts;
/// the blank vote's count, if any, is not a project's).
fn projects(contest: &Contest, counts: &[u64]) -> Option<(u64, urne_budget::Rule, Vec<Project>)> {
    let ContestKind::Budget {
        budget,
        rule,
        costs,
        ..
    } = &contest.kind
    else {
        return None;
    };
    let projects = costs
        .iter()
        .zip(counts)
        .map(|(&cost, &approvals)| Project { cost, approvals })
        .collect();
    Some((*budget, *rule, projects))
}

fn funding_error(funding: usize, contest: usize, error: SelectionError) -> TallyError {
    match error {
        SelectionError::Mismatch { field, detail } => TallyError::Funding {
            funding,
            contest,
            field,
            detail,
        },
        other => TallyError::Funding {
            funding,
            contest,
            field: "selection".into(),
            detail: other.to_string(),
        },
    }
}

/// The fundings of every budget contest, in manifest order, from checked counts.
pub(crate) fn fund(manifest: &Manifest, counts: &[Vec<u64>]) -> Result<Vec<Funding>, TallyError> {
    let mut fundings = Vec::new();
    for (c, (contest, counts)) in manifest.contests().iter().zip(counts).enumerate() {
        if let Some((budget, rule, projects)) = projects(contest, counts) {
            let selection =
                select(rule, budget, &projects).map_err(|e| funding_error(fundings.len(), c, e))?;
            fundings.push(Funding {
                // Manifests have at most 64 contests.
                contest: c as u16,
                selection,
            });
        }
    }
    Ok(fundings)
}

/// Step 6 of spec/24 §24.6, on counts already checked against the shares: the result
/// funds exactly the manifest's budget contests, each with the selection its rule makes
/// of the counts.
pub fn check_fundings(
    manifest: &Manifest,
    counts: &[Vec<u64>],
    fundings: &[Funding],
) -> Result<(), TallyError> {
    let budgets: Vec<usize> = manifest
        .contests()
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind, ContestKind::Budget { .. }))
        .map(|(i, _)| i)
        .collect();
    let named: Vec<usize> = fundings.iter().map(|f| usize::from(f.contest)).collect();
    if named != budgets {
        return Err(TallyError::FundingShape {
            expected: budgets,
            found: named,
        });
    }
    for (k, funding) in fundings.iter().enumerate() {
        let c = usize::from(funding.contest);
        // The shape checks before this one make these hold; a caller that skipped them
        // gets an error, never a selection over a prefix of the projects.
        let counts = counts.get(c).ok_or_else(|| TallyError::TallyShape {
            field: format!("contests[{c}]"),
            expected: c + 1,
            found: counts.len(),
        })?;
        let contest = manifest.contests().get(c);
        let (budget, rule, projects) = contest
            .and_then(|contest| projects(contest, counts))
            .ok_or_else(|| TallyError::FundingShape {
                expected: budgets.clone(),
                found: named.clone(),
            })?;
        if projects.len() != contest.map_or(0, |c| c.options.len()) {
            return Err(TallyError::TallyShape {
                field: format!("contests[{c}]"),
                expected: contest.map_or(0, |c| c.options.len()),
                found: counts.len(),
            });
        }
        check_selection(rule, budget, &projects, &funding.selection)
            .map_err(|e| funding_error(k, c, e))?;
    }
    Ok(())
}

/// `fundings` of spec/24 §24.5 (version 2 of `tally.result`).
pub(crate) fn encode_fundings(out: &mut Vec<u8>, fundings: &[Funding]) {
    // At most one per contest: at most 64.
    out.extend_from_slice(&(fundings.len() as u16).to_be_bytes());
    for funding in fundings {
        let s = &funding.selection;
        out.extend_from_slice(&funding.contest.to_be_bytes());
        out.extend_from_slice(&(s.funded.len() as u16).to_be_bytes());
        for &i in &s.funded {
            // Project indices are option indices: below 256.
            out.extend_from_slice(&(i as u16).to_be_bytes());
        }
        for total in [s.money_used, s.approvals_represented, s.approvals_total] {
            out.extend_from_slice(&(total as u64).to_be_bytes());
        }
    }
}

/// Whether every total fits the body's u64 fields: always so for selections [`fund`]
/// makes (costs add up to at most 256 · 2^53, approvals to less than 2^64, which
/// urne-budget refuses otherwise), checked before encoding rather than truncated.
pub(crate) fn fits(funding: &Funding) -> bool {
    let s = &funding.selection;
    [s.money_used, s.approvals_represented, s.approvals_total]
        .iter()
        .all(|&t| u64::try_from(t).is_ok())
}

pub(crate) fn read_fundings(r: &mut Reader<'_>) -> Result<Vec<Funding>, DecodeError> {
    let n = r.count(&|| "fundings".into(), urne_ballot::MAX_CONTESTS)?;
    let mut fundings: Vec<Funding> = Vec::with_capacity(n);
    for f in 0..n {
        let at = |field: &str| format!("fundings[{f}].{field}");
        let contest = r.u16(&|| at("contest"))?;
        if fundings.last().is_some_and(|last| last.contest >= contest) {
            return Err(r.error(at("contest"), "contests are strictly increasing"));
        }
        let m = usize::from(r.u16(&|| at("funded"))?);
        if m > urne_ballot::MAX_OPTIONS {
            return Err(r.error(at("funded"), "at most 256 funded projects"));
        }
        let mut funded: Vec<u32> = Vec::with_capacity(m);
        for k in 0..m {
            let i = u32::from(r.u16(&|| at(&format!("funded[{k}]")))?);
            if funded.last().is_some_and(|&last| last >= i) {
                return Err(r.error(at(&format!("funded[{k}]")), "strictly increasing"));
            }
            funded.push(i);
        }
        let money_used = u128::from(r.u64(&|| at("money_used"))?);
        let approvals_represented = u128::from(r.u64(&|| at("approvals_represented"))?);
        let approvals_total = u128::from(r.u64(&|| at("approvals_total"))?);
        fundings.push(Funding {
            contest,
            selection: Selection {
                funded,
                money_used,
                approvals_represented,
                approvals_total,
            },
        });
    }
    Ok(fundings)
}
