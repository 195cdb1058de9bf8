//! Training the prototype heads of paper 003 on the one [`Trainer`](crate::trainer::Trainer): [`LvqObjective`] (GLVQ,
//! RSLVQ or CELVQ loss of an [`LvqHead`] on a backbone's features or on the inputs, optionally
//! with GMLVQ's eigenvalue regulariser) and Kohonen's LVQ1 / LVQ2.1 through
//! [`Trainer::apply_rule`](crate::trainer::Trainer::apply_rule); accuracy on an evaluation set at every log point.
//!
//! ```
//! use protolearn_data::tensor::Dataset;
//! use protolearn_layers::lvq::{DissimilarityConfig, LvqConfig, LvqLoss};
//! use protolearn_train::lvq::{fit_lvq, LvqTrainConfig};
//! use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
//! use tch::Tensor;
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.1, 0.2, 0.0, 3.0, 3.1, 2.9, 3.0]).view([4, 2]);
//! let data = Dataset::new(x, Some(Tensor::from_slice(&[0i64, 0, 1, 1]))).unwrap();
//! let head = LvqConfig { classes: 2, per_class: 1, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Rslvq { sigma: 1.0 } };
//! let config = LvqTrainConfig::new(OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.05 }, 2, 10, 0);
//! let run = fit_lvq(&data, Some(&data), None, &head, &config, &mut protolearn_train::observer::Silent).unwrap();
//! assert_eq!(run.history.last().unwrap().scalar("accuracy"), Some(1.0));
//! ```

use crate::classifier::{batch_labels, features, AccuracyEvaluator, Classifier, LinearHead, SoftmaxObjective, TEST_ACCURACY};
use crate::clustering::FeatureKMeans;
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::OptimizerConfig;
use crate::run::Checkpointing;
use crate::trainer::steps_per_epoch;
use crate::trainer::{Batching, Evaluator, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone};
use protolearn_layers::lvq::loss::check_labels;
use protolearn_layers::lvq::reject::{reject_cost, RejectCosts};
use protolearn_layers::lvq::{LvqConfig, LvqHead, LvqLoss, Transfer};
use protolearn_layers::missing::{fill_missing, observed_means, Components};
use protolearn_layers::precision::Precision;
use protolearn_layers::som::Schedule;
use protolearn_layers::UpdateRule;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// Name of the learned reject threshold `θ`, a scalar variable under the head's path
/// (`head.reject_threshold` in a model file).
pub const REJECT_THRESHOLD: &str = "reject_threshold";

/// A head's loss on a batch (plus `eigenvalue_weight` times GMLVQ's eigenvalue regulariser when
/// the head has an `Omega`, plus the expected reject cost with a learned threshold); logs `loss`
/// and the batch `accuracy` (and `reject_cost`, `theta`).
#[derive(Debug)]
pub struct LvqObjective<'a> {
    /// The feature extractor (`None`: the head sees the inputs).
    pub backbone: Option<&'a dyn Backbone>,
    /// The head.
    pub head: &'a LvqHead,
    /// Weight of `-ln det(Omega Omega^T)` (0: none).
    pub eigenvalue_weight: f64,
    /// GLVQ's sigmoid steepness `β(i)` over the steps (`None`: the transfer's own `β`).
    pub beta: Option<Schedule>,
    /// The reject threshold `θ` (a scalar variable) and the costs it is trained with.
    pub reject: Option<(&'a Tensor, RejectCosts)>,
    /// The number format of the backbone's products.
    pub precision: Precision,
}

