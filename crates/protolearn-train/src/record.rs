//! What the trainer reports about a run: where a step stands ([`StepInfo`]) and the records of a
//! phase ([`LogRecord`], one [`Column`] per logged quantity). Shared by the trainer, its
//! checkpoints, observers and divergence guard.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// Where a step stands: its phase, its 1-based index among the phase's steps, and its epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepInfo {
    /// The phase name.
    pub phase: &'static str,
    /// The 1-based step within the phase.
    pub step: usize,
    /// The number of steps of the phase.
    pub steps: usize,
    /// Steps in one epoch of the phase's batching ([`crate::trainer::Batching::steps_per_epoch`]).
    pub steps_per_epoch: usize,
}

impl StepInfo {
    /// Step `step` of `steps` of phase `phase`, epochs of `steps_per_epoch` steps (at least 1).
    pub fn new(phase: &'static str, step: usize, steps: usize, steps_per_epoch: usize) -> Self {
        StepInfo { phase, step, steps, steps_per_epoch: steps_per_epoch.max(1) }
    }

    /// The 1-based epoch of the phase this step belongs to.
    pub fn epoch(&self) -> usize {
        (self.step - 1) / self.steps_per_epoch + 1
    }

    /// Whether this step is the first of an epoch (objectives refresh per-epoch state here:
    /// DeepCluster's pseudo-labels, the k-means prototypes of DDCL's ablation).
    pub fn epoch_start(&self) -> bool {
        (self.step - 1) % self.steps_per_epoch == 0
    }

    /// Whether this step ends an epoch, or the phase.
    pub fn epoch_end(&self) -> bool {
        self.step % self.steps_per_epoch == 0 || self.step == self.steps
    }
}

/// One named logged quantity, one value per replica (one value without replicas).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// The name (`loss`, `reconstruction`, `purity`, ...).
    pub name: String,
    /// One value per replica.
    pub values: Vec<f64>,
}

impl Column {
    /// A column of one value.
    pub fn scalar(name: &str, value: f64) -> Self {
        Column { name: name.to_owned(), values: vec![value] }
    }
}

/// What a phase records every `log_every` steps and after its last step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRecord {
    /// The phase.
    pub phase: String,
    /// The 1-based step after which it was recorded.
    pub step: usize,
    /// Wall-clock seconds of the interval's steps and of the evaluation.
    pub seconds: f64,
    /// The loss terms (means over the interval's steps), then the objective's and the
    /// evaluators' metrics.
    pub columns: Vec<Column>,
}

impl LogRecord {
    /// The values of column `name`.
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.columns.iter().find(|c| c.name == name).map(|c| c.values.as_slice())
    }

    /// The first value of column `name` (the only one without replicas).
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(|v| v.first().copied())
    }

    /// The record of replica `r` of a seed-batched run: every column of one value per replica
    /// reduced to replica `r`'s value; columns of one value (a shared temperature) are kept; NaN
    /// where a column has no value `r`.
    pub fn replica(&self, r: usize) -> LogRecord {
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let value = if c.values.len() == 1 { c.values[0] } else { c.values.get(r).copied().unwrap_or(f64::NAN) };
                Column { name: c.name.clone(), values: vec![value] }
            })
            .collect();
        LogRecord { phase: self.phase.clone(), step: self.step, seconds: self.seconds, columns }
    }

    /// The values of column `name`, or an error naming the columns there are (for the typed
    /// views of the model families).
    pub fn require(&self, name: &str) -> Result<&[f64]> {
        self.get(name).ok_or_else(|| Error::InvalidConfig {
            field: format!("record of phase `{}` at step {}", self.phase, self.step),
            expected: format!("a `{name}` column"),
            found: format!("columns {:?}", self.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trainer::Batching;

    #[test]
    fn a_step_knows_its_epoch() {
        let at = |step| StepInfo::new("fit", step, 7, 3);
        assert_eq!((1..=7).map(|s| at(s).epoch()).collect::<Vec<_>>(), vec![1, 1, 1, 2, 2, 2, 3]);
        assert_eq!((1..=7).filter(|&s| at(s).epoch_start()).collect::<Vec<_>>(), vec![1, 4, 7]);
        assert_eq!((1..=7).filter(|&s| at(s).epoch_end()).collect::<Vec<_>>(), vec![3, 6, 7], "the phase's last step ends it");
        assert!(StepInfo::new("full", 5, 9, 0).epoch_start(), "full batch: every step is an epoch");
    }

    #[test]
    fn steps_per_epoch_follow_the_batching() {
        assert_eq!(Batching::Full.steps_per_epoch(10), 1);
        assert_eq!(Batching::Shuffled { batch_size: 3 }.steps_per_epoch(10), 3, "the last, smaller batch is dropped");
        assert_eq!(Batching::Random { batch_size: 4 }.steps_per_epoch(10), 2);
        assert_eq!(Batching::Shuffled { batch_size: 20 }.steps_per_epoch(10), 1);
    }
}
