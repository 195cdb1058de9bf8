//! What the supervised heads share: the [`Classifier`] contract (classes from features), the
//! softmax linear head (the baseline of paper 003's experiments) with its cross-entropy
//! objective, and the accuracy evaluator.

use crate::error::{Error, Result};
use crate::trainer::{Column, Evaluator, LossTerms, Objective, StepInfo};
use protolearn_data::tensor::{Batch, Dataset};
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::Backbone;
use protolearn_layers::lvq::loss::class_distances;
use protolearn_layers::lvq::LvqHead;
use protolearn_layers::precision::Precision;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Kind, Tensor};

/// A head that assigns classes to feature rows.
pub trait Classifier {
    /// The class of every row of `z` `[n, d]` → `[n]` int64.
    fn predict(&self, z: &Tensor) -> Result<Tensor>;

    /// Class scores `[n, classes]` with gradient, whose row-wise argmax is [`Classifier::predict`]
    /// (the logits of a softmax head, `-min_{k: c_k = c} d_k` of a prototype head): what an
    /// adversarial attack differentiates.
    fn scores(&self, z: &Tensor) -> Result<Tensor>;
}

impl Classifier for LvqHead {
    fn predict(&self, z: &Tensor) -> Result<Tensor> {
        Ok(LvqHead::predict(self, z)?)
    }

    /// `-min_{k: c_k = c} d(z, w_k)` per class: the winner-takes-all rule as scores.
    fn scores(&self, z: &Tensor) -> Result<Tensor> {
        Ok(-class_distances(&self.distances(z)?, self.labels(), self.classes()))
    }
}

/// The features a head sees: the backbone's codes (with gradient), or the inputs as rows.
pub fn features(backbone: Option<&dyn Backbone>, x: &Tensor) -> Result<Tensor> {
    match backbone {
        Some(b) => Ok(b.encode(x)?),
        None => Ok(x.flatten(1, -1)),
    }
}

/// The labels of a batch, or an error for an unlabelled dataset.
pub fn batch_labels(batch: &Batch) -> Result<&Tensor> {
    batch.y.as_ref().ok_or_else(|| Error::InvalidConfig {
        field: "labels".into(),
        expected: "a labelled dataset for a supervised head".into(),
        found: "none".into(),
    })
}

/// A fully connected layer `o = z W^T + b` whose softmax gives the class probabilities (paper
/// 003, Eq. 18): the usual last layer that the prototype heads replace.
#[derive(Debug)]
pub struct LinearHead {
    /// `[classes, d]`, Glorot-uniform from the seed.
    pub weight: Tensor,
    /// `[classes]`, zero.
    pub bias: Tensor,
}

impl LinearHead {
    /// A head for `d` features and `classes` classes under `path`.
    pub fn new(path: &nn::Path, d: i64, classes: i64, rng: &mut ChaCha8Rng) -> Self {
        let limit = (6.0 / (d + classes) as f64).sqrt() as f32;
        let values: Vec<f32> = (0..d * classes).map(|_| rng.random_range(-limit..limit)).collect();
        let weight = path.var_copy("weight", &Tensor::from_slice(&values).view([classes, d]).to_device(path.device()));
        LinearHead { weight, bias: path.zeros("bias", &[classes]) }
    }

    /// The logits `[n, classes]`.
    pub fn logits(&self, z: &Tensor) -> Tensor {
        z.linear(&self.weight, Some(&self.bias))
    }
}

impl Classifier for LinearHead {
    fn predict(&self, z: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.logits(z).argmax(-1, false))
    }

    fn scores(&self, z: &Tensor) -> Result<Tensor> {
        Ok(self.logits(z))
    }
}

/// Cross-entropy of a softmax linear head on a backbone's features; logs `loss` and the batch
/// `accuracy`.
#[derive(Debug)]
pub struct SoftmaxObjective<'a> {
    /// The feature extractor (`None`: the inputs).
    pub backbone: Option<&'a dyn Backbone>,
    /// The head.
    pub head: &'a LinearHead,
    /// The number format of the backbone's products (the head and the loss stay float32).
    pub precision: Precision,
}

