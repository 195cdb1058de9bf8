//! The prototype classifiers of paper 003: GLVQ, GMLVQ, GRLVQ, RSLVQ and CELVQ heads on the
//! scaled inputs or on a backbone trained with them end to end (the CNN of paper 003, plain or
//! with kernel-prototype convolutions), trained by gradient descent on the head's loss (or, on
//! the inputs, by Kohonen's LVQ1 / LVQ2.1 rules); they need labels and, on the inputs and
//! trained by gradient, can mask missing input components (component-wise dissimilarities).

use super::backbone::BackboneSpec;
use super::classifier::{classes_of, load_backbone, Headed};
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::lvq::reject::RejectCosts;
use protolearn_layers::lvq::{DissimilarityConfig, Lvq1, Lvq21, LvqConfig, LvqHead, LvqLoss, Transfer};
use protolearn_layers::precision::Precision;
use protolearn_train::lvq::{fit_lvq_checkpointed, fit_lvq_rule, HeadInit, LvqTrainConfig, RuleSchedule, REJECT_THRESHOLD};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};

/// Name of an LVQ head's prototypes in the model file (`[K, ·]`, the dissimilarity's space).
pub(crate) const HEAD_PROTOTYPES: &str = "head.prototypes";

/// A prototype classifier head (paper 003) on the scaled inputs or on a backbone; the number of
/// classes comes from the labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LvqSpec {
    /// Prototypes per class (default 1).
    #[serde(default = "default_per_class")]
    pub per_class: i64,
    /// The dissimilarity (default squared Euclidean; `{ kind = "omega", dim = D, trace_normalize
    /// = true }` for GMLVQ, `{ kind = "relevance" }` for GRLVQ).
    #[serde(default = "default_dissimilarity")]
    pub dissimilarity: DissimilarityConfig,
    /// The loss (default GLVQ with the identity transfer; `{ kind = "rslvq", sigma = 1.0 }`,
    /// `{ kind = "celvq" }`).
    #[serde(default = "default_lvq_loss")]
    pub loss: LvqLoss,
    /// Where the prototypes start (default: random samples of each class).
    #[serde(default)]
    pub init: HeadInit,
    /// Epochs of shuffled minibatches (library default 100).
    #[serde(default = "default_lvq_epochs")]
    pub epochs: usize,
    /// Minibatch size (library default 32; capped at the sample count).
    #[serde(default = "default_lvq_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate (library default 0.01).
    #[serde(default = "default_lvq_lr")]
    pub lr: f64,
    /// How the head learns: `{ kind = "gradient" }` descent on `loss` with Adam at `lr` (the
    /// default), or Kohonen's update rules `{ kind = "lvq1", lr = { start = 0.3, end = 0.01 } }`
    /// and `{ kind = "lvq21", lr = ..., window = 0.3 }` (Euclidean heads; `loss` and `lr` unused).
    #[serde(default)]
    pub training: LvqTraining,
    /// A backbone under the head, trained with it end to end on the head's loss (paper 003,
    /// Sec. 6): `{ kind = "cnn", filters = [32, 64], latent_dim = 64 }` on images (with
    /// `layer` for kernel-prototype convolutions), or `{ kind = "dense", ... }`; the head then
    /// compares the backbone's features. None (the default): the head on the inputs.
    #[serde(default)]
    pub backbone: Option<BackboneSpec>,
    /// Number format of the backbone's dense and 3x3-convolution products (`fp32` default;
    /// `bf16`: bfloat16 products, float32 weights, head, distances and loss).
    #[serde(default)]
    pub precision: Precision,
    /// Weight of GMLVQ's eigenvalue regulariser `-log det(Ω Ωᵀ)` (paper 003, Sec. 3; default 0:
    /// none).
    #[serde(default)]
    pub eigenvalue_weight: f64,
    /// Train a reject threshold `θ` on the relative similarity `rs = (d⁻ - d⁺) / (d⁻ + d⁺)`
    /// together with the network, adding the expected cost `λe a e + λr (1 - a)` (soft
    /// acceptance `a = sigmoid((rs - θ) / s)`, soft error `e = sigmoid(μ / s)`) to the loss
    /// (paper 003, Sec. 7.4): `{ error = 1.0, reject = 0.25, width = 0.05 }`. The model file
    /// keeps `θ` ([`LvqModel::reject_threshold`]); gradient training only. None (the default): no
    /// threshold.
    #[serde(default)]
    pub reject: Option<RejectCosts>,
}

