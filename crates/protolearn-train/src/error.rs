//! The error type of protolearn-train.

/// Errors from configuration, training and checkpointing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is out of range or malformed.
    #[error("invalid config `{field}`: expected {expected}, found {found}")]
    InvalidConfig {
        /// The offending field.
        field: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A CUDA device was requested but libtorch does not see it.
    #[error("device `{requested}` requested but libtorch sees {cuda_devices} CUDA device(s)")]
    DeviceUnavailable {
        /// The requested device.
        requested: String,
        /// How many CUDA devices libtorch reports.
        cuda_devices: i64,
    },
    /// A loss term or a trainable variable became NaN or infinite; training stopped and the last
    /// checkpoint written (if any) is the last finite one.
    #[error("training diverged in phase `{phase}` at step {step}: {what} is not finite")]
    Diverged {
        /// The phase (e.g. `pretrain`, `joint`).
        phase: String,
        /// The 1-based step within the phase.
        step: usize,
        /// Which term or variable.
        what: String,
    },
    /// A libtorch call failed.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    /// A layer rejected its input.
    #[error(transparent)]
    Layer(#[from] protolearn_layers::Error),
    /// The dataset layer failed (batch sampling, shapes).
    #[error(transparent)]
    Data(#[from] protolearn_data::Error),
    /// A metric rejected its input.
    #[error(transparent)]
    Metrics(#[from] protolearn_metrics::Error),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result with the protolearn-train error.
pub type Result<T> = std::result::Result<T, Error>;
