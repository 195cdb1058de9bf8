//! The trainer's data-parallel pieces (c10d process groups through
//! [`protolearn_layers::collective::Collective`]): every rank draws the same batch from the same
//! seeded stream and keeps its contiguous part of it; gradients are combined into the gradient of
//! the whole batch's mean loss before the optimizer steps; update rules sum across the group
//! themselves; variables start from rank 0's.
//!
//! Why this gives the single-process step: a loss that is a mean over the batch's samples
//! (plus terms that do not depend on the batch) is `L = sum_r (n_r / n) L_r` with `L_r` the
//! mean over rank `r`'s `n_r` samples, so `grad L = sum_r (n_r / n) grad L_r`: each rank scales
//! its gradient by `n_r / n` and the group sums. The only difference from one process is the
//! order of the float additions.

use crate::error::Result;
use protolearn_data::tensor::Batch;
use protolearn_layers::collective::{shard_range, Collective};
use tch::{nn, Tensor};

/// This rank's contiguous part of `batch` (rows `shard_range(b, rank, world)`) and its share
/// `n_r / b` of the batch.
pub(crate) fn shard_batch(batch: Batch, group: &dyn Collective) -> Result<(Batch, f64)> {
    let b = batch.x.size()[0] as usize;
    let rows = shard_range(b, group.rank(), group.world_size());
    let (start, len) = (rows.start as i64, rows.len() as i64);
    let x = batch.x.f_narrow(0, start, len)?;
    let y = batch.y.as_ref().map(|y| y.f_narrow(0, start, len)).transpose()?;
    let indices = batch.indices.f_narrow(0, start, len)?;
    Ok((Batch { x, y, indices }, rows.len() as f64 / b.max(1) as f64))
}

/// The whole batch's gradients from this rank's `grads`: each scaled by this rank's `share` of
/// the batch, then summed over the group (one all-reduce of all gradients flattened into one
/// buffer, as PyTorch's DDP buckets them). Undefined gradients stay undefined.
pub(crate) fn combine_gradients(grads: &[Tensor], share: f64, group: &dyn Collective) -> Result<Vec<Tensor>> {
    let _guard = tch::no_grad_guard();
    let defined: Vec<&Tensor> = grads.iter().filter(|g| g.defined()).collect();
    if defined.is_empty() {
        return Ok(grads.iter().map(Tensor::shallow_clone).collect());
    }
    let flat = Tensor::f_cat(&defined.iter().map(|g| g.reshape([-1])).collect::<Vec<_>>(), 0)? * share; // [P]
    group.all_reduce_sum(&flat)?;
    let mut offset = 0;
    let mut combined = Vec::with_capacity(grads.len());
    for g in grads {
        if !g.defined() {
            combined.push(g.shallow_clone());
            continue;
        }
        let n = g.numel() as i64;
        combined.push(flat.f_narrow(0, offset, n)?.f_view(g.size().as_slice())?);
        offset += n;
    }
    Ok(combined)
}

/// Makes every variable of `vs` rank 0's (a model initialised from a rank's own data, or from a
/// different RNG state, starts identical everywhere).
pub(crate) fn broadcast_variables(vs: &nn::VarStore, group: &dyn Collective) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let mut variables = vs.variables().into_iter().collect::<Vec<_>>();
    variables.sort_by(|a, b| a.0.cmp(&b.0)); // the same order on every rank
    for (_, variable) in variables {
        group.broadcast(&variable, 0)?;
    }
    Ok(())
}
