//! `protolearn gpu-check`: a short device check sized for a brief lease of a GPU machine
//! (issue 13): whether libtorch sees CUDA, then DESOM on MNIST (paper 002's dense
//! `784-500-500-2000-10` AE and 8x8 map, batch 256, Adam 1e-3), one k-means fit on
//! Fashion-MNIST (k = 64, one k-means++ restart, scikit-learn's `max_iter` and `tol`) and the
//! competitive-layer benchmark (VCL and DCL, 10 seeds batched, 500 moons, k = 30), each written
//! as one JSON line (device, seconds, iterations per second, quality) as soon as it is measured.
//! Ours runs in float32 and in bf16 mixed precision (issue 28); the same DESOM in PyTorch eager
//! on the same device follows, plain and in bf16 autocast, when the machine's `python3` has
//! torch, then 10 DESOM seeds trained as one program (`fit_desom_seeds`) against 10 times
//! the one-seed run. TF32 (float32 matmuls on tensor cores, 10-bit mantissa) follows for both:
//! ours in a child `protolearn` process started with `TORCH_ALLOW_TF32_CUBLAS_OVERRIDE=1`
//! (libtorch reads it once, when its global context is created; tch has no switch), PyTorch's
//! with `torch.set_float32_matmul_precision("high")`. On a CPU TF32 changes nothing (cuBLAS
//! only). The same command runs on a CPU with `--device cpu` (smaller sizes for a smoke test).

use anyhow::{Context, Result};
use protolearn_data::mnist::load;
use protolearn_data::tensor::Dataset;
use protolearn_data::{DataDirs, IdxDataset, ImageLayout, MoonsConfig, Standardizer};
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::competitive::{CompetitiveConfig, LayerKind};
use protolearn_layers::desom::{Desom, DesomConfig};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::loss::QuantizationForm;
use protolearn_layers::precision::Precision;
use protolearn_layers::som::SomConfig;
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::competitive::{fit_competitive, CompetitiveTrainConfig, TopologyTerm};
use protolearn_train::desom::{fit_desom, DesomTrainConfig};
use protolearn_train::desom_seeds::fit_desom_seeds;
use protolearn_train::kmeans::KMeansFit;
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use protolearn_train::quality::purity_nmi;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;
use tch::{Device, Tensor};

/// The sizes of a check.
#[derive(Debug, Clone, Copy)]
pub struct CheckSizes {
    /// DESOM joint iterations (the paper's run: 10,000; the check: 2,000).
    pub desom_iterations: usize,
    /// DESOM seeds trained as one program (the check: 10).
    pub desom_seeds: usize,
    /// Training samples of the k-means fit (60,000: all of Fashion-MNIST).
    pub kmeans_samples: i64,
    /// Full-batch epochs of the competitive benchmark.
    pub competitive_epochs: usize,
}

/// The environment variable that makes libtorch allow TF32 in float32 cuBLAS matmuls for the
/// whole process (read when its global context is created).
pub const TF32_VARIABLE: &str = "TORCH_ALLOW_TF32_CUBLAS_OVERRIDE";

/// How the TF32 measurement of our DESOM runs: the `protolearn` executable started as a child
/// process with [`TF32_VARIABLE`] set (`protolearn gpu-check --desom-only`), or not at all.
#[derive(Debug, Clone)]
pub struct Tf32Runner {
    /// The `protolearn` executable.
    pub executable: std::path::PathBuf,
}

/// One measurement (a JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Measurement {
    /// `cuda`, `desom`, `desom-bf16`, `desom-tf32`, `desom-pytorch`, `desom-pytorch-bf16`,
    /// `desom-pytorch-tf32`, `desom-seeds`, `kmeans`, `competitive-vcl`, `competitive-dcl`.
    pub measurement: String,
    /// The device, as libtorch names it, with the GPU's name when `nvidia-smi` gives one.
    pub device: String,
    /// Wall seconds (synchronised with the device before the clock stops).
    pub seconds: f64,
    /// Training iterations (or epochs) per second.
    pub iterations_per_second: Option<f64>,
    /// Test purity of DESOM.
    pub purity: Option<f64>,
    /// Test NMI of DESOM.
    pub nmi: Option<f64>,
    /// k-means inertia.
    pub inertia: Option<f64>,
    /// What else is worth knowing (CUDA devices, cuDNN, sizes).
    pub note: String,
}

