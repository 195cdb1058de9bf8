//! Data-parallel training for protolearn on the distributed engine libtorch already contains:
//! c10d process groups (a `TCPStore` rendezvous and the Gloo backend), bound through a small C++
//! shim, with the launcher environment of `torchrun`, Slurm and Kubernetes' PyTorchJob.
//!
//! A [`ProcessGroup`] implements [`protolearn_layers::collective::Collective`]: the trainer
//! averages gradients through it, the batch SOM and Lloyd's k-means sum their member statistics
//! through it (see `docs/ARCHITECTURE.md`, "Data-parallel training").
//!
//! ```no_run
//! use protolearn_dist::{Launch, ProcessGroup};
//! use protolearn_layers::collective::Collective;
//! use tch::Tensor;
//!
//! // Under `torchrun --nproc-per-node 2 --no-python my-program`:
//! let launch = Launch::from_env()?.expect("started by a launcher");
//! let group = ProcessGroup::join(&launch)?;
//! let t = Tensor::from_slice(&[group.rank() as f32 + 1.0]);
//! group.all_reduce_sum(&t).unwrap();
//! assert_eq!(t.double_value(&[0]), 3.0); // 1 + 2
//! # Ok::<(), protolearn_dist::Error>(())
//! ```
//!
//! Gloo serves CPU tensors; NCCL (CUDA) is not bound yet.

mod error;
mod ffi;
mod launch;

pub use error::{Error, Result};
pub use launch::Launch;

use protolearn_layers::collective::{collective_error, set_default_group, Collective};
use std::sync::Arc;
use tch::Tensor;

/// Joins the group the launcher environment describes ([`Launch::from_env`]) and makes it the
/// process's default group, so that every trainer and Lloyd's k-means built afterwards run
/// data-parallel over it (as `torch.distributed.init_process_group` does for PyTorch). `None`
/// when the process was not started by a launcher; the group stays joined for the process's life.
pub fn init_from_env() -> Result<Option<Arc<ProcessGroup>>> {
    let Some(launch) = Launch::from_env()? else {
        return Ok(None);
    };
    let group = Arc::new(ProcessGroup::join(&launch)?);
    set_default_group(group.clone())?;
    Ok(Some(group))
}

/// A joined c10d process group with the Gloo backend: every rank of a [`Launch`] holds one.
#[derive(Debug)]
pub struct ProcessGroup {
    raw: ffi::RawGroup,
    rank: usize,
    world_size: usize,
}

impl ProcessGroup {
    /// Joins the group `launch` describes: rank 0 hosts the `TCPStore` at `MASTER_ADDR:MASTER_PORT`
    /// (unless torchrun's agent hosts it), every rank connects to it and builds its Gloo
    /// connections. Fails with [`Error::Join`] when a peer does not join within the timeout.
    pub fn join(launch: &Launch) -> Result<ProcessGroup> {
        let timeout_ms = i64::try_from(launch.timeout.as_millis()).unwrap_or(i64::MAX);
        let as_int = |v: usize, var: &'static str| {
            i32::try_from(v).map_err(|_| Error::BadVar { var, expected: "a value below 2^31".into(), found: v.to_string() })
        };
        let raw = ffi::RawGroup::join(
            &launch.master_addr,
            launch.master_port,
            as_int(launch.rank, "RANK")?,
            as_int(launch.world_size, "WORLD_SIZE")?,
            launch.hosts_store(),
            timeout_ms,
        )
        .map_err(|message| Error::Join {
            rank: launch.rank,
            world_size: launch.world_size,
            addr: launch.master_addr.clone(),
            port: launch.master_port,
            timeout_s: launch.timeout.as_secs_f64(),
            message,
        })?;
        Ok(ProcessGroup { raw, rank: launch.rank, world_size: launch.world_size })
    }

    /// Checks that `tensor` can be sent as it is (Gloo reads the storage in order).
    fn check(op: &'static str, tensor: &Tensor) -> protolearn_layers::Result<()> {
        if tensor.is_contiguous() {
            Ok(())
        } else {
            Err(collective_error(op, format!("the tensor of shape {:?} is not contiguous", tensor.size())))
        }
    }
}

impl Collective for ProcessGroup {
    fn rank(&self) -> usize {
        self.rank
    }

    fn world_size(&self) -> usize {
        self.world_size
    }

    fn all_reduce_sum(&self, tensor: &Tensor) -> protolearn_layers::Result<()> {
        Self::check("all_reduce", tensor)?;
        self.raw.all_reduce_sum(tensor).map_err(|m| collective_error("all_reduce", m))
    }

    fn broadcast(&self, tensor: &Tensor, root: usize) -> protolearn_layers::Result<()> {
        Self::check("broadcast", tensor)?;
        let root = i32::try_from(root).map_err(|_| collective_error("broadcast", format!("root rank {root} out of range")))?;
        self.raw.broadcast(tensor, root).map_err(|m| collective_error("broadcast", m))
    }

    fn barrier(&self) -> protolearn_layers::Result<()> {
        self.raw.barrier().map_err(|m| collective_error("barrier", m))
    }
}
