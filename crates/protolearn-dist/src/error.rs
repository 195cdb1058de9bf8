//! The error type of protolearn-dist: a launch environment that is missing or inconsistent, and
//! a rendezvous that failed or timed out.

/// Errors from reading the launch environment and joining the process group.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A launcher variable is missing while others are set.
    #[error("{var} is not set, but {set} is: a data-parallel run needs MASTER_ADDR, MASTER_PORT, RANK and WORLD_SIZE (torchrun, Slurm and Kubernetes' PyTorchJob set them all)")]
    MissingVar {
        /// The missing variable.
        var: &'static str,
        /// A variable that is set.
        set: &'static str,
    },
    /// A launcher variable has a value that is not what it must be.
    #[error("{var}={found}: expected {expected}")]
    BadVar {
        /// The variable.
        var: &'static str,
        /// What was expected.
        expected: String,
        /// Its value.
        found: String,
    },
    /// The rendezvous failed: a peer never joined within the timeout, the store was unreachable,
    /// or the world size disagrees between ranks.
    #[error(
        "rank {rank} of {world_size} could not join the process group at {addr}:{port} within {timeout_s} s: {message} \
         (every rank must start within the timeout, with the same WORLD_SIZE, MASTER_ADDR and MASTER_PORT; \
         PROTOLEARN_DIST_TIMEOUT sets the timeout in seconds)"
    )]
    Join {
        /// This process's rank.
        rank: usize,
        /// The expected number of processes.
        world_size: usize,
        /// The store's address.
        addr: String,
        /// The store's port.
        port: u16,
        /// The timeout, seconds.
        timeout_s: f64,
        /// What c10d reported.
        message: String,
    },
    /// The process already has a default group.
    #[error(transparent)]
    Group(#[from] protolearn_layers::Error),
}

/// Result with the protolearn-dist error.
pub type Result<T> = std::result::Result<T, Error>;
