//! `protolearn scale`: the cost of the data-parallel and chunked paths of `protolearn fit`,
//! measured by running the command itself (issue 26). On Fashion-MNIST / MNIST it times two ranks
//! of one thread each (Gloo over the loopback interface) against one process of two threads for
//! the batch SOM, k-means and DESOM: on 2 cores this measures what the communication costs, not a
//! speed-up. It then fits the batch SOM on Fashion-MNIST written as a `.npy`, in memory and in
//! chunks, and compares their peak resident memory. Writes `scale.jsonl` and `scale.md`.

use crate::speed::median;
use anyhow::{bail, Context, Result};
use npyz::WriterBuilder;
use protolearn::history::write_atomically;
use protolearn_data::{DataDirs, IdxDataset, TableOptions};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// What `protolearn scale` measures.
#[derive(Debug, Clone)]
pub struct ScaleConfig {
    /// Output folder (`docs/results/speed`).
    pub out: PathBuf,
    /// Where MNIST and Fashion-MNIST are.
    pub dirs: DataDirs,
    /// Runs per mode, alternating between the modes.
    pub repeats: usize,
    /// DESOM iterations per run.
    pub desom_iterations: usize,
    /// Rows per read of the chunked fit.
    pub chunk_rows: usize,
}

/// One mode of one task: its runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mode {
    /// How it ran (`1 process x 2 threads`, `2 ranks x 1 thread`, `in memory`, `chunks of N rows`).
    pub mode: String,
    /// Training seconds of each run (rank 0's `summary.json`).
    pub seconds: Vec<f64>,
    /// Wall seconds of each command (start-up, reading the data, rendezvous, training, scoring, writing).
    pub wall: Vec<f64>,
    /// Peak resident memory of rank 0 in MiB, each run.
    pub peak_rss_mib: Vec<f64>,
    /// Training scores of the last run (`quantization_error`, `topographic_error`, `purity`).
    pub quality: Vec<(String, f64)>,
}

impl Mode {
    /// A mode without runs yet.
    fn named(mode: String) -> Self {
        Mode { mode, seconds: Vec::new(), wall: Vec::new(), peak_rss_mib: Vec::new(), quality: Vec::new() }
    }
}

/// One task measured in two modes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// Name (`batch SOM`, `k-means`, `DESOM`, `batch SOM from .npy`).
    pub task: String,
    /// Data and settings.
    pub setup: String,
    /// The two modes, the reference first.
    pub modes: [Mode; 2],
}

/// How one `protolearn fit` run is launched.
#[derive(Debug, Clone, Copy)]
enum Launch {
    /// One process with this many threads.
    Single(usize),
    /// Two ranks of one thread each on 127.0.0.1.
    TwoRanks,
}

/// Runs every task and writes `scale.jsonl` and `scale.md` under `config.out`.
pub fn run(config: &ScaleConfig) -> Result<Vec<Task>> {
    std::fs::create_dir_all(&config.out).with_context(|| format!("creating {}", config.out.display()))?;
    let work = tempfile::tempdir().context("creating a scratch folder")?;
    let fashion = config.dirs.find(IdxDataset::FashionMnist)?;
    let mnist = config.dirs.find(IdxDataset::Mnist)?;
    let som = model(work.path(), "som", "scaling = \"none\"\n[model]\nkind = \"som\"\ngrid = { rows = 8, cols = 8 }\ninit = \"pca\"\nrule = { kind = \"batch\" }\niterations = 10\n")?;
    let kmeans =
        model(work.path(), "kmeans", "scaling = \"none\"\n[model]\nkind = \"kmeans\"\nk = 64\nn_init = 1\nmax_iter = 20\ntol = 0.0\n")?;
    let desom = model(
        work.path(),
        "desom",
        &format!(
            "scaling = \"min-max\"\n[model]\nkind = \"desom\"\ngrid = {{ rows = 8, cols = 8 }}\niterations = {}\nbatch_size = 256\nlog_every = {}\n",
            config.desom_iterations, config.desom_iterations
        ),
    )?;
    let idx = |files: &protolearn_data::DatasetFiles| -> Vec<String> {
        vec!["--data".into(), files.paths[0].display().to_string(), "--labels".into(), files.paths[1].display().to_string()]
    };
    let parallel = [Launch::Single(2), Launch::TwoRanks];
    let mut tasks = vec![
        measure(
            config,
            work.path(),
            "batch SOM",
            "Fashion-MNIST train (60,000 x 784), 8x8 map, PCA start, 10 batch passes",
            &som,
            &idx(&fashion),
            parallel,
        )?,
        measure(
            config,
            work.path(),
            "k-means",
            "Fashion-MNIST train, k = 64, one k-means++ start, 20 Lloyd steps (tol 0)",
            &kmeans,
            &idx(&fashion),
            parallel,
        )?,
        measure(
            config,
            work.path(),
            "DESOM",
            &format!(
                "MNIST train, dense 784-500-500-2000-10 autoencoder, 8x8 map, batch 256 (128 per rank), {} iterations",
                config.desom_iterations
            ),
            &desom,
            &idx(&mnist),
            parallel,
        )?,
    ];
    let npy = work.path().join("fashion-train.npy");
    write_npy(&fashion.paths[0], &npy)?;
    let data = vec!["--data".to_owned(), npy.display().to_string()];
    let chunked = vec!["--chunk-rows".to_owned(), config.chunk_rows.to_string()];
    tasks.push(measure_chunked(config, work.path(), &som, &data, &chunked)?);
    let jsonl = tasks.iter().map(serde_json::to_string).collect::<std::result::Result<Vec<_>, _>>()?.join("\n") + "\n";
    write_atomically(&config.out.join("scale.jsonl"), jsonl.as_bytes())?;
    write_atomically(&config.out.join("scale.md"), report(config, &tasks).as_bytes())?;
    Ok(tasks)
}

