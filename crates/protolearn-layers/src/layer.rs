//! The trait shared by prototype layers: prototypes (possibly a function of the input) and winners.

use tch::Tensor;

/// A layer whose `forward` returns dissimilarities between inputs and `k` prototypes.
///
/// # The shape convention
/// One convention for every layer: samples are rows, prototypes are rows, and any leading
/// dimensions are *replicas* (independent seeds trained as one tensor program, paper 000).
///
/// ```text
///              x                    prototypes(x)            forward(x)         winners(x)
/// one model    [n, d]          ->   [k, d]              ->   [n, k]        ->   [n]
/// replicated   [replicas, n, d] ->  [replicas, k, d]    ->   [replicas, n, k] -> [replicas, n]
/// ```
///
/// The SOM layer is one model (`[n, L] -> [n, K]`, a replicated input broadcasts); VCL and DCL
/// always carry the replica dimension (`replicas = 1` for one seed). Supervised heads add
/// [`PrototypeLayer::prototype_labels`] `[k]`.
pub trait PrototypeLayer: tch::nn::Module {
    /// The prototypes used for input `x`.
    ///
    /// # Shapes
    /// `x`: `[.., n, d]` → `[.., k, d]`. For a VCL or a SOM they do not depend on `x`; for a DCL
    /// they are a (deep) function of `x^T`.
    fn prototypes(&self, x: &Tensor) -> Tensor;

    /// Index of the nearest prototype of each sample (ties: lowest index).
    ///
    /// # Shapes
    /// `x`: `[.., n, d]` → `[.., n]` (int64).
    fn winners(&self, x: &Tensor) -> Tensor {
        let _guard = tch::no_grad_guard();
        crate::distance::argmin(&self.forward(x), -1)
    }

    /// The class label of every prototype `[k]` (int64) for supervised heads (LVQ); `None` for
    /// unsupervised layers (VCL, DCL, SOM).
    fn prototype_labels(&self) -> Option<Tensor> {
        None
    }
}

/// A rule that moves a layer's prototypes without autograd (the online and batch SOM of paper
/// 002, Algorithms 1-2; LVQ1 and LVQ2.1; later neural gas): one call is one step on a batch of samples.
/// The trainer (protolearn-train's `Trainer::apply_rule`) draws the batches and calls
/// [`UpdateRule::update`]; the rule owns its schedules. The layer is borrowed shared: rules
/// write the prototypes in place without gradient, as an optimizer does.
pub trait UpdateRule<L> {
    /// Moves the prototypes of `layer` using the samples `x` `[b, d]` and, for supervised rules
    /// (LVQ1, LVQ2.1), their classes `y` `[b]`, at step `step` (1-based) of `steps`.
    fn update(&self, layer: &L, x: &Tensor, y: Option<&Tensor>, step: usize, steps: usize) -> crate::error::Result<()>;

    /// The same step in a data-parallel run: `x` (and `y`) is this rank's part of the batch,
    /// `group` holds the other parts, and the rule sums across it what the whole batch's update
    /// needs, so that every rank makes the update [`UpdateRule::update`] makes on the whole
    /// batch. The default refuses: a rule that moves prototypes sample after sample (online SOM,
    /// LVQ1, LVQ2.1) has no sum to share.
    fn update_across(
        &self,
        _layer: &L,
        _x: &Tensor,
        _y: Option<&Tensor>,
        _step: usize,
        _steps: usize,
        group: &dyn crate::collective::Collective,
    ) -> crate::error::Result<()> {
        Err(crate::Error::InvalidConfig {
            field: "data-parallel training",
            expected: "a rule that sums over the whole batch (the batch SOM); this one moves prototypes sample after sample".into(),
            found: format!("{} processes (WORLD_SIZE)", group.world_size()),
        })
    }

    /// The step on rows `range` of `source` read `chunk_rows` at a time (data larger than
    /// memory), summed over `group` when there is one. The default refuses: only rules whose
    /// step is a sum over the batch can read it in chunks.
    #[allow(clippy::too_many_arguments)]
    fn update_rows(
        &self,
        _layer: &L,
        _source: &dyn crate::rows::RowSource,
        _range: std::ops::Range<usize>,
        _chunk_rows: usize,
        _step: usize,
        _steps: usize,
        _group: Option<&dyn crate::collective::Collective>,
    ) -> crate::error::Result<()> {
        Err(crate::Error::InvalidConfig {
            field: "streamed training",
            expected: "a rule that sums over the whole batch (the batch SOM)".into(),
            found: "a rule that moves prototypes sample after sample".into(),
        })
    }
}