/// The name of GPU `index` from `nvidia-smi`, if it runs.
fn gpu_name(device: Device) -> String {
    let Device::Cuda(index) = device else { return format!("{device:?}") };
    let out =
        std::process::Command::new("nvidia-smi").args(["--query-gpu=name", "--format=csv,noheader", &format!("--id={index}")]).output();
    match out {
        Ok(o) if o.status.success() => format!("cuda:{index} {}", String::from_utf8_lossy(&o.stdout).trim()),
        _ => format!("cuda:{index}"),
    }
}

/// Waits for queued device work, so the clock measures it.
fn synchronise(device: Device) {
    if let Device::Cuda(index) = device {
        tch::Cuda::synchronize(index as i64);
    }
}

/// Appends `m` as one JSON line to `out` (flushed, so a killed check keeps what it measured).
fn emit(out: &Path, m: &Measurement) -> Result<()> {
    let line = serde_json::to_string(m)?;
    println!("{line}");
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(out).with_context(|| format!("opening {}", out.display()))?;
    writeln!(file, "{line}").with_context(|| format!("writing {}", out.display()))?;
    file.flush()?;
    Ok(())
}

/// Runs the check on `device`, appending the JSON lines to `out` (removed first); with
/// `desom_only`, the `cuda` line and our float32 DESOM only (what a TF32 child measures); the
/// TF32 line of our DESOM comes from `tf32` (none without it).
pub fn run(
    device: Device,
    dirs: &DataDirs,
    sizes: CheckSizes,
    out: &Path,
    desom_only: bool,
    tf32: Option<&Tf32Runner>,
) -> Result<Vec<Measurement>> {
    if out.exists() {
        std::fs::remove_file(out).with_context(|| format!("replacing {}", out.display()))?;
    }
    let name = gpu_name(device);
    let mut all = Vec::new();
    let mut record = |m: Measurement| -> Result<()> {
        emit(out, &m)?;
        all.push(m);
        Ok(())
    };
    let cuda = Measurement {
        measurement: "cuda".into(),
        device: name.clone(),
        seconds: 0.0,
        iterations_per_second: None,
        purity: None,
        nmi: None,
        inertia: None,
        note: format!(
            "tch::Cuda::is_available = {}, devices = {}, cudnn = {}, threads = {}",
            tch::Cuda::is_available(),
            tch::Cuda::device_count(),
            tch::Cuda::cudnn_is_available(),
            tch::get_num_threads()
        ),
    };
    record(cuda)?;
    let mnist = DesomSetup::load(device, dirs)?;
    let single = desom(&mnist, &name, sizes.desom_iterations, Precision::Fp32)?;
    let single_seconds = single.seconds;
    record(single)?;
    if desom_only {
        return Ok(all);
    }
    record(desom(&mnist, &name, sizes.desom_iterations, Precision::Bf16)?)?;
    if let Some(runner) = tf32 {
        record(desom_tf32(runner, device, dirs, sizes.desom_iterations, out)?)?;
    }
    for variant in [TorchVariant::Fp32, TorchVariant::Bf16, TorchVariant::Tf32] {
        record(desom_pytorch(device, &name, dirs, sizes.desom_iterations, variant, out)?)?;
    }
    record(desom_seeds(&mnist, &name, sizes.desom_iterations, sizes.desom_seeds, single_seconds)?)?;
    record(kmeans(device, &name, dirs, sizes.kmeans_samples)?)?;
    for m in competitive(device, &name, sizes.competitive_epochs)? {
        record(m)?;
    }
    Ok(all)
}

/// MNIST on the device and paper 002's DESOM (784-500-500-2000-10, 8x8 map).
struct DesomSetup {
    train: Dataset,
    test: Dataset,
    grid: Grid,
    model: DesomConfig,
}

