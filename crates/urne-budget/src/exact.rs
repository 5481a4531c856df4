//! The `max-approvals` rule (spec/26 §26.3): the greatest affordable set under the order
//! (more approvals, then lower cost, then the first differing project funded), by one of
//! two exact methods that must agree.

use std::cmp::Reverse;

use crate::{Project, SelectionError};

/// Meet in the middle enumerates 2^⌈n/2⌉ subsets per half.
const MEET_IN_THE_MIDDLE_MAX_PROJECTS: usize = 40;
/// The dynamic programme keeps two rows of budget+1 approval sums ...
const DYNAMIC_MAX_BUDGET: u64 = 1 << 22;
/// ... and one decision bit per project and budget (128 MiB at most).
const DYNAMIC_MAX_DECISION_BITS: u128 = 1 << 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    MeetInTheMiddle,
    Dynamic,
}

pub(crate) fn method(projects: usize, budget: u64) -> Option<Method> {
    if projects <= MEET_IN_THE_MIDDLE_MAX_PROJECTS {
        Some(Method::MeetInTheMiddle)
    } else if budget <= DYNAMIC_MAX_BUDGET
        && (projects as u128) * (u128::from(budget) + 1) <= DYNAMIC_MAX_DECISION_BITS
    {
        Some(Method::Dynamic)
    } else {
        None
    }
}

/// The funded indices, ascending. The caller has checked the input (spec/26 §26.1).
pub(crate) fn max_approvals(budget: u64, projects: &[Project]) -> Result<Vec<u32>, SelectionError> {
    match method(projects.len(), budget) {
        Some(Method::MeetInTheMiddle) => Ok(meet_in_the_middle(budget, projects)),
        Some(Method::Dynamic) => Ok(dynamic(budget, projects)),
        None => Err(SelectionError::TooLarge {
            projects: projects.len(),
            budget,
        }),
    }
}

/// A subset of one half: its approvals, its cost, and its membership bits with the
/// half's first project as the most significant bit, so a greater mask is the set that
/// holds the first differing project (key 3).
/// The order of spec/26 §26.3 as a key: greater is better (for sets over the same projects).
type Key = (u128, Reverse<u128>, u64);

#[derive(Clone, Copy)]
struct Part {
    approvals: u128,
    cost: u128,
    mask: u64,
}

impl Part {
    fn key(&self) -> Key {
        (self.approvals, Reverse(self.cost), self.mask)
    }
}

fn subsets(projects: &[Project]) -> Vec<Part> {
    let k = projects.len();
    let mut all = Vec::with_capacity(1 << k);
    all.push(Part {
        approvals: 0,
        cost: 0,
        mask: 0,
    });
    for mask in 1u64..(1u64 << k) {
        let low = mask.trailing_zeros() as usize;
        let without = all[(mask & (mask - 1)) as usize];
        let project = projects[k - 1 - low];
        all.push(Part {
            approvals: without.approvals + u128::from(project.approvals),
            cost: without.cost + u128::from(project.cost),
            mask,
        });
    }
    all
}

fn meet_in_the_middle(budget: u64, projects: &[Project]) -> Vec<u32> {
    let budget = u128::from(budget);
    let (first, second) = projects.split_at(projects.len() / 2);
    let mut right: Vec<Part> = subsets(second)
        .into_iter()
        .filter(|p| p.cost <= budget)
        .collect();
    right.sort_unstable_by_key(|p| p.cost);
    // best[k]: the greatest of right[0..=k], the best completion within right[k].cost.
    let mut best: Vec<usize> = Vec::with_capacity(right.len());
    for (k, part) in right.iter().enumerate() {
        let keep = match best.last() {
            Some(&b) if right[b].key() >= part.key() => b,
            _ => k,
        };
        best.push(keep);
    }
    let shift = second.len();
    let mut winner: Option<Key> = None;
    for left in subsets(first) {
        if left.cost > budget {
            continue;
        }
        let room = budget - left.cost;
        // The empty completion costs 0, so at least one fits.
        let fits = right.partition_point(|p| p.cost <= room);
        let Some(&b) = fits.checked_sub(1).and_then(|k| best.get(k)) else {
            continue;
        };
        let r = right[b];
        let candidate = (
            left.approvals + r.approvals,
            Reverse(left.cost + r.cost),
            (left.mask << shift) | r.mask,
        );
        if winner.is_none_or(|w| candidate > w) {
            winner = Some(candidate);
        }
    }
    let mask = winner.map_or(0, |(_, _, mask)| mask);
    let n = projects.len();
    (0..n as u32)
        .filter(|&i| mask >> (n - 1 - i as usize) & 1 == 1)
        .collect()
}

