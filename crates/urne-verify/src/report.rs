//! The verification report: one entry per numbered step of spec/50, each passed or failed
//! with its counts and, for a failure, the record index and the field at fault.

use crate::election::Phase;
use serde::Serialize;
use urne_ballot::Manifest;
use urne_ceremony::{CeremonyFault, CeremonyOutcome};
use urne_tally::TallyResult;

/// The numbered steps of spec/50-verification.md, in the order they run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Step {
    /// V1: the signed checkpoints, their cosignatures and the entries under them.
    Log,
    /// V2: every record's envelope, signature and context.
    Records,
    /// V3: each election's opening, parameters, phases and context hash.
    Parameters,
    /// V4: the key ceremony.
    Ceremony,
    /// V5: the credential list.
    Credentials,
    /// V6: every cast ballot: signature and every proof.
    Ballots,
    /// V7: the revote resolution.
    Revotes,
    /// V8: audited ballots: opened correctly, never counted.
    Audits,
    /// V9: the encrypted tally recomputed.
    Aggregation,
    /// V10: every decryption share and their combination.
    Decryption,
    /// V11: the published result.
    Result,
    /// V12: assembly sittings: every division recounted from its signed votes.
    Divisions,
    /// V13: petitions: every signature, tag and count recounted from the log.
    Petitions,
}

impl Step {
    /// Every step, in order.
    pub const ALL: [Step; 13] = [
        Step::Log,
        Step::Records,
        Step::Parameters,
        Step::Ceremony,
        Step::Credentials,
        Step::Ballots,
        Step::Revotes,
        Step::Audits,
        Step::Aggregation,
        Step::Decryption,
        Step::Result,
        Step::Divisions,
        Step::Petitions,
    ];

    /// Its number in spec/50 (V1 … V13).
    pub fn number(self) -> u8 {
        match self {
            Step::Log => 1,
            Step::Records => 2,
            Step::Parameters => 3,
            Step::Ceremony => 4,
            Step::Credentials => 5,
            Step::Ballots => 6,
            Step::Revotes => 7,
            Step::Audits => 8,
            Step::Aggregation => 9,
            Step::Decryption => 10,
            Step::Result => 11,
            Step::Divisions => 12,
            Step::Petitions => 13,
        }
    }

    /// Its title in spec/50.
    pub fn title(self) -> &'static str {
        match self {
            Step::Log => "log, checkpoints and cosignatures",
            Step::Records => "record envelopes and signatures",
            Step::Parameters => "election parameters, phases and context hash",
            Step::Ceremony => "key ceremony",
            Step::Credentials => "credential list",
            Step::Ballots => "cast ballots: signatures and proofs",
            Step::Revotes => "revote resolution",
            Step::Audits => "audited ballots",
            Step::Aggregation => "encrypted tally",
            Step::Decryption => "decryption shares and their combination",
            Step::Result => "published result",
            Step::Divisions => "assembly divisions recounted",
            Step::Petitions => "petitions recounted",
        }
    }

    /// The spec sections it checks.
    pub fn checks(self) -> &'static str {
        match self {
            Step::Log => "spec/10 §10.1-10.3, spec/12 §12.6, spec/51",
            Step::Records => "spec/12 §12.1, §12.4",
            Step::Parameters => "spec/12 §12.4, spec/23 §23.2-23.3, spec/21 §21.3",
            Step::Ceremony => "spec/20 §20.6, spec/23 §23.4",
            Step::Credentials => "spec/22 §22.3, spec/23 §23.5",
            Step::Ballots => "spec/21 §21.6, spec/22 §22.4, spec/23 §23.6",
            Step::Revotes => "spec/24 §24.1",
            Step::Audits => "spec/21 §21.8, spec/23 §23.7",
            Step::Aggregation => "spec/24 §24.3",
            Step::Decryption => "spec/20 §20.7, spec/23 §23.8, spec/24 §24.4",
            Step::Result => "spec/23 §23.9, spec/24 §24.5-24.6",
            Step::Divisions => "spec/40",
            Step::Petitions => "spec/31 §31.7, spec/32 §32.6-32.7",
        }
    }
}

/// One thing found wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The log index of the record at fault; None for what is no one record's (a
    /// checkpoint, something missing).
    pub record: Option<u64>,
    /// The field at fault, as the spec names it (`body.ballot.context`, `signature`,
    /// `checkpoints[2]`).
    pub field: String,
    /// The context (election) it concerns, hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// One step's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// Which step.
    pub step: Step,
    /// Its number.
    pub number: u8,
    /// Its title.
    pub title: &'static str,
    /// The spec sections it checks.
    pub checks: &'static str,
    /// How many items (checkpoints, records, ballots, shares …) it checked.
    pub checked: u64,
    /// What it found wrong, in log order.
    pub failures: Vec<Failure>,
}

