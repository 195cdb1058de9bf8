//! The prototype classifiers' spec (paper 003): GLVQ, GMLVQ, GRLVQ, RSLVQ and CELVQ heads.

use super::{positive, positive_finite};
use crate::error::Result;
use protolearn_layers::lvq::{DissimilarityConfig, LvqConfig, LvqLoss, Transfer};
use protolearn_train::lvq::HeadInit;
use serde::{Deserialize, Serialize};

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
        }
    }

    /// The head for `classes` classes.
    pub fn head(&self, classes: i64) -> LvqConfig {
        LvqConfig { classes, per_class: self.per_class, dissimilarity: self.dissimilarity, loss: self.loss }
    }

    pub(super) fn validate(&self) -> Result<()> {
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)?;
        // Two classes stand in for the labels' count, which only the data knows.
        Ok(self.head(2).validate()?)
    }
}

impl Default for LvqSpec {
    fn default() -> Self {
        Self::new()
    }
}