impl Objective for LvqObjective<'_> {
    /// A mean over the batch's samples (plus batch-independent terms): data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let y = batch_labels(batch)?;
        let z = self.precision.run(|| features(self.backbone, &batch.x))?;
        let d = self.head.distances(&z)?; // once, for the loss and the batch accuracy
        let kind = match self.beta {
            Some(beta) => LvqLoss::Glvq { transfer: Transfer::Sigmoid { beta: beta.at(at.step, at.steps) } },
            None => self.head.loss_kind(),
        };
        let mut loss = self.head.loss_with(&d, y, kind);
        if self.eigenvalue_weight > 0.0 {
            if let Some(penalty) = self.head.dissimilarity.eigenvalue_penalty() {
                loss = &loss + penalty * self.eigenvalue_weight;
            }
        }
        let accuracy = self.head.predict_of(&d).eq_tensor(y).to_kind(Kind::Float).mean(Kind::Float);
        let mut logged = vec![("accuracy", accuracy)];
        if let Some((theta, costs)) = &self.reject {
            let cost = reject_cost(&d, y, self.head.labels(), theta, costs);
            loss = &loss + &cost;
            logged.extend([("reject_cost", cost.detach()), ("theta", theta.detach().shallow_clone())]);
        }
        logged.insert(0, ("loss", loss.detach()));
        Ok(LossTerms { minimise: loss, logged })
    }
}

/// Where the prototypes of a head start.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HeadInit {
    /// At `per_class` random training samples of each class, mapped through the initial
    /// backbone (only those rows are encoded).
    #[default]
    Stratified,
    /// At the `per_class` k-means centroids of each class's features under the initial backbone
    /// (the whole training set is encoded once).
    ClassKMeans {
        /// k-means restarts per class.
        n_init: usize,
        /// Lloyd iterations at most.
        max_iter: usize,
    },
}

/// How a head (and its backbone) is trained by gradient descent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LvqTrainConfig {
    /// Optimizer of backbone and head.
    pub optimizer: OptimizerConfig,
    /// Batch size (shuffled epochs).
    pub batch_size: usize,
    /// Epochs (one record each).
    pub epochs: usize,
    /// Weight of GMLVQ's eigenvalue regulariser (0: none).
    pub eigenvalue_weight: f64,
    /// Seed of the backbone, the prototype draw and the batch order.
    pub seed: u64,
    /// Where the prototypes start (default: class-stratified samples).
    #[serde(default)]
    pub init: HeadInit,
    /// A schedule of GLVQ's sigmoid steepness `β` over the steps (a GLVQ head only; e.g.
    /// exponential from 1 up to 10, sharpening `sigmoid(β μ)` towards the error count).
    #[serde(default)]
    pub beta: Option<Schedule>,
    /// Train a reject threshold `θ` on the relative similarity together with the network,
    /// adding the expected cost of [`reject_cost`] to the loss (paper 003, Sec. 7.4).
    #[serde(default)]
    pub reject: Option<RejectCosts>,
    /// Which input components the head compares (default all): with
    /// [`Components::Observed`], `NaN` components are missing and left out of every distance,
    /// and the prototypes start with the column means in the missing cells of their starting
    /// rows. Needs a head on the inputs (no backbone) and a component-wise dissimilarity.
    #[serde(default)]
    pub components: Components,
    /// Number format of the backbone's dense and 3x3-convolution products (default float32;
    /// `bf16`: bfloat16 products, float32 weights, head, distances and loss). See
    /// [`protolearn_layers::precision`]; a head without backbone is unaffected.
    #[serde(default)]
    pub precision: Precision,
}

impl LvqTrainConfig {
    /// Plain gradient training: no eigenvalue regulariser, class-stratified prototypes, the
    /// transfer's own `β`, no reject threshold (set those fields with struct update syntax).
    pub fn new(optimizer: OptimizerConfig, batch_size: usize, epochs: usize, seed: u64) -> Self {
        LvqTrainConfig {
            optimizer,
            batch_size,
            epochs,
            eigenvalue_weight: 0.0,
            seed,
            init: HeadInit::Stratified,
            beta: None,
            reject: None,
            components: Components::All,
            precision: Precision::Fp32,
        }
    }

