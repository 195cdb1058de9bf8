//! The one training loop of protolearn. A [`Trainer`] owns the batch stream of a dataset
//! ([`Batching`]: full batch, shuffled epochs, random draws), and runs *phases* of steps on it:
//! each step draws a batch and hands it to what the model family supplies, either an
//! [`Objective`] (named loss terms with gradient; the trainer back-propagates and steps the
//! optimizer) or an [`UpdateRule`] (no autograd: batch and online SOM, LVQ1, LVQ2.1); an
//! [`Iteration`] that holds its data (Lloyd's k-means) runs on a trainer that draws nothing
//! ([`Trainer::holding`]) until it converges. The trainer also owns the learning-rate schedule, the logging interval (loss terms summed on
//! the device and read back once per interval), evaluators, the divergence guard, checkpoints and
//! the observer.
//!
//! Seed-batched replicas (paper 000) are first class: a loss term may be `[]` or `[replicas]`;
//! the trainer minimises the sum (the replicas are independent, Adam and SGD act element-wise)
//! and logs one value per replica.
//!
//! A phase with a checkpoint folder writes a resumable state at every log point (variables,
//! optimizer state, stream position, history; see [`crate::resume`]); [`Trainer::resume`]
//! continues from it, bit for bit on CPU.
//!
//! ```
//! use protolearn_data::tensor::{Batch, Dataset};
//! use protolearn_train::trainer::{Batching, LossTerms, Objective, PhaseConfig, StepInfo, Trainer};
//! use protolearn_train::observer::Silent;
//! use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};
//!
//! /// Fits a mean vector by least squares: the smallest objective there is.
//! struct Mean { m: Tensor }
//! impl Objective for Mean {
//!     fn loss(&mut self, batch: &Batch, _at: &StepInfo) -> protolearn_train::Result<LossTerms> {
//!         let mse = (&batch.x - &self.m).square().mean(Kind::Float);
//!         Ok(LossTerms::single("mse", mse))
//!     }
//! }
//!
//! let data = Dataset::new(Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0]).view([4, 1]), None).unwrap();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let mut mean = Mean { m: vs.root().zeros("m", &[1]) };
//! let mut opt = nn::Sgd::default().build(&vs, 0.1).unwrap();
//! let mut trainer = Trainer::new(&data, Batching::Shuffled { batch_size: 2 }, 7).unwrap();
//! let phase = PhaseConfig::new("fit", 200, 50);
//! let history = trainer.minimise(&phase, &mut mean, &mut opt, &vs, &mut [], &mut Silent).unwrap();
//! assert_eq!(history.len(), 4);
//! assert!((mean.m.double_value(&[0]) - 2.5).abs() < 0.1);
//! ```

use crate::batching::BatchStream;
pub use crate::batching::{steps_per_epoch, Batching};
use crate::divergence::Interval;
use crate::error::{Error, Result};
use crate::observer::{Observer, Silent};
use crate::optim::Optimize;
use crate::parallel::{broadcast_variables, combine_gradients, shard_batch};
pub use crate::record::{Column, LogRecord, StepInfo};
use crate::resume::{self, PhaseHistory, RunState, Saved};
use protolearn_data::tensor::{Batch, Dataset, RandomIndices};
use protolearn_layers::collective::{default_group, shard_range, Collective};
use protolearn_layers::rows::RowSource;
use protolearn_layers::som::Schedule;
use protolearn_layers::UpdateRule;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, Kind, Tensor};

