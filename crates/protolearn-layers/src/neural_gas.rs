//! Neural gas (Martinetz and Schulten) as a gradient VQ layer (paper 003, Sec. 8: "the gradient
//! back-flow of VQ layers ... rank dependent"): every prototype is pulled towards each sample
//! with weight `h_ik = exp(-r_ik / λ)`, `r_ik` the rank of prototype `k` by distance to `x_i`
//! (0 for the nearest). A large range `λ` involves every prototype (no dead units); `λ -> 0`
//! leaves plain winner-takes-all vector quantization.

use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use crate::layer::PrototypeLayer;
use tch::{nn, Tensor};

/// The ranks `r_ik` of the prototypes for every sample (`[n, k]` float, 0 = nearest; ties by
/// prototype index), without gradient.
pub fn ranks(d: &Tensor) -> Tensor {
    let _guard = tch::no_grad_guard();
    d.argsort(-1, false).argsort(-1, false).to_kind(d.kind())
}

/// The neural-gas cost `E = (1/n) sum_i sum_k h_ik d_ik / C(λ)`, `h_ik = exp(-r_ik / λ)` held
/// fixed, `C(λ) = sum_{r=0}^{k-1} exp(-r / λ)` (Martinetz and Schulten's normalisation).
///
/// # Shapes
/// `d`: `[n, k]` squared distances → `[]`.
pub fn neural_gas_loss(d: &Tensor, range: f64) -> Result<Tensor> {
    let k = expect_dims(d, 2, "distances", "[n, k]")?[1];
    if !(range.is_finite() && range > 0.0) {
        return Err(Error::InvalidConfig { field: "range", expected: "a finite neighbourhood range > 0".into(), found: range.to_string() });
    }
    let h = (ranks(d) / -range).exp();
    let normaliser: f64 = (0..k).map(|r| (-(r as f64) / range).exp()).sum();
    Ok((h * d).sum_dim_intlist(-1, false, d.kind()).mean(d.kind()) / normaliser)
}

/// A layer of `k` free prototypes `[k, d]` (the VQ layer neural gas trains).
#[derive(Debug)]
pub struct NeuralGas {
    /// `[k, d]`.
    pub prototypes: Tensor,
}

impl NeuralGas {
    /// Prototypes under `path`, starting at `initial` `[k, d]` (e.g. random samples).
    pub fn new(path: &nn::Path, initial: &Tensor) -> Result<Self> {
        expect_dims(initial, 2, "initial prototypes", "[k, d]")?;
        Ok(NeuralGas { prototypes: path.var_copy("prototypes", initial) })
    }
}

impl nn::Module for NeuralGas {
    fn forward(&self, x: &Tensor) -> Tensor {
        squared_euclidean(x, &self.prototypes)
    }
}

impl PrototypeLayer for NeuralGas {
    fn prototypes(&self, _x: &Tensor) -> Tensor {
        self.prototypes.shallow_clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_on_a_hand_example() {
        let d = Tensor::from_slice(&[3.0f32, 1.0, 2.0, 0.5, 0.5, 4.0]).view([2, 3]);
        assert_eq!(Vec::<f32>::try_from(ranks(&d).flatten(0, -1)).unwrap(), vec![2.0, 0.0, 1.0, 0.0, 1.0, 2.0]);
    }

    #[test]
    fn small_range_is_winner_takes_all_and_large_range_is_the_mean() {
        let d = Tensor::from_slice(&[3.0f32, 1.0, 2.0]).view([1, 3]);
        assert!((neural_gas_loss(&d, 1e-3).unwrap().double_value(&[]) - 1.0).abs() < 1e-6, "only the winner");
        assert!((neural_gas_loss(&d, 1e6).unwrap().double_value(&[]) - 2.0).abs() < 1e-4, "every prototype equally");
        assert!(neural_gas_loss(&d, 0.0).is_err());
    }
}
