//! DeepCluster (Caron et al., ECCV 2018) end to end on the one [`Trainer`](crate::trainer::Trainer), the external-k-means
//! baseline of paper 001: at the start of every epoch the encoded training set is clustered by
//! k-means into pseudo-labels (empty clusters re-seeded by splitting the largest), the linear
//! classification head is re-initialised, and the backbone and head are trained with
//! cross-entropy on the pseudo-labels, weighted so that every pseudo-class counts equally
//! (the expectation of DeepCluster's uniform sampling over pseudo-classes). As published, the
//! features are PCA-whitened and L2-normalised before k-means ([`DeepClusterFeatures`]); the
//! PCA keeps every feature dimension (the paper reduces 4096 to 256; our backbones have `L <= 256`).

use crate::checkpoint::copy_variables;
use crate::clustering::{FeatureKMeans, LabelledSet};
use crate::error::{Error, Result};
use crate::observer::Observer;
use crate::optim::OptimizerConfig;
use crate::run::Checkpointing;
use crate::seeds::StreamPosition;
use crate::trainer::{steps_per_epoch, Batching, Column, LogRecord, LossTerms, Objective, PhaseConfig, StepInfo};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone};
use protolearn_layers::distance::squared_euclidean;
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// How DeepCluster is trained.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepClusterConfig {
    /// Optimizer of backbone and head.
    pub optimizer: OptimizerConfig,
    /// Batch size (shuffled epochs, last smaller batch dropped).
    pub batch_size: usize,
    /// Epochs; the pseudo-labels are recomputed at the start of each.
    pub epochs: usize,
    /// Number of k-means clusters (pseudo-classes).
    pub k: usize,
    /// Weight of the reconstruction term (0: DeepCluster as published, cross-entropy only).
    pub reconstruction_weight: f64,
    /// What k-means clusters (published: PCA-whitened, L2-normalised features).
    #[serde(default)]
    pub features: DeepClusterFeatures,
    /// The k-means of the pseudo-labels (and of the evaluation).
    pub kmeans: FeatureKMeans,
    /// Seed of the head, batch order and k-means seeds.
    pub seed: u64,
}

/// The features DeepCluster's k-means sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeepClusterFeatures {
    /// The backbone's features as they are.
    Raw,
    /// Caron et al. (2018), Sec. 3.2 / their code: PCA-whitened (every dimension kept), then
    /// each row L2-normalised.
    #[default]
    PcaWhitenL2,
}

/// Eigenvalues of the feature covariance below this fraction of the largest are clamped to it
/// before whitening, so that a direction of (near) zero variance is not blown up to unit
/// variance out of rounding noise.
pub const WHITEN_MIN_EIGENVALUE: f64 = 1e-6;

/// Smallest row norm the L2 normalisation divides by (float32 epsilon): a zero row stays zero.
const MIN_ROW_NORM: f64 = f32::EPSILON as f64;

impl DeepClusterFeatures {
    /// Fits the transform on the encoded training set `z` `[n, L]` (no gradient).
    pub fn fit(self, z: &Tensor) -> Result<FeatureTransform> {
        let _guard = tch::no_grad_guard();
        Ok(match self {
            DeepClusterFeatures::Raw => FeatureTransform { whitening: None },
            DeepClusterFeatures::PcaWhitenL2 => {
                let z = z.to_kind(Kind::Double);
                let mean = z.mean_dim(0, true, Kind::Double);
                let centred = &z - &mean;
                let n = (z.size()[0] - 1).max(1) as f64;
                let covariance = centred.tr().matmul(&centred) / n;
                let (eigenvalues, eigenvectors) = covariance.f_linalg_eigh("L")?;
                let floor = (eigenvalues.max().double_value(&[]) * WHITEN_MIN_EIGENVALUE).max(f64::MIN_POSITIVE);
                let projection = eigenvectors * eigenvalues.clamp_min(floor).rsqrt().unsqueeze(0); // [L, L]
                FeatureTransform { whitening: Some((mean, projection)) }
            }
        })
    }
}

/// A fitted [`DeepClusterFeatures`]: the training set's mean and whitening projection.
#[derive(Debug)]
pub struct FeatureTransform {
    whitening: Option<(Tensor, Tensor)>,
}

impl FeatureTransform {
    /// The whitening of [`DeepClusterFeatures::PcaWhitenL2`]: the training mean `[1, L]` and the
    /// projection `W` `[L, L]` (float64); `None` for raw features.
    pub fn whitening(&self) -> Option<(&Tensor, &Tensor)> {
        self.whitening.as_ref().map(|(mean, projection)| (mean, projection))
    }

