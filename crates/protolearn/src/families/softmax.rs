//! The softmax baseline of paper 003 (Eq. 18): a linear layer `o = z W^T + b` on the scaled
//! inputs or on a backbone trained with it end to end, class probabilities `softmax(o)`,
//! cross-entropy; the classifier the prototype heads replace, fitted on the same trainer, seeds and
//! batches as they are. Its dissimilarities are the surprisals `-log p_k(x)` (non-negative, the
//! smallest is the predicted class) and its "prototypes" the rows of `W`, one per class.

use super::backbone::BackboneSpec;
use super::classifier::{classes_of, load_backbone, Headed};
use super::lvq::{default_lvq_batch_size, default_lvq_epochs, default_lvq_lr};
use super::{Family, FitContext, SavedModel, TrainedModel};
use crate::config::{positive, positive_finite};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::precision::Precision;
use protolearn_train::classifier::LinearHead;
use protolearn_train::lvq::{fit_softmax_checkpointed, LvqTrainConfig};
use protolearn_train::observer::Observer;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Kind, Tensor};

/// Name of the head's weight in the model file (`[classes, L]`).
const HEAD_WEIGHT: &str = "head.weight";

/// A softmax linear head on the scaled inputs or on a backbone; the number of classes comes from
/// the labels. The defaults are the LVQ heads', so that the two compare on equal terms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SoftmaxSpec {
    /// Epochs of shuffled minibatches (default 100, as the LVQ heads).
    #[serde(default = "default_lvq_epochs")]
    pub epochs: usize,
    /// Minibatch size (default 32; capped at the sample count).
    #[serde(default = "default_lvq_batch_size")]
    pub batch_size: usize,
    /// Adam learning rate (default 0.01).
    #[serde(default = "default_lvq_lr")]
    pub lr: f64,
    /// A backbone under the head, trained with it end to end (paper 003, Sec. 6: `{ kind =
    /// "cnn", filters = [32, 64], latent_dim = 64 }` on images). None (the default): the head on
    /// the inputs, a multinomial logistic regression.
    #[serde(default)]
    pub backbone: Option<BackboneSpec>,
    /// Number format of the backbone's dense and 3x3-convolution products (`fp32` default;
    /// `bf16`: bfloat16 products, float32 weights, head and loss).
    #[serde(default)]
    pub precision: Precision,
}

impl SoftmaxSpec {
    /// A softmax head on the inputs with the defaults above.
    pub fn new() -> Self {
        SoftmaxSpec {
            epochs: default_lvq_epochs(),
            batch_size: default_lvq_batch_size(),
            lr: default_lvq_lr(),
            backbone: None,
            precision: Precision::Fp32,
        }
    }
}

impl Default for SoftmaxSpec {
    fn default() -> Self {
        Self::new()
    }
}

impl Family for SoftmaxSpec {
    fn kind(&self) -> &'static str {
        "softmax"
    }

    fn validate(&self) -> Result<()> {
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive_finite("lr", self.lr)
    }

    fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        match &self.backbone {
            Some(backbone) => backbone.input_shape(sample_shape),
            None => vec![sample_shape.iter().product()],
        }
    }

    fn fit(&self, data: &Dataset, context: &FitContext<'_>, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let classes = classes_of(data, "a softmax head")?;
        let backbone = self.backbone.as_ref().map(|b| b.config(&context.input.sample_shape)).transpose()?;
        let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: self.lr };
        let train = LvqTrainConfig {
            precision: self.precision,
            ..LvqTrainConfig::new(optimizer, self.batch_size.min(data.n_samples()), self.epochs, context.seed)
        };
        // Scored (test accuracy per epoch) only on an evaluation set given explicitly.
        let run = fit_softmax_checkpointed(data, context.eval, backbone.as_ref(), classes, &train, context.checkpointing, observer)?;
        Ok(Box::new(Headed { vs: run.vs, backbone: run.backbone, head: run.head }))
    }

    fn load(&self, saved: &SavedModel<'_>) -> Result<Box<dyn TrainedModel>> {
        let mut vs = nn::VarStore::new(Device::Cpu);
        let (backbone, d) = load_backbone(self.backbone.as_ref(), &vs, saved)?;
        let classes = saved.tensor(HEAD_WEIGHT)?.size()[0];
        // The seed only draws initial weights, which the file's replace.
        let head = LinearHead::new(&(vs.root() / "head"), d, classes, &mut ChaCha8Rng::seed_from_u64(0));
        saved.copy_into(&mut vs)?;
        Ok(Box::new(Headed { vs, backbone, head }))
    }
}

/// A trained softmax head (variables `head.weight`, `head.bias`) and its backbone, if any
/// (`backbone.*`).
pub type SoftmaxModel = Headed<LinearHead>;

impl TrainedModel for SoftmaxModel {
    /// The surprisals `-log p_k(x) = -log softmax(z W^T + b)_k` `[n, classes]`: non-negative,
    /// smallest for the predicted class (so `predict` is the argmax of the probabilities).
    fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.head.logits(&self.codes(x)?).log_softmax(-1, Kind::Float).neg().clamp_min(0.0))
    }

    /// The backbone's features (the head's inputs), else `x` itself.
    fn codes(&self, x: &Tensor) -> Result<Tensor> {
        self.features(x)
    }

    /// The rows of `W`, one per class (directions, not points among the codes).
    fn prototypes(&self) -> Tensor {
        self.head.weight.detach()
    }

    /// None: the rows of a linear layer are not points of the input space.
    fn decode(&self, _codes: &Tensor) -> Result<Tensor> {
        Err(Error::Shape {
            what: "softmax head weights in input units".into(),
            expected: "prototypes with an image in the input space".into(),
            found: "the rows of a linear layer (class directions, not points)".into(),
        })
    }

    fn prototype_labels(&self) -> Option<Tensor> {
        let classes = self.head.weight.size()[0];
        Some(Tensor::arange(classes, (Kind::Int64, self.head.weight.device())))
    }

    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        self.variables()
    }
}
