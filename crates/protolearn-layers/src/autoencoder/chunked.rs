//! Encoding a whole data set without gradient, a bounded number of rows at a time, for every
//! family that clusters or scores a backbone's codes (DESOM, DDCL, DeepCluster, LVQ heads).

use super::Backbone;
use crate::error::Result;
use tch::Tensor;

/// Rows encoded at once (bounds the memory of a convolutional encoder's activations on a whole
/// data set).
pub(crate) const ENCODE_CHUNK: i64 = 4096;

/// `f(x)` without gradient, `ENCODE_CHUNK` (4,096) rows at a time.
///
/// # Shapes
/// `x`: `[n, ...input_shape]` → `[n, L]`.
pub fn encode_chunked(autoencoder: &dyn Backbone, x: &Tensor) -> Result<Tensor> {
    autoencoder.check_input(x)?;
    in_chunks(x, 0, |chunk| autoencoder.encode(chunk))
}

/// `f` applied without gradient to [`ENCODE_CHUNK`] rows of `x` at a time (bounding the memory
/// of the activations on a whole data set), the results concatenated along `dim`.
pub(crate) fn in_chunks(x: &Tensor, dim: i64, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    let n = x.size()[0];
    let chunks = (0..n)
        .step_by(ENCODE_CHUNK as usize)
        .map(|start| f(&x.narrow(0, start, ENCODE_CHUNK.min(n - start))))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::f_cat(&chunks, dim)?)
}