    /// A transform from its parts (a saved model's): the mean `[1, L]` and projection `[L, L]`,
    /// used in float64; `None` for raw features.
    pub fn from_whitening(whitening: Option<(Tensor, Tensor)>) -> Self {
        FeatureTransform { whitening: whitening.map(|(mean, projection)| (mean.to_kind(Kind::Double), projection.to_kind(Kind::Double))) }
    }

    /// The features k-means sees for `z` `[n, L]`: `normalize((z - mean) W)` row by row, with the
    /// training set's mean and `W = V Λ^{-1/2}` (no gradient; `z` unchanged for raw features).
    pub fn apply(&self, z: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        let Some((mean, projection)) = &self.whitening else { return z.shallow_clone() };
        let white = (z.to_kind(Kind::Double) - mean).matmul(projection);
        let norms = white.norm_scalaropt_dim(2.0, [1], true).clamp_min(MIN_ROW_NORM);
        (white / norms).to_kind(z.kind())
    }
}

/// Relative size of the perturbation that separates a re-seeded centroid from the centroid of
/// the cluster it splits (DeepCluster: "a small random perturbation").
pub const RESEED_PERTURBATION: f64 = 1e-4;

/// Re-seeds every empty cluster of a partition of `z` `[n, L]` as DeepCluster does: the largest
/// cluster `c` is split by copying its centroid to the empty one with a small random perturbation
/// (`+e` and `-e`, `|e| =` [`RESEED_PERTURBATION`] times the centroid's norm, at least that
/// absolute) and moving the members of `c` nearer to the new centroid; if none is nearer (all
/// members coincide), the lowest-indexed member moves. Returns the centroids, the assignments and
/// how many clusters were re-seeded.
pub fn reseed_empty(z: &Tensor, centroids: &Tensor, assignments: &Tensor, rng: &mut ChaCha8Rng) -> Result<(Tensor, Tensor, usize)> {
    let _guard = tch::no_grad_guard();
    let (k, l) = (centroids.size()[0], centroids.size()[1]);
    let (centroids, mut assignments) = (centroids.copy(), assignments.copy());
    let mut reseeded = 0;
    for j in 0..k {
        let counts = Vec::<i64>::try_from(assignments.bincount(None::<Tensor>, k).to_device(tch::Device::Cpu))?;
        if counts[j as usize] > 0 {
            continue;
        }
        let largest = (0..k).max_by_key(|&c| (counts[c as usize], -c)).expect("k >= 1");
        if counts[largest as usize] < 2 {
            return Err(Error::InvalidConfig {
                field: "k".into(),
                expected: "at most the number of distinct samples".into(),
                found: k.to_string(),
            });
        }
        let base = centroids.get(largest);
        let scale = RESEED_PERTURBATION * base.norm().double_value(&[]).max(1.0);
        let direction: Vec<f32> = (0..l).map(|_| rng.random_range(-1.0f32..1.0)).collect();
        let e = Tensor::from_slice(&direction).to_device(z.device()).to_kind(centroids.kind());
        let e = &e * (scale / e.norm().double_value(&[]).max(f64::MIN_POSITIVE));
        centroids.get(j).copy_(&(&base + &e));
        centroids.get(largest).copy_(&(&base - &e));
        let d = squared_euclidean(z, &Tensor::stack(&[centroids.get(largest), centroids.get(j)], 0)); // [n, 2]
        let members = assignments.eq(largest);
        let mut moved = members.logical_and(&d.select(1, 1).lt_tensor(&d.select(1, 0)));
        if moved.sum(Kind::Int64).int64_value(&[]) == 0 {
            let first = members.to_kind(Kind::Int64).argmax(0, false);
            moved = moved.index_fill(0, &first.unsqueeze(0), 1);
        }
        assignments = assignments.masked_fill(&moved, j);
        reseeded += 1;
    }
    Ok((centroids, assignments, reseeded))
}

/// One epoch of DeepCluster: mean losses, clusters re-seeded at its start, and the scores on
/// the evaluation set (k-means of the features, and the head's argmax).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeepClusterRecord {
    /// The 1-based epoch.
    pub epoch: usize,
    /// Mean minimised loss.
    pub loss: f64,
    /// Mean class-balanced cross-entropy on the pseudo-labels.
    pub cross_entropy: f64,
    /// Mean reconstruction loss (`None` when its weight is 0).
    pub reconstruction: Option<f64>,
    /// Empty k-means clusters re-seeded at the epoch's start.
    pub reseeded: u64,
    /// Accuracy of the k-means of the features on the evaluation set.
    pub acc: Option<f64>,
    /// NMI of the same.
    pub nmi: Option<f64>,
    /// ARI of the same.
    pub ari: Option<f64>,
    /// Accuracy of the head's argmax on the evaluation set.
    pub head_acc: Option<f64>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

