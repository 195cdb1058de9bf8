//! DESOM on MNIST (paper 002's dense 784-500-500-2000-10 autoencoder, 8x8 map, batch 256,
//! Adam 1e-3, gamma 1e-3, T from 8 to 0.1): iterations per second of protolearn's trainer
//! against the same model in PyTorch eager, with PyTorch's default Adam (foreach) and with its
//! opt-in fused CPU Adam. Each side reports the test purity after its run as a sanity check.
//! Then bfloat16 mixed precision (issue 28): ours against our float32 and against PyTorch's
//! `torch.autocast("cpu", dtype=torch.bfloat16)`; and the same seeds trained as one program
//! against the same seeds one after another.

use super::{idx_folder, mean, median, purity_of, python, Comparison, Side, SpeedConfig};
use anyhow::{Context, Result};
use protolearn_data::mnist::load;
use protolearn_data::tensor::Dataset;
use protolearn_data::{IdxDataset, ImageLayout};
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::desom::{Desom, DesomConfig};
use protolearn_layers::precision::Precision;
use protolearn_layers::som::{Neighbourhood, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::desom::{fit_desom, DesomTrainConfig};
use protolearn_train::desom_seeds::fit_desom_seeds;
use protolearn_train::observer::Silent;
use serde::Deserialize;
use tch::{Device, Tensor};

/// One PyTorch run, as the script prints it.
#[derive(Debug, Clone, Deserialize)]
struct TorchRun {
    version: String,
    seconds: f64,
    mean_loss: f64,
    purity: f64,
}

/// The comparisons: one seed against PyTorch, then the seeds trained as one program against the
/// same seeds one after another (protolearn's and PyTorch's runs of the first comparison).
pub(super) fn compare(config: &SpeedConfig) -> Result<[Comparison; 3]> {
    let data = load(IdxDataset::Mnist, &config.dirs, ImageLayout::Flat)?;
    let (train, test) = (Dataset::from_data(&data.train, Device::Cpu)?, Dataset::from_data(&data.test, Device::Cpu)?);
    let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?;
    let model = DesomConfig {
        autoencoder: AutoencoderConfig::Dense(DenseConfig::default()),
        som: SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() },
        gamma: 1e-3,
    };
    let iterations = config.desom_iterations;
    let labels = data.test.labels.as_deref().unwrap_or_default();
    let folder = idx_folder(config, IdxDataset::Mnist)?;
    // PyTorch: (setting, --fused, --autocast-bf16); the last one is the bf16 comparison's peer.
    let variants =
        [("default (foreach) Adam", false, false), ("Adam(fused=True)", true, false), ("bf16 autocast, Adam(fused=True)", true, true)];
    // Runs alternate (ours, then each PyTorch variant, seed by seed) so that a slow phase of the
    // machine does not fall on one side only; each side's median is reported.
    let (mut ours_runs, mut bf16_runs, mut torch_runs) = (Vec::new(), Vec::new(), vec![Vec::new(); variants.len()]);
    let mut torch_error = None;
    let seeds: Vec<u64> = (0..config.desom_seeds).collect();
    // The batched program runs before and after the seed loop, so that it meets the machine's
    // drift from both sides.
    let batched = |runs: &mut Vec<(f64, f64, f64)>| -> Result<()> {
        println!("  DESOM: protolearn, seeds {seeds:?} as one program, {iterations} iterations");
        let train_config = DesomTrainConfig { log_every: iterations, ..DesomTrainConfig::paper(&grid, iterations, 0) };
        let replicas = fit_desom_seeds(&train, None, &model, &train_config, &seeds, &mut Silent)?;
        let mut finals = Vec::new();
        for run in &replicas {
            let last = run.history.last().context("DESOM history")?;
            finals.push((last.seconds, last.total, test_purity(&run.model, &test.x, labels)?));
        }
        let column = |f: fn(&(f64, f64, f64)) -> f64| finals.iter().map(f).collect::<Vec<_>>();
        runs.push((column(|r| r.0)[0], mean(&column(|r| r.1)), mean(&column(|r| r.2))));
        Ok(())
    };
    let mut batched_runs = Vec::new();
    batched(&mut batched_runs)?;
    for &seed in &seeds {
        let train_config = DesomTrainConfig { log_every: iterations, ..DesomTrainConfig::paper(&grid, iterations, seed) };
        for (precision, runs) in [(Precision::Fp32, &mut ours_runs), (Precision::Bf16, &mut bf16_runs)] {
            println!("  DESOM: protolearn, {iterations} iterations, seed {seed}, {precision:?}");
            let run = fit_desom(&train, None, &model, &DesomTrainConfig { precision, ..train_config.clone() }, &mut Silent)?;
            let last = run.history.last().context("DESOM history")?;
            runs.push((last.seconds, last.total, test_purity(&run.model, &test.x, labels)?));
        }
        for ((setting, fused, bf16), runs) in variants.iter().zip(&mut torch_runs) {
            if torch_error.is_some() {
                break;
            }
            println!("  DESOM: PyTorch, {setting}, seed {seed}");
            let mut args = vec!["desom".to_owned(), "--data".to_owned(), folder.clone(), "--iterations".to_owned(), iterations.to_string()];
            args.extend(["--warmup".to_owned(), "0".to_owned(), "--seed".to_owned(), seed.to_string()]);
            if *fused {
                args.push("--fused".to_owned());
            }
            if *bf16 {
                args.push("--autocast-bf16".to_owned());
            }
            match python::<TorchRun>(config, &["torch"], args)? {
                Ok(rows) => runs.extend(rows),
                Err(why) => torch_error = Some(why),
            }
        }
    }
    batched(&mut batched_runs)?;
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
    let mut theirs: Vec<std::result::Result<Side, String>> = variants
        .iter()
        .zip(&torch_runs)
        .map(|((setting, _, _), runs)| match &torch_error {
            Some(why) => Err(why.clone()),
            None => Ok(side(
                format!("PyTorch {}", runs.first().map(|r| r.version.as_str()).unwrap_or("?")),
                format!("eager, {setting}"),
                &runs.iter().map(|r| (r.seconds, r.mean_loss, r.purity)).collect::<Vec<_>>(),
            )),
        })
        .collect();
    let torch_bf16 = theirs.pop().context("the autocast variant")?;
    let bf16 = Comparison {
        task: "DESOM, bf16 mixed precision".into(),
        setup: format!(
            "The DESOM runs above (same seeds, data and settings) with the autoencoder's products in bfloat16: ours with \
             `DesomTrainConfig::precision = Bf16` (every dense product takes bfloat16 inputs and weights and returns float32; \
             weights, Adam state, losses, codes and prototypes float32), PyTorch inside `torch.autocast(\"cpu\", \
             dtype=torch.bfloat16)` for the encoder and decoder (its activations stay bfloat16 between layers; losses \
             float32), fused Adam. The CPU: {}; libtorch runs bfloat16 products through oneDNN (AVX-512 BF16 / AMX where \
             present). Test purity over the {} seeds shows whether the quality is the same.",
            super::cpu_name(),
            config.desom_seeds
        ),
        target: "at least 1.5x our float32 it/s, and at least 1.1x PyTorch's bf16 autocast".into(),
        ours: side(
            format!("protolearn {}", env!("CARGO_PKG_VERSION")),
            "bf16 mixed precision, trainer + fused CPU Adam".into(),
            &bf16_runs,
        ),
        theirs: vec![
            Ok(side(format!("protolearn {}", env!("CARGO_PKG_VERSION")), "float32 (the runs above)".into(), &ours_runs)),
            torch_bf16,
        ],
    };
    let seeds_comparison = seeds_at_once(config, &batched_runs, &ours, &ours_runs, &torch_runs[0], &theirs[0]);
    Ok([Comparison {
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
    }, bf16, seeds_comparison])
}

