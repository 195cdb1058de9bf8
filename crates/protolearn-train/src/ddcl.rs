//! Training DDCL (paper 001) on the one [`Trainer`]: shuffled epochs of fixed-size batches,
//! `L = L_cluster + λ_R L_R` with the soft quantization loss as `L_cluster` ([`DdclObjective`]),
//! the decomposition `L_q = L_OLS + V` and its float64 identity check at every step, and the
//! ablations of the paper and of the issue ([`DdclVariant`]). [`fit_frozen`] trains the reduced
//! frozen-encoder system (fixed features, only the DCL), whose loss is a Lyapunov function.
//!
//! ```
//! use protolearn_data::tensor::Dataset;
//! use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
//! use protolearn_layers::ddcl::{DclInput, DdclConfig};
//! use protolearn_layers::som::Schedule;
//! use protolearn_train::clustering::FeatureKMeans;
//! use protolearn_train::ddcl::{fit_ddcl, DclStart, DdclTrainConfig, DdclVariant};
//! use protolearn_train::observer::Silent;
//! use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
//! use tch::{Device, Kind, Tensor};
//!
//! let x = Tensor::rand([64, 5], (Kind::Float, Device::Cpu));
//! let train = Dataset::new(x, None).unwrap();
//! let model = DdclConfig {
//!     backbone: AutoencoderConfig::Dense(DenseConfig { input_dim: 5, hidden: vec![8], latent_dim: 2 }),
//!     n_prototypes: 3, hidden: vec![], bias: false, dcl_input: DclInput::Reference, dcl_size: 16,
//!     feature_norm: Default::default(),
//! };
//! let config = DdclTrainConfig {
//!     optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 },
//!     dcl_lr: Some(1e-5),
//!     batch_size: 16,
//!     epochs: 2,
//!     log_every: None,
//!     tau: Schedule { start: 1.0, end: 1.0, decay: Default::default() },
//!     reconstruction_weight: 1.0,
//!     running_momentum: 0.99,
//!     variant: DdclVariant::Ddcl,
//!     dcl_init: DclStart::KMeans,
//!     scale_invariant: true,
//!     separation_weight: 0.0,
//!     kmeans: FeatureKMeans { n_init: 1, max_iter: 100, tol: 1e-4 },
//!     seed: 0,
//!     precision: Default::default(),
//! };
//! let run = fit_ddcl(&train, None, &model, &config, None, &mut Silent).unwrap();
//! assert_eq!(run.history.len(), 2, "one record per epoch");
//! assert_eq!(run.history[1].identity_violations, 0);
//! ```

use crate::clustering::{FeatureKMeans, LabelledSet};
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::{Optimize, OptimizerConfig};
use crate::run::Checkpointing;
use crate::seeds::StreamPosition;
use crate::trainer::{steps_per_epoch, Batching, Column, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo, Trainer};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::ddcl::{
    assignment_entropy, identity_relative_error, prototype_separation, total_variance, DclInput, Ddcl, DdclConfig, SoftQuantization,
    DCL_GROUP, IDENTITY_TOLERANCE,
};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::precision::Precision;
use protolearn_layers::som::Schedule;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// What is minimised and where the prototypes come from: DDCL and its ablations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DdclVariant {
    /// DDCL: prototypes are DCL outputs, `L_cluster = L_q`, gradient into backbone and DCL.
    Ddcl,
    /// `L_cluster = L_OLS`: the decomposition's first term alone, i.e. `V` removed from the
    /// gradient (`L_OLS + sg(V)` has the same gradient, so it is the same run; the value of `V` is
    /// still logged).
    OlsOnly,
    /// The paper's non-differentiable ablation, DCL form: the DCL trains on `L_q`, but its input
    /// features are detached, so no gradient reaches the backbone through the prototypes.
    DetachedDcl,
    /// The paper's non-differentiable ablation, k-means form: prototypes are k-means centroids of
    /// the encoded training set, refreshed at the start of every epoch and held constant.
    KMeans,
}