impl DeepClusterRecord {
    /// The typed view of a trainer record of DeepCluster's objective (`steps_per_epoch` steps
    /// make an epoch).
    pub fn from_log(record: &LogRecord, steps_per_epoch: usize) -> Result<Self> {
        let one = |name: &str| record.require(name).map(|v| v.first().copied().unwrap_or(f64::NAN));
        Ok(DeepClusterRecord {
            epoch: record.step.div_ceil(steps_per_epoch),
            loss: one("loss")?,
            cross_entropy: one("cross_entropy")?,
            reconstruction: record.scalar("reconstruction"),
            reseeded: one("reseeded")? as u64,
            acc: record.scalar("acc"),
            nmi: record.scalar("nmi"),
            ari: record.scalar("ari"),
            head_acc: record.scalar("head_acc"),
            seconds: record.seconds,
        })
    }
}

/// DeepCluster's objective: pseudo-labels refreshed every epoch, class-balanced cross-entropy.
#[derive(Debug)]
struct DeepClusterObjective<'a> {
    backbone: &'a dyn Backbone,
    head: (Tensor, Tensor),
    config: &'a DeepClusterConfig,
    train: &'a Dataset,
    eval: Option<LabelledSet<'a>>,
    pseudo: Option<(Tensor, Tensor)>,
    rng: ChaCha8Rng,
    /// The position of `rng` at the last log point (`deepcluster.rng_word_pos`).
    rng_position: StreamPosition,
    reseeded: usize,
}

impl DeepClusterObjective<'_> {
    /// New pseudo-labels and class weights `n / (k n_j)`, and a fresh head.
    fn refresh(&mut self) -> Result<()> {
        let k = self.config.k;
        let z = encode_chunked(self.backbone, &self.train.x)?; // encoded once for k-means and re-seeding
        let z = self.config.features.fit(&z)?.apply(&z);
        let km = self.config.kmeans.fit_codes(&z, k, self.rng.next_u64())?;
        let (_, labels, reseeded) = reseed_empty(&z, &km.centroids, &km.assignments, &mut self.rng)?;
        self.reseeded = reseeded;
        let counts = labels.bincount(None::<Tensor>, k as i64).to_kind(Kind::Float);
        let weights = (counts.reciprocal() * (self.train.n_samples() as f64 / k as f64)).nan_to_num(0.0, None, None);
        self.pseudo = Some((labels, weights));
        let (w, b) = &self.head;
        let (out, l) = (w.size()[0], w.size()[1]);
        let limit = (6.0 / (out + l) as f64).sqrt() as f32;
        let values: Vec<f32> = (0..out * l).map(|_| self.rng.random_range(-limit..limit)).collect();
        let _guard = tch::no_grad_guard();
        w.shallow_clone().f_copy_(&Tensor::from_slice(&values).view([out, l]).to_device(w.device()))?;
        let _ = b.shallow_clone().zero_();
        Ok(())
    }

    fn logits(&self, z: &Tensor) -> Tensor {
        z.matmul(&self.head.0.tr()) + &self.head.1
    }
}

