//! `protolearn speed`: protolearn against the common and the strongest tools, on the same
//! machine, data and thread count, in one run (issues 13 and 28): k-means against scikit-learn's
//! `KMeans`, Lloyd steps from one start against FAISS and scikit-learn, the batch SOM against
//! somoclu, XPySom, torchsom and minisom (two shapes), DESOM against the same model in PyTorch
//! eager, DESOM seeds trained as one program against the same seeds one after another, and paper
//! 003's kernel-prototype CNN against its PyTorch twin.
//! Writes `speed.jsonl` (one comparison per line) and `speed.md` (the report) under `--out`,
//! and the Python script beside them so the other side can be re-run by hand.

mod desom;
mod kernel;
mod kmeans;
mod lloyd;
mod som;

use anyhow::{Context, Result};
use protolearn::history::write_atomically;
use protolearn_data::DataDirs;
use protolearn_metrics::clustering::{purity, Contingency};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The Python side of every comparison (`benches/python/speed_baselines.py`).
pub(crate) const SCRIPT: &str = include_str!("../../../../benches/python/speed_baselines.py");
/// The script's file name in the output folder.
pub(crate) const SCRIPT_NAME: &str = "speed_baselines.py";

/// What `protolearn speed` measures.
#[derive(Debug, Clone)]
pub struct SpeedConfig {
    /// Output folder (`docs/results/speed`).
    pub out: PathBuf,
    /// Where MNIST and Fashion-MNIST are.
    pub dirs: DataDirs,
    /// CPU threads of both sides (libtorch and Python's BLAS / OpenMP / torch).
    pub threads: usize,
    /// Which comparisons run (`kmeans`, `lloyd`, `som`, `desom`, `kernel`; empty: all).
    pub only: Vec<String>,
    /// k-means fits per side (seeds 0, 1, ...), also the Lloyd-step runs per side.
    pub kmeans_seeds: u64,
    /// Lloyd steps of the step-for-step comparison.
    pub lloyd_steps: usize,
    /// Batch-SOM iterations (each a pass over all samples).
    pub som_iterations: usize,
    /// SOM runs per side (seeds 0, 1, ...), alternating between the sides.
    pub som_seeds: u64,
    /// Final temperature of the batch SOM (from the map size, exponentially).
    pub som_final_temperature: f64,
    /// minisom sample presentations.
    pub minisom_presentations: usize,
    /// Also run the SOMs on torchsom's benchmark shape (16,000 x 300 blobs, 25x15 map, 100 passes).
    pub som_blobs: bool,
    /// Final temperature of our batch SOM on torchsom's benchmark shape.
    pub som_blobs_final_temperature: f64,
    /// SOM runs per side on torchsom's benchmark shape (seeds 0, 1, ...).
    pub som_blobs_seeds: u64,
    /// DESOM iterations per run.
    pub desom_iterations: usize,
    /// DESOM runs per side (seeds 0, 1, ...), alternating between the sides.
    pub desom_seeds: u64,
    /// Training images of the kernel-prototype CNN comparison (the first n of MNIST's 60,000).
    pub kernel_samples: usize,
    /// Epochs of every kernel-prototype CNN run.
    pub kernel_epochs: usize,
    /// Kernel-prototype CNN runs per side and layer kind (seeds 0, 1, ...), alternating.
    pub kernel_seeds: u64,
}

/// What a Python peer gave: its result, or why it could not run (a "not run" row).
pub(crate) type Peer<T> = std::result::Result<T, String>;

/// Named quality numbers of one run, `(name, value)`.
pub(crate) type Quality = Vec<(String, f64)>;

/// One side of a comparison: seconds of each run and quality numbers (mean over runs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Side {
    /// Tool and version.
    pub tool: String,
    /// What ran (algorithm and settings that differ between the sides).
    pub setting: String,
    /// Wall seconds of each run (training only: data loading and evaluation are outside).
    pub seconds: Vec<f64>,
    /// Quality numbers, `(name, value)`, the same names on both sides.
    pub quality: Vec<(String, f64)>,
}

impl Side {
    /// Median seconds.
    pub fn median_seconds(&self) -> f64 {
        median(&self.seconds)
    }
}

/// Arithmetic mean (NaN for no values).
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The median (NaN for no values).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut s = values.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

/// One comparison: protolearn against one or more alternatives on the same task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comparison {
    /// Task name (`kmeans`, `som`, `desom`).
    pub task: String,
    /// Data, sizes and shared settings.
    pub setup: String,
    /// The target, in words.
    pub target: String,
    /// protolearn.
    pub ours: Side,
    /// The alternatives, or why one could not run.
    pub theirs: Vec<std::result::Result<Side, String>>,
}

impl Comparison {
    /// `their median seconds / our median seconds` per alternative that ran (> 1: we are faster).
    pub fn speedups(&self) -> Vec<Option<f64>> {
        self.theirs.iter().map(|t| t.as_ref().ok().map(|t| t.median_seconds() / self.ours.median_seconds())).collect()
    }
}

/// The comparisons `protolearn speed --only` can name, in the order they run.
pub const PARTS: [&str; 5] = ["kmeans", "lloyd", "som", "desom", "kernel"];

