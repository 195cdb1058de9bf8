//! Checkpointing a training run (the run-layer piece every family's training config shares):
//! where the trainer writes its resumable state, and whether to continue from it.

use crate::error::{Error, Result};
use crate::trainer::{Batching, PhaseConfig, Trainer};
use protolearn_data::tensor::Dataset;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where a run keeps its resumable state, and whether to continue from it. The default: no
/// checkpoints.
///
/// With a folder, every phase writes the variables, the optimizer state, the position in the
/// batch stream and the history at each log point ([`PhaseConfig::checkpoint`]); with `resume`,
/// the run continues from there and, on CPU, ends bit for bit where the uninterrupted
/// checkpointed run ends.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpointing {
    /// The state folder (`None`: no checkpoints).
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Continue the run whose state is in `dir` (same data, model and settings).
    #[serde(default)]
    pub resume: bool,
}

impl Checkpointing {
    /// Checkpoints in `dir`, resuming when `resume`.
    pub fn new(dir: impl Into<PathBuf>, resume: bool) -> Self {
        Checkpointing { dir: Some(dir.into()), resume }
    }

    /// The trainer of the run: [`Trainer::resume`] from the folder when resuming, else a new one.
    pub fn trainer<'d>(&self, data: &'d Dataset, batching: Batching, seed: u64) -> Result<Trainer<'d>> {
        start(data, batching, seed, self.dir.as_deref(), self.resume)
    }

    /// `trainer` (over any sample source) continuing the run in the folder when resuming
    /// ([`continuing`]).
    pub fn continuing<'d>(&self, trainer: Trainer<'d>) -> Result<Trainer<'d>> {
        continuing(trainer, self.dir.as_deref(), self.resume)
    }

    /// `phase` writing its state into the folder.
    pub fn phase(&self, phase: PhaseConfig) -> PhaseConfig {
        PhaseConfig { checkpoint: self.dir.clone(), ..phase }
    }

    /// The checkpointing of a part of the run that has its own trainer (the autoencoder of a
    /// two-stage model): the subfolder `name`.
    pub fn within(&self, name: &str) -> Checkpointing {
        Checkpointing { dir: self.dir.as_ref().map(|d| d.join(name)), resume: self.resume }
    }

    /// Whether checkpoints are written.
    pub fn enabled(&self) -> bool {
        self.dir.is_some()
    }
}

/// A trainer for a run that may checkpoint into `checkpoint`: [`Trainer::resume`] from it when
/// `resume` and it holds a saved state (a run killed before its first checkpoint, or a part of
/// a run that had not started, starts anew), an error when resuming without a folder, else
/// [`Trainer::new`].
pub fn start<'d>(data: &'d Dataset, batching: Batching, seed: u64, checkpoint: Option<&Path>, resume: bool) -> Result<Trainer<'d>> {
    continuing(Trainer::new(data, batching, seed)?, checkpoint, resume)
}

/// `trainer` (new, over any sample source) continuing the run saved in `checkpoint` when
/// `resume` and the folder holds a state ([`Trainer::resuming`]), as [`start`] decides.
pub fn continuing<'d>(trainer: Trainer<'d>, checkpoint: Option<&Path>, resume: bool) -> Result<Trainer<'d>> {
    match (checkpoint, resume) {
        (Some(dir), true) if crate::resume::has_state(dir) => trainer.resuming(dir),
        (None, true) => Err(Error::InvalidConfig {
            field: "resume".into(),
            expected: "a `checkpoint` folder to resume from".into(),
            found: "none".into(),
        }),
        _ => Ok(trainer),
    }
}
