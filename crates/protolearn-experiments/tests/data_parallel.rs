//! `protolearn fit` data-parallel on the loopback interface: two ranks (Gloo through c10d, the
//! launcher variables torchrun sets) fit the batch SOM, k-means and DESOM of `examples/models`
//! on the flowers CSV, and their results are compared with one process's.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Largest difference allowed between one process's and two ranks' distances (standardised
/// features, distances of order 1): the ranks sum the same float32 terms in another order (two
/// halves of 150 rows, then one addition), a relative difference of order `n * 2^-24` = 2e-5
/// per pass; measured 1.8e-6 (batch SOM, 50 passes) and 2.9e-6 (k-means).
const SUM_ORDER_TOLERANCE: f64 = 1e-4;

/// Largest relative difference of DESOM's full-data quantization error, log point by log point
/// (every step): Adam divides by `sqrt(v)`, so reordered gradient sums grow over steps; measured
/// below 1e-6 over the first 100 steps.
const DESOM_STEP_TOLERANCE: f64 = 1e-4;

/// A limit no run here comes near (each takes seconds); a hang fails the test instead of the CI.
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free loopback port")
}

/// `protolearn fit` of `model` on the flowers into `out`, as rank `rank` of `world` (none: one
/// process without launcher variables).
fn fit(model: &Path, out: &Path, rank: Option<(usize, usize, u16)>) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_protolearn"));
    cmd.current_dir(repo())
        .args(["fit", "--model"])
        .arg(model)
        .args(["--data", "examples/data/flowers.csv", "--labels", "species", "--out"])
        .arg(out)
        .env_remove("TORCHELASTIC_USE_AGENT_STORE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match rank {
        Some((rank, world, port)) => cmd
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", port.to_string())
            .env("RANK", rank.to_string())
            .env("WORLD_SIZE", world.to_string())
            .env("PROTOLEARN_DIST_TIMEOUT", "60"),
        None => cmd.env_remove("RANK").env_remove("WORLD_SIZE"),
    };
    cmd.spawn().expect("starting protolearn fit")
}

fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().expect("polling protolearn").is_none() {
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("protolearn fit ran past {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collecting protolearn")
}

fn check(output: &Output, what: &str) {
    assert!(output.status.success(), "{what}: {}", String::from_utf8_lossy(&output.stderr));
}

/// One process's and two ranks' output folders for `model`.
fn one_and_two(model: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (one, two) = (dir.join("one"), dir.join("two"));
    check(&finish(fit(model, &one, None)), "one process");
    let port = free_port();
    let ranks: Vec<Child> = (0..2).map(|r| fit(model, &two, Some((r, 2, port)))).collect();
    for (r, rank) in ranks.into_iter().enumerate() {
        check(&finish(rank), &format!("rank {r}"));
    }
    (one, two)
}

/// Column `name` of a CSV file, as numbers.
fn column(path: &Path, name: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let at = header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("{}: no column {name}", path.display()));
    lines.map(|l| l.split(',').nth(at).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)).collect()
}

/// The two fits assign every sample to the same unit at distances within `SUM_ORDER_TOLERANCE`.
fn assert_same_assignments(one: &Path, two: &Path) {
    let (a, b) = (one.join("assignments.csv"), two.join("assignments.csv"));
    assert_eq!(column(&a, "winner"), column(&b, "winner"));
    let (da, db) = (column(&a, "distance"), column(&b, "distance"));
    let worst = da.iter().zip(&db).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    assert!(worst <= SUM_ORDER_TOLERANCE, "distances differ by up to {worst}");
}

#[test]
fn two_rank_batch_som_equals_the_one_process_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = one_and_two(&repo().join("examples/models/som.toml"), dir.path());
    assert_same_assignments(&one, &two);
}

#[test]
fn two_rank_kmeans_equals_the_one_process_fit() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = one_and_two(&repo().join("examples/models/kmeans.toml"), dir.path());
    assert_same_assignments(&one, &two);
}