impl DesomSetup {
    fn load(device: Device, dirs: &DataDirs) -> Result<Self> {
        let data = load(IdxDataset::Mnist, dirs, ImageLayout::Flat).context("MNIST for the DESOM check")?;
        let (train, test) = (Dataset::from_data(&data.train, device)?, Dataset::from_data(&data.test, device)?);
        let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded)?;
        let model = DesomConfig {
            autoencoder: AutoencoderConfig::Dense(DenseConfig::default()),
            som: SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
            gamma: 1e-3,
        };
        Ok(DesomSetup { train, test, grid, model })
    }

    /// The paper's training settings for `iterations`, one record at the end.
    fn config(&self, iterations: usize) -> DesomTrainConfig {
        DesomTrainConfig { log_every: iterations, ..DesomTrainConfig::paper(&self.grid, iterations, 0) }
    }

    /// Test purity and NMI of a trained model's best units.
    fn scores(&self, model: &Desom) -> Result<(f64, f64)> {
        let units = Vec::<i64>::try_from(model.predict(&self.test.x)?.to_device(Device::Cpu))?;
        let labels = Vec::<i64>::try_from(self.test.y.as_ref().context("MNIST test labels")?.to_device(Device::Cpu))?;
        Ok(purity_nmi(&labels, &units.into_iter().map(|u| u as usize).collect::<Vec<_>>())?)
    }
}

/// DESOM on MNIST: `iterations` joint iterations, then test purity and NMI. Seconds: the
/// training loop (the trainer's record; the loss read at its end synchronises the device), as
/// the PyTorch twin reports its own; building the model and evaluating are outside the clock.
/// With [`Precision::Bf16`] (measurement `desom-bf16`) the autoencoder's products run in bfloat16.
fn desom(setup: &DesomSetup, name: &str, iterations: usize, precision: Precision) -> Result<Measurement> {
    let config = DesomTrainConfig { precision, ..setup.config(iterations) };
    let run = fit_desom(&setup.train, None, &setup.model, &config, &mut Silent).context("DESOM")?;
    let seconds = run.history.last().context("a DESOM record")?.seconds;
    let (purity, nmi) = setup.scores(&run.model)?;
    let (measurement, format) = match precision {
        Precision::Fp32 => ("desom", "float32"),
        Precision::Bf16 => ("desom-bf16", "bf16 mixed precision"),
    };
    Ok(Measurement {
        measurement: measurement.into(),
        device: name.into(),
        seconds,
        iterations_per_second: Some(iterations as f64 / seconds),
        purity: Some(purity),
        nmi: Some(nmi),
        inertia: None,
        note: format!(
            "MNIST, 784-500-500-2000-10, 8x8, batch 256, Adam 1e-3, {format}, {iterations} iterations (training loop only), \
             test metrics after"
        ),
    })
}

/// `seeds` DESOMs (seeds 0, 1, ...) trained as one program, seconds of its training loop against
/// `seeds` times the one-seed run's; purity and NMI are the means over the seeds.
fn desom_seeds(setup: &DesomSetup, name: &str, iterations: usize, seeds: usize, single_seconds: f64) -> Result<Measurement> {
    let seed_list: Vec<u64> = (0..seeds as u64).collect();
    let runs =
        fit_desom_seeds(&setup.train, None, &setup.model, &setup.config(iterations), &seed_list, &mut Silent).context("DESOM seeds")?;
    let seconds = runs.first().and_then(|r| r.history.last()).context("a DESOM record")?.seconds;
    let scores = runs.iter().map(|r| setup.scores(&r.model)).collect::<Result<Vec<_>>>()?;
    let mean = |values: Vec<f64>| values.iter().sum::<f64>() / values.len().max(1) as f64;
    Ok(Measurement {
        measurement: "desom-seeds".into(),
        device: name.into(),
        seconds,
        iterations_per_second: Some(iterations as f64 / seconds),
        purity: Some(mean(scores.iter().map(|s| s.0).collect())),
        nmi: Some(mean(scores.iter().map(|s| s.1).collect())),
        inertia: None,
        note: format!(
            "{seeds} seeds as one program, {iterations} iterations each (training loop only; purity, NMI: means over the \
             seeds); {seeds} x the one-seed run = {:.1} s, ratio {:.2}",
            seeds as f64 * single_seconds,
            seeds as f64 * single_seconds / seconds
        ),
    })
}