/// Writes `MODEL.toml` text into `<dir>/<name>.toml`.
fn model(dir: &Path, name: &str, text: &str) -> Result<PathBuf> {
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("seed = 0\n{text}")).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

/// The images of an IDX file as a float32 `[n, 784]` `.npy` (raw byte values).
fn write_npy(images: &Path, npy: &Path) -> Result<()> {
    let table = protolearn_data::load_table(images, &TableOptions::default())?;
    let (n, d) = (table.data.n_samples() as u64, table.data.n_features() as u64);
    let mut file = std::io::BufWriter::new(std::fs::File::create(npy).with_context(|| format!("creating {}", npy.display()))?);
    let mut writer = npyz::WriteOptions::new().default_dtype().shape(&[n, d]).writer(&mut file).begin_nd()?;
    writer.extend(table.data.features.iter().copied())?;
    writer.finish()?;
    Ok(())
}

/// Both `launches` of `protolearn fit --model model <data>`, alternating, `config.repeats` each.
fn measure(
    config: &ScaleConfig,
    work: &Path,
    task: &str,
    setup: &str,
    model: &Path,
    data: &[String],
    launches: [Launch; 2],
) -> Result<Task> {
    let mut modes = launches.map(|l| Mode::named(describe(l)));
    for _ in 0..config.repeats {
        for (mode, launch) in modes.iter_mut().zip(launches) {
            record(mode, &fit(work, model, data, &[], launch)?)?;
        }
    }
    Ok(Task { task: task.into(), setup: setup.into(), modes })
}

/// The batch SOM on the `.npy` in memory and in chunks, one process of two threads each.
fn measure_chunked(config: &ScaleConfig, work: &Path, model: &Path, data: &[String], chunked: &[String]) -> Result<Task> {
    let names = ["in memory".to_owned(), format!("chunks of {} rows", config.chunk_rows)];
    let mut modes = names.map(Mode::named);
    for _ in 0..config.repeats {
        record(&mut modes[0], &fit(work, model, data, &[], Launch::Single(2))?)?;
        record(&mut modes[1], &fit(work, model, data, chunked, Launch::Single(2))?)?;
    }
    let setup = "Fashion-MNIST train written as one float32 .npy (60,000 x 784, 188 MB), 8x8 map, PCA start (the chunked fit's start: \
                 a 10,000-row sample), 10 batch passes, 1 process x 2 threads";
    Ok(Task { task: "batch SOM from .npy".into(), setup: setup.into(), modes })
}

fn describe(launch: Launch) -> String {
    match launch {
        Launch::Single(threads) => format!("1 process x {threads} threads"),
        Launch::TwoRanks => "2 ranks x 1 thread (Gloo, loopback)".into(),
    }
}