impl DdclVariant {
    /// Every variant.
    pub const ALL: [DdclVariant; 4] = [DdclVariant::Ddcl, DdclVariant::OlsOnly, DdclVariant::DetachedDcl, DdclVariant::KMeans];

    /// Whether the prototypes are outputs of the DCL.
    pub fn uses_dcl(self) -> bool {
        self != DdclVariant::KMeans
    }
}

/// How the DCL's weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DclStart {
    /// Glorot-uniform weights (paper 000's default): random combinations of the input features.
    Glorot,
    /// A linear DCL whose initial prototypes (for the encoded reference samples) are the k-means
    /// centroids of the encoded training set (`W = pinv(Z_ref^T) C^T`), so DDCL and its k-means
    /// ablation start from the same prototypes.
    KMeans,
}

/// How DDCL is trained. No `Default`: paper 001 publishes no settings; the benchmark's spec
/// (benches/specs/paper001_ddcl.toml) states the ones used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdclTrainConfig {
    /// Optimizer of backbone and DCL.
    pub optimizer: OptimizerConfig,
    /// Learning rate of the DCL's weights (`None`: the optimizer's). A DCL prototype is a sum of
    /// `N` weighted features, so an Adam step of the same size on every weight moves it about `N`
    /// times farther than a backbone weight moves a feature.
    pub dcl_lr: Option<f64>,
    /// Batch size (shuffled epochs, the last smaller batch dropped); with [`DclInput::Batch`] it
    /// must equal the model's `dcl_size`. A batch of every sample is full-batch training: every
    /// step sees the whole set in its order (one step per epoch, paper 000's DCL).
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Record the means of the loss terms every this many steps (`None`: once per epoch); the
    /// evaluation set is scored at the end of every epoch only.
    #[serde(default)]
    pub log_every: Option<usize>,
    /// Temperature `tau(i)` of the soft assignment, `i` = the step (constant: `start = end`).
    pub tau: Schedule,
    /// Weight `λ_R` of the reconstruction term `L_R` (0: no decoder term).
    pub reconstruction_weight: f64,
    /// Momentum `m` of the running average of the training prototypes (`DclInput::Batch`).
    pub running_momentum: f64,
    /// DDCL or an ablation.
    pub variant: DdclVariant,
    /// Divide `L_cluster` by the batch's total feature variance `(1/B) sum_i ||z_i - z̄||^2`
    /// (with gradient), which makes it invariant to the scale of the features: without it a
    /// backbone lowers `L_q` by shrinking its features (feature collapse).
    pub scale_invariant: bool,
    /// Weight `λ_S` of an explicit separation term added to `L_cluster` (paper 001's
    /// "temperature and separation" block; 0: none):
    /// `L_S = (2 / (k (k - 1))) sum_{j<l} exp(-||p_j - p_l||^2 / tau)`, a Gaussian repulsion
    /// at the soft assignment's own scale, bounded in `[0, 1]`.
    #[serde(default)]
    pub separation_weight: f64,
    /// How the DCL starts (after the backbone is loaded from a pretraining, if any).
    pub dcl_init: DclStart,
    /// The k-means of [`DdclVariant::KMeans`] and of the evaluation of that variant.
    pub kmeans: FeatureKMeans,
    /// Seed of the model, the batch order and the k-means seeds.
    pub seed: u64,
    /// Number format of the backbone's dense and 3x3-convolution products during training
    /// (default float32; `bf16`: bfloat16 products, float32 weights, features, prototypes,
    /// losses and optimiser state; pretraining, k-means refreshes and scoring stay float32).
    /// See [`protolearn_layers::precision`].
    #[serde(default)]
    pub precision: Precision,
}

