//! Collective operations across the processes of a data-parallel run: the interface the layers'
//! batch rules and the trainer sum through. protolearn-dist implements it on PyTorch's c10d
//! process groups (Gloo on CPU); a single process needs none of it.
//!
//! Data parallelism here is exact, not approximate: every rank holds the same model, sees its
//! own part of each batch, and adds its part of the quantities a step is made of (gradients of a
//! mean loss, the batch SOM's and Lloyd's member sums and counts) to the others' before the
//! step. The sum over ranks equals the single-process sum up to the order of float additions.

use crate::error::{Error, Result};
use std::fmt::Debug;
use std::sync::{Arc, OnceLock};
use tch::Tensor;

/// The process's default group, as `torch.distributed.init_process_group` sets one: trainers and
/// Lloyd's k-means built after [`set_default_group`] run data-parallel over it.
static DEFAULT_GROUP: OnceLock<Arc<dyn Collective + Send + Sync>> = OnceLock::new();

/// A group of processes that sum and share tensors (c10d's `all_reduce`, `broadcast`, `barrier`).
/// Every rank must call the same operations in the same order on tensors of the same shape and
/// type.
pub trait Collective: Debug {
    /// This process's rank, `0..world_size()`.
    fn rank(&self) -> usize;
    /// The number of processes.
    fn world_size(&self) -> usize;
    /// Replaces `tensor` (contiguous) by the element-wise sum of every rank's `tensor`, in place.
    fn all_reduce_sum(&self, tensor: &Tensor) -> Result<()>;
    /// Replaces `tensor` (contiguous) on every rank by rank `root`'s, in place.
    fn broadcast(&self, tensor: &Tensor, root: usize) -> Result<()>;
    /// Returns when every rank has called it.
    fn barrier(&self) -> Result<()>;
}

/// Makes `group` the process's default group (once per process; a second call is an error).
/// A launcher-started program calls it right after joining (see `protolearn_dist::init_from_env`).
pub fn set_default_group(group: Arc<dyn Collective + Send + Sync>) -> Result<()> {
    let (rank, world) = (group.rank(), group.world_size());
    DEFAULT_GROUP.set(group).map_err(|_| Error::InvalidConfig {
        field: "default process group",
        expected: "one default group per process".into(),
        found: format!("a second one (rank {rank} of {world})"),
    })
}

/// The default group when one with more than one process is set.
pub fn default_group() -> Option<&'static dyn Collective> {
    DEFAULT_GROUP.get().filter(|g| g.world_size() > 1).map(|g| g.as_ref() as &dyn Collective)
}

/// Sums `tensor` over the ranks of `group` in place; with no group (one process) nothing changes.
pub fn sum_across(group: Option<&dyn Collective>, tensor: &Tensor) -> Result<()> {
    match group {
        Some(group) if group.world_size() > 1 => group.all_reduce_sum(tensor),
        _ => Ok(()),
    }
}

/// Rows `start..end` of `n` rows that rank `rank` of `world` takes: contiguous, in rank order,
/// sizes differing by at most one (rank `r` starts at `floor(n r / world)`).
pub fn shard_range(n: usize, rank: usize, world: usize) -> std::ops::Range<usize> {
    let world = world.max(1);
    (n * rank / world)..(n * (rank + 1) / world)
}

/// The error of a collective operation that failed (a peer that died, a timeout).
pub fn collective_error(op: &'static str, message: impl Into<String>) -> Error {
    Error::Collective { op, message: message.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_the_rows_once_in_order() {
        for (n, world) in [(10, 3), (7, 2), (1, 2), (60_000, 4)] {
            let ranges: Vec<_> = (0..world).map(|r| shard_range(n, r, world)).collect();
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[world - 1].end, n);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
            }
            let sizes: Vec<_> = ranges.iter().map(|r| r.len()).collect();
            assert!(sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0) <= 1, "{sizes:?}");
        }
    }
}
