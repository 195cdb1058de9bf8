//! The crate's one error type: every invalid input is reported here, never by a panic.

/// Everything that can make a metric undefined for its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Two sizes that must agree do not (lengths, dimensions, grid vs prototypes).
    #[error("shape mismatch for {what}: expected {expected}, got {got}")]
    Shape {
        /// Which quantity was checked.
        what: &'static str,
        /// The size implied by the other arguments.
        expected: usize,
        /// The size that was passed.
        got: usize,
    },
    /// A size that must be at least `min` is smaller (empty data, zero dimension,
    /// one prototype where two best units are needed, one value where a variance is needed).
    #[error("{what} needs at least {min}, got {got}")]
    TooFew {
        /// Which quantity was checked.
        what: &'static str,
        /// The smallest admissible size.
        min: usize,
        /// The size that was passed.
        got: usize,
    },
    /// An input value is NaN or infinite.
    #[error("{what} holds a non-finite value at flat index {index}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// Position of the first offending value.
        index: usize,
    },
    /// A map unit index is not on the grid.
    #[error("unit {unit} is out of range for a grid of {n_units} units")]
    UnitOutOfRange {
        /// The offending unit.
        unit: usize,
        /// Number of units of the grid.
        n_units: usize,
    },
    /// A parameter is outside its domain (e.g. a non-positive temperature).
    #[error("invalid parameter {name}: {reason}")]
    InvalidParameter {
        /// Parameter name.
        name: &'static str,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// The metric's formula divides by zero for this input (e.g. constant images in PSR).
    #[error("{what} is undefined: {reason}")]
    Undefined {
        /// Which metric.
        what: &'static str,
        /// Why.
        reason: &'static str,
    },
}

/// Result alias of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Returns `Error::Shape` unless `got == expected`.
pub(crate) fn check_len(what: &'static str, expected: usize, got: usize) -> Result<()> {
    if expected == got {
        Ok(())
    } else {
        Err(Error::Shape { what, expected, got })
    }
}

/// Returns `Error::TooFew` unless `got >= min`.
pub(crate) fn check_at_least(what: &'static str, min: usize, got: usize) -> Result<()> {
    if got >= min {
        Ok(())
    } else {
        Err(Error::TooFew { what, min, got })
    }
}
