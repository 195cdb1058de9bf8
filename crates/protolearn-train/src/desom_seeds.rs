//! Seeds of the dense DESOM (paper 002, Algorithm 3) trained as one tensor program on the one
//! [`Trainer`]: the single models of [`crate::desom::fit_desom`] built seed by seed, stacked into
//! [`DesomReplicas`], trained together (each replica drawing its own minibatches from its own
//! seed, one optimizer over the stacked variables), evaluated together, and handed back as one
//! ordinary [`DesomRun`] per seed. Replica `r` runs the computation of `fit_desom` with
//! `seed = seeds[r]` (same initial model, same minibatches, same updates), each step equal to
//! float32 rounding; what is gained is that `S` small models keep a device busy that one leaves
//! mostly idle (on a GPU), and per-step overheads are paid once.
//!
//! Equal to rounding is not bit for bit: the batched matrix products sum in another order than
//! the plain ones, and training amplifies such differences as it would between two BLAS
//! libraries or thread counts. On MNIST with paper 002's model (seed 0, CPU, 2 threads) the
//! largest weight difference between the batched and the single run was 3e-8 after 1 iteration,
//! 8e-5 after 10 and 0.06 after 100: the replicas are runs of the same training, not copies of
//! the single runs' trajectories. On small models the two stay within 3e-8 for 60 iterations
//! (the test `seed_batched_replicas_follow_their_single_runs`).
//!
//! ```no_run
//! use protolearn_data::tensor::Dataset;
//! use protolearn_layers::desom::DesomConfig;
//! use protolearn_layers::som::SomConfig;
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use protolearn_train::desom::DesomTrainConfig;
//! use protolearn_train::desom_seeds::fit_desom_seeds;
//! use protolearn_train::observer::Silent;
//! # fn demo(train: &Dataset, test: &Dataset) -> Result<(), Box<dyn std::error::Error>> {
//! let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?;
//! let som = SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() };
//! let model = DesomConfig { autoencoder: Default::default(), som, gamma: 1e-3 }; // 784-500-500-2000-10
//! let config = DesomTrainConfig::paper(&grid, 10_000, 0);
//! let runs = fit_desom_seeds(train, Some(test), &model, &config, &[0, 1, 2, 3, 4], &mut Silent)?;
//! for run in &runs {
//!     println!("purity {:?}", run.history.last().and_then(|r| r.purity));
//! }
//! # Ok(()) }
//! ```

use crate::desom::{map_columns, DesomObjective, DesomRecord, DesomRun, DesomTrainConfig, Phase};
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::seeds::derived_seeds;
use crate::trainer::{Batching, Column, Evaluator, PhaseConfig, StepInfo, Trainer};
use protolearn_data::tensor::Dataset;
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::desom_replicas::{copy_replica, DesomReplicas};
use tch::nn;