impl StepReport {
    /// Whether it passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// One election, as far as it was verified.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct ElectionSummary {
    /// Its context id, hex.
    pub context: String,
    /// The phase its log reached.
    pub phase: String,
    /// Listed credentials.
    pub credentials: usize,
    /// Cast ballots on the log.
    pub ballots: usize,
    /// Audited ballots.
    pub audits: usize,
    /// The published counts (per contest, per entry), when there is a verified result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub counts: Option<Vec<Vec<u64>>>,
    /// The phase its log reached.
    #[serde(skip)]
    pub phase_reached: Option<Phase>,
    /// Its manifest, once on the log.
    #[serde(skip)]
    pub manifest: Option<Manifest>,
    /// The ceremony's outcome, re-verified, once it finished (a fault means the authority
    /// opens a new election, spec/23 §23.3).
    #[serde(skip)]
    pub ceremony: Option<Result<CeremonyOutcome, CeremonyFault>>,
    /// Whether voting opened.
    pub voting_opened: bool,
    /// The published result, when every check of it passed.
    #[serde(skip)]
    pub result: Option<TallyResult>,
}

/// One petition, recounted.
#[derive(Clone, Debug, Serialize)]
#[non_exhaustive]
pub struct PetitionSummary {
    /// Its context id, hex.
    pub context: String,
    /// The phase its log reached.
    pub phase: String,
    /// Distinct valid tags signed and not withdrawn.
    pub counted: u64,
    /// Tags withdrawn.
    pub withdrawn: u64,
    /// Its threshold, once defined.
    pub threshold: Option<u64>,
    /// Tags proven signed twice (`petition.duplicate`, spec/32 §32.6 step 7), never counted.
    pub duplicates: u64,
    /// Signatures not withdrawn per disclosed district, only the districts with at least
    /// the definition's minimum bin (spec/32 §32.11); the others are withheld.
    pub districts: Vec<DistrictCount>,
}

/// One disclosed district's signatures (spec/32 §32.11).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DistrictCount {
    /// The district.
    pub district: u32,
    /// Its signatures, not withdrawn.
    pub signatures: u64,
}

/// The trust anchors a verification took (spec/50 §50.1): everything it believed
/// without proof. A verification is only as good as these.
#[derive(Clone, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct Trust {
    /// The board key the checkpoints were checked under (vkey), if any.
    pub board_key: Option<String>,
    /// Where it came from: `given` (out of band), `archive` (the archive's own, accepted
    /// with --trust-archive-keys: the log is proven self-consistent only) or `none`.
    pub board_key_from: String,
    /// The witnesses' names and key ids (`name+hex`), as given.
    pub witnesses: Vec<String>,
    /// How many of them must have cosigned the newest checkpoint.
    pub quorum: usize,
    /// The elections pinned (context ids, hex): each must be on the log.
    pub elections: Vec<String>,
    /// The authority keys pinned (hex): every election must be opened by one.
    pub authorities: Vec<String>,
    /// What these anchors leave unproven, one sentence each (spec/50 §50.1); printed as
    /// TRUST WARNING lines, and a reason to read `passed` with care.
    pub warnings: Vec<String>,
}

impl Trust {
    pub(crate) fn of(archive: &crate::Archive, options: &crate::Options) -> Self {
        let (board_key, from) = match (&options.board_key, options.trust_archive_key) {
            (Some(k), _) => (Some(k.trim().to_owned()), "given"),
            (None, true) => (Some(archive.board_vkey.trim().to_owned()), "archive"),
            (None, false) => (None, "none"),
        };
        let mut warnings = Vec::new();
        if from == "archive" {
            warnings.push(
                "the board key is the archive's own (--trust-archive-keys): the log is proven self-consistent, not to be the board you mean".to_owned(),
            );
        }
        if options.quorum() == 0 {
            warnings.push(
                "no witness cosignature is required: a board that shows different logs to different observers (a split view) is not detected".to_owned(),
            );
        }
        if options.authorities.is_empty() {
            warnings.push(
                "no authority is pinned: any key may have opened the elections on this board; compare each election's authority with the one you expect".to_owned(),
            );
        }
        Self {
            board_key,
            board_key_from: from.to_owned(),
            witnesses: options
                .witnesses
                .iter()
                .map(|w| format!("{}+{:08x}", w.name(), w.key_id()))
                .collect(),
            quorum: options.quorum(),
            elections: options.elections.iter().map(|e| e.to_hex()).collect(),
            authorities: options.authorities.iter().map(hex::encode).collect(),
            warnings,
        }
    }
}

/// The whole verification.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The trust anchors it took (spec/50 §50.1).
    pub trust: Trust,
    /// The log's origin, from its checkpoint.
    pub origin: String,
    /// Entries verified.
    pub entries: u64,
    /// Of which the first this many were verified by an earlier run (§50.6): their
    /// signatures and ballot proofs were not checked again.
    pub verified_before: u64,
    /// The root of the newest checkpoint, hex.
    pub root: String,
    /// Each step, in order.
    pub steps: Vec<StepReport>,
    /// Each election found.
    pub elections: Vec<ElectionSummary>,
    /// Each petition recounted.
    pub petitions: Vec<PetitionSummary>,
    /// Contexts of a type this verifier does not recount yet (petitions, sittings):
    /// only their records' envelopes and signatures were checked.
    pub not_recounted: Vec<String>,
    /// Whether every step passed.
    pub passed: bool,
}

