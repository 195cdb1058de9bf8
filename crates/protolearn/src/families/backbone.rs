//! The autoencoder backbones of the deep families (DESOM, DDCL): dense or convolutional, sized
//! from the data.

use crate::error::{Error, Result};
use protolearn_layers::autoencoder::{AutoencoderConfig, ConvConfig, DenseConfig};
use serde::{Deserialize, Serialize};

/// The autoencoder of a DESOM; its input size comes from the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BackboneSpec {
    /// Fully connected `D - hidden... - L`, decoder mirrored (paper 002, Sec. 4.1.3).
    Dense {
        /// Hidden widths, input side first (paper: `[500, 500, 2000]`).
        hidden: Vec<i64>,
        /// Latent dimension `L` (paper 002, Table 2: 10).
        latent_dim: i64,
    },
    /// Convolutional (ConvDESOM) on images `[C, H, W]` (data of shape `[n, C, H, W]`, or
    /// `[n, H, W]` for one channel).
    Conv {
        /// Encoder filters (paper: `[32, 64, 128, 256]`).
        filters: Vec<i64>,
        /// Latent dimension `L`.
        latent_dim: i64,
    },
}

impl Default for BackboneSpec {
    /// The paper's dense `D-500-500-2000-10`.
    fn default() -> Self {
        BackboneSpec::Dense { hidden: vec![500, 500, 2000], latent_dim: 10 }
    }
}


impl BackboneSpec {
    /// The autoencoder for samples of shape `sample_shape`.
    pub fn config(&self, sample_shape: &[usize]) -> Result<AutoencoderConfig> {
        let dims: Vec<i64> = sample_shape.iter().map(|&d| d as i64).collect();
        Ok(match self {
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

    /// The per-sample shape the backbone consumes: `[1, H, W]` images for a convolutional one
    /// (from `[H, W]`), flat vectors for a dense one.
    pub fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        match (self, sample_shape) {
            (BackboneSpec::Conv { .. }, [h, w]) => vec![1, *h, *w],
            (BackboneSpec::Conv { .. }, _) => sample_shape.to_vec(),
            (BackboneSpec::Dense { .. }, _) => vec![sample_shape.iter().product()],
        }
    }
}
