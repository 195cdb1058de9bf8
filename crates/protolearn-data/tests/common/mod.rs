//! Helpers shared by the integration tests: the shared dataset folder, fingerprints, a loopback HTTP server, .npy/.npz writers.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use protolearn_data::checksum::md5_hex;
use protolearn_data::Data;

/// `/work/shared/datasets` seen from this crate, or `None` (with a visible message) when absent.
///
/// # Panics
/// When the folder is absent and `PROTOLEARN_REQUIRE_DATA=1` (set by CI): the test must fail.
pub fn shared_datasets(what: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if dir.is_dir() {
        Some(dir)
    } else if protolearn_data::locate::data_required() {
        panic!("{what}: {} is absent and PROTOLEARN_REQUIRE_DATA=1", dir.display());
    } else {
        eprintln!("skipping {what}: {} is absent", dir.display());
        None
    }
}

/// MD5 of the features' little-endian bytes followed by the labels' (a cross-machine fingerprint).
pub fn fingerprint(data: &Data) -> String {
    let mut bytes: Vec<u8> = data.features.iter().flat_map(|v| v.to_le_bytes()).collect();
    for l in data.labels.iter().flatten() {
        bytes.extend_from_slice(&l.to_le_bytes());
    }
    md5_hex(&bytes)
}

/// What the loopback server answers for a path: `Some(body)` = 200, `None` = 404.
pub type Route = dyn Fn(&str) -> Option<Vec<u8>> + Send + Sync;

/// Starts an HTTP/1.1 server on 127.0.0.1 (one request per connection) in a background thread;
/// returns its base URL `http://127.0.0.1:PORT/`.
pub fn serve(route: impl Fn(&str) -> Option<Vec<u8>> + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("test fixture");
    let port = listener.local_addr().expect("test fixture").port();
    let route: Arc<Route> = Arc::new(route);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let route = Arc::clone(&route);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().expect("test fixture"));
                let mut request = String::new();
                reader.read_line(&mut request).expect("test fixture");
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let (status, body) = match route(&path) {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    format!("http://127.0.0.1:{port}/")
}

/// Writes `values` (in the storage order `order`) as a `.npy` file of shape `shape` with
/// `T`'s default dtype (native endianness).
pub fn write_npy<T: npyz::AutoSerialize + Copy>(path: &std::path::Path, shape: &[u64], order: npyz::Order, values: &[T]) {
    use npyz::WriterBuilder;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("test fixture"));
    let mut writer =
        npyz::WriteOptions::new().default_dtype().shape(shape).order(order).writer(&mut file).begin_nd().expect("test fixture");
    writer.extend(values.iter().copied()).expect("test fixture");
    writer.finish().expect("test fixture");
    file.flush().expect("test fixture");
}

/// Writes an `.npz` archive (deflate-compressed members) of C-order `f32` and `i64` arrays.
pub fn write_npz(path: &std::path::Path, f32_arrays: &[(&str, &[u64], &[f32])], i64_arrays: &[(&str, &[u64], &[i64])]) {
    use npyz::WriterBuilder;
    let mut npz = npyz::npz::NpzWriter::create(path).expect("test fixture");
    for &(name, shape, values) in f32_arrays {
        let mut w =
            npz.array(name, Default::default()).expect("test fixture").default_dtype().shape(shape).begin_nd().expect("test fixture");
        w.extend(values.iter().copied()).expect("test fixture");
        w.finish().expect("test fixture");
    }
    for &(name, shape, values) in i64_arrays {
        let mut w =
            npz.array(name, Default::default()).expect("test fixture").default_dtype().shape(shape).begin_nd().expect("test fixture");
        w.extend(values.iter().copied()).expect("test fixture");
        w.finish().expect("test fixture");
    }
}

/// The data roots that `cargo xtask setup` fills with UCR/UEA files (`$PROTOLEARN_DATA`, then the
/// repository's `data/`), or `None` (with a visible message) when none holds `ucr/`.
///
/// # Panics
/// When no root holds `ucr/` and `PROTOLEARN_REQUIRE_DATA=1` (set by CI): the test must fail.
pub fn ucr_dirs(what: &str) -> Option<protolearn_data::DataDirs> {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let env = std::env::var_os(protolearn_data::locate::DATA_ENV).map(PathBuf::from);
    let dirs = protolearn_data::DataDirs::from_parts(None, env, local);
    if dirs.roots().iter().any(|r| r.join("ucr").is_dir()) {
        Some(dirs)
    } else if protolearn_data::locate::data_required() {
        panic!("{what}: no ucr/ in {:?} and PROTOLEARN_REQUIRE_DATA=1 (run `cargo xtask setup`)", dirs.roots());
    } else {
        eprintln!("skipping {what}: no ucr/ in {:?} (run `cargo xtask setup`)", dirs.roots());
        None
    }
}
