//! Training DESOM and ConvDESOM by iterations (paper 002, Algorithm 3): minibatches drawn on the
//! device, Adam on `L = L_R + γ L_SOM`, temperature decayed every iteration, optional AE
//! pretraining and SOM update interval, history logged every `log_every` iterations.
//!
//! One "epoch" of [`crate::trainer::run_epochs`] is one logging interval of `log_every`
//! iterations: the losses are summed on the device and read back (the only host-device sync)
//! once per interval, together with purity and NMI on the evaluation set.

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::{OptimizerConfig, OptimizerKind};
use crate::trainer::{run_epochs, EpochStep, Timed};
use protolearn_data::tensor::{Dataset, RandomBatches};
use protolearn_layers::desom::{Desom, DesomConfig};
use protolearn_layers::som::Schedule;
use protolearn_metrics::{normalized_mutual_info, purity, Contingency, Grid, NmiAverage};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::Module;
use tch::{nn, Kind, Tensor};

/// How DESOM is trained (paper 002, Sec. 3.5-3.6 and Table 2). No `Default`: see
/// [`DesomTrainConfig::paper`] for the paper's values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesomTrainConfig {
    /// Optimizer (paper 002, Table 2: Adam, `l_r = 0.001`, `β = (0.9, 0.999)`).
    pub optimizer: OptimizerConfig,
    /// Joint training iterations (paper 004: 10000 on MNIST; paper 002: until convergence).
    pub iterations: usize,
    /// Minibatch size `n_b` (paper 002, Table 2: 256).
    pub batch_size: usize,
    /// Temperature `T(n) = T_max (T_min / T_max)^(n / iterations)`, `n = 1..iterations`
    /// (paper 002, Algorithm 3; Table 2: `T_max` = map size, `T_min = 0.1`).
    pub temperature: Schedule,
    /// AE pretraining iterations on `L_R` alone before joint training, after which the
    /// prototypes are re-drawn from encoded samples (paper 002, Sec. 4.2; default 0: "none").
    pub pretrain_iterations: usize,
    /// The SOM term enters the loss only every this many iterations; in between its gradients
    /// are zero (paper 002, Sec. 3.5, `update_interval`; 1 = every iteration, the default).
    pub update_interval: usize,
    /// Record losses (and metrics) every this many iterations and after the last.
    pub log_every: usize,
    /// Seed of the model initialisation and of the minibatch draws.
    pub seed: u64,
}

impl DesomTrainConfig {
    /// Paper 002's Table 2 for `grid`: Adam `1e-3`, batch 256, `T` from the map size to 0.1,
    /// no pretraining, SOM updated every iteration; logging every 100 iterations.
    pub fn paper(grid: &Grid, iterations: usize, seed: u64) -> Self {
        DesomTrainConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 },
            iterations,
            batch_size: 256,
            temperature: Schedule::paper_temperature(grid),
            pretrain_iterations: 0,
            update_interval: 1,
            log_every: 100,
            seed,
        }
    }

    /// Checks counts and the schedule.
    pub fn validate(&self) -> Result<()> {
        let counts = [
            ("iterations", self.iterations),
            ("batch_size", self.batch_size),
            ("update_interval", self.update_interval),
            ("log_every", self.log_every),
        ];
        if let Some((field, _)) = counts.iter().find(|(_, v)| *v == 0) {
            return Err(Error::InvalidConfig { field: (*field).into(), expected: "at least 1".into(), found: "0".into() });
        }
        Ok(self.temperature.validate("temperature")?)
    }
}

/// Which part of the training a record belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    /// AE pretraining on `L_R` alone.
    Pretrain,
    /// Joint training on `L_R + γ L_SOM`.
    Joint,
}

