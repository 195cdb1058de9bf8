//! Paper 002 (DESOM), Sec. 5: k-means, SOM, AE+k-means, AE+SOM, DESOM and ConvDESOM on MNIST
//! and Fashion-MNIST (train split -> test split): Tables 7-12 with the paper's values beside
//! ours, the decoded prototype maps (Figs. 15-16), a U-matrix and DESOM learning curves (Fig. 6).

mod evaluate;
mod models;
mod report;

use crate::context::{Preset, RunContext};
use crate::report::Section;
use anyhow::{Context, Result};
use evaluate::{evaluate, View};
use models::{Encoder, Encoders, Inputs, Model};
use protolearn_data::mnist::{load, IdxDataset, ImageLayout};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{ConvConfig, DenseConfig};
use protolearn_metrics::Grid;
use protolearn_train::desom::DesomRecord;
use report::Results;
use serde::Deserialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

/// The experiment spec (benches/specs/paper002_desom.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `mnist`, `fashion-mnist`.
    pub datasets: Vec<DatasetName>,
    /// The map (paper: 8x8 rectangular).
    pub grid: Grid,
    /// The map of `desom-large` (paper: 20x20, Figs. 4 and 17).
    pub large_grid: Grid,
    /// Clusters of the k-means baseline (paper: 64).
    pub kmeans_k: usize,
    /// Groups of the post-clustering (Table 11: the number of classes).
    pub classes: usize,
    /// SOM loss weight `γ` of DESOM (Table 2: 1e-3).
    pub gamma: f64,
    /// The dense autoencoder (DESOM, AE+k-means, AE+SOM).
    pub dense: DenseConfig,
    /// The convolutional autoencoder (ConvDESOM).
    pub conv: ConvConfig,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// A dataset of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// MNIST digits.
    Mnist,
    /// Fashion-MNIST.
    FashionMnist,
}

impl DatasetName {
    fn idx(self) -> IdxDataset {
        match self {
            DatasetName::Mnist => IdxDataset::Mnist,
            DatasetName::FashionMnist => IdxDataset::FashionMnist,
        }
    }

    fn label(self) -> &'static str {
        match self {
            DatasetName::Mnist => "MNIST",
            DatasetName::FashionMnist => "Fashion-MNIST",
        }
    }
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Training seeds (every model runs once per seed).
    pub seeds: Vec<u64>,
    /// Iterations of DESOM and ConvDESOM (paper: 10000).
    pub iterations: usize,
    /// Iterations of the gradient SOMs of SOM and AE+SOM (paper: 10000; cheap on a CPU).
    pub som_iterations: usize,
    /// `L_R`-only pretraining iterations of the AE of AE+k-means and AE+SOM.
    pub ae_pretrain_iterations: usize,
    /// k-means restarts of the k-means baselines.
    pub kmeans_n_init: usize,
    /// DESOM history interval (iterations).
    pub log_every: usize,
    /// The models that run.
    pub models: Vec<Model>,
}

/// A report table: title, model rows, (metric key, column name) pairs, decimals.
type TableSpec<'a> = (&'a str, &'a [&'a str], Vec<(&'a str, &'a str)>, usize);

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../../benches/specs/paper002_desom.toml");

/// What is kept of the first seed for the figures.
struct Kept {
    views: Vec<(String, String, View)>,
    histories: Vec<(String, Vec<DesomRecord>)>,
    labels: std::collections::BTreeMap<String, Vec<i64>>,
}

/// Appends one value per metric to `results[dataset][model]`.
fn record(results: &mut Results, dataset: &str, model: &str, metrics: &evaluate::Metrics) {
    let entry = results.entry(dataset.to_owned()).or_default().entry(model.to_owned()).or_default();
    for (k, v) in metrics {
        entry.entry(k.clone()).or_default().push(*v);
    }
}

