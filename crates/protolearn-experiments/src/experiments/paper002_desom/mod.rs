//! Paper 002 (DESOM), Sec. 5: k-means, SOM, AE+k-means, AE+SOM, DESOM and ConvDESOM on MNIST
//! and Fashion-MNIST (train split -> test split): Tables 7-12 with the paper's values beside
//! ours, the decoded prototype maps (Figs. 15-16), a U-matrix and DESOM learning curves (Fig. 6).

pub(crate) mod evaluate;
pub(crate) mod models;
pub(crate) mod report;

use super::image_sets::ImageSet;
use super::results::Results;
use crate::context::RunContext;
use crate::report::Section;
use anyhow::{Context, Result};
use evaluate::evaluate;
use models::{Encoder, Encoders, Inputs, Model};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{ConvConfig, DenseConfig};
use protolearn_metrics::{Grid, ImageShape};
use protolearn_train::desom::{DesomRecord, Phase};
use protolearn_train::optim::OptimizerConfig;
use report::KeptView;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::Instant;

/// What the paper-002 tables (here, the sweeps, paper 004's Table 1) say about their two NMI
/// columns.
pub(crate) const NMI_NORMALISATIONS: &str = "NMI is reported in both normalisations. `NMI` is the arithmetic one, \
    I / ((H(Q) + H(Y)) / 2), which the paper's Appendix 1 defines; `NMI geom.` is I / sqrt(H(Q) H(Y)), scikit-learn's \
    default before version 0.22 (December 2019). The authors' code (FlorentF9/DESOM) calls scikit-learn's \
    `normalized_mutual_info_score` with its defaults and names no version, so its numbers are arithmetic if computed \
    with scikit-learn >= 0.22 and geometric before; the geometric value is never below the arithmetic one (mean \
    inequality). The paper's column sits beside the arithmetic one, as its definition says.";

/// The experiment spec (benches/specs/paper002_desom.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `mnist`, `fashion-mnist`.
    pub datasets: Vec<ImageSet>,
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
    /// The convolutional autoencoder (ConvDESOM); its `channels x height x width` is the image
    /// shape of the datasets (PSR, figures) and must equal the dense `input_dim`.
    pub conv: ConvConfig,
    /// Optimizer of DESOM, the AE pretraining and the gradient SOMs (Table 2: Adam, 1e-3).
    pub optimizer: OptimizerConfig,
    /// Minibatch size of the same (Table 2: 256).
    pub batch_size: usize,
    /// k-means of the baselines and of the post-clustering.
    pub kmeans: KMeansSpec,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// The k-means settings (scikit-learn's defaults: 300 Lloyd iterations, tolerance 1e-4).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansSpec {
    /// Lloyd iterations at most.
    pub max_iter: usize,
    /// Relative tolerance on the centroid shift.
    pub tol: f64,
    /// Restarts of the post-clustering of the map prototypes (Table 11).
    pub post_n_init: usize,
}

impl Spec {
    /// The per-sample image shape `(channels, height, width)`, checked against the dense AE.
    pub fn image(&self) -> Result<ImageShape> {
        let c = &self.conv;
        let pixels = c.channels * c.height * c.width;
        if pixels != self.dense.input_dim {
            anyhow::bail!(
                "spec: dense.input_dim = {} but conv is {}x{}x{} = {pixels} values per image; they must agree",
                self.dense.input_dim,
                c.channels,
                c.height,
                c.width
            );
        }
        // [C, H, W] row-major is the C planes stacked vertically: a (C*H) x W image.
        Ok(ImageShape { height: (c.channels * c.height) as usize, width: c.width as usize })
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
    /// Iterations of the SOMs of SOM and AE+SOM (paper: 10000; cheap on a CPU): gradient steps,
    /// or sample presentations of the online SOMs.
    pub som_iterations: usize,
    /// `L_R`-only pretraining iterations of the AE of AE+k-means and AE+SOM.
    pub ae_pretrain_iterations: usize,
    /// k-means restarts of the k-means baselines.
    pub kmeans_n_init: usize,
    /// DESOM history interval (iterations).
    pub log_every: usize,
    /// The models that run.
    pub models: Vec<Model>,
    /// The datasets of this preset, if not the spec's `datasets`.
    #[serde(default)]
    pub datasets: Option<Vec<ImageSet>>,
}

/// A report table: title, model rows, (metric key, column name) pairs, decimals.
type TableSpec<'a> = (&'a str, &'a [&'a str], Vec<(&'a str, &'a str)>, usize);

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../../benches/specs/paper002_desom.toml");

