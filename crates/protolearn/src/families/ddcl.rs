//! Deep dual competitive learning (paper 001): a backbone whose features feed a DCL that outputs
//! the prototypes, trained end to end on the soft quantization loss (with an optional AE
//! pretraining and reconstruction term).

use super::backbone::BackboneSpec;
use super::prototypes::PROTOTYPES;
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{default_batch_size, default_lr, positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{encode_chunked, Backbone};
use protolearn_layers::ddcl::{DclInput, DdclConfig, FeatureNorm};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::precision::Precision;
use protolearn_layers::som::{Decay, Schedule};
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::ddcl::{fit_ddcl_checkpointed, DclStart, DdclTrainConfig, DdclVariant};
use protolearn_train::desom::{fit_autoencoder_checkpointed, AutoencoderTrainConfig};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Tensor};

/// Prefix of a backbone's variables in the model file.
const BACKBONE_PREFIX: &str = "ae.";

/// DDCL (paper 001). Paper 001 publishes no settings: the defaults are those of this library's
/// paper-001 benchmark (benches/specs/paper001_ddcl.toml, quick preset), documented there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdclSpec {
    /// Number of prototypes `k` (clusters).
    pub n_prototypes: i64,
    /// The backbone (default dense `D-256-128-10`).
    #[serde(default = "default_ddcl_backbone")]
    pub autoencoder: BackboneSpec,
    /// Hidden widths of a deep DCL (default: the linear DCL).
    #[serde(default)]
    pub hidden: Vec<i64>,
    /// The DCL's input: a fixed `reference` set of training samples (default) or the `batch`.
    #[serde(default = "default_dcl_input")]
    pub dcl_input: DclInput,
    /// `N`, the reference-set size (default 256; capped at the sample count). With
    /// `dcl_input = "batch"` it is the batch size.
    #[serde(default = "default_batch_size")]
    pub dcl_size: usize,
    /// Minibatch size (default 256; capped at the sample count).
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Epochs of end-to-end training (default 20).
    #[serde(default = "default_ddcl_epochs")]
    pub epochs: usize,
    /// AE pretraining iterations on `L_R` before (default 2000; 0: none). With pretraining the
    /// linear DCL starts at the k-means centroids of the pretrained features.
    #[serde(default = "default_ddcl_pretrain")]
    pub pretrain_iterations: usize,
    /// Adam learning rate of the backbone (default 1e-3).
    #[serde(default = "default_lr")]
    pub lr: f64,
    /// Adam learning rate of the DCL's weights (default 1e-5: a DCL prototype sums `N` features).
    #[serde(default = "default_dcl_lr")]
    pub dcl_lr: f64,
    /// Temperature `tau` of the soft assignment (default 1); the start of the schedule when
    /// `tau_end` is set.
    #[serde(default = "default_tau")]
    pub tau: f64,
    /// Anneal the temperature exponentially from `tau` to this value over the training (paper
    /// 001's best setting: 2 -> 0.5); default: constant `tau`.
    #[serde(default)]
    pub tau_end: Option<f64>,
    /// What the features go through before the DCL and the soft assignment: `none` (default) or
    /// `standardize` (centred and scaled to unit mean variance per feature over the set; the remedy
    /// against the trivial solution of training on `L_q` from scratch, as in paper 001's
    /// benchmark). The saved prototypes are mapped back to the backbone's feature space.
    #[serde(default)]
    pub feature_norm: FeatureNorm,
    /// Weight of the explicit separation term `mean_{j<l} exp(-||p_j - p_l||^2 / tau)` (default 0).
    #[serde(default)]
    pub separation_weight: f64,
    /// Momentum of the running average of the training prototypes, the inference prototypes of
    /// a minibatch DCL (default 0.99).
    #[serde(default = "default_running_momentum")]
    pub running_momentum: f64,
    /// Record the history every this many steps (default: once per epoch).
    #[serde(default)]
    pub log_every: Option<usize>,
    /// Weight `λ_R` of the reconstruction term (default 100; 0: none).
    #[serde(default = "default_reconstruction_weight")]
    pub reconstruction_weight: f64,
    /// DDCL or one of its ablations (default `ddcl`).
    #[serde(default = "default_variant")]
    pub variant: DdclVariant,
    /// Number format of the backbone's products in DDCL training: `fp32` (default) or `bf16`
    /// (bfloat16 products, float32 weights, features, prototypes and losses; pretraining and
    /// scoring float32).
    #[serde(default)]
    pub precision: Precision,
}