impl DdclTrainConfig {
    /// Checks counts, weights and the temperature schedule against the model.
    pub fn validate(&self, model: &DdclConfig) -> Result<()> {
        let invalid = |field: &str, expected: &str, found: String| {
            Err(Error::InvalidConfig { field: field.into(), expected: expected.into(), found })
        };
        if self.batch_size == 0 || self.epochs == 0 || self.log_every == Some(0) {
            return invalid(
                "batch_size / epochs / log_every",
                "at least 1",
                format!("{} / {} / {:?}", self.batch_size, self.epochs, self.log_every),
            );
        }
        if model.dcl_input == DclInput::Batch && self.batch_size as i64 != model.dcl_size {
            return invalid("batch_size", &format!("the DCL's batch size dcl_size = {}", model.dcl_size), self.batch_size.to_string());
        }
        if (self.batch_size as i64) < model.n_prototypes {
            return invalid("batch_size", &format!("at least n_prototypes = {}", model.n_prototypes), self.batch_size.to_string());
        }
        for (field, weight) in [("reconstruction_weight", self.reconstruction_weight), ("separation_weight", self.separation_weight)] {
            if !(weight.is_finite() && weight >= 0.0) {
                return invalid(field, "finite and >= 0", weight.to_string());
            }
        }
        if !(0.0..1.0).contains(&self.running_momentum) {
            return invalid("running_momentum", "in [0, 1)", self.running_momentum.to_string());
        }
        Ok(self.tau.validate("tau")?)
    }
}

/// One logging interval of DDCL (an epoch by default): the means of the terms over its batches,
/// the identity check of its steps, the prototype geometry, and, at the end of an epoch, the
/// scores on the evaluation set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DdclRecord {
    /// The 1-based step after which it was recorded.
    pub step: usize,
    /// Epochs done (`step / steps per epoch`).
    pub epoch: f64,
    /// Temperature at the epoch's last step.
    pub tau: f64,
    /// Mean minimised loss `L_cluster + λ_R L_R`.
    pub loss: f64,
    /// Mean `L_q`.
    pub quantization: f64,
    /// Mean `L_OLS`.
    pub ols: f64,
    /// Mean `V`.
    pub variance: f64,
    /// Mean `L_R` (`None` when `λ_R = 0`).
    pub reconstruction: Option<f64>,
    /// Steps of the epoch whose float64 identity error exceeded [`IDENTITY_TOLERANCE`].
    pub identity_violations: u64,
    /// Steps checked.
    pub identity_checked: u64,
    /// The largest relative identity error of the epoch.
    pub identity_max_error: f64,
    /// Mean over steps of the mean pairwise prototype distance.
    pub separation: f64,
    /// Mean over steps of the minimum pairwise prototype distance.
    pub min_separation: f64,
    /// Mean over steps of the assignment concentration `(1/B) sum_i max_k q_ik` of the batch.
    pub concentration: f64,
    /// Mean over steps of the batch's soft-assignment entropy (nats).
    pub train_entropy: f64,
    /// Mean over steps of the separation force `||dV/dP||` (Frobenius; the full gradient of `V`,
    /// through `q` too); `None` when the prototypes carry no gradient (k-means ablation).
    pub force: Option<f64>,
    /// Mean over steps of `||(2/B) sum_i P Σ_{q_i}||` with `Σ_q = diag(q) - q q^T`: the
    /// gradient of `V` with `q` held fixed (the form a summary of paper 001 gives).
    pub force_fixed_q: f64,
    /// Mean over steps of the total variance of the backbone's raw features (before
    /// [`protolearn_layers::ddcl::FeatureNorm`]): near 0 when they collapse to one point.
    pub feature_variance: f64,
    /// Mean over steps of the prototypes that win (largest `q`) at least one sample of the batch.
    pub live: f64,
    /// Clustering accuracy on the evaluation set (inference prototypes: the reference batch).
    pub acc: Option<f64>,
    /// NMI on the evaluation set.
    pub nmi: Option<f64>,
    /// ARI on the evaluation set.
    pub ari: Option<f64>,
    /// Prototypes that are nearest to at least one evaluation sample.
    pub winners: Option<f64>,
    /// Mean soft-assignment entropy on the evaluation set (nats).
    pub entropy: Option<f64>,
    /// Accuracy with the running-average prototypes ([`DclInput::Batch`] only).
    pub running_acc: Option<f64>,
    /// NMI with the running-average prototypes.
    pub running_nmi: Option<f64>,
    /// ARI with the running-average prototypes.
    pub running_ari: Option<f64>,
    /// Wall-clock seconds of the epoch and its evaluation.
    pub seconds: f64,
}