/// One fit: its output folder (rank 0's) and the wall seconds of the command.
fn fit(work: &Path, model: &Path, data: &[String], extra: &[String], launch: Launch) -> Result<(PathBuf, f64)> {
    let out = work.join("out");
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let exe = std::env::current_exe().context("locating the protolearn binary")?;
    let command = |threads: usize| {
        let mut cmd = Command::new(&exe);
        cmd.arg("fit").arg("--model").arg(model).args(data).args(extra).arg("--out").arg(&out);
        cmd.env("OMP_NUM_THREADS", threads.to_string()).env("MKL_NUM_THREADS", threads.to_string());
        cmd.env_remove("TORCHELASTIC_USE_AGENT_STORE").stdout(Stdio::null()).stderr(Stdio::piped());
        cmd
    };
    let start = Instant::now();
    match launch {
        Launch::Single(threads) => wait(command(threads).env_remove("RANK").env_remove("WORLD_SIZE").spawn()?)?,
        Launch::TwoRanks => {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let ranks = (0..2)
                .map(|rank| {
                    command(1)
                        .env("MASTER_ADDR", "127.0.0.1")
                        .env("MASTER_PORT", port.to_string())
                        .env("RANK", rank.to_string())
                        .env("WORLD_SIZE", "2")
                        .spawn()
                        .map_err(anyhow::Error::from)
                })
                .collect::<Result<Vec<Child>>>()?;
            ranks.into_iter().try_for_each(wait)?;
        }
    }
    Ok((out, start.elapsed().as_secs_f64()))
}

fn wait(child: Child) -> Result<()> {
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("protolearn fit failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Adds a run's `summary.json` numbers to `mode`.
fn record(mode: &mut Mode, (out, wall): &(PathBuf, f64)) -> Result<()> {
    let path = out.join(crate::own_data::SUMMARY_FILE);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)?;
    let number = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    mode.seconds.push(number(&json["summary"]["seconds"]));
    mode.wall.push(*wall);
    mode.peak_rss_mib.push(number(&json["peak_rss_mib"]));
    let training = &json["summary"]["training"];
    mode.quality = ["quantization_error", "topographic_error", "purity"]
        .into_iter()
        .filter(|name| training[name].is_number())
        .map(|name| (name.to_owned(), number(&training[name])))
        .collect();
    Ok(())
}

/// The Markdown report.
fn report(config: &ScaleConfig, tasks: &[Task]) -> String {
    let mut md = String::new();
    _ = writeln!(md, "# Scale: data-parallel ranks and data read in chunks\n");
    _ = writeln!(
        md,
        "Generated by `protolearn scale --out {}` on {} ({} runs per mode, the modes alternating). Each run is the \
         `protolearn fit` command a user runs; training seconds are rank 0's `summary.json` (data loading, rendezvous \
         and scoring outside), wall seconds the whole command, peak memory rank 0's `VmHWM`. On 2 cores, two ranks of \
         one thread against one process of two threads measure what the data-parallel path costs (the gradient or \
         statistics all-reduce through Gloo on the loopback interface, each rank's share of the work), not a speed-up: \
         efficiency = training seconds of 1 x 2 / training seconds of 2 x 1 (1.0: the communication is free).\n",
        config.out.display(),
        crate::speed::cpu_name(),
        config.repeats
    );
    for task in tasks {
        _ = writeln!(md, "## {}\n\n{}\n", task.task, task.setup);
        let names: Vec<&str> = task.modes[0].quality.iter().map(|(n, _)| n.as_str()).collect();
        _ = writeln!(md, "| mode | median training s | median wall s | peak RSS MiB | {} |", names.join(" | "));
        _ = writeln!(md, "| --- | --- | --- | --- |{}", " --- |".repeat(names.len()));
        for mode in &task.modes {
            let quality: Vec<String> =
                names.iter().map(|n| mode.quality.iter().find(|(m, _)| m == n).map_or("-".into(), |(_, v)| format!("{v:.4}"))).collect();
            _ = writeln!(
                md,
                "| {} | {:.2} | {:.2} | {:.0} | {} |",
                mode.mode,
                median(&mode.seconds),
                median(&mode.wall),
                median(&mode.peak_rss_mib),
                quality.join(" | ")
            );
        }
        let ratio = median(&task.modes[0].seconds) / median(&task.modes[1].seconds);
        let memory = median(&task.modes[1].peak_rss_mib) / median(&task.modes[0].peak_rss_mib);
        _ = writeln!(
            md,
            "\nTraining-time ratio (first row / second row): {ratio:.2}; peak memory of the second row / first: {memory:.2}.\n"
        );
    }
    md
}