fn default_ddcl_backbone() -> BackboneSpec {
    BackboneSpec::Dense { hidden: vec![256, 128], latent_dim: 10 }
}

fn default_dcl_input() -> DclInput {
    DclInput::Reference
}

fn default_ddcl_epochs() -> usize {
    20
}

fn default_ddcl_pretrain() -> usize {
    2000
}

fn default_dcl_lr() -> f64 {
    1e-5
}

fn default_tau() -> f64 {
    1.0
}

fn default_reconstruction_weight() -> f64 {
    100.0
}

fn default_running_momentum() -> f64 {
    0.99
}

fn default_variant() -> DdclVariant {
    DdclVariant::Ddcl
}

impl DdclSpec {
    /// DDCL with `k` prototypes and the defaults above.
    pub fn new(n_prototypes: i64) -> Self {
        DdclSpec {
            n_prototypes,
            autoencoder: default_ddcl_backbone(),
            hidden: Vec::new(),
            dcl_input: default_dcl_input(),
            dcl_size: default_batch_size(),
            batch_size: default_batch_size(),
            epochs: default_ddcl_epochs(),
            pretrain_iterations: default_ddcl_pretrain(),
            lr: default_lr(),
            dcl_lr: default_dcl_lr(),
            tau: default_tau(),
            tau_end: None,
            feature_norm: FeatureNorm::None,
            separation_weight: 0.0,
            running_momentum: default_running_momentum(),
            log_every: None,
            reconstruction_weight: default_reconstruction_weight(),
            variant: default_variant(),
            precision: Precision::Fp32,
        }
    }
}

