//! Paper 004, Sec. 4: DESOM for sequences. LSTM-DESOM and the temporal-convolution DESOM against
//! k-means and the batch SOM on the raw series and the two-stage AE + SOM with the same
//! backbones, on Synthetic Control and UCR/UEA sets: purity, NMI, test QE / TE, training time,
//! decoded prototypes as small line plots per unit and a latent U-matrix.

mod data;
mod figures;
mod models;

use super::paper002_desom::evaluate::host;
use super::results::Results;
use super::significance::{ALPHA, MIN_SEEDS};
use crate::context::RunContext;
use crate::report::{Section, Table};
use anyhow::{Context, Result};
use data::{ControlChartSpec, SequenceSet};
use models::{Fitted, Inputs, Model};
use protolearn_data::tensor::Dataset;
use protolearn_metrics::{
    best_matching_units, normalized_mutual_info, purity, quantization_error_from, topographic_error_from, Contingency, Grid, Matrix,
    NmiAverage,
};
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::optim::OptimizerConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../../benches/specs/paper004_sequences.toml");

/// The experiment spec (benches/specs/paper004_sequences.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The map of every SOM and DESOM (and `k` of k-means).
    pub grid: Grid,
    /// SOM loss weight `γ` (paper 002, Table 2: 1e-3).
    pub gamma: f64,
    /// Optimizer of DESOM and the AE pretraining.
    pub optimizer: OptimizerConfig,
    /// Minibatch size (capped at the train split's size).
    pub batch_size: usize,
    /// The LSTM autoencoder's widths.
    pub lstm: LstmSpec,
    /// The temporal convolutional autoencoder's layers.
    pub temporal: TemporalSpec,
    /// The generated Synthetic Control splits.
    pub synthetic_control: ControlChartSpec,
    /// k-means of the raw-series baseline.
    pub kmeans: FeatureKMeans,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// Widths of the LSTM autoencoder (its steps and features come from the data).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmSpec {
    /// Encoder layer widths.
    pub hidden: Vec<i64>,
    /// Code size `L`.
    pub latent_dim: i64,
    /// Decoder fed the reversed input (teacher forcing).
    pub conditional: bool,
}

/// Layers of the temporal convolutional autoencoder (its steps and features come from the data).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemporalSpec {
    /// Filters per block (dilation `2^i`).
    pub filters: Vec<i64>,
    /// Kernel size.
    pub kernel_size: i64,
    /// Max-pooling factor.
    pub pool: i64,
    /// Code size `L`.
    pub latent_dim: i64,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// The sets that run.
    pub datasets: Vec<SequenceSet>,
    /// Joint DESOM iterations.
    pub iterations: usize,
    /// `L_R`-only iterations of the AE + SOM autoencoders.
    pub pretrain_iterations: usize,
    /// Passes of the batch SOMs.
    pub som_iterations: usize,
    /// DESOM history interval.
    pub log_every: usize,
}

/// One row of `history.csv`.
#[derive(Debug, Serialize)]
struct HistoryRow {
    dataset: &'static str,
    model: &'static str,
    seed: u64,
    iteration: usize,
    reconstruction: f64,
    som: Option<f64>,
    purity: Option<f64>,
    nmi: Option<f64>,
}

/// Test-set metrics of one fitted model: purity and NMI of the BMU (nearest prototype)
/// assignments, QE and (maps) TE in the assignment space; with the BMUs.
fn evaluate(fitted: &Fitted, model: Model, labels: &[i64], grid: &Grid) -> Result<(BTreeMap<&'static str, f64>, Vec<usize>)> {
    let (test, prototypes) = (host(&fitted.test)?, host(&fitted.prototypes)?);
    let dim = fitted.prototypes.size()[1] as usize;
    let best = best_matching_units(Matrix::new(&test, test.len() / dim, dim)?, Matrix::new(&prototypes, prototypes.len() / dim, dim)?)?;
    let bmus: Vec<usize> = best.iter().map(|b| b.first.unit).collect();
    let table = Contingency::new(labels, &bmus)?;
    let mut m = BTreeMap::new();
    m.insert("purity", purity(&table));
    m.insert("nmi", normalized_mutual_info(&table, NmiAverage::Arithmetic));
    m.insert("nmi_geo", normalized_mutual_info(&table, NmiAverage::Geometric));
    m.insert("qe", quantization_error_from(&best)?);
    if model.is_map() {
        m.insert("te", topographic_error_from(&best, grid)?);
    }
    m.insert("seconds", fitted.seconds);
    Ok((m, bmus))
}

