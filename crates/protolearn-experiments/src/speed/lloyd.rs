//! Lloyd's algorithm step for step (issue 28): from the same starting centroids (k random
//! Fashion-MNIST training images, drawn by the seed), the same number of steps on every side —
//! protolearn's `KMeansConfig::fit_from`, FAISS's `Kmeans` and scikit-learn's `KMeans(init=...)` —
//! and the distance GEMM alone as the floor of a step. Every side's centroids are scored by the
//! same code (inertia of the returned centroids on the training images).

use super::{idx_folder, mean, python, Comparison, Peer, Side, SpeedConfig};
use anyhow::Result;
use protolearn_data::mnist::load;
use protolearn_data::npy::load_npy;
use protolearn_data::tensor::Dataset;
use protolearn_data::{IdxDataset, ImageLayout};
use protolearn_layers::distance::{nearest_rows, squared_euclidean_from_norms, squared_norms};
use protolearn_layers::init::PrototypeInit;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_train::kmeans::KMeansFit;
use serde::Deserialize;
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// Clusters.
const K: i64 = 64;

/// One Python run, as the script prints it.
#[derive(Debug, Deserialize)]
struct PeerRun {
    side: String,
    version: String,
    seconds: f64,
    iterations: f64,
}

/// Seconds, steps and the inertia of the returned centroids, per run.
#[derive(Default)]
struct Runs {
    seconds: Vec<f64>,
    iterations: Vec<f64>,
    inertia: Vec<f64>,
}

impl Runs {
    fn push(&mut self, seconds: f64, iterations: f64, inertia: f64) {
        self.seconds.push(seconds);
        self.iterations.push(iterations);
        self.inertia.push(inertia);
    }

    fn side(self, tool: String, setting: String) -> Side {
        let per_step = mean(&self.seconds.iter().zip(&self.iterations).map(|(s, i)| 1e3 * s / i.max(1.0)).collect::<Vec<_>>());
        Side {
            tool,
            setting,
            quality: vec![
                ("inertia of the returned centroids (mean)".into(), mean(&self.inertia)),
                ("steps (mean)".into(), mean(&self.iterations)),
                ("ms per step (mean)".into(), per_step),
            ],
            seconds: self.seconds,
        }
    }
}

/// The comparison.
pub(super) fn compare(config: &SpeedConfig) -> Result<Comparison> {
    let data = load(IdxDataset::FashionMnist, &config.dirs, ImageLayout::Flat)?;
    let x = Dataset::from_data(&data.train, Device::Cpu)?.x;
    let x_sq = squared_norms(&x);
    let inertia = |c: &Tensor| -> Result<f64> { Ok(nearest_rows(&x, &x_sq, c).0.sum(Kind::Double).f_double_value(&[])?) };
    let folder = idx_folder(config, IdxDataset::FashionMnist)?;
    let steps = config.lloyd_steps;
    let (mut ours, mut floor) = (Runs::default(), Runs::default());
    let mut peers: Vec<(&str, Peer<(String, Runs)>)> =
        vec![("faiss", Ok((String::new(), Runs::default()))), ("sklearn", Ok((String::new(), Runs::default())))];
    for seed in 0..config.kmeans_seeds {
        let start_centroids = PrototypeInit::DataSamples.draw(&x.unsqueeze(0), K, &[seed])?.squeeze_dim(0); // [K, d]
        let init_path = config.out.join("lloyd_init.npy");
        start_centroids.write_npy(&init_path)?;
        println!("  Lloyd: protolearn, {steps} steps, seed {seed}");
        let start = Instant::now();
        let fit = KMeansConfig { k: K as usize, n_init: 1, max_iter: steps, tol: 0.0, seed }.fit_from(&x, &start_centroids)?;
        ours.push(start.elapsed().as_secs_f64(), (fit.inertia_history.len() - 1) as f64, inertia(&fit.centroids)?);
        // The floor: the distance GEMM of a step alone, `steps` times.
        let start = Instant::now();
        for _ in 0..steps {
            _ = squared_euclidean_from_norms(&x, &x_sq, &start_centroids).argmin(1, false);
        }
        floor.push(start.elapsed().as_secs_f64(), steps as f64, f64::NAN);
        for (tool, result) in peers.iter_mut() {
            let Ok((version, runs)) = result else { continue };
            println!("  Lloyd: {tool}, {steps} steps, seed {seed}");
            let saved = config.out.join("lloyd_centroids.npy");
            let args = ["lloyd", "--tool", tool, "--data", &folder, "--init", &init_path.display().to_string()]
                .into_iter()
                .map(str::to_owned)
                .chain(["--save".into(), saved.display().to_string(), "--iterations".into(), steps.to_string()])
                .chain(["--seed".into(), seed.to_string()])
                .collect();
            let module = if *tool == "faiss" { "faiss" } else { "sklearn" };
            match python::<PeerRun>(config, &["numpy", "threadpoolctl", module], args)? {
                Err(why) => *result = Err(why),
                Ok(rows) => {
                    let centroids = Tensor::from_slice(&load_npy(&saved)?.features).view([K, -1]);
                    std::fs::remove_file(&saved)?;
                    for row in rows {
                        *version = format!("{} {}", row.side, row.version);
                        runs.push(row.seconds, row.iterations, inertia(&centroids)?);
                    }
                }
            }
        }
        std::fs::remove_file(&init_path)?;
    }
    let ours = ours.side(
        format!("protolearn {}", env!("CARGO_PKG_VERSION")),
        "`KMeansConfig::fit_from`, tol = 0: per 16 MiB row block one addmm, argmin and index_add".into(),
    );
    let mut floor = floor.side(
        format!("protolearn {} (floor)", env!("CARGO_PKG_VERSION")),
        "the distance GEMM of a step and its argmin alone (one addmm over all rows, no update): the floor of a step".into(),
    );
    floor.quality.retain(|(name, _)| !name.starts_with("inertia"));
    let mut theirs = vec![Ok(floor)];
    for (tool, result) in peers {
        theirs.push(result.map(|(version, runs)| {
            let setting = match tool {
                "faiss" => "`faiss.Kmeans(niter=steps, nredo=1, max_points_per_centroid=n)`, `train(x, init_centroids=start)`",
                _ => "`KMeans(init=start, n_init=1, max_iter=steps, tol=0, algorithm=\"lloyd\")`",
            };
            runs.side(version, setting.into())
        }));
    }
    Ok(Comparison {
        task: "k-means, Lloyd steps from one start".into(),
        setup: format!(
            "Fashion-MNIST training images (60,000 x 784, pixels / 255, float32), k = {K}, {steps} Lloyd steps (assign, then \
             move every centroid to its members' mean) from the same {K} random training images on every side (drawn by the \
             seed; seeds 0 to {}), no early stop; the start is outside the clock. The inertia of every side's returned centroids \
             is computed by protolearn's code; a side that stops early (scikit-learn stops when no assignment changes) shows \
             fewer steps. ms per step = seconds / steps.",
            config.kmeans_seeds.saturating_sub(1)
        ),
        target: "at least as fast per step as FAISS at equal inertia".into(),
        ours,
        theirs,
    })
}
