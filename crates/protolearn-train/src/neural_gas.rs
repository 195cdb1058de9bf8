//! Neural gas on the one [`Trainer`](crate::trainer::Trainer): the rank-weighted cost of [`neural_gas_loss`] minimised by
//! gradient descent with a decaying neighbourhood range `λ(i)` (paper 003, Sec. 8), logging the
//! quantization error and, at log points, how many prototypes win at least one sample.

use crate::error::Result;
use crate::observer::Observer;
use crate::optim::OptimizerConfig;
use crate::run::Checkpointing;
use crate::trainer::steps_per_epoch;
use crate::trainer::{Batching, Column, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::init::PrototypeInit;
use protolearn_layers::neural_gas::{neural_gas_loss, NeuralGas};
use protolearn_layers::som::Schedule;
use serde::{Deserialize, Serialize};
use tch::nn::Module;
use tch::{nn, Kind, Tensor};

/// How neural gas is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NeuralGasConfig {
    /// Number of prototypes `k`.
    pub n_prototypes: i64,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Batch size (shuffled epochs).
    pub batch_size: usize,
    /// Epochs (one record each).
    pub epochs: usize,
    /// Neighbourhood range `λ(i)` over the steps (Martinetz and Schulten: from about `k / 2`
    /// down to about 0.01).
    pub range: Schedule,
    /// Seed of the initial prototypes (random samples) and the batch order.
    pub seed: u64,
}

/// The neural-gas objective: logs `loss` and `quantization` (mean distance to the winner).
#[derive(Debug)]
struct NeuralGasObjective<'a> {
    layer: &'a NeuralGas,
    range: Schedule,
    data: &'a Dataset,
}

impl Objective for NeuralGasObjective<'_> {
    /// A mean over the batch's samples (each sample's term uses only its own distances):
    /// data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let d = self.layer.forward(&batch.x);
        let loss = neural_gas_loss(&d, self.range.at(at.step, at.steps))?;
        let quantization = d.detach().amin(-1, false).mean(Kind::Float);
        Ok(LossTerms { minimise: loss.shallow_clone(), logged: vec![("loss", loss), ("quantization", quantization)] })
    }

    fn metrics(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let winners =
            protolearn_layers::distance::argmin(&self.layer.forward(&self.data.x), -1).unique_dim(0, false, false, false).0.size()[0];
        Ok(vec![Column::scalar("range", self.range.at(at.step, at.steps)), Column::scalar("winners", winners as f64)])
    }
}

/// A trained neural gas.
#[derive(Debug)]
pub struct NeuralGasRun {
    /// The variables (`ng.prototypes`).
    pub vs: nn::VarStore,
    /// The layer.
    pub layer: NeuralGas,
    /// One record per epoch: `loss`, `quantization`, `range`, `winners`.
    pub history: Vec<LogRecord>,
}

/// Trains neural gas on `data` `[n, d]` from `n_prototypes` random samples, checkpointed (and
/// resumed) as `checkpointing` says.
pub fn fit_neural_gas(
    data: &Dataset,
    config: &NeuralGasConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<NeuralGasRun> {
    config.range.validate("range")?;
    let initial = PrototypeInit::DataSamples.draw(&data.x.unsqueeze(0), config.n_prototypes, &[config.seed])?.squeeze_dim(0);
    fit_neural_gas_from(data, &initial, config, checkpointing, observer)
}

/// [`fit_neural_gas`] from given initial prototypes `[k, d]`.
pub fn fit_neural_gas_from(
    data: &Dataset,
    initial: &Tensor,
    config: &NeuralGasConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<NeuralGasRun> {
    config.range.validate("range")?;
    let vs = nn::VarStore::new(data.device());
    let layer = NeuralGas::new(&(vs.root() / "ng"), initial)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let spe = steps_per_epoch(data, config.batch_size);
    let mut trainer = checkpointing.trainer(data, Batching::Shuffled { batch_size: config.batch_size }, config.seed)?;
    let mut objective = NeuralGasObjective { layer: &layer, range: config.range, data };
    let history = trainer.minimise(
        &checkpointing.phase(PhaseConfig::new("neural-gas", config.epochs * spe, spe)),
        &mut objective,
        optimizer.as_mut(),
        &vs,
        &mut [],
        observer,
    )?;
    Ok(NeuralGasRun { vs, layer, history })
}