/// Trains one dense DESOM per seed as one batched program (paper 002, Algorithm 3, without AE
/// pretraining): replica `r` is the run of [`crate::desom::fit_desom`] with `config.seed` replaced by
/// `seeds[r]` (its model, prototypes and minibatch order derived from that seed as there), each
/// step equal to float32 rounding (see the module docs for how far long runs drift). Records
/// carry one value per replica while training (the observer sees them so); each returned run
/// holds its own replica's records, variables and model.
///
/// Errors where `seeds` is empty, the backbone is not the dense autoencoder, or `config` asks for
/// pretraining, checkpoints or resuming (train those seed by seed with [`crate::desom::fit_desom`]).
pub fn fit_desom_seeds(
    train: &Dataset,
    eval: Option<&Dataset>,
    model_config: &DesomConfig,
    config: &DesomTrainConfig,
    seeds: &[u64],
    observer: &mut dyn Observer,
) -> Result<Vec<DesomRun>> {
    config.validate()?;
    let unsupported =
        [("pretrain_iterations", config.pretrain_iterations > 0), ("checkpoint", config.checkpoint.is_some()), ("resume", config.resume)];
    if let Some((field, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(Error::InvalidConfig {
            field: (*field).into(),
            expected: "unset for seed-batched DESOM (use `fit_desom` seed by seed)".into(),
            found: "set".into(),
        });
    }
    if seeds.is_empty() {
        return Err(Error::InvalidConfig { field: "seeds".into(), expected: "at least one seed".into(), found: "none".into() });
    }
    DesomReplicas::dense_config(model_config)?;
    let derived: Vec<[u64; 3]> = seeds.iter().map(|&seed| derived_seeds(seed)).collect();
    let singles = derived
        .iter()
        .map(|[model_seed, _, _]| {
            let vs = nn::VarStore::new(train.device());
            let model = model_config.build(&vs.root(), &train.x, *model_seed)?;
            Ok((vs, model))
        })
        .collect::<Result<Vec<_>>>()?;
    let vs = nn::VarStore::new(train.device());
    let replicas = DesomReplicas::stack(&vs, &singles.iter().map(|(single, _)| single).collect::<Vec<_>>(), model_config)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let batch_seeds: Vec<u64> = derived.iter().map(|[_, batch_seed, _]| *batch_seed).collect();
    let mut trainer = Trainer::per_replica(train, Batching::Random { batch_size: config.batch_size }, &batch_seeds)?;
    let phase = PhaseConfig::new(Phase::Joint.name(), config.iterations, config.log_every);
    let mut objective = DesomObjective { model: &replicas, temperature: config.temperature, update_interval: config.update_interval };
    let mut evaluator = eval.map(|e| ReplicasEvaluator::new(&replicas, e)).transpose()?.flatten();
    let mut evaluators: Vec<&mut dyn Evaluator> = evaluator.iter_mut().map(|e| e as &mut dyn Evaluator).collect();
    let log = trainer.minimise(&phase, &mut objective, optimizer.as_mut(), &vs, &mut evaluators, observer)?;
    singles
        .into_iter()
        .enumerate()
        .map(|(r, (single, model))| {
            copy_replica(&vs, r as i64, &single)?;
            let history = log.iter().map(|record| DesomRecord::from_log(&record.replica(r))).collect::<Result<Vec<_>>>()?;
            Ok(DesomRun { vs: single, model, history })
        })
        .collect()
}

/// Purity, NMI, latent QE and TE of every replica on labelled data (the columns of
/// [`crate::desom::DesomEvaluator`], one value per replica).
struct ReplicasEvaluator<'a> {
    model: &'a DesomReplicas,
    x: &'a tch::Tensor,
    labels: Vec<i64>,
}

impl<'a> ReplicasEvaluator<'a> {
    /// An evaluator on `data`, `None` when it has no labels.
    fn new(model: &'a DesomReplicas, data: &'a Dataset) -> Result<Option<Self>> {
        let Some(y) = &data.y else { return Ok(None) };
        Ok(Some(ReplicasEvaluator { model, x: &data.x, labels: Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))? }))
    }
}

impl Evaluator for ReplicasEvaluator<'_> {
    fn evaluate(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let distances = self.model.distances(&self.model.encode_all(self.x)?); // [S, n, K]
        let mut columns: Vec<Column> = Vec::new();
        for r in 0..self.model.replicas() {
            for column in map_columns(&distances.get(r), self.model.grid(), &self.labels)? {
                match columns.iter_mut().find(|c| c.name == column.name) {
                    Some(merged) => merged.values.extend(column.values),
                    None => columns.push(column),
                }
            }
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desom::DesomTrainConfig;
    use crate::observer::Silent;
    use protolearn_layers::autoencoder::{AutoencoderConfig, ConvConfig};
    use protolearn_layers::som::SomConfig;
    use protolearn_metrics::{Boundary, Grid, Lattice};
    use tch::{Device, Kind, Tensor};

    #[test]
    fn unsupported_settings_are_refused() {
        let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).expect("grid");
        let som = SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() };
        let model = DesomConfig { autoencoder: Default::default(), som, gamma: 1e-3 };
        let data = Dataset::new(Tensor::zeros([8, 784], (Kind::Float, Device::Cpu)), None).expect("data");
        let config = DesomTrainConfig { batch_size: 4, ..DesomTrainConfig::paper(&grid, 2, 0) };
        let refused = |config: &DesomTrainConfig, model: &DesomConfig, seeds: &[u64]| {
            fit_desom_seeds(&data, None, model, config, seeds, &mut Silent).expect_err("refused").to_string()
        };
        assert!(refused(&config, &model, &[]).contains("seed"));
        assert!(refused(&DesomTrainConfig { pretrain_iterations: 1, ..config.clone() }, &model, &[0]).contains("pretrain_iterations"));
        assert!(refused(&DesomTrainConfig { resume: true, ..config.clone() }, &model, &[0]).contains("resume"));
        let conv = DesomConfig { autoencoder: AutoencoderConfig::Conv(ConvConfig::default()), ..model.clone() };
        assert!(refused(&config, &conv, &[0]).contains("dense"));
    }
}
