//! The classic SOM: protolearn's batch SOM (paper 002, Algorithm 2: every iteration one GEMM for
//! the BMUs and one for the update, on all samples) against somoclu and XPySom (batch SOMs, given
//! the same neighbourhood schedule), torchsom (mini-batches, its own defaults) and minisom
//! (online, its defaults), all started from the same prototypes. Two shapes: Fashion-MNIST on an
//! 8x8 map, and torchsom's published benchmark shape (scikit-learn-style blobs, 16,000 x 300,
//! a 25x15 map, 100 epochs). Every side's prototypes are scored by the same code: QE and TE on
//! the training samples, purity of the test samples' BMUs.

use super::{idx_folder, mean, purity_of, python, Comparison, Peer, Quality, Side, SpeedConfig};
use anyhow::Result;
use protolearn_data::mnist::load;
use protolearn_data::npy::load_npy;
use protolearn_data::synthetic::{BlobCenters, BlobsConfig};
use protolearn_data::tensor::Dataset;
use protolearn_data::{Data, IdxDataset, ImageLayout};
use protolearn_layers::som::{BatchSom, MapDistance, Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_metrics::som::{quantization_error, topographic_error};
use protolearn_metrics::{best_matching_units, Boundary, Grid, Lattice, Matrix};
use protolearn_train::observer::Silent;
use protolearn_train::trainer::{Batching, PhaseConfig, Trainer};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;
use std::path::Path;
use std::time::Instant;
use tch::{nn, Device, Tensor};

/// The final temperature the peers' schedules are given (T from the map size to this,
/// exponentially). Their schedules reach it one step later than ours (they run steps 0 to n - 1 of
/// it, ours 1 to n), and ours ends at the final temperature chosen per task so that its TE is no
/// worse than theirs (`--som-final-temperature`, `--som-blobs-final-temperature`).
const PEER_FINAL_TEMPERATURE: f64 = 0.5;

/// One Python run, as the script prints it.
#[derive(Debug, Deserialize)]
struct PeerRun {
    version: String,
    seconds: f64,
}

/// A peer's run with the quality of the prototypes it returned.
type ScoredRun = (PeerRun, Quality);

/// One SOM task: data, map, passes and the peers that run on it.
struct Task {
    name: &'static str,
    train: Data,
    test: Data,
    /// What `--data` of the Python script reads: an IDX folder or a `.npy` file.
    python_data: String,
    grid: Grid,
    epochs: usize,
    /// Our final temperature.
    final_temperature: f64,
    /// Runs per side (seeds 0, 1, ...).
    seeds: u64,
    peers: &'static [&'static str],
    describe: String,
}

/// The comparisons: Fashion-MNIST 8x8, then torchsom's benchmark shape.
pub(super) fn compare(config: &SpeedConfig) -> Result<Vec<Comparison>> {
    let fashion = load(IdxDataset::FashionMnist, &config.dirs, ImageLayout::Flat)?;
    let mut tasks = vec![Task {
        name: "SOM",
        train: fashion.train,
        test: fashion.test,
        python_data: idx_folder(config, IdxDataset::FashionMnist)?,
        grid: Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?,
        epochs: config.som_iterations,
        final_temperature: config.som_final_temperature,
        seeds: config.som_seeds,
        peers: &["somoclu", "xpysom", "torchsom", "minisom"],
        describe: format!(
            "Fashion-MNIST (60,000 training images x 784, pixels / 255), 8x8 rectangular map, {} passes over the data",
            config.som_iterations
        ),
    }];
    if config.som_blobs {
        let (train, test) = blobs()?;
        let path = config.out.join("som_blobs_train.npy");
        Tensor::from_slice(&train.features).view([train.shape[0] as i64, -1]).write_npy(&path)?;
        tasks.push(Task {
            name: "SOM, torchsom's benchmark shape",
            train,
            test,
            python_data: path.display().to_string(),
            grid: Grid::new(25, 15, Lattice::Rectangular, Boundary::Bounded)?,
            epochs: 100,
            final_temperature: config.som_blobs_final_temperature,
            seeds: config.som_blobs_seeds,
            peers: &["somoclu", "xpysom", "torchsom"],
            describe: "torchsom's published CPU benchmark shape: 16,000 samples x 300 features from 3 Gaussian blobs \
                       (centres uniform in [-10, 10]^300, standard deviation 1, as scikit-learn's make_blobs defaults; 4,000 \
                       more for the test purity), 25x15 rectangular map, 100 passes over the data (minisom left out: \
                       torchsom reports 1,939 s for it on this shape)"
                .into(),
        });
    }
    let comparisons = tasks.iter().map(|task| compare_task(config, task)).collect::<Result<Vec<_>>>();
    _ = std::fs::remove_file(config.out.join("som_blobs_train.npy"));
    comparisons
}

