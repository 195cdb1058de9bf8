//! An encoder-only CNN for the classification heads of paper 003: `m` stages of a 3x3 'same'
//! convolution and 2x2 max-pooling, then a dense layer to the features. A stage's convolution
//! is either a plain convolution with ReLU or a kernel-prototype convolution (Sec. 6.2, Eq. 24)
//! with its activation — soft, or hard in the forward pass with soft gradients (Sec. 7.3) — so
//! the two networks differ in nothing else (experiment 3 of the paper-003 issue).
//!
//! With plain layers it is the encoder of [`super::ConvConfig`] on sides divisible by `2^m`
//! (same layers, same draws from the seed), without building an unused decoder.

use super::backbone::Backbone;
use super::params::{Conv3x3, Dense};
use crate::error::{Error, Result};
use crate::kernel_prototype::{KernelActivation, KernelPrototypeConfig, KernelPrototypeConv};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// The convolution of every stage.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ConvLayer {
    /// `relu(x * k + b)`.
    #[default]
    Plain,
    /// A kernel-prototype convolution (3x3, stride 1, padding 1) with its activation.
    KernelPrototype {
        /// What follows the dissimilarities.
        activation: KernelActivation,
        /// A learned radius per kernel (`r^2 - d`; needed by ReLU and sigmoid).
        bias: bool,
        /// Hard assignments forward, the activation's gradient backward.
        hard: bool,
    },
}

/// Image shape, filters, code size and the convolution kind of the CNN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CnnConfig {
    /// Image channels `C`.
    pub channels: i64,
    /// Image height `H`.
    pub height: i64,
    /// Image width `W`.
    pub width: i64,
    /// Filters (kernel-prototypes) per stage, input side first (paper 003's small net: `[32, 64]`).
    pub filters: Vec<i64>,
    /// Feature size `L` of the dense layer.
    pub latent_dim: i64,
    /// The convolution of every stage (default: plain).
    #[serde(default)]
    pub layer: ConvLayer,
}

/// One stage's convolution.
#[derive(Debug)]
enum Stage {
    Plain(Conv3x3),
    KernelPrototype(KernelPrototypeConv),
}

impl Stage {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Stage::Plain(conv) => Ok(conv.forward(x).relu()),
            Stage::KernelPrototype(conv) => conv.output(x),
        }
    }
}

impl CnnConfig {
    /// Builds `path/encoder/{i}` and `path/encoder/code`, weights drawn from `rng`.
    pub(crate) fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<Cnn> {
        if self.filters.is_empty() {
            return Err(Error::InvalidConfig { field: "filters", expected: "at least one stage".into(), found: "[]".into() });
        }
        let sizes = [self.channels, self.height, self.width, self.latent_dim];
        if let Some(&bad) = sizes.iter().chain(&self.filters).find(|&&v| v < 1) {
            return Err(Error::InvalidConfig { field: "cnn sizes", expected: "every size >= 1".into(), found: bad.to_string() });
        }
        let (h, w) = self.filters.iter().fold((self.height, self.width), |(h, w), _| (h / 2, w / 2));
        if h < 1 || w < 1 {
            return Err(Error::InvalidConfig {
                field: "filters",
                expected: format!(
                    "at most {} stages of 2x2 pooling for {}x{} images",
                    (self.height.min(self.width) as f64).log2().floor(),
                    self.height,
                    self.width
                ),
                found: self.filters.len().to_string(),
            });
        }
        let enc = path / "encoder";
        let ins = std::iter::once(self.channels).chain(self.filters.iter().copied());
        let stages = ins
            .zip(&self.filters)
            .enumerate()
            .map(|(i, (a, &b))| match self.layer {
                ConvLayer::Plain => Ok(Stage::Plain(Conv3x3::new(&(&enc / i), a, b, rng)?)),
                ConvLayer::KernelPrototype { activation, bias, hard } => {
                    let config = KernelPrototypeConfig {
                        in_channels: a,
                        prototypes: b,
                        kernel: [3, 3],
                        stride: [1, 1],
                        padding: [1, 1],
                        dilation: [1, 1],
                        groups: 1,
                        bias,
                        activation,
                        hard,
                    };
                    Ok(Stage::KernelPrototype(config.build(&(&enc / i), rng)?))
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let flat = self.filters[self.filters.len() - 1] * h * w;
        let to_code = Dense::new(&(&enc / "code"), flat, self.latent_dim, rng)?;
        Ok(Cnn { stages, to_code, input: [self.channels, self.height, self.width], latent_dim: self.latent_dim })
    }
}

/// The built CNN (see [`CnnConfig`]).
#[derive(Debug)]
pub struct Cnn {
    stages: Vec<Stage>,
    to_code: Dense,
    input: [i64; 3],
    latent_dim: i64,
}

impl Cnn {
    /// The kernel-prototype convolutions of the stages (empty for plain layers), input side first.
    pub fn kernel_prototypes(&self) -> Vec<&KernelPrototypeConv> {
        self.stages
            .iter()
            .filter_map(|s| match s {
                Stage::KernelPrototype(conv) => Some(conv),
                Stage::Plain(_) => None,
            })
            .collect()
    }
}

impl Backbone for Cnn {
    /// `[C, H, W]`.
    fn input_shape(&self) -> Vec<i64> {
        self.input.to_vec()
    }

    /// `L`.
    fn latent_dim(&self) -> i64 {
        self.latent_dim
    }

    /// `m` x (convolution and its activation, 2x2 max-pool), flatten, dense (linear features).
    ///
    /// # Shapes
    /// `x`: `[n, C, H, W]` → `[n, L]`.
    fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let mut h = x.shallow_clone();
        for stage in &self.stages {
            h = stage.forward(&h)?.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false);
            // [n, f_i, h/2, w/2]
        }
        Ok(self.to_code.forward(&h.flatten(1, -1))) // [n, L]
    }
}

#[cfg(test)]
mod tests {
    use super::super::{AutoencoderConfig, ConvConfig};
    use super::*;
    use rand::SeedableRng;
    use tch::{Device, Kind};