/// Runs every model of `preset` on one dataset for every seed.
fn run_dataset(
    ctx: &RunContext,
    spec: &Spec,
    preset: &PresetSpec,
    name: DatasetName,
    results: &mut Results,
    kept: &mut Kept,
    csv: &mut impl std::io::Write,
) -> Result<()> {
    let data = load(name.idx(), &ctx.data_dirs, ImageLayout::Flat).with_context(|| format!("loading {}", name.label()))?;
    let train = Dataset::from_data(&data.train, ctx.device)?;
    let test = Dataset::from_data(&data.test, ctx.device)?;
    let labels = data.test.labels.clone().context("test labels missing")?;
    let dataset = name.label();
    kept.labels.insert(dataset.to_owned(), labels.clone());
    let keep_desom_encoder = preset.models.iter().any(|m| m.encoder() == Some(Encoder::Desom));
    for (s, &seed) in preset.seeds.iter().enumerate() {
        let inputs = Inputs { spec, preset, train: &train, test: &test, seed };
        let mut encoders = Encoders::default();
        if preset.models.iter().any(|m| m.encoder() == Some(Encoder::Pretrained)) {
            let ae = inputs.pretrain()?;
            println!("  {dataset} seed {seed}: AE pretraining ({} it.) {:.1} s", preset.ae_pretrain_iterations, ae.seconds);
            let mut m = evaluate::Metrics::new();
            m.insert("seconds".into(), ae.seconds);
            m.insert("it_per_s".into(), preset.ae_pretrain_iterations as f64 / ae.seconds.max(1e-9));
            record(results, dataset, "AE pretraining", &m);
            encoders.pretrained = Some(ae);
        }
        for &model in &preset.models {
            let mut fitted = inputs.fit(model, &encoders, keep_desom_encoder && model == Model::Desom)?;
            if let Some(encoded) = fitted.encoded.take() {
                encoders.desom = Some(encoded);
            }
            let (metrics, view) = evaluate(&fitted, &data.test.features, &labels, spec.classes, seed)?;
            println!(
                "  {dataset} seed {seed}: {} {:.1} s, purity {:.3}, NMI {:.3}",
                model.label(),
                fitted.seconds,
                metrics.get("purity").copied().unwrap_or(f64::NAN),
                metrics.get("nmi").copied().unwrap_or(f64::NAN)
            );
            record(results, dataset, model.label(), &metrics);
            for r in &fitted.history {
                let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
                writeln!(
                    csv,
                    "{dataset},{},{seed},{:?},{},{},{},{},{},{},{},{},{},{}",
                    model.label(),
                    r.phase,
                    r.iteration,
                    opt(r.temperature),
                    r.reconstruction,
                    opt(r.som),
                    r.total,
                    opt(r.purity),
                    opt(r.nmi),
                    opt(r.quantization_error),
                    opt(r.topographic_error),
                    r.seconds
                )?;
            }
            if s == 0 {
                if model == Model::Desom {
                    kept.histories.push((dataset.to_owned(), fitted.history));
                }
                if model.is_map() {
                    kept.views.push((dataset.to_owned(), model.label().to_owned(), view));
                }
            }
        }
    }
    Ok(())
}

