//! What the classifier families (the LVQ heads, the softmax baseline) share: a head on the
//! scaled inputs or on a backbone trained with it end to end, the head's inputs, the number of
//! classes from the labels, and the backbone rebuilt from a model file.

use super::backbone::BackboneSpec;
use super::SavedModel;
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{encode_chunked, Backbone};
use tch::{nn, Tensor};

/// A trained head `H` (variables `head.*`) and its backbone, if any (`backbone.*`).
#[derive(Debug)]
pub struct Headed<H> {
    pub(crate) vs: nn::VarStore,
    pub(crate) backbone: Option<Box<dyn Backbone>>,
    pub(crate) head: H,
}

impl<H> Headed<H> {
    /// The backbone under the head, if any.
    pub fn backbone(&self) -> Option<&dyn Backbone> {
        self.backbone.as_deref()
    }

    /// The head.
    pub fn head(&self) -> &H {
        &self.head
    }

    /// The head's inputs: the backbone's features, else the samples flattened.
    ///
    /// # Shapes
    /// `x`: `[n, ...input]` → `[n, L]`.
    pub(crate) fn features(&self, x: &Tensor) -> Result<Tensor> {
        match &self.backbone {
            Some(backbone) => Ok(encode_chunked(backbone.as_ref(), x)?),
            None => Ok(x.flatten(1, -1)),
        }
    }

    /// Every variable, by name (what the model file holds).
    pub(crate) fn variables(&self) -> Vec<(String, Tensor)> {
        self.vs.variables().into_iter().collect()
    }
}

/// The number of classes of `data`'s labels (`max + 1`), or an error naming `what` when it has
/// none.
pub(crate) fn classes_of(data: &Dataset, what: &str) -> Result<i64> {
    match data.y.as_ref() {
        Some(y) => Ok(y.max().int64_value(&[]) + 1),
        None => Err(Error::NoLabels {
            what: format!("fitting {what}"),
            missing: "the training data has none (name the label column: --labels)".into(),
        }),
    }
}

/// The backbone of `spec` under `vs / "backbone"`, for a model being loaded (its seed only draws
/// initial weights, which the file's replace), and the size `L` of the head's inputs.
pub(crate) fn load_backbone(
    spec: Option<&BackboneSpec>,
    vs: &nn::VarStore,
    saved: &SavedModel<'_>,
) -> Result<(Option<Box<dyn Backbone>>, i64)> {
    let backbone = match spec {
        Some(spec) => Some(spec.config(&saved.input.sample_shape)?.build(&(vs.root() / "backbone"), 0)?),
        None => None,
    };
    let d = backbone.as_ref().map_or(saved.input.n_features() as i64, |b| b.latent_dim());
    Ok((backbone, d))
}