/// Runs the comparisons and writes `speed.jsonl` and `speed.md` under `config.out`.
pub fn run(config: &SpeedConfig) -> Result<Vec<Comparison>> {
    if let Some(unknown) = config.only.iter().find(|p| !PARTS.contains(&p.as_str())) {
        anyhow::bail!("--only {unknown}: expected one of {}", PARTS.join(", "));
    }
    std::fs::create_dir_all(&config.out).with_context(|| format!("creating {}", config.out.display()))?;
    tch::set_num_threads(config.threads as i32);
    let runs = |part: &str| config.only.is_empty() || config.only.iter().any(|p| p == part);
    let mut comparisons = Vec::new();
    if runs("kmeans") {
        comparisons.push(kmeans::compare(config)?);
    }
    if runs("lloyd") {
        comparisons.push(lloyd::compare(config)?);
    }
    if runs("som") {
        comparisons.extend(som::compare(config)?);
    }
    if runs("desom") {
        comparisons.extend(desom::compare(config)?);
    }
    if runs("kernel") {
        comparisons.extend(kernel::compare(config)?);
    }
    let jsonl = comparisons.iter().map(serde_json::to_string).collect::<std::result::Result<Vec<_>, _>>()?.join("\n") + "\n";
    write_atomically(&config.out.join("speed.jsonl"), jsonl.as_bytes())?;
    write_atomically(&config.out.join("speed.md"), report(config, &comparisons).as_bytes())?;
    Ok(comparisons)
}

/// Runs a subcommand of the Python script; every output line is one run.
fn python<T: serde::de::DeserializeOwned>(
    config: &SpeedConfig,
    modules: &[&str],
    args: Vec<String>,
) -> Result<std::result::Result<Vec<T>, String>> {
    let mut args = args;
    args.extend(["--threads".to_owned(), config.threads.to_string()]);
    crate::pytorch::run_script(&config.out, SCRIPT_NAME, SCRIPT, modules, &args)
}

/// The folder of an IDX dataset, for the Python side.
fn idx_folder(config: &SpeedConfig, dataset: protolearn_data::IdxDataset) -> Result<String> {
    Ok(config.dirs.find(dataset)?.dir.display().to_string())
}

/// Test purity of `units` against `labels`.
fn purity_of(labels: &[i64], units: &[usize]) -> Result<f64> {
    Ok(purity(&Contingency::new(labels, units)?))
}

/// The CPU's model name from `/proc/cpuinfo` (`unknown CPU` elsewhere).
pub(super) fn cpu_name() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split(':').nth(1)).map(|s| s.trim().to_owned()))
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The Markdown report.
fn report(config: &SpeedConfig, comparisons: &[Comparison]) -> String {
    let mut md = String::new();
    _ = writeln!(md, "# Speed: protolearn against FAISS, scikit-learn, somoclu, XPySom, torchsom, minisom and PyTorch\n");
    _ = writeln!(
        md,
        "Generated by `cargo xtask speed` (`protolearn speed --out {}`) on {} with {} CPU threads on both sides, \
         libtorch 2.11.0 through tch 0.24; the Python side is `{SCRIPT_NAME}` in this folder. Every number below comes \
         from that run; times are wall seconds of the training alone (data loading and evaluation outside the clock), \
         speed-up = their median seconds / ours (> 1: protolearn is faster). Quality numbers are computed by the same \
         code for both sides where the model is written out (SOM prototypes), else reported by each side.\n",
        config.out.display(),
        cpu_name(),
        config.threads,
    );
    for c in comparisons {
        _ = writeln!(md, "## {}\n\n{}\n\nTarget: {}\n", c.task, c.setup, c.target);
        let names: Vec<&str> = c.ours.quality.iter().map(|(n, _)| n.as_str()).collect();
        _ = writeln!(md, "| tool | setting | runs | median s | speed-up of protolearn | {} |", names.join(" | "));
        _ = writeln!(md, "| --- | --- | --- | --- | --- |{}", " --- |".repeat(names.len()));
        let row = |md: &mut String, side: &Side, speedup: &str| {
            let q: Vec<String> = names
                .iter()
                .map(|n| side.quality.iter().find(|(m, _)| m == n).map(|(_, v)| format_quality(*v)).unwrap_or_else(|| "-".into()))
                .collect();
            _ = writeln!(
                md,
                "| {} | {} | {} | {:.2} | {} | {} |",
                side.tool,
                side.setting,
                side.seconds.len(),
                side.median_seconds(),
                speedup,
                q.join(" | ")
            );
        };
        row(&mut md, &c.ours, "-");
        for (theirs, speedup) in c.theirs.iter().zip(c.speedups()) {
            match theirs {
                Ok(side) => row(&mut md, side, &format!("{:.2}x", speedup.unwrap_or(f64::NAN))),
                Err(why) => _ = writeln!(md, "| not run | {why} | | | | {} |", vec!["-"; names.len()].join(" | ")),
            }
        }
        _ = writeln!(md);
    }
    md
}

/// Quality values: integers (inertia) without decimals, the rest with four.
fn format_quality(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}