impl DdclRecord {
    /// The typed view of a [`DdclObjective`] record (epoch = step / steps per epoch).
    pub fn from_log(record: &LogRecord, steps_per_epoch: usize) -> Result<Self> {
        let one = |name: &str| record.require(name).map(|v| v.first().copied().unwrap_or(f64::NAN));
        Ok(DdclRecord {
            step: record.step,
            epoch: record.step as f64 / steps_per_epoch as f64,
            tau: one("tau")?,
            loss: one("loss")?,
            quantization: one("quantization")?,
            ols: one("ols")?,
            variance: one("variance")?,
            reconstruction: record.scalar("reconstruction"),
            identity_violations: one("identity_violations")? as u64,
            identity_checked: one("identity_checked")? as u64,
            identity_max_error: one("identity_max_error")?,
            separation: one("separation")?,
            min_separation: one("min_separation")?,
            concentration: one("concentration")?,
            train_entropy: one("train_entropy")?,
            force: record.scalar("force"),
            force_fixed_q: one("force_fixed_q")?,
            feature_variance: one("feature_variance")?,
            live: one("live")?,
            acc: record.scalar("acc"),
            nmi: record.scalar("nmi"),
            ari: record.scalar("ari"),
            winners: record.scalar("winners"),
            entropy: record.scalar("entropy"),
            running_acc: record.scalar("running_acc"),
            running_nmi: record.scalar("running_nmi"),
            running_ari: record.scalar("running_ari"),
            seconds: record.seconds,
        })
    }
}

/// DDCL's objective for one variant: prototypes, soft quantization terms, the float64 identity
/// check (accumulated on the device, read once per epoch) and the evaluation.
#[derive(Debug)]
pub struct DdclObjective<'a> {
    model: &'a Ddcl,
    config: &'a DdclTrainConfig,
    train: &'a Dataset,
    eval: Option<LabelledSet<'a>>,
    centroids: Option<Tensor>,
    kmeans_seeds: ChaCha8Rng,
    /// The position of `kmeans_seeds` at the last log point (`ddcl_state.kmeans_word_pos`).
    seeds_position: StreamPosition,
    violations: Tensor,
    worst: Tensor,
    checked: u64,
}

impl<'a> DdclObjective<'a> {
    /// The objective of `model` trained on `train` (k-means refreshes encode it), scored on `eval`;
    /// the position of its k-means seed stream is a variable under `state`.
    pub fn new(
        model: &'a Ddcl,
        config: &'a DdclTrainConfig,
        train: &'a Dataset,
        eval: Option<&'a Dataset>,
        kmeans_seed: u64,
        state: &nn::Path,
    ) -> Result<Self> {
        let zero = || Tensor::zeros([], (Kind::Double, train.device()));
        Ok(DdclObjective {
            model,
            config,
            train,
            eval: eval.map(LabelledSet::new).transpose()?.flatten(),
            centroids: None,
            kmeans_seeds: ChaCha8Rng::seed_from_u64(kmeans_seed),
            seeds_position: StreamPosition::new(state, "kmeans_word_pos"),
            violations: zero(),
            worst: zero(),
            checked: 0,
        })
    }

    fn kmeans(&mut self) -> Result<Tensor> {
        let k = self.model.n_prototypes() as usize;
        let z = self.model.features_of_set(&self.train.x)?;
        Ok(self.config.kmeans.fit_codes(&z, k, self.kmeans_seeds.next_u64())?.centroids)
    }

    /// The prototypes of a step with features `z` (the k-means ablation's are the epoch's).
    fn prototypes(&mut self, z: &Tensor, at: &StepInfo) -> Result<Tensor> {
        let model = self.model;
        Ok(match self.config.variant {
            DdclVariant::KMeans => self.centroids.as_ref().map(Tensor::shallow_clone).ok_or_else(|| Error::InvalidConfig {
                field: "ddcl k-means variant".into(),
                expected: "centroids from the epoch's start".into(),
                found: format!("none at step {} of phase `{}`", at.step, at.phase),
            })?,
            DdclVariant::DetachedDcl => model.prototypes_from(&model.dcl_features(z)?.detach())?,
            _ => model.prototypes_from(&model.dcl_features(z)?)?,
        })
    }
}

