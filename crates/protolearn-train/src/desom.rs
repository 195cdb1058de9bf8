//! Training DESOM and ConvDESOM by iterations (paper 002, Algorithm 3) on the one [`Trainer`]:
//! random minibatches drawn on the device, Adam on `L = L_R + γ L_SOM` ([`DesomObjective`]),
//! temperature decayed every iteration, SOM update interval, and AE pretraining on `L_R` alone
//! as a phase of its own ([`Reconstruction`], also the two-stage models' AE via
//! [`fit_autoencoder`]). The losses are summed on the device and read back once per logging
//! interval, with purity, NMI, QE and TE on the evaluation set ([`DesomEvaluator`]).

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::{OptimizerConfig, OptimizerKind};
use crate::quality::{map_quality, purity_nmi};
use crate::run::Checkpointing;
use crate::seeds::derived_seeds;
use crate::trainer::{Batching, Column, Evaluator, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo, Trainer};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone};
use protolearn_layers::desom::{reconstruction_loss, Desom, DesomConfig, JointLoss};
use protolearn_layers::precision::Precision;
use protolearn_layers::rows::RowSource;
use protolearn_layers::som::Schedule;
use protolearn_metrics::Grid;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use tch::nn::Module;
use tch::{nn, Tensor};

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
    /// Folder of the resumable state written at every log point (`None`: no checkpoints). A
    /// checkpointed run uses protolearn's [`crate::optim::TensorOptimizer`] (its state is saved),
    /// which equals libtorch's Adam of a run without checkpoints to float32 rounding only.
    #[serde(default)]
    pub checkpoint: Option<PathBuf>,
    /// Continue the run whose state is in `checkpoint` (same data, model and settings) instead
    /// of starting anew; on CPU the result equals the uninterrupted checkpointed run bit for bit.
    #[serde(default)]
    pub resume: bool,
    /// Number format of the autoencoder's products in joint training (default float32;
    /// `bf16`: bfloat16 products, float32 weights, Adam state, losses and prototypes; the
    /// pretraining phase and evaluation stay float32). See [`protolearn_layers::precision`].
    #[serde(default)]
    pub precision: Precision,
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
            checkpoint: None,
            resume: false,
            precision: Precision::Fp32,
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

impl Phase {
    /// The trainer's phase name.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Pretrain => "pretrain",
            Phase::Joint => "joint",
        }
    }
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
    /// Wall-clock seconds of the interval (its iterations and the evaluation).
    #[serde(default)]
    pub seconds: f64,
}

impl DesomRecord {
    /// The typed view of a trainer record of [`Reconstruction`] (pretraining) or
    /// [`DesomObjective`] (joint), with [`DesomEvaluator`]'s columns if it ran.
    pub fn from_log(record: &LogRecord) -> Result<Self> {
        let phase = if record.phase == Phase::Pretrain.name() { Phase::Pretrain } else { Phase::Joint };
        let reconstruction = record.require("reconstruction")?.first().copied().unwrap_or(f64::NAN);
        Ok(DesomRecord {
            phase,
            iteration: record.step,
            temperature: record.scalar("temperature"),
            reconstruction,
            som: record.scalar("som"),
            total: record.scalar("total").unwrap_or(reconstruction),
            purity: record.scalar("purity"),
            nmi: record.scalar("nmi"),
            quantization_error: record.scalar("quantization_error"),
            topographic_error: record.scalar("topographic_error"),
            seconds: record.seconds,
        })
    }
}

/// A trained DESOM with its history.
#[derive(Debug)]
pub struct DesomRun {
    /// The variables (`ae.*`, `som.weight`; save with [`crate::checkpoint::save`]).
    pub vs: nn::VarStore,
    /// The model.
    pub model: Desom,
    /// One record per logging interval, pretraining first.
    pub history: Vec<DesomRecord>,
}

/// The reconstruction objective `L_R` of any backbone with a decoder (AE pretraining, paper 002,
/// Sec. 4.2), logged as `reconstruction`.
#[derive(Debug)]
pub struct Reconstruction<'a> {
    /// The autoencoder.
    pub backbone: &'a dyn Backbone,
}

impl Objective for Reconstruction<'_> {
    /// A mean over the batch's samples (plus batch-independent terms): data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, _at: &StepInfo) -> Result<LossTerms> {
        Ok(LossTerms::single("reconstruction", reconstruction_loss(self.backbone, &batch.x)?))
    }
}

/// DESOM's joint objective `L = L_R + γ L_SOM` at `T(i)` (paper 002, Eq. 4, Algorithm 3); on
/// steps between SOM updates (`update_interval > 1`) only `L_R` is minimised. Logs `total`,
/// `reconstruction`, `som`, and `temperature` at log points.
#[derive(Debug)]
pub struct DesomObjective<'a, M = Desom> {
    /// The model: one [`Desom`], or seeds of it as one program (`DesomReplicas`, terms `[S]`).
    pub model: &'a M,
    /// Temperature `T(i)`.
    pub temperature: Schedule,
    /// The SOM term is minimised on steps `1, 1 + u, 1 + 2u, ...`.
    pub update_interval: usize,
}