    /// Checks the schedule, the costs, and that a `β` schedule goes with a GLVQ head.
    pub fn validate(&self, head: &LvqConfig) -> Result<()> {
        if let Some(beta) = self.beta {
            if !matches!(head.loss, LvqLoss::Glvq { .. }) {
                return Err(Error::InvalidConfig {
                    field: "beta".into(),
                    expected: "a GLVQ head (the schedule is the sigmoid's steepness)".into(),
                    found: format!("{:?}", head.loss),
                });
            }
            if ![beta.start, beta.end].iter().all(|v| v.is_finite() && *v > 0.0) {
                return Err(Error::InvalidConfig {
                    field: "beta".into(),
                    expected: "finite start and end > 0".into(),
                    found: format!("start = {}, end = {}", beta.start, beta.end),
                });
            }
        }
        if let Some(costs) = &self.reject {
            costs.validate()?;
        }
        if let HeadInit::ClassKMeans { n_init: 0, .. } | HeadInit::ClassKMeans { max_iter: 0, .. } = self.init {
            return Err(Error::InvalidConfig {
                field: "init".into(),
                expected: "n_init and max_iter >= 1".into(),
                found: format!("{:?}", self.init),
            });
        }
        Ok(())
    }
}

/// A trained head with its backbone and history.
#[derive(Debug)]
pub struct LvqRun {
    /// The variables (`backbone.*`, `head.*`).
    pub vs: nn::VarStore,
    /// The backbone, if any.
    pub backbone: Option<Box<dyn Backbone>>,
    /// The head.
    pub head: LvqHead,
    /// One record per epoch: `loss`, `accuracy` (training batches), `test_accuracy` with `eval`
    /// (and `reject_cost`, `theta` when a reject threshold is trained).
    pub history: Vec<LogRecord>,
    /// The learned reject threshold `θ` on the relative similarity (with `reject` costs).
    pub reject_threshold: Option<f64>,
}

/// A freshly built backbone and head, and the seed of the batch order.
struct Built {
    vs: nn::VarStore,
    backbone: Option<Box<dyn Backbone>>,
    head: LvqHead,
    batch_seed: u64,
}

/// The feature rows (and their classes) a head is built from under `init`: the stratified rows
/// themselves, or the per-class k-means centroids of the encoded training set.
fn starting_rows(
    train: &Dataset,
    y: &Tensor,
    backbone: Option<&dyn Backbone>,
    head: &LvqConfig,
    init: HeadInit,
    seed: u64,
) -> Result<(Tensor, Tensor)> {
    let encode = |x: &Tensor| -> Result<Tensor> {
        match backbone {
            Some(b) => Ok(encode_chunked(b, x)?),
            None => Ok(x.flatten(1, -1)),
        }
    };
    match init {
        HeadInit::Stratified => {
            // Only the rows the prototypes start at go through the backbone; built from exactly
            // those, the head draws them all (per_class of each class), in order.
            let index = Tensor::from_slice(&head.stratified_rows(y, seed)?).to_device(train.device());
            Ok((encode(&train.x.index_select(0, &index))?, y.index_select(0, &index)))
        }
        HeadInit::ClassKMeans { n_init, max_iter } => {
            let z = encode(&train.x)?;
            let kmeans = FeatureKMeans { n_init, max_iter, tol: 1e-4 };
            let mut centroids = Vec::new();
            for c in 0..head.classes {
                let members = y.eq(c).nonzero().squeeze_dim(1);
                let found = members.size()[0];
                if found < head.per_class {
                    return Err(Error::InvalidConfig {
                        field: "per_class".into(),
                        expected: format!("at most the {found} samples of class {c}"),
                        found: head.per_class.to_string(),
                    });
                }
                centroids.push(kmeans.fit_codes(&z.index_select(0, &members), head.per_class as usize, seed ^ c as u64)?.centroids);
            }
            let labels = Tensor::arange(head.classes, (Kind::Int64, train.device())).repeat_interleave_self_int(head.per_class, 0, None);
            Ok((Tensor::cat(&centroids, 0), labels))
        }
    }
}