    fn cnn(layer: ConvLayer) -> CnnConfig {
        CnnConfig { channels: 1, height: 12, width: 12, filters: vec![4, 6], latent_dim: 5, layer }
    }

    #[test]
    fn plain_layers_equal_the_conv_autoencoder_s_encoder() {
        let x = Tensor::rand([3, 1, 12, 12], (Kind::Float, Device::Cpu));
        let (a, b) = (nn::VarStore::new(Device::Cpu), nn::VarStore::new(Device::Cpu));
        let plain = AutoencoderConfig::Cnn(cnn(ConvLayer::Plain)).build(&a.root(), 3).unwrap();
        let conv = ConvConfig { channels: 1, height: 12, width: 12, filters: vec![4, 6], latent_dim: 5 };
        let ae = AutoencoderConfig::Conv(conv).build(&b.root(), 3).unwrap();
        assert!(plain.encode(&x).unwrap().allclose(&ae.encode(&x).unwrap(), 1e-6, 1e-6, false));
        assert!(!plain.has_decoder());
        assert_eq!(a.variables().len(), 6, "two convolutions and the dense layer, no decoder");
    }

    #[test]
    fn kernel_prototype_stages_give_features_and_gradients_to_every_kernel() {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = ConvLayer::KernelPrototype { activation: KernelActivation::Softmax { sigma: 1.0 }, bias: false, hard: true };
        let net = cnn(layer).build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
        assert_eq!(net.kernel_prototypes().len(), 2);
        let x = Tensor::rand([4, 1, 12, 12], (Kind::Float, Device::Cpu));
        let z = net.encode(&x).unwrap();
        assert_eq!(z.size(), vec![4, 5]);
        z.square().sum(Kind::Float).backward();
        for conv in net.kernel_prototypes() {
            assert!(conv.kernels.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0, "the surrogate gradient reaches the kernels");
        }
        assert!(net.encode(&Tensor::rand([1, 2, 12, 12], (Kind::Float, Device::Cpu))).is_err(), "wrong channels");
        let deep = CnnConfig { filters: vec![2; 5], ..cnn(ConvLayer::Plain) };
        assert!(deep.build(&vs.root().sub("deep"), &mut ChaCha8Rng::seed_from_u64(0)).is_err(), "12 px cannot pool 5 times");
        let relu_without_radius = ConvLayer::KernelPrototype { activation: KernelActivation::Relu, bias: false, hard: false };
        assert!(cnn(relu_without_radius).build(&vs.root().sub("r"), &mut ChaCha8Rng::seed_from_u64(0)).is_err());
    }
}