/// The loss terms of one batch.
#[derive(Debug)]
pub struct LossTerms {
    /// What is minimised, with gradient: `[]`, or `[replicas]` (the sum is back-propagated).
    pub minimise: Tensor,
    /// Named terms to log (`[]` or `[replicas]` each); detached by the trainer.
    pub logged: Vec<(&'static str, Tensor)>,
}

impl LossTerms {
    /// One term that is both minimised and logged under `name`.
    pub fn single(name: &'static str, loss: Tensor) -> Self {
        let logged = vec![(name, loss.shallow_clone())];
        LossTerms { minimise: loss, logged }
    }
}

/// A model family trained by gradient descent: its loss terms for a batch.
pub trait Objective {
    /// Called before the loss of the first step of every epoch ([`StepInfo::epoch_start`]; every
    /// step of a full-batch phase): an objective that refreshes state once per epoch does it here
    /// (DeepCluster's pseudo-labels, the k-means centroids of DDCL's ablation). A run resumed
    /// from a checkpoint at an epoch end calls it again where it continues.
    fn epoch_start(&mut self, _at: &StepInfo) -> Result<()> {
        Ok(())
    }

    /// The loss terms of `batch` at step `at`, with gradient (the trainer calls `backward`).
    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms>;

    /// Metrics of the family's own state at a log point (after the interval's last step).
    fn metrics(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        Ok(Vec::new())
    }

    /// Whether the objective trains data-parallel: its minimised loss is a mean over the batch's
    /// samples plus terms that do not depend on the batch, so that the share-weighted sum of the
    /// ranks' gradients is the whole batch's gradient (see [`crate::parallel`]). Losses with
    /// batch-wide terms (batch statistics, rankings over the batch) keep the default, `false`,
    /// and a data-parallel trainer refuses them.
    fn data_parallel(&self) -> bool {
        false
    }
}

/// Measures a model at log points (purity on a test set, latent QE, ...).
pub trait Evaluator {
    /// The metrics at log point `at`.
    fn evaluate(&mut self, at: &StepInfo) -> Result<Vec<Column>>;
}

impl<F: FnMut(&StepInfo) -> Result<Vec<Column>>> Evaluator for F {
    fn evaluate(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        self(at)
    }
}

/// An algorithm whose every step uses all the data it holds and that knows when it has
/// converged (Lloyd's k-means: assign every row, move every centroid, stop when the centroids no
/// longer move). It runs on a trainer built with [`Trainer::holding`], through
/// [`Trainer::iterate`]: the trainer counts the steps, logs, evaluates, guards against
/// divergence and ends the phase at the first converged step.
pub trait Iteration {
    /// Step `at`: the terms to log (`[]` each, on the device) and whether the algorithm has
    /// converged (the phase ends after this step, with a record).
    fn step(&mut self, at: &StepInfo) -> Result<Progress>;
}

/// What one step of an [`Iteration`] reports.
#[derive(Debug)]
pub struct Progress {
    /// Named terms to log.
    pub logged: Vec<(&'static str, Tensor)>,
    /// Whether this step met the algorithm's convergence rule.
    pub converged: bool,
}

/// One phase: its name, length, logging interval, learning-rate schedule and checkpoint file.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseConfig {
    /// Name in records, observers and errors (`fit`, `pretrain`, `joint`, ...).
    pub name: &'static str,
    /// Steps (optimizer steps or rule updates).
    pub steps: usize,
    /// Record every this many steps and after the last.
    pub log_every: usize,
    /// Learning rate `lr(i)` set on the optimizer before step `i` (none: the optimizer's own).
    pub lr: Option<Schedule>,
    /// A resumable state is written into this folder at every log point, after the divergence
    /// check: on divergence it holds the last finite state ([`crate::resume`]).
    pub checkpoint: Option<PathBuf>,
}

impl PhaseConfig {
    /// A phase of `steps` steps logged every `log_every` (capped at `steps`), without learning-rate
    /// schedule or checkpoints.
    pub fn new(name: &'static str, steps: usize, log_every: usize) -> Self {
        PhaseConfig { name, steps, log_every: log_every.min(steps).max(1), lr: None, checkpoint: None }
    }

    fn validate(&self) -> Result<()> {
        for (field, value) in [("steps", self.steps), ("log_every", self.log_every)] {
            if value == 0 {
                return Err(Error::InvalidConfig { field: field.into(), expected: "at least 1".into(), found: "0".into() });
            }
        }
        if let Some(lr) = &self.lr {
            lr.validate("lr")?;
        }
        Ok(())
    }
}

/// This rank's part of a data-parallel step: the group and the rank's share of the batch.
#[derive(Clone, Copy)]
struct Shard<'g> {
    group: &'g dyn Collective,
    share: f64,
}

