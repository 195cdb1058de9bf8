//! The competitive families' specs: VCL / DCL / deep DCL (paper 000) and DDCL (paper 001).

use super::{default_batch_size, default_lr, positive, positive_finite, BackboneSpec};
use crate::error::{Error, Result};
use protolearn_layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn_layers::ddcl::{DclInput, FeatureNorm};
use protolearn_layers::loss::QuantizationForm;
use protolearn_train::competitive::{CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::ddcl::DdclVariant;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};

/// A competitive layer (paper 000).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetitiveSpec {
    /// The layer: `kind = "vcl"` or `"dcl"`, `n_prototypes`, DCL `hidden` widths, ...
    pub layer: CompetitiveConfig,
    /// The training (default: paper 000, Sec. III: Adam, 400 epochs, `λ = 0.01`, the rate of
    /// the layer kind, keep the best epoch).
    #[serde(default)]
    pub training: Option<CompetitiveTrainConfig>,
}

impl CompetitiveSpec {
    /// The configured training or paper 000's for the layer kind (Adam at 0.008 for a VCL and
    /// 0.0008 for a DCL, 400 epochs, `λ = 0.01`, `||E||_F^2`, the L2-norm `Q`, keep best).
    pub fn training(&self) -> CompetitiveTrainConfig {
        self.training.clone().unwrap_or_else(|| CompetitiveTrainConfig {
            optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: if self.layer.kind == LayerKind::Vcl { 0.008 } else { 0.0008 } },
            epochs: 400,
            lambda: 0.01,
            topology: TopologyTerm::EdgeNormSquared,
            quantization: QuantizationForm::L2Norm,
            keep_best: true,
        })
    }
}

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
        }
    }

    pub(super) fn validate(&self) -> Result<()> {
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
}
