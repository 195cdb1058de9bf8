//! The convolutional autoencoder of ConvDESOM (paper 002, Sec. 4.1.3; paper 004, Sec. 4.1):
//! 3x3 'same' convolutions with `[32, 64, 128, 256]` filters, ReLU, 2x2 max-pooling after each,
//! no batch norm, then a dense layer to the code; the decoder mirrors it with nearest-neighbour
//! up-sampling and convolutions, and a linear 3x3 output convolution.
//!
//! **Pooling sizes.** `m` poolings halve the side `m` times; 28 does not divide by `2^4 = 16`
//! (28 → 14 → 7 → 3 → 1 would drop rows). The encoder therefore zero-pads the image
//! symmetrically to the next multiple of `2^m` (28 → 32 → 16 → 8 → 4 → 2, code from
//! `256 · 2 · 2 = 1024` features), and the decoder crops its `32 x 32` output back to `28 x 28`.

use super::backbone::Backbone;
use super::params::{Conv3x3, Dense};
use crate::error::{Error, Result};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Input shape, filters and code size of the convolutional autoencoder (paper 002, Sec. 4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvConfig {
    /// Image channels `C` (1 for MNIST).
    pub channels: i64,
    /// Image height `H` (28).
    pub height: i64,
    /// Image width `W` (28).
    pub width: i64,
    /// Filters of the encoder convolutions, input side first (paper: `[32, 64, 128, 256]`).
    pub filters: Vec<i64>,
    /// Latent dimension `L` (paper 002, Table 2: 10).
    pub latent_dim: i64,
}

impl Default for ConvConfig {
    /// ConvDESOM on MNIST: `1x28x28`, filters `[32, 64, 128, 256]`, `L = 10`.
    fn default() -> Self {
        ConvConfig { channels: 1, height: 28, width: 28, filters: vec![32, 64, 128, 256], latent_dim: 10 }
    }
}

/// `side` rounded up to a multiple of `2^stages`.
fn padded(side: i64, stages: usize) -> i64 {
    let block = 1i64 << stages;
    (side + block - 1) / block * block
}

impl ConvConfig {
    /// Builds `path/encoder/{i}`, `path/encoder/code`, `path/decoder/code`, `path/decoder/{i}`,
    /// `path/decoder/output`.
    pub(crate) fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<ConvAutoencoder> {
        let sizes = [self.channels, self.height, self.width, self.latent_dim];
        let first = self.filters.first().copied();
        let last = self.filters.last().copied();
        let (Some(first), Some(last)) = (first, last) else {
            return Err(Error::InvalidConfig { field: "filters", expected: "at least one layer".into(), found: "[]".into() });
        };
        if let Some(&bad) = sizes.iter().chain(&self.filters).find(|&&v| v < 1) {
            return Err(Error::InvalidConfig {
                field: "conv autoencoder sizes",
                expected: "every size >= 1".into(),
                found: bad.to_string(),
            });
        }
        let stages = self.filters.len();
        let (ph, pw) = (padded(self.height, stages), padded(self.width, stages));
        let bottleneck = [last, ph >> stages, pw >> stages]; // [f_m, h_m, w_m]
        let flat: i64 = bottleneck.iter().product();
        let (enc, dec) = (path / "encoder", path / "decoder");
        let ins = std::iter::once(self.channels).chain(self.filters.iter().copied());
        let encoder =
            ins.zip(&self.filters).enumerate().map(|(i, (a, &b))| Conv3x3::new(&(&enc / i), a, b, rng)).collect::<Result<Vec<_>>>()?;
        let to_code = Dense::new(&(&enc / "code"), flat, self.latent_dim, rng)?;
        let from_code = Dense::new(&(&dec / "code"), self.latent_dim, flat, rng)?;
        // Decoder stage i (deepest first) maps f_i -> f_{i-1} (f_0 -> f_0 for the shallowest).
        let decoder = (0..stages)
            .rev()
            .map(|i| Conv3x3::new(&(&dec / i), self.filters[i], self.filters[i.saturating_sub(1)], rng))
            .collect::<Result<Vec<_>>>()?;
        let output = Conv3x3::new(&(&dec / "output"), first, self.channels, rng)?;
        let (top, left) = ((ph - self.height) / 2, (pw - self.width) / 2);
        let pad = [left, pw - self.width - left, top, ph - self.height - top];
        Ok(ConvAutoencoder {
            encoder,
            to_code,
            from_code,
            decoder,
            output,
            input: [self.channels, self.height, self.width],
            pad,
            bottleneck,
            latent_dim: self.latent_dim,
        })
    }
}

/// The convolutional autoencoder (see [`ConvConfig`] and the module docs for the padding).
#[derive(Debug)]
pub struct ConvAutoencoder {
    encoder: Vec<Conv3x3>,
    to_code: Dense,
    from_code: Dense,
    decoder: Vec<Conv3x3>,
    output: Conv3x3,
    input: [i64; 3],
    /// Zero padding `[left, right, top, bottom]` up to a multiple of `2^m`.
    pad: [i64; 4],
    bottleneck: [i64; 3],
    latent_dim: i64,
}

impl Backbone for ConvAutoencoder {
    /// `[C, H, W]`.
    fn input_shape(&self) -> Vec<i64> {
        self.input.to_vec()
    }

    /// `L`.
    fn latent_dim(&self) -> i64 {
        self.latent_dim
    }

    /// `z = f(x)`: pad, `m` x (conv, ReLU, 2x2 max-pool), flatten, dense (linear code).
    ///
    /// # Shapes
    /// `x`: `[n, C, H, W]` → `[n, L]`.
    fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let padded = x.constant_pad_nd(self.pad); // [n, C, H', W']
        let features = self.encoder.iter().fold(padded, |h, conv| {
            conv.forward(&h).relu().max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
            // [n, f_i, h/2, w/2]
        }); // [n, f_m, h_m, w_m]
        Ok(self.to_code.forward(&features.flatten(1, -1))) // [n, L]
    }

    /// `x̃ = g(z)`: dense + ReLU, reshape, `m` x (2x nearest up-sampling, conv, ReLU), linear
    /// output conv, crop to `H x W`.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, C, H, W]`.
    fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.check_code(z)?;
        let [f, h, w] = self.bottleneck;
        let start = self.from_code.forward(z).relu().view([-1, f, h, w]); // [n, f_m, h_m, w_m]
        let features = self.decoder.iter().fold(start, |x, conv| {
            let size = x.size();
            let up = x.upsample_nearest2d([size[2] * 2, size[3] * 2], None, None); // [n, f_i, 2h, 2w]
            conv.forward(&up).relu() // [n, f_{i-1}, 2h, 2w]
        }); // [n, f_1, H', W']
        let [_, height, width] = self.input;
        let [left, _, top, _] = self.pad;
        Ok(self.output.forward(&features).narrow(2, top, height).narrow(3, left, width))
        // [n, C, H, W]
    }

    fn has_decoder(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn pads_28_to_32_and_restores_the_shape() {
        assert_eq!((padded(28, 4), padded(32, 4), padded(5, 1)), (32, 32, 6));
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let cfg = ConvConfig { filters: vec![2, 3, 4, 5], latent_dim: 3, ..ConvConfig::default() };
        let ae = cfg.build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        assert_eq!(ae.pad, [2, 2, 2, 2]);
        assert_eq!(ae.bottleneck, [5, 2, 2]);
        let x = super::super::params::zeros(&[2, 1, 28, 28]);
        let z = ae.encode(&x).unwrap();
        assert_eq!(z.size(), vec![2, 3]);
        assert_eq!(ae.decode(&z).unwrap().size(), vec![2, 1, 28, 28]);
    }

    #[test]
    fn odd_sizes_and_empty_filters() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        let cfg = ConvConfig { channels: 3, height: 7, width: 10, filters: vec![4, 4], latent_dim: 2 };
        let ae = cfg.build(&vs.root(), &mut rng).unwrap();
        let x = super::super::params::zeros(&[1, 3, 7, 10]);
        assert_eq!(ae.reconstruct(&x).unwrap().size(), vec![1, 3, 7, 10]);
        let empty = ConvConfig { filters: vec![], ..ConvConfig::default() };
        assert!(empty.build(&vs.root().sub("e"), &mut rng).is_err());
    }
}
