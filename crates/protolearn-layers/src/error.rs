//! The error type of protolearn-layers.

/// Errors from building layers and evaluating losses.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A tensor has the wrong shape.
    #[error("{what}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Which argument.
        what: &'static str,
        /// The expected shape, in words (e.g. `[replicas, n, d]`).
        expected: String,
        /// The shape found.
        got: Vec<i64>,
    },
    /// A configuration value is out of range.
    #[error("invalid `{field}`: expected {expected}, found {found}")]
    InvalidConfig {
        /// The offending field.
        field: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A backbone without decoder was asked to decode (e.g. DESOM's reconstruction loss on a
    /// classifier backbone).
    #[error("the backbone {backbone} has no decoder")]
    NoDecoder {
        /// The backbone, in words.
        backbone: String,
    },
    /// A collective operation across the processes of a data-parallel run failed (a peer died or
    /// timed out, see [`crate::collective`]).
    #[error("{op} across processes failed: {message}")]
    Collective {
        /// The operation (`all_reduce`, `broadcast`, `barrier`).
        op: &'static str,
        /// What the process group reported.
        message: String,
    },
    /// A libtorch call failed.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// Result with the protolearn-layers error.
pub type Result<T> = std::result::Result<T, Error>;

/// Checks that `t` has `dims` dimensions, naming the argument and the expected layout on failure.
pub(crate) fn expect_dims(t: &tch::Tensor, dims: usize, what: &'static str, layout: &str) -> Result<Vec<i64>> {
    let size = t.size();
    if size.len() != dims {
        return Err(Error::Shape { what, expected: layout.to_owned(), got: size });
    }
    Ok(size)
}