/// The samples of one step: a batch in memory (the whole batch, or this rank's part of it with
/// `shard`), or rows of a source read chunk by chunk (this rank's rows with `group`).
enum StepInput<'a> {
    Batch {
        batch: Batch,
        shard: Option<Shard<'a>>,
    },
    Rows {
        source: &'a dyn RowSource,
        range: Range<usize>,
        chunk_rows: usize,
        group: Option<&'a dyn Collective>,
    },
    /// No samples: the step's algorithm holds its data ([`Iteration`]).
    Held,
}

/// What one step does with its samples: returns the detached terms to log.
trait Step {
    fn step(&mut self, input: StepInput<'_>, at: &StepInfo, vs: &nn::VarStore) -> Result<Vec<(&'static str, Tensor)>>;
    fn metrics(&mut self, at: &StepInfo) -> Result<Vec<Column>>;
    /// The optimizer whose state a checkpoint holds (none for update rules).
    fn optimizer(&mut self) -> Option<&mut dyn Optimize> {
        None
    }
    /// Whether the last step converged, ending the phase (only an [`Iteration`] does).
    fn converged(&self) -> bool {
        false
    }
}

/// An objective minimised with an optimizer.
struct Gradient<'a, O> {
    objective: &'a mut O,
    optimizer: &'a mut dyn Optimize,
    lr: Option<Schedule>,
}

impl<O: Objective> Step for Gradient<'_, O> {
    fn step(&mut self, input: StepInput<'_>, at: &StepInfo, vs: &nn::VarStore) -> Result<Vec<(&'static str, Tensor)>> {
        let (batch, shard) = match input {
            StepInput::Batch { batch, shard } => (batch, shard),
            StepInput::Held => return Err(no_samples(at)),
            StepInput::Rows { .. } => {
                return Err(Error::InvalidConfig {
                    field: "streamed training".into(),
                    expected: "an update rule that sums over the batch (the batch SOM); gradient training reads batches in memory".into(),
                    found: format!("phase `{}` minimising an objective", at.phase),
                })
            }
        };
        if let Some(lr) = &self.lr {
            self.optimizer.set_lr(lr.at(at.step, at.steps));
        }
        if at.epoch_start() {
            self.objective.epoch_start(at)?;
        }
        let terms = self.objective.loss(&batch, at)?;
        let total = if terms.minimise.dim() == 0 { terms.minimise } else { terms.minimise.sum(Kind::Float) };
        match shard {
            None => self.optimizer.backward_step(&total)?,
            Some(Shard { group, share }) => {
                self.optimizer.backward_combine_step(&total, vs, &mut |grads| combine_gradients(grads, share, group))?
            }
        }
        Ok(terms.logged.into_iter().map(|(name, t)| (name, t.detach())).collect())
    }

    fn metrics(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        self.objective.metrics(at)
    }

    fn optimizer(&mut self) -> Option<&mut dyn Optimize> {
        Some(&mut *self.optimizer)
    }
}

/// A rule that moves a layer without autograd.
struct Rule<'a, L, R> {
    layer: &'a L,
    rule: &'a R,
}

impl<L, R: UpdateRule<L>> Step for Rule<'_, L, R> {
    fn step(&mut self, input: StepInput<'_>, at: &StepInfo, _vs: &nn::VarStore) -> Result<Vec<(&'static str, Tensor)>> {
        match input {
            StepInput::Batch { batch, shard: None } => self.rule.update(self.layer, &batch.x, batch.y.as_ref(), at.step, at.steps)?,
            StepInput::Batch { batch, shard: Some(Shard { group, .. }) } => {
                self.rule.update_across(self.layer, &batch.x, batch.y.as_ref(), at.step, at.steps, group)?
            }
            StepInput::Rows { source, range, chunk_rows, group } => {
                self.rule.update_rows(self.layer, source, range, chunk_rows, at.step, at.steps, group)?
            }
            StepInput::Held => return Err(no_samples(at)),
        }
        Ok(Vec::new())
    }

    fn metrics(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        Ok(Vec::new())
    }
}

