//! The Deep Embedded SOM (paper 002, Sec. 3; paper 004, Sec. 3): an autoencoder and a SOM layer
//! on its latent space, trained jointly on `L = L_R + γ L_SOM`. The autoencoder is any
//! [`Backbone`] with a decoder ([`Desom::new`]); [`DesomConfig`] builds the paper's two.
//!
//! ```
//! use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
//! use protolearn_layers::desom::DesomConfig;
//! use protolearn_layers::som::SomConfig;
//! use protolearn_metrics::{Boundary, Grid, Lattice};
//! use tch::{nn, Device, Kind, Tensor};
//!
//! let x = Tensor::from_slice(&[0.0f32, 0.1, 0.9, 1.0, 0.2, 0.0, 1.0, 0.8]).view([2, 4]);
//! let cfg = DesomConfig {
//!     autoencoder: AutoencoderConfig::Dense(DenseConfig { input_dim: 4, hidden: vec![3], latent_dim: 2 }),
//!     som: SomConfig { grid: Grid::new(2, 2, Lattice::Rectangular, Boundary::Bounded).unwrap(), init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
//!     gamma: 1e-3,
//! };
//! let vs = nn::VarStore::new(Device::Cpu);
//! let desom = cfg.build(&vs.root(), &x, 0).unwrap();
//! let loss = desom.loss(&x, 2.0).unwrap();
//! assert_eq!(loss.total.size(), Vec::<i64>::new());
//! assert_eq!(desom.predict(&x).unwrap().size(), vec![2]);
//! assert_eq!(desom.decoded_prototypes().unwrap().size(), vec![4, 4]);
//! ```

use crate::autoencoder::{encode_chunked, AutoencoderConfig, Backbone};
use crate::error::{Error, Result};
use crate::precision::Precision;
use crate::som::SomInit;
use crate::som::{som_distortion, SomConfig, SomLayer};
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

/// Configuration of a DESOM model (paper 002, Sec. 3 and Table 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesomConfig {
    /// The autoencoder (paper 002: dense `784-500-500-2000-10`, or convolutional for ConvDESOM).
    pub autoencoder: AutoencoderConfig,
    /// The SOM layer on the latent space (paper 002, Table 2: 8x8 rectangular, Manhattan `δ`,
    /// Gaussian neighbourhood, prototypes initialised from random encoded samples).
    pub som: SomConfig,
    /// Weight `γ` of the SOM loss (paper 002, Eq. 4; Table 2: `10^-3`).
    #[serde(default = "default_gamma")]
    pub gamma: f64,
}

fn default_gamma() -> f64 {
    1e-3
}

