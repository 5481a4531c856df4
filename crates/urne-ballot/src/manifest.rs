//! The election manifest: its contests, their rules, and its canonical bytes
//! (spec/21-ballots.md §21.1).
//!
//! Every contest reduces to the same three numbers, which is all the ballot proofs need:
//! each option encrypts a value in [0, per-option maximum], and the contest's sum (with an
//! explicit blank vote weighted by the maximum, see [`ContestRules`]) lies in
//! [minimum, maximum]. Voter weights are not here: they are in the credential list, and a
//! ballot is the same whatever its weight.

use urne_budget::Rule as SelectionRule;

use crate::wire::{DecodeError, Problem, Reader, is_clean_text, put_text};

/// Version byte of the manifest encoding.
pub const MANIFEST_VERSION: u8 = 1;
/// Most contests in one manifest.
pub const MAX_CONTESTS: usize = 64;
/// Most options in one contest.
pub const MAX_OPTIONS: usize = 256;
/// Largest value one option of a cumulative contest may hold (one disjunctive proof has
/// at most 256 branches).
pub const MAX_PER_OPTION: u32 = 255;
/// Longest text (title, option label), in bytes of UTF-8.
pub const MAX_TEXT: usize = 1024;
/// Largest budget (and so cost) of a budget contest: 2^53 − 1, the largest integer a
/// browser's JavaScript number holds exactly, so the booth shows every amount exactly.
pub const MAX_BUDGET: u64 = (1 << 53) - 1;

/// What a contest asks of the voter.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContestKind {
    /// Exactly one option (or the blank vote, if the contest offers it). Tag 1.
    SingleChoice,
    /// Between `min` and `max` options, each at most once. Tag 2.
    Approval {
        /// Fewest options a non-blank ballot selects.
        min: u16,
        /// Most options a ballot selects.
        max: u16,
    },
    /// Points spread over options: at most `per_option_max` on one option, and a total in
    /// [`min_total`, `max_total`]. Tag 3.
    Cumulative {
        /// Most points on one option (1 to 255).
        per_option_max: u8,
        /// Fewest points a non-blank ballot gives in total.
        min_total: u32,
        /// Most points a ballot gives in total.
        max_total: u32,
    },
    /// A participatory budget: each option is a project with a cost, approved or not;
    /// between `min_projects` and `max_projects` projects, whose costs add up to between
    /// `min_spend` and `budget`. Tag 4 (spec/21 §21.1).
    Budget {
        /// Fewest projects a non-blank ballot approves.
        min_projects: u16,
        /// Most projects a ballot approves.
        max_projects: u16,
        /// Least a non-blank ballot spends (a share of the budget the voter must use).
        min_spend: u64,
        /// Most a ballot spends.
        budget: u64,
        /// How the funded projects are selected from the totals (spec/26).
        rule: SelectionRule,
        /// One cost per option, in option order, each 1 to `budget`.
        costs: Vec<u64>,
    },
}

/// The spending rule of a budget contest (spec/21 §21.4): with a blank option b, the
/// proven spend is Σ costᵢ·xᵢ + min_spend·b ∈ [min_spend, budget].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpendRules<'a> {
    /// One cost per option.
    pub costs: &'a [u64],
    /// Smallest proven spend.
    pub min: u64,
    /// Largest proven spend.
    pub max: u64,
}

impl SpendRules<'_> {
    /// What `values` (one per option) spend, exactly.
    pub fn spend(&self, values: &[u64]) -> u128 {
        self.costs
            .iter()
            .zip(values)
            .map(|(&cost, &value)| u128::from(cost) * u128::from(value))
            .sum()
    }
}

/// The numbers a contest's proofs are about (spec/21-ballots.md §21.4).
///
/// With a blank option b ∈ {0, 1}, the proven sum is Σ xᵢ + max·b ∈ [min, max]: for b = 1
/// it forces Σ xᵢ = 0 (a blank vote selects nothing else), for b = 0 it is the contest's
/// own rule. Σ xᵢ ≥ 0 as an integer because every xᵢ is proven in [0, per-option max]
/// and the sum stays far below the group order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContestRules {
    /// Each option encrypts a value in [0, per_option_max].
    pub per_option_max: u64,
    /// Smallest proven sum.
    pub min: u64,
    /// Largest proven sum.
    pub max: u64,
}