/// A figure path relative to the report.
fn rel(ctx: &RunContext, p: &Path) -> String {
    p.strip_prefix(&ctx.out).unwrap_or(p).display().to_string()
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper002_desom", SPEC)?;
    let preset = match ctx.preset {
        Preset::Quick => &spec.quick,
        Preset::Full => &spec.full,
    };
    models::check_order(&preset.models)?;
    let dir = ctx.experiment_dir("paper002_desom")?;
    let mut csv = std::io::BufWriter::new(std::fs::File::create(dir.join("history.csv"))?);
    writeln!(csv, "dataset,model,seed,phase,iteration,temperature,reconstruction,som,total,purity,nmi,qe_latent,te_latent,seconds")?;
    let mut results = Results::new();
    let mut kept = Kept { views: Vec::new(), histories: Vec::new(), labels: Default::default() };
    let start = Instant::now();
    for &name in &spec.datasets {
        run_dataset(ctx, &spec, preset, name, &mut results, &mut kept, &mut csv)?;
    }
    csv.flush()?;
    let wall = start.elapsed().as_secs_f64();
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&results)?)?;

    let maps = ["SOM (8x8)", "AE+SOM", "DESOM-AE+SOM", "DESOM (8x8)", "ConvDESOM (8x8)", "DESOM (20x20)"];
    let post = ["SOM (8x8)", "AE+SOM", "DESOM-AE+SOM", "DESOM (8x8)", "ConvDESOM (8x8)"];
    let kmeans = ["k-means (k=64)", "AE+k-means", "DESOM-AE+k-means"];
    let all = [&kmeans[..], &maps[..]].concat();
    let classification = [("purity", "Pur"), ("nmi", "NMI"), ("acc", "Acc")];
    let mut body = format!(
        "Settings (benches/specs/paper002_desom.toml, preset {}): seeds {:?}, {} iterations for DESOM, {} for the SOMs \
         (paper: 10000 each), {} AE pretraining iterations for AE+k-means / AE+SOM, k-means n_init {}, models {:?}; \
         device {:?}, {} threads; {wall:.0} s in all. Trained on the 60000 training images, every number on the 10000 \
         test images; mean ± std over seeds (a single value for one seed). Paper values: mean ± std over 10 runs.\n\n",
        ctx.preset.name(),
        preset.seeds,
        preset.iterations,
        preset.som_iterations,
        preset.ae_pretrain_iterations,
        preset.kmeans_n_init,
        preset.models,
        ctx.device,
        tch::get_num_threads()
    );
    let sections: [TableSpec; 8] = [
        ("Table 7: clustering with 64 clusters (purity, NMI)", &all, vec![("purity", "Pur"), ("nmi", "NMI")], 3),
        (
            "Table 8: SOM quality in original space (decoded prototypes for AE models)",
            &maps,
            vec![("qe", "QE"), ("te", "TE"), ("ce", "CE"), ("tp", "TP")],
            3,
        ),
        (
            "Table 9: SOM quality in latent space",
            &maps,
            vec![("qe_latent", "QE"), ("te_latent", "TE"), ("ce_latent", "CE"), ("tp_latent", "TP")],
            3,
        ),
        ("Table 10: prototype sharpness ratio (28x28, mean gradient norm)", &maps, vec![("psr", "PSR")], 3),
        (
            "Table 11: post-clustering of the 8x8 prototypes into #classes groups (+KM: k-means, +HC: Ward)",
            &post,
            vec![
                ("km10_purity", "+KM Pur"),
                ("km10_nmi", "+KM NMI"),
                ("km10_acc", "+KM Acc"),
                ("hc_purity", "+HC Pur"),
                ("hc_nmi", "+HC NMI"),
                ("hc_acc", "+HC Acc"),
            ],
            3,
        ),
        (
            "Table 11 (baselines): k-means with k = #classes in the same space",
            &kmeans,
            vec![("k10_purity", "Pur"), ("k10_nmi", "NMI"), ("k10_acc", "Acc")],
            3,
        ),
        ("Table 11 (1-D map): DESOM on a #classes x 1 map", &["DESOM (#classes x 1)"], classification.to_vec(), 3),
        (
            "Table 12: training time (paper: RTX 2080, MNIST; ours: this device; AE+ rows include the pretraining)",
            &[
                "AE pretraining",
                "k-means (k=64)",
                "SOM (8x8)",
                "AE+k-means",
                "AE+SOM",
                "DESOM (8x8)",
                "ConvDESOM (8x8)",
                "DESOM (20x20)",
                "DESOM (#classes x 1)",
            ],
            vec![("seconds", "seconds"), ("it_per_s", "it/s")],
            1,
        ),
    ];
    for (title, models, metrics, digits) in &sections {
        let _ = write!(body, "### {title}\n\n{}\n", report::table(&results, models, metrics, *digits).markdown());
    }
    let _ = write!(
        body,
        "### The paper's targets for DESOM 8x8 (preset {}, seeds {:?}, {} iterations)\n\n{}\n",
        ctx.preset.name(),
        preset.seeds,
        preset.iterations,
        report::targets(&results)
    );
    let large = (spec.large_grid.rows(), spec.large_grid.cols());
    let figures = [
        (
            "Decoded prototypes (Figs. 15-16 analogue)",
            report::prototype_maps(&dir, "prototype_maps", (spec.grid.rows(), spec.grid.cols()), &kept.views)?,
        ),
        (
            "Decoded prototypes of the large map (Fig. 17 analogue)",
            report::prototype_maps(&dir, "prototype_maps_large", large, &kept.views)?,
        ),
        ("DESOM latent U-matrix", report::desom_umatrix(&dir, &kept.views, &kept.labels)?),
        ("DESOM learning curves (Fig. 6 analogue)", report::learning_curves(&dir, &kept.histories)?),
    ];
    for (alt, path) in figures.into_iter().filter_map(|(alt, p)| Some((alt, p?))) {
        let _ = write!(body, "![{alt}]({})\n\n", rel(ctx, &path));
    }
    Ok(Section { title: "Paper 002: DESOM benchmark on MNIST and Fashion-MNIST (Tables 7-12)".into(), body })
}
