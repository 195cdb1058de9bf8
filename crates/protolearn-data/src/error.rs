//! The crate's error type: every failure names the file, the position and what was expected.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while generating, reading, locating or downloading data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An operating-system error on a file or directory.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A binary file (IDX, gzip) whose content is not what the format requires.
    ///
    /// `offset` counts bytes of the uncompressed content.
    #[error("{}: at byte {offset}: expected {expected}, found {found}", path.display())]
    Format {
        /// The file being parsed.
        path: PathBuf,
        /// Byte offset of the problem in the uncompressed content.
        offset: u64,
        /// What the format requires there.
        expected: String,
        /// What the file holds there.
        found: String,
    },
    /// A CSV cell or row that cannot be used.
    #[error("{}: line {line}{}: expected {expected}, found {found}", path.display(), column_text(*.column))]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// 0-based column index, when the problem is one cell.
        column: Option<usize>,
        /// What was expected.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// Feature columns of a CSV file that hold text (or empty cells) instead of numbers, each
    /// with its first such cell; drop them or choose the columns to read.
    #[error("{}: {} feature column(s) hold text, not numbers: {}", path.display(), columns.len(), text_columns(columns))]
    TextColumns {
        /// The CSV file.
        path: PathBuf,
        /// The columns, in file order.
        columns: Vec<crate::csv::TextColumn>,
    },
    /// Columns of a CSV file with missing cells (empty, `NA`, ...), each with its count and
    /// first line; drop those rows or those columns.
    #[error("{}: {} column(s) have missing cells: {}", path.display(), columns.len(), missing_columns(columns))]
    MissingCells {
        /// The CSV file.
        path: PathBuf,
        /// The columns, in file order.
        columns: Vec<crate::csv::MissingColumn>,
    },
    /// A cell of a categorical column whose value is not among the column's fixed categories
    /// (those a model was fitted with).
    #[error("{}: line {line}, column {column:?}: unknown category {value:?} (known: {}); encode unknown values as all zeros to read it anyway", path.display(), known.join(", "))]
    UnknownCategory {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line.
        line: u64,
        /// The column's header name (or index).
        column: String,
        /// The cell.
        value: String,
        /// The known categories.
        known: Vec<String>,
    },
    /// A line of a `.ts` time-series file (sktime/aeon format) that cannot be used: a header
    /// line, a value, a class label, or a case whose lengths or dimension count disagree with
    /// the header or the other cases.
    #[error("{}: line {line}, {field}: expected {expected}, found {found}", path.display())]
    Ts {
        /// The `.ts` file (or the source name given to the parser).
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The part of the line at fault: a header tag (`@seriesLength`), `class label`,
        /// `dimension 2, step 17` (0-based), `dimensions` or `lengths`.
        field: String,
        /// What was expected.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A valid feature of a file format that this crate does not read (time stamps in a `.ts`
    /// file, a missing value inside a series).
    #[error("{}: line {line}, {field}: not supported: {reason}", path.display())]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// The part of the line at fault (as for [`Error::Ts`]).
        field: String,
        /// What is not supported, and why.
        reason: String,
    },
    /// A NumPy `.npy` file, or one array of an `.npz` archive, whose header, dtype, shape or
    /// values cannot be used (also: an `.npz` key that is absent, a label count that differs
    /// from the sample count).
    #[error("{}{}: expected {expected}, found {found}", path.display(), array_text(array.as_deref()))]
    Npy {
        /// The `.npy` or `.npz` file.
        path: PathBuf,
        /// The array's key inside an `.npz` archive; `None` for a `.npy` file or the archive as a whole.
        array: Option<String>,
        /// What was expected.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// A file whose digest (of its uncompressed content) differs from the pinned one.
    #[error("{}: checksum mismatch: expected {algorithm} {expected} of the uncompressed content, found {found}", path.display())]
    Checksum {
        /// The file that failed verification.
        path: PathBuf,
        /// The digest algorithm: `"MD5"` (MNIST) or `"SHA-256"` (UCR/UEA `.ts` files).
        algorithm: &'static str,
        /// The pinned digest (lowercase hex).
        expected: String,
        /// The digest of the file's uncompressed content.
        found: String,
    },
    /// A dataset absent from every directory of the search order.
    #[error("dataset `{dataset}` not found; looked in {}.\nTo fix: {hint}", display_paths(searched))]
    NotFound {
        /// Dataset name (`mnist`, `fashion-mnist`, `ucr/GunPoint`).
        dataset: String,
        /// Dataset directories that were searched, in order.
        searched: Vec<PathBuf>,
        /// How to make the dataset available.
        hint: String,
    },
    /// An HTTP request that failed (connection, timeout, non-200 status).
    #[error("{url}: {reason}")]
    Http {
        /// The requested URL.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// A file that could not be downloaded from any mirror.
    #[error("could not download {file}: {}", display_attempts(attempts))]
    Download {
        /// The file name that was requested.
        file: String,
        /// One entry per mirror tried, in order.
        attempts: Vec<Error>,
    },
    /// A parameter outside its valid range.
    #[error("invalid parameter `{name}`: expected {expected}, found {found}")]
    InvalidParameter {
        /// The parameter (config field or argument) name.
        name: &'static str,
        /// The valid range.
        expected: String,
        /// The value given.
        found: String,
    },
    /// Buffers or tensors whose sizes do not agree.
    #[error("shape mismatch: expected {expected}, got {got}")]
    Shape {
        /// The required shape or length.
        expected: String,
        /// The shape or length given.
        got: String,
    },
    /// An error reported by libtorch.
    #[cfg(feature = "tch")]
    #[error(transparent)]
    Tch(#[from] tch::TchError),
}

/// `"colour" (column 3)`, or `column 3` without a header.
fn column_name(name: Option<&String>, index: usize) -> String {
    name.map_or_else(|| format!("column {index}"), |n| format!("{n:?} (column {index})"))
}

/// `"colour" (column 3), line 2: "red"; ...` for [`Error::TextColumns`].
fn text_columns(columns: &[crate::csv::TextColumn]) -> String {
    let each = columns.iter().map(|c| format!("{}, line {}: {:?}", column_name(c.name.as_ref(), c.index), c.line, c.cell));
    each.collect::<Vec<_>>().join("; ")
}

/// `"size" (column 4): 3 cell(s), first at line 2; ...` for [`Error::MissingCells`].
fn missing_columns(columns: &[crate::csv::MissingColumn]) -> String {
    let each = columns.iter().map(|c| format!("{}: {} cell(s), first at line {}", column_name(c.name.as_ref(), c.index), c.count, c.line));
    each.collect::<Vec<_>>().join("; ")
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub(crate) fn invalid(name: &'static str, expected: impl Into<String>, found: impl std::fmt::Display) -> Self {
        Error::InvalidParameter { name, expected: expected.into(), found: found.to_string() }
    }

    /// Shorthand for [`Error::Io`].
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

fn column_text(column: Option<usize>) -> String {
    column.map_or_else(String::new, |c| format!(", column {c}"))
}

fn array_text(array: Option<&str>) -> String {
    array.map_or_else(String::new, |a| format!(", array {a:?}"))
}

fn display_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "no directory".to_owned();
    }
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

fn display_attempts(attempts: &[Error]) -> String {
    if attempts.is_empty() {
        return "no mirror configured".to_owned();
    }
    attempts.iter().map(Error::to_string).collect::<Vec<_>>().join("; ")
}
