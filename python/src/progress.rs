//! Training progress reported to Python: an observer of the trainer that calls the package's
//! progress callback (a text bar on stderr, `protolearn/_progress.py`) at each phase start, log
//! point and phase end. Training runs without the GIL (libtorch's autograd engine requires it),
//! so each call takes the GIL for its duration. A failing callback is remembered and raised after
//! the fit.

use protolearn::train::observer::Observer;
use protolearn::train::trainer::LogRecord;
use pyo3::prelude::*;

/// Forwards the trainer's events to a Python callable `callback(event, phase, done, total, message)`.
pub struct PythonProgress {
    callback: Py<PyAny>,
    phase: String,
    total: usize,
    done: usize,
    /// The first error the callback raised.
    pub error: Option<PyErr>,
}

impl PythonProgress {
    /// An observer calling `callback`.
    pub fn new(callback: Py<PyAny>) -> Self {
        PythonProgress { callback, phase: String::new(), total: 0, done: 0, error: None }
    }

    fn call(&mut self, event: &str, message: String) {
        if self.error.is_some() {
            return;
        }
        let result = Python::attach(|py| self.callback.call1(py, (event, self.phase.as_str(), self.done, self.total, message)).map(drop));
        if let Err(err) = result {
            self.error = Some(err);
        }
    }
}

impl Observer for PythonProgress {
    fn on_start(&mut self, phase: &str, logs: usize) {
        self.phase = phase.to_owned();
        self.total = logs;
        self.done = 0;
        self.call("start", String::new());
    }

    fn on_log(&mut self, record: &LogRecord) {
        self.done += 1;
        let message = record
            .columns
            .first()
            .map(|c| format!("{} {:.4}", c.name, c.values.iter().sum::<f64>() / c.values.len().max(1) as f64))
            .unwrap_or_default();
        self.call("log", message);
    }

    fn on_end(&mut self) {
        self.call("end", String::new());
    }
}
