//! The downloader against a loopback HTTP server: success, corrupt file, 404, unreachable host.
#![cfg(feature = "download")]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{serve, shared_datasets};
use protolearn_data::download::{DownloadObserver, Downloader};
use protolearn_data::idx::{write_idx, Compression, IdxArray};
use protolearn_data::{DataDirs, Error, IdxDataset};

/// Records every event.
#[derive(Default)]
struct Recorder {
    started: Vec<(String, Option<u64>)>,
    last_progress: u64,
    finished: Vec<String>,
    skipped: Vec<String>,
    failed: usize,
}

impl DownloadObserver for Recorder {
    fn started(&mut self, file: &str, _url: &str, total: Option<u64>) {
        self.started.push((file.to_owned(), total));
    }
    fn progress(&mut self, received: u64) {
        self.last_progress = received;
    }
    fn finished(&mut self, file: &str) {
        self.finished.push(file.to_owned());
    }
    fn skipped(&mut self, file: &str) {
        self.skipped.push(file.to_owned());
    }
    fn failed(&mut self, _file: &str, _error: &Error) {
        self.failed += 1;
    }
}

/// Every entry of `dir` (to prove that nothing partial is left behind).
fn entries(dir: &Path) -> Vec<String> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> = rd.map(|e| e.expect("test fixture").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn downloads_verifies_and_then_skips() {
    let Some(shared) = shared_datasets("loopback download") else {
        return;
    };
    let source = shared.join("fashion-mnist");
    let url = serve(move |path| std::fs::read(source.join(path.trim_start_matches('/'))).ok());
    let root = tempfile::tempdir().unwrap();
    let downloader = Downloader::default().with_base_url(url);
    let mut rec = Recorder::default();
    let files = downloader.fetch(IdxDataset::FashionMnist, root.path(), &mut rec).unwrap();
    assert_eq!(rec.finished.len(), 4);
    assert_eq!(rec.failed, 0);
    let labels_size = std::fs::metadata(shared.join("fashion-mnist/t10k-labels-idx1-ubyte.gz")).unwrap().len();
    assert_eq!(rec.started[3], ("t10k-labels-idx1-ubyte".to_owned(), Some(labels_size)));
    assert_eq!(rec.last_progress, labels_size);
    assert_eq!(
        entries(&files.dir),
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    );
    DataDirs::with_roots(vec![root.path().to_owned()]).locate(IdxDataset::FashionMnist).unwrap();

    // A second fetch finds everything in place and downloads nothing.
    let mut again = Recorder::default();
    downloader.fetch(IdxDataset::FashionMnist, root.path(), &mut again).unwrap();
    assert_eq!((again.skipped.len(), again.started.len()), (4, 0));
}

#[test]
fn corrupt_download_is_rejected_and_leaves_nothing() {
    // Any valid gzip whose content is not the pinned file fails verification.
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("fake.gz");
    write_idx(&fake, &IdxArray::new(vec![3], vec![1, 2, 3]).unwrap(), Compression::Gzip).unwrap();
    let body = std::fs::read(&fake).unwrap();
    let url = serve(move |_| Some(body.clone()));
    let root = tempfile::tempdir().unwrap();
    let err = Downloader::default().with_base_url(url.clone()).fetch(IdxDataset::Mnist, root.path(), &mut ()).unwrap_err();
    match &err {
        Error::Download { file, attempts } => {
            assert_eq!(file, "train-images-idx3-ubyte.gz");
            match attempts.as_slice() {
                [Error::Checksum { path, expected, .. }] => {
                    assert_eq!(path.to_string_lossy(), format!("{url}train-images-idx3-ubyte.gz"));
                    assert_eq!(expected, "6bbc9ace898e44ae57da46a324031adb");
                }
                other => panic!("expected one checksum error, got {other:?}"),
            }
        }
        other => panic!("expected a download error, got {other:?}"),
    }
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(entries(&root.path().join("mnist")).is_empty(), "{:?}", entries(&root.path().join("mnist")));
}

#[test]
fn not_found_on_every_mirror_lists_each_attempt() {
    let (a, b) = (serve(|_| None), serve(|_| None));
    let root = tempfile::tempdir().unwrap();
    let downloader = Downloader { base_urls: Some(vec![a, b]), ..Default::default() };
    let mut rec = Recorder::default();
    let err = downloader.fetch(IdxDataset::FashionMnist, root.path(), &mut rec).unwrap_err();
    match &err {
        Error::Download { attempts, .. } => {
            assert_eq!(attempts.len(), 2);
            for a in attempts {
                assert!(matches!(a, Error::Http { reason, .. } if reason.contains("404")), "{a}");
            }
        }
        other => panic!("expected a download error, got {other:?}"),
    }
    assert_eq!(rec.failed, 2);
    assert!(entries(&root.path().join("fashion-mnist")).is_empty());
}

#[test]
fn unreachable_host_fails_fast() {
    // Port 9 (discard) on loopback is closed on a normal machine: connection refused at once.
    let root = tempfile::tempdir().unwrap();
    let downloader = Downloader { connect_timeout: Duration::from_secs(2), ..Default::default() }.with_base_url("http://127.0.0.1:9/");
    let start = Instant::now();
    let err = downloader.fetch(IdxDataset::Mnist, root.path(), &mut ()).unwrap_err();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(matches!(&err, Error::Download { attempts, .. } if matches!(attempts[..], [Error::Http { .. }])), "{err}");
}
