//! The error type of the estimators: every failure names the file, the field or the shape, and
//! what was expected against what was found.

use std::path::{Path, PathBuf};

/// Everything that can go wrong while configuring, fitting, using, saving or loading a model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A `MODEL.toml` that does not parse or has an unknown key or a wrong type.
    #[error("{}: line {line}, column {column}: {message}", path.display())]
    Config {
        /// The file (or `<string>`).
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What TOML / serde reported (the key or the expected type), and the line's text.
        message: String,
    },
    /// A configuration value out of range.
    #[error("invalid `{field}`: expected {expected}, found {found}")]
    InvalidConfig {
        /// The field.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// Data whose shape does not fit the model (e.g. `predict` with another number of features).
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// Which input.
        what: String,
        /// The expected shape.
        expected: String,
        /// The shape found.
        found: String,
    },
    /// A model file that is not a protolearn model of this format version, or is damaged.
    #[error("{}: expected {expected}, found {found}", path.display())]
    ModelFile {
        /// The model file.
        path: PathBuf,
        /// What a model file must hold.
        expected: String,
        /// What this file holds.
        found: String,
    },
    /// Something that needs labels where there are none.
    #[error("{what} needs labels, but {missing}")]
    NoLabels {
        /// The operation.
        what: String,
        /// What has no labels.
        missing: String,
    },
    /// Missing input values (`NaN`) for a model that does not handle them.
    #[error(
        "the data has {count} missing values (NaN), in {}; choose how to treat them: `missing = \"impute-mean\"` or `\"mask\"` in the model config (command line: --missing impute-mean | mask | drop-rows)",
        columns.join(", ")
    )]
    MissingValues {
        /// How many values are missing.
        count: usize,
        /// The features that have them.
        columns: Vec<String>,
    },
    /// An operating-system error on a file or folder.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Reading or preparing data failed.
    #[error(transparent)]
    Data(#[from] protolearn_data::Error),
    /// A layer rejected its configuration or input.
    #[error(transparent)]
    Layer(#[from] protolearn_layers::Error),
    /// Training failed (configuration, divergence, device).
    #[error(transparent)]
    Train(#[from] protolearn_train::Error),
    /// A metric rejected its input.
    #[error(transparent)]
    Metrics(#[from] protolearn_metrics::Error),
    /// A figure could not be drawn or written.
    #[error(transparent)]
    Plot(#[from] protolearn_plot::Error),
    /// A libtorch call failed.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
}

/// Result with the estimators' error.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// An out-of-range value of `field`.
    pub(crate) fn invalid(field: &str, expected: &str, found: impl std::fmt::Display) -> Self {
        Error::InvalidConfig { field: field.into(), expected: expected.into(), found: found.to_string() }
    }

    /// A TOML error of the text read from `path`, with its 1-based line and column.
    /// An unknown key inside an internally tagged table (`[model]`) has no span of its own
    /// (serde buffers the table), so its line is found by the key's name.
    pub(crate) fn config(path: &Path, text: &str, error: &toml::de::Error) -> Self {
        let unknown_key = error.message().strip_prefix("unknown field `").and_then(|rest| rest.split('`').next());
        let key_offset = unknown_key.and_then(|key| {
            let mut offset = 0;
            text.split_inclusive('\n').find_map(|line| {
                let start = offset;
                offset += line.len();
                let trimmed = line.trim_start();
                let rest = trimmed.strip_prefix(key)?;
                rest.trim_start().starts_with('=').then_some(start + line.len() - trimmed.len())
            })
        });
        let offset = key_offset.or(error.span().map(|s| s.start)).unwrap_or(0).min(text.len());
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let source = text.lines().nth(line - 1).unwrap_or_default().trim();
        Error::Config { path: path.to_owned(), line, column, message: format!("{} (in `{source}`)", error.message()) }
    }

    /// An I/O error on `path`.
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Io { path: path.to_owned(), source }
    }
}