impl Family for DdclSpec {
    fn kind(&self) -> &'static str {
        "ddcl"
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        self.autoencoder.input_shape(sample_shape)
    }

    fn validate(&self) -> Result<()> {
        self.autoencoder.require_decoder("ddcl")?;
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive("dcl_size", self.dcl_size)?;
        if self.n_prototypes < 2 {
            return Err(Error::invalid("n_prototypes", "at least 2", self.n_prototypes));
        }
        for (field, value) in [("lr", self.lr), ("dcl_lr", self.dcl_lr), ("tau", self.tau), ("tau_end", self.tau_end.unwrap_or(self.tau))] {
            positive_finite(field, value)?;
        }
        if !(0.0..1.0).contains(&self.running_momentum) {
            return Err(Error::invalid("running_momentum", "a number in [0, 1)", self.running_momentum));
        }
        if self.log_every == Some(0) {
            return Err(Error::invalid("log_every", "at least 1", 0));
        }
        if !(self.separation_weight.is_finite() && self.separation_weight >= 0.0) {
            return Err(Error::invalid("separation_weight", "a finite number >= 0", self.separation_weight));
        }
        if !(self.reconstruction_weight.is_finite() && self.reconstruction_weight >= 0.0) {
            return Err(Error::invalid("reconstruction_weight", "a finite number >= 0", self.reconstruction_weight));
        }
        Ok(())
    }

    /// Trains DDCL (paper 001) with an optional AE pretraining and keeps its backbone and its
    /// inference prototypes.
    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let (n, seed) = (data.n_samples(), context.seed);
        let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr };
        let batch_size = self.batch_size.min(n);
        let dcl_size = if self.dcl_input == DclInput::Batch { batch_size } else { self.dcl_size.min(n) };
        let backbone = self.autoencoder.config(&context.input.sample_shape)?;
        let pretrained = match self.pretrain_iterations {
            0 => None,
            iterations => {
                let config =
                    AutoencoderTrainConfig { optimizer, iterations, batch_size, log_every: context.log_every(None, iterations), seed };
                let checkpointing = context.checkpointing.within("autoencoder");
                Some(fit_autoencoder_checkpointed(data, &backbone, &config, &checkpointing, observer)?.vs)
            }
        };
        let model = DdclConfig {
            backbone,
            n_prototypes: self.n_prototypes,
            hidden: self.hidden.clone(),
            bias: false,
            dcl_input: self.dcl_input,
            dcl_size: dcl_size as i64,
            feature_norm: self.feature_norm,
        };
        let kmeans = FeatureKMeans { n_init: 1, max_iter: 300, tol: 1e-4 };
        let train = DdclTrainConfig {
            optimizer,
            dcl_lr: Some(self.dcl_lr),
            batch_size,
            epochs: self.epochs,
            log_every: self.log_every,
            tau: Schedule { decay: Decay::Exponential, start: self.tau, end: self.tau_end.unwrap_or(self.tau) },
            reconstruction_weight: self.reconstruction_weight,
            running_momentum: self.running_momentum,
            variant: self.variant,
            scale_invariant: false,
            separation_weight: self.separation_weight,
            // The k-means start needs features worth clustering (pretrained) and a linear DCL.
            dcl_init: if pretrained.is_some() && self.hidden.is_empty() { DclStart::KMeans } else { DclStart::Glorot },
            kmeans,
            seed,
            precision: self.precision,
        };
        let eval = context.eval_set(data);
        let run = fit_ddcl_checkpointed(data, eval, &model, &train, pretrained.as_ref(), context.checkpointing, observer)?;
        // Saved in the backbone's raw feature space: k-means of the raw features (k-means commutes
        // with the standardisation, a translation and one scale), else the DCL's prototypes mapped
        // back from the normalised space they were computed in.
        let prototypes = match (self.variant, self.dcl_input) {
            (DdclVariant::KMeans, _) => kmeans.fit(run.model.backbone.as_ref(), &data.x, self.n_prototypes as usize, seed)?.centroids,
            (_, DclInput::Reference) => run.model.raw_prototypes(&run.model.reference_prototypes()?, run.model.reference())?,
            // Full batch: the reference set is the training set in its order, so its prototypes are
            // the trained ones (a running average would lag behind them).
            (_, DclInput::Batch) if batch_size >= n => {
                run.model.raw_prototypes(&run.model.reference_prototypes()?, run.model.reference())?
            }
            (_, DclInput::Batch) => run.model.raw_prototypes(&run.model.running_prototypes().detach().copy(), &data.x)?,
        };
        Ok(Box::new(DdclModel { vs: run.vs, backbone: run.model.backbone, prototypes: prototypes.contiguous() }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let backbone = self.autoencoder.config(&saved.input.sample_shape)?.build(&(vs.root() / "ae"), 0)?;
        saved.copy_into(&mut vs)?;
        Ok(Box::new(DdclModel { vs, backbone, prototypes: saved.tensor(PROTOTYPES)?.shallow_clone() }))
    }
}

/// A trained DDCL: its backbone (variables `ae.*`) and its inference prototypes `[k, L]` in
/// feature space (the DCL's output for its reference set, or the running average of the training
/// prototypes, or the k-means centroids of the k-means ablation).
#[derive(Debug)]
pub struct DdclModel {
    vs: nn::VarStore,
    backbone: Box<dyn Backbone>,
    prototypes: Tensor,
}

impl TrainedModel for DdclModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(squared_euclidean(&encode_chunked(self.backbone.as_ref(), x)?, &self.prototypes))
    }

    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        Ok(encode_chunked(self.backbone.as_ref(), x)?)
    }

    fn prototypes(&self) -> Tensor {
        self.prototypes.shallow_clone()
    }

    fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        if !self.backbone.has_decoder() {
            return Ok(codes.shallow_clone());
        }
        let _guard = tch::no_grad_guard();
        Ok(self.backbone.decode(codes)?.contiguous())
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.vs
            .variables()
            .into_iter()
            .filter(|(name, _)| name.starts_with(BACKBONE_PREFIX))
            .chain(std::iter::once((PROTOTYPES.to_owned(), self.prototypes.shallow_clone())))
            .collect()
    }
}
