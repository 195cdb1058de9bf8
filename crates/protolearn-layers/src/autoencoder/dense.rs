//! The fully connected autoencoder of DESOM (paper 002, Sec. 4.1.3: `[500, 500, 2000, 10]`
//! symmetric): ReLU hidden layers, linear code, mirrored decoder with linear output.

use super::backbone::Backbone;
use super::params::{mlp, Dense};
use crate::error::{Error, Result};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Widths of the dense autoencoder `D - h_1 - ... - h_m - L`, decoder mirrored
/// (paper 002, Sec. 4.1.3; Table 2: `L = 10`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DenseConfig {
    /// Input dimension `D` (784 for MNIST).
    pub input_dim: i64,
    /// Hidden widths of the encoder, input side first (paper: `[500, 500, 2000]`).
    pub hidden: Vec<i64>,
    /// Latent dimension `L` (paper 002, Table 2: 10).
    pub latent_dim: i64,
}

impl Default for DenseConfig {
    /// `784-500-500-2000-10` (paper 002, Sec. 4.1.3).
    fn default() -> Self {
        DenseConfig { input_dim: 784, hidden: vec![500, 500, 2000], latent_dim: 10 }
    }
}

impl DenseConfig {
    /// Builds encoder (`path/encoder/i`) and decoder (`path/decoder/i`) layers.
    pub(crate) fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<DenseAutoencoder> {
        let widths: Vec<i64> =
            std::iter::once(self.input_dim).chain(self.hidden.iter().copied()).chain(std::iter::once(self.latent_dim)).collect();
        if let Some(&bad) = widths.iter().find(|&&w| w < 1) {
            return Err(Error::InvalidConfig { field: "autoencoder widths", expected: "every width >= 1".into(), found: bad.to_string() });
        }
        let stack = |name: &str, dims: &mut dyn Iterator<Item = (i64, i64)>, rng: &mut ChaCha8Rng| {
            let p = path / name;
            dims.enumerate().map(|(i, (a, b))| Dense::new(&(&p / i), a, b, rng)).collect::<Result<Vec<_>>>()
        };
        let encoder = stack("encoder", &mut widths.windows(2).map(|w| (w[0], w[1])), rng)?;
        let decoder = stack("decoder", &mut widths.windows(2).rev().map(|w| (w[1], w[0])), rng)?;
        Ok(DenseAutoencoder { encoder, decoder, input_dim: self.input_dim, latent_dim: self.latent_dim })
    }
}

/// The dense autoencoder (see [`DenseConfig`]).
#[derive(Debug)]
pub struct DenseAutoencoder {
    encoder: Vec<Dense>,
    decoder: Vec<Dense>,
    input_dim: i64,
    latent_dim: i64,
}

impl Backbone for DenseAutoencoder {
    /// `[D]`.
    fn input_shape(&self) -> Vec<i64> {
        vec![self.input_dim]
    }

    /// `L`.
    fn latent_dim(&self) -> i64 {
        self.latent_dim
    }

    /// `z = f(x)`, ReLU hidden layers and a linear code.
    ///
    /// # Shapes
    /// `x`: `[n, D]` → `[n, L]`.
    fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        Ok(mlp(&self.encoder, x))
    }

    /// `x̃ = g(z)`, ReLU hidden layers and a linear output.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, D]`.
    fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.check_code(z)?;
        Ok(mlp(&self.decoder, z))
    }

    fn has_decoder(&self) -> bool {
        true
    }
}