/// 20,000 blob samples (seed 0) split into 16,000 for training and 4,000 for the test purity.
fn blobs() -> Result<(Data, Data)> {
    let config = BlobsConfig { n_samples: 20_000, n_features: 300, centers: BlobCenters::Random(3), ..BlobsConfig::default() };
    let all = config.generate(&mut ChaCha8Rng::seed_from_u64(0))?;
    let d = 300;
    let labels = all.labels.clone().unwrap_or_default();
    let part = |range: std::ops::Range<usize>, name: &str| {
        Data::new(name, all.features[range.start * d..range.end * d].to_vec(), vec![range.len(), d], Some(labels[range].to_vec()))
    };
    Ok((part(0..16_000, "blobs-train")?, part(16_000..20_000, "blobs-test")?))
}

/// One task: our runs and every peer's, alternating seed by seed (the machine's speed drifts).
fn compare_task(config: &SpeedConfig, task: &Task) -> Result<Comparison> {
    let grid = task.grid;
    let train = Dataset::from_data(&task.train, Device::Cpu)?;
    let temperature = Schedule { end: task.final_temperature, ..Schedule::paper_temperature(&grid) };
    let rule = BatchSom { temperature };
    let mut ours = Vec::new();
    let mut peers: Vec<(&str, Peer<Vec<ScoredRun>>)> = task.peers.iter().map(|p| (*p, Ok(Vec::new()))).collect();
    for seed in 0..task.seeds {
        let vs = nn::VarStore::new(Device::Cpu);
        let layer =
            SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: MapDistance::Euclidean }
                .build(&vs.root(), &train.x, seed)?;
        let init_path = config.out.join("som_init.npy");
        layer.weight.detach().write_npy(&init_path)?;
        println!("  {}: protolearn batch SOM, {} passes, seed {seed}", task.name, task.epochs);
        let phase = PhaseConfig::new("som", task.epochs, task.epochs);
        let start = Instant::now();
        Trainer::new(&train, Batching::Full, seed)?.apply_rule(&phase, &layer, &rule, &vs, &mut [], &mut Silent)?;
        let seconds = start.elapsed().as_secs_f64();
        ours.push((seconds, quality(task, &Vec::<f32>::try_from(layer.weight.detach().flatten(0, -1))?)?));
        for (tool, runs) in peers.iter_mut() {
            let Ok(done) = runs else { continue };
            println!("  {}: {tool}, seed {seed}", task.name);
            let schedule = Schedule { end: PEER_FINAL_TEMPERATURE, ..temperature };
            match peer(config, task, tool, seed, &init_path, schedule)? {
                Ok(run) => done.push(run),
                Err(why) => *runs = Err(why),
            }
        }
        std::fs::remove_file(&init_path)?;
    }
    let ours = Side {
        tool: format!("protolearn {}", env!("CARGO_PKG_VERSION")),
        setting: format!(
            "batch SOM (all samples per step), {} steps, Gaussian exp(-d^2 / T^2) of the Euclidean map distance d \
             (`MapDistance::Euclidean`, as the peers), T from {} to {} exponentially (final T chosen so that TE is no \
             worse than the batch peers')",
            task.epochs, temperature.start, temperature.end
        ),
        seconds: ours.iter().map(|r| r.0).collect(),
        quality: mean_quality(&ours.iter().map(|r| r.1.clone()).collect::<Vec<_>>()),
    };
    let theirs = peers
        .into_iter()
        .map(|(tool, runs)| {
            runs.map(|runs| Side {
                tool: format!("{tool} {}", runs.first().map(|r| r.0.version.as_str()).unwrap_or("?")),
                setting: peer_setting(tool, task, config),
                seconds: runs.iter().map(|r| r.0.seconds).collect(),
                quality: mean_quality(&runs.iter().map(|r| r.1.clone()).collect::<Vec<_>>()),
            })
        })
        .collect();
    Ok(Comparison {
        task: task.name.into(),
        setup: format!(
            "{}. Every side starts from the same prototypes ({} random training samples drawn by the seed; seeds 0 to {}), \
             runs alternate seed by seed; the start and the scoring are outside the clock. QE (mean distance to the BMU) and \
             TE (fraction of samples whose two best units are not 4-neighbours on the grid, i.e. grid distance > 1) on the \
             training samples, purity of the test samples' BMUs: all computed by protolearn-metrics from each side's prototypes.",
            task.describe,
            grid.n_units(),
            task.seeds.saturating_sub(1),
        ),
        target: "at least 10x somoclu, 2x XPySom, 5x torchsom (and 10x minisom) at equal or better QE, TE and purity".into(),
        ours,
        theirs,
    })
}

