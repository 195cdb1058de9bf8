//! The classic SOM on Fashion-MNIST, 8x8 map: protolearn's batch SOM (paper 002, Algorithm 2:
//! every iteration one GEMM for the BMUs and one for the update, on all samples) against
//! minisom's `train` (online, random order, Gaussian neighbourhood, its default sigma and
//! learning rate). Both prototype sets are scored by the same code: QE and TE on the training
//! images, purity of the test images' BMUs.

use super::{idx_folder, mean, purity_of, python, Comparison, Side, SpeedConfig};
use anyhow::Result;
use protolearn_data::mnist::load;
use protolearn_data::npy::load_npy;
use protolearn_data::tensor::Dataset;
use protolearn_data::{Data, IdxDataset, ImageLayout};
use protolearn_layers::som::{BatchSom, Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_metrics::som::{quantization_error, topographic_error};
use protolearn_metrics::{best_matching_units, Boundary, Grid, Lattice, Matrix};
use protolearn_train::observer::Silent;
use protolearn_train::trainer::{Batching, PhaseConfig, Trainer};
use serde::Deserialize;
use std::time::Instant;
use tch::{nn, Device};

/// One minisom run, as the script prints it.
#[derive(Debug, Deserialize)]
struct MinisomRun {
    version: String,
    seconds: f64,
}

/// The comparison.
pub(super) fn compare(config: &SpeedConfig) -> Result<Comparison> {
    let data = load(IdxDataset::FashionMnist, &config.dirs, ImageLayout::Flat)?;
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?;
    let train = Dataset::from_data(&data.train, Device::Cpu)?;
    let rule = BatchSom { temperature: Schedule { end: config.som_final_temperature, ..Schedule::paper_temperature(&grid) } };
    let folder = idx_folder(config, IdxDataset::FashionMnist)?;
    // Runs alternate (ours, then minisom, seed by seed): the machine's speed drifts.
    let (mut ours_runs, mut theirs_runs) = (Vec::new(), Vec::new());
    let mut theirs_error = None;
    for seed in 0..config.som_seeds {
        println!("  SOM: protolearn batch SOM, {} iterations, seed {seed}", config.som_iterations);
        let vs = nn::VarStore::new(Device::Cpu);
        let layer =
            SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian }.build(&vs.root(), &train.x, seed)?;
        let phase = PhaseConfig::new("som", config.som_iterations, config.som_iterations);
        let start = Instant::now();
        Trainer::new(&train, Batching::Full, seed)?.apply_rule(&phase, &layer, &rule, &vs, &mut [], &mut Silent)?;
        let seconds = start.elapsed().as_secs_f64();
        let prototypes = Vec::<f32>::try_from(layer.weight.detach().flatten(0, -1))?;
        ours_runs.push((seconds, quality(&data.train, &data.test, &prototypes, &grid)?));
        if theirs_error.is_some() {
            continue;
        }
        println!("  SOM: minisom, {} presentations, seed {seed}", config.minisom_presentations);
        let saved = config.out.join("minisom_prototypes.npy");
        let args = vec![
            "minisom".to_owned(),
            "--data".to_owned(),
            folder.clone(),
            "--iterations".to_owned(),
            config.minisom_presentations.to_string(),
            "--seed".to_owned(),
            seed.to_string(),
            "--save".to_owned(),
            saved.display().to_string(),
        ];
        match python::<MinisomRun>(config, &["minisom", "threadpoolctl"], args)? {
            Err(why) => theirs_error = Some(why),
            Ok(runs) => {
                let theirs_prototypes = load_npy(&saved)?.features;
                std::fs::remove_file(&saved)?;
                let quality = quality(&data.train, &data.test, &theirs_prototypes, &grid)?;
                theirs_runs.extend(runs.into_iter().map(|r| (r, quality.clone())));
            }
        }
    }
    let ours = Side {
        tool: format!("protolearn {}", env!("CARGO_PKG_VERSION")),
        setting: format!(
            "batch SOM, {} iterations over all 60,000 images ({} presentations), T from 8 to {}",
            config.som_iterations,
            config.som_iterations * 60_000,
            config.som_final_temperature
        ),
        seconds: ours_runs.iter().map(|r| r.0).collect(),
        quality: mean_quality(&ours_runs.iter().map(|r| r.1.clone()).collect::<Vec<_>>()),
    };
    let theirs = match theirs_error {
        Some(why) => Err(why),
        None => Ok(Side {
            tool: format!("minisom {}", theirs_runs.first().map(|r| r.0.version.as_str()).unwrap_or("?")),
            setting: format!(
                "train(random_order=True), {} presentations, sigma 1.0, learning rate 0.5 (its defaults), asymptotic decay",
                config.minisom_presentations
            ),
            seconds: theirs_runs.iter().map(|r| r.0.seconds).collect(),
            quality: mean_quality(&theirs_runs.iter().map(|r| r.1.clone()).collect::<Vec<_>>()),
        }),
    };
    Ok(Comparison {
        task: "SOM".into(),
        setup: format!(
            "Fashion-MNIST (60,000 training images x 784, pixels / 255), 8x8 rectangular map, prototypes started at random \
             training images on both sides, seeds 0 to {} on each side, run alternately. QE (mean distance to the BMU) and TE on the training images, purity of \
             the 10,000 test images' BMUs; all three computed by protolearn-metrics from each side's {} x 784 prototypes.",
            config.som_seeds.saturating_sub(1),
            grid.n_units()
        ),
        target: "at least 10x faster than minisom at equal or better QE, TE and purity".into(),
        ours,
        theirs: vec![theirs],
    })
}

/// The mean of each quality number over runs (the names of the first run).
fn mean_quality(runs: &[Vec<(String, f64)>]) -> Vec<(String, f64)> {
    let Some(first) = runs.first() else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (format!("{name} (mean)"), mean(&runs.iter().map(|r| r[i].1).collect::<Vec<_>>())))
        .collect()
}

/// QE and TE on `train`, test purity, for `prototypes` `[K * 784]`.
fn quality(train: &Data, test: &Data, prototypes: &[f32], grid: &Grid) -> Result<Vec<(String, f64)>> {
    let d = train.shape[1..].iter().product::<usize>();
    let protos = Matrix::new(prototypes, grid.n_units(), d)?;
    let train_m = Matrix::new(&train.features, train.shape[0], d)?;
    let test_m = Matrix::new(&test.features, test.shape[0], d)?;
    let units: Vec<usize> = best_matching_units(test_m, protos)?.iter().map(|b| b.first.unit).collect();
    let labels = test.labels.as_deref().unwrap_or_default();
    Ok(vec![
        ("QE".into(), quantization_error(train_m, protos)?),
        ("TE".into(), topographic_error(train_m, protos, grid)?),
        ("test purity".into(), purity_of(labels, &units)?),
    ])
}