fn check_text(text: &str, field: impl Fn() -> String) -> Result<(), DecodeError> {
    if text.len() > MAX_TEXT {
        return Err(DecodeError::new(
            field(),
            Problem::OutOfBounds {
                detail: "texts are at most 1,024 bytes",
            },
        ));
    }
    if !is_clean_text(text) {
        return Err(DecodeError::new(field(), Problem::BadText));
    }
    Ok(())
}

/// One contest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contest {
    /// The question, as shown.
    pub title: String,
    /// The rule.
    pub kind: ContestKind,
    /// Whether the ballot has an explicit blank vote (an extra 0/1 ciphertext).
    pub blank: bool,
    /// The options' labels, in ballot order.
    pub options: Vec<String>,
}

impl Contest {
    /// The spending rule, for a budget contest.
    pub fn spending(&self) -> Option<SpendRules<'_>> {
        match &self.kind {
            ContestKind::Budget {
                min_spend,
                budget,
                costs,
                ..
            } => Some(SpendRules {
                costs,
                min: *min_spend,
                max: *budget,
            }),
            _ => None,
        }
    }

    /// The proven numbers of this contest.
    pub fn rules(&self) -> ContestRules {
        match self.kind {
            ContestKind::SingleChoice => ContestRules {
                per_option_max: 1,
                min: 1,
                max: 1,
            },
            ContestKind::Approval { min, max } => ContestRules {
                per_option_max: 1,
                min: min.into(),
                max: max.into(),
            },
            ContestKind::Cumulative {
                per_option_max,
                min_total,
                max_total,
            } => ContestRules {
                per_option_max: per_option_max.into(),
                min: min_total.into(),
                max: max_total.into(),
            },
            ContestKind::Budget {
                min_projects,
                max_projects,
                ..
            } => ContestRules {
                per_option_max: 1,
                min: min_projects.into(),
                max: max_projects.into(),
            },
        }
    }

    fn check(&self, at: &str) -> Result<(), DecodeError> {
        let bound = |field: &str, detail| {
            Err(DecodeError::new(
                format!("{at}.{field}"),
                Problem::OutOfBounds { detail },
            ))
        };
        check_text(&self.title, || format!("{at}.title"))?;
        let n = self.options.len();
        if n == 0 || n > MAX_OPTIONS {
            return bound("options", "a contest has 1 to 256 options");
        }
        for (i, label) in self.options.iter().enumerate() {
            if label.trim().is_empty() {
                return bound(&format!("options[{i}]"), "an option label is not blank");
            }
            check_text(label, || format!("{at}.options[{i}]"))?;
            // Two options with one label look the same on every screen: a vote for
            // one could not be told from a vote for the other.
            if self.options[..i].contains(label) {
                return bound(&format!("options[{i}]"), "an option label appears twice");
            }
        }
        match self.kind {
            ContestKind::SingleChoice => Ok(()),
            ContestKind::Approval { min, max } => {
                if max == 0 || usize::from(max) > n {
                    return bound("kind.max", "must be 1 to the number of options");
                }
                if min > max {
                    return bound("kind.min", "must not exceed max");
                }
                Ok(())
            }
            ContestKind::Cumulative {
                per_option_max,
                min_total,
                max_total,
            } => {
                if per_option_max == 0 {
                    return bound("kind.per_option_max", "must be 1 to 255");
                }
                if max_total == 0 || u64::from(max_total) > n as u64 * u64::from(per_option_max) {
                    return bound(
                        "kind.max_total",
                        "must be 1 to options × per-option maximum",
                    );
                }
                if min_total > max_total {
                    return bound("kind.min_total", "must not exceed max_total");
                }
                Ok(())
            }
            ContestKind::Budget {
                min_projects,
                max_projects,
                min_spend,
                budget,
                rule,
                ref costs,
            } => {
                if max_projects == 0 || usize::from(max_projects) > n {
                    return bound("kind.max_projects", "must be 1 to the number of projects");
                }
                if min_projects > max_projects {
                    return bound("kind.min_projects", "must not exceed max_projects");
                }
                if budget == 0 || budget > MAX_BUDGET {
                    return bound("kind.budget", "must be 1 to 2^53 - 1");
                }
                if min_spend > budget {
                    return bound("kind.min_spend", "must not exceed the budget");
                }
                if costs.len() != n {
                    return bound("costs", "a budget contest has one cost per project");
                }
                for (i, &cost) in costs.iter().enumerate() {
                    if cost == 0 || cost > budget {
                        return bound(&format!("costs[{i}]"), "a project costs 1 to the budget");
                    }
                }
                // Without this, only the blank vote (or nothing) could be cast.
                let mut dearest = costs.clone();
                dearest.sort_unstable_by(|a, b| b.cmp(a));
                let most: u128 = dearest
                    .iter()
                    .take(max_projects.into())
                    .map(|&c| u128::from(c))
                    .sum();
                if u128::from(min_spend) > most {
                    return bound(
                        "kind.min_spend",
                        "no allowed choice of projects spends that much",
                    );
                }
                if rule == SelectionRule::MaxApprovals
                    && !urne_budget::exact_rule_supported(n, budget)
                {
                    return bound(
                        "kind.rule",
                        "too many projects under too large a budget for an exact selection (spec/26 §26.3): state costs in a coarser unit",
                    );
                }
                Ok(())
            }
        }
    }
}