/// Test purity of a trained DESOM's best units.
fn test_purity(model: &Desom, x: &Tensor, labels: &[i64]) -> Result<f64> {
    let units = Vec::<i64>::try_from(model.predict(x)?)?.into_iter().map(|u| u as usize).collect::<Vec<_>>();
    purity_of(labels, &units)
}

/// The seeds as one program (`batched`: seconds, mean loss, mean purity of each batched run)
/// against the same seeds one after another: protolearn's single runs and PyTorch's default-Adam
/// runs of the one-seed comparison, each seed's seconds summed.
fn seeds_at_once(
    config: &SpeedConfig,
    batched: &[(f64, f64, f64)],
    single: &Side,
    single_runs: &[(f64, f64, f64)],
    torch_runs: &[TorchRun],
    torch: &std::result::Result<Side, String>,
) -> Comparison {
    let seeds = config.desom_seeds;
    let loop_side = |tool: &str, seconds: f64, loss: f64, purity: f64| Side {
        tool: tool.to_owned(),
        setting: format!("{seeds} seeds one after another (the runs above, seconds summed)"),
        seconds: vec![seconds],
        quality: vec![("mean batch loss (mean)".into(), loss), ("test purity (mean)".into(), purity)],
    };
    let ours = Side {
        tool: single.tool.clone(),
        setting: format!("{seeds} seeds as one program (`fit_desom_seeds`), run before and after the loop"),
        seconds: batched.iter().map(|r| r.0).collect(),
        quality: vec![
            ("mean batch loss (mean)".into(), mean(&batched.iter().map(|r| r.1).collect::<Vec<_>>())),
            ("test purity (mean)".into(), mean(&batched.iter().map(|r| r.2).collect::<Vec<_>>())),
        ],
    };
    let sum = |values: Vec<f64>| values.iter().sum::<f64>();
    let mut theirs = vec![Ok(loop_side(
        &single.tool,
        sum(single_runs.iter().map(|r| r.0).collect()),
        mean(&single_runs.iter().map(|r| r.1).collect::<Vec<_>>()),
        mean(&single_runs.iter().map(|r| r.2).collect::<Vec<_>>()),
    ))];
    theirs.push(match torch {
        Ok(side) => Ok(loop_side(
            &side.tool,
            sum(torch_runs.iter().map(|r| r.seconds).collect()),
            mean(&torch_runs.iter().map(|r| r.mean_loss).collect::<Vec<_>>()),
            mean(&torch_runs.iter().map(|r| r.purity).collect::<Vec<_>>()),
        )),
        Err(why) => Err(why.clone()),
    });
    Comparison {
        task: format!("DESOM, {seeds} seeds at once"),
        setup: format!(
            "The DESOM runs above, seeds 0 to {}, trained as one tensor program: every variable stacked along a replica \
             dimension, each replica drawing its own minibatches from its own seed (each step of replica r equals the single \
             run's of seed r to float32 rounding; over 500 iterations the two trajectories drift apart as between any \
             two float32 kernels, hence the slightly different scores), one optimizer over the stacked variables. Seconds: the training of all seeds.",
            seeds.saturating_sub(1)
        ),
        target: "10 seeds on a GPU far cheaper than 10 times one seed; on CPU, report the ratio".into(),
        ours,
        theirs,
    }
}
