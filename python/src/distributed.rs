//! Data-parallel training from Python: [`init_distributed`] joins the c10d process group of the
//! launcher environment (torchrun, Slurm, Kubernetes' PyTorchJob) as the `protolearn` command
//! does, after which every estimator's `fit` in the process is data-parallel over it.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;

/// Joins the launcher's process group (`MASTER_ADDR`, `MASTER_PORT`, `RANK`, `WORLD_SIZE`) and
/// makes it the default group of every later fit; returns `(rank, world_size)`, or `None` when
/// the process was not started by a launcher. A missing or inconsistent variable is a
/// `ValueError`; a peer that does not join within `PROTOLEARN_DIST_TIMEOUT` seconds, or a second
/// call, a `RuntimeError`.
#[pyfunction]
pub fn init_distributed(py: Python<'_>) -> PyResult<Option<(usize, usize)>> {
    // The rendezvous waits for the other ranks: without the GIL, so other threads run meanwhile.
    let joined = py.detach(protolearn_dist::init_from_env);
    match joined {
        Ok(group) => Ok(group.map(|g| {
            use protolearn::layers::collective::Collective;
            (g.rank(), g.world_size())
        })),
        Err(err @ (protolearn_dist::Error::MissingVar { .. } | protolearn_dist::Error::BadVar { .. })) => {
            Err(PyValueError::new_err(err.to_string()))
        }
        Err(err) => Err(PyRuntimeError::new_err(err.to_string())),
    }
}
