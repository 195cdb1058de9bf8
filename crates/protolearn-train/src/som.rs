//! The three ways to train a plain SOM (paper 002, Sec. 2.1 and 3.4), all on the one
//! [`Trainer`]: minibatch gradient descent on the distortion with Adam (the "Keras SOM", an
//! [`Objective`]), the batch SOM (Algorithm 2) and the online Kohonen SOM (Algorithm 1), the
//! last two [`protolearn_layers::UpdateRule`]s of protolearn-layers.
//!
//! ```
//! use protolearn_data::tensor::Dataset;
//! use protolearn_layers::som::{Schedule, SomConfig};
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use protolearn_train::observer::Silent;
//! use protolearn_train::som::{fit_som, SomRule, SomTrainConfig};
//! use tch::{nn, Device, Tensor};
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.2, 0.1, 5.0, 5.0, 5.1, 4.8, 9.0, 0.0, 8.8, 0.3]).view([6, 2]);
//! let data = Dataset::new(x, None).unwrap();
//! let grid = Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let som = SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() }.build(&vs.root(), &data.x, 0).unwrap();
//! let cfg = SomTrainConfig { rule: SomRule::Batch, iterations: 10, temperature: Schedule::paper_temperature(&grid), seed: 0, log_every: 5 };
//! let history = fit_som(&vs, &som, &data, &cfg, &mut Silent).unwrap();
//! assert_eq!(history.len(), 2);
//! assert!(history[1].quantization_error < 1.0);
//! ```

use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::{OptimizerConfig as TensorOptimizerConfig, OptimizerKind};
use crate::quality::map_quality;
use crate::run::Checkpointing;
use crate::trainer::{Batching, Column, Evaluator, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo, Trainer};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::collective::{default_group, shard_range, sum_across};
use protolearn_layers::distance::argmin;
use protolearn_layers::rows::{chunks, RowSource};
use protolearn_layers::som::{som_distortion, BatchSom, OnlineSom, Schedule, SomLayer};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::Tensor;

/// The phase name of SOM training.
pub const PHASE: &str = "som";

/// Which SOM algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SomRule {
    /// Minibatch Adam on `L_SOM` (paper 002, Sec. 3.4, Eq. 7-8; Algorithm 3 without the
    /// autoencoder): each step fixes the batch's BMUs and weights `w_ik = K^T(δ(b_i, k))` at `T(i)`
    /// and takes one gradient step on `(1/n_b) sum_i sum_k w_ik ||x_i - m_k||^2`. Batches are
    /// consecutive slices of shuffled epochs.
    Gradient {
        /// Minibatch size `n_b` (paper 002, Table 2: 256); capped at the sample count.
        batch_size: usize,
        /// Adam learning rate `l_r` (paper 002, Table 2: 0.001).
        lr: f64,
    },
    /// The batch SOM (paper 002, Algorithm 2): every step uses all samples. Deterministic.
    Batch,
    /// The online Kohonen SOM (paper 002, Algorithm 1): one sample per step, shuffled epochs.
    Online {
        /// Learning rate `α(i)`, decreasing (paper 002, Eq. 2).
        lr: Schedule,
    },
}

/// How a SOM is trained. No `Default`: every choice is visible in the TOML.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SomTrainConfig {
    /// The algorithm.
    pub rule: SomRule,
    /// Steps: optimizer steps, batch passes or sample presentations.
    pub iterations: usize,
    /// Temperature `T(i)`, updated every step (paper 002, Table 2: from the map size to 0.1).
    pub temperature: Schedule,
    /// Seed of the sample order (unused by the batch SOM).
    pub seed: u64,
    /// Record the history every this many steps and after the last.
    pub log_every: usize,
}

impl SomTrainConfig {
    /// Checks counts, learning rates and schedules.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [("iterations", self.iterations), ("log_every", self.log_every)] {
            if value == 0 {
                return Err(Error::InvalidConfig { field: field.into(), expected: "at least 1".into(), found: "0".into() });
            }
        }
        self.temperature.validate("temperature")?;
        match self.rule {
            SomRule::Gradient { batch_size, lr } => {
                if batch_size == 0 {
                    return Err(Error::InvalidConfig { field: "batch_size".into(), expected: "at least 1".into(), found: "0".into() });
                }
                if !(lr.is_finite() && lr > 0.0) {
                    return Err(Error::InvalidConfig {
                        field: "lr".into(),
                        expected: "a positive finite number".into(),
                        found: lr.to_string(),
                    });
                }
                Ok(())
            }
            SomRule::Batch => Ok(()),
            SomRule::Online { lr } => Ok(lr.validate("lr")?),
        }
    }
}

/// One point of a SOM's history, measured on the whole training set after step `iteration`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SomRecord {
    /// The 1-based step after which it was measured.
    pub iteration: usize,
    /// The temperature `T` of that step.
    pub temperature: f64,
    /// Distortion `L_SOM` at `T` (paper 002, Sec. 2.1), a mean over samples.
    pub distortion: f64,
    /// `QE = (1/N) sum_i ||x_i - m_{b_i}||` (a mean Euclidean, not squared, distance).
    pub quantization_error: f64,
    /// `TE`, the fraction of samples whose two best units are not neighbours (`None` for one unit).
    pub topographic_error: Option<f64>,
    /// Wall-clock seconds of the interval's steps and of this evaluation.
    pub seconds: f64,
}