impl Objective for DdclObjective<'_> {
    /// The k-means ablation's centroids of the epoch.
    fn epoch_start(&mut self, _at: &StepInfo) -> Result<()> {
        self.seeds_position.restore(&mut self.kmeans_seeds);
        if self.config.variant == DdclVariant::KMeans {
            self.centroids = Some(self.kmeans()?);
        }
        Ok(())
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        self.seeds_position.restore(&mut self.kmeans_seeds);
        let tau = self.config.tau.at(at.step, at.steps);
        let precision = self.config.precision;
        let raw = precision.run(|| self.model.backbone.encode(&batch.x))?;
        let z = self.model.feature_norm().apply(&raw);
        let p = self.prototypes(&z, at)?;
        if self.config.variant.uses_dcl() && self.model.dcl_input() == DclInput::Batch {
            self.model.update_running(&p, self.config.running_momentum, at.step == 1)?;
        }
        let terms = SoftQuantization::new(&z, &p, tau)?;
        let mut minimise = match self.config.variant {
            DdclVariant::Ddcl | DdclVariant::DetachedDcl | DdclVariant::KMeans => terms.loss.shallow_clone(),
            DdclVariant::OlsOnly => terms.reconstruction.shallow_clone(),
        };
        if self.config.scale_invariant {
            minimise = &minimise / total_variance(&z).clamp_min(f64::from(f32::EPSILON));
        }
        let mut logged = Vec::new();
        if self.config.separation_weight > 0.0 {
            let repulsion = repulsion(&p, tau);
            minimise = &minimise + &repulsion * self.config.separation_weight;
            logged.push(("repulsion", repulsion));
        }
        if p.requires_grad() {
            let grad = Tensor::f_run_backward(&[&terms.variance], &[&p], true, false)?.pop().expect("one input, one gradient");
            logged.push(("force", grad.norm()));
        }
        logged.extend(feedback(&raw, &p, &terms.assignment));
        if self.config.reconstruction_weight > 0.0 {
            let reconstruction = precision.run(|| self.model.backbone.reconstruction_loss(&z, &batch.x))?;
            // Not `+=`: `minimise` shares its storage with a logged term.
            minimise = &minimise + &reconstruction * self.config.reconstruction_weight;
            logged.push(("reconstruction", reconstruction));
        }
        let error = identity_relative_error(&z, &p, tau)?;
        self.violations += error.gt(IDENTITY_TOLERANCE).to_kind(Kind::Double);
        self.worst = self.worst.maximum(&error);
        self.checked += 1;
        let (separation, min_separation) = prototype_separation(&p.detach());
        logged.extend([
            ("loss", minimise.shallow_clone()),
            ("quantization", terms.loss),
            ("ols", terms.reconstruction),
            ("variance", terms.variance),
            ("separation", separation),
            ("min_separation", min_separation),
        ]);
        Ok(LossTerms { minimise, logged })
    }

    /// The columns of a log point, then the seed stream's position for the checkpoint written
    /// after them.
    fn metrics(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        let columns = self.log_columns(at)?;
        self.seeds_position.keep(&self.kmeans_seeds)?;
        Ok(columns)
    }
}

impl DdclObjective<'_> {
    /// The identity check's counters (reset), the temperature and, at epoch ends, the scores on
    /// the evaluation set.
    fn log_columns(&mut self, at: &StepInfo) -> Result<Vec<Column>> {
        let tau = self.config.tau.at(at.step, at.steps);
        let mut columns = vec![
            Column::scalar("tau", tau),
            Column::scalar("identity_violations", self.violations.f_double_value(&[])?),
            Column::scalar("identity_checked", self.checked as f64),
            Column::scalar("identity_max_error", self.worst.f_double_value(&[])?),
        ];
        let _ = self.violations.zero_();
        let _ = self.worst.zero_();
        self.checked = 0;
        if self.eval.is_none() || !at.epoch_end() {
            return Ok(columns);
        }
        let main = match self.config.variant {
            DdclVariant::KMeans => self.kmeans()?,
            _ => self.model.reference_prototypes()?,
        };
        let mut sources = vec![("", main)];
        if self.config.variant.uses_dcl() && self.model.dcl_input() == DclInput::Batch {
            sources.push(("running_", self.model.running_prototypes().shallow_clone()));
        }
        let eval = self.eval.as_ref().expect("checked above");
        let z = self.model.features_of_set(eval.x)?;
        for (prefix, p) in sources {
            columns.extend(eval.score(&z, &p, Some(tau), prefix)?);
        }
        Ok(columns)
    }
}

