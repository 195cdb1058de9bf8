//! Parameters drawn on the host from a seeded RNG: Glorot-uniform weights, zero biases, and the
//! two parametrised layers (dense, 3x3 'same' convolution) built from them, whose products run in
//! the current [`crate::precision::Precision`].

use crate::error::Result;
use crate::precision::{chain_input, in_current_precision};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tch::{nn, Tensor};

/// A variable `name` of `shape` with entries `U(-a, a)`, `a = sqrt(6 / (fan_in + fan_out))`
/// (Glorot & Bengio 2010; Keras' default, used by the DESOM authors).
pub(crate) fn glorot(path: &nn::Path, name: &str, shape: &[i64], fan_in: i64, fan_out: i64, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let limit = (6.0 / (fan_in + fan_out) as f64).sqrt() as f32;
    let count: i64 = shape.iter().product();
    let values: Vec<f32> = (0..count).map(|_| rng.random_range(-limit..limit)).collect();
    let init = Tensor::f_from_slice(&values)?.f_view(shape)?;
    Ok(path.f_var_copy(name, &init)?)
}

/// A fully connected layer `y = x W^T + b`.
#[derive(Debug)]
pub(crate) struct Dense {
    weight: Tensor,
    bias: Tensor,
}

impl Dense {
    /// `inputs -> outputs` under `path` (variables `weight` `[out, in]`, `bias` `[out]`).
    pub(crate) fn new(path: &nn::Path, inputs: i64, outputs: i64, rng: &mut ChaCha8Rng) -> Result<Self> {
        let weight = glorot(path, "weight", &[outputs, inputs], inputs, outputs, rng)?;
        let bias = path.f_zeros("bias", &[outputs])?;
        Ok(Dense { weight, bias })
    }

    /// # Shapes
    /// `x`: `[..., in]` → `[..., out]`.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        in_current_precision(x, &self.weight, &self.bias, |x, w, b| x.linear(w, Some(b)))
    }
}

/// A 3x3 convolution with stride 1 and 'same' (1-pixel zero) padding.
#[derive(Debug)]
pub(crate) struct Conv3x3 {
    weight: Tensor,
    bias: Tensor,
}

impl Conv3x3 {
    /// `inputs -> outputs` channels under `path` (variables `weight` `[out, in, 3, 3]`, `bias` `[out]`).
    pub(crate) fn new(path: &nn::Path, inputs: i64, outputs: i64, rng: &mut ChaCha8Rng) -> Result<Self> {
        let weight = glorot(path, "weight", &[outputs, inputs, 3, 3], inputs * 9, outputs * 9, rng)?;
        let bias = path.f_zeros("bias", &[outputs])?;
        Ok(Conv3x3 { weight, bias })
    }

    /// # Shapes
    /// `x`: `[n, in, h, w]` → `[n, out, h, w]`.
    pub(crate) fn forward(&self, x: &Tensor) -> Tensor {
        in_current_precision(x, &self.weight, &self.bias, |x, w, b| x.conv2d(w, Some(b), [1, 1], [1, 1], [1, 1], 1))
    }
}

/// A layer of a multilayer perceptron: one affine map (a [`Dense`] layer, or its replicated
/// form in [`crate::desom_replicas`]).
pub(crate) trait Affine {
    /// `x` → `x W^T + b`.
    fn forward(&self, x: &Tensor) -> Tensor;
}

impl Affine for Dense {
    fn forward(&self, x: &Tensor) -> Tensor {
        Dense::forward(self, x)
    }
}

/// Applies `layers` in order with ReLU after every layer but the last (linear output).
/// In a bfloat16 [`crate::precision::Precision`] scope the activations between layers stay
/// bfloat16 and the output is cast back to `x`'s kind.
pub(crate) fn mlp<L: Affine>(layers: &[L], x: &Tensor) -> Tensor {
    let last = layers.len().saturating_sub(1);
    let out = layers.iter().enumerate().fold(chain_input(x), |h, (i, layer)| {
        let y = layer.forward(&h); // [n, out_i]
        if i < last {
            y.relu()
        } else {
            y
        }
    });
    if out.kind() == x.kind() {
        out
    } else {
        out.to_kind(x.kind())
    }
}

/// `Kind::Float` zeros, used to check shapes in unit tests.
#[cfg(test)]
pub(crate) fn zeros(shape: &[i64]) -> Tensor {
    Tensor::zeros(shape, (tch::Kind::Float, tch::Device::Cpu))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn glorot_limit_and_zero_bias() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let d = Dense::new(&vs.root(), 10, 6, &mut rng).unwrap();
        let limit = (6.0f64 / 16.0).sqrt();
        assert!(d.weight.abs().max().double_value(&[]) <= limit);
        assert_eq!(d.bias.abs().sum(tch::Kind::Float).double_value(&[]), 0.0);
        assert_eq!(d.forward(&zeros(&[3, 10])).size(), vec![3, 6]);
        let c = Conv3x3::new(&vs.root().sub("c"), 2, 4, &mut rng).unwrap();
        assert_eq!(c.forward(&zeros(&[1, 2, 5, 7])).size(), vec![1, 4, 5, 7]);
    }
}
