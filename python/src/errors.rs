//! Rust errors and panics as Python exceptions: bad input is a `ValueError`, a missing file a
//! `FileNotFoundError`, other operating-system errors an `OSError`, the rest
//! `protolearn.ProtolearnError`; the message is the Rust error's, as the command line prints it.
//! A panic never unwinds into the interpreter: [`guard`] turns it into a `ProtolearnError`.

use protolearn::Error;
use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

pyo3::create_exception!(
    protolearn,
    ProtolearnError,
    PyException,
    "A protolearn failure that is neither bad input nor a file problem (training, libtorch, plotting)."
);

/// The Python exception of an estimator error.
pub fn to_py(err: Error) -> PyErr {
    let message = err.to_string();
    match &err {
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(message),
        Error::Io { .. } => PyOSError::new_err(message),
        Error::Config { .. }
        | Error::InvalidConfig { .. }
        | Error::Shape { .. }
        | Error::NoLabels { .. }
        | Error::MissingValues { .. }
        | Error::ModelFile { .. }
        | Error::Data(_)
        | Error::Layer(protolearn::layers::Error::InvalidConfig { .. })
        | Error::Train(protolearn::train::Error::InvalidConfig { .. }) => PyValueError::new_err(message),
        _ => ProtolearnError::new_err(message),
    }
}

/// The Python exception of a libtorch error (a layer called on tensors of the wrong shape or
/// device is bad input).
pub fn torch_to_py(err: tch::TchError) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// The Python exception of a layer error.
pub fn layer_to_py(err: protolearn::layers::Error) -> PyErr {
    PyValueError::new_err(err.to_string())
}

/// Runs `f`, turning a panic into a `ProtolearnError` that names it as a bug, so that no Rust
/// panic reaches the interpreter as a `BaseException` (which `except Exception` would not catch).
pub fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        Err(ProtolearnError::new_err(format!("internal error (a bug in protolearn, please report it): {what}")))
    })
}

/// Panics inside [`guard`]: the test suite's proof that a Rust panic becomes a Python exception
/// and leaves the interpreter running.
#[pyfunction]
#[pyo3(name = "_panic_for_test")]
pub fn panic_for_test(message: &str) -> PyResult<()> {
    guard(|| panic!("{message}"))
}
