//! The training history of a fit: an observer that keeps every trainer record while passing it
//! on (e.g. to a progress bar), and its CSV form (`history.csv`).

use crate::error::{Error, Result};
use protolearn_train::observer::Observer;
use protolearn_train::trainer::LogRecord;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

/// Keeps the records of every phase (those restored from a checkpoint too) and forwards all
/// events to `inner`.
pub(crate) struct Recorder<'a> {
    inner: &'a mut dyn Observer,
    pub(crate) records: Vec<LogRecord>,
}

impl<'a> Recorder<'a> {
    /// A recorder forwarding to `inner`.
    pub(crate) fn new(inner: &'a mut dyn Observer) -> Self {
        Recorder { inner, records: Vec::new() }
    }
}

impl Observer for Recorder<'_> {
    fn on_start(&mut self, phase: &str, logs: usize) {
        self.inner.on_start(phase, logs);
    }

    fn on_log(&mut self, record: &LogRecord) {
        self.records.push(record.clone());
        self.inner.on_log(record);
    }

    fn on_restored(&mut self, record: &LogRecord) {
        self.records.push(record.clone());
        self.inner.on_restored(record);
    }

    fn on_end(&mut self) {
        self.inner.on_end();
    }
}

/// The records as CSV text: `phase,step,seconds` and one column per logged name (in order of
/// first appearance; a record without that name leaves the cell empty; the first replica's value).
pub fn history_csv(records: &[LogRecord]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for column in records.iter().flat_map(|r| &r.columns) {
        if !names.contains(&column.name.as_str()) {
            names.push(&column.name);
        }
    }
    let mut text = String::from("phase,step,seconds");
    for name in &names {
        text.push(',');
        text.push_str(name);
    }
    text.push('\n');
    for record in records {
        let _ = write!(text, "{},{},{}", record.phase, record.step, record.seconds);
        for name in &names {
            text.push(',');
            if let Some(value) = record.scalar(name) {
                let _ = write!(text, "{value}");
            }
        }
        text.push('\n');
    }
    text
}

/// Writes `contents` to `path` through a temporary file in the same folder and a rename, so a
/// reader never sees half a file and a failed write leaves no file behind.
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<()> {
    write_atomically_with(path, |w| w.write_all(contents).map_err(Error::io(path)))
}

/// Streams what `write` writes to `path` through a buffered temporary file in the same folder,
/// renamed into place once `write` succeeds (a file larger than memory, written piece by piece);
/// on any error the temporary file is removed and `path` is left as it was.
pub fn write_atomically_with(path: &Path, write: impl FnOnce(&mut dyn std::io::Write) -> Result<()>) -> Result<()> {
    let tmp = temporary_path(path);
    let written = std::fs::File::create(&tmp).map_err(Error::io(path)).and_then(|file| {
        let mut buffered = std::io::BufWriter::new(file);
        write(&mut buffered)?;
        buffered.flush().map_err(Error::io(path))
    });
    let renamed = written.and_then(|()| std::fs::rename(&tmp, path).map_err(Error::io(path)));
    if renamed.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    renamed
}

/// `dir/.name.partial` beside `path`.
pub(crate) fn temporary_path(path: &Path) -> std::path::PathBuf {
    let name = path.file_name().map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protolearn_train::trainer::Column;

    #[test]
    fn wide_csv_with_the_union_of_columns() {
        let record = |phase: &str, step, columns| LogRecord { phase: phase.into(), step, seconds: 0.5, columns };
        let records = [
            record("pretrain", 10, vec![Column::scalar("reconstruction", 2.0)]),
            record("joint", 10, vec![Column::scalar("total", 3.0), Column::scalar("reconstruction", 1.5)]),
        ];
        assert_eq!(history_csv(&records), "phase,step,seconds,reconstruction,total\npretrain,10,0.5,2,\njoint,10,0.5,1.5,3\n");
    }
}
