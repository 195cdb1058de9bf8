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
    /// A DCL of one replica on a caller's weights, shared, not copied (gradients flow into
    /// them): `layers[i] = (W_i [N_i, N_{i+1}], b_i [N_{i+1}])`, `N_0 = N` the samples it takes,
    /// the last width `k` the prototypes; `tanh` between layers (paper 000, Eq. 16). With
    /// `minibatch`, `N` is a batch size.
    pub fn on_weights(layers: &[(Tensor, Option<Tensor>)], minibatch: bool) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::InvalidConfig { field: "layers", expected: "at least one weight matrix".into(), found: "none".into() });
        }
        let mut width = None;
        let mut dense = Vec::with_capacity(layers.len());
        for (weight, bias) in layers {
            let size = expect_dims(weight, 2, "DCL weight", "[in, out]")?;
            if width.is_some_and(|w| w != size[0]) {
                return Err(Error::Shape {
                    what: "DCL weight",
                    expected: format!("[{}, out] (the previous layer's width)", width.unwrap_or(0)),
                    got: size,
                });
            }
            if let Some(b) = bias {
                if b.size() != [size[1]] {
                    return Err(Error::Shape { what: "DCL bias", expected: format!("[{}]", size[1]), got: b.size() });
                }
            }
            width = Some(size[1]);
            dense.push(DualDense { weight: weight.unsqueeze(0), bias: bias.as_ref().map(|b| b.view([1, 1, -1])) });
        }
        Ok(Dcl { layers: dense, minibatch })
    }

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

    /// The prototypes `[k, d]` of one replica's input `[N, d]` (a DCL built with one replica,
    /// as DDCL's): checks `N`, adds and removes the replica dimension.
    pub fn prototypes_of(&self, x: &Tensor) -> Result<Tensor> {
        let input = x.unsqueeze(0);
        self.check_input(&input)?;
        Ok(self.prototypes(&input).squeeze_dim(0))
    }

    /// Sets a linear DCL's weights so that its prototypes for input `x` `[N, d]` (one replica)
    /// are `p` `[k, d]`: `W = pinv(x^T) p^T`, exact when `x^T` has full row rank (`d <= N`
    /// independent features); biases are zeroed. Errors for a deep DCL.
    pub fn match_prototypes(&self, x: &Tensor, p: &Tensor) -> Result<()> {
        let [layer] = self.layers.as_slice() else {
            return Err(Error::InvalidConfig {
                field: "init",
                expected: "a linear DCL (no hidden layers) to match prototypes".into(),
                found: format!("{} layers", self.layers.len()),
            });
        };
        self.check_input(&x.unsqueeze(0))?;
        let _guard = tch::no_grad_guard();
        let w = matching_weights(&x.unsqueeze(0), &p.unsqueeze(0));
        layer.weight.shallow_clone().f_copy_(&w)?;
        if let Some(b) = &layer.bias {
            let _ = b.shallow_clone().zero_();
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

/// The minimum-norm linear DCL weights `W = pinv(X^T) P^T` `[r, N, k]` whose prototypes for `x`
/// `[r, N, d]` are `p` `[r, k, d]` (pseudo-inverse in float64, result in float32).
pub(crate) fn matching_weights(x: &Tensor, p: &Tensor) -> Tensor {
    let xt_pinv = x.transpose(-2, -1).to_kind(tch::Kind::Double).linalg_pinv(1e-10, false); // [r, N, d]
    xt_pinv.matmul(&p.to_kind(tch::Kind::Double).transpose(-2, -1)).to_kind(tch::Kind::Float)
}