fn dynamic(budget: u64, projects: &[Project]) -> Vec<u32> {
    let width = budget as usize + 1;
    // best[b] = f_i(b) of spec/26 §26.3, updated in place from the last project to the
    // first; the caller's check keeps every sum below 2^64.
    let mut best = vec![0u64; width];
    let mut take = vec![0u64; (projects.len() * width).div_ceil(64)];
    for (i, project) in projects.iter().enumerate().rev() {
        let Ok(cost) = usize::try_from(project.cost) else {
            continue;
        };
        if cost >= width {
            continue;
        }
        for b in (cost..width).rev() {
            let with = best[b - cost].saturating_add(project.approvals);
            if with >= best[b] {
                best[b] = with;
                let bit = i * width + b;
                take[bit / 64] |= 1 << (bit % 64);
            }
        }
    }
    let most = best[width - 1];
    let mut b = best.partition_point(|&f| f < most);
    let mut funded = Vec::new();
    for (i, project) in projects.iter().enumerate() {
        let bit = i * width + b;
        if take[bit / 64] >> (bit % 64) & 1 == 1 {
            funded.push(i as u32);
            b -= project.cost as usize;
        }
    }
    funded
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition itself: every subset, the greatest under spec/26 §26.3.
    fn brute_force(budget: u64, projects: &[Project]) -> Vec<u32> {
        let n = projects.len();
        let mut winner: Option<(Key, u64)> = None;
        for set in 0u64..(1 << n) {
            let members = (0..n).filter(|i| set >> i & 1 == 1);
            let cost: u128 = members.clone().map(|i| u128::from(projects[i].cost)).sum();
            if cost > u128::from(budget) {
                continue;
            }
            let approvals = members
                .clone()
                .map(|i| u128::from(projects[i].approvals))
                .sum();
            let lexicographic = members.fold(0u64, |m, i| m | 1 << (n - 1 - i));
            let key = (approvals, Reverse(cost), lexicographic);
            if winner.is_none_or(|(w, _)| key > w) {
                winner = Some((key, set));
            }
        }
        let set = winner.map_or(0, |(_, s)| s);
        (0..n as u32).filter(|&i| set >> i & 1 == 1).collect()
    }

    /// splitmix64: reproducible instances without a seeded-RNG dependency.
    struct Draw(u64);
    impl Draw {
        fn below(&mut self, bound: u64) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % bound
        }
    }

    fn instance(draw: &mut Draw, n: usize, spread: u64) -> (u64, Vec<Project>) {
        let projects: Vec<Project> = (0..n)
            .map(|_| Project {
                cost: 1 + draw.below(spread),
                approvals: draw.below(spread),
            })
            .collect();
        let total: u64 = projects.iter().map(|p| p.cost).sum();
        (1 + draw.below(total + 1), projects)
    }

    #[test]
    fn both_methods_give_the_definitions_set_with_many_ties() {
        let mut draw = Draw(26);
        for round in 0..3000 {
            let n = 1 + (round % 12);
            // Small spreads make equal approvals and equal costs common: key 2 and
            // key 3 decide most of these.
            let spread = [2, 3, 5, 40][round % 4];
            let (budget, projects) = instance(&mut draw, n, spread);
            let expected = brute_force(budget, &projects);
            assert_eq!(
                meet_in_the_middle(budget, &projects),
                expected,
                "meet in the middle, budget {budget}, {projects:?}"
            );
            assert_eq!(
                dynamic(budget, &projects),
                expected,
                "dynamic programme, budget {budget}, {projects:?}"
            );
        }
    }

    #[test]
    fn the_methods_agree_beyond_brute_force() {
        let mut draw = Draw(2026);
        for round in 0..40 {
            let n = 20 + round % 21;
            let (_, projects) = instance(&mut draw, n, [4, 1000][round % 2]);
            let budget = 1 + draw.below(projects.iter().map(|p| p.cost).sum::<u64>());
            assert_eq!(
                meet_in_the_middle(budget, &projects),
                dynamic(budget, &projects),
                "budget {budget}, {projects:?}"
            );
        }
    }

    #[test]
    fn the_method_follows_the_limits_of_the_spec() {
        assert_eq!(method(40, u64::MAX), Some(Method::MeetInTheMiddle));
        assert_eq!(method(41, 1 << 22), Some(Method::Dynamic));
        assert_eq!(method(41, (1 << 22) + 1), None);
        assert_eq!(
            method(257, 1 << 22),
            None,
            "257 × (2^22 + 1) bits is over 2^30"
        );
        assert_eq!(method(255, (1 << 22) - 1), Some(Method::Dynamic));
    }
}
