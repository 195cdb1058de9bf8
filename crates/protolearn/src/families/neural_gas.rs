//! Neural gas (Martinetz and Schulten; paper 003, Sec. 8) as an estimator family: free prototypes
//! pulled towards every sample by the rank of their distance, `h = exp(-r / λ)`, with the range
//! `λ` decaying over the training, by gradient descent on the one trainer.

use super::prototypes::{Prototypes, PROTOTYPES};
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{default_batch_size, positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::missing::Components;
use protolearn_layers::som::{Decay, Schedule};
use protolearn_train::neural_gas::{fit_neural_gas, NeuralGasConfig};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};

/// Neural gas with `n_prototypes` prototypes starting at random samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuralGasSpec {
    /// Number of prototypes `k`.
    pub n_prototypes: i64,
    /// Epochs of shuffled minibatches (default 40).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Minibatch size (default 256; capped at the sample count).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// The optimizer (default plain SGD at 0.3, as the classical algorithm: Adam would scale
    /// every prototype's step to the same size and erase the rank weights).
    #[serde(default = "default_optimizer")]
    pub optimizer: OptimizerConfig,
    /// The neighbourhood range `λ(i)` (default exponential from `k / 2` to 0.01, Martinetz and
    /// Schulten's recommendation).
    #[serde(default)]
    pub range: Option<Schedule>,
}

fn default_epochs() -> usize {
    40
}

fn default_optimizer() -> OptimizerConfig {
    OptimizerConfig { kind: OptimizerKind::Sgd, lr: 0.3 }
}

impl NeuralGasSpec {
    /// `n_prototypes` prototypes with the defaults above.
    pub fn new(n_prototypes: i64) -> Self {
        NeuralGasSpec {
            n_prototypes,
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            optimizer: default_optimizer(),
            range: None,
        }
    }

    /// The range schedule: the configured one, else from `k / 2` down to 0.01.
    pub fn range(&self) -> Schedule {
        self.range.unwrap_or(Schedule { decay: Decay::Exponential, start: (self.n_prototypes as f64 / 2.0).max(0.01), end: 0.01 })
    }
}

impl Family for NeuralGasSpec {
    fn kind(&self) -> &'static str {
        "neural-gas"
    }

    fn validate(&self) -> Result<()> {
        if self.n_prototypes < 1 {
            return Err(Error::invalid("n_prototypes", "at least 1", self.n_prototypes));
        }
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("optimizer.lr", self.optimizer.lr)?;
        Ok(self.range().validate("range")?)
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let config = NeuralGasConfig {
            n_prototypes: self.n_prototypes,
            optimizer: self.optimizer,
            batch_size: self.batch_size.min(data.n_samples()),
            epochs: self.epochs,
            range: self.range(),
            seed: context.seed,
        };
        let run = fit_neural_gas(data, &config, context.checkpointing, observer)?;
        Ok(Box::new(Prototypes::new(run.layer.prototypes.detach().contiguous(), Components::All)))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        Ok(Box::new(Prototypes::new(saved.tensor(PROTOTYPES)?.shallow_clone(), Components::All)))
    }
}
