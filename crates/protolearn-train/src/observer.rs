//! Observers: how the trainer reports progress without printing (the binary renders them, e.g.
//! as an indicatif progress bar).

use crate::record::LogRecord;

/// Receives progress from the trainer, phase by phase.
pub trait Observer {
    /// Called once before a phase's first step with its name and the number of log points.
    fn on_start(&mut self, _phase: &str, _logs: usize) {}
    /// Called at every log point with its record.
    fn on_log(&mut self, _record: &LogRecord) {}
    /// Called, when a run resumes from a checkpoint, with each record the interrupted run had
    /// already logged (so that a history kept by the observer is the whole run's).
    fn on_restored(&mut self, _record: &LogRecord) {}
    /// Called once after a phase's last step.
    fn on_end(&mut self) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}