/// An [`Iteration`] run as a step.
struct Iterated<'a> {
    iteration: &'a mut dyn Iteration,
    converged: bool,
}

impl Step for Iterated<'_> {
    fn step(&mut self, input: StepInput<'_>, at: &StepInfo, _vs: &nn::VarStore) -> Result<Vec<(&'static str, Tensor)>> {
        if !matches!(input, StepInput::Held) {
            return Err(Error::InvalidConfig {
                field: "trainer".into(),
                expected: "a trainer built with `Trainer::holding` for an algorithm that holds its data".into(),
                found: format!("a trainer that draws samples (phase `{}`)", at.phase),
            });
        }
        let Progress { logged, converged } = self.iteration.step(at)?;
        self.converged = converged;
        Ok(logged)
    }

    fn metrics(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        Ok(Vec::new())
    }

    fn converged(&self) -> bool {
        self.converged
    }
}

/// The error of a gradient or rule step on a trainer without samples.
fn no_samples(at: &StepInfo) -> Error {
    Error::InvalidConfig {
        field: "trainer".into(),
        expected: "a trainer that draws samples (`Trainer::new`, `over_rows`, ...)".into(),
        found: format!("`Trainer::holding`, which draws none (phase `{}`)", at.phase),
    }
}

/// Where a trainer's steps take their samples from.
#[derive(Debug)]
enum Samples<'d> {
    /// Batches of a dataset in memory.
    Batches(Box<BatchStream<'d>>),
    /// Every step reads all rows of a source, `chunk_rows` at a time (update rules only).
    Rows { source: &'d dyn RowSource, chunk_rows: usize },
    /// Every step reads a random batch of rows of a source (the draws of [`Batching::Random`]).
    RowBatches { source: &'d dyn RowSource, indices: Box<RandomIndices<ChaCha8Rng>> },
    /// None: the algorithm holds its data ([`Iteration`]).
    Held,
}

/// The one training loop: a batch stream over a dataset, run phase by phase (see the module docs).
///
/// With a process group ([`Trainer::across`], or the process's default group of
/// [`protolearn_layers::collective::set_default_group`]) the trainer is data-parallel: every rank
/// draws the same batches and keeps its contiguous part of each; gradients are combined across
/// ranks before each optimizer step and update rules sum across them ([`crate::parallel`]);
/// variables start from rank 0's; only rank 0 writes checkpoints and reports to the observer.
/// The logged loss terms are rank 0's part of each batch; evaluators run on every rank.
#[derive(Debug)]
pub struct Trainer<'d> {
    samples: Samples<'d>,
    /// Steps in one epoch of the stream.
    steps_per_epoch: usize,
    /// Batches drawn so far (all phases).
    batches: usize,
    /// The phases finished so far, with their records (saved in checkpoints).
    finished: Vec<PhaseHistory>,
    /// The state a resumed run continues from, until its phase has been reached.
    resume: Option<Saved>,
    /// The data-parallel group (none: one process).
    group: Option<&'d dyn Collective>,
}

impl<'d> Trainer<'d> {
    /// A trainer drawing batches of `data` in mode `batching`, the order from
    /// `ChaCha8Rng::seed_from_u64(seed)`. Phases run on it share the stream.
    pub fn new(data: &'d Dataset, batching: Batching, seed: u64) -> Result<Self> {
        let steps_per_epoch = batching.steps_per_epoch(data.n_samples());
        Ok(Trainer {
            samples: Samples::Batches(Box::new(BatchStream::new(data, batching, seed)?)),
            steps_per_epoch,
            batches: 0,
            finished: Vec::new(),
            resume: None,
            group: default_group(),
        })
    }

    /// A trainer whose every step reads all rows of `source`, `chunk_rows` at a time, for data
    /// larger than memory: it runs update rules whose step is a sum over the batch
    /// ([`protolearn_layers::UpdateRule::update_rows`]: the batch SOM), data-parallel over the
    /// default group when one is set (each rank reads its contiguous rows).
    pub fn over_rows(source: &'d dyn RowSource, chunk_rows: usize) -> Result<Self> {
        if chunk_rows == 0 {
            return Err(Error::InvalidConfig { field: "chunk_rows".into(), expected: "at least 1".into(), found: "0".into() });
        }
        Ok(Trainer {
            samples: Samples::Rows { source, chunk_rows },
            steps_per_epoch: 1,
            batches: 0,
            finished: Vec::new(),
            resume: None,
            group: default_group(),
        })
    }

    /// A trainer that draws no samples, for an [`Iteration`] that holds its data (Lloyd's
    /// k-means), run by [`Trainer::iterate`]. Data-parallel algorithms share their sums
    /// themselves; the trainer's group (the default one) silences the observer on other ranks.
    pub fn holding() -> Self {
        Trainer { samples: Samples::Held, steps_per_epoch: 1, batches: 0, finished: Vec::new(), resume: None, group: default_group() }
    }

    /// A trainer whose every step reads a random batch of `batch_size` distinct rows of `source`
    /// (data larger than memory), drawn as [`Batching::Random`] draws them from
    /// `ChaCha8Rng::seed_from_u64(seed)`, so that a source holding the rows of a dataset gives
    /// the batches of `Trainer::new(data, Batching::Random { batch_size }, seed)`. The batches
    /// have no labels. Data-parallel over the default group as any trainer.
    pub fn over_random_rows(source: &'d dyn RowSource, batch_size: usize, seed: u64) -> Result<Self> {
        let indices = RandomIndices::new(source.n_rows(), batch_size, ChaCha8Rng::seed_from_u64(seed))?;
        Ok(Trainer {
            samples: Samples::RowBatches { source, indices: Box::new(indices) },
            steps_per_epoch: Batching::Random { batch_size }.steps_per_epoch(source.n_rows()),
            batches: 0,
            finished: Vec::new(),
            resume: None,
            group: default_group(),
        })
    }

    /// The same trainer, data-parallel over `group` (see [`Trainer`]); a group of one process
    /// changes nothing. Every rank must build its trainer with the same data, batching and seed.
    pub fn across(mut self, group: &'d dyn Collective) -> Result<Self> {
        if matches!(&self.samples, Samples::Batches(stream) if matches!(**stream, BatchStream::Replicas(_))) && group.world_size() > 1 {
            return Err(replicas_in_one_process(group));
        }
        self.group = Some(group).filter(|g| g.world_size() > 1);
        Ok(self)
    }

    /// The data-parallel group the trainer runs over, if any.
    pub fn group(&self) -> Option<&'d dyn Collective> {
        self.group
    }

    /// A trainer for seed-batched replicas that each draw their own batches: replica `r` sees the
    /// batches of `Trainer::new(data, batching, seeds[r])`, stacked along a leading dimension
    /// (`x` `[S, b, ...]`, labels and indices `[S, b]`).
    pub fn per_replica(data: &'d Dataset, batching: Batching, seeds: &[u64]) -> Result<Self> {
        if let Some(group) = default_group() {
            return Err(replicas_in_one_process(group));
        }
        let steps_per_epoch = batching.steps_per_epoch(data.n_samples());
        Ok(Trainer {
            samples: Samples::Batches(Box::new(BatchStream::replicas(data, batching, seeds)?)),
            steps_per_epoch,
            batches: 0,
            finished: Vec::new(),
            resume: None,
            group: None,
        })
    }

    /// A trainer that continues the run whose state is in the checkpoint folder `dir` (written by
    /// a phase with [`PhaseConfig::checkpoint`]); `data`, `batching` and `seed` must be those of
    /// that run. The stream is replayed to its position; phases the run had finished return their
    /// saved records without training; the phase in progress restores the variables and the
    /// optimizer state and continues after its saved step.
    pub fn resume(data: &'d Dataset, batching: Batching, seed: u64, dir: &Path) -> Result<Self> {
        Trainer::new(data, batching, seed)?.resuming(dir)
    }

    /// This new trainer continuing the run whose state is in `dir`, as [`Trainer::resume`] does
    /// for a dataset in memory: for any sample source (rows read chunk by chunk, random batches
    /// of rows read from disk), built as that run built it. The stream is replayed to the saved
    /// position (a pass over all rows keeps no position; random draws of rows are drawn again
    /// without reading the rows).
    pub fn resuming(mut self, dir: &Path) -> Result<Self> {
        let saved = resume::load(dir)?;
        for _ in 0..saved.run.batches {
            match &mut self.samples {
                Samples::Batches(stream) => _ = stream.next_batch()?,
                Samples::RowBatches { indices, .. } => _ = indices.next_indices(),
                Samples::Rows { .. } | Samples::Held => break,
            }
        }
        self.batches = saved.run.batches;
        self.resume = Some(saved);
        Ok(self)
    }

    /// Runs `phase` minimising `objective` with `optimizer` over the variables of `vs`.
    pub fn minimise<O: Objective>(
        &mut self,
        phase: &PhaseConfig,
        objective: &mut O,
        optimizer: &mut dyn Optimize,
        vs: &nn::VarStore,
        evaluators: &mut [&mut dyn Evaluator],
        observer: &mut dyn Observer,
    ) -> Result<Vec<LogRecord>> {
        if let Some(group) = self.group.filter(|_| !objective.data_parallel()) {
            return Err(Error::InvalidConfig {
                field: "data-parallel training".into(),
                expected: format!("an objective whose loss is a mean over the batch's samples (phase `{}` has none)", phase.name),
                found: format!("{} processes (WORLD_SIZE)", group.world_size()),
            });
        }
        let mut step = Gradient { objective, optimizer, lr: phase.lr };
        self.run(phase, &mut step, vs, evaluators, observer)
    }

    /// Runs `phase` applying `rule` to `layer` (whose variables live in `vs`) once per step.
    pub fn apply_rule<L, R: UpdateRule<L>>(
        &mut self,
        phase: &PhaseConfig,
        layer: &L,
        rule: &R,
        vs: &nn::VarStore,
        evaluators: &mut [&mut dyn Evaluator],
        observer: &mut dyn Observer,
    ) -> Result<Vec<LogRecord>> {
        self.run(phase, &mut Rule { layer, rule }, vs, evaluators, observer)
    }

    /// Runs `phase` stepping `iteration` until it converges or the phase's steps are done (the
    /// record of the converged step is the last). `vs` holds the variables a checkpoint saves
    /// (none for an algorithm that keeps its state to itself).
    pub fn iterate(
        &mut self,
        phase: &PhaseConfig,
        iteration: &mut dyn Iteration,
        vs: &nn::VarStore,
        evaluators: &mut [&mut dyn Evaluator],
        observer: &mut dyn Observer,
    ) -> Result<Vec<LogRecord>> {
        self.run(phase, &mut Iterated { iteration, converged: false }, vs, evaluators, observer)
    }

    fn run(
        &mut self,
        phase: &PhaseConfig,
        step: &mut dyn Step,
        vs: &nn::VarStore,
        evaluators: &mut [&mut dyn Evaluator],
        observer: &mut dyn Observer,
    ) -> Result<Vec<LogRecord>> {
        phase.validate()?;
        let mut silent = Silent;
        let observer: &mut dyn Observer = match self.group {
            Some(group) if group.rank() != 0 => &mut silent,
            _ => observer,
        };
        if let Some(done) = self.resume.as_ref().and_then(|r| r.run.finished.iter().find(|h| h.phase == phase.name)) {
            let history = done.history.clone();
            history.iter().for_each(|r| observer.on_restored(r));
            self.finished.push(done.clone());
            return Ok(history);
        }
        let (first, mut history) = match self.resume.take() {
            Some(saved) if saved.run.phase == phase.name => {
                resume::restore_variables(vs, &saved.variables)?;
                if let Some(optimizer) = step.optimizer() {
                    optimizer.load_state(&saved.optimizer)?;
                }
                saved.run.history.iter().for_each(|r| observer.on_restored(r));
                (saved.run.step + 1, saved.run.history)
            }
            other => {
                self.resume = other;
                (1, Vec::with_capacity(phase.steps.div_ceil(phase.log_every)))
            }
        };
        if let Some(group) = self.group {
            broadcast_variables(vs, group)?;
        }
        let writes_checkpoints = self.group.is_none_or(|g| g.rank() == 0);
        observer.on_start(phase.name, phase.steps.div_ceil(phase.log_every));
        let mut interval = Interval::new(vs);
        let mut start = Instant::now();
        for i in first..=phase.steps {
            let at = StepInfo::new(phase.name, i, phase.steps, self.steps_per_epoch);
            let input = match &mut self.samples {
                Samples::Batches(stream) => match (stream.next_batch()?, self.group) {
                    (batch, None) => StepInput::Batch { batch, shard: None },
                    (batch, Some(group)) => {
                        let (batch, share) = shard_batch(batch, group)?;
                        StepInput::Batch { batch, shard: Some(Shard { group, share }) }
                    }
                },
                Samples::RowBatches { source, indices } => {
                    let drawn = indices.next_indices();
                    let batch = Batch { x: source.gather(drawn)?, y: None, indices: Tensor::f_from_slice(drawn)? };
                    match self.group {
                        None => StepInput::Batch { batch, shard: None },
                        Some(group) => {
                            let (batch, share) = shard_batch(batch, group)?;
                            StepInput::Batch { batch, shard: Some(Shard { group, share }) }
                        }
                    }
                }
                Samples::Rows { source, chunk_rows } => {
                    let n = source.n_rows();
                    let range = self.group.map_or(0..n, |g| shard_range(n, g.rank(), g.world_size()));
                    StepInput::Rows { source: *source, range, chunk_rows: *chunk_rows, group: self.group }
                }
                Samples::Held => StepInput::Held,
            };
            self.batches += 1;
            let terms = step.step(input, &at, vs)?;
            interval.push(i, &terms)?;
            let converged = step.converged();
            if i % phase.log_every != 0 && i != phase.steps && !converged {
                continue;
            }
            let mut columns = interval.close(phase.name, i)?;
            columns.extend(step.metrics(&at)?);
            for evaluator in evaluators.iter_mut() {
                columns.extend(evaluator.evaluate(&at)?);
            }
            let record = LogRecord { phase: phase.name.to_owned(), step: i, seconds: start.elapsed().as_secs_f64(), columns };
            if let Some(dir) = phase.checkpoint.as_ref().filter(|_| writes_checkpoints) {
                let run = RunState {
                    format_version: resume::FORMAT_VERSION,
                    phase: phase.name.to_owned(),
                    step: i,
                    batches: self.batches,
                    finished: self.finished.clone(),
                    history: history.iter().cloned().chain([record.clone()]).collect(),
                };
                let optimizer = step.optimizer().and_then(|o| o.state()).unwrap_or_default();
                resume::save(dir, &run, vs, &optimizer)?;
            }
            observer.on_log(&record);
            history.push(record);
            start = Instant::now();
            if converged {
                break;
            }
        }
        observer.on_end();
        self.finished.push(PhaseHistory { phase: phase.name.to_owned(), history: history.clone() });
        Ok(history)
    }
}

/// The error of seed-batched replicas in a data-parallel run (they are one process's program).
fn replicas_in_one_process(group: &dyn Collective) -> Error {
    Error::InvalidConfig {
        field: "data-parallel training".into(),
        expected: "one model per run (seed-batched replicas train in one process)".into(),
        found: format!("{} processes (WORLD_SIZE)", group.world_size()),
    }
}
