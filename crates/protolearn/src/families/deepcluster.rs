//! DeepCluster (Caron et al. 2018; the end-to-end baseline of paper 001): a backbone trained on
//! the pseudo-labels of k-means of its own PCA-whitened, L2-normalised features, refreshed every
//! epoch. The trained model keeps the backbone, the feature transform fitted on the training set
//! and the k-means centroids of the transformed training features, the clustering paper 001
//! scores.

use super::backbone::BackboneSpec;
use super::prototypes::PROTOTYPES;
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{default_batch_size, positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{encode_chunked, Backbone};
use protolearn_layers::distance::squared_euclidean;
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::deepcluster::{fit_deepcluster_checkpointed, DeepClusterConfig, DeepClusterFeatures, FeatureTransform};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use protolearn_train::seeds::derived_seeds;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

/// Names of the feature transform in the model file (float32; used in float64).
const WHITEN_MEAN: &str = "whiten.mean";
const WHITEN_PROJECTION: &str = "whiten.projection";

/// DeepCluster with `k` pseudo-classes (paper 001's benchmark settings as defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeepClusterSpec {
    /// Number of k-means clusters (pseudo-classes).
    pub k: usize,
    /// The backbone (default dense `D-256-128-10`, as DDCL's).
    #[serde(default = "default_backbone")]
    pub autoencoder: BackboneSpec,
    /// Epochs; the pseudo-labels are recomputed at the start of each (default 20).
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Minibatch size (default 256; capped at the sample count, at least `k`).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate (default 1e-3).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Weight of a reconstruction term (default 0: DeepCluster as published).
    #[serde(default)]
    pub reconstruction_weight: f64,
    /// What k-means clusters (default: PCA-whitened, L2-normalised features, as published).
    #[serde(default)]
    pub features: DeepClusterFeatures,
    /// The k-means of the pseudo-labels and of the model (default: one k-means++ restart,
    /// scikit-learn's `max_iter` and `tol`, paper 001's benchmark).
    #[serde(default = "default_kmeans")]
    pub kmeans: FeatureKMeans,
}

fn default_backbone() -> BackboneSpec {
    BackboneSpec::Dense { hidden: vec![256, 128], latent_dim: 10 }
}

fn default_epochs() -> usize {
    20
}

fn default_lr() -> f64 {
    1e-3
}

fn default_kmeans() -> FeatureKMeans {
    FeatureKMeans { n_init: 1, max_iter: 300, tol: 1e-4 }
}

impl DeepClusterSpec {
    /// DeepCluster with `k` pseudo-classes and the defaults above.
    pub fn new(k: usize) -> Self {
        DeepClusterSpec {
            k,
            autoencoder: default_backbone(),
            epochs: default_epochs(),
            batch_size: default_batch_size(),
            lr: default_lr(),
            reconstruction_weight: 0.0,
            features: DeepClusterFeatures::default(),
            kmeans: default_kmeans(),
        }
    }
}

impl Family for DeepClusterSpec {
    fn kind(&self) -> &'static str {
        "deepcluster"
    }

    fn validate(&self) -> Result<()> {
        if self.k < 2 {
            return Err(Error::invalid("k", "at least 2", self.k));
        }
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)?;
        if self.reconstruction_weight > 0.0 {
            self.autoencoder.require_decoder("deepcluster with a reconstruction term")?;
        }
        if !(self.reconstruction_weight.is_finite() && self.reconstruction_weight >= 0.0) {
            return Err(Error::invalid("reconstruction_weight", "a finite number >= 0", self.reconstruction_weight));
        }
        Ok(())
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        self.autoencoder.input_shape(sample_shape)
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let config = DeepClusterConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr },
            batch_size: self.batch_size.min(data.n_samples()).max(self.k),
            epochs: self.epochs,
            k: self.k,
            reconstruction_weight: self.reconstruction_weight,
            features: self.features,
            kmeans: self.kmeans,
            seed: context.seed,
        };
        // Scored only on an evaluation set given explicitly: its k-means draws from the training's
        // k-means stream, so scoring changes the pseudo-labels that follow.
        let backbone = self.autoencoder.config(&context.input.sample_shape)?;
        let run = fit_deepcluster_checkpointed(data, context.eval, &backbone, &config, None, context.checkpointing, observer)?;
        // The transform of the final features, rounded to the model file's float32, then k-means.
        let z = encode_chunked(run.backbone.as_ref(), &data.x)?;
        let fitted = self.features.fit(&z)?;
        let rounded = fitted.whitening().map(|(m, p)| (m.to_kind(Kind::Float), p.to_kind(Kind::Float)));
        let transform = FeatureTransform::from_whitening(rounded);
        // The seed of the training's own k-means stream, itself not a draw of that stream.
        let [_, _, kmeans_seed] = derived_seeds(context.seed);
        let centroids = self.kmeans.fit_codes(&transform.apply(&z), self.k, kmeans_seed)?.centroids;
        Ok(Box::new(DeepClusterModel { vs: run.vs, backbone: run.backbone, transform, centroids }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let backbone = self.autoencoder.config(&saved.input.sample_shape)?.build(&(vs.root() / "ae"), 0)?;
        saved.copy_into(&mut vs)?;
        let whitening = match self.features {
            DeepClusterFeatures::Raw => None,
            DeepClusterFeatures::PcaWhitenL2 => {
                Some((saved.tensor(WHITEN_MEAN)?.shallow_clone(), saved.tensor(WHITEN_PROJECTION)?.shallow_clone()))
            }
        };
        let centroids = saved.tensor(PROTOTYPES)?.shallow_clone();
        Ok(Box::new(DeepClusterModel { vs, backbone, transform: FeatureTransform::from_whitening(whitening), centroids }))
    }
}

/// A trained DeepCluster: the backbone (variables `ae.*`; the classification head is dropped),
/// the feature transform and the k-means centroids `[k, L]` of the transformed features.
#[derive(Debug)]
pub struct DeepClusterModel {
    vs: nn::VarStore,
    backbone: Box<dyn Backbone>,
    transform: FeatureTransform,
    centroids: Tensor,
}

impl TrainedModel for DeepClusterModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(squared_euclidean(&self.codes(x)?, &self.centroids))
    }

    /// The transformed features k-means clusters (whitened and L2-normalised as published).
    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.transform.apply(&encode_chunked(self.backbone.as_ref(), x)?))
    }

    fn prototypes(&self) -> Tensor {
        self.centroids.shallow_clone()
    }

    /// None: the centroids live among whitened, normalised features, which no decoder inverts.
    fn decode(&self, _codes: &Tensor) -> Result<Tensor> {
        Err(Error::Shape {
            what: "DeepCluster prototypes in input units".into(),
            expected: "prototypes with an image in the input space".into(),
            found: "k-means centroids of whitened, L2-normalised features (no inverse)".into(),
        })
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let backbone = self.vs.variables().into_iter().filter(|(name, _)| name.starts_with("ae."));
        let whitening = self.transform.whitening().map(|(mean, projection)| {
            [(WHITEN_MEAN.to_owned(), mean.shallow_clone()), (WHITEN_PROJECTION.to_owned(), projection.shallow_clone())]
        });
        backbone.chain(whitening.into_iter().flatten()).chain([(PROTOTYPES.to_owned(), self.centroids.shallow_clone())]).collect()
    }
}