/// The Gaussian repulsion `L_S = mean_{j<l} exp(-||p_j - p_l||^2 / tau)` of prototypes
/// `[k, L]` (`[]`, with gradient; 0 for one prototype).
pub fn repulsion(p: &Tensor, tau: f64) -> Tensor {
    let k = p.size()[0];
    if k < 2 {
        return Tensor::zeros([], (p.kind(), p.device()));
    }
    let kernel = (squared_euclidean(p, p) / -tau).exp();
    let upper = Tensor::ones([k, k], (Kind::Bool, p.device())).triu(1);
    kernel.masked_fill(&upper.logical_not(), 0.0).sum(p.kind()) / (k * (k - 1) / 2) as f64
}

/// The quantities of paper 001's negative-feedback loop for one batch, without gradient:
/// assignment concentration and entropy, the fixed-`q` gradient norm of `V`, the raw features'
/// total variance and the number of winning prototypes.
fn feedback(raw: &Tensor, p: &Tensor, q: &Tensor) -> Vec<(&'static str, Tensor)> {
    let _guard = tch::no_grad_guard();
    let (q, p) = (q.detach(), p.detach());
    let (b, k) = (q.size()[0], q.size()[1]);
    let kind = q.kind();
    let mixture = q.matmul(&p); // ẑ [B, L]
                                // (1/B) sum_i d V_i / d p_k with q fixed = (2/B) (q_.k p_k - sum_i q_ik ẑ_i).
    let fixed = (q.sum_dim_intlist(0, false, kind).unsqueeze(1) * &p - q.tr().matmul(&mixture)) * (2.0 / b as f64);
    // index_add, not bincount: bincount sizes its output from the data (a device sync per step on a GPU).
    let nearest = q.argmax(-1, false);
    let wins = Tensor::zeros([k], (kind, q.device())).index_add(0, &nearest, &Tensor::ones([b], (kind, q.device())));
    let winners = wins.gt(0.0).sum(kind);
    vec![
        ("concentration", q.amax(-1, false).mean(kind)),
        ("train_entropy", assignment_entropy(&q)),
        ("force_fixed_q", fixed.norm()),
        ("feature_variance", total_variance(&raw.detach())),
        ("live", winners),
    ]
}

/// Shuffled batches of `batch_size`, or [`Batching::Full`] (the set in its order) when the batch
/// holds every sample.
pub fn batching(data: &Dataset, batch_size: usize) -> Batching {
    if batch_size >= data.n_samples() {
        Batching::Full
    } else {
        Batching::Shuffled { batch_size }
    }
}

/// A trained DDCL with one record per epoch.
#[derive(Debug)]
pub struct DdclRun {
    /// The variables (`ae.*`, `dcl.*`, `ddcl.running_prototypes`).
    pub vs: nn::VarStore,
    /// The model.
    pub model: Ddcl,
    /// One record per epoch.
    pub history: Vec<DdclRecord>,
}

/// Trains DDCL (or an ablation) on `train`, scored every epoch on the labelled `eval`; the
/// backbone starts from the `ae.*` variables of `pretrained` when given (a shared AE
/// pretraining, [`crate::desom::fit_autoencoder`]), else from its seeded initialisation.
pub fn fit_ddcl(
    train: &Dataset,
    eval: Option<&Dataset>,
    model_config: &DdclConfig,
    config: &DdclTrainConfig,
    pretrained: Option<&nn::VarStore>,
    observer: &mut dyn Observer,
) -> Result<DdclRun> {
    fit_ddcl_checkpointed(train, eval, model_config, config, pretrained, &Checkpointing::default(), observer)
}

