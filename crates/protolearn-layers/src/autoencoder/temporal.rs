//! The temporal convolutional autoencoder of the 1-D ConvDESOM (paper 004, Sec. 4.1: "causal
//! and/or dilated" 1-D convolutions, pooling; Bai et al. 2018, paper 004 ref. [2]): convolution
//! block `i` has dilation `2^i` and causal (left-only) padding, so the feature at step `t` reads
//! steps `<= t` only and the receptive field is `1 + (k - 1)(2^m - 1)`; after the stack, features
//! at padded steps are zeroed, max-pooled by `pool` and a dense layer gives the code. The decoder
//! mirrors it: dense, nearest up-sampling by `pool`, the convolutions in reverse order, a linear
//! 1x1 output convolution.
//!
//! Sequences are `[n, T, D]`, shorter ones padded with NaN at the end: causality keeps the
//! padding out of every valid step's features, the mask keeps it out of the pooled code and of
//! the loss.

use super::backbone::Backbone;
use super::params::{glorot, Dense};
use super::sequence::Padded;
use crate::error::{Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Sequence shape, filters, kernel, pooling and code size of the temporal convolutional
/// autoencoder (paper 004, Sec. 4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalConfig {
    /// Steps `T` of the (padded) sequences.
    pub steps: i64,
    /// Features `D` per step (input channels).
    pub features: i64,
    /// Filters of the convolution blocks, input side first; block `i` has dilation `2^i`.
    pub filters: Vec<i64>,
    /// Kernel size `k` of every convolution (default 3).
    #[serde(default = "default_kernel")]
    pub kernel_size: i64,
    /// Max-pooling factor over time after the stack (default 2; 1 = no pooling).
    #[serde(default = "default_pool")]
    pub pool: i64,
    /// Latent dimension `L`; at most the pooled feature count `filters.last · ceil(T / pool)`.
    pub latent_dim: i64,
}

fn default_kernel() -> i64 {
    3
}

fn default_pool() -> i64 {
    2
}

impl TemporalConfig {
    /// Pooled steps `ceil(T / pool)`.
    fn pooled_steps(&self) -> i64 {
        (self.steps + self.pool - 1) / self.pool
    }

    /// Inputs of the dense bottleneck: `filters.last · ceil(T / pool)`.
    pub fn bottleneck_features(&self) -> i64 {
        self.filters.last().copied().unwrap_or(0) * self.pooled_steps()
    }

    /// Steps read by the feature at one step: `1 + (k - 1)(2^m - 1)` for `m` blocks.
    pub fn receptive_field(&self) -> i64 {
        1 + (self.kernel_size - 1) * ((1i64 << self.filters.len()) - 1)
    }

    /// Builds `path/encoder/{i}`, `path/encoder/code`, `path/decoder/code`, `path/decoder/{i}`,
    /// `path/decoder/output`.
    pub(crate) fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<TemporalAutoencoder> {
        let (Some(&first), Some(&last)) = (self.filters.first(), self.filters.last()) else {
            return Err(Error::InvalidConfig { field: "filters", expected: "at least one block".into(), found: "[]".into() });
        };
        let sizes = [self.steps, self.features, self.kernel_size, self.pool, self.latent_dim];
        if let Some(&bad) = sizes.iter().chain(&self.filters).find(|&&v| v < 1) {
            return Err(Error::InvalidConfig {
                field: "temporal autoencoder sizes",
                expected: "every size >= 1".into(),
                found: bad.to_string(),
            });
        }
        if self.filters.len() > 16 {
            return Err(Error::InvalidConfig {
                field: "filters",
                expected: "at most 16 blocks (dilation 2^15)".into(),
                found: self.filters.len().to_string(),
            });
        }
        if self.pool > self.steps {
            return Err(Error::InvalidConfig {
                field: "pool",
                expected: format!("at most steps = {}", self.steps),
                found: self.pool.to_string(),
            });
        }
        let flat = self.bottleneck_features();
        if self.latent_dim > flat {
            return Err(Error::InvalidConfig {
                field: "latent_dim",
                expected: format!(
                    "at most the pooled features filters.last · ceil(steps / pool) = {last} · {} = {flat}",
                    self.pooled_steps()
                ),
                found: self.latent_dim.to_string(),
            });
        }
        let (enc, dec) = (path / "encoder", path / "decoder");
        let k = self.kernel_size;
        let ins = std::iter::once(self.features).chain(self.filters.iter().copied());
        let encoder = ins
            .zip(&self.filters)
            .enumerate()
            .map(|(i, (a, &b))| CausalConv::new(&(&enc / i), a, b, k, 1 << i, rng))
            .collect::<Result<Vec<_>>>()?;
        let to_code = Dense::new(&(&enc / "code"), flat, self.latent_dim, rng)?;
        let from_code = Dense::new(&(&dec / "code"), self.latent_dim, flat, rng)?;
        // Decoder block i (deepest first) maps f_i -> f_{i-1} (f_0 -> f_0 for the shallowest).
        let decoder = (0..self.filters.len())
            .rev()
            .map(|i| CausalConv::new(&(&dec / i), self.filters[i], self.filters[i.saturating_sub(1)], k, 1 << i, rng))
            .collect::<Result<Vec<_>>>()?;
        let output = CausalConv::new(&(&dec / "output"), first, self.features, 1, 1, rng)?;
        Ok(TemporalAutoencoder { encoder, to_code, from_code, decoder, output, config: self.clone() })
    }
}