impl<M: JointLoss> Objective for DesomObjective<'_, M> {
    /// A mean over the batch's samples (plus batch-independent terms): data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let loss = self.model.joint_loss(&batch.x, self.temperature.at(at.step, at.steps))?;
        let minimise = if (at.step - 1) % self.update_interval == 0 { &loss.total } else { &loss.reconstruction };
        Ok(LossTerms {
            minimise: minimise.shallow_clone(),
            logged: vec![("total", loss.total), ("reconstruction", loss.reconstruction), ("som", loss.som)],
        })
    }

    fn metrics(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        Ok(vec![Column::scalar("temperature", self.temperature.at(at.step, at.steps))])
    }
}

/// Purity and NMI of a DESOM's BMUs on labelled data, latent QE and TE (columns `purity`, `nmi`,
/// `quantization_error`, `topographic_error`; one host copy of `[n, 2]` best units).
#[derive(Debug)]
pub struct DesomEvaluator<'a> {
    model: &'a Desom,
    x: &'a Tensor,
    labels: Vec<i64>,
}

impl<'a> DesomEvaluator<'a> {
    /// An evaluator on `data`, `None` when it has no labels.
    pub fn new(model: &'a Desom, data: &'a Dataset) -> Result<Option<Self>> {
        let Some(y) = &data.y else { return Ok(None) };
        Ok(Some(DesomEvaluator { model, x: &data.x, labels: Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))? }))
    }
}

impl Evaluator for DesomEvaluator<'_> {
    fn evaluate(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let distances = self.model.som.forward(&self.model.encode_all(self.x)?); // [n, K]
        map_columns(&distances, self.model.som.grid(), &self.labels)
    }
}

/// The evaluation columns of one map from its latent distances `[n, K]` on labelled samples:
/// `purity` and `nmi` of the best units, then latent QE and TE ([`map_quality`]).
pub(crate) fn map_columns(distances: &Tensor, grid: &Grid, labels: &[i64]) -> Result<Vec<Column>> {
    let quality = map_quality(distances, grid)?;
    let (purity, nmi) = purity_nmi(labels, &quality.units)?;
    Ok([Column::scalar("purity", purity), Column::scalar("nmi", nmi)].into_iter().chain(quality.columns()).collect())
}

/// Trains DESOM on `train` (Algorithm 3 of paper 002): the model is built from `seed`, its
/// prototypes drawn from encoded training samples; batches of `batch_size` distinct samples are
/// drawn on `train`'s device. With labels on `eval`, every record carries purity and NMI of the
/// BMUs on it, and latent QE and TE. The pretraining phase (if any) and the joint phase share one
/// batch stream and one optimizer; the observer sees both.
pub fn fit_desom(
    train: &Dataset,
    eval: Option<&Dataset>,
    model_config: &DesomConfig,
    config: &DesomTrainConfig,
    observer: &mut dyn Observer,
) -> Result<DesomRun> {
    config.validate()?;
    let seeds = derived_seeds(config.seed);
    let batching = Batching::Random { batch_size: config.batch_size };
    let trainer = crate::run::start(train, batching, seeds[1], config.checkpoint.as_deref(), config.resume)?;
    desom_phases(trainer, &train.x, eval, model_config, config, seeds, observer)
}

/// [`fit_desom`] on rows read from `source` (data larger than memory): every step reads a random
/// batch of rows ([`Trainer::over_random_rows`], the draws `fit_desom` makes on a dataset of the
/// same rows); the model is built, and its prototypes re-drawn after pretraining, from the rows
/// `start` (a sample of the source, or all of it). No evaluation set. Checkpoints as
/// [`fit_desom`]'s: a resumed run draws the same rows again (the draws are replayed without
/// reading them), so it ends bit for bit where the uninterrupted run ends on CPU; `start` must
/// be the same rows.
pub fn fit_desom_rows(
    source: &dyn RowSource,
    start: &Tensor,
    model_config: &DesomConfig,
    config: &DesomTrainConfig,
    observer: &mut dyn Observer,
) -> Result<DesomRun> {
    config.validate()?;
    let seeds = derived_seeds(config.seed);
    let trainer = Trainer::over_random_rows(source, config.batch_size, seeds[1])?;
    let trainer = crate::run::continuing(trainer, config.checkpoint.as_deref(), config.resume)?;
    desom_phases(trainer, start, None, model_config, config, seeds, observer)
}

