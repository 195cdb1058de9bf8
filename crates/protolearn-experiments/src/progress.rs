//! Progress bars (indicatif) for training loops, as observers.

use indicatif::{ProgressBar, ProgressStyle};
use protolearn_train::competitive::CompetitiveRecord;
use protolearn_train::observer::Observer;

/// A progress bar over epochs showing the mean quantization error of the replicas.
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

impl Observer<CompetitiveRecord> for EpochBar {
    fn on_start(&mut self, epochs: usize) {
        self.bar = ProgressBar::new(epochs as u64);
        let style = ProgressStyle::with_template("{prefix:>28} [{bar:30}] {pos}/{len} epochs {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        self.bar.set_style(style);
        self.bar.set_prefix(self.label.clone());
    }

    fn on_epoch(&mut self, _epoch: usize, record: &CompetitiveRecord) {
        let q = &record.quantization;
        self.bar.set_message(format!("Q {:.4}", q.iter().sum::<f64>() / q.len().max(1) as f64));
        self.bar.inc(1);
    }

    fn on_end(&mut self) {
        self.bar.finish_and_clear();
    }
}
