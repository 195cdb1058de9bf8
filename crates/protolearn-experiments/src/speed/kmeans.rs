//! k-means on Fashion-MNIST (60,000 x 784, k = 64, one k-means++ restart, at most 300 Lloyd
//! iterations, tol 1e-4): protolearn's `KMeansConfig::fit` against scikit-learn's `KMeans`
//! (lloyd) with the same settings, several seeds each.

use super::{idx_folder, mean, python, Comparison, Side, SpeedConfig};
use anyhow::Result;
use protolearn_data::mnist::load;
use protolearn_data::tensor::Dataset;
use protolearn_data::{IdxDataset, ImageLayout};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_train::kmeans::KMeansFit;
use serde::Deserialize;
use std::time::Instant;
use tch::Device;

/// One scikit-learn fit, as the script prints it.
#[derive(Debug, Deserialize)]
struct SklearnRun {
    version: String,
    seconds: f64,
    inertia: f64,
    iterations: f64,
}

/// The comparison.
pub(super) fn compare(config: &SpeedConfig) -> Result<Comparison> {
    let data = load(IdxDataset::FashionMnist, &config.dirs, ImageLayout::Flat)?;
    let x = Dataset::from_data(&data.train, Device::Cpu)?.x;
    let folder = idx_folder(config, IdxDataset::FashionMnist)?;
    // Runs alternate (ours, then scikit-learn, seed by seed): the machine's speed drifts.
    let (mut seconds, mut inertia, mut iterations) = (Vec::new(), Vec::new(), Vec::new());
    let (mut runs, mut theirs_error) = (Vec::new(), None);
    for seed in 0..config.kmeans_seeds {
        println!("  k-means: protolearn, seed {seed}");
        let start = Instant::now();
        let fit = KMeansConfig { k: 64, n_init: 1, max_iter: 300, tol: 1e-4, seed }.fit(&x)?;
        seconds.push(start.elapsed().as_secs_f64());
        inertia.push(fit.inertia);
        iterations.push((fit.inertia_history.len() - 1) as f64);
        if theirs_error.is_some() {
            continue;
        }
        println!("  k-means: scikit-learn, seed {seed}");
        let args =
            ["kmeans", "--data", &folder, "--k", "64", "--n-init", "1", "--max-iter", "300", "--tol", "1e-4", "--seed", &seed.to_string()];
        match python::<SklearnRun>(config, &["sklearn", "threadpoolctl"], args.iter().map(|s| s.to_string()).collect())? {
            Ok(rows) => runs.extend(rows),
            Err(why) => theirs_error = Some(why),
        }
    }
    let ours = Side {
        tool: format!("protolearn {}", env!("CARGO_PKG_VERSION")),
        setting: "Lloyd on libtorch (per 16 MiB row block one addmm, argmin and index_add), greedy k-means++".into(),
        quality: vec![
            ("inertia (mean)".into(), mean(&inertia)),
            ("Lloyd iterations (mean)".into(), mean(&iterations)),
            ("ms per iteration (mean, seeding included)".into(), 1e3 * per_iteration(&seconds, &iterations)),
        ],
        seconds,
    };
    if let Some(why) = theirs_error {
        return Ok(comparison(ours, vec![Err(why)]));
    }
    let theirs = Side {
        tool: format!("scikit-learn {}", runs.first().map(|r| r.version.as_str()).unwrap_or("?")),
        setting: "KMeans(algorithm=\"lloyd\", init=\"k-means++\") (greedy k-means++)".into(),
        seconds: runs.iter().map(|r| r.seconds).collect(),
        quality: vec![
            ("inertia (mean)".into(), mean(&runs.iter().map(|r| r.inertia).collect::<Vec<_>>())),
            ("Lloyd iterations (mean)".into(), mean(&runs.iter().map(|r| r.iterations).collect::<Vec<_>>())),
            (
                "ms per iteration (mean, seeding included)".into(),
                1e3 * per_iteration(
                    &runs.iter().map(|r| r.seconds).collect::<Vec<_>>(),
                    &runs.iter().map(|r| r.iterations).collect::<Vec<_>>(),
                ),
            ),
        ],
    };
    Ok(comparison(ours, vec![Ok(theirs)]))
}

fn comparison(ours: Side, theirs: Vec<std::result::Result<Side, String>>) -> Comparison {
    Comparison {
        task: "k-means".into(),
        setup: "Fashion-MNIST training images (60,000 x 784, pixels / 255, float32), k = 64, n_init = 1, max_iter = 300, \
                tol = 1e-4 (scikit-learn's rule: summed squared centroid shift <= tol x mean feature variance); one fit per \
                seed on each side. The seeds draw different k-means++ starts, and the number of Lloyd iterations to \
                convergence varies with the start (by 1.5x between seeds in our runs), so the time per iteration is shown too."
            .into(),
        target: "at least as fast as scikit-learn at equal or lower inertia".into(),
        ours,
        theirs,
    }
}

/// Mean over runs of seconds per Lloyd iteration.
fn per_iteration(seconds: &[f64], iterations: &[f64]) -> f64 {
    mean(&seconds.iter().zip(iterations).map(|(s, i)| s / i.max(1.0)).collect::<Vec<_>>())
}