/// Runs every model on one set for every seed.
fn run_set(
    ctx: &RunContext,
    spec: &Spec,
    preset: &PresetSpec,
    set: SequenceSet,
    results: &mut Results,
    history: &mut Vec<HistoryRow>,
    dir: &std::path::Path,
) -> Result<Vec<std::path::PathBuf>> {
    let split = set.load(ctx, &spec.synthetic_control)?;
    let train = Dataset::from_data(&split.train, ctx.device)?;
    let test = Dataset::from_data(&split.test, ctx.device)?;
    let labels = split.test.labels.clone().context("test labels missing")?;
    let (steps, dims) = split.steps_dims();
    println!(
        "  {}: train {} / test {} series, {steps} steps x {dims} dims, {} classes",
        set.id(),
        train.n_samples(),
        test.n_samples(),
        split.classes.len()
    );
    let mut drawn = Vec::new();
    for (s, &seed) in preset.seeds.iter().enumerate() {
        let inputs = Inputs { spec, preset, split: &split, train: &train, test: &test, seed };
        let mut kept = Vec::new();
        for model in Model::ALL {
            let fitted = inputs.fit(model)?;
            let (metrics, bmus) = evaluate(&fitted, model, &labels, &spec.grid)?;
            println!(
                "  {} seed {seed}: {} {:.1} s, purity {:.3}, NMI {:.3}",
                set.id(),
                model.label(),
                fitted.seconds,
                metrics["purity"],
                metrics["nmi"]
            );
            for (k, v) in &metrics {
                results.push(set.id(), model.id(), k, *v);
            }
            history.extend(fitted.history.iter().map(|r| HistoryRow {
                dataset: set.id(),
                model: model.id(),
                seed,
                iteration: r.iteration,
                reconstruction: r.reconstruction,
                som: r.som,
                purity: r.purity,
                nmi: r.nmi,
            }));
            if s == 0 && model.is_map() {
                kept.push((model, fitted, bmus));
            }
        }
        if s == 0 {
            drawn.extend(figures::draw(dir, set.id(), &split, &spec.grid, &kept, &labels)?);
        }
    }
    Ok(drawn)
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper004_sequences", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir("paper004_sequences")?;
    let start = Instant::now();
    let (mut results, mut history, mut drawn) = (Results::new(), Vec::new(), Vec::new());
    for &set in &preset.datasets {
        drawn.extend(run_set(ctx, &spec, preset, set, &mut results, &mut history, &dir)?);
    }
    crate::context::write_csv(&dir.join("history.csv"), &history)?;
    crate::context::write_json(&dir.join("summary.json"), &results)?;
    let wall = start.elapsed().as_secs_f64();
    let mut body = format!(
        "Settings (benches/specs/paper004_sequences.toml, preset {}): seeds {:?}, sets {:?}; {}x{} map for every model \
         (k-means: k = {}); DESOM {} iterations, AE pretraining {} iterations, batch SOM {} passes; LSTM {:?}, temporal \
         convolutions {:?}; device {:?}, {} threads; {wall:.0} s in all. Trained on each train split, every number on the \
         test split (QE in the assignment space: raw standardised series for k-means / SOM, the latent codes for the \
         others); mean ± std over seeds. The paper proposes these models without measuring them: there is no paper \
         column.\n\n",
        ctx.preset.name(),
        preset.seeds,
        preset.datasets.iter().map(|d| d.id()).collect::<Vec<_>>(),
        spec.grid.rows(),
        spec.grid.cols(),
        spec.grid.n_units(),
        preset.iterations,
        preset.pretrain_iterations,
        preset.som_iterations,
        spec.lstm,
        spec.temporal,
        ctx.device,
        tch::get_num_threads(),
    );
    let _ = write!(
        body,
        "### Clustering and map quality on the test splits\n\n`NMI`: arithmetic normalisation, I / ((H(Q) + H(Y)) / 2); \
         `NMI geom.`: I / sqrt(H(Q) H(Y)), scikit-learn's default before 0.22 (the paper does not say which it used).\n\n{}\n",
        table(&results).markdown()
    );
    body.push_str(&joint_vs_two_stage(&results)?);
    body.push_str(
        "Figures (first seed): each map's prototypes as series, one panel per unit in map order (row by row), the \
         first 3 dimensions; decoded prototypes for the deep models (the LSTM decodes the full T steps, free-running); \
         panel title: the majority class of the test series the unit wins and their count. Then the U-matrices of the \
         five maps with the test hits, coloured by majority class.\n\n",
    );
    for path in &drawn {
        let _ = write!(body, "![{}]({})\n\n", path.file_stem().map(|s| s.to_string_lossy()).unwrap_or_default(), ctx.link(path));
    }
    Ok(Section { title: "Paper 004: DESOM for sequences (LSTM-DESOM, temporal-convolution DESOM)".into(), body })
}