/// An election manifest: what every ballot of the election answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    title: String,
    contests: Vec<Contest>,
}

impl Manifest {
    /// A manifest, checked as the decoder checks it (so every manifest that exists
    /// encodes and decodes to itself).
    pub fn new(title: impl Into<String>, contests: Vec<Contest>) -> Result<Self, DecodeError> {
        let manifest = Self {
            title: title.into(),
            contests,
        };
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), DecodeError> {
        check_text(&self.title, || "title".to_owned())?;
        if self.contests.is_empty() || self.contests.len() > MAX_CONTESTS {
            return Err(DecodeError::new(
                "contests",
                Problem::OutOfBounds {
                    detail: "a manifest has 1 to 64 contests",
                },
            ));
        }
        for (i, contest) in self.contests.iter().enumerate() {
            contest.check(&format!("contests[{i}]"))?;
        }
        Ok(())
    }

    /// The election's title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The contests, in ballot order.
    pub fn contests(&self) -> &[Contest] {
        &self.contests
    }

    /// The length of every ballot of this manifest, in bytes (spec/21 §21.5): fixed by
    /// the manifest, whatever the choices, since every proof has a fixed shape. The board
    /// refuses a manifest whose ballots would not fit in a `ballot.cast` record.
    pub fn ballot_len(&self) -> usize {
        // A range proof for [a, a + w]: version byte and w + 1 branches of 128 bytes.
        let range = |width: u64| 1 + 128 * (width as usize + 1);
        // A sum or spend proof: tag, then one sized range proof or two sized bit proofs
        // of k bits, 320 bytes a bit.
        let sum = |min: u64, max: u64| {
            let width = max.wrapping_sub(min);
            if width < 256 {
                1 + 4 + range(width)
            } else {
                let bits = (u64::BITS - width.leading_zeros()) as usize;
                1 + 2 * (4 + 1 + 320 * bits)
            }
        };
        let spends = self.contests.iter().any(|c| c.spending().is_some());
        let mut len = 1 + 32 + 32 + 2;
        if spends {
            len += self.contests.len().div_ceil(8);
        }
        for contest in &self.contests {
            let rules = contest.rules();
            let option = 64 + 4 + range(rules.per_option_max);
            len += 2 + contest.options.len() * option + 1;
            if contest.blank {
                len += 64 + 4 + range(1);
            }
            len += sum(rules.min, rules.max);
            if let Some(spending) = contest.spending() {
                len += sum(spending.min, spending.max);
            }
        }
        len
    }

