//! The trained model behind a [`crate::Fitted`]: a SOM layer, a DESOM, the prototypes of a
//! competitive layer, an LVQ head, a DDCL or k-means centroids, with the one operation every estimator method builds on (squared
//! distances of scaled inputs to the prototypes in the model's space) and the named tensors that
//! the model file holds.

use crate::config::{BackboneSpec, DesomSpec, SomSpec};
use crate::error::{Error, Result};
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::Backbone;
use protolearn_layers::autoencoder::{AutoencoderConfig, ConvConfig, DenseConfig};
use protolearn_layers::desom::{Desom, DesomConfig};
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::lvq::LvqHead;
use protolearn_layers::missing::Components;
use protolearn_layers::som::{SomConfig, SomLayer};
use protolearn_metrics::Grid;
use tch::nn::{self, Module};
use tch::Tensor;

/// Name of a SOM's prototypes in the model file (`[K, D]`, scaled input space).
pub(crate) const SOM_WEIGHT: &str = "som.weight";
/// Name of a competitive layer's prototypes in the model file (`[k, D]`, scaled input space).
pub(crate) const PROTOTYPES: &str = "prototypes";
/// Prefix of a backbone's variables (DESOM, DDCL).
pub(crate) const BACKBONE_PREFIX: &str = "ae.";
/// Name of an LVQ head's prototypes in the model file (`[K, ·]`, the dissimilarity's space).
pub(crate) const HEAD_PROTOTYPES: &str = "head.prototypes";

/// A trained model.
#[derive(Debug)]
pub(crate) enum Model {
    /// A plain SOM (variable `som.weight`).
    Som { vs: nn::VarStore, layer: SomLayer },
    /// DESOM (variables `ae.*` and `som.weight`).
    Desom { vs: nn::VarStore, model: Desom },
    /// The final prototypes of a competitive layer `[k, D]` (a DCL's prototypes are a function of
    /// its training set; only the prototypes are needed to use it).
    Competitive { prototypes: Tensor },
    /// A prototype classifier head (variables `head.prototypes`, `head.metric.*`).
    Lvq { vs: nn::VarStore, head: LvqHead },
    /// A DDCL's backbone (variables `ae.*`) and its inference prototypes `[k, L]` in feature
    /// space (the DCL's output for its reference set, or the running average of the training
    /// prototypes, or the k-means centroids of the k-means ablation).
    Ddcl { vs: nn::VarStore, backbone: Box<dyn Backbone>, prototypes: Tensor },
    /// k-means centroids `[k, D]` (scaled input space) and the input components they are
    /// compared over.
    KMeans { centroids: Tensor, components: Components },
}

impl Model {
    /// Squared distances of scaled inputs `x` `[n, ...]` to the prototypes, in the model's space
    /// (the latent space for DESOM), without gradient.
    ///
    /// # Shapes
    /// `x`: `[n, ...input]` → `[n, K]`.
    pub(crate) fn distances(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(match self {
            Model::Som { layer, .. } => {
                layer.check_input(x)?;
                layer.forward(x)
            }
            Model::Desom { model, .. } => model.som.forward(&model.encode_all(x)?),
            Model::Competitive { prototypes } => squared_euclidean(x, prototypes),
            Model::Lvq { head, .. } => head.distances(x)?,
            Model::Ddcl { backbone, prototypes, .. } => squared_euclidean(&encode_chunked(backbone.as_ref(), x)?, prototypes),
            Model::KMeans { centroids, components } => components.squared_euclidean(x, centroids),
        })
    }