impl Objective for SoftmaxObjective<'_> {
    /// A mean over the batch's samples (each sample's term uses only its own distances):
    /// data-parallel.
    fn data_parallel(&self) -> bool {
        true
    }

    fn loss(&mut self, batch: &Batch, _at: &StepInfo) -> Result<LossTerms> {
        let y = batch_labels(batch)?;
        let logits = self.head.logits(&self.precision.run(|| features(self.backbone, &batch.x))?);
        let loss = logits.log_softmax(-1, Kind::Float).nll_loss(y);
        let accuracy = logits.detach().argmax(-1, false).eq_tensor(y).to_kind(Kind::Float).mean(Kind::Float);
        Ok(LossTerms { minimise: loss.shallow_clone(), logged: vec![("loss", loss), ("accuracy", accuracy)] })
    }
}

/// The column of the evaluation set's accuracy in a classifier's records ([`ClassifierRecord`]).
pub const TEST_ACCURACY: &str = "test_accuracy";

/// The typed view of a classifier's record (LVQ heads, the softmax baseline): the epoch's mean
/// training loss and batch accuracy (gradient training; the LVQ1 / LVQ2.1 rules have neither),
/// and the accuracy on the evaluation set when there is one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifierRecord {
    /// The 1-based step after which it was recorded.
    pub step: usize,
    /// Mean minimised loss over the interval.
    pub loss: Option<f64>,
    /// Mean accuracy on the interval's training batches.
    pub accuracy: Option<f64>,
    /// Accuracy on the evaluation set ([`TEST_ACCURACY`]), when one was given.
    pub test_accuracy: Option<f64>,
}

impl ClassifierRecord {
    /// Reads a trainer record written by a classifier's training.
    pub fn from_log(record: &crate::trainer::LogRecord) -> Self {
        ClassifierRecord {
            step: record.step,
            loss: record.scalar("loss"),
            accuracy: record.scalar("accuracy"),
            test_accuracy: record.scalar(TEST_ACCURACY),
        }
    }

    /// The evaluation accuracy of the last record of `history`: an error when the history is empty
    /// or has no evaluation.
    pub fn final_test_accuracy(history: &[crate::trainer::LogRecord]) -> Result<f64> {
        let last = history.last().ok_or_else(|| Error::InvalidConfig {
            field: "history".into(),
            expected: "at least one record".into(),
            found: "none".into(),
        })?;
        ClassifierRecord::from_log(last).test_accuracy.ok_or_else(|| Error::InvalidConfig {
            field: format!("record of phase `{}` at step {}", last.phase, last.step),
            expected: format!("a `{TEST_ACCURACY}` column (an evaluation set)"),
            found: "none".into(),
        })
    }
}

/// Accuracy of a classifier (on a backbone's features) on a labelled set, as column `name`.
pub struct AccuracyEvaluator<'a> {
    backbone: Option<&'a dyn Backbone>,
    head: &'a dyn Classifier,
    data: &'a Dataset,
    name: &'static str,
}

impl<'a> AccuracyEvaluator<'a> {
    /// The accuracy of `head` on `data`, logged as `name`.
    pub fn new(backbone: Option<&'a dyn Backbone>, head: &'a dyn Classifier, data: &'a Dataset, name: &'static str) -> Self {
        AccuracyEvaluator { backbone, head, data, name }
    }
}

impl Evaluator for AccuracyEvaluator<'_> {
    fn evaluate(&mut self, _at: &StepInfo) -> Result<Vec<Column>> {
        let y = self.data.y.as_ref().ok_or_else(|| Error::InvalidConfig {
            field: "eval".into(),
            expected: "a labelled dataset".into(),
            found: "none".into(),
        })?;
        let z = match self.backbone {
            Some(b) => encode_chunked(b, &self.data.x)?,
            None => self.data.x.flatten(1, -1),
        };
        let correct = self.head.predict(&z)?.eq_tensor(y).to_kind(Kind::Double).mean(Kind::Double).f_double_value(&[])?;
        Ok(vec![Column::scalar(self.name, correct)])
    }
}
