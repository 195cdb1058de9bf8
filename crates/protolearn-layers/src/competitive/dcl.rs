//! Dual Competitive Layer (paper 000, Sec. II-C/E): dense layers applied to `X^T` whose `k` output
//! columns are the prototypes.

use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use crate::layer::PrototypeLayer;
use tch::{nn, Tensor};

/// One dense layer applied along the sample axis of `X^T`, replicated: `h W + b`.
#[derive(Debug)]
pub(crate) struct DualDense {
    /// `[replicas, in, out]`.
    pub weight: Tensor,
    /// `[replicas, 1, out]`, added to every row (feature) of the output.
    pub bias: Option<Tensor>,
}

/// DCL: the input is `X^T` (`d x N`); dense layers with `tanh` hidden activations and a linear last
/// layer map it to `Y = f(X^T)` (`d x k`) whose columns are the prototypes (paper 000, Eq. 16).
/// With no hidden layer, `Y = X^T W (+ b)`: each prototype is a linear combination of the samples.
///
/// The number of inputs `N` is fixed at construction. The full-set DCL (paper 000) is trained
/// full batch, `N` = the training set. The minibatch DCL (`CompetitiveConfig::batch_size`, for
/// DDCL, paper 001) has `N = B`: given a batch of `B` samples it returns combinations of *those*
/// samples, so its prototypes follow the current minibatch.
#[derive(Debug)]
pub struct Dcl {
    pub(crate) layers: Vec<DualDense>,
    /// Whether `N` is a minibatch size rather than the training-set size.
    pub(crate) minibatch: bool,
}

impl Dcl {
    /// Number of samples `N` the first layer expects.
    pub fn n_inputs(&self) -> i64 {
        self.layers.first().map_or(0, |l| l.weight.size()[1])
    }

    /// Whether the prototypes come from a minibatch of fixed size ([`Dcl::n_inputs`]).
    pub fn is_minibatch(&self) -> bool {
        self.minibatch
    }

    /// Checks that `x` is `[replicas, N, d]` with this DCL's fixed `N`.
    pub fn check_input(&self, x: &Tensor) -> Result<()> {
        let size = expect_dims(x, 3, "input", "[replicas, n, d]")?;
        if size[1] != self.n_inputs() {
            let what = if self.minibatch { "the DCL's batch size" } else { "the full training set" };
            return Err(Error::Shape { what: "DCL input", expected: format!("[replicas, {}, d] ({what})", self.n_inputs()), got: size });
        }
        Ok(())
    }

    /// Weight matrices of the layers, first to last (`[replicas, in, out]` each).
    pub fn weights(&self) -> Vec<&Tensor> {
        self.layers.iter().map(|l| &l.weight).collect()
    }
}

impl nn::Module for Dcl {
    /// Squared distances `[replicas, n, k]` of `x` `[replicas, n, d]` to the prototypes it generates.
    fn forward(&self, x: &Tensor) -> Tensor {
        squared_euclidean(x, &self.prototypes(x))
    }
}

impl PrototypeLayer for Dcl {
    fn prototypes(&self, x: &Tensor) -> Tensor {
        let last = self.layers.len().saturating_sub(1);
        let mut h = x.transpose(-2, -1); // [r, d, N]
        for (i, layer) in self.layers.iter().enumerate() {
            h = h.matmul(&layer.weight); // [r, d, out]
            if let Some(b) = &layer.bias {
                h += b;
            }
            if i < last {
                h = h.tanh();
            }
        }
        h.transpose(-2, -1) // [r, k, d]
    }
}