/// How an LVQ head learns (paper 003, Sec. 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum LvqTraining {
    /// Gradient descent on the head's loss (GLVQ, RSLVQ, CELVQ and their metrics).
    #[default]
    Gradient,
    /// Kohonen's LVQ1: the winner moves towards a sample of its class, away from one of another.
    Lvq1(Lvq1),
    /// Kohonen's LVQ2.1: the two nearest move when they straddle the class border within the
    /// relative `window`.
    Lvq21(Lvq21),
}

fn default_per_class() -> i64 {
    1
}

fn default_dissimilarity() -> DissimilarityConfig {
    DissimilarityConfig::SquaredEuclidean
}

fn default_lvq_loss() -> LvqLoss {
    LvqLoss::Glvq { transfer: Transfer::Identity }
}

pub(crate) fn default_lvq_epochs() -> usize {
    100
}

pub(crate) fn default_lvq_batch_size() -> usize {
    32
}

pub(crate) fn default_lvq_lr() -> f64 {
    0.01
}

impl LvqSpec {
    /// A GLVQ head with one prototype per class and the defaults above.
    pub fn new() -> Self {
        LvqSpec {
            per_class: default_per_class(),
            dissimilarity: default_dissimilarity(),
            loss: default_lvq_loss(),
            init: HeadInit::default(),
            epochs: default_lvq_epochs(),
            batch_size: default_lvq_batch_size(),
            lr: default_lvq_lr(),
            training: LvqTraining::Gradient,
            backbone: None,
            precision: Precision::Fp32,
            eigenvalue_weight: 0.0,
            reject: None,
        }
    }

    /// The head for `classes` classes.
    pub fn head(&self, classes: i64) -> LvqConfig {
        LvqConfig { classes, per_class: self.per_class, dissimilarity: self.dissimilarity, loss: self.loss }
    }
}