/// Each joint model against its two-stage counterpart (same backbone, set and seeds) on test
/// purity and NMI: with at least [`MIN_SEEDS`] seeds a two-sided Welch t-test at `p <` [`ALPHA`]
/// decides (a ranking one CPU's rounding could flip is "no difference"); with fewer, the
/// means are shown without a verdict.
fn joint_vs_two_stage(results: &Results) -> Result<String> {
    let pairs = [(Model::LstmDesom, Model::LstmAeSom), (Model::TemporalDesom, Model::TemporalAeSom)];
    let mut t =
        Table::new(["dataset", "joint", "two-stage", "metric", "joint (mean ± std)", "two-stage (mean ± std)", "Welch p", "verdict"]);
    let mut verdicts = BTreeMap::<&str, usize>::new();
    for dataset in results.datasets() {
        for (joint, two_stage) in pairs.iter().filter(|(j, s)| results.has(dataset, j.id()) && results.has(dataset, s.id())) {
            for metric in ["purity", "nmi"] {
                let (a, b) = (results.values(dataset, joint.id(), metric), results.values(dataset, two_stage.id(), metric));
                if a.is_empty() || b.is_empty() {
                    continue;
                }
                let (p, verdict) = if a.len().min(b.len()) >= MIN_SEEDS {
                    let p = protolearn_metrics::welch_t_test(a, b)?.p_value;
                    let higher = protolearn_metrics::mean(a)? > protolearn_metrics::mean(b)?;
                    let verdict = match (p < ALPHA, higher) {
                        (false, _) => "no difference",
                        (true, true) => "joint higher",
                        (true, false) => "two-stage higher",
                    };
                    *verdicts.entry(verdict).or_default() += 1;
                    (format!("{p:.3}"), verdict)
                } else {
                    ("-".to_owned(), "fewer than 3 seeds")
                };
                t.row([
                    dataset.to_owned(),
                    joint.label().to_owned(),
                    two_stage.label().to_owned(),
                    metric.to_owned(),
                    results.mean_std(dataset, joint.id(), metric, 3).unwrap_or_default(),
                    results.mean_std(dataset, two_stage.id(), metric, 3).unwrap_or_default(),
                    p,
                    verdict.to_owned(),
                ]);
            }
        }
    }
    let counts = match verdicts.is_empty() {
        true => format!("With fewer than {MIN_SEEDS} seeds no comparison is tested."),
        false => {
            format!("Over the tested comparisons: {}.", verdicts.iter().map(|(v, n)| format!("{v} {n}")).collect::<Vec<_>>().join(", "))
        }
    };
    Ok(format!(
        "### Joint training against two-stage training\n\nEach DESOM against the AE + SOM with the same backbone: test \
         purity and NMI over seeds, two-sided Welch t-test at p < {ALPHA} (\"no difference\" otherwise: such a ranking \
         can flip with a seed or with another CPU's rounding). {counts}\n\n{}\n",
        t.markdown()
    ))
}