/// One logging interval: losses averaged over its minibatches, metrics on the evaluation set
/// after its last iteration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DesomRecord {
    /// Pretraining or joint training.
    pub phase: Phase,
    /// The 1-based iteration (within the phase) after which it was recorded.
    pub iteration: usize,
    /// Temperature `T` of that iteration (`None` in pretraining).
    pub temperature: Option<f64>,
    /// Mean reconstruction loss `L_R` of the interval's batches.
    pub reconstruction: f64,
    /// Mean SOM distortion `L_SOM` of the interval's batches (`None` in pretraining).
    pub som: Option<f64>,
    /// Mean `L_R + γ L_SOM` (equals `L_R` in pretraining).
    pub total: f64,
    /// Purity of the BMU assignments on the labelled evaluation set (paper 002, Appendix 1).
    pub purity: Option<f64>,
    /// NMI (arithmetic normalisation) of the BMU assignments on the labelled evaluation set.
    pub nmi: Option<f64>,
    /// Latent quantization error on the evaluation set, `(1/N) sum_i ||z_i - m_{b_i}||`
    /// (paper 002, Appendix 1; Fig. 6).
    #[serde(default)]
    pub quantization_error: Option<f64>,
    /// Latent topographic error on the evaluation set: the fraction of samples whose first and
    /// second BMUs are not grid neighbours, `δ(b_i, b'_i) > 1` (paper 002, Appendix 1; Fig. 6;
    /// `None` for a one-unit map).
    #[serde(default)]
    pub topographic_error: Option<f64>,
}

/// A trained DESOM with its history.
#[derive(Debug)]
pub struct DesomRun {
    /// The variables (`ae.*`, `som.weight`; save with [`crate::checkpoint::save`]).
    pub vs: nn::VarStore,
    /// The model.
    pub model: Desom,
    /// One record per logging interval, pretraining first.
    pub history: Vec<Timed<DesomRecord>>,
}

/// Labelled evaluation data: features on the device, labels on the host.
struct Evaluation<'a> {
    x: &'a Tensor,
    labels: Vec<i64>,
}

/// What [`Evaluation::score`] measures.
struct Scores {
    purity: f64,
    nmi: f64,
    quantization_error: f64,
    topographic_error: Option<f64>,
}

impl Evaluation<'_> {
    /// Purity and NMI of `model`'s BMUs, latent QE and TE (one device-to-host copy of `[n]`
    /// indices and two scalars).
    fn score(&self, model: &Desom) -> Result<Scores> {
        let _guard = tch::no_grad_guard();
        let distances = model.som.forward(&model.encode_all(self.x)?); // [n, K]
        let k = distances.size()[1];
        let (best, units) = distances.topk(2.min(k), -1, false, true); // [n, 2], ascending
        let quantization_error = best.select(1, 0).clamp_min(0.0).sqrt().mean(Kind::Double).f_double_value(&[])?;
        let topographic_error = if k >= 2 {
            let pairs = units.select(1, 0) * k + units.select(1, 1); // [n]: flat index (b, b')
            let apart = model.som.grid_distances().flatten(0, -1).index_select(0, &pairs).gt(1.0); // [n]
            Some(apart.to_kind(Kind::Double).mean(Kind::Double).f_double_value(&[])?)
        } else {
            None
        };
        let bmus = Vec::<i64>::try_from(units.select(1, 0).to_device(tch::Device::Cpu))?;
        let clusters: Vec<usize> = bmus.into_iter().map(|b| b as usize).collect();
        let table = Contingency::new(&self.labels, &clusters)?;
        Ok(Scores {
            purity: purity(&table),
            nmi: normalized_mutual_info(&table, NmiAverage::Arithmetic),
            quantization_error,
            topographic_error,
        })
    }
}

/// The work of one logging interval.
struct DesomStep<'s, 'd> {
    model: &'s Desom,
    batches: &'s mut RandomBatches<'d, ChaCha8Rng>,
    optimizer: &'s mut nn::Optimizer,
    config: &'s DesomTrainConfig,
    phase: Phase,
    iterations: usize,
    eval: Option<&'s Evaluation<'d>>,
}

impl DesomStep<'_, '_> {
    /// One SGD step on batch `x` at 0-based iteration `it`; returns `[L, L_R, L_SOM]` detached.
    fn step(&mut self, x: &Tensor, it: usize) -> Result<Tensor> {
        match self.phase {
            Phase::Pretrain => {
                let reconstruction = self.model.reconstruction_loss(x)?; // []
                self.optimizer.backward_step(&reconstruction);
                let r = reconstruction.detach(); // []
                let terms = [r.shallow_clone(), r.shallow_clone(), r.zeros_like()];
                Ok(Tensor::stack(&terms, 0)) // [3]
            }
            Phase::Joint => {
                let temperature = self.config.temperature.at(it + 1, self.iterations);
                let loss = self.model.loss(x, temperature)?;
                let objective = if it % self.config.update_interval == 0 { &loss.total } else { &loss.reconstruction };
                self.optimizer.backward_step(objective);
                let terms = [loss.total, loss.reconstruction, loss.som];
                Ok(Tensor::stack(&terms, 0).detach()) // [3]
            }
        }
    }
}