impl Family for LvqSpec {
    fn kind(&self) -> &'static str {
        "lvq"
    }

    fn validate(&self) -> Result<()> {
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)?;
        if !(self.eigenvalue_weight.is_finite() && self.eigenvalue_weight >= 0.0) {
            return Err(Error::invalid("eigenvalue_weight", "a finite number >= 0", self.eigenvalue_weight));
        }
        if self.training != LvqTraining::Gradient && self.dissimilarity != DissimilarityConfig::SquaredEuclidean {
            return Err(Error::invalid(
                "training",
                "gradient for a head with a learned metric (LVQ1 and LVQ2.1 are Euclidean)",
                format!("{:?}", self.training),
            ));
        }
        if let Some(costs) = &self.reject {
            costs.validate()?;
            if self.training != LvqTraining::Gradient {
                return Err(Error::invalid(
                    "reject",
                    "gradient training for a learned reject threshold (LVQ1 and LVQ2.1 have no loss to add its cost to)",
                    format!("{:?}", self.training),
                ));
            }
        }
        if self.training != LvqTraining::Gradient && self.backbone.is_some() {
            return Err(Error::invalid(
                "training",
                "gradient for a head on a backbone (LVQ1 and LVQ2.1 move prototypes among the inputs)",
                format!("{:?}", self.training),
            ));
        }
        // Two classes stand in for the labels' count, which only the data knows.
        Ok(self.head(2).validate()?)
    }

    /// Gradient training of a head on the inputs only: Kohonen's rules compare complete inputs,
    /// and a backbone's features have no missing components.
    fn compares_components(&self) -> bool {
        self.training == LvqTraining::Gradient && self.backbone.is_none()
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        match &self.backbone {
            Some(backbone) => backbone.input_shape(sample_shape),
            None => vec![sample_shape.iter().product()],
        }
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let classes = classes_of(data, "an LVQ head")?;
        let (head, batch_size) = (self.head(classes), self.batch_size.min(data.n_samples()));
        let backbone = self.backbone.as_ref().map(|b| b.config(&context.input.sample_shape)).transpose()?;
        let rules = RuleSchedule { batch_size, epochs: self.epochs, seed: context.seed };
        let run = match self.training {
            LvqTraining::Gradient => {
                let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr };
                let train = LvqTrainConfig {
                    init: self.init,
                    components: context.components,
                    precision: self.precision,
                    eigenvalue_weight: self.eigenvalue_weight,
                    reject: self.reject,
                    ..LvqTrainConfig::new(optimizer, batch_size, self.epochs, context.seed)
                };
                // Scored (test accuracy per epoch) only on an evaluation set given explicitly.
                fit_lvq_checkpointed(data, context.eval, backbone.as_ref(), &head, &train, context.checkpointing, observer)?
            }
            LvqTraining::Lvq1(rule) => fit_lvq_rule(data, None, &head, &rule, &rules, context.checkpointing, observer)?,
            LvqTraining::Lvq21(rule) => fit_lvq_rule(data, None, &head, &rule, &rules, context.checkpointing, observer)?,
        };
        Ok(Box::new(Headed { vs: run.vs, backbone: run.backbone, head: run.head }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let (backbone, d) = load_backbone(self.backbone.as_ref(), &vs, saved)?;
        let prototypes = saved.tensor(HEAD_PROTOTYPES)?;
        let classes = prototypes.size()[0] / self.per_class.max(1);
        let head = self.head(classes).build_from(&(vs.root() / "head"), d, prototypes)?.with_components(saved.components)?;
        if self.reject.is_some() {
            let _threshold = (vs.root() / "head").zeros(REJECT_THRESHOLD, &[]);
        }
        saved.copy_into(&mut vs)?;
        Ok(Box::new(Headed { vs, backbone, head }))
    }
}

/// A trained prototype classifier head (variables `head.prototypes`, `head.metric.*`, and
/// `head.reject_threshold` when trained with reject costs) and its backbone, if any
/// (`backbone.*`).
pub type LvqModel = Headed<LvqHead>;

impl LvqModel {
    /// The reject threshold `θ` on the relative similarity learned with reject costs
    /// ([`LvqSpec::reject`]; paper 003, Sec. 7.4): accept a sample iff its `rs > θ`.
    pub fn reject_threshold(&self) -> Option<f64> {
        self.vs.variables().get(&format!("head.{REJECT_THRESHOLD}")).map(|t| t.double_value(&[]))
    }
}

impl TrainedModel for LvqModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.head.distances(&self.codes(x)?)?)
    }

    /// The backbone's features (the head's inputs), else `x` itself.
    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        self.features(x)
    }

    fn prototypes(&self) -> Tensor {
        self.head.prototypes.detach()
    }

    /// The codes themselves for a head on the inputs; none on a backbone, whose features no
    /// decoder maps back.
    fn decode(&self, codes: &Tensor) -> Result<Tensor> {
        match &self.backbone {
            None => Ok(codes.shallow_clone()),
            Some(_) => Err(Error::Shape {
                what: "LVQ prototypes in input units".into(),
                expected: "prototypes with an image in the input space".into(),
                found: "prototypes among a backbone's features (an encoder without a decoder)".into(),
            }),
        }
    }

    fn prototype_labels(&self) -> Option<Tensor> {
        Some(self.head.labels().shallow_clone())
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.variables()
    }
}

impl Default for LvqSpec {
    fn default() -> Self {
        Self::new()
    }
}
