//! The one training loop, generic over the step each model family supplies.

use crate::error::Result;
use crate::observer::Observer;
use std::time::Instant;

/// One epoch of a model family: does its optimisation work and returns what to record.
pub trait EpochStep {
    /// What one epoch records (per-replica losses, metrics, ...).
    type Record;
    /// Runs epoch `epoch` (0-based).
    fn epoch(&mut self, epoch: usize) -> Result<Self::Record>;
}

/// One epoch's record with its wall time.
#[derive(Debug, Clone, PartialEq)]
pub struct Timed<R> {
    /// The step's record.
    pub record: R,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

/// Runs `epochs` epochs of `step`, timing each and reporting to `observer`; returns the history.
pub fn run_epochs<S: EpochStep>(step: &mut S, epochs: usize, observer: &mut dyn Observer<S::Record>) -> Result<Vec<Timed<S::Record>>> {
    observer.on_start(epochs);
    let mut history = Vec::with_capacity(epochs);
    for epoch in 0..epochs {
        let start = Instant::now();
        let record = step.epoch(epoch)?;
        let seconds = start.elapsed().as_secs_f64();
        observer.on_epoch(epoch, &record);
        history.push(Timed { record, seconds });
    }
    observer.on_end();
    Ok(history)
}
