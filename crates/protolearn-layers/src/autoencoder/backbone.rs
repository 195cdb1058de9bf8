//! The backbone contract: any network that maps samples `[n, ...input_shape]` to codes `[n, L]`,
//! optionally with a decoder back to the input space. DESOM (and later DDCL, LVQ heads) take a
//! `Box<dyn Backbone>`, so a new backbone (LSTM, temporal convolution, a CNN classifier) is a new
//! type implementing this trait, not a new variant of an enum.
//!
//! ```
//! use protolearn_layers::autoencoder::Backbone;
//! use protolearn_layers::Result;
//! use tch::{nn, nn::Module, Device, Tensor};
//!
//! /// A linear encoder without decoder: enough for a prototype head on its codes.
//! #[derive(Debug)]
//! struct Linear { map: nn::Linear, d: i64 }
//! impl Backbone for Linear {
//!     fn input_shape(&self) -> Vec<i64> { vec![self.d] }
//!     fn latent_dim(&self) -> i64 { 2 }
//!     fn encode(&self, x: &Tensor) -> Result<Tensor> {
//!         self.check_input(x)?;
//!         Ok(self.map.forward(x))
//!     }
//! }
//!
//! let vs = nn::VarStore::new(Device::Cpu);
//! let backbone: Box<dyn Backbone> = Box::new(Linear { map: nn::linear(vs.root(), 5, 2, Default::default()), d: 5 });
//! let x = Tensor::zeros([3, 5], (tch::Kind::Float, Device::Cpu));
//! assert_eq!(backbone.encode(&x).unwrap().size(), vec![3, 2]);
//! assert!(backbone.encode(&x.narrow(1, 0, 4)).is_err(), "wrong input shape");
//! assert!(backbone.reconstruct(&x).is_err(), "no decoder");
//! ```

use crate::error::{Error, Result};
use tch::Tensor;

/// An encoder `z = f(x)` with an optional decoder `x̃ = g(z)` (paper 002, Sec. 3.1).
///
/// # Shapes
/// `encode`: `[n, ...input_shape]` → `[n, L]`; `decode`: `[n, L]` → `[n, ...input_shape]`.
pub trait Backbone: std::fmt::Debug + Send {
    /// The per-sample input shape (`[D]` dense, `[C, H, W]` convolutional, `[T, D]` sequences).
    fn input_shape(&self) -> Vec<i64>;

    /// The code size `L`.
    fn latent_dim(&self) -> i64;

    /// The code `z = f(x)`, with gradient; implementations call [`Backbone::check_input`].
    fn encode(&self, x: &Tensor) -> Result<Tensor>;

    /// The reconstruction `x̃ = g(z)` of codes, with gradient; the default has no decoder.
    fn decode(&self, _z: &Tensor) -> Result<Tensor> {
        Err(Error::NoDecoder { backbone: format!("{self:?}").chars().take(80).collect() })
    }

    /// Whether [`Backbone::decode`] is implemented.
    fn has_decoder(&self) -> bool {
        false
    }

    /// Checks that `x` is `[n, ...input_shape]`.
    fn check_input(&self, x: &Tensor) -> Result<()> {
        let expected = self.input_shape();
        let got = x.size();
        if got.len() != expected.len() + 1 || got[1..] != expected[..] {
            return Err(Error::Shape { what: "backbone input", expected: format!("[n, {expected:?}]"), got });
        }
        Ok(())
    }

    /// Checks that `z` is `[n, L]`.
    fn check_code(&self, z: &Tensor) -> Result<()> {
        let l = self.latent_dim();
        let got = z.size();
        if got.len() != 2 || got[1] != l {
            return Err(Error::Shape { what: "backbone code", expected: format!("[n, {l}]"), got });
        }
        Ok(())
    }

    /// The reconstruction `g(f(x))`.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]` → `[n, ...input_shape]`.
    fn reconstruct(&self, x: &Tensor) -> Result<Tensor> {
        self.decode(&self.encode(x)?)
    }

    /// The reconstruction loss `L_R` of a batch `x` from its own codes `z = f(x)`, with gradient.
    ///
    /// The default is `L_R = (1/(n D)) sum_i ||g(z_i) - x_i||^2`, the mean over samples and
    /// features (the DESOM authors' Keras `mse`; paper 002, Eq. 4 writes the per-sample sum,
    /// which differs by the factor `D`). Sequence backbones override it: their mean runs over the
    /// valid steps only (padding is NaN), and a conditioned decoder may read `x` (teacher forcing,
    /// paper 004, Sec. 4.2).
    ///
    /// # Shapes
    /// `z`: `[n, L]`, `x`: `[n, ...input_shape]` → `[]`.
    fn reconstruction_loss(&self, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        Ok(self.decode(z)?.f_mse_loss(x, tch::Reduction::Mean)?)
    }
}
