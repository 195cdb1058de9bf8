//! `protolearn`: fits models on your own data (`fit`, `predict`, `inspect`), runs the paper
//! experiments (`bench-all`), reports the libtorch setup (`doctor`) and measures a device in a
//! few minutes (`gpu-check`).

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use protolearn::data::categorical::{Categorical, UnknownCategory};
use protolearn::data::csv::{ColumnRef, MissingCells};
use protolearn::data::TableOptions;
use protolearn::MissingValues;
use protolearn_data::DataDirs;
use protolearn_experiments::context::{Preset, RunContext};
use protolearn_experiments::experiments::ALL;
use protolearn_experiments::overrides::Override;
use protolearn_experiments::own_data;
use protolearn_experiments::report::{document, Table};
use protolearn_train::run::Checkpointing;
use protolearn_train::DeviceChoice;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "protolearn", about = "Prototype-based and competitive learning: your own data and the paper experiments")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How to read a data file (shared by `fit` and `predict`).
#[derive(clap::Args)]
struct DataOptions {
    /// The data: CSV (header row), TSV, .npy, .npz or IDX.
    #[arg(long)]
    data: PathBuf,
    /// The label column of a CSV (a header name or a 0-based index), or the labels key of an
    /// .npz; labels are used for scores, the class map and predicted classes, never for training.
    #[arg(long)]
    labels: Option<String>,
    /// The features key of an .npz (default x).
    #[arg(long)]
    features_key: Option<String>,
    /// CSV: the feature columns to read, comma-separated header names or 0-based indices
    /// (default: every column but the labels and --drop). `predict` reads the columns the model
    /// was fitted on unless told otherwise.
    #[arg(long, value_delimiter = ',')]
    columns: Option<Vec<String>>,
    /// CSV: columns not to read (e.g. text columns), comma-separated names or indices.
    #[arg(long, value_delimiter = ',')]
    drop: Vec<String>,
    /// What a missing cell does: error (every column with missing cells is listed), drop-rows
    /// (left out, counted in summary.json; predictions keep file rows), impute-mean (the
    /// training means, stored in the model) or mask (left out of the distances: som, kmeans,
    /// lvq). Default: the model config's `missing` (`fit`) or the model's (`predict`), else error.
    #[arg(long, value_parser = ["error", "drop-rows", "impute-mean", "mask"])]
    missing: Option<String>,
    /// CSV: the cells that mean missing, comma-separated (default: empty, NA, N/A, NaN, null, ?;
    /// case ignored).
    #[arg(long, value_delimiter = ',')]
    missing_values: Option<Vec<String>>,
    /// CSV: columns to one-hot encode, comma-separated names or indices (one feature per
    /// category, `column=category`; the categories are stored in the model).
    #[arg(long, value_delimiter = ',')]
    categorical: Vec<String>,
    /// `predict`: what a category the model has not seen does: error (default) or ignore (an
    /// all-zero code).
    #[arg(long, default_value = "error", value_parser = ["error", "ignore"])]
    unknown: String,
    /// CSV: the field separator, one character (default: `,`, a tab for .tsv).
    #[arg(long)]
    delimiter: Option<char>,
    /// CSV: numbers are written with a decimal comma (3,5); needs --delimiter other than `,`.
    #[arg(long)]
    decimal_comma: bool,
}

impl DataOptions {
    fn table(&self) -> Result<TableOptions> {
        let delimiter = self
            .delimiter
            .map(|d| u8::try_from(d).ok().filter(u8::is_ascii).with_context(|| format!("--delimiter {d:?}: expected one ASCII character")))
            .transpose()?;
        Ok(TableOptions {
            labels: self.labels.clone(),
            features_key: self.features_key.clone(),
            columns: self.columns.clone(),
            drop: self.drop.clone(),
            missing_values: self.missing_values.clone(),
            missing: match self.missing.as_deref() {
                Some("drop-rows") => MissingCells::DropRows,
                Some("impute-mean" | "mask") => MissingCells::Keep,
                _ => MissingCells::Error,
            },
            categorical: self.categorical.iter().map(|c| Categorical::learned(ColumnRef::parse(c))).collect(),
            unknown: if self.unknown == "ignore" { UnknownCategory::Ignore } else { UnknownCategory::Error },
            delimiter,
            decimal_comma: self.decimal_comma,
        })
    }

