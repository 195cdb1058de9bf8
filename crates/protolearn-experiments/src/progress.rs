//! Progress bars (indicatif) for the trainer's phases, as an observer.

use indicatif::{ProgressBar, ProgressStyle};
use protolearn_train::observer::Observer;
use protolearn_train::trainer::LogRecord;

/// A progress bar over a phase's log points showing its first logged column (mean over replicas).
#[derive(Debug)]
pub struct EpochBar {
    bar: ProgressBar,
    label: String,
}

impl EpochBar {
    /// A bar labelled `label` (hidden when stderr is not a terminal, e.g. in CI logs).
    pub fn new(label: impl Into<String>) -> Self {
        EpochBar { bar: ProgressBar::hidden(), label: label.into() }
    }
}

impl Observer for EpochBar {
    fn on_start(&mut self, phase: &str, logs: usize) {
        self.bar = ProgressBar::new(logs as u64);
        let style = ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} logs {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.set_prefix(format!("{} {phase}", self.label));
    }

    fn on_log(&mut self, record: &LogRecord) {
        if let Some(column) = record.columns.first() {
            let mean = column.values.iter().sum::<f64>() / column.values.len().max(1) as f64;
            self.bar.set_message(format!("{} {mean:.4}", column.name));
        }
        self.bar.inc(1);
    }

    fn on_end(&mut self) {
        self.bar.finish_and_clear();
    }
}