    /// The canonical bytes (spec/21-ballots.md §21.1).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![MANIFEST_VERSION];
        put_text(&mut out, &self.title);
        out.extend_from_slice(&(self.contests.len() as u16).to_be_bytes());
        for contest in &self.contests {
            put_text(&mut out, &contest.title);
            match contest.kind {
                ContestKind::SingleChoice => out.push(1),
                ContestKind::Approval { min, max } => {
                    out.push(2);
                    out.extend_from_slice(&min.to_be_bytes());
                    out.extend_from_slice(&max.to_be_bytes());
                }
                ContestKind::Cumulative {
                    per_option_max,
                    min_total,
                    max_total,
                } => {
                    out.push(3);
                    out.push(per_option_max);
                    out.extend_from_slice(&min_total.to_be_bytes());
                    out.extend_from_slice(&max_total.to_be_bytes());
                }
                ContestKind::Budget {
                    min_projects,
                    max_projects,
                    min_spend,
                    budget,
                    rule,
                    ..
                } => {
                    out.push(4);
                    out.extend_from_slice(&min_projects.to_be_bytes());
                    out.extend_from_slice(&max_projects.to_be_bytes());
                    out.extend_from_slice(&min_spend.to_be_bytes());
                    out.extend_from_slice(&budget.to_be_bytes());
                    out.push(rule.tag());
                }
            }
            out.push(u8::from(contest.blank));
            out.extend_from_slice(&(contest.options.len() as u16).to_be_bytes());
            for option in &contest.options {
                put_text(&mut out, option);
            }
            if let ContestKind::Budget { costs, .. } = &contest.kind {
                for cost in costs {
                    out.extend_from_slice(&cost.to_be_bytes());
                }
            }
        }
        out
    }

    /// Strict decoding: version 1, every count and rule in bounds, clean UTF-8 text, no
    /// trailing bytes. Errors name the field (`contests[2].kind.max`).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version(MANIFEST_VERSION)?;
        let title = r.text(|| "title".to_owned())?;
        let count = r.u16(|| "contests".to_owned())? as usize;
        if count == 0 || count > MAX_CONTESTS {
            return Err(DecodeError::new(
                "contests",
                Problem::OutOfBounds {
                    detail: "a manifest has 1 to 64 contests",
                },
            ));
        }
        let mut contests = Vec::with_capacity(count);
        for c in 0..count {
            let at = |f: &str| format!("contests[{c}].{f}");
            let title = r.text(|| at("title"))?;
            let kind = match r.u8(|| at("kind"))? {
                1 => ContestKind::SingleChoice,
                2 => ContestKind::Approval {
                    min: r.u16(|| at("kind.min"))?,
                    max: r.u16(|| at("kind.max"))?,
                },
                3 => ContestKind::Cumulative {
                    per_option_max: r.u8(|| at("kind.per_option_max"))?,
                    min_total: r.u32(|| at("kind.min_total"))?,
                    max_total: r.u32(|| at("kind.max_total"))?,
                },
                4 => ContestKind::Budget {
                    min_projects: r.u16(|| at("kind.min_projects"))?,
                    max_projects: r.u16(|| at("kind.max_projects"))?,
                    min_spend: r.u64(|| at("kind.min_spend"))?,
                    budget: r.u64(|| at("kind.budget"))?,
                    rule: {
                        let found = r.u8(|| at("kind.rule"))?;
                        SelectionRule::from_tag(found).ok_or_else(|| {
                            DecodeError::new(at("kind.rule"), Problem::UnknownTag { found })
                        })?
                    },
                    // Read after the labels, once their count is known.
                    costs: Vec::new(),
                },
                found => return Err(DecodeError::new(at("kind"), Problem::UnknownTag { found })),
            };
            let blank = r.flag(|| at("blank"))?;
            let n = r.u16(|| at("options"))? as usize;
            if n == 0 || n > MAX_OPTIONS {
                return Err(DecodeError::new(
                    at("options"),
                    Problem::OutOfBounds {
                        detail: "a contest has 1 to 256 options",
                    },
                ));
            }
            let mut options = Vec::with_capacity(n);
            for o in 0..n {
                options.push(r.text(|| format!("contests[{c}].options[{o}]"))?);
            }
            let mut kind = kind;
            if let ContestKind::Budget { costs, .. } = &mut kind {
                for o in 0..n {
                    costs.push(r.u64(|| format!("contests[{c}].costs[{o}]"))?);
                }
            }
            contests.push(Contest {
                title,
                kind,
                blank,
                options,
            });
        }
        r.finish()?;
        Self::new(title, contests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_options_with_one_label_are_refused() {
        let contest = |options: Vec<&str>| Contest {
            title: "Mayor".into(),
            kind: ContestKind::SingleChoice,
            blank: false,
            options: options.into_iter().map(Into::into).collect(),
        };
        let refused = Manifest::new("t", vec![contest(vec!["Ada", "Grace", "Ada"])]).unwrap_err();
        assert_eq!(refused.field(), "contests[0].options[2]");
        // The same label in two contests is fine: contests are told apart by title.
        Manifest::new(
            "t",
            vec![
                contest(vec!["Ada", "Grace"]),
                contest(vec!["Ada", "Edsger"]),
            ],
        )
        .unwrap();
        // And decoding refuses it too: it goes through the same check.
        let mut bytes = Manifest::new("t", vec![contest(vec!["Ada", "Adb"])])
            .unwrap()
            .to_bytes();
        let last = bytes.len() - 1;
        bytes[last] = b'a';
        assert_eq!(
            Manifest::decode(&bytes).unwrap_err().field(),
            "contests[0].options[1]"
        );
    }

    pub(crate) fn sample() -> Manifest {
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
                    title: "Council".into(),
                    kind: ContestKind::Approval { min: 1, max: 2 },
                    blank: false,
                    options: vec!["A".into(), "B".into(), "C".into(), "D".into()],
                },
                Contest {
                    title: "Priorities".into(),
                    kind: ContestKind::Cumulative {
                        per_option_max: 3,
                        min_total: 0,
                        max_total: 5,
                    },
                    blank: true,
                    options: vec!["Parks".into(), "Roads".into()],
                },
            ],
        )
        .unwrap()
    }

    #[test]
    fn manifest_round_trips_through_its_bytes() {
        let m = sample();
        let bytes = m.to_bytes();
        assert_eq!(Manifest::decode(&bytes).unwrap(), m);
        assert_eq!(Manifest::decode(&bytes).unwrap().to_bytes(), bytes);
    }

    #[test]
    fn manifest_decoding_is_strict_and_names_the_field() {
        let bytes = sample().to_bytes();
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Manifest::decode(&long).unwrap_err().field(), "end");
        for cut in 0..bytes.len() {
            assert!(Manifest::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            Manifest::decode(&v2).unwrap_err().problem(),
            &Problem::UnsupportedVersion { found: 2 }
        );
        // Contest 1's kind tag follows its title "Council".
        let kind_at = bytes.windows(7).position(|w| w == b"Council").unwrap() + 7;
        let mut unknown = bytes.clone();
        unknown[kind_at] = 5;
        let e = Manifest::decode(&unknown).unwrap_err();
        assert_eq!(e.field(), "contests[1].kind");
        assert_eq!(e.problem(), &Problem::UnknownTag { found: 5 });
        // Approval max 2 → 5, more than its 4 options.
        let mut too_many = bytes.clone();
        too_many[kind_at + 4] = 5;
        assert_eq!(
            Manifest::decode(&too_many).unwrap_err().field(),
            "contests[1].kind.max"
        );
        // The blank flag of contest 1 is 0; 2 is no flag.
        let mut flag = bytes.clone();
        flag[kind_at + 5] = 2;
        assert_eq!(
            Manifest::decode(&flag).unwrap_err().field(),
            "contests[1].blank"
        );
    }

    #[test]
    fn manifest_refuses_text_that_hides_what_is_shown() {
        let mut m = sample();
        m.contests[0].options[1] = "Grace\u{202E}ecarG".into();
        let e = Manifest::new("t", m.contests).unwrap_err();
        assert_eq!(e.field(), "contests[0].options[1]");
        assert_eq!(e.problem(), &Problem::BadText);
        let mut m = sample();
        m.contests[2].options[0] = "x".repeat(MAX_TEXT + 1);
        assert_eq!(
            Manifest::new("t", m.contests.clone()).unwrap_err().field(),
            "contests[2].options[0]"
        );
        for hidden in [
            "Grace\u{3164}",
            "A\u{2800}",
            "x\u{FE0F}",
            "a\u{2028}b",
            "\u{E0041}",
        ] {
            let mut m = sample();
            m.contests[0].options[1] = hidden.into();
            assert_eq!(
                Manifest::new("t", m.contests).unwrap_err().problem(),
                &Problem::BadText,
                "{hidden:?}"
            );
        }
        m.contests[2].options[0] = " \u{a0} ".into();
        assert_eq!(
            Manifest::new("t", m.contests).unwrap_err().field(),
            "contests[2].options[0]"
        );
    }

    #[test]
    fn manifest_refuses_impossible_rules() {
        let contest = |kind| Contest {
            title: "c".into(),
            kind,
            blank: false,
            options: vec!["x".into(), "y".into()],
        };
        for (kind, field) in [
            (
                ContestKind::Approval { min: 2, max: 1 },
                "contests[0].kind.min",
            ),
            (
                ContestKind::Approval { min: 0, max: 0 },
                "contests[0].kind.max",
            ),
            (
                ContestKind::Cumulative {
                    per_option_max: 2,
                    min_total: 0,
                    max_total: 5,
                },
                "contests[0].kind.max_total",
            ),
            (
                ContestKind::Cumulative {
                    per_option_max: 0,
                    min_total: 0,
                    max_total: 1,
                },
                "contests[0].kind.per_option_max",
            ),
        ] {
            assert_eq!(
                Manifest::new("t", vec![contest(kind)]).unwrap_err().field(),
                field
            );
        }
        assert_eq!(Manifest::new("t", vec![]).unwrap_err().field(), "contests");
    }
}
