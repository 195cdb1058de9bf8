//! Observers: how a training loop reports progress without printing (the binary renders them).

/// Receives progress from a training loop.
pub trait Observer<R> {
    /// Called once before the first epoch with the number of epochs.
    fn on_start(&mut self, _epochs: usize) {}
    /// Called after every epoch with its record.
    fn on_epoch(&mut self, _epoch: usize, _record: &R) {}
    /// Called once after the last epoch.
    fn on_end(&mut self) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl<R> Observer<R> for Silent {}
