//! Vanilla Competitive Layer (paper 000, Sec. II-C, Eq. 15): the prototypes are the weights.

use crate::distance::squared_euclidean;
use crate::layer::PrototypeLayer;
use tch::{nn, Tensor};

/// VCL: the prototypes `P = W` (`k x d` per replica) are the weights of a bias-free linear layer;
/// there is no forward pass, the loss is minimised directly in `W` (paper 000, Eq. 15, 19).
#[derive(Debug)]
pub struct Vcl {
    /// Prototypes `[replicas, k, d]` (a trainable variable).
    pub weight: Tensor,
}

impl Vcl {
    /// Registers the prototypes under `path` (variable `weight`), starting from `initial` `[replicas, k, d]`.
    pub fn new(path: &nn::Path, initial: &Tensor) -> Vcl {
        Vcl { weight: path.var_copy("weight", initial) }
    }
}

impl nn::Module for Vcl {
    /// Squared distances `[replicas, n, k]` of `x` `[replicas, n, d]` to the prototypes.
    fn forward(&self, x: &Tensor) -> Tensor {
        squared_euclidean(x, &self.weight)
    }
}

impl PrototypeLayer for Vcl {
    fn prototypes(&self, _x: &Tensor) -> Tensor {
        self.weight.shallow_clone()
    }
}