impl SomRecord {
    /// The typed view of a trainer record written by [`SomEvaluator`].
    pub fn from_log(record: &LogRecord) -> Result<Self> {
        let need = |name: &str| record.require(name).map(|v| v.first().copied().unwrap_or(f64::NAN));
        Ok(SomRecord {
            iteration: record.step,
            temperature: need("temperature")?,
            distortion: need("distortion")?,
            quantization_error: need("quantization_error")?,
            topographic_error: record.scalar("topographic_error"),
            seconds: record.seconds,
        })
    }
}

/// Measures a SOM on samples `x` `[n, L]` at log points: the temperature of the step, the
/// distortion at that temperature, QE and TE (columns `temperature`, `distortion`,
/// `quantization_error`, `topographic_error`).
#[derive(Debug)]
pub struct SomEvaluator<'a> {
    /// The map.
    pub layer: &'a SomLayer,
    /// The samples it is measured on.
    pub x: &'a Tensor,
    /// The temperature schedule of the training.
    pub temperature: Schedule,
}

impl Evaluator for SomEvaluator<'_> {
    /// In a data-parallel run every rank measures its own rows and the sums are added across
    /// the default group ([`SomRowsEvaluator`]'s way), instead of every rank measuring all rows.
    fn evaluate(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        if default_group().is_some() {
            let n = self.x.size()[0] as usize;
            return SomRowsEvaluator { layer: self.layer, source: self.x, chunk_rows: n.max(1), temperature: self.temperature }
                .evaluate(at);
        }
        let _guard = tch::no_grad_guard();
        let t = self.temperature.at(at.step, at.steps);
        let dist = self.layer.forward(self.x); // [n, K]
        let weights = self.layer.neighbourhood_weights(&argmin(&dist, -1), t)?; // [n, K]
        let distortion = som_distortion(&dist, &weights).f_double_value(&[])?;
        let quality = map_quality(&dist, self.layer.grid())?;
        let mut columns = vec![Column::scalar("temperature", t), Column::scalar("distortion", distortion)];
        columns.extend(quality.columns());
        Ok(columns)
    }
}

/// [`SomEvaluator`] over rows read from a source chunk by chunk: the same columns, each a mean
/// over all rows accumulated chunk after chunk (in a data-parallel run each rank measures its
/// rows and the sums are added across the default group).
#[derive(Debug)]
pub struct SomRowsEvaluator<'a> {
    /// The map.
    pub layer: &'a SomLayer,
    /// The rows it is measured on.
    pub source: &'a dyn RowSource,
    /// Rows read at a time.
    pub chunk_rows: usize,
    /// The temperature schedule of the training.
    pub temperature: Schedule,
}

impl Evaluator for SomRowsEvaluator<'_> {
    fn evaluate(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let t = self.temperature.at(at.step, at.steps);
        let n = self.source.n_rows();
        let group = default_group();
        let range = group.map_or(0..n, |g| shard_range(n, g.rank(), g.world_size()));
        // Sums of distortion, QE and TE over the rows, and the row count.
        let mut sums = [0.0f64; 4];
        for x in chunks(self.source, range, self.chunk_rows) {
            let x = x?;
            let rows = x.size()[0] as f64;
            let dist = self.layer.forward(&x); // [b, K]
            let weights = self.layer.neighbourhood_weights(&argmin(&dist, -1), t)?; // [b, K]
            let quality = map_quality(&dist, self.layer.grid())?;
            sums[0] += som_distortion(&dist, &weights).f_double_value(&[])? * rows;
            sums[1] += quality.quantization_error * rows;
            sums[2] += quality.topographic_error.unwrap_or(0.0) * rows;
            sums[3] += rows;
        }
        let totals = Tensor::from_slice(&sums);
        sum_across(group, &totals)?;
        let [distortion, qe, te, rows] = <[f64; 4]>::try_from(Vec::<f64>::try_from(&totals)?).unwrap_or([f64::NAN; 4]);
        let mut columns = vec![
            Column::scalar("temperature", t),
            Column::scalar("distortion", distortion / rows),
            Column::scalar("quantization_error", qe / rows),
        ];
        if self.layer.grid().n_units() >= 2 {
            columns.push(Column::scalar("topographic_error", te / rows));
        }
        Ok(columns)
    }
}