    /// The model's treatment of missing values asked for on the command line, if any.
    fn missing_values(&self) -> Option<MissingValues> {
        match self.missing.as_deref() {
            Some("impute-mean") => Some(MissingValues::ImputeMean),
            Some("mask") => Some(MissingValues::Mask),
            _ => None,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Train the model of MODEL.toml on a data file; write model.safetensors, history.csv,
    /// assignments.csv, summary.json and figures/ under --out.
    Fit {
        /// The model config (see examples/models/).
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        data: DataOptions,
        /// The shape of one row when rows are images, HxW or CxHxW (e.g. 28x28 for MNIST):
        /// prototypes are drawn as images and ConvDESOM can read them.
        #[arg(long)]
        image_shape: Option<String>,
        /// cpu, auto, cuda or cuda:N (default: the config's, else cpu).
        #[arg(long)]
        device: Option<DeviceChoice>,
        /// Seed (default: the config's).
        #[arg(long)]
        seed: Option<u64>,
        /// Write the training's resumable state into this folder at every log point (SOM,
        /// DESOM, LVQ heads, neural gas, two-stage models).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// Continue the fit whose state is in --checkpoint (same data, model and options).
        #[arg(long, requires = "checkpoint")]
        resume: bool,
        /// Read the data (a .npy file or a folder of them, float32 or float64 rows) this many
        /// rows at a time instead of loading it: data larger than memory (batch SOM, k-means;
        /// DESOM reads its random minibatches from the file).
        #[arg(long)]
        chunk_rows: Option<usize>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Assign the samples of a data file to the units of a saved model; write a CSV.
    Predict {
        /// A model.safetensors written by `fit`.
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        data: DataOptions,
        /// The CSV to write (row, winner, distance, label and predicted label when known).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the config, input, shapes and training summary of a saved model.
    Inspect {
        /// A model.safetensors written by `fit`.
        model: PathBuf,
    },
    /// Print how libtorch sees this machine (CUDA linkage, GPUs, threads).
    Doctor,
    /// Run every experiment; write results, figures and report.md under --out.
    BenchAll {
        /// quick (fits a 2-core CPU) or full (paper scale).
        #[arg(long, value_enum, default_value = "quick")]
        preset: Preset,
        /// auto (CUDA when available), cpu, cuda or cuda:N.
        #[arg(long, default_value = "auto")]
        device: DeviceChoice,
        /// Output folder (default docs/results/PRESET, e.g. docs/results/quick).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Comma-separated experiment names to run (default: all).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Folder holding mnist/ and fashion-mnist/ (else $PROTOLEARN_DATA, ./data, /usr/share/datasets).
        #[arg(long)]
        data: Option<PathBuf>,
        /// Change a spec field for this run, e.g. `paper002_desom.full.seeds=[0]` (repeatable).
        #[arg(long = "set", value_name = "EXPERIMENT.KEY=VALUE")]
        overrides: Vec<Override>,
        /// Run a spec file of your own instead of the shipped one: `EXPERIMENT=FILE`, or `FILE`
        /// named after the experiment (e.g. `my/paper002_desom.toml`); repeatable. Without
        /// `--only`, only the experiments given a spec run.
        #[arg(long = "spec", value_name = "[EXPERIMENT=]FILE")]
        specs: Vec<String>,
        /// Write resumable checkpoints of the DESOM runs under OUT/paper002_desom/checkpoints/
        /// (protolearn's Adam, equal to libtorch's to float32 rounding, keeps its state for them).
        #[arg(long)]
        checkpoints: bool,
        /// Continue a killed `--checkpoints` run whose output folder is DIR (implies --out DIR and
        /// --checkpoints): DESOM runs continue from their checkpoints, bit for bit on CPU; the
        /// other, short models train again.
        #[arg(long, value_name = "DIR", conflicts_with = "out")]
        resume: Option<PathBuf>,
    },
    /// Compare the quality numbers of two bench-all output folders cell by cell (every
    /// summary.json value of the experiments both ran, timings left out): identical bit for bit,
    /// or how far apart in standard deviations over seeds.
    Compare {
        /// The first run's output folder (e.g. docs/results/quick).
        a: PathBuf,
        /// The second run's output folder.
        b: PathBuf,
        /// Also write the Markdown comparison to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// A few minutes on a (GPU) device: CUDA visible?, DESOM on MNIST (one seed, the same in
    /// PyTorch, then 10 seeds as one program), one k-means fit on
    /// Fashion-MNIST, the competitive-layer benchmark; one JSON line per measurement in --out.
    GpuCheck {
        /// cuda (default), cuda:N, cpu or auto.
        #[arg(long, default_value = "cuda")]
        device: DeviceChoice,
        /// The JSON-lines file to write.
        #[arg(long, default_value = "gpu-check.jsonl")]
        out: PathBuf,
        /// DESOM iterations.
        #[arg(long, default_value_t = 2000)]
        desom_iterations: usize,
        /// DESOM seeds trained as one program (the same iterations).
        #[arg(long, default_value_t = 10)]
        desom_seeds: usize,
        /// Fashion-MNIST training images for k-means.
        #[arg(long, default_value_t = 60000)]
        kmeans_samples: i64,
        /// Epochs of the competitive benchmark.
        #[arg(long, default_value_t = 400)]
        competitive_epochs: usize,
        /// Only the `cuda` line and our float32 DESOM (how the TF32 measurement runs itself in a
        /// child process).
        #[arg(long)]
        desom_only: bool,
        /// Folder holding mnist/ and fashion-mnist/.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// protolearn against FAISS and scikit-learn (k-means), somoclu, XPySom, torchsom and minisom
    /// (SOM) and PyTorch (DESOM, paper 003's kernel-prototype CNN) on this machine, same data and
    /// threads, in one run, then DESOM seeds as one program against the same seeds one after
    /// another; writes speed.md and
    /// speed.jsonl under --out. The Python tools come from $PROTOLEARN_PYTHON (`cargo xtask
    /// speed` installs them into .speed-venv/); a tool it cannot import becomes a "not run" row.
    Speed {
        /// Output folder.
        #[arg(long, default_value = "docs/results/speed")]
        out: PathBuf,
        /// CPU threads of both sides.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Run only these comparisons (kmeans, lloyd, som, desom, kernel; comma-separated).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// k-means fits per side (seeds 0, 1, ...), also the Lloyd-step runs per side.
        #[arg(long, default_value_t = 5)]
        kmeans_seeds: u64,
        /// Lloyd steps of the step-for-step comparison (same start on every side).
        #[arg(long, default_value_t = 50)]
        lloyd_steps: usize,
        /// Batch-SOM iterations (each a pass over all 60,000 images).
        #[arg(long, default_value_t = 10)]
        som_iterations: usize,
        /// SOM runs per side (seeds 0, 1, ...), alternating between the sides.
        #[arg(long, default_value_t = 3)]
        som_seeds: u64,
        /// Final temperature of our batch SOM on Fashion-MNIST (from the map size, exponentially):
        /// chosen so that its TE is no worse than somoclu's and XPySom's, whose schedules end one
        /// step later (the peers get T from the map size to 0.5).
        #[arg(long, default_value_t = 0.68)]
        som_final_temperature: f64,
        /// minisom sample presentations.
        #[arg(long, default_value_t = 60000)]
        minisom_presentations: usize,
        /// Final temperature of our batch SOM on torchsom's benchmark shape (chosen as above).
        #[arg(long, default_value_t = 0.53)]
        som_blobs_final_temperature: f64,
        /// SOM runs per side on torchsom's benchmark shape (seeds 0, 1, ...; torchsom takes
        /// about 3 minutes a run there on 2 cores).
        #[arg(long, default_value_t = 1)]
        som_blobs_seeds: u64,
        /// Skip the SOMs on torchsom's benchmark shape (16,000 x 300 blobs, 25x15 map, 100 passes).
        #[arg(long)]
        no_som_blobs: bool,
        /// DESOM iterations per run.
        #[arg(long, default_value_t = 500)]
        desom_iterations: usize,
        /// DESOM runs per side (seeds 0, 1, ...), alternating between the sides.
        #[arg(long, default_value_t = 3)]
        desom_seeds: u64,
        /// Training images of the kernel-prototype CNN comparison (the first n of MNIST).
        #[arg(long, default_value_t = 60000)]
        kernel_samples: usize,
        /// Epochs of every kernel-prototype CNN run.
        #[arg(long, default_value_t = 1)]
        kernel_epochs: usize,
        /// Kernel-prototype CNN runs per side and layer kind (seeds 0, 1, ...).
        #[arg(long, default_value_t = 3)]
        kernel_seeds: u64,
        /// Folder holding mnist/ and fashion-mnist/.
        #[arg(long)]
        data: Option<PathBuf>,
    },
    /// Time `protolearn fit` as two ranks of one thread against one process of two threads
    /// (batch SOM, k-means, DESOM), and in memory against chunks (peak memory); write
    /// scale.md and scale.jsonl.
    Scale {
        /// Output folder.
        #[arg(long, default_value = "docs/results/speed")]
        out: PathBuf,
        /// Runs per mode, alternating between the modes.
        #[arg(long, default_value_t = 3)]
        repeats: usize,
        /// DESOM iterations per run.
        #[arg(long, default_value_t = 200)]
        desom_iterations: usize,
        /// Rows per read of the chunked fit.
        #[arg(long, default_value_t = 4096)]
        chunk_rows: usize,
        /// Folder holding mnist/ and fashion-mnist/.
        #[arg(long)]
        data: Option<PathBuf>,
    },
}

/// The options of `bench-all`.
struct BenchAll {
    preset: Preset,
    device: DeviceChoice,
    out: Option<PathBuf>,
    only: Vec<String>,
    data: Option<PathBuf>,
    overrides: Vec<Override>,
    specs: Vec<String>,
    checkpoints: bool,
    resume: Option<PathBuf>,
}

/// The experiment and file of one `--spec` option.
fn spec_file(option: &str, known: &[&str]) -> Result<(String, PathBuf)> {
    let (name, file) = match option.split_once('=') {
        Some((name, file)) => (name.trim().to_owned(), PathBuf::from(file.trim())),
        None => {
            let file = PathBuf::from(option);
            let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            (stem, file)
        }
    };
    if !known.contains(&name.as_str()) {
        bail!(
            "--spec {option}: `{name}` is not an experiment (known: {}); write EXPERIMENT=FILE or name the file after the experiment",
            known.join(", ")
        );
    }
    if !file.is_file() {
        bail!("--spec {option}: {} is not a readable file", file.display());
    }
    Ok((name, file))
}

fn bench_all(BenchAll { preset, device, out, only, data, overrides, specs, checkpoints, resume }: BenchAll) -> Result<()> {
    let known: Vec<&str> = ALL.iter().map(|e| e.name).collect();
    let spec_files = specs.iter().map(|o| spec_file(o, &known)).collect::<Result<std::collections::BTreeMap<_, _>>>()?;
    let only = if only.is_empty() { spec_files.keys().cloned().collect() } else { only };
    if let Some(bad) = only.iter().find(|n| !known.contains(&n.as_str())) {
        bail!("--only {bad}: unknown experiment (known: {})", known.join(", "));
    }
    if let Some(bad) = overrides.iter().find(|o| !known.contains(&o.experiment())) {
        bail!("--set: unknown experiment `{}` (known: {})", bad.experiment(), known.join(", "));
    }
    if let Some(dir) = &resume {
        if !dir.is_dir() {
            bail!("--resume {}: no such output folder of an earlier run", dir.display());
        }
    }
    let out = resume.clone().or(out).unwrap_or_else(|| PathBuf::from("docs/results").join(preset.name()));
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let ctx = RunContext {
        preset,
        device: device.resolve()?,
        out,
        data_dirs: DataDirs::new(data),
        overrides,
        spec_files,
        checkpoints: checkpoints || resume.is_some(),
        resume: resume.is_some(),
    };
    println!(
        "bench-all: preset {}, device {:?}, {} threads, output {}",
        preset.name(),
        ctx.device,
        tch::get_num_threads(),
        ctx.out.display()
    );
    let mut sections = Vec::new();
    let mut timings = Table::new(["experiment", "wall time (s)"]);
    // Without --only, quick runs the experiments of the default quick run, full runs all.
    let selected = |e: &&protolearn_experiments::experiments::Experiment| match only.is_empty() {
        true => e.in_default_quick || !matches!(preset, Preset::Quick),
        false => only.iter().any(|n| n == e.name),
    };
    for exp in ALL.iter().filter(selected) {
        println!("== {} ==", exp.name);
        let start = Instant::now();
        let section = (exp.run)(&ctx).with_context(|| format!("experiment {}", exp.name))?;
        let seconds = start.elapsed().as_secs_f64();
        println!("{} finished in {seconds:.1} s", exp.name);
        timings.row([exp.name.to_string(), format!("{seconds:.1}")]);
        sections.push(section);
    }
    let preamble = format!(
        "Generated by `cargo xtask bench-all --preset {}` (device {:?}, {} CPU threads). Every number below comes from this run.\n\n### Timings\n\n{}",
        preset.name(),
        ctx.device,
        tch::get_num_threads(),
        timings.markdown()
    );
    let report = ctx.out.join("report.md");
    protolearn_experiments::context::write_file(&report, document("protolearn reproduction report", &preamble, &sections).as_bytes())?;
    println!("{}report: {}", timings.plain(), report.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fit { model, data, image_shape, device, seed, checkpoint, resume, chunk_rows, out } => image_shape
            .as_deref()
            .map(own_data::parse_image_shape)
            .transpose()
            .and_then(|image_shape| {
                let args = own_data::FitArgs {
                    model,
                    data: data.data.clone(),
                    table: data.table()?,
                    missing: data.missing_values(),
                    image_shape,
                    device,
                    seed,
                    checkpointing: Checkpointing { dir: checkpoint, resume },
                    chunk_rows,
                    out: out.clone(),
                };
                // Under torchrun (or any launcher setting RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):
                // join the process group; the fit is then data-parallel and rank 0 writes.
                protolearn_dist::init_from_env()?;
                own_data::fit(&args)
            })
            .map(|(fitted, figures)| {
                if !own_data::writes_results() {
                    return;
                }
                let s = fitted.summary();
                let scores = s.training.as_ref().map(|t| {
                    format!(
                        "; QE {:.4}{}{}{}",
                        t.quantization_error,
                        t.topographic_error.map(|te| format!(", TE {te:.4}")).unwrap_or_default(),
                        t.purity.map(|p| format!(", purity {p:.4}")).unwrap_or_default(),
                        t.accuracy.map(|a| format!(", accuracy {a:.4}")).unwrap_or_default(),
                    )
                });
                println!(
                    "fit: {} on {} samples in {:.1} s{}; results in {}",
                    s.kind,
                    s.n_samples,
                    s.seconds,
                    scores.unwrap_or_default(),
                    out.display()
                );
                if let Some(first) = figures.first() {
                    println!(
                        "fit: {} figure{} in {}",
                        figures.len(),
                        if figures.len() == 1 { "" } else { "s" },
                        first.parent().unwrap_or(&out).display()
                    );
                }
            }),
        Command::Predict { model, data, out } => data.table().and_then(|table| {
            let args = own_data::PredictArgs { model, data: data.data.clone(), table, out: out.clone() };
            own_data::predict(&args).map(|report| print!("{}", report.text(&out)))
        }),
        Command::Inspect { model } => own_data::inspect(&model).map(|text| print!("{text}")),
        Command::Doctor => {
            if protolearn_experiments::doctor::run() {
                Ok(())
            } else {
                Err(anyhow::anyhow!("libtorch probe failed"))
            }
        }
        Command::BenchAll { preset, device, out, only, data, overrides, specs, checkpoints, resume } => {
            bench_all(BenchAll { preset, device, out, only, data, overrides, specs, checkpoints, resume })
        }
        Command::Compare { a, b, out } => protolearn_experiments::compare::run(&a, &b, out.as_ref()).map(|text| print!("{text}")),
        Command::GpuCheck { device, out, desom_iterations, desom_seeds, kmeans_samples, competitive_epochs, desom_only, data } => device
            .resolve()
            .map_err(anyhow::Error::from)
            .and_then(|device| {
                use protolearn_experiments::gpu_check::{run, CheckSizes, Tf32Runner};
                let sizes = CheckSizes { desom_iterations, desom_seeds, kmeans_samples, competitive_epochs };
                let tf32 = Tf32Runner { executable: std::env::current_exe().context("the protolearn executable")? };
                run(device, &DataDirs::new(data), sizes, &out, desom_only, Some(&tf32))
            })
            .map(|_| ()),
        Command::Speed {
            out,
            threads,
            kmeans_seeds,
            som_iterations,
            som_seeds,
            som_final_temperature,
            minisom_presentations,
            no_som_blobs,
            som_blobs_final_temperature,
            som_blobs_seeds,
            desom_iterations,
            desom_seeds,
            kernel_samples,
            kernel_epochs,
            kernel_seeds,
            data,
            only,
            lloyd_steps,
        } => {
            let config = protolearn_experiments::speed::SpeedConfig {
                out,
                dirs: DataDirs::new(data),
                threads,
                only,
                kmeans_seeds,
                lloyd_steps,
                som_blobs: !no_som_blobs,
                som_blobs_final_temperature,
                som_blobs_seeds,
                som_iterations,
                som_seeds,
                som_final_temperature,
                minisom_presentations,
                desom_iterations,
                desom_seeds,
                kernel_samples,
                kernel_epochs,
                kernel_seeds,
            };
            protolearn_experiments::speed::run(&config).map(|_| println!("wrote {}", config.out.join("speed.md").display()))
        }
        Command::Scale { out, repeats, desom_iterations, chunk_rows, data } => {
            let config =
                protolearn_experiments::scale::ScaleConfig { out, dirs: DataDirs::new(data), repeats, desom_iterations, chunk_rows };
            protolearn_experiments::scale::run(&config).map(|_| println!("wrote {}", config.out.join("scale.md").display()))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("protolearn: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