/// A 1-D convolution `y_t = b + sum_j W_j x_{t - j d}` with left zero padding `(k - 1) d`, so that
/// `y_t` reads steps `<= t` only.
#[derive(Debug)]
struct CausalConv {
    weight: Tensor,
    bias: Tensor,
    dilation: i64,
    left: i64,
}

impl CausalConv {
    /// `inputs -> outputs` channels under `path` (variables `weight` `[out, in, k]`, `bias` `[out]`).
    fn new(path: &nn::Path, inputs: i64, outputs: i64, kernel: i64, dilation: i64, rng: &mut ChaCha8Rng) -> Result<Self> {
        let weight = glorot(path, "weight", &[outputs, inputs, kernel], inputs * kernel, outputs * kernel, rng)?;
        let bias = path.f_zeros("bias", &[outputs])?;
        Ok(CausalConv { weight, bias, dilation, left: (kernel - 1) * dilation })
    }

    /// # Shapes
    /// `x`: `[n, in, T]` → `[n, out, T]`.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let padded = x.f_constant_pad_nd([self.left, 0])?; // [n, in, T + left]
        Ok(padded.f_conv1d(&self.weight, Some(&self.bias), [1], [0], [self.dilation], 1)?)
    }

    /// `relu(forward(x))`.
    fn forward_relu(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.forward(x)?.f_relu()?)
    }
}

/// The temporal convolutional autoencoder (see [`TemporalConfig`] and the module docs).
#[derive(Debug)]
pub struct TemporalAutoencoder {
    encoder: Vec<CausalConv>,
    to_code: Dense,
    from_code: Dense,
    decoder: Vec<CausalConv>,
    output: CausalConv,
    config: TemporalConfig,
}

impl TemporalAutoencoder {
    /// Builds `config` under `path` with weights from `ChaCha8Rng::seed_from_u64(seed)`: the same
    /// network as `AutoencoderConfig::Temporal(config).build(path, seed)`, as its own type (for
    /// [`TemporalAutoencoder::causal_features`]).
    pub fn new(config: &TemporalConfig, path: &nn::Path, seed: u64) -> Result<Self> {
        config.build(path, &mut ChaCha8Rng::seed_from_u64(seed))
    }

    /// The causal feature map of the convolution stack (ReLU after every block), before masking
    /// and pooling: its step `t` depends on input steps `max(0, t - r + 1) ..= t` only (`r` the
    /// receptive field).
    ///
    /// # Shapes
    /// `x`: `[n, T, D]` (NaN read as 0) → `[n, filters.last, T]`.
    pub fn causal_features(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        self.features_of(&Padded::new(x)?.values)
    }

    /// # Shapes
    /// `values`: `[n, T, D]` zero-filled → `[n, F, T]`.
    fn features_of(&self, values: &Tensor) -> Result<Tensor> {
        let channels_first = values.f_transpose(1, 2)?; // [n, D, T]
        self.encoder.iter().try_fold(channels_first, |h, conv| conv.forward_relu(&h))
    }
}

impl Backbone for TemporalAutoencoder {
    /// `[T, D]`.
    fn input_shape(&self) -> Vec<i64> {
        vec![self.config.steps, self.config.features]
    }

    /// `L`.
    fn latent_dim(&self) -> i64 {
        self.config.latent_dim
    }

    /// `z = W · maxpool(mask ⊙ features(x)) + b`.
    ///
    /// # Shapes
    /// `x`: `[n, T, D]` (NaN after a sequence's end) → `[n, L]`.
    fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let padded = Padded::new(x)?;
        let features = self.features_of(&padded.values)?; // [n, F, T]
        let keep = padded.valid.f_unsqueeze(1)?.f_to_kind(features.kind())?; // [n, 1, T]
        let pool = self.config.pool;
        let pooled = (features * keep).f_max_pool1d([pool], [pool], [0], [1], true)?; // [n, F, ceil(T / pool)]
        Ok(self.to_code.forward(&pooled.f_flatten(1, -1)?))
    }

    /// `x̃ = g(z)`: dense + ReLU, nearest up-sampling by `pool` (cropped to `T`), the
    /// convolutions in reverse order with ReLU, a linear 1x1 output convolution.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, T, D]`.
    fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.check_code(z)?;
        let (steps, pooled) = (self.config.steps, self.config.pooled_steps());
        let channels = self.config.filters[self.config.filters.len() - 1];
        let start = self.from_code.forward(z).f_relu()?.f_view([-1, channels, pooled])?; // [n, F, T']
        let upsampled = start.f_upsample_nearest1d([pooled * self.config.pool], None)?.f_narrow(2, 0, steps)?; // [n, F, T]
        let features = self.decoder.iter().try_fold(upsampled, |h, conv| conv.forward_relu(&h))?; // [n, f_1, T]
        Ok(self.output.forward(&features)?.f_transpose(1, 2)?) // [n, T, D]
    }

    fn has_decoder(&self) -> bool {
        true
    }

    /// `L_R`: mean squared error over the valid steps.
    fn reconstruction_loss(&self, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let padded = Padded::new(x)?;
        padded.masked_mse(&self.decode(z)?, &padded.values)
    }
}
