//! The backbones of the deep families, sized from the data: the autoencoders of DESOM, DDCL,
//! DeepCluster and the two-stage baselines (dense, convolutional for images, LSTM or temporal
//! convolution for sequences), and the encoder-only CNN of paper 003's classifier heads.

use crate::error::{Error, Result};
use protolearn_layers::autoencoder::{AutoencoderConfig, CnnConfig, ConvConfig, ConvLayer, DenseConfig, LstmConfig, TemporalConfig};
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
    /// The LSTM autoencoder of LSTM-DESOM on sequences `[T, D]` (paper 004, Sec. 4.2): a
    /// sample's `T · D` values, time-major (a `.ts` file's layout), are read as `T` steps of
    /// `features` values.
    Lstm {
        /// Hidden widths of the encoder's LSTM layers, input side first.
        hidden: Vec<i64>,
        /// Latent dimension `L`.
        latent_dim: i64,
        /// Values per step `D` (default 1: univariate series).
        #[serde(default = "one")]
        features: i64,
        /// Feed the decoder the previous step of the reversed target (paper 004, Sec. 4.2).
        #[serde(default)]
        conditional: bool,
    },
    /// The temporal (causal, dilated 1-D) convolutional autoencoder on sequences `[T, D]`
    /// (paper 004, Sec. 4.1), read as the LSTM's.
    TemporalConv {
        /// Filters of the convolution blocks, input side first; block `i` has dilation `2^i`.
        filters: Vec<i64>,
        /// Latent dimension `L`.
        latent_dim: i64,
        /// Values per step `D` (default 1: univariate series).
        #[serde(default = "one")]
        features: i64,
        /// Kernel size of every convolution (default 3).
        #[serde(default = "three")]
        kernel_size: i64,
        /// Max-pooling factor over time after the stack (default 2).
        #[serde(default = "two")]
        pool: i64,
    },
    /// The encoder-only CNN of paper 003's classifier heads on images `[C, H, W]`: per stage a
    /// 3x3 'same' convolution — plain with ReLU, or a kernel-prototype convolution (Sec. 6.2)
    /// with its activation — and 2x2 max-pooling, then a dense layer to the features. It has no
    /// decoder: for the LVQ heads, not for the autoencoder families.
    Cnn {
        /// Filters (kernel-prototypes) per stage, input side first (paper 003: `[32, 64]`).
        filters: Vec<i64>,
        /// Feature size `L`.
        latent_dim: i64,
        /// The convolution of every stage (default plain; `{ kind = "kernel-prototype",
        /// activation = { kind = "softmax", sigma = 1.0 }, bias = false, hard = true }`).
        #[serde(default)]
        layer: ConvLayer,
    },
}

fn one() -> i64 {
    1
}

fn two() -> i64 {
    2
}

fn three() -> i64 {
    3
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
                let (channels, height, width) = image_dims(sample_shape)?;
                AutoencoderConfig::Conv(ConvConfig { channels, height, width, filters: filters.clone(), latent_dim: *latent_dim })
            }
            BackboneSpec::Cnn { filters, latent_dim, layer } => {
                let (channels, height, width) = image_dims(sample_shape)?;
                let (filters, latent_dim, layer) = (filters.clone(), *latent_dim, *layer);
                AutoencoderConfig::Cnn(CnnConfig { channels, height, width, filters, latent_dim, layer })
            }
            BackboneSpec::Lstm { hidden, latent_dim, features, conditional } => {
                let steps = sequence_steps(sample_shape, *features)?;
                AutoencoderConfig::Lstm(LstmConfig {
                    steps,
                    features: *features,
                    hidden: hidden.clone(),
                    latent_dim: *latent_dim,
                    conditional: *conditional,
                })
            }
            BackboneSpec::TemporalConv { filters, latent_dim, features, kernel_size, pool } => {
                let steps = sequence_steps(sample_shape, *features)?;
                AutoencoderConfig::Temporal(TemporalConfig {
                    steps,
                    features: *features,
                    filters: filters.clone(),
                    kernel_size: *kernel_size,
                    pool: *pool,
                    latent_dim: *latent_dim,
                })
            }
        })
    }

    /// The per-sample shape the backbone consumes: `[1, H, W]` images for a convolutional one
    /// (from `[H, W]`), flat vectors for a dense one.
    pub fn input_shape(&self, sample_shape: &[usize]) -> Vec<usize> {
        match (self, sample_shape) {
            (BackboneSpec::Conv { .. } | BackboneSpec::Cnn { .. }, [h, w]) => vec![1, *h, *w],
            (BackboneSpec::Conv { .. } | BackboneSpec::Cnn { .. }, _) => sample_shape.to_vec(),
            (BackboneSpec::Dense { .. }, _) => vec![sample_shape.iter().product()],
            (BackboneSpec::Lstm { features, .. } | BackboneSpec::TemporalConv { features, .. }, _) => {
                let d = (*features).max(1) as usize;
                vec![sample_shape.iter().product::<usize>() / d, d]
            }
        }
    }
}

impl BackboneSpec {
    /// An error for a backbone without a decoder (the CNN) in an autoencoder family.
    pub fn require_decoder(&self, family: &str) -> Result<()> {
        match self {
            BackboneSpec::Cnn { .. } => Err(Error::invalid(
                "autoencoder",
                &format!("an autoencoder for {family} (dense, conv, lstm, temporal-conv): it trains on the reconstruction"),
                "cnn (an encoder without a decoder, for the LVQ heads)",
            )),
            _ => Ok(()),
        }
    }
}

/// `(C, H, W)` of images of shape `[H, W]` or `[C, H, W]`.
fn image_dims(sample_shape: &[usize]) -> Result<(i64, i64, i64)> {
    match sample_shape.iter().map(|&d| d as i64).collect::<Vec<_>>().as_slice() {
        [h, w] => Ok((1, *h, *w)),
        [c, h, w] => Ok((*c, *h, *w)),
        _ => Err(Error::Shape {
            what: "convolutional backbone input".into(),
            expected: "images: data of shape [n, H, W] or [n, C, H, W]".into(),
            found: format!("samples of shape {sample_shape:?}"),
        }),
    }
}

/// The steps `T` of samples of shape `sample_shape` read as `[T, features]` (time-major).
fn sequence_steps(sample_shape: &[usize], features: i64) -> Result<i64> {
    let values: usize = sample_shape.iter().product();
    match usize::try_from(features) {
        Ok(d) if d > 0 && values % d == 0 && values > 0 => Ok((values / d) as i64),
        _ => Err(Error::Shape {
            what: "sequence autoencoder input".into(),
            expected: format!("samples of T x {features} values (T steps of `features` values, time-major)"),
            found: format!("samples of shape {sample_shape:?} ({values} values)"),
        }),
    }
}
