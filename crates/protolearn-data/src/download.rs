//! Downloading missing dataset files from public mirrors: verified, atomic, with progress callbacks.
//!
//! Nothing here runs implicitly: loaders never download. Each file is streamed into a
//! temporary file in the destination directory, decompressed in memory and checked against
//! its pinned MD5, and only then renamed into place; on any error the temporary file is
//! deleted, so the cache never holds a partial or unverified file.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use crate::checksum::verify_md5;
use crate::error::{Error, Result};
use crate::idx::{decompress, read_uncompressed};
use crate::idx_dataset::{IdxDataset, IdxFile};
use crate::locate::{existing_file, DatasetFiles};

/// Receives download progress; every method does nothing by default. Library code never
/// prints: a command-line tool renders these events (e.g. as a progress bar).
pub trait DownloadObserver {
    /// A request for `file` at `url` succeeded; `total_bytes` is the announced size, if any.
    fn started(&mut self, _file: &str, _url: &str, _total_bytes: Option<u64>) {}
    /// `received` bytes of the current file have arrived so far.
    fn progress(&mut self, _received: u64) {}
    /// `file` was downloaded, verified and moved into place.
    fn finished(&mut self, _file: &str) {}
    /// `file` was already present and verified; nothing was downloaded.
    fn skipped(&mut self, _file: &str) {}
    /// One mirror failed for `file`; the next one (if any) is tried.
    fn failed(&mut self, _file: &str, _error: &Error) {}
}

/// The observer that ignores every event.
impl DownloadObserver for () {}

/// Downloads the standard `.gz` files of an [`IdxDataset`] into a data root.
#[derive(Debug, Clone, PartialEq)]
pub struct Downloader {
    /// Base URLs tried in order; `None` = the dataset's public mirrors ([`IdxDataset::mirrors`]).
    pub base_urls: Option<Vec<String>>,
    /// Limit for establishing a connection, so an offline machine fails fast. Default 10 s.
    pub connect_timeout: Duration,
    /// Limit for each read from an established connection. Default 60 s.
    pub read_timeout: Duration,
}

impl Default for Downloader {
    fn default() -> Self {
        Downloader { base_urls: None, connect_timeout: Duration::from_secs(10), read_timeout: Duration::from_secs(60) }
    }
}

impl Downloader {
    /// Uses only `url` (ending in `/` or not) instead of the public mirrors, e.g. a local server.
    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_urls = Some(vec![url.into()]);
        self
    }

    /// Makes `<root>/<name>/` hold all four verified files of `dataset`: files already present
    /// and intact are kept, the others are downloaded as `<stem>.gz` (a corrupt existing copy
    /// is replaced). Returns the files; fails with [`Error::Download`] listing every mirror's
    /// error when a file cannot be obtained.
    pub fn fetch(&self, dataset: IdxDataset, root: &Path, observer: &mut dyn DownloadObserver) -> Result<DatasetFiles> {
        let dir = root.join(dataset.name());
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let agent = ureq::AgentBuilder::new().timeout_connect(self.connect_timeout).timeout_read(self.read_timeout).build();
        let bases: Vec<&str> = match &self.base_urls {
            Some(urls) => urls.iter().map(String::as_str).collect(),
            None => dataset.mirrors().to_vec(),
        };
        for spec in dataset.files() {
            let existing = existing_file(&dir, spec.stem);
            if let Some(path) = &existing {
                if is_intact(path, spec) {
                    observer.skipped(spec.stem);
                    continue;
                }
            }
            let file_name = format!("{}.gz", spec.stem);
            let mut attempts = Vec::new();
            for base in &bases {
                let url = format!("{}/{file_name}", base.trim_end_matches('/'));
                match download_one(&agent, &url, &dir.join(&file_name), spec, observer) {
                    Ok(()) => break,
                    Err(e) => {
                        observer.failed(spec.stem, &e);
                        attempts.push(e);
                    }
                }
            }
            if attempts.len() == bases.len() {
                return Err(Error::Download { file: file_name, attempts });
            }
            // A corrupt raw copy would shadow the fresh `.gz`: it is ours to replace.
            if let Some(stale) = existing.filter(|p| p.extension().is_none_or(|e| e != "gz")) {
                std::fs::remove_file(&stale).map_err(|e| Error::io(&stale, e))?;
            }
            observer.finished(spec.stem);
        }
        let files = DatasetFiles::in_dir(dataset, &dir).map_err(|missing| Error::NotFound {
            dataset: dataset.name().to_owned(),
            searched: vec![dir.clone()],
            hint: format!("files {missing:?} vanished after download"),
        })?;
        Ok(files)
    }
}

/// Whether `path` can be read and matches `spec`'s checksum.
fn is_intact(path: &Path, spec: &IdxFile) -> bool {
    read_uncompressed(path).is_ok_and(|content| verify_md5(path, &content, spec.md5).is_ok())
}

/// Streams `url` into a temporary file beside `dest`, verifies it, renames it to `dest`.
fn download_one(agent: &ureq::Agent, url: &str, dest: &Path, spec: &IdxFile, observer: &mut dyn DownloadObserver) -> Result<()> {
    let http = |reason: String| Error::Http { url: url.to_owned(), reason };
    let response = agent.get(url).call().map_err(|e| match e {
        ureq::Error::Status(code, r) => http(format!("HTTP status {code} {}", r.status_text())),
        // The transport error's own Display repeats the URL: keep kind and message only.
        ureq::Error::Transport(t) => http(match t.message() {
            Some(m) => format!("{}: {m}", t.kind()),
            None => t.kind().to_string(),
        }),
    })?;
    let total = response.header("Content-Length").and_then(|v| v.parse::<u64>().ok());
    observer.started(spec.stem, url, total);

    let dir = dest.parent().unwrap_or(Path::new("."));
    // Deleted on drop unless persisted: no partial file survives an error.
    let mut tmp = tempfile::Builder::new().prefix(".download-").suffix(".part").tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    let received = copy_with_progress(&mut response.into_reader(), tmp.as_file_mut(), observer).map_err(|e| match e {
        CopyError::Read(e) => http(format!("connection failed while reading: {e}")),
        CopyError::Write(e) => Error::io(tmp.path(), e),
    })?;
    if let Some(total) = total.filter(|&t| t != received) {
        return Err(http(format!("connection closed after {received} of {total} bytes")));
    }
    let tmp_path = tmp.path().to_owned();
    let body = std::fs::read(&tmp_path).map_err(|e| Error::io(&tmp_path, e))?;
    let content = decompress(body, Path::new(url))?;
    verify_md5(Path::new(url), &content, spec.md5)?;
    tmp.persist(dest).map_err(|e| Error::io(dest, e.error))?;
    Ok(())
}

/// Where a copy failed.
enum CopyError {
    Read(std::io::Error),
    Write(std::io::Error),
}

/// Copies `from` into `to`, reporting the running byte count; returns the total.
fn copy_with_progress(from: &mut impl Read, to: &mut File, observer: &mut dyn DownloadObserver) -> std::result::Result<u64, CopyError> {
    let mut buf = vec![0u8; 1 << 16];
    let mut received = 0u64;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CopyError::Read(e)),
        };
        to.write_all(&buf[..n]).map_err(CopyError::Write)?;
        received += n as u64;
        observer.progress(received);
    }
    to.flush().map_err(CopyError::Write)?;
    Ok(received)
}