/// [`fit_ddcl`] writing its state into `checkpointing`'s folder at every log point and, when
/// resuming, continuing from it, bit for bit on CPU: the variables (the running prototypes
/// included), the optimizer's moments, the batch stream and the position of the k-means seed
/// stream are in the checkpoint. A checkpointed run steps with [`TensorOptimizer`] (libtorch's
/// optimizer keeps no state a checkpoint holds; equal to it to float32 rounding only). The
/// k-means variant refreshes its centroids at epoch starts, so it checkpoints at epoch ends only
/// (`log_every` a multiple of the epoch's steps).
///
/// [`TensorOptimizer`]: crate::optim::TensorOptimizer
pub fn fit_ddcl_checkpointed(
    train: &Dataset,
    eval: Option<&Dataset>,
    model_config: &DdclConfig,
    config: &DdclTrainConfig,
    pretrained: Option<&nn::VarStore>,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<DdclRun> {
    config.validate(model_config)?;
    let [model_seed, batch_seed, kmeans_seed] = crate::seeds::derived_seeds(config.seed);
    let vs = nn::VarStore::new(train.device());
    let model = model_config.build(&vs.root(), &train.x, model_seed)?;
    if let Some(from) = pretrained {
        crate::checkpoint::copy_variables(from, &vs, "ae.")?;
    }
    let mut objective = DdclObjective::new(&model, config, train, eval, kmeans_seed, &(vs.root() / "ddcl_state"))?;
    if config.dcl_init == DclStart::KMeans && config.variant.uses_dcl() {
        model.match_prototypes(&objective.kmeans()?)?;
    }
    let groups: Vec<(usize, f64)> = config.dcl_lr.map(|lr| (DCL_GROUP, lr)).into_iter().collect();
    let mut optimizer: Box<dyn Optimize> = if checkpointing.enabled() {
        Box::new(config.optimizer.build_checkpointable_grouped(&vs, &groups)?)
    } else {
        config.optimizer.build_grouped(&vs, &groups)?
    };
    let spe = steps_per_epoch(train, config.batch_size);
    let log_every = config.log_every.unwrap_or(spe);
    if checkpointing.enabled() && config.variant == DdclVariant::KMeans && log_every % spe != 0 {
        return Err(Error::InvalidConfig {
            field: "log_every".into(),
            expected: format!(
                "a multiple of the {spe} steps of an epoch for a checkpointed k-means variant (its centroids change at epoch starts)"
            ),
            found: log_every.to_string(),
        });
    }
    let mut trainer = checkpointing.trainer(train, batching(train, config.batch_size), batch_seed)?;
    let phase = checkpointing.phase(PhaseConfig::new("ddcl", config.epochs * spe, log_every));
    let log = trainer.minimise(&phase, &mut objective, optimizer.as_mut(), &vs, &mut [], observer)?;
    drop(objective);
    let history = log.iter().map(|r| DdclRecord::from_log(r, spe)).collect::<Result<Vec<_>>>()?;
    Ok(DdclRun { vs, model, history })
}

/// What the DCL minimises on frozen features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrozenLoss {
    /// `L_q` (DDCL).
    Quantization,
    /// `L_OLS` alone (the ablation).
    Ols,
}

/// How the DCL is trained on frozen features (paper 001's reduced frozen-encoder system).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenConfig {
    /// Optimizer of the DCL (plain SGD for the Lyapunov descent).
    pub optimizer: OptimizerConfig,
    /// Full-batch steps.
    pub steps: usize,
    /// Fixed temperature.
    pub tau: f64,
    /// The loss minimised; `L_q` is recorded either way.
    pub loss: FrozenLoss,
    /// Seed of the DCL's Glorot weights.
    pub seed: u64,
}

/// The reduced frozen-encoder system: fixed features, only the DCL trains (full batch).
#[derive(Debug)]
struct Frozen<'a> {
    dcl: &'a protolearn_layers::competitive::Dcl,
    tau: f64,
    loss: FrozenLoss,
}

