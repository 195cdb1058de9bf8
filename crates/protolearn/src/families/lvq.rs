//! The prototype classifiers of paper 003: GLVQ, GMLVQ, GRLVQ, RSLVQ and CELVQ heads on the
//! scaled inputs, trained by gradient descent on the head's loss (or by Kohonen's LVQ1 / LVQ2.1
//! rules); they need labels and, trained by gradient, can mask missing input components
//! (component-wise dissimilarities).

use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::lvq::{DissimilarityConfig, Lvq1, Lvq21, LvqConfig, LvqHead, LvqLoss, Transfer};
use protolearn_train::lvq::{fit_lvq_checkpointed, fit_lvq_rule, HeadInit, LvqTrainConfig, RuleSchedule};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};

/// Name of an LVQ head's prototypes in the model file (`[K, ·]`, the dissimilarity's space).
pub(crate) const HEAD_PROTOTYPES: &str = "head.prototypes";

/// A prototype classifier head (paper 003) on the scaled inputs; the number of classes comes
/// from the labels.
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

fn default_lvq_epochs() -> usize {
    100
}

fn default_lvq_batch_size() -> usize {
    32
}

fn default_lvq_lr() -> f64 {
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
        if self.training != LvqTraining::Gradient && self.dissimilarity != DissimilarityConfig::SquaredEuclidean {
            return Err(Error::invalid(
                "training",
                "gradient for a head with a learned metric (LVQ1 and LVQ2.1 are Euclidean)",
                format!("{:?}", self.training),
            ));
        }
        // Two classes stand in for the labels' count, which only the data knows.
        Ok(self.head(2).validate()?)
    }

    /// Gradient training only: Kohonen's rules compare complete inputs.
    fn compares_components(&self) -> bool {
        self.training == LvqTraining::Gradient
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let Some(classes) = data.y.as_ref().map(|y| y.max().int64_value(&[]) + 1) else {
            return Err(Error::NoLabels {
                what: "fitting an LVQ head".into(),
                missing: "the training data has none (name the label column: --labels)".into(),
            });
        };
        let (head, batch_size) = (self.head(classes), self.batch_size.min(data.n_samples()));
        let rules = RuleSchedule { batch_size, epochs: self.epochs, seed: context.seed };
        let run = match self.training {
            LvqTraining::Gradient => {
                let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr };
                let train = LvqTrainConfig {
                    init: self.init,
                    components: context.components,
                    ..LvqTrainConfig::new(optimizer, batch_size, self.epochs, context.seed)
                };
                fit_lvq_checkpointed(data, None, None, &head, &train, context.checkpointing, observer)?
            }
            LvqTraining::Lvq1(rule) => fit_lvq_rule(data, None, &head, &rule, &rules, context.checkpointing, observer)?,
            LvqTraining::Lvq21(rule) => fit_lvq_rule(data, None, &head, &rule, &rules, context.checkpointing, observer)?,
        };
        Ok(Box::new(LvqModel { vs: run.vs, head: run.head }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let prototypes = saved.tensor(HEAD_PROTOTYPES)?;
        let classes = prototypes.size()[0] / self.per_class.max(1);
        let d = saved.input.n_features() as i64;
        let head = self.head(classes).build_from(&(vs.root() / "head"), d, prototypes)?.with_components(saved.components)?;
        saved.copy_into(&mut vs)?;
        Ok(Box::new(LvqModel { vs, head }))
    }
}

/// A trained prototype classifier head (variables `head.prototypes`, `head.metric.*`).
#[derive(Debug)]
pub struct LvqModel {
    vs: nn::VarStore,
    head: LvqHead,
}

impl TrainedModel for LvqModel {
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.head.distances(x)?)
    }

    fn prototypes(&self) -> Tensor {
        self.head.prototypes.detach()
    }

    fn prototype_labels(&self) -> Option<Tensor> {
        Some(self.head.labels().shallow_clone())
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().collect()
    }
}

impl Default for LvqSpec {
    fn default() -> Self {
        Self::new()
    }
}
