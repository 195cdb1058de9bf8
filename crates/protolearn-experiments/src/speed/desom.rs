//! DESOM on MNIST (paper 002's dense 784-500-500-2000-10 autoencoder, 8x8 map, batch 256,
//! Adam 1e-3, gamma 1e-3, T from 8 to 0.1): iterations per second of protolearn's trainer
//! against the same model in PyTorch eager, with PyTorch's default Adam (foreach) and with its
//! opt-in fused CPU Adam. Each side reports the test purity after its run as a sanity check.

use super::{idx_folder, purity_of, python, Comparison, Side, SpeedConfig};
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
#[derive(Debug, Deserialize)]
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
    let train_config = DesomTrainConfig { log_every: iterations, ..DesomTrainConfig::paper(&grid, iterations, 0) };
    println!("  DESOM: protolearn, {iterations} iterations");
    let run = fit_desom(&train, None, &model, &train_config, &mut Silent)?;
    let last = run.history.last().context("DESOM history")?;
    let units = Vec::<i64>::try_from(run.model.predict(&test.x)?)?.into_iter().map(|u| u as usize).collect::<Vec<_>>();
    let labels = data.test.labels.as_deref().unwrap_or_default();
    let ours = Side {
        tool: format!("protolearn {}", env!("CARGO_PKG_VERSION")),
        setting: "trainer + fused CPU Adam".into(),
        seconds: vec![last.seconds],
        quality: vec![
            ("it/s".into(), iterations as f64 / last.seconds),
            ("mean batch loss".into(), last.total),
            ("test purity".into(), purity_of(labels, &units)?),
        ],
    };
    let folder = idx_folder(config, IdxDataset::Mnist)?;
    let theirs = [("default (foreach) Adam", false), ("Adam(fused=True)", true)]
        .into_iter()
        .map(|(setting, fused)| {
            println!("  DESOM: PyTorch, {setting}");
            let mut args = vec!["desom".to_owned(), "--data".to_owned(), folder.clone(), "--iterations".to_owned(), iterations.to_string()];
            args.extend(["--warmup".to_owned(), "0".to_owned()]);
            if fused {
                args.push("--fused".to_owned());
            }
            Ok(python::<TorchRun>(config, &["torch"], args)?.map(|runs| Side {
                tool: format!("PyTorch {}", runs.first().map(|r| r.version.as_str()).unwrap_or("?")),
                setting: format!("eager, {setting}"),
                seconds: runs.iter().map(|r| r.seconds).collect(),
                quality: runs
                    .first()
                    .map(|r| {
                        vec![
                            ("it/s".into(), iterations as f64 / r.seconds),
                            ("mean batch loss".into(), r.mean_loss),
                            ("test purity".into(), r.purity),
                        ]
                    })
                    .unwrap_or_default(),
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Comparison {
        task: "DESOM".into(),
        setup: format!(
            "MNIST (60,000 training images), paper 002's DESOM: dense 784-500-500-2000-10 autoencoder (ReLU, Glorot-uniform \
             weights), 8x8 map started at the codes of random training images, batches of 256 random images, Adam 1e-3, \
             gamma 1e-3, T from 8 to 0.1 over the run; {iterations} iterations from the first (no warm-up) on each side, \
             no evaluation inside the timed loop. Mean batch loss: `L_R + gamma L_SOM` averaged over the run's batches \
             (summed on the device, read once, on both sides). Test purity of the 10,000 test images after the run: a sanity check that \
             both sides train the same model (one seed each; at {iterations} iterations both are far from the paper's 10,000)."
        ),
        target: "at least 1.2x the iterations per second of PyTorch with the same threads".into(),
        ours,
        theirs,
    })
}
