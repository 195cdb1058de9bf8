//! The `protolearn-data` binary: `status` and `fetch` against a loopback mirror (feature `cli`).
#![cfg(feature = "cli")]

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{serve, shared_datasets};

/// Runs the binary in `cwd` with `PROTOLEARN_DATA` unset; returns (success, stdout, stderr).
fn run(cwd: &Path, args: &[&str]) -> (bool, String, String) {
    let Output { status, stdout, stderr } = Command::new(env!("CARGO_BIN_EXE_protolearn-data"))
        .args(args)
        .current_dir(cwd)
        .env_remove("PROTOLEARN_DATA")
        .output()
        .expect("test fixture");
    (status.success(), String::from_utf8_lossy(&stdout).into_owned(), String::from_utf8_lossy(&stderr).into_owned())
}

#[test]
fn fetch_downloads_then_status_reports_it() {
    let Some(shared) = shared_datasets("CLI fetch") else {
        return;
    };
    let source = shared.join("mnist");
    let url = serve(move |path| std::fs::read(source.join(path.trim_start_matches('/'))).ok());
    let cwd = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(cwd.path(), &["fetch", "--dataset", "mnist", "--base-url", &url]);
    assert!(ok, "{out}\n{err}");
    if out.contains("already available") {
        eprintln!("skipping the download check: MNIST is already installed system-wide\n{out}");
        return;
    }
    let dir = cwd.path().join("data").join("mnist");
    assert!(out.contains(&format!("mnist: ready in {}", dir.display())), "{out}");
    assert!(dir.join("train-images-idx3-ubyte.gz").is_file());

    let (_, out, _) = run(cwd.path(), &["status"]);
    assert!(out.contains(&format!("mnist: found in {} (checksums verified)", dir.display())), "{out}");
    let (ok, out, _) = run(cwd.path(), &["fetch", "--dataset", "mnist"]);
    assert!(ok && out.contains("already available"), "{out}");
}

#[test]
fn failed_fetch_exits_nonzero_with_a_fix() {
    let url = serve(|_| None);
    let cwd = tempfile::tempdir().unwrap();
    let target = cwd.path().join("cache");
    let target_arg = target.to_string_lossy().into_owned();
    let (ok, out, err) = run(cwd.path(), &["fetch", "--dir", &target_arg, "--dataset", "mnist", "--base-url", &url]);
    if out.contains("already available") {
        eprintln!("skipping: MNIST is already installed system-wide\n{out}");
        return;
    }
    assert!(!ok, "{out}");
    assert!(err.contains("404") && err.contains("To fix") && err.contains("PROTOLEARN_DATA"), "{err}");
    assert!(std::fs::read_dir(target.join("mnist")).unwrap().next().is_none(), "partial files left");
}

#[test]
fn status_of_an_empty_root_fails_and_lists_it() {
    let cwd = tempfile::tempdir().unwrap();
    let (ok, out, _) = run(cwd.path(), &["status", "--dir", "elsewhere"]);
    assert!(out.contains("elsewhere/mnist: absent"), "{out}");
    assert!(out.contains(&format!("{}: absent", cwd.path().join("data/fashion-mnist").display())), "{out}");
    if out.contains("mnist: not found") {
        assert!(!ok);
    }
}