/// One peer run from the prototypes at `init`: its time and the quality of what it returned.
fn peer(config: &SpeedConfig, task: &Task, tool: &str, seed: u64, init: &Path, temperature: Schedule) -> Result<Peer<ScoredRun>> {
    let saved = config.out.join("som_prototypes.npy");
    let mut args: Vec<String> = vec!["som".into(), "--tool".into(), tool.into(), "--data".into(), task.python_data.clone()];
    for (flag, value) in [
        ("--init", init.display().to_string()),
        ("--save", saved.display().to_string()),
        ("--rows", task.grid.rows().to_string()),
        ("--cols", task.grid.cols().to_string()),
        ("--epochs", task.epochs.to_string()),
        ("--presentations", config.minisom_presentations.to_string()),
        ("--t-start", temperature.start.to_string()),
        ("--t-end", temperature.end.to_string()),
        ("--seed", seed.to_string()),
    ] {
        args.extend([flag.to_owned(), value]);
    }
    let module = if tool == "torchsom" { "torchsom" } else { tool };
    Ok(match python::<PeerRun>(config, &["numpy", "threadpoolctl", module], args)? {
        Err(why) => Err(why),
        Ok(mut rows) => {
            let prototypes = load_npy(&saved)?.features;
            std::fs::remove_file(&saved)?;
            let run = rows.pop().ok_or_else(|| anyhow::anyhow!("{tool}: the script printed no run"))?;
            Ok((run, quality(task, &prototypes)?))
        }
    })
}

/// What a peer ran, in words.
fn peer_setting(tool: &str, task: &Task, config: &SpeedConfig) -> String {
    match tool {
        "somoclu" => format!(
            "`train(epochs={})`, dense CPU kernel, Gaussian without compact support, radius sqrt(2) T (our kernel), T from \
             the map size to {PEER_FINAL_TEMPERATURE} exponentially, scale 1 (pure batch update)",
            task.epochs
        ),
        "xpysom" => format!(
            "`train(data, {})` with NumPy, Gaussian sigma sqrt(2) T (our kernel), T from the map size to \
             {PEER_FINAL_TEMPERATURE} exponentially",
            task.epochs
        ),
        "torchsom" => format!(
            "`SOM(epochs={}, batch_size=256).fit` on CPU (its defaults: sigma 1, learning rate 0.5, asymptotic decay; \
             its fit also computes QE and TE per batch)",
            task.epochs
        ),
        _ => format!(
            "`train(random_order=True)`, {} presentations, sigma 1.0, learning rate 0.5 (its defaults), asymptotic decay",
            config.minisom_presentations
        ),
    }
}

/// The mean of each quality number over runs (the names of the first run).
fn mean_quality(runs: &[Quality]) -> Quality {
    let Some(first) = runs.first() else { return Vec::new() };
    first
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (format!("{name} (mean)"), mean(&runs.iter().map(|r| r[i].1).collect::<Vec<_>>())))
        .collect()
}

/// QE and TE on the training samples, test purity, for `prototypes` `[K * d]`.
fn quality(task: &Task, prototypes: &[f32]) -> Result<Quality> {
    let (train, test) = (&task.train, &task.test);
    let d = train.shape[1..].iter().product::<usize>();
    let protos = Matrix::new(prototypes, task.grid.n_units(), d)?;
    let train_m = Matrix::new(&train.features, train.shape[0], d)?;
    let test_m = Matrix::new(&test.features, test.shape[0], d)?;
    let units: Vec<usize> = best_matching_units(test_m, protos)?.iter().map(|b| b.first.unit).collect();
    let labels = test.labels.as_deref().unwrap_or_default();
    Ok(vec![
        ("QE".into(), quantization_error(train_m, protos)?),
        ("TE".into(), topographic_error(train_m, protos, &task.grid)?),
        ("test purity".into(), purity_of(labels, &units)?),
    ])
}
