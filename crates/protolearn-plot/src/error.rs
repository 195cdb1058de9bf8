//! The crate's error type: invalid figure input, font registration, drawing and file errors.

use std::path::PathBuf;

/// Everything that can go wrong while validating input or writing a figure.
///
/// Invalid input is always reported before any file is written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A length or shape does not match what the figure needs.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// The input that has the wrong shape, e.g. `"labels"`.
        what: String,
        /// What the figure expected, e.g. `"length 100 (one per point)"`.
        expected: String,
        /// What it got, e.g. `"length 99"`.
        found: String,
    },
    /// An input that must hold at least one element is empty.
    #[error("{what}: expected at least one element, found none")]
    Empty {
        /// The empty input.
        what: String,
    },
    /// A value that is drawn is NaN or infinite (never skipped silently).
    #[error("{what}: expected finite values, found {value} at index {index}")]
    NonFinite {
        /// The input holding the value.
        what: String,
        /// Position of the first offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// An index (e.g. an edge endpoint) points past the end of what it indexes.
    #[error("{what}: expected an index below {len}, found {index}")]
    IndexOutOfRange {
        /// The input holding the index.
        what: String,
        /// The offending index.
        index: usize,
        /// Length of the indexed collection.
        len: usize,
    },
    /// A setting is outside its valid range (e.g. zero columns, a non-positive value on a log axis).
    #[error("{what}: expected {expected}, found {found}")]
    Invalid {
        /// The setting.
        what: String,
        /// Its valid range.
        expected: String,
        /// The given value.
        found: String,
    },
    /// One panel of a multi-panel figure is invalid.
    #[error("panel {index}: {source}")]
    Panel {
        /// Position of the panel in the slice passed to the figure function.
        index: usize,
        /// What is wrong with it.
        #[source]
        source: Box<Error>,
    },
    /// The bundled font could not be registered with plotters.
    #[error("could not register the bundled font: {0}")]
    Font(String),
    /// plotters failed while drawing or encoding.
    #[error("drawing {path}: {message}")]
    Draw {
        /// The file being drawn.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
    /// Creating the output directory or writing the SVG file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The directory or file that could not be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Result with this crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// A plotters failure inside backend-generic drawing code, which does not know the file it draws.
///
/// The figure renderer turns it into [`Error::Draw`] with the file's path.
#[derive(Debug)]
pub(crate) struct DrawFailure(pub(crate) String);

impl<E: std::error::Error + Send + Sync> From<plotters::drawing::DrawingAreaErrorKind<E>> for DrawFailure {
    fn from(err: plotters::drawing::DrawingAreaErrorKind<E>) -> Self {
        Self(err.to_string())
    }
}

/// Result of backend-generic drawing code.
pub(crate) type DrawResult = std::result::Result<(), DrawFailure>;