impl EpochStep for DesomStep<'_, '_> {
    type Record = DesomRecord;

    fn epoch(&mut self, interval: usize) -> Result<DesomRecord> {
        let start = interval * self.config.log_every;
        let end = (start + self.config.log_every).min(self.iterations);
        let mut sums: Option<Tensor> = None; // [3] on the device
        for it in start..end {
            let batch = self.batches.next().ok_or_else(|| data_error("the minibatch stream ended"))??;
            let losses = self.step(&batch.x, it)?; // [3]
            sums = Some(match sums {
                Some(s) => s + losses,
                None => losses,
            });
        }
        let means = sums.map(|s| s / (end - start) as f64).ok_or_else(|| data_error("an empty logging interval"))?;
        let [total, reconstruction, som] =
            <[f64; 3]>::try_from(Vec::<f64>::try_from(means.to_kind(Kind::Double).to_device(tch::Device::Cpu))?)
                .map_err(|v| data_error(&format!("{} loss values instead of 3", v.len())))?;
        let scores = self.eval.map(|e| e.score(self.model)).transpose()?;
        let joint = self.phase == Phase::Joint;
        Ok(DesomRecord {
            phase: self.phase,
            iteration: end,
            temperature: joint.then(|| self.config.temperature.at(end, self.iterations)),
            reconstruction,
            som: joint.then_some(som),
            total,
            purity: scores.as_ref().map(|s| s.purity),
            nmi: scores.as_ref().map(|s| s.nmi),
            quantization_error: scores.as_ref().map(|s| s.quantization_error),
            topographic_error: scores.as_ref().and_then(|s| s.topographic_error),
        })
    }
}

/// Trains DESOM on `train` (Algorithm 3 of paper 002): the model is built from `seed`, its
/// prototypes drawn from encoded training samples; batches of `batch_size` distinct samples are
/// drawn on `train`'s device. With labels on `eval`, every record carries purity and NMI of the
/// BMUs on it, and latent QE and TE. The observer sees the pretraining intervals (if any), then the joint ones.
pub fn fit_desom(
    train: &Dataset,
    eval: Option<&Dataset>,
    model_config: &DesomConfig,
    config: &DesomTrainConfig,
    observer: &mut dyn Observer<DesomRecord>,
) -> Result<DesomRun> {
    config.validate()?;
    let mut seeds = ChaCha8Rng::seed_from_u64(config.seed);
    let (model_seed, batch_seed, reinit_seed) = (seeds.next_u64(), seeds.next_u64(), seeds.next_u64());
    let vs = nn::VarStore::new(train.device());
    let mut model = model_config.build(&vs.root(), &train.x, model_seed)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let mut batches = train.random_batches(config.batch_size, ChaCha8Rng::seed_from_u64(batch_seed))?;
    let evaluation = match eval {
        Some(Dataset { x, y: Some(y) }) => Some(Evaluation { x, labels: Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))? }),
        _ => None,
    };
    let mut history = Vec::new();
    for (phase, iterations) in [(Phase::Pretrain, config.pretrain_iterations), (Phase::Joint, config.iterations)] {
        if iterations == 0 {
            continue;
        }
        if phase == Phase::Joint && config.pretrain_iterations > 0 {
            model.reinit_prototypes(&train.x, reinit_seed)?;
        }
        let mut step = DesomStep {
            model: &model,
            batches: &mut batches,
            optimizer: &mut optimizer,
            config,
            phase,
            iterations,
            eval: evaluation.as_ref(),
        };
        history.extend(run_epochs(&mut step, iterations.div_ceil(config.log_every), observer)?);
    }
    Ok(DesomRun { vs, model, history })
}

/// An internal inconsistency of the logged losses, reported against the dataset.
fn data_error(found: &str) -> Error {
    Error::InvalidConfig { field: "dataset".into(), expected: "training data that fits the batch size".into(), found: found.into() }
}
