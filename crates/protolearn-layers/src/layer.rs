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

/// A rule that moves a layer's prototypes without autograd (the online and batch SOM of paper
/// 002, Algorithms 1-2; later neural gas or LVQ1): one call is one step on a batch of samples.
/// Trainers draw the batches and call [`UpdateRule::step`]; the rule owns its schedules.
pub trait UpdateRule<L> {
    /// Samples per step: `Some(b)` for `b` samples in shuffled epochs, `None` for the whole set.
    fn batch_size(&self) -> Option<usize>;

    /// Moves the prototypes of `layer` using the samples `x` `[b, d]` at step `iteration`
    /// (1-based) of `iterations`.
    fn step(&self, layer: &mut L, x: &Tensor, iteration: usize, iterations: usize) -> crate::error::Result<()>;
}