#[test]
fn two_rank_desom_with_half_batches_follows_the_one_process_fit_step_by_step() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(repo().join("examples/models/desom.toml")).unwrap();
    let short = config.replace("iterations = 1500", "iterations = 100\nlog_every = 1");
    assert_ne!(short, config, "examples/models/desom.toml no longer sets `iterations = 1500`");
    let model = dir.path().join("desom.toml");
    std::fs::write(&model, short).unwrap();
    // Each rank takes 32 of every batch of 64 the one process takes.
    let (one, two) = one_and_two(&model, dir.path());
    let (qa, qb) = (column(&one.join("history.csv"), "quantization_error"), column(&two.join("history.csv"), "quantization_error"));
    assert_eq!(qa.len(), 100);
    assert_eq!(qa.len(), qb.len());
    for (step, (a, b)) in qa.iter().zip(&qb).enumerate() {
        assert!((a - b).abs() <= DESOM_STEP_TOLERANCE * a.abs(), "step {}: QE {a} (one process) vs {b} (two ranks)", step + 1);
    }
}

#[test]
fn a_rule_without_a_batch_sum_refuses_to_run_data_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let model = repo().join("examples/models/som-online.toml");
    let ranks: Vec<Child> = (0..2).map(|r| fit(&model, &dir.path().join("out"), Some((r, 2, port)))).collect();
    for rank in ranks {
        let output = finish(rank);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success());
        assert!(stderr.contains("data-parallel training") && stderr.contains("sample after sample"), "{stderr}");
    }
}

#[test]
fn a_two_rank_run_killed_after_a_checkpoint_resumes_to_the_uninterrupted_result() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(repo().join("examples/models/desom.toml")).unwrap();
    let long = config.replace("iterations = 1500", "iterations = 3000\nlog_every = 100");
    assert_ne!(long, config, "examples/models/desom.toml no longer sets `iterations = 1500`");
    let model = dir.path().join("desom.toml");
    std::fs::write(&model, long).unwrap();
    let ranks = |out: &Path, state: &Path, resume: bool| -> Vec<Child> {
        let port = free_port();
        (0..2)
            .map(|r| {
                let mut cmd = Command::new(env!("CARGO_BIN_EXE_protolearn"));
                cmd.current_dir(repo())
                    .args(["fit", "--model"])
                    .arg(&model)
                    .args(["--data", "examples/data/flowers.csv", "--labels", "species", "--out"])
                    .arg(out)
                    .arg("--checkpoint")
                    .arg(state)
                    .args(if resume { &["--resume"][..] } else { &[][..] })
                    .env("MASTER_ADDR", "127.0.0.1")
                    .env("MASTER_PORT", port.to_string())
                    .env("RANK", r.to_string())
                    .env("WORLD_SIZE", "2")
                    .env("PROTOLEARN_DIST_TIMEOUT", "60")
                    .env_remove("TORCHELASTIC_USE_AGENT_STORE")
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                cmd.spawn().expect("starting a rank")
            })
            .collect()
    };
    let (whole, whole_state) = (dir.path().join("whole"), dir.path().join("whole-state"));
    for rank in ranks(&whole, &whole_state, false) {
        check(&finish(rank), "uninterrupted rank");
    }
    // Kill both ranks once rank 0 has written a state, then resume them.
    let (part, part_state) = (dir.path().join("part"), dir.path().join("part-state"));
    let mut killed = ranks(&part, &part_state, false);
    let start = Instant::now();
    while !part_state.join("state/run.toml").is_file() {
        assert!(start.elapsed() < RUN_LIMIT, "no checkpoint written within {RUN_LIMIT:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
    for rank in &mut killed {
        let _ = rank.kill();
        let _ = rank.wait();
    }
    assert!(!part.join("assignments.csv").exists(), "the run finished before it could be killed");
    for rank in ranks(&part, &part_state, true) {
        check(&finish(rank), "resumed rank");
    }
    let read = |out: &Path| std::fs::read_to_string(out.join("assignments.csv")).expect("assignments.csv");
    assert_eq!(read(&part), read(&whole), "the resumed two-rank run differs from the uninterrupted one");
}