/// [`fit_som`] with the batch rule on rows read from `source` `chunk_rows` at a time: data
/// larger than memory, memory bounded by the chunk and the map. Every pass sums `S_j` and `n_j`
/// chunk after chunk (paper 002, Algorithm 2), so the result is the in-memory batch SOM's up to
/// the order of float additions. Data-parallel over the default group when one is set (each
/// rank reads its contiguous rows). `layer` must be initialised already (from a sample of the
/// rows, say); the online and gradient rules need samples in memory and are refused. With a
/// checkpoint folder the map is saved at every log point, and a resumed run continues from it
/// (a pass keeps no stream position: the same result bit for bit on CPU).
pub fn fit_som_rows(
    vs: &nn::VarStore,
    layer: &SomLayer,
    source: &dyn RowSource,
    chunk_rows: usize,
    cfg: &SomTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<Vec<SomRecord>> {
    cfg.validate()?;
    if cfg.rule != SomRule::Batch {
        return Err(Error::InvalidConfig {
            field: "rule".into(),
            expected: "the batch rule for rows read chunk by chunk (the online and gradient rules need samples in memory)".into(),
            found: format!("{:?}", cfg.rule),
        });
    }
    let units_dim = layer.weight.size()[1] as usize;
    if source.n_cols() != units_dim {
        return Err(Error::InvalidConfig {
            field: "rows".into(),
            expected: format!("{units_dim} columns (the map's input dimension)"),
            found: format!("{} columns", source.n_cols()),
        });
    }
    let phase = checkpointing.phase(PhaseConfig::new(PHASE, cfg.iterations, cfg.log_every));
    let mut evaluator = SomRowsEvaluator { layer, source, chunk_rows, temperature: cfg.temperature };
    let rule = BatchSom { temperature: cfg.temperature };
    let mut trainer = checkpointing.continuing(Trainer::over_rows(source, chunk_rows)?)?;
    let history = trainer.apply_rule(&phase, layer, &rule, vs, &mut [&mut evaluator], observer)?;
    history.iter().map(SomRecord::from_log).collect()
}

/// The gradient ("Keras") SOM objective: the batch distortion at `T(i)` with fixed BMUs.
#[derive(Debug)]
pub struct GradientSom<'a> {
    /// The map.
    pub layer: &'a SomLayer,
    /// Temperature `T(i)`.
    pub temperature: Schedule,
}

impl Objective for GradientSom<'_> {
    /// A mean over the batch's samples (plus batch-independent terms): data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let t = self.temperature.at(at.step, at.steps);
        let weights = self.layer.neighbourhood_weights(&self.layer.bmus(&batch.x)?, t)?; // [b, K]
        Ok(LossTerms::single("batch_distortion", som_distortion(&self.layer.forward(&batch.x), &weights)))
    }
}

/// Trains `layer` (its variables in `vs`) on the samples of `data` `[n, L]` by `cfg.rule`, measuring
/// it on the whole of `data` every `cfg.log_every` steps.
pub fn fit_som(
    vs: &nn::VarStore,
    layer: &SomLayer,
    data: &Dataset,
    cfg: &SomTrainConfig,
    observer: &mut dyn Observer,
) -> Result<Vec<SomRecord>> {
    fit_som_checkpointed(vs, layer, data, cfg, &Checkpointing::default(), observer)
}

/// [`fit_som`] writing its state into `checkpointing`'s folder at every log point and, when
/// resuming, continuing from it. A checkpointed gradient SOM uses protolearn's Adam, whose state
/// is saved (equal to libtorch's Adam of an unchecked run to float32 rounding only); the batch and
/// online rules keep no state besides the prototypes.
pub fn fit_som_checkpointed(
    vs: &nn::VarStore,
    layer: &SomLayer,
    data: &Dataset,
    cfg: &SomTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<Vec<SomRecord>> {
    cfg.validate()?;
    layer.check_input(&data.x)?;
    let n = data.n_samples();
    let phase = checkpointing.phase(PhaseConfig::new(PHASE, cfg.iterations, cfg.log_every));
    let mut evaluator = SomEvaluator { layer, x: &data.x, temperature: cfg.temperature };
    let evaluators: &mut [&mut dyn Evaluator] = &mut [&mut evaluator];
    let history = match cfg.rule {
        SomRule::Gradient { batch_size, lr } => {
            let mut trainer = checkpointing.trainer(data, Batching::Shuffled { batch_size: batch_size.min(n) }, cfg.seed)?;
            let mut objective = GradientSom { layer, temperature: cfg.temperature };
            if checkpointing.enabled() {
                let mut optimizer = TensorOptimizerConfig { kind: OptimizerKind::Adam, lr }.build(vs)?;
                trainer.minimise(&phase, &mut objective, optimizer.as_mut(), vs, evaluators, observer)?
            } else {
                let mut optimizer = nn::Adam::default().build(vs, lr)?;
                trainer.minimise(&phase, &mut objective, &mut optimizer, vs, evaluators, observer)?
            }
        }
        SomRule::Batch => {
            let rule = BatchSom { temperature: cfg.temperature };
            checkpointing.trainer(data, Batching::Full, cfg.seed)?.apply_rule(&phase, layer, &rule, vs, evaluators, observer)?
        }
        SomRule::Online { lr } => {
            let rule = OnlineSom { lr, temperature: cfg.temperature };
            checkpointing
                .trainer(data, Batching::Shuffled { batch_size: 1 }, cfg.seed)?
                .apply_rule(&phase, layer, &rule, vs, evaluators, observer)?
        }
    };
    history.iter().map(SomRecord::from_log).collect()
}