impl Objective for Frozen<'_> {
    fn loss(&mut self, batch: &Batch, _at: &StepInfo) -> Result<LossTerms> {
        let p = self.dcl.prototypes_of(&batch.x)?;
        let terms = SoftQuantization::new(&batch.x, &p, self.tau)?;
        let minimise = match self.loss {
            FrozenLoss::Quantization => terms.loss.shallow_clone(),
            FrozenLoss::Ols => terms.reconstruction,
        };
        Ok(LossTerms { minimise, logged: vec![("quantization", terms.loss)] })
    }
}

/// `L_q` of every step of a frozen-encoder run and how often it rose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrozenDescent {
    /// The learning rate.
    pub lr: f64,
    /// `L_q` before each step, then after the last (up to the divergence, if any).
    pub losses: Vec<f64>,
    /// Steps after which `L_q` was larger than before (relative increase above
    /// [`FROZEN_RISE_TOLERANCE`]; paper 001's Lyapunov result predicts none for small rates).
    pub increases: usize,
    /// The step at which `L_q` or a weight stopped being finite (too large a rate).
    pub diverged_at: Option<usize>,
}

/// A frozen-encoder run: its descent and the DCL's final prototypes.
#[derive(Debug)]
pub struct FrozenRun {
    /// `L_q` over the steps.
    pub descent: FrozenDescent,
    /// The prototypes `[k, L]` after the last step (non-finite after a divergence).
    pub prototypes: Tensor,
}

/// Relative rise of `L_q` between consecutive steps that counts as an increase: float32 sums of
/// a loss of `N k L` terms round at about `1e-7` relative; `1e-6` leaves a margin of ten.
pub const FROZEN_RISE_TOLERANCE: f64 = 1e-6;

/// Collects the `quantization` column of every record.
#[derive(Debug, Default)]
struct Losses(Vec<f64>);

impl Observer for Losses {
    fn on_log(&mut self, record: &LogRecord) {
        self.0.extend(record.get("quantization").and_then(|v| v.first().copied()));
    }
}

/// Trains only the DCL of `model_config` (its `dcl_size` must be the row count of `z`) on fixed
/// features `z` `[N, L]`, full batch, as `config` says (paper 001's frozen-encoder system),
/// recording `L_q` at every step. A rate so large that the run diverges is a result
/// (`diverged_at`), not an error.
pub fn fit_frozen(z: &Tensor, model_config: &DdclConfig, config: &FrozenConfig) -> Result<FrozenRun> {
    let (tau, seed) = (config.tau, config.seed);
    let l = z.size().get(1).copied().unwrap_or(0);
    let vs = nn::VarStore::new(z.device());
    let dcl = model_config.build_dcl(&vs.root(), l, z.device(), seed)?;
    let data = Dataset::new(z.detach(), None)?;
    let mut optimizer = config.optimizer.build(&vs)?;
    let mut trainer = Trainer::new(&data, Batching::Full, seed)?;
    let mut objective = Frozen { dcl: &dcl, tau, loss: config.loss };
    let mut losses = Losses::default();
    let outcome =
        trainer.minimise(&PhaseConfig::new("frozen", config.steps, 1), &mut objective, optimizer.as_mut(), &vs, &mut [], &mut losses);
    let mut losses = losses.0;
    let diverged_at = match outcome {
        Ok(_) => {
            let _guard = tch::no_grad_guard();
            let last = SoftQuantization::new(&data.x, &dcl.prototypes_of(&data.x)?, tau)?.loss;
            losses.push(last.to_kind(Kind::Double).f_double_value(&[])?);
            None
        }
        Err(Error::Diverged { step, .. }) => Some(step),
        Err(e) => return Err(e),
    };
    let increases = losses.windows(2).filter(|w| w[1] > w[0] * (1.0 + FROZEN_RISE_TOLERANCE)).count();
    let prototypes = tch::no_grad(|| dcl.prototypes_of(&data.x))?;
    Ok(FrozenRun { descent: FrozenDescent { lr: config.optimizer.lr, losses, increases, diverged_at }, prototypes })
}