/// One row of `history.csv`: a DESOM record of one model, dataset and seed.
#[derive(Debug, Serialize)]
struct HistoryRow {
    dataset: String,
    model: &'static str,
    seed: u64,
    phase: Phase,
    iteration: usize,
    temperature: Option<f64>,
    reconstruction: f64,
    som: Option<f64>,
    total: f64,
    purity: Option<f64>,
    nmi: Option<f64>,
    qe_latent: Option<f64>,
    te_latent: Option<f64>,
    seconds: f64,
}

/// What is kept of the first seed for the figures.
struct Kept {
    views: Vec<KeptView>,
    histories: Vec<(String, Vec<DesomRecord>)>,
    labels: std::collections::BTreeMap<String, Vec<i64>>,
}

/// Appends one value per metric to `results[dataset][model]`.
pub(crate) fn record(results: &mut Results, dataset: &str, model: &str, metrics: &evaluate::Metrics) {
    for (k, v) in metrics {
        results.push(dataset, model, k, *v);
    }
}

/// One dataset on the device: the set models train on and the set they are evaluated on, with
/// the evaluation set's pixels and labels on the host.
pub(crate) struct Loaded {
    /// Training set `[n, C*H*W]` with labels.
    pub train: Dataset,
    /// Evaluation set `[m, C*H*W]` with labels.
    pub test: Dataset,
    /// The evaluation set's pixels, row-major `[m, C*H*W]`.
    pub test_pixels: Vec<f32>,
    /// The evaluation set's labels.
    pub labels: Vec<i64>,
}

/// Loads dataset `name` checked against the spec's image size: train split -> test split, or
/// with `joined` (paper 004, which concatenated them) both splits as training and evaluation set.
pub(crate) fn load(ctx: &RunContext, spec: &Spec, name: ImageSet, joined: bool) -> Result<Loaded> {
    let data = name.load(ctx, spec.dense.input_dim, spec.classes)?;
    let pixels = data.train.shape.iter().skip(1).product::<usize>();
    if pixels as i64 != spec.dense.input_dim {
        anyhow::bail!("{}: {pixels} values per sample, but the spec's dense.input_dim is {}", name.label(), spec.dense.input_dim);
    }
    let test_data = if joined {
        let (a, b) = (&data.train, &data.test);
        let labels = [a.labels.as_deref().context("train labels missing")?, b.labels.as_deref().context("test labels missing")?].concat();
        let shape = [vec![a.shape[0] + b.shape[0]], a.shape[1..].to_vec()].concat();
        protolearn_data::Data::new(format!("{}-all", name.id()), [&a.features[..], &b.features[..]].concat(), shape, Some(labels))?
    } else {
        data.test
    };
    let test = Dataset::from_data(&test_data, ctx.device)?;
    let train = if joined {
        Dataset::new(test.x.shallow_clone(), test.y.as_ref().map(tch::Tensor::shallow_clone))?
    } else {
        Dataset::from_data(&data.train, ctx.device)?
    };
    let labels = test_data.labels.context("test labels missing")?;
    Ok(Loaded { train, test, test_pixels: test_data.features, labels })
}

/// The models of one dataset and seed, fitted in turn, with the autoencoders the later ones reuse
/// (the first AE+ model's, and DESOM's for the DESOM-AE models).
#[derive(Debug, Default)]
pub(crate) struct SeedRun {
    encoders: Encoders,
}