/// Builds a backbone (if any) and a head whose prototypes start as `init` says.
fn build(
    train: &Dataset,
    backbone: Option<&AutoencoderConfig>,
    head: &LvqConfig,
    init: HeadInit,
    components: Components,
    seed: u64,
) -> Result<Built> {
    let y = train.y.as_ref().ok_or_else(|| Error::InvalidConfig {
        field: "train".into(),
        expected: "a labelled dataset".into(),
        found: "none".into(),
    })?;
    check_labels(y, head.classes)?;
    head.validate()?;
    let [model_seed, head_seed, batch_seed] = crate::seeds::derived_seeds(seed);
    let vs = nn::VarStore::new(train.device());
    let backbone = backbone.map(|c| c.build(&(vs.root() / "backbone"), model_seed)).transpose()?;
    let (z, labels) = starting_rows(train, y, backbone.as_deref(), head, init, head_seed)?;
    let z = match components {
        Components::All => z,
        Components::Observed => fill_missing(&z, &observed_means(&train.x)),
    };
    let head = head.build(&(vs.root() / "head"), &z, &labels, head_seed)?.with_components(components)?;
    Ok(Built { vs, backbone, head, batch_seed })
}

/// Runs `objective` on shuffled epochs of `config`, recording the accuracy of `head` on `eval`.
#[allow(clippy::too_many_arguments)]
fn train_head<O: Objective>(
    train: &Dataset,
    eval: Option<&Dataset>,
    vs: &nn::VarStore,
    backbone: Option<&dyn Backbone>,
    objective: &mut O,
    head: &dyn Classifier,
    config: &LvqTrainConfig,
    batch_seed: u64,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<Vec<LogRecord>> {
    let mut optimizer = config.optimizer.build(vs)?;
    let spe = steps_per_epoch(train, config.batch_size);
    let mut trainer = checkpointing.trainer(train, Batching::Shuffled { batch_size: config.batch_size }, batch_seed)?;
    let mut evaluator = eval.map(|e| AccuracyEvaluator::new(backbone, head, e, TEST_ACCURACY));
    let mut evaluators: Vec<&mut dyn Evaluator> = evaluator.iter_mut().map(|e| e as &mut dyn Evaluator).collect();
    trainer.minimise(
        &checkpointing.phase(PhaseConfig::new("classifier", config.epochs * spe, spe)),
        objective,
        optimizer.as_mut(),
        vs,
        &mut evaluators,
        observer,
    )
}

/// Trains `head` (on `backbone`'s features when given, end to end) by gradient descent on its
/// loss; every epoch records the training loss and accuracy, and the accuracy on `eval`.
pub fn fit_lvq(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone: Option<&AutoencoderConfig>,
    head: &LvqConfig,
    config: &LvqTrainConfig,
    observer: &mut dyn Observer,
) -> Result<LvqRun> {
    fit_lvq_checkpointed(train, eval, backbone, head, config, &Checkpointing::default(), observer)
}

/// [`fit_lvq`] writing its state into `checkpointing`'s folder every epoch and, when resuming,
/// continuing from it (bit for bit on CPU).
pub fn fit_lvq_checkpointed(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone: Option<&AutoencoderConfig>,
    head: &LvqConfig,
    config: &LvqTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<LvqRun> {
    config.validate(head)?;
    if config.components == Components::Observed && backbone.is_some() {
        return Err(Error::InvalidConfig {
            field: "components".into(),
            expected: "all, for a head on a backbone's codes (missing inputs are masked on the inputs only)".into(),
            found: "observed".into(),
        });
    }
    let Built { vs, backbone, head, batch_seed } = build(train, backbone, head, config.init, config.components, config.seed)?;
    let threshold = config.reject.map(|_| (vs.root() / "head").zeros(REJECT_THRESHOLD, &[]));
    let mut objective = LvqObjective {
        backbone: backbone.as_deref(),
        head: &head,
        eigenvalue_weight: config.eigenvalue_weight,
        beta: config.beta,
        reject: threshold.as_ref().zip(config.reject),
        precision: config.precision,
    };
    let history = train_head(train, eval, &vs, backbone.as_deref(), &mut objective, &head, config, batch_seed, checkpointing, observer)?;
    let reject_threshold = threshold.map(|t| t.double_value(&[]));
    Ok(LvqRun { vs, backbone, head, history, reject_threshold })
}

/// A trained softmax baseline with its backbone and history.
#[derive(Debug)]
pub struct SoftmaxRun {
    /// The variables (`backbone.*`, `head.*`).
    pub vs: nn::VarStore,
    /// The backbone, if any.
    pub backbone: Option<Box<dyn Backbone>>,
    /// The linear head.
    pub head: LinearHead,
    /// One record per epoch, as [`fit_lvq`]'s.
    pub history: Vec<LogRecord>,
}

/// Trains the softmax linear head (the baseline of paper 003) with the same backbone, seeds and
/// batches as [`fit_lvq`].
pub fn fit_softmax(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone: Option<&AutoencoderConfig>,
    classes: i64,
    config: &LvqTrainConfig,
    observer: &mut dyn Observer,
) -> Result<SoftmaxRun> {
    fit_softmax_checkpointed(train, eval, backbone, classes, config, &Checkpointing::default(), observer)
}

/// [`fit_softmax`] writing its state into `checkpointing`'s folder at every log point and, when
/// resuming, continuing from it (bit for bit on CPU, as [`fit_lvq_checkpointed`]).
pub fn fit_softmax_checkpointed(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone: Option<&AutoencoderConfig>,
    classes: i64,
    config: &LvqTrainConfig,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<SoftmaxRun> {
    let y = train.y.as_ref().ok_or_else(|| Error::InvalidConfig {
        field: "train".into(),
        expected: "a labelled dataset".into(),
        found: "none".into(),
    })?;
    check_labels(y, classes)?;
    let [model_seed, head_seed, batch_seed] = crate::seeds::derived_seeds(config.seed);
    let vs = nn::VarStore::new(train.device());
    let backbone = backbone.map(|c| c.build(&(vs.root() / "backbone"), model_seed)).transpose()?;
    let d = match &backbone {
        Some(b) => b.latent_dim(),
        None => train.x.flatten(1, -1).size()[1],
    };
    let head = LinearHead::new(&(vs.root() / "head"), d, classes, &mut ChaCha8Rng::seed_from_u64(head_seed));
    let mut objective = SoftmaxObjective { backbone: backbone.as_deref(), head: &head, precision: config.precision };
    let history = train_head(train, eval, &vs, backbone.as_deref(), &mut objective, &head, config, batch_seed, checkpointing, observer)?;
    Ok(SoftmaxRun { vs, backbone, head, history })
}

/// Batches of an update-rule run: shuffled epochs of `batch_size` (1: Kohonen's online rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSchedule {
    /// Samples per update.
    pub batch_size: usize,
    /// Epochs (one record each).
    pub epochs: usize,
    /// Seed of the prototype draw and the batch order.
    pub seed: u64,
}

/// Trains a Euclidean `head` on the inputs with an update rule (LVQ1, LVQ2.1) on the batches of
/// `schedule`; every epoch records the accuracy on `eval`.
pub fn fit_lvq_rule<R: UpdateRule<LvqHead>>(
    train: &Dataset,
    eval: Option<&Dataset>,
    head: &LvqConfig,
    rule: &R,
    schedule: &RuleSchedule,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<LvqRun> {
    let RuleSchedule { batch_size, epochs, seed } = *schedule;
    let Built { vs, head, batch_seed, .. } = build(train, None, head, HeadInit::Stratified, Components::All, seed)?;
    let spe = steps_per_epoch(train, batch_size);
    let mut trainer = checkpointing.trainer(train, Batching::Shuffled { batch_size }, batch_seed)?;
    let mut evaluator = eval.map(|e| AccuracyEvaluator::new(None, &head as &dyn Classifier, e, TEST_ACCURACY));
    let mut evaluators: Vec<&mut dyn Evaluator> = evaluator.iter_mut().map(|e| e as &mut dyn Evaluator).collect();
    let phase = checkpointing.phase(PhaseConfig::new("lvq-rule", epochs * spe, spe));
    let history = trainer.apply_rule(&phase, &head, rule, &vs, &mut evaluators, observer)?;
    drop(evaluators);
    Ok(LvqRun { vs, backbone: None, head, history, reject_threshold: None })
}
