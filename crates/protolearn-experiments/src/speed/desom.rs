//! DESOM on MNIST (paper 002's dense 784-500-500-2000-10 autoencoder, 8x8 map, batch 256,
//! Adam 1e-3, gamma 1e-3, T from 8 to 0.1): iterations per second of protolearn's trainer
//! against the same model in PyTorch eager, with PyTorch's default Adam (foreach) and with its
//! opt-in fused CPU Adam. Each side reports the test purity after its run as a sanity check.

use super::{idx_folder, mean, median, purity_of, python, Comparison, Side, SpeedConfig};
use anyhow::{Context, Result};
use protolearn_data::mnist::load;
use protolearn_data::tensor::Dataset;
use protolearn_data::{IdxDataset, ImageLayout};
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::{Neighbourhood, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::desom::{fit_desom, DesomTrainConfig};
use protolearn_train::observer::Silent;
use serde::Deserialize;
use tch::Device;

/// One PyTorch run, as the script prints it.
#[derive(Debug, Clone, Deserialize)]
struct TorchRun {
    version: String,
    seconds: f64,
    mean_loss: f64,
    purity: f64,
}

/// The comparison.
pub(super) fn compare(config: &SpeedConfig) -> Result<Comparison> {
    let data = load(IdxDataset::Mnist, &config.dirs, ImageLayout::Flat)?;
    let (train, test) = (Dataset::from_data(&data.train, Device::Cpu)?, Dataset::from_data(&data.test, Device::Cpu)?);
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?;
    let model = DesomConfig {
        autoencoder: AutoencoderConfig::Dense(DenseConfig::default()),
        som: SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian },
        gamma: 1e-3,
    };
    let iterations = config.desom_iterations;
    let labels = data.test.labels.as_deref().unwrap_or_default();
    let folder = idx_folder(config, IdxDataset::Mnist)?;
    let variants = [("default (foreach) Adam", false), ("Adam(fused=True)", true)];
    // Runs alternate (ours, then each PyTorch variant, seed by seed) so that a slow phase of the
    // machine does not fall on one side only; each side's median is reported.
    let (mut ours_runs, mut torch_runs) = (Vec::new(), vec![Vec::new(); variants.len()]);
    let mut torch_error = None;
    for seed in 0..config.desom_seeds {
        println!("  DESOM: protolearn, {iterations} iterations, seed {seed}");
        let train_config = DesomTrainConfig { log_every: iterations, ..DesomTrainConfig::paper(&grid, iterations, seed) };
        let run = fit_desom(&train, None, &model, &train_config, &mut Silent)?;
        let last = run.history.last().context("DESOM history")?;
        let units = Vec::<i64>::try_from(run.model.predict(&test.x)?)?.into_iter().map(|u| u as usize).collect::<Vec<_>>();
        ours_runs.push((last.seconds, last.total, purity_of(labels, &units)?));
        for ((setting, fused), runs) in variants.iter().zip(&mut torch_runs) {
            if torch_error.is_some() {
                break;
            }
            println!("  DESOM: PyTorch, {setting}, seed {seed}");
            let mut args = vec!["desom".to_owned(), "--data".to_owned(), folder.clone(), "--iterations".to_owned(), iterations.to_string()];
            args.extend(["--warmup".to_owned(), "0".to_owned(), "--seed".to_owned(), seed.to_string()]);
            if *fused {
                args.push("--fused".to_owned());
            }
            match python::<TorchRun>(config, &["torch"], args)? {
                Ok(rows) => runs.extend(rows),
                Err(why) => torch_error = Some(why),
            }
        }
    }
    let side = |tool: String, setting: String, runs: &[(f64, f64, f64)]| Side {
        tool,
        setting,
        seconds: runs.iter().map(|r| r.0).collect(),
        quality: vec![
            ("it/s (median run)".into(), iterations as f64 / median(&runs.iter().map(|r| r.0).collect::<Vec<_>>())),
            ("mean batch loss (mean)".into(), mean(&runs.iter().map(|r| r.1).collect::<Vec<_>>())),
            ("test purity (mean)".into(), mean(&runs.iter().map(|r| r.2).collect::<Vec<_>>())),
        ],
    };
    let ours = side(format!("protolearn {}", env!("CARGO_PKG_VERSION")), "trainer + fused CPU Adam".into(), &ours_runs);
    let theirs = variants
        .iter()
        .zip(&torch_runs)
        .map(|((setting, _), runs)| match &torch_error {
            Some(why) => Err(why.clone()),
            None => Ok(side(
                format!("PyTorch {}", runs.first().map(|r| r.version.as_str()).unwrap_or("?")),
                format!("eager, {setting}"),
                &runs.iter().map(|r| (r.seconds, r.mean_loss, r.purity)).collect::<Vec<_>>(),
            )),
        })
        .collect();
    Ok(Comparison {
        task: "DESOM".into(),
        setup: format!(
            "MNIST (60,000 training images), paper 002's DESOM: dense 784-500-500-2000-10 autoencoder (ReLU, Glorot-uniform \
             weights), 8x8 map started at the codes of random training images, batches of 256 random images, Adam 1e-3, \
             gamma 1e-3, T from 8 to 0.1 over the run; {iterations} iterations from the first (no warm-up) on each side, \
             no evaluation inside the timed loop. Mean batch loss: `L_R + gamma L_SOM` averaged over the run's batches \
             (summed on the device, read once, on both sides). Test purity of the 10,000 test images after the run: a sanity check that \
             both sides train the same model (seeds 0 to {} on each side; at {iterations} iterations both are far from the paper's 10,000).",
            config.desom_seeds.saturating_sub(1)
        ),
        target: "at least 1.2x the iterations per second of PyTorch with the same threads".into(),
        ours,
        theirs,
    })
}