/// Our float32 DESOM again in a child process with TF32 allowed in cuBLAS matmuls
/// (measurement `desom-tf32`): `protolearn gpu-check --desom-only` with [`TF32_VARIABLE`] = 1.
fn desom_tf32(runner: &Tf32Runner, device: Device, dirs: &DataDirs, iterations: usize, out: &Path) -> Result<Measurement> {
    let child_out = out.with_extension("tf32.jsonl");
    let data_root = dirs.find(IdxDataset::Mnist)?.dir.parent().map(Path::to_path_buf).unwrap_or_default();
    let device_arg = match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_owned(),
    };
    let status = std::process::Command::new(&runner.executable)
        .args(["gpu-check", "--desom-only", "--device", &device_arg, "--desom-iterations", &iterations.to_string()])
        .arg("--data")
        .arg(&data_root)
        .arg("--out")
        .arg(&child_out)
        .env(TF32_VARIABLE, "1")
        .stdout(std::process::Stdio::null())
        .status()
        .with_context(|| format!("starting {} for the TF32 measurement", runner.executable.display()))?;
    let text = std::fs::read_to_string(&child_out).with_context(|| format!("reading {}", child_out.display()));
    std::fs::remove_file(&child_out).ok();
    if !status.success() {
        anyhow::bail!("the TF32 child process ({}) failed: {status}", runner.executable.display());
    }
    let line = text?.lines().find(|l| l.contains("\"measurement\":\"desom\"")).map(str::to_owned).context("the child's DESOM line")?;
    let mut m: Measurement = serde_json::from_str(&line)?;
    m.measurement = "desom-tf32".into();
    m.note = format!(
        "{} ({TF32_VARIABLE}=1: float32 cuBLAS matmuls on TF32 tensor cores; on a CPU the same float32 products)",
        m.note.replace("float32", "TF32")
    );
    Ok(m)
}

/// The PyTorch twin's number format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TorchVariant {
    /// float32, default Adam (measurement `desom-pytorch`).
    Fp32,
    /// `torch.autocast(dtype=torch.bfloat16)`, fused Adam (`desom-pytorch-bf16`).
    Bf16,
    /// `torch.set_float32_matmul_precision("high")`: TF32 matmuls on CUDA (`desom-pytorch-tf32`).
    Tf32,
}

/// The same DESOM in PyTorch eager on the same device (`benches/python/speed_baselines.py
/// desom`, written beside `out`), with the `python3` of the machine (a GPU machine's has torch),
/// in the number format of `variant`.
fn desom_pytorch(device: Device, name: &str, dirs: &DataDirs, iterations: usize, variant: TorchVariant, out: &Path) -> Result<Measurement> {
    #[derive(serde::Deserialize)]
    struct TorchRun {
        version: String,
        seconds: f64,
        purity: f64,
    }
    let folder = dirs.find(IdxDataset::Mnist)?.dir.display().to_string();
    let torch_device = match device {
        Device::Cuda(i) => format!("cuda:{i}"),
        _ => "cpu".to_owned(),
    };
    let mut args: Vec<String> =
        ["desom", "--data", &folder, "--iterations", &iterations.to_string(), "--device", &torch_device, "--warmup", "0"]
            .iter()
            .chain(["--threads", &tch::get_num_threads().to_string()].iter())
            .map(|s| s.to_string())
            .collect();
    let (measurement, setting) = match variant {
        TorchVariant::Fp32 => ("desom-pytorch", "default Adam"),
        TorchVariant::Bf16 => {
            args.extend(["--fused".to_owned(), "--autocast-bf16".to_owned()]);
            ("desom-pytorch-bf16", "bf16 autocast, fused Adam")
        }
        TorchVariant::Tf32 => {
            args.push("--tf32".to_owned());
            ("desom-pytorch-tf32", "TF32 matmuls (float32 matmul precision \"high\"), default Adam")
        }
    };
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let run = crate::pytorch::run_script::<TorchRun>(dir, crate::speed::SCRIPT_NAME, crate::speed::SCRIPT, &["torch"], &args)?;
    let (seconds, rate, purity, note) = match run.as_deref() {
        Ok([r, ..]) => {
            (r.seconds, Some(iterations as f64 / r.seconds), Some(r.purity), format!("PyTorch {} eager, {setting}, same model", r.version))
        }
        Ok([]) => (0.0, None, None, "the PyTorch script printed nothing".to_owned()),
        Err(why) => (0.0, None, None, format!("not run: {why}")),
    };
    Ok(Measurement {
        measurement: measurement.into(),
        device: name.into(),
        seconds,
        iterations_per_second: rate,
        purity,
        nmi: None,
        inertia: None,
        note: format!("{note}, {iterations} iterations (training loop only)"),
    })
}