impl Objective for DeepClusterObjective<'_> {
    /// New pseudo-labels and a fresh head. Log points are epoch ends, so a run (fresh or
    /// resumed) starts here: the random stream moves to the checkpoint's position first.
    fn epoch_start(&mut self, _at: &StepInfo) -> Result<()> {
        self.rng_position.restore(&mut self.rng);
        self.refresh()
    }

    fn loss(&mut self, batch: &Batch, at: &StepInfo) -> Result<LossTerms> {
        let (labels, weights) = self.pseudo.as_ref().ok_or_else(|| Error::InvalidConfig {
            field: "deepcluster".into(),
            expected: "pseudo-labels from the epoch's start".into(),
            found: format!("none at step {} of phase `{}`", at.step, at.phase),
        })?;
        let y = labels.index_select(0, &batch.indices);
        let z = self.backbone.encode(&batch.x)?;
        let log_p = self.logits(&z).log_softmax(-1, Kind::Float);
        let ce = -log_p.gather(1, &y.unsqueeze(1), false).squeeze_dim(1); // [B]
        let cross_entropy = (ce * weights.index_select(0, &y)).mean(Kind::Float);
        let mut minimise = cross_entropy.shallow_clone();
        let mut logged = vec![("cross_entropy", cross_entropy)];
        if self.config.reconstruction_weight > 0.0 {
            let reconstruction = self.backbone.reconstruction_loss(&z, &batch.x)?;
            minimise = &minimise + &reconstruction * self.config.reconstruction_weight;
            logged.push(("reconstruction", reconstruction));
        }
        logged.push(("loss", minimise.shallow_clone()));
        Ok(LossTerms { minimise, logged })
    }

    /// The metrics of a log point (the last draws of `rng` before the checkpoint is written).
    fn metrics(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        let mut columns = vec![Column::scalar("reseeded", self.reseeded as f64)];
        let Some(eval) = &self.eval else {
            self.rng_position.keep(&self.rng)?;
            return Ok(columns);
        };
        let train = encode_chunked(self.backbone, &self.train.x)?;
        let transform = self.config.features.fit(&train)?;
        let km = self.config.kmeans.fit_codes(&transform.apply(&train), self.config.k, self.rng.next_u64())?;
        let z = encode_chunked(self.backbone, eval.x)?;
        columns.extend(eval.score(&transform.apply(&z), &km.centroids, None, "")?);
        let _guard = tch::no_grad_guard();
        let predicted: Vec<usize> =
            Vec::<i64>::try_from(self.logits(&z).argmax(-1, false).to_device(tch::Device::Cpu))?.into_iter().map(|a| a as usize).collect();
        columns.extend(crate::quality::clustering_scores(&eval.labels, &predicted, "head_")?);
        self.rng_position.keep(&self.rng)?;
        Ok(columns)
    }
}

/// A trained DeepCluster model.
#[derive(Debug)]
pub struct DeepClusterRun {
    /// The variables (`ae.*`, `head.*`).
    pub vs: nn::VarStore,
    /// The backbone.
    pub backbone: Box<dyn Backbone>,
    /// One record per epoch.
    pub history: Vec<DeepClusterRecord>,
}

/// Trains DeepCluster on `train` with the backbone of `backbone_config` (its `ae.*` variables
/// loaded from `pretrained` when given), scored every epoch on the labelled `eval`.
pub fn fit_deepcluster(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone_config: &AutoencoderConfig,
    config: &DeepClusterConfig,
    pretrained: Option<&nn::VarStore>,
    observer: &mut dyn Observer,
) -> Result<DeepClusterRun> {
    fit_deepcluster_checkpointed(train, eval, backbone_config, config, pretrained, &Checkpointing::default(), observer)
}