impl SeedRun {
    /// Trains `model` on `inputs` (DESOM's fitted model is kept with `keep_encoder` for the
    /// DESOM-AE models after it; the first AE+ model's for the other AE+ models), evaluates it on `data`'s evaluation set and prints one progress
    /// line. The first AE+ model of the seed records its AE pretraining's seconds and it/s as
    /// model `ae-pretraining`.
    pub(crate) fn fit_evaluate(
        &mut self,
        inputs: &Inputs<'_>,
        model: Model,
        keep_encoder: bool,
        data: &Loaded,
        dataset: &str,
        results: &mut Results,
    ) -> Result<(models::Fitted, evaluate::Metrics, evaluate::View)> {
        let mut fitted = inputs.fit(model, &self.encoders, keep_encoder)?;
        if let Some(encoded) = fitted.encoded.take() {
            self.encoders.keep(encoded);
        }
        if let Some(seconds) = fitted.pretrain_seconds {
            let iterations = inputs.preset.ae_pretrain_iterations;
            println!("  {dataset} seed {}: AE pretraining ({iterations} it.) {seconds:.1} s", inputs.seed);
            let mut m = evaluate::Metrics::new();
            m.insert("seconds".into(), seconds);
            m.insert("it_per_s".into(), iterations as f64 / seconds.max(1e-9));
            record(results, dataset, "ae-pretraining", &m);
        }
        let (metrics, view) = evaluate(&fitted, &data.test_pixels, &data.labels, inputs.spec, inputs.seed)?;
        println!(
            "  {dataset} seed {}: {} {:.1} s, purity {:.3}, NMI {:.3}",
            inputs.seed,
            model.label(inputs.spec),
            fitted.seconds,
            metrics.get("purity").copied().unwrap_or(f64::NAN),
            metrics.get("nmi").copied().unwrap_or(f64::NAN)
        );
        Ok((fitted, metrics, view))
    }
}