/// One k-means fit on the first `samples` Fashion-MNIST training images.
fn kmeans(device: Device, name: &str, dirs: &DataDirs, samples: i64) -> Result<Measurement> {
    let data = load(IdxDataset::FashionMnist, dirs, ImageLayout::Flat).context("Fashion-MNIST for the k-means check")?;
    let x = Dataset::from_data(&data.train, device)?.x;
    let x = x.narrow(0, 0, samples.min(x.size()[0]));
    synchronise(device);
    let start = Instant::now();
    let fit = KMeansConfig { k: 64, n_init: 1, max_iter: 300, tol: 1e-4, seed: 0 }.fit(&x)?;
    synchronise(device);
    let seconds = start.elapsed().as_secs_f64();
    let iterations = fit.inertia_history.len();
    Ok(Measurement {
        measurement: "kmeans".into(),
        device: name.into(),
        seconds,
        iterations_per_second: Some(iterations as f64 / seconds),
        purity: None,
        nmi: None,
        inertia: Some(fit.inertia),
        note: format!("Fashion-MNIST {} x 784, k = 64, n_init 1, max_iter 300, tol 1e-4, {iterations} Lloyd iterations", x.size()[0]),
    })
}

/// VCL and DCL, 10 seeds batched as replicas, `epochs` full-batch epochs on 500 moons.
fn competitive(device: Device, name: &str, epochs: usize) -> Result<Vec<Measurement>> {
    let mut data = MoonsConfig { n_samples: 500, ..Default::default() }.generate(&mut ChaCha8Rng::seed_from_u64(0))?;
    Standardizer::fit_transform(&mut data)?;
    let x = Tensor::from_slice(&data.features).view([1, 500, 2]).to_device(device);
    let train = CompetitiveTrainConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.001 },
        epochs,
        lambda: 0.01,
        topology: TopologyTerm::EdgeNormSquared,
        quantization: QuantizationForm::L2Norm,
        keep_best: false,
    };
    let seeds: Vec<u64> = (0..10).collect();
    let mut out = Vec::new();
    for (id, kind, bias) in [("competitive-vcl", LayerKind::Vcl, false), ("competitive-dcl", LayerKind::Dcl, true)] {
        let layer = CompetitiveConfig { kind, n_prototypes: 30, bias, ..Default::default() };
        synchronise(device);
        let start = Instant::now();
        fit_competitive(&x, &seeds, &layer, &train, &mut Silent).with_context(|| id.to_owned())?;
        synchronise(device);
        let seconds = start.elapsed().as_secs_f64();
        out.push(Measurement {
            measurement: id.into(),
            device: name.into(),
            seconds,
            iterations_per_second: Some(epochs as f64 / seconds),
            purity: None,
            nmi: None,
            inertia: None,
            note: format!("500 moons, k = 30, 10 seeds batched, {epochs} full-batch epochs"),
        });
    }
    Ok(out)
}
