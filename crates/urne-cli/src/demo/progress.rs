//! Progress bars on the demo's long stages, and the time each stage took.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A stage's timing: its name, how long it took, and how many items it handled (ballots,
/// records), for a rate.
#[derive(Clone, Debug)]
pub struct StageTime {
    /// What the stage did.
    pub name: &'static str,
    /// How long it took.
    pub elapsed: Duration,
    /// Items handled and what they are (`ballots`), for a rate per second.
    pub items: Option<(u64, &'static str)>,
}

impl StageTime {
    /// Items per second, if the stage counts items.
    pub fn rate(&self) -> Option<f64> {
        let (n, _) = self.items?;
        let seconds = self.elapsed.as_secs_f64();
        (seconds > 0.0).then(|| n as f64 / seconds)
    }
}

/// Times stages and draws their bars (only on a terminal: a pipe or a test gets none).
pub struct Stages {
    show_bars: bool,
    times: Vec<StageTime>,
}

impl Default for Stages {
    fn default() -> Self {
        Self::new()
    }
}

impl Stages {
    /// Bars shown only when stdout is a terminal.
    pub fn new() -> Self {
        Self {
            show_bars: std::io::stdout().is_terminal(),
            times: Vec::new(),
        }
    }

    /// Runs a stage without a bar.
    pub fn run<T, E>(
        &mut self,
        name: &'static str,
        stage: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let out = stage()?;
        self.times.push(StageTime {
            name,
            elapsed: started.elapsed(),
            items: None,
        });
        Ok(out)
    }

    /// Runs a stage of `total` items with a bar the stage advances; `unit` names the
    /// items for the rate.
    pub fn run_counted<T, E>(
        &mut self,
        name: &'static str,
        total: u64,
        unit: &'static str,
        stage: impl FnOnce(&ProgressBar) -> Result<T, E>,
    ) -> Result<T, E> {
        let bar = self.bar(name, total);
        let started = Instant::now();
        let out = stage(&bar);
        bar.finish_and_clear();
        let out = out?;
        self.times.push(StageTime {
            name,
            elapsed: started.elapsed(),
            items: Some((total, unit)),
        });
        Ok(out)
    }

    fn bar(&self, name: &str, total: u64) -> ProgressBar {
        let target = if self.show_bars {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        };
        let bar = ProgressBar::with_draw_target(Some(total), target);
        // The template is a constant: a refusal would be a bug of ours, and a bar without
        // style still counts.
        if let Ok(style) =
            ProgressStyle::with_template("{prefix:>28} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(name.to_owned());
        bar
    }

    /// The stages run so far, in order.
    pub fn times(&self) -> &[StageTime] {
        &self.times
    }
}