impl Report {
    pub(crate) fn new() -> Self {
        Self {
            trust: Trust::default(),
            origin: String::new(),
            entries: 0,
            verified_before: 0,
            root: String::new(),
            steps: Step::ALL
                .iter()
                .map(|&step| StepReport {
                    step,
                    number: step.number(),
                    title: step.title(),
                    checks: step.checks(),
                    checked: 0,
                    failures: Vec::new(),
                })
                .collect(),
            elections: Vec::new(),
            petitions: Vec::new(),
            not_recounted: Vec::new(),
            passed: false,
        }
    }

    /// The report of `step`.
    pub fn step(&self, step: Step) -> &StepReport {
        // Every step has its report from `new` on, in the order of `Step::ALL`.
        &self.steps[usize::from(step.number() - 1)]
    }

    pub(crate) fn step_mut(&mut self, step: Step) -> &mut StepReport {
        &mut self.steps[usize::from(step.number() - 1)]
    }

    pub(crate) fn count(&mut self, step: Step, n: u64) {
        self.step_mut(step).checked += n;
    }

    pub(crate) fn fail(&mut self, step: Step, failure: Failure) {
        self.step_mut(step).failures.push(failure);
    }

    pub(crate) fn finish(&mut self) {
        for step in &mut self.steps {
            step.failures.sort_by_key(|f| f.record);
        }
        self.passed = self.steps.iter().all(StepReport::passed);
    }

    /// Every failure with its step, in step order.
    pub fn failures(&self) -> impl Iterator<Item = (Step, &Failure)> {
        self.steps
            .iter()
            .flat_map(|s| s.failures.iter().map(move |f| (s.step, f)))
    }

    /// The report as JSON (the `--json` output).
    pub fn to_json(&self) -> String {
        // A report is strings, numbers and lists: serialising it cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The readable summary: one line per step, then each failure.
    pub fn summary(&self) -> String {
        let mut out = format!(
            "board {}: {} entries, root {}\n",
            self.origin, self.entries, self.root
        );
        let t = &self.trust;
        match (&t.board_key, t.board_key_from.as_str()) {
            (Some(k), "archive") => {
                out.push_str(&format!("board key {k}, taken from the archive itself\n"))
            }
            (Some(k), _) => out.push_str(&format!("trusted board key: {k}\n")),
            (None, _) => out.push_str("trusted board key: none given\n"),
        }
        for warning in &t.warnings {
            out.push_str(&format!("TRUST WARNING: {warning}\n"));
        }
        out.push_str(&format!(
            "trusted witnesses: {} (quorum {})\n",
            if t.witnesses.is_empty() {
                "none".to_owned()
            } else {
                t.witnesses.join(", ")
            },
            t.quorum
        ));
        if !t.elections.is_empty() {
            out.push_str(&format!("pinned elections: {}\n", t.elections.join(", ")));
        }
        if !t.authorities.is_empty() {
            out.push_str(&format!(
                "pinned authorities: {}\n",
                t.authorities.join(", ")
            ));
        }
        if self.verified_before > 0 {
            out.push_str(&format!(
                "incremental: entries 0..{} were verified by an earlier run and proven unchanged\n",
                self.verified_before
            ));
        }
        for step in &self.steps {
            out.push_str(&format!(
                "V{:<2} {:<46} {:>9} checked  {}\n",
                step.number,
                step.title,
                step.checked,
                if step.passed() {
                    "pass".to_owned()
                } else {
                    format!("FAIL ({})", step.failures.len())
                }
            ));
        }
        for (step, failure) in self.failures() {
            let at = match failure.record {
                Some(i) => format!("record {i}"),
                None => "-".to_owned(),
            };
            out.push_str(&format!(
                "  V{} {at}, {}: {}\n",
                step.number(),
                failure.field,
                failure.message
            ));
        }
        for e in &self.elections {
            out.push_str(&format!(
                "election {}: {} phase, {} credentials, {} ballots, {} audits{}\n",
                e.context,
                e.phase,
                e.credentials,
                e.ballots,
                e.audits,
                match &e.counts {
                    Some(counts) => format!(", result {counts:?}"),
                    None => String::new(),
                }
            ));
        }
        for c in &self.not_recounted {
            out.push_str(&format!("not recounted: {c}\n"));
        }
        out.push_str(match (self.passed, self.trust.board_key_from.as_str()) {
            (true, "archive") => {
                "SELF-CONSISTENT ONLY: every step passed under the archive's own board key\n"
            }
            (true, _) => "VERIFIED: every step passed\n",
            (false, _) => "VERIFICATION FAILED\n",
        });
        if self.passed && !self.trust.warnings.is_empty() {
            out.push_str(
                "(read the TRUST WARNING lines above: they say what this does not prove)\n",
            );
        }
        out
    }
}
