//! Autoencoders for DESOM (paper 002, Sec. 3.1 and 4.1.3): a fully connected one and the
//! convolutional one of ConvDESOM, behind one [`Autoencoder`] enum built from one serde config.
//!
//! Weights are Glorot-uniform and biases zero (paper 004, Algorithm 1: "Glorot uniform scheme"),
//! drawn from a `ChaCha8Rng` seed on the host, never from libtorch's global RNG.
//!
//! ```
//! use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
//! use tch::{nn, Device, Tensor};
//!
//! let vs = nn::VarStore::new(Device::Cpu);
//! let cfg = AutoencoderConfig::Dense(DenseConfig { input_dim: 6, hidden: vec![4], latent_dim: 2 });
//! let ae = cfg.build(&vs.root(), 0).unwrap();
//! let x = Tensor::zeros([3, 6], (tch::Kind::Float, Device::Cpu));
//! assert_eq!(ae.encode(&x).unwrap().size(), vec![3, 2]);
//! assert_eq!(ae.forward(&x).unwrap().size(), vec![3, 6]);
//! ```

mod conv;
mod dense;
mod params;

pub use conv::{ConvAutoencoder, ConvConfig};
pub use dense::{DenseAutoencoder, DenseConfig};

use crate::error::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Which autoencoder, with its widths (paper 002, Table 2 and Sec. 4.1.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AutoencoderConfig {
    /// Fully connected (DESOM), default `784-500-500-2000-10`.
    Dense(DenseConfig),
    /// Convolutional (ConvDESOM), default filters `32-64-128-256` on `1x28x28` images.
    Conv(ConvConfig),
}

impl Default for AutoencoderConfig {
    /// The paper's dense `784-500-500-2000-10` autoencoder (paper 002, Sec. 4.1.3).
    fn default() -> Self {
        AutoencoderConfig::Dense(DenseConfig::default())
    }
}

impl AutoencoderConfig {
    /// Builds the autoencoder under `path`, weights drawn from `ChaCha8Rng::seed_from_u64(seed)`.
    pub fn build(&self, path: &nn::Path, seed: u64) -> Result<Autoencoder> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        Ok(match self {
            AutoencoderConfig::Dense(c) => Autoencoder::Dense(c.build(path, &mut rng)?),
            AutoencoderConfig::Conv(c) => Autoencoder::Conv(c.build(path, &mut rng)?),
        })
    }
}

/// An autoencoder `x̃ = g_{W_d}(f_{W_e}(x))` (paper 002, Sec. 3.2).
#[derive(Debug)]
pub enum Autoencoder {
    /// Fully connected.
    Dense(DenseAutoencoder),
    /// Convolutional.
    Conv(ConvAutoencoder),
}

impl Autoencoder {
    /// The per-sample input shape (`[D]` dense, `[C, H, W]` convolutional).
    pub fn input_shape(&self) -> Vec<i64> {
        match self {
            Autoencoder::Dense(a) => a.input_shape(),
            Autoencoder::Conv(a) => a.input_shape(),
        }
    }

    /// The latent dimension `L`.
    pub fn latent_dim(&self) -> i64 {
        match self {
            Autoencoder::Dense(a) => a.latent_dim(),
            Autoencoder::Conv(a) => a.latent_dim(),
        }
    }

    /// Checks that `x` is `[n, ...input_shape]`.
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let expected = self.input_shape();
        let got = x.size();
        if got.len() != expected.len() + 1 || got[1..] != expected[..] {
            return Err(Error::Shape { what: "autoencoder input", expected: format!("[n, {expected:?}]"), got });
        }
        Ok(())
    }

    /// The code `z = f_{W_e}(x)` (paper 002, Sec. 3.2).
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` → `[n, L]`.
    pub fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        Ok(match self {
            Autoencoder::Dense(a) => a.encode(x),
            Autoencoder::Conv(a) => a.encode(x),
        })
    }

    /// The reconstruction `x̃ = g_{W_d}(z)` of codes (paper 002, Sec. 3.2); linear output.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, ...input_shape]`.
    pub fn decode(&self, z: &Tensor) -> Result<Tensor> {
        let l = self.latent_dim();
        let got = z.size();
        if got.len() != 2 || got[1] != l {
            return Err(Error::Shape { what: "autoencoder code", expected: format!("[n, {l}]"), got });
        }
        Ok(match self {
            Autoencoder::Dense(a) => a.decode(z),
            Autoencoder::Conv(a) => a.decode(z),
        })
    }

    /// The reconstruction `x̃ = g(f(x))`.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` → `[n, ...input_shape]`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.decode(&self.encode(x)?)
    }
}