/// One row per dataset and model: purity, NMI (arithmetic and geometric), QE, TE, seconds.
fn table(results: &Results) -> Table {
    let metrics = [("purity", 3), ("nmi", 3), ("nmi_geo", 3), ("qe", 3), ("te", 3), ("seconds", 1)];
    let mut t = Table::new(["dataset", "model", "Pur", "NMI", "NMI geom.", "QE", "TE", "seconds"]);
    for dataset in results.datasets() {
        for model in Model::ALL.into_iter().filter(|m| results.has(dataset, m.id())) {
            let mut row = vec![dataset.to_owned(), model.label().to_owned()];
            row.extend(
                metrics.iter().map(|(k, digits)| results.mean_std(dataset, model.id(), k, *digits).unwrap_or_else(|| "-".to_owned())),
            );
            t.row(row);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_spec_parses_and_quick_is_a_subset_of_full() {
        let spec: Spec = toml::from_str(SPEC).unwrap();
        assert!(spec.quick.datasets.iter().all(|d| spec.full.datasets.contains(d)));
        assert!(spec.quick.iterations <= spec.full.iterations && spec.quick.seeds.len() <= spec.full.seeds.len());
        assert_eq!(spec.grid.n_units(), 16);
    }

    #[test]
    fn table_has_one_row_per_dataset_and_model() {
        let mut results = Results::new();
        for (model, purity) in [("som", 0.5), ("som", 0.7), ("kmeans", 0.9)] {
            results.push("GunPoint", model, "purity", purity);
        }
        let md = table(&results).markdown();
        assert_eq!(md.lines().count(), 4, "{md}");
        assert!(md.contains("| GunPoint | k-means (raw) | 0.900 | - | - |"), "{md}");
        assert!(md.contains("0.600 ± 0.141"), "{md}");
    }

    #[test]
    fn joint_and_two_stage_are_compared_by_welch_only_with_three_seeds() {
        let mut results = Results::new();
        for (joint, two_stage) in [(0.90, 0.70), (0.91, 0.72), (0.92, 0.71)] {
            results.push("GunPoint", "lstm-desom", "purity", joint);
            results.push("GunPoint", "lstm-ae-som", "purity", two_stage);
            // NMI: the same means up to noise, no difference.
        }
        for (joint, two_stage) in [(0.40, 0.43), (0.42, 0.41), (0.44, 0.42)] {
            results.push("GunPoint", "lstm-desom", "nmi", joint);
            results.push("GunPoint", "lstm-ae-som", "nmi", two_stage);
        }
        results.push("Coffee", "temporal-desom", "purity", 0.9);
        results.push("Coffee", "temporal-ae-som", "purity", 0.8);
        let text = joint_vs_two_stage(&results).unwrap();
        assert!(text.contains("| GunPoint | LSTM-DESOM | LSTM-AE + SOM | purity | 0.910 ± 0.010 | 0.710 ± 0.010 |"), "{text}");
        assert!(text.contains("| joint higher |") && text.contains("| no difference |"), "{text}");
        assert!(text.contains("| Coffee | TCN-DESOM | TCN-AE + SOM | purity | 0.900 | 0.800 | - | fewer than 3 seeds |"), "{text}");
        assert!(text.contains("Over the tested comparisons: joint higher 1, no difference 1."), "{text}");
    }
}