    /// The codes the prototypes live among: DESOM's latent codes `f(x)`, else `x` itself.
    ///
    /// # Shapes
    /// `x`: `[n, ...input]` → `[n, L]`.
    pub(crate) fn codes(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Model::Desom { model, .. } => model.encode_all(x),
            Model::Ddcl { backbone, .. } => encode_chunked(backbone.as_ref(), x),
            _ => Ok(x.shallow_clone()),
        }
        .map_err(Error::from)
    }

    /// The prototypes in the model's space `[K, L]`.
    pub(crate) fn prototypes(&self) -> Tensor {
        match self {
            Model::Som { layer, .. } => layer.weight.detach(),
            Model::Desom { model, .. } => model.som.weight.detach(),
            Model::Competitive { prototypes } => prototypes.shallow_clone(),
            Model::Lvq { head, .. } => head.prototypes.detach(),
            Model::Ddcl { prototypes, .. } => prototypes.shallow_clone(),
            Model::KMeans { centroids, .. } => centroids.shallow_clone(),
        }
    }

    /// The class of each prototype, for a classifier head.
    pub(crate) fn prototype_labels(&self) -> Option<Tensor> {
        match self {
            Model::Lvq { head, .. } => Some(head.labels().shallow_clone()),
            _ => None,
        }
    }

    /// The prototypes mapped to the (scaled) input space `[K, ...input]`: DESOM's decoded
    /// prototypes `g(m_k)`, else the prototypes themselves.
    pub(crate) fn input_space_prototypes(&self) -> Result<Tensor> {
        match self {
            Model::Desom { model, .. } => Ok(model.decoded_prototypes()?),
            Model::Ddcl { backbone, prototypes, .. } if backbone.has_decoder() => {
                let _guard = tch::no_grad_guard();
                Ok(backbone.decode(prototypes)?.contiguous())
            }
            _ => Ok(self.prototypes()),
        }
    }

    /// The map grid, for the SOM families.
    pub(crate) fn grid(&self) -> Option<&Grid> {
        match self {
            Model::Som { layer, .. } => Some(layer.grid()),
            Model::Desom { model, .. } => Some(model.som.grid()),
            Model::Competitive { .. } | Model::Lvq { .. } | Model::Ddcl { .. } | Model::KMeans { .. } => None,
        }
    }

    /// The tensors the model file holds, by name.
    pub(crate) fn named_tensors(&self) -> Vec<(String, Tensor)> {
        match self {
            Model::Som { vs, .. } | Model::Desom { vs, .. } | Model::Lvq { vs, .. } => vs.variables().into_iter().collect(),
            Model::Competitive { prototypes } | Model::KMeans { centroids: prototypes, .. } => {
                vec![(PROTOTYPES.to_owned(), prototypes.shallow_clone())]
            }
            Model::Ddcl { vs, prototypes, .. } => vs
                .variables()
                .into_iter()
                .filter(|(name, _)| name.starts_with(BACKBONE_PREFIX))
                .chain(std::iter::once((PROTOTYPES.to_owned(), prototypes.shallow_clone())))
                .collect(),
        }
    }
}

/// The SOM layer config of a spec.
pub(crate) fn som_config(spec: &SomSpec) -> SomConfig {
    SomConfig { grid: spec.grid, init: spec.init, neighbourhood: spec.neighbourhood }
}

/// The autoencoder of `spec` for samples of shape `sample_shape`.
pub(crate) fn autoencoder_config(spec: &BackboneSpec, sample_shape: &[usize]) -> Result<AutoencoderConfig> {
    let dims: Vec<i64> = sample_shape.iter().map(|&d| d as i64).collect();
    Ok(match spec {
        BackboneSpec::Dense { hidden, latent_dim } => {
            AutoencoderConfig::Dense(DenseConfig { input_dim: dims.iter().product(), hidden: hidden.clone(), latent_dim: *latent_dim })
        }
        BackboneSpec::Conv { filters, latent_dim } => {
            let (channels, height, width) = match dims.as_slice() {
                [h, w] => (1, *h, *w),
                [c, h, w] => (*c, *h, *w),
                _ => {
                    return Err(Error::Shape {
                        what: "convolutional autoencoder input".into(),
                        expected: "images: data of shape [n, H, W] or [n, C, H, W]".into(),
                        found: format!("samples of shape {sample_shape:?}"),
                    })
                }
            };
            AutoencoderConfig::Conv(ConvConfig { channels, height, width, filters: filters.clone(), latent_dim: *latent_dim })
        }
    })
}

/// The DESOM model config of a spec for samples of shape `sample_shape`.
pub(crate) fn desom_config(spec: &DesomSpec, sample_shape: &[usize]) -> Result<DesomConfig> {
    Ok(DesomConfig {
        autoencoder: autoencoder_config(&spec.autoencoder, sample_shape)?,
        som: SomConfig { grid: spec.grid, init: spec.init, neighbourhood: spec.neighbourhood },
        gamma: spec.gamma,
    })
}

/// The per-sample input shape a model consumes: images for ConvDESOM, flat vectors otherwise.
pub(crate) fn model_sample_shape(spec: &crate::config::ModelSpec, sample_shape: &[usize]) -> Vec<usize> {
    match spec {
        crate::config::ModelSpec::Desom(DesomSpec { autoencoder: BackboneSpec::Conv { .. }, .. })
        | crate::config::ModelSpec::Ddcl(crate::config::DdclSpec { autoencoder: BackboneSpec::Conv { .. }, .. }) => match sample_shape {
            [h, w] => vec![1, *h, *w],
            _ => sample_shape.to_vec(),
        },
        _ => vec![sample_shape.iter().product()],
    }
}