/// Runs every model of `preset` on one dataset for every seed.
fn run_dataset(
    ctx: &RunContext,
    spec: &Spec,
    preset: &PresetSpec,
    name: ImageSet,
    results: &mut Results,
    kept: &mut Kept,
    history: &mut Vec<HistoryRow>,
) -> Result<()> {
    let data = load(ctx, spec, name, false)?;
    let dataset = name.id();
    kept.labels.insert(dataset.to_owned(), data.labels.clone());
    let keep_desom_encoder = preset.models.iter().any(|m| m.encoder() == Some(Encoder::Desom));
    for (s, &seed) in preset.seeds.iter().enumerate() {
        let checkpoints = ctx.checkpoints.then(|| ctx.out.join("paper002_desom").join("checkpoints").join(dataset));
        let inputs = Inputs { spec, preset, train: &data.train, test: &data.test, seed, checkpoints, resume: ctx.resume, online: None };
        let mut run = SeedRun::default();
        for &model in &preset.models {
            let keep = keep_desom_encoder && model == Model::Desom;
            let (fitted, metrics, view) = run.fit_evaluate(&inputs, model, keep, &data, dataset, results)?;
            record(results, dataset, model.id(), &metrics);
            history.extend(fitted.history.iter().map(|r| HistoryRow {
                dataset: dataset.to_owned(),
                model: model.id(),
                seed,
                phase: r.phase,
                iteration: r.iteration,
                temperature: r.temperature,
                reconstruction: r.reconstruction,
                som: r.som,
                total: r.total,
                purity: r.purity,
                nmi: r.nmi,
                qe_latent: r.quantization_error,
                te_latent: r.topographic_error,
                seconds: r.seconds,
            }));
            if s == 0 {
                if model == Model::Desom {
                    kept.histories.push((name.label().to_owned(), fitted.history));
                }
                if model.is_map() {
                    kept.views.push(KeptView { dataset: dataset.to_owned(), model: model.id(), label: model.label(spec), view });
                }
            }
        }
    }
    Ok(())
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper002_desom", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    models::check_order(&preset.models)?;
    let dir = ctx.experiment_dir("paper002_desom")?;
    let mut history = Vec::new();
    let mut results = Results::new();
    let mut kept = Kept { views: Vec::new(), histories: Vec::new(), labels: Default::default() };
    let start = Instant::now();
    for &name in preset.datasets.as_ref().unwrap_or(&spec.datasets) {
        run_dataset(ctx, &spec, preset, name, &mut results, &mut kept, &mut history)?;
    }
    crate::context::write_csv(&dir.join("history.csv"), &history)?;
    let wall = start.elapsed().as_secs_f64();
    crate::context::write_json(&dir.join("summary.json"), &results)?;

    let maps = ["som", "ae-som", "desom-ae-som", "desom", "conv-desom", "desom-large"];
    let post = ["som", "ae-som", "desom-ae-som", "desom", "conv-desom"];
    let kmeans = ["kmeans", "ae-kmeans", "desom-ae-kmeans"];
    let all = [&kmeans[..], &maps[..]].concat();
    let classification = [("purity", "Pur"), ("nmi", "NMI"), ("nmi_geo", "NMI geom."), ("acc", "Acc")];
    let mut body = format!(
        "Settings (benches/specs/paper002_desom.toml, preset {}): seeds {:?}, {} iterations for DESOM, {} for the SOMs \
         (paper: 10000 each), {} AE pretraining iterations for AE+k-means / AE+SOM, k-means n_init {}, models {:?}; \
         device {:?}, {} threads; {wall:.0} s in all. Trained on the 60000 training images, every number on the 10000 \
         test images; mean ± std over seeds (a single value for one seed). Paper values: mean ± std over 10 runs.\n\n\
         {NMI_NORMALISATIONS}\n\n",
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
        ("Table 7: clustering with 64 clusters (purity, NMI)", &all, vec![("purity", "Pur"), ("nmi", "NMI"), ("nmi_geo", "NMI geom.")], 3),
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
        ("Table 10: prototype sharpness ratio (mean gradient norm of the prototype images)", &maps, vec![("psr", "PSR")], 3),
        (
            "Table 11: post-clustering of the 8x8 prototypes into #classes groups (+KM: k-means, +HC: Ward)",
            &post,
            vec![
                ("km10_purity", "+KM Pur"),
                ("km10_nmi", "+KM NMI"),
                ("km10_nmi_geo", "+KM NMI geom."),
                ("km10_acc", "+KM Acc"),
                ("hc_purity", "+HC Pur"),
                ("hc_nmi", "+HC NMI"),
                ("hc_nmi_geo", "+HC NMI geom."),
                ("hc_acc", "+HC Acc"),
            ],
            3,
        ),
        (
            "Table 11 (baselines): k-means with k = #classes in the same space",
            &kmeans,
            vec![("k10_purity", "Pur"), ("k10_nmi", "NMI"), ("k10_nmi_geo", "NMI geom."), ("k10_acc", "Acc")],
            3,
        ),
        ("Table 11 (1-D map): DESOM on a #classes x 1 map", &["desom-line"], classification.to_vec(), 3),
        (
            "Table 12: training time (paper: RTX 2080, MNIST; ours: this device; AE+ rows include the pretraining)",
            &["ae-pretraining", "kmeans", "som", "ae-kmeans", "ae-som", "desom", "conv-desom", "desom-large", "desom-line"],
            vec![("seconds", "seconds"), ("it_per_s", "it/s")],
            1,
        ),
    ];
    let label = |id: &str| match Model::ALL.iter().find(|m| m.id() == id) {
        Some(m) => m.label(&spec),
        None if id == "ae-pretraining" => "AE pretraining".to_owned(),
        None => id.to_owned(),
    };
    for (title, models, metrics, digits) in &sections {
        let _ = write!(body, "### {title}\n\n{}\n", report::table(&results, models, metrics, *digits, &label).markdown());
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
            report::prototype_maps(&dir, "prototype_maps", (spec.grid.rows(), spec.grid.cols()), spec.image()?, &kept.views)?,
        ),
        (
            "Decoded prototypes of the large map (Fig. 17 analogue)",
            report::prototype_maps(&dir, "prototype_maps_large", large, spec.image()?, &kept.views)?,
        ),
        ("DESOM latent U-matrix", report::desom_umatrix(&dir, &kept.views, &kept.labels, spec.classes)?),
        ("DESOM learning curves (Fig. 6 analogue)", report::learning_curves(&dir, &kept.histories)?),
    ];
    for (alt, path) in figures.into_iter().filter_map(|(alt, p)| Some((alt, p?))) {
        let _ = write!(body, "![{alt}]({})\n\n", ctx.link(&path));
    }
    Ok(Section { title: "Paper 002: DESOM benchmark on MNIST and Fashion-MNIST (Tables 7-12)".into(), body })
}
