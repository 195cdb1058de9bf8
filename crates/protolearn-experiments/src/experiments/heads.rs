//! Paper 003's heads fitted through the estimator: a head configuration (or the softmax
//! baseline), its backbone and the training settings of an experiment as the estimator's model
//! spec, fitted with an evaluation set (its test accuracy logged every epoch), and the fitted
//! head and backbone for the analyses.

use super::head_analysis::TrainedHead;
use anyhow::{Context, Result};
use protolearn::config::{BackboneSpec, LvqSpec, LvqTraining, ModelSpec, SoftmaxSpec};
use protolearn::families::lvq::LvqModel;
use protolearn::families::softmax::SoftmaxModel;
use protolearn::{Estimator, EstimatorConfig, Fitted};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone};
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::precision::Precision;
use protolearn_train::lvq::HeadInit;
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};

/// How an experiment trains its heads (paper 003: Adam, the spec's batch and epochs).
#[derive(Debug, Clone, Copy)]
pub struct HeadTraining {
    /// Optimizer (the estimator's heads train with Adam; another kind is an error).
    pub optimizer: OptimizerConfig,
    /// Minibatch size.
    pub batch_size: usize,
    /// Epochs.
    pub epochs: usize,
    /// Weight of GMLVQ's eigenvalue regulariser.
    pub eigenvalue_weight: f64,
    /// Number format of the backbone's products.
    pub precision: Precision,
}

impl HeadTraining {
    /// The Adam rate, or an error naming the optimizer.
    pub fn adam_lr(&self) -> Result<f64> {
        match self.optimizer.kind {
            OptimizerKind::Adam => Ok(self.optimizer.lr),
            other => anyhow::bail!("spec: optimizer {other:?}; the estimator's heads train with Adam"),
        }
    }

    /// `head` (its class count comes from the labels) starting at `init`, on `backbone` or on the
    /// inputs, as the estimator's LVQ spec.
    pub fn lvq(&self, head: &LvqConfig, init: HeadInit, backbone: Option<BackboneSpec>) -> Result<LvqSpec> {
        Ok(LvqSpec {
            per_class: head.per_class,
            dissimilarity: head.dissimilarity,
            loss: head.loss,
            init,
            epochs: self.epochs,
            batch_size: self.batch_size,
            lr: self.adam_lr()?,
            training: LvqTraining::Gradient,
            backbone,
            precision: self.precision,
            eigenvalue_weight: self.eigenvalue_weight,
            reject: None,
        })
    }

    /// The softmax baseline on `backbone` as the estimator's softmax spec.
    pub fn softmax(&self, backbone: Option<BackboneSpec>) -> Result<SoftmaxSpec> {
        Ok(SoftmaxSpec { epochs: self.epochs, batch_size: self.batch_size, lr: self.adam_lr()?, backbone, precision: self.precision })
    }
}

/// An experiment's backbone (a CNN, plain or with kernel-prototype convolutions, or a dense
/// net: paper 003's heads sit on these) as the estimator's backbone spec, its input size taken
/// from the data.
pub fn backbone_spec(config: &AutoencoderConfig) -> Result<BackboneSpec> {
    Ok(match config {
        AutoencoderConfig::Cnn(c) => BackboneSpec::Cnn { filters: c.filters.clone(), latent_dim: c.latent_dim, layer: c.layer },
        AutoencoderConfig::Dense(d) => BackboneSpec::Dense { hidden: d.hidden.clone(), latent_dim: d.latent_dim },
        other => anyhow::bail!("backbone {other:?}: paper 003's heads sit on a CNN or a dense net"),
    })
}

/// Fits `model` seeded by `seed` on `train` through the estimator, scored on `eval` every epoch.
pub fn fit(model: ModelSpec, seed: u64, train: &Dataset, eval: Option<&Dataset>, observer: &mut dyn Observer) -> Result<Fitted> {
    let estimator = Estimator::new(EstimatorConfig { seed, ..EstimatorConfig::new(model) })?.without_training_scores();
    Ok(estimator.fit_tensors(train, eval, observer)?)
}

/// The LVQ head (and backbone) of a fitted LVQ model.
pub fn lvq_model(fitted: &Fitted) -> Result<&LvqModel> {
    fitted.trained().as_any().downcast_ref::<LvqModel>().context("an LVQ model")
}

/// The backbone and head of a model the estimator fitted (an LVQ head or the softmax baseline).
pub fn head_of(fitted: &Fitted) -> Result<(Option<&dyn Backbone>, TrainedHead<'_>)> {
    let model = fitted.trained().as_any();
    if let Some(m) = model.downcast_ref::<LvqModel>() {
        return Ok((m.backbone(), TrainedHead::Prototype(m.head())));
    }
    let m = model.downcast_ref::<SoftmaxModel>().context("paper 003 fits LVQ heads and the softmax baseline only")?;
    Ok((m.backbone(), TrainedHead::Softmax(m.head())))
}