impl DesomConfig {
    /// Builds the autoencoder under `path/ae` (weights from `seed`) and the SOM layer under
    /// `path/som`, its prototypes drawn by `som.init` from the encoded samples `f(x)` with the
    /// same `seed` (paper 002, Sec. 3.4: "at random with an encoded data sample").
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]`, any number of samples (a random subset suffices).
    pub fn build(&self, path: &nn::Path, x: &Tensor, seed: u64) -> Result<Desom> {
        let backbone = self.autoencoder.build(&(path / "ae"), seed)?;
        Desom::new(backbone, &self.som, &(path / "som"), x, seed, self.gamma)
    }

    /// Builds the model's variables without data, the prototypes set to `prototypes` `[K, L]`
    /// and the autoencoder's weights drawn from seed 0: the skeleton that a saved model's
    /// variables are loaded into (`VarStore::copy` or by name).
    pub fn build_from(&self, path: &nn::Path, prototypes: &Tensor) -> Result<Desom> {
        let backbone = self.autoencoder.build(&(path / "ae"), 0)?;
        if !backbone.has_decoder() {
            return Err(Error::NoDecoder { backbone: format!("{backbone:?}").chars().take(80).collect() });
        }
        backbone.check_code(prototypes)?;
        let som = self.som.build_from(&(path / "som"), prototypes)?;
        Ok(Desom { backbone, som, init: self.som.init, gamma: self.gamma, precision: Precision::Fp32 })
    }
}

/// The three loss terms of one batch (paper 002, Eq. 4), with gradient: scalars `[]` for one
/// model, one value per replica `[S]` for [`crate::desom_replicas::DesomReplicas`].
#[derive(Debug)]
pub struct DesomLoss {
    /// `L = L_R + γ L_SOM`.
    pub total: Tensor,
    /// Reconstruction `L_R` ([`Backbone::reconstruction_loss`]: mean squared error over samples
    /// and features, the valid steps only for sequences).
    pub reconstruction: Tensor,
    /// SOM distortion `L_SOM = (1/n) sum_i sum_k K^T(δ(b_i, k)) ||z_i - m_k||^2` in latent space.
    pub som: Tensor,
}

/// A model trained on DESOM's joint loss (paper 002, Eq. 4): one [`Desom`], or seeds of it as
/// one tensor program ([`crate::desom_replicas::DesomReplicas`]).
pub trait JointLoss {
    /// `L = L_R + γ L_SOM` of a batch at temperature `T`, the BMUs and neighbourhood weights
    /// held fixed within the step (paper 002, Sec. 3.4).
    fn joint_loss(&self, x: &Tensor, temperature: f64) -> Result<DesomLoss>;
}

impl JointLoss for Desom {
    fn joint_loss(&self, x: &Tensor, temperature: f64) -> Result<DesomLoss> {
        self.loss(x, temperature)
    }
}

/// A DESOM model: autoencoder `f`, `g` and SOM prototypes `m_k` in latent space (paper 002, Sec. 3.1).
#[derive(Debug)]
pub struct Desom {
    /// Encoder and decoder.
    pub backbone: Box<dyn Backbone>,
    /// The SOM layer on the codes `z = f(x)`.
    pub som: SomLayer,
    init: SomInit,
    gamma: f64,
    precision: Precision,
}

impl Desom {
    /// DESOM on any `backbone` with a decoder: the SOM layer `som` is built under `path`, its
    /// prototypes drawn by `som.init` from the codes `f(x)` with `seed` (paper 002, Sec. 3.4).
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]`, any number of samples (a random subset suffices).
    pub fn new(backbone: Box<dyn Backbone>, som: &SomConfig, path: &nn::Path, x: &Tensor, seed: u64, gamma: f64) -> Result<Desom> {
        if !(gamma.is_finite() && gamma >= 0.0) {
            return Err(Error::InvalidConfig { field: "gamma", expected: "finite gamma >= 0".into(), found: gamma.to_string() });
        }
        if !backbone.has_decoder() {
            return Err(Error::NoDecoder { backbone: format!("{backbone:?}").chars().take(80).collect() });
        }
        let z = encode_chunked(backbone.as_ref(), x)?; // [n, L]
        let layer = som.build(path, &z, seed)?;
        Ok(Desom { backbone, som: layer, init: som.init, gamma, precision: Precision::Fp32 })
    }

    /// The SOM loss weight `γ`.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// This model with its training losses ([`Desom::loss`], [`Desom::reconstruction_loss`])
    /// computed in `precision`: with [`Precision::Bf16`] the autoencoder's products run in
    /// bfloat16 while the codes, prototypes, distances and losses stay float32 (the default is
    /// [`Precision::Fp32`]; evaluation, [`Desom::encode_all`], is float32 either way).
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// The precision of the training losses.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// `L = L_R + γ L_SOM` on a batch at temperature `T` (paper 002, Eq. 4). The BMUs
    /// `b_i = argmin_k ||z_i - m_k||^2` and the weights `w_ik = K^T(δ(b_i, k))` are computed
    /// without gradient and held fixed within the step (paper 002, Sec. 3.4).
    ///
    /// # Shapes
    /// `x`: `[b, ...input_shape]`.
    pub fn loss(&self, x: &Tensor, temperature: f64) -> Result<DesomLoss> {
        let (z, reconstruction) = self.precision.run(|| -> Result<_> {
            let z = self.backbone.encode(x)?; // [b, L]
            let reconstruction = self.backbone.reconstruction_loss(&z, x)?; // []
            Ok((z, reconstruction))
        })?;
        let dist = self.som.forward(&z); // [b, K]
        let bmus = crate::distance::argmin(&dist.detach(), -1); // [b]
        let weights = self.som.neighbourhood_weights(&bmus, temperature)?; // [b, K]
        let som = som_distortion(&dist, &weights); // []
        let total = &reconstruction + &som * self.gamma; // []
        Ok(DesomLoss { total, reconstruction, som })
    }

    /// The reconstruction loss `L_R` alone (AE pretraining, paper 002, Sec. 4.2), with gradient.
    ///
    /// # Shapes
    /// `x`: `[b, ...input_shape]` → `[]`.
    pub fn reconstruction_loss(&self, x: &Tensor) -> Result<Tensor> {
        self.precision.run(|| reconstruction_loss(self.backbone.as_ref(), x))
    }

    /// Codes `z = f(x)` without gradient, in chunks.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` → `[n, L]`.
    pub fn encode_all(&self, x: &Tensor) -> Result<Tensor> {
        encode_chunked(self.backbone.as_ref(), x)
    }

    /// Best-matching units `b_i = argmin_k ||f(x_i) - m_k||^2` (paper 002, Sec. 3.2), without gradient.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` → `[n]` int64.
    pub fn predict(&self, x: &Tensor) -> Result<Tensor> {
        self.som.bmus(&self.encode_all(x)?)
    }

    /// Decoded prototypes `g(m_k)`: the map as images (paper 002, Sec. 4.4, Fig. 14), without gradient.
    ///
    /// # Shapes
    /// `[K, ...input_shape]`.
    pub fn decoded_prototypes(&self) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.backbone.decode(&self.som.weight)?.contiguous())
    }

    /// Re-draws the prototypes from the encoded samples `f(x)` with the configured initialisation
    /// and `seed` (after AE pretraining, paper 002, Sec. 4.2).
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]`.
    pub fn reinit_prototypes(&mut self, x: &Tensor, seed: u64) -> Result<()> {
        let z = self.encode_all(x)?; // [n, L]
        let fresh = self.init.draw(self.som.grid(), &z, seed)?; // [K, L]
        self.som.set_prototypes(&fresh)
    }
}

/// The reconstruction loss `L_R` of any backbone with a decoder (AE pretraining, paper 002,
/// Sec. 4.2), with gradient.
///
/// # Shapes
/// `x`: `[b, ...input_shape]` → `[]`.
pub fn reconstruction_loss(backbone: &dyn Backbone, x: &Tensor) -> Result<Tensor> {
    backbone.reconstruction_loss(&backbone.encode(x)?, x)
}
