//! Autoencoders for DESOM (paper 002, Sec. 3.1 and 4.1.3): a fully connected one and the
//! convolutional one of ConvDESOM, the sequence autoencoders of paper 004, Sec. 4 (LSTM and
//! temporal convolutions, `[T, D]` samples, NaN-padded), and the encoder-only CNN of paper 003's
//! heads, all [`Backbone`]s, built from one serde config.
//!
//! Weights are Glorot-uniform and biases zero (paper 004, Algorithm 1: "Glorot uniform scheme"),
//! drawn from a `ChaCha8Rng` seed on the host, never from libtorch's global RNG.
//!
//! ```
//! use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone, DenseConfig};
//! use tch::{nn, Device, Tensor};
//!
//! let vs = nn::VarStore::new(Device::Cpu);
//! let cfg = AutoencoderConfig::Dense(DenseConfig { input_dim: 6, hidden: vec![4], latent_dim: 2 });
//! let ae = cfg.build(&vs.root(), 0).unwrap();
//! let x = Tensor::zeros([3, 6], (tch::Kind::Float, Device::Cpu));
//! assert_eq!(ae.encode(&x).unwrap().size(), vec![3, 2]);
//! assert_eq!(ae.reconstruct(&x).unwrap().size(), vec![3, 6]);
//! ```

mod backbone;
mod chunked;
mod cnn;
mod conv;
mod dense;
mod lstm;
pub(crate) mod params;
mod sequence;
mod temporal;

pub use backbone::Backbone;
pub use chunked::encode_chunked;
pub(crate) use chunked::in_chunks;
pub use cnn::{Cnn, CnnConfig, ConvLayer};
pub use conv::{ConvAutoencoder, ConvConfig};
pub use dense::{DenseAutoencoder, DenseConfig};
pub use lstm::{LstmAutoencoder, LstmConfig};
pub use temporal::{TemporalAutoencoder, TemporalConfig};

use crate::error::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn;

/// Which autoencoder, with its widths (paper 002, Table 2 and Sec. 4.1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AutoencoderConfig {
    /// Fully connected (DESOM), default `784-500-500-2000-10`.
    Dense(DenseConfig),
    /// Convolutional (ConvDESOM), default filters `32-64-128-256` on `1x28x28` images.
    Conv(ConvConfig),
    /// An encoder-only CNN with plain or kernel-prototype convolutions (paper 003), for heads.
    Cnn(CnnConfig),
    /// The LSTM autoencoder of LSTM-DESOM on sequences `[T, D]` (paper 004, Sec. 4.2).
    Lstm(LstmConfig),
    /// The temporal (causal, dilated 1-D) convolutional autoencoder on sequences `[T, D]`
    /// (paper 004, Sec. 4.1).
    Temporal(TemporalConfig),
}

impl Default for AutoencoderConfig {
    /// The paper's dense `784-500-500-2000-10` autoencoder (paper 002, Sec. 4.1.3).
    fn default() -> Self {
        AutoencoderConfig::Dense(DenseConfig::default())
    }
}

impl AutoencoderConfig {
    /// Builds the autoencoder under `path`, weights drawn from `ChaCha8Rng::seed_from_u64(seed)`.
    pub fn build(&self, path: &nn::Path, seed: u64) -> Result<Box<dyn Backbone>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(match self {
            AutoencoderConfig::Dense(c) => Box::new(c.build(path, &mut rng)?),
            AutoencoderConfig::Conv(c) => Box::new(c.build(path, &mut rng)?),
            AutoencoderConfig::Cnn(c) => Box::new(c.build(path, &mut rng)?),
            AutoencoderConfig::Lstm(c) => Box::new(c.build(path, &mut rng)?),
            AutoencoderConfig::Temporal(c) => Box::new(c.build(path, &mut rng)?),
        })
    }

    /// The per-sample input shape (`[D]` dense, `[C, H, W]` convolutional, `[T, D]` sequences).
    pub fn input_shape(&self) -> Vec<i64> {
        match self {
            AutoencoderConfig::Dense(d) => vec![d.input_dim],
            AutoencoderConfig::Conv(c) => vec![c.channels, c.height, c.width],
            AutoencoderConfig::Cnn(c) => vec![c.channels, c.height, c.width],
            AutoencoderConfig::Lstm(c) => vec![c.steps, c.features],
            AutoencoderConfig::Temporal(c) => vec![c.steps, c.features],
        }
    }
}