/// [`fit_deepcluster`] writing its state into `checkpointing`'s folder at the end of every epoch
/// and, when resuming, continuing from it: the backbone, the head, the optimizer's moments, the
/// batch stream and the position of the k-means / head random stream are in the checkpoint, and
/// the pseudo-labels are recomputed at the epoch start where the run continues, so a resumed run
/// ends bit for bit where the uninterrupted one ends on CPU.
pub fn fit_deepcluster_checkpointed(
    train: &Dataset,
    eval: Option<&Dataset>,
    backbone_config: &AutoencoderConfig,
    config: &DeepClusterConfig,
    pretrained: Option<&nn::VarStore>,
    checkpointing: &Checkpointing,
    observer: &mut dyn Observer,
) -> Result<DeepClusterRun> {
    if config.k < 2 || config.epochs == 0 || config.batch_size < config.k {
        return Err(Error::InvalidConfig {
            field: "k / epochs / batch_size".into(),
            expected: "k >= 2, epochs >= 1, batch_size >= k".into(),
            found: format!("{} / {} / {}", config.k, config.epochs, config.batch_size),
        });
    }
    let [model_seed, batch_seed, rng_seed] = crate::seeds::derived_seeds(config.seed);
    let vs = nn::VarStore::new(train.device());
    let backbone = backbone_config.build(&(vs.root() / "ae"), model_seed)?;
    backbone.check_input(&train.x)?;
    if let Some(from) = pretrained {
        copy_variables(from, &vs, "ae.")?;
    }
    let (k, l) = (config.k as i64, backbone.latent_dim());
    let head_path = vs.root() / "head";
    let head = (head_path.zeros("weight", &[k, l]), head_path.zeros("bias", &[k]));
    let mut optimizer = config.optimizer.build(&vs)?;
    let spe = steps_per_epoch(train, config.batch_size);
    let mut objective = DeepClusterObjective {
        backbone: backbone.as_ref(),
        head,
        config,
        train,
        eval: eval.map(LabelledSet::new).transpose()?.flatten(),
        pseudo: None,
        rng: ChaCha8Rng::seed_from_u64(rng_seed),
        rng_position: StreamPosition::new(&(vs.root() / "deepcluster"), "rng_word_pos"),
        reseeded: 0,
    };
    let mut trainer = checkpointing.trainer(train, Batching::Shuffled { batch_size: config.batch_size }, batch_seed)?;
    let log = trainer.minimise(
        &checkpointing.phase(PhaseConfig::new("deepcluster", config.epochs * spe, spe)),
        &mut objective,
        optimizer.as_mut(),
        &vs,
        &mut [],
        observer,
    )?;
    drop(objective);
    let history = log.iter().map(|r| DeepClusterRecord::from_log(r, spe)).collect::<Result<Vec<_>>>()?;
    Ok(DeepClusterRun { vs, backbone, history })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitened_features_are_unit_rows_fitted_on_the_training_set() {
        // Correlated 2-D features with a third, constant column (zero variance).
        let t = Tensor::arange(50, (Kind::Double, tch::Device::Cpu)) / 10.0;
        let z = Tensor::stack(&[&t, &(&t * 3.0 + t.sin()), &t.zeros_like()], 1).to_kind(Kind::Float);
        let transform = DeepClusterFeatures::PcaWhitenL2.fit(&z).unwrap();
        let w = transform.apply(&z);
        assert_eq!(w.size(), vec![50, 3]);
        assert_eq!(w.isfinite().all().int64_value(&[]), 1, "the constant column is not blown up to NaN");
        let norms = w.norm_scalaropt_dim(2.0, [1], false);
        assert!((norms - 1.0).abs().max().double_value(&[]) < 1e-5);
        // Before normalisation the informative directions have the identity covariance.
        let (mean, projection) = transform.whitening.as_ref().unwrap();
        let white = (z.to_kind(Kind::Double) - mean).matmul(projection).narrow(1, 1, 2); // eigh sorts ascending: drop the constant
        let covariance = white.tr().matmul(&white) / 49.0;
        let eye = Tensor::eye(2, (Kind::Double, tch::Device::Cpu));
        assert!((covariance - eye).abs().max().double_value(&[]) < 1e-6);
        assert!(DeepClusterFeatures::Raw.fit(&z).unwrap().apply(&z).equal(&z));
    }

    #[test]
    fn an_empty_cluster_is_reseeded_by_splitting_the_largest() {
        let z = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0, 10.0, 11.0]).view([6, 1]);
        let centroids = Tensor::from_slice(&[1.5f32, 10.5, 100.0]).view([3, 1]);
        let assignments = Tensor::from_slice(&[0i64, 0, 0, 0, 1, 1]);
        let (c, a, reseeded) = reseed_empty(&z, &centroids, &assignments, &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        assert_eq!(reseeded, 1);
        let counts = Vec::<i64>::try_from(a.bincount(None::<Tensor>, 3)).unwrap();
        assert!(counts.iter().all(|&n| n > 0), "{counts:?}");
        assert_eq!(counts[1], 2, "the other cluster is untouched");
        assert_eq!(counts[0] + counts[2], 4, "cluster 0 was split");
        assert!((c.double_value(&[2, 0]) - 1.5).abs() < 1e-3, "the new centroid starts at the split one");
        // Coincident members: the perturbation cannot separate them; one member moves.
        let same = Tensor::zeros([3, 1], (Kind::Float, tch::Device::Cpu));
        let (_, a, _) = reseed_empty(
            &same,
            &Tensor::zeros([2, 1], (Kind::Float, tch::Device::Cpu)),
            &Tensor::zeros([3], (Kind::Int64, tch::Device::Cpu)),
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
        assert_eq!(Vec::<i64>::try_from(a.bincount(None::<Tensor>, 2)).unwrap(), vec![2, 1]);
        // Nothing to split: a clear error.
        let one = Tensor::zeros([1, 1], (Kind::Float, tch::Device::Cpu));
        assert!(reseed_empty(
            &one,
            &Tensor::zeros([2, 1], (Kind::Float, tch::Device::Cpu)),
            &Tensor::zeros([1], (Kind::Int64, tch::Device::Cpu)),
            &mut ChaCha8Rng::seed_from_u64(1)
        )
        .is_err());
    }
}