/// DESOM's phases on `trainer`'s batches: the model built from `start` rows and seeds
/// `[model, batches, reinit]`, the optional pretraining, then the joint phase.
fn desom_phases(
    mut trainer: Trainer<'_>,
    start: &Tensor,
    eval: Option<&Dataset>,
    model_config: &DesomConfig,
    config: &DesomTrainConfig,
    [model_seed, _, reinit_seed]: [u64; 3],
    observer: &mut dyn Observer,
) -> Result<DesomRun> {
    let vs = nn::VarStore::new(start.device());
    let mut model = model_config.build(&vs.root(), start, model_seed)?.with_precision(config.precision);
    // protolearn's Adam (equal to libtorch's to float32 rounding) keeps its state, so a
    // checkpointed run is reproduced bit for bit by its resumed runs.
    let mut optimizer = config.optimizer.build(&vs)?;
    let phase_config = |phase: Phase, steps| PhaseConfig {
        checkpoint: config.checkpoint.clone(),
        ..PhaseConfig::new(phase.name(), steps, config.log_every)
    };
    let mut log = Vec::new();
    if config.pretrain_iterations > 0 {
        let phase = phase_config(Phase::Pretrain, config.pretrain_iterations);
        let mut objective = Reconstruction { backbone: model.backbone.as_ref() };
        let mut evaluator = eval.map(|e| DesomEvaluator::new(&model, e)).transpose()?.flatten();
        let mut evaluators: Vec<&mut dyn Evaluator> = evaluator.iter_mut().map(|e| e as &mut dyn Evaluator).collect();
        log.extend(trainer.minimise(&phase, &mut objective, optimizer.as_mut(), &vs, &mut evaluators, observer)?);
        model.reinit_prototypes(start, reinit_seed)?;
    }
    let phase = phase_config(Phase::Joint, config.iterations);
    let mut objective = DesomObjective { model: &model, temperature: config.temperature, update_interval: config.update_interval };
    let mut evaluator = eval.map(|e| DesomEvaluator::new(&model, e)).transpose()?.flatten();
    let mut evaluators: Vec<&mut dyn Evaluator> = evaluator.iter_mut().map(|e| e as &mut dyn Evaluator).collect();
    log.extend(trainer.minimise(&phase, &mut objective, optimizer.as_mut(), &vs, &mut evaluators, observer)?);
    drop(evaluators);
    let history = log.iter().map(DesomRecord::from_log).collect::<Result<Vec<_>>>()?;
    Ok(DesomRun { vs, model, history })
}

/// How an autoencoder is trained on `L_R` alone (the two-stage models' AE, paper 002, Sec. 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutoencoderTrainConfig {
    /// Optimizer (paper 002, Table 2: Adam, `1e-3`).
    pub optimizer: OptimizerConfig,
    /// Iterations.
    pub iterations: usize,
    /// Minibatch size (paper 002, Table 2: 256).
    pub batch_size: usize,
    /// Record every this many iterations and after the last.
    pub log_every: usize,
    /// Seed of the weights and the minibatch draws (derived as in [`fit_desom`], so an AE trained
    /// here equals DESOM's autoencoder trained with `γ = 0` from the same seed).
    pub seed: u64,
}

impl AutoencoderTrainConfig {
    /// The `L_R`-only pretraining with DESOM's optimizer, iterations, batch size, logging
    /// interval and seed (the AE of the two-stage AE + SOM baselines, paper 002, Sec. 5.1).
    pub fn like_desom(desom: &DesomTrainConfig) -> Self {
        AutoencoderTrainConfig {
            optimizer: desom.optimizer,
            iterations: desom.iterations,
            batch_size: desom.batch_size,
            log_every: desom.log_every,
            seed: desom.seed,
        }
    }
}

/// A trained autoencoder with its history.
#[derive(Debug)]
pub struct AutoencoderRun {
    /// The variables (`ae.*`).
    pub vs: nn::VarStore,
    /// The autoencoder.
    pub backbone: Box<dyn Backbone>,
    /// One record per logging interval (phase `pretrain`).
    pub history: Vec<DesomRecord>,
}

/// Trains the autoencoder of `model_config` on `L_R` alone (random minibatches, one phase
/// `pretrain` of [`Reconstruction`] on the one trainer).
pub fn fit_autoencoder(
    train: &Dataset,
    model_config: &AutoencoderConfig,
    config: &AutoencoderTrainConfig,
    observer: &mut dyn Observer,
) -> Result<AutoencoderRun> {
    fit_autoencoder_checkpointed(train, model_config, config, &Checkpointing::default(), observer)
}

/// [`fit_autoencoder`] writing its state into `checkpointing`'s folder at every log point and,
/// when resuming, continuing from it (bit for bit on CPU).
pub fn fit_autoencoder_checkpointed(
    train: &Dataset,
    model_config: &AutoencoderConfig,
    config: &AutoencoderTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<AutoencoderRun> {
    let [model_seed, batch_seed, _] = derived_seeds(config.seed);
    let vs = nn::VarStore::new(train.device());
    let backbone = model_config.build(&(vs.root() / "ae"), model_seed)?;
    backbone.check_input(&train.x)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let mut trainer = checkpointing.trainer(train, Batching::Random { batch_size: config.batch_size }, batch_seed)?;
    let phase = checkpointing.phase(PhaseConfig::new(Phase::Pretrain.name(), config.iterations, config.log_every));
    let log = trainer.minimise(&phase, &mut Reconstruction { backbone: backbone.as_ref() }, optimizer.as_mut(), &vs, &mut [], observer)?;
    let history = log.iter().map(DesomRecord::from_log).collect::<Result<Vec<_>>>()?;
    Ok(AutoencoderRun { vs, backbone, history })
}
