//! Mixed precision (issue 28): the dense and 3x3 convolution layers of the autoencoders and CNN
//! backbones can run their matrix products in bfloat16 — on CPUs with AVX-512 BF16 or AMX
//! (libtorch's oneDNN kernels) and on CUDA — while weights, optimiser state, losses, distances
//! and prototypes stay float32. Like PyTorch's `torch.autocast`, the precision is a scope on the
//! current thread ([`Precision::run`]); the DESOM model enters it for its forward pass
//! ([`crate::desom::Desom::with_precision`]), and protolearn-train's LVQ training for the
//! backbone under a prototype head (`LvqTrainConfig::precision`). Layers of their own
//! (kernel-prototype convolutions, LSTM and temporal convolutions) stay float32.
//!
//! ```
//! use protolearn_layers::precision::Precision;
//! // Outside a scope, and inside an fp32 one, products run in float32.
//! assert_eq!(Precision::Bf16.run(|| Precision::current()), Precision::Bf16);
//! assert_eq!(Precision::current(), Precision::Fp32);
//! ```

use serde::{Deserialize, Serialize};
use std::cell::Cell;
use tch::{Kind, Tensor};

/// The number format of a layer's matrix products (weights and losses stay float32).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// float32 throughout (the default; bit-for-bit reproducible on CPU).
    #[default]
    Fp32,
    /// bfloat16 mixed precision: each dense / convolution product takes bfloat16 inputs and
    /// weights (8-bit mantissa); a multilayer perceptron keeps its activations in bfloat16 and
    /// returns float32; gradients reach the float32 weights through the casts, so the backward
    /// products run in bfloat16 too.
    Bf16,
}

thread_local! {
    static CURRENT: Cell<Precision> = const { Cell::new(Precision::Fp32) };
}

/// Restores the previous precision when a scope ends, also by unwinding.
struct Restore(Precision);

impl Drop for Restore {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

impl Precision {
    /// Runs `f` with this precision for the layers' products on this thread, then restores the
    /// previous one (scopes nest).
    pub fn run<T>(self, f: impl FnOnce() -> T) -> T {
        let _restore = Restore(CURRENT.with(|c| c.replace(self)));
        f()
    }

    /// The precision of the current scope ([`Precision::Fp32`] outside any).
    pub fn current() -> Precision {
        CURRENT.with(Cell::get)
    }
}

/// `op` on `x`, `weight` and `bias` in the current precision: as they are in float32; in a
/// [`Precision::Bf16`] scope on bfloat16 casts, the result back in `x`'s kind (a bfloat16 `x`,
/// inside a chain of layers, gets a bfloat16 result and no cast).
pub(crate) fn in_current_precision(x: &Tensor, weight: &Tensor, bias: &Tensor, op: impl Fn(&Tensor, &Tensor, &Tensor) -> Tensor) -> Tensor {
    match Precision::current() {
        Precision::Fp32 => op(x, weight, bias),
        Precision::Bf16 => {
            let half = |t: &Tensor| t.to_kind(Kind::BFloat16);
            let out = op(&half(x), &half(weight), &half(bias));
            match x.kind() {
                Kind::BFloat16 => out,
                kind => out.to_kind(kind),
            }
        }
    }
}

/// `x` in the kind a chain of layers carries between them: bfloat16 in a [`Precision::Bf16`]
/// scope (activations stay bfloat16 until the chain's end casts back), else `x` itself.
pub(crate) fn chain_input(x: &Tensor) -> Tensor {
    match Precision::current() {
        Precision::Fp32 => x.shallow_clone(),
        Precision::Bf16 => x.to_kind(Kind::BFloat16),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore_after_a_panic() {
        Precision::Bf16.run(|| {
            assert_eq!(Precision::current(), Precision::Bf16);
            Precision::Fp32.run(|| assert_eq!(Precision::current(), Precision::Fp32));
            assert_eq!(Precision::current(), Precision::Bf16);
        });
        let unwound = std::panic::catch_unwind(|| Precision::Bf16.run(|| panic!("inside")));
        assert!(unwound.is_err());
        assert_eq!(Precision::current(), Precision::Fp32);
    }

    #[test]
    fn bf16_products_return_float32_close_to_float32_products() {
        let x = Tensor::from_slice(&[0.1f32, -0.7, 1.3, 2.2, 0.05, -1.9]).view([2, 3]);
        let w = Tensor::from_slice(&[0.3f32, 0.8, -0.4, 1.1, -0.6, 0.2]).view([2, 3]);
        let b = Tensor::from_slice(&[0.01f32, -0.02]);
        let linear = |x: &Tensor, w: &Tensor, b: &Tensor| x.linear(w, Some(b));
        let full = in_current_precision(&x, &w, &b, linear);
        let mixed = Precision::Bf16.run(|| in_current_precision(&x, &w, &b, linear));
        assert_eq!(mixed.kind(), Kind::Float);
        // bfloat16 keeps 8 significant bits: relative error per input <= 2^-8, sums of 3 terms of size <= 3.
        assert!(mixed.allclose(&full, 0.0, 3.0 * 3.0 / 256.0, false), "{mixed:?} vs {full:?}");
        assert!(!mixed.equal(&full), "the products did run in bfloat16");
    }
}
