//! `protolearn fit` data-parallel on the loopback interface: two ranks (Gloo through c10d, the
//! launcher variables torchrun sets) fit the batch SOM, k-means and DESOM of `examples/models`
//! on the flowers CSV, and their results are compared with one process's.

mod launch;

use launch::{finish, fit, free_port, repo, succeed, Rank, RUN_LIMIT};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

/// Largest difference between one process's and two ranks' distances (standardised features,
/// distances of order 1): the ranks sum the same float32 terms in another order (two halves of
/// 150 rows, then one addition), a relative difference of order `n * 2^-24` = 2e-5 per pass;
/// measured 1.8e-6 (batch SOM, 50 passes) and 2.9e-6 (k-means).
const SUM_ORDER_TOLERANCE: f64 = 1e-4;

/// Largest relative difference of DESOM's full-data quantization error, log point by log point
/// (every step): Adam divides by `sqrt(v)`, so reordered gradient sums grow over steps; measured
/// 3.4e-7 over the first 100 steps.
const DESOM_STEP_TOLERANCE: f64 = 1e-4;

/// The arguments of `protolearn fit` of `model` on the flowers into `out`, plus `extra`.
fn flowers(model: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--model".to_owned(), model.display().to_string()];
    args.extend(["--data", "examples/data/flowers.csv", "--labels", "species", "--out"].map(String::from));
    args.push(out.display().to_string());
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

/// Two ranks of `protolearn fit <args>` meeting on a fresh port.
fn two_ranks(args: &[String]) -> Vec<Child> {
    let port = free_port();
    (0..2).map(|rank| fit(args, Some(Rank { rank, world: 2, port }))).collect()
}

/// One process's and two ranks' output folders for `model`.
fn one_and_two(model: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let (one, two) = (dir.join("one"), dir.join("two"));
    succeed(fit(&flowers(model, &one, &[]), None), "one process");
    for (r, rank) in two_ranks(&flowers(model, &two, &[])).into_iter().enumerate() {
        succeed(rank, &format!("rank {r}"));
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
    for rank in two_ranks(&flowers(&repo().join("examples/models/som-online.toml"), &dir.path().join("out"), &[])) {
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
    let ranks = |out: &Path, state: &Path, resume: bool| {
        let state = state.display().to_string();
        let mut extra = vec!["--checkpoint", state.as_str()];
        extra.extend(resume.then_some("--resume"));
        two_ranks(&flowers(&model, out, &extra))
    };
    let (whole, whole_state) = (dir.path().join("whole"), dir.path().join("whole-state"));
    for rank in ranks(&whole, &whole_state, false) {
        succeed(rank, "uninterrupted rank");
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
        succeed(rank, "resumed rank");
    }
    let read = |out: &Path| std::fs::read_to_string(out.join("assignments.csv")).expect("assignments.csv");
    assert_eq!(read(&part), read(&whole), "the resumed two-rank run differs from the uninterrupted one");
}
