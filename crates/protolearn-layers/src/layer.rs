//! The trait shared by prototype layers: prototypes (possibly a function of the input) and winners.

use tch::Tensor;

/// A layer whose `forward` returns dissimilarities `[.., n, k]` between inputs and `k` prototypes.
pub trait PrototypeLayer: tch::nn::Module {
    /// The prototypes used for input `x`.
    ///
    /// # Shapes
    /// `x`: `[replicas, n, d]` → `[replicas, k, d]`. For a VCL they do not depend on `x`; for a DCL
    /// they are a (deep) function of `x^T`.
    fn prototypes(&self, x: &Tensor) -> Tensor;

    /// Index of the nearest prototype of each sample (ties: lowest index).
    ///
    /// # Shapes
    /// `x`: `[replicas, n, d]` → `[replicas, n]` (int64).
    fn winners(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        self.forward(x).argmin(-1, false)
    }
}
