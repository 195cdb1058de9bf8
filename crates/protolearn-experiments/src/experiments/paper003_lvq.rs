//! Paper 003, experiments 1-2 of its issue: a small CNN (2 conv + pool, 64-d features) on MNIST
//! and Fashion-MNIST with a softmax linear head against RSLVQ, GLVQ, GMLVQ and CELVQ heads
//! trained end to end on the same backbone, seeds and batches: test accuracy, parameter counts,
//! seconds per epoch; on each trained model the reject curves of its rules (experiment 5) and
//! its accuracy under FGSM / PGD (experiment 6); and the seconds per epoch of the same network
//! in PyTorch on the same machine. Every model is an estimator model spec
//! ([`estimator_spec`]: an LVQ head or the softmax baseline on the CNN) fitted through
//! [`protolearn::Estimator::fit_tensors`]. The same code runs experiment 3 (`paper003_kernel`: models that
//! differ in their backbone's convolutions) with another spec.

use super::head_analysis::{
    masking_checks, reject_scores, robustness, transfer_examples, AttackRow, BallOutcome, MaskingChecks, RobustnessSpec,
};
use super::heads::{self, HeadTraining};
use super::image_sets::ImageSet;
use super::results::Results;
use crate::context::RunContext;
use crate::progress::EpochBar;
use crate::report::{mean_std, Section, Table};
use anyhow::{Context, Result};
use protolearn::config::ModelSpec as EstimatorModel;
use protolearn::Fitted;
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::lvq::reject::reject_curve;
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::precision::Precision;
use protolearn_plot::{curves, Curve, CurvePanel, Layout};
use protolearn_train::classifier::ClassifierRecord;
use protolearn_train::lvq::HeadInit;
use protolearn_train::optim::OptimizerConfig;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;
use tch::Tensor;

/// The experiment spec (benches/specs/paper003_lvq.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `mnist`, `fashion-mnist` (`blob-images` for a smoke test).
    pub datasets: Vec<ImageSet>,
    /// Classes (10).
    pub classes: usize,
    /// The backbone (its encoder; a convolutional config's image shape is the datasets').
    pub backbone: AutoencoderConfig,
    /// Optimizer of backbone and head.
    pub optimizer: OptimizerConfig,
    /// Minibatch size.
    pub batch_size: usize,
    /// Weight of GMLVQ's eigenvalue regulariser.
    pub eigenvalue_weight: f64,
    /// Number format of the backbone's dense and 3x3-convolution products, for every model
    /// (default `fp32`; `bf16`: bfloat16 products, float32 weights, heads and losses; the
    /// kernel-prototype convolutions stay float32).
    #[serde(default)]
    pub precision: Precision,
    /// The heads, in report order.
    pub models: Vec<ModelSpec>,
    /// Reject curves of every trained model on the test set.
    #[serde(default)]
    pub reject: Option<RejectSpec>,
    /// FGSM / PGD on the first `attack_samples` test samples of every trained model.
    #[serde(default)]
    pub robustness: Option<RobustnessSpec>,
    /// Models timed again in PyTorch (`benches/python/paper003_cnn.py`), model name -> the
    /// script's head (`softmax`, `glvq`); on the first dataset (MNIST / Fashion-MNIST only) and
    /// the first seed.
    #[serde(default)]
    pub pytorch: BTreeMap<String, String>,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// One head: a name and its configuration (`None`: the softmax linear head).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Row name.
    pub name: String,
    /// The prototype head; absent for the softmax baseline.
    #[serde(default)]
    pub head: Option<LvqConfig>,
    /// This model's backbone instead of the spec's.
    #[serde(default)]
    pub backbone: Option<AutoencoderConfig>,
    /// Where a prototype head's prototypes start (default: class-stratified samples).
    #[serde(default)]
    pub init: HeadInit,
}

/// The reject curves of every model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectSpec {
    /// Rejection rates of the curves.
    pub rates: Vec<f64>,
    /// A prototype's radius: this quantile of the distances of the training samples it wins.
    pub radius_quantile: f64,
    /// The first training samples the radii are fitted on.
    pub radius_samples: i64,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Epochs.
    pub epochs: usize,
    /// Test samples attacked per model (0: no robustness study).
    #[serde(default)]
    pub attack_samples: i64,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_lvq.toml");

/// The PyTorch twin of the CNN and its heads.
const PYTORCH_SCRIPT: &str = include_str!("../../../../benches/python/paper003_cnn.py");

/// One point of a reject curve (`reject.csv`).
#[derive(Debug, Serialize)]
struct RejectRow<'a> {
    dataset: &'a str,
    model: &'a str,
    seed: u64,
    rule: &'static str,
    rate: f64,
    accuracy: f64,
}

/// One accuracy under attack (`robustness.csv`).
#[derive(Debug, Serialize)]
struct RobustRow<'a> {
    dataset: &'a str,
    model: &'a str,
    seed: u64,
    attack: &'static str,
    epsilon: f64,
    accuracy: f64,
}

/// One PyTorch measurement (a line of the script's output).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PytorchRow {
    head: String,
    seconds_per_epoch: f64,
    test_accuracy: f64,
    threads: i64,
    torch: String,
}

/// One row of `history.csv`.
#[derive(Debug, Serialize)]
struct HistoryRow<'a> {
    dataset: &'a str,
    model: &'a str,
    seed: u64,
    epoch: usize,
    loss: f64,
    train_accuracy: f64,
    test_accuracy: f64,
    seconds: f64,
}

/// Trainable parameters of the encoder and the head (the unused decoder of a convolutional
/// autoencoder config is not counted).
fn parameters(fitted: &Fitted) -> f64 {
    let tensors = fitted.trained().named_tensors();
    tensors.iter().filter(|(name, _)| !name.starts_with("backbone.decoder")).map(|(_, t)| t.numel() as f64).sum()
}

/// `data` with every sample reshaped to `shape`.
fn shaped(data: &protolearn_data::Data, shape: &[i64], device: tch::Device) -> Result<Dataset> {
    let flat = Dataset::from_data(data, device)?;
    let full: Vec<i64> = std::iter::once(-1).chain(shape.iter().copied()).collect();
    Ok(Dataset::new(flat.x.f_reshape(full.as_slice())?, flat.y.as_ref().map(tch::Tensor::shallow_clone))?)
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    run_spec(ctx, "paper003_lvq", SPEC, "Paper 003: prototype heads on a CNN (MNIST, Fashion-MNIST)")
}

/// Everything a run collects.
#[derive(Default)]
struct Collected<'a> {
    results: Results,
    history: Vec<HistoryRow<'a>>,
    reject: Vec<RejectRow<'a>>,
    balls: BTreeMap<(String, String), Vec<BallOutcome>>,
    robust: Vec<RobustRow<'a>>,
    /// The transfer source's PGD examples of every (dataset, seed), per check radius.
    transfer: BTreeMap<(&'a str, u64), Vec<(f64, Tensor)>>,
    pytorch: BTreeMap<String, std::result::Result<Vec<PytorchRow>, String>>,
}

/// What `model` fits, as the estimator's model spec (the `[model]` table of a user's
/// `MODEL.toml`): an LVQ head or the softmax baseline on the model's backbone, with the spec's
/// epochs, batch, Adam rate, precision and seed.
pub fn estimator_spec(spec: &Spec, preset: &PresetSpec, model: &ModelSpec) -> Result<EstimatorModel> {
    let training = HeadTraining {
        optimizer: spec.optimizer,
        batch_size: spec.batch_size,
        epochs: preset.epochs,
        eigenvalue_weight: spec.eigenvalue_weight,
        precision: spec.precision,
    };
    let backbone =
        heads::backbone_spec(model.backbone.as_ref().unwrap_or(&spec.backbone)).with_context(|| format!("model {}", model.name))?;
    Ok(match &model.head {
        None => EstimatorModel::Softmax(training.softmax(Some(backbone))?),
        Some(head) => EstimatorModel::Lvq(training.lvq(head, model.init, Some(backbone))?),
    })
}

/// Fits one model of the spec on `train` through the estimator (evaluated on `test` every epoch).
fn train_model(
    spec: &Spec,
    preset: &PresetSpec,
    model: &ModelSpec,
    seed: u64,
    (train, test): (&Dataset, &Dataset),
    label: String,
) -> Result<Fitted> {
    heads::fit(estimator_spec(spec, preset, model)?, seed, train, Some(test), &mut EpochBar::new(label))
}

/// The reject curves and the accuracies under attack of one trained model.
#[allow(clippy::too_many_arguments)]
fn analyse<'a>(
    spec: &Spec,
    preset: &PresetSpec,
    trained: &Fitted,
    (train, test): (&Dataset, &Dataset),
    (dataset, model, seed): (&'a str, &'a str, u64),
    out: &mut Collected<'a>,
) -> Result<()> {
    let (backbone, head) = heads::head_of(trained)?;
    let backbone = backbone.context("a backbone")?;
    if let Some(reject) = &spec.reject {
        let radius_x = train.x.narrow(0, 0, reject.radius_samples.min(train.n_samples() as i64));
        let (scores, balls) = reject_scores(backbone, head, &radius_x, test, reject.radius_quantile)?;
        for rule in &scores {
            for (rate, accuracy) in reject_curve(&rule.score, &rule.correct, &reject.rates)? {
                if let Some(accuracy) = accuracy {
                    out.reject.push(RejectRow { dataset, model, seed, rule: rule.rule, rate, accuracy });
                }
            }
        }
        if let Some(b) = balls {
            out.balls.entry((dataset.into(), model.into())).or_default().push(b);
        }
    }
    if let (Some(attacks), n) = (&spec.robustness, preset.attack_samples) {
        if n > 0 {
            let n = n.min(test.n_samples() as i64);
            let subset = Dataset::new(test.x.narrow(0, 0, n), test.y.as_ref().map(|y| y.narrow(0, 0, n)))?;
            let mut rows = robustness(backbone, head, &subset, attacks, seed)?;
            if let Some(checks) = &attacks.checks {
                if model == checks.transfer_from {
                    out.transfer.insert((dataset, seed), transfer_examples(backbone, head, &subset, attacks, checks, seed)?);
                }
                let transferred = out.transfer.get(&(dataset, seed)).context("the transfer source is the spec's first model")?;
                rows.extend(masking_checks(backbone, head, &subset, attacks, checks, transferred, seed)?);
            }
            for AttackRow { attack, epsilon, accuracy } in rows {
                out.robust.push(RobustRow { dataset, model, seed, attack, epsilon, accuracy });
            }
        }
    }
    Ok(())
}

/// Times the spec's PyTorch models on `name`'s IDX files with this run's threads.
fn pytorch_twin(
    ctx: &RunContext,
    spec: &Spec,
    preset: &PresetSpec,
    name: ImageSet,
    dir: &std::path::Path,
) -> Result<std::result::Result<Vec<PytorchRow>, String>> {
    let Some(idx) = name.idx() else { return Ok(Err("no IDX files (generated data)".into())) };
    let files = ctx.data_dirs.find(idx)?;
    let heads: Vec<&str> = spec.pytorch.values().map(String::as_str).collect();
    let args = [
        "--data".to_owned(),
        files.dir.display().to_string(),
        "--heads".to_owned(),
        heads.join(","),
        "--epochs".to_owned(),
        preset.epochs.to_string(),
        "--batch-size".to_owned(),
        spec.batch_size.to_string(),
        "--lr".to_owned(),
        spec.optimizer.lr.to_string(),
        "--threads".to_owned(),
        tch::get_num_threads().to_string(),
        "--seed".to_owned(),
        preset.seeds.first().copied().unwrap_or(0).to_string(),
    ];
    println!("  {}: timing {} in PyTorch", name.id(), heads.join(", "));
    crate::pytorch::run_script(dir, "paper003_cnn.py", PYTORCH_SCRIPT, &["torch"], &args)
}

/// Runs the experiment `name` with the spec `shipped` (or its override) under `title`.
pub fn run_spec(ctx: &RunContext, name: &str, shipped: &str, title: &str) -> Result<Section> {
    let spec: Spec = ctx.spec(name, shipped)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir(name)?;
    let shape = spec.backbone.input_shape();
    if let Some(m) = spec.models.iter().find(|m| m.backbone.as_ref().is_some_and(|b| b.input_shape() != shape)) {
        anyhow::bail!("model {}: its backbone's input shape differs from the spec's {shape:?}", m.name);
    }
    if let Some(checks) = spec.robustness.as_ref().and_then(|r| r.checks.as_ref()) {
        if spec.models.first().map(|m| &m.name) != Some(&checks.transfer_from) {
            anyhow::bail!(
                "robustness.checks.transfer_from = {:?}: the source of the transfer attack must be the spec's first model",
                checks.transfer_from
            );
        }
    }
    let pixels: i64 = shape.iter().product();
    let mut out = Collected::default();
    let start = Instant::now();
    for &set in &spec.datasets {
        let data = set.load(ctx, pixels, spec.classes)?;
        let (train, test) = (shaped(&data.train, &shape, ctx.device)?, shaped(&data.test, &shape, ctx.device)?);
        let dataset = set.id();
        for &seed in &preset.seeds {
            for model in &spec.models {
                let label = format!("{dataset} seed {seed} {}", model.name);
                let trained = train_model(&spec, preset, model, seed, (&train, &test), label)
                    .with_context(|| format!("{dataset}: {}", model.name))?;
                let seconds = trained.summary().seconds;
                let log = trained.history();
                let accuracy = ClassifierRecord::final_test_accuracy(log)?;
                println!("  {dataset} seed {seed}: {} test accuracy {accuracy:.4}, {seconds:.1} s", model.name);
                for (key, value) in
                    [("accuracy", accuracy), ("parameters", parameters(&trained)), ("seconds_per_epoch", seconds / preset.epochs as f64)]
                {
                    out.results.push(dataset, &model.name, key, value);
                }
                for (epoch, r) in log.iter().enumerate() {
                    let value = |c: &str| r.scalar(c).unwrap_or(f64::NAN);
                    out.history.push(HistoryRow {
                        dataset,
                        model: &model.name,
                        seed,
                        epoch: epoch + 1,
                        loss: value("loss"),
                        train_accuracy: value("accuracy"),
                        test_accuracy: value("test_accuracy"),
                        seconds: r.seconds,
                    });
                }
                analyse(&spec, preset, &trained, (&train, &test), (dataset, &model.name, seed), &mut out)
                    .with_context(|| format!("{dataset}: analysing {}", model.name))?;
            }
        }
        if !spec.pytorch.is_empty() && spec.datasets.first() == Some(&set) {
            out.pytorch.insert(dataset.into(), pytorch_twin(ctx, &spec, preset, set, &dir)?);
        }
    }
    crate::context::write_csv(&dir.join("history.csv"), &out.history)?;
    crate::context::write_csv(&dir.join("reject.csv"), &out.reject)?;
    crate::context::write_csv(&dir.join("robustness.csv"), &out.robust)?;
    let summary = serde_json::json!({ "models": out.results, "balls": out.balls.iter().map(|((d, m), b)| ((format!("{d}/{m}")), b)).collect::<BTreeMap<_, _>>(), "pytorch": out.pytorch.iter().map(|(d, r)| (d.clone(), match r { Ok(rows) => serde_json::json!(rows), Err(why) => serde_json::json!({ "not_run": why }) })).collect::<BTreeMap<_, _>>() });
    crate::context::write_json(&dir.join("summary.json"), &summary)?;
    let mut body = settings(ctx, &spec, preset, name, start.elapsed().as_secs_f64());
    body.push_str(&accuracy_table(&spec, &out.results).markdown());
    body.push_str("\nThe paper's Tiny ImageNet row (ResNet50 + RSLVQ, 67.4%): not run, no offline source of Tiny ImageNet.\n");
    if let Some(reject) = &spec.reject {
        let _ = write!(body, "\n{}", reject_section(ctx, &spec, reject, &out, &dir)?);
    }
    if !out.robust.is_empty() {
        let _ = write!(body, "\n{}", robustness_section(ctx, &spec, preset, &out, &dir)?);
    }
    if !out.pytorch.is_empty() {
        let _ = write!(body, "\n{}", pytorch_section(&spec, &out));
    }
    Ok(Section { title: title.into(), body })
}

/// The settings paragraph.
fn settings(ctx: &RunContext, spec: &Spec, preset: &PresetSpec, name: &str, seconds: f64) -> String {
    let models: Vec<String> = spec
        .models
        .iter()
        .map(|m| {
            let head = m.head.as_ref().map_or("softmax linear".to_owned(), |h| format!("{:?}", h.loss));
            match &m.backbone {
                Some(b) => format!("{}: {head} on {b:?}", m.name),
                None => format!("{}: {head}", m.name),
            }
        })
        .collect();
    format!(
        "Settings (benches/specs/{name}.toml, preset {}): seeds {:?}, {} epochs, batch {}, {:?} lr {}, backbone {:?}; models {}. \
         Every model starts from the same backbone initialisation of its seed and sees the same batches; prototypes start at \
         class-stratified training samples through the initial backbone. Device {:?}, {} threads, {:?} products; {seconds:.0} s in all. Test accuracy \
         on the test split (paper 003: 99% on MNIST with a small net), mean ± std over seeds; seconds per epoch include the \
         initialisation and the test evaluation after every epoch.\n\n",
        ctx.preset.name(),
        preset.seeds,
        preset.epochs,
        spec.batch_size,
        spec.optimizer.kind,
        spec.optimizer.lr,
        spec.backbone,
        models.join("; "),
        ctx.device,
        tch::get_num_threads(),
        spec.precision,
    )
}

/// Accuracy, parameters and time of every model.
fn accuracy_table(spec: &Spec, results: &Results) -> Table {
    let mut table = Table::new(["dataset", "model", "test accuracy", "parameters", "seconds / epoch", "target"]);
    for dataset in results.datasets() {
        for model in spec.models.iter().filter(|m| results.has(dataset, &m.name)) {
            let v = |k: &str| results.values(dataset, &model.name, k);
            let target = match (dataset, model.name.as_str(), &model.backbone) {
                ("mnist", "RSLVQ" | "GLVQ", None) => {
                    let accuracies = v("accuracy");
                    let mean = protolearn_metrics::mean(accuracies).unwrap_or(f64::NAN);
                    let seeds = accuracies.iter().filter(|&&a| a >= 0.99).count();
                    let mean = if mean >= 0.99 { "reached" } else { "not reached" };
                    match accuracies.len() {
                        1 => format!(">= 0.990: {mean} (one seed)"),
                        n => format!(">= 0.990: {mean} by the mean; by {seeds} of {n} seeds"),
                    }
                }
                _ => "-".into(),
            };
            table.row([
                dataset.to_owned(),
                model.name.clone(),
                mean_std(v("accuracy"), 4),
                format!("{:.0}", v("parameters").first().copied().unwrap_or(0.0)),
                mean_std(v("seconds_per_epoch"), 1),
                target,
            ]);
        }
    }
    table
}

/// Mean over seeds of the `value`s of the rows matching `keep`, at each `x` of `xs`.
fn means_at<R>(rows: &[R], xs: &[f64], keep: impl Fn(&R) -> bool, x: impl Fn(&R) -> f64, value: impl Fn(&R) -> f64) -> Vec<Option<f64>> {
    xs.iter()
        .map(|&at| {
            let v: Vec<f64> = rows.iter().filter(|r| keep(r) && x(r) == at).map(&value).collect();
            protolearn_metrics::mean(&v).ok()
        })
        .collect()
}

/// `(series name, xs, means)` of every `(model, key)` pair, points without a value dropped.
type Lines = Vec<Curve>;

/// One panel per dataset of `lines_of(dataset)`, drawn to `dir/stem`.
fn panels(
    ctx: &RunContext,
    spec: &Spec,
    dir: &std::path::Path,
    stem: &str,
    title: &str,
    axes: (&str, &str),
    lines_of: impl Fn(&str) -> Lines,
) -> Result<String> {
    let lines: Vec<(String, Lines)> = spec.datasets.iter().map(|d| (d.label().to_owned(), lines_of(d.id()))).collect();
    let panels: Vec<CurvePanel<'_>> =
        lines.iter().map(|(label, l)| CurvePanel::of_curves(l).title(label.clone()).axis_labels(axes.0, axes.1)).collect();
    let figure = curves(dir.join(stem), &Layout::new().title(title).columns(2).panel_size(520, 380), &panels)?;
    Ok(ctx.link(&figure.png))
}

/// The reject curves of every model and rule, table and figure.
fn reject_section(ctx: &RunContext, spec: &Spec, reject: &RejectSpec, out: &Collected<'_>, dir: &std::path::Path) -> Result<String> {
    let rules = ["n-balls", "relative similarity", "softmax confidence"];
    let mut table = Table::new(
        ["dataset", "model", "rule"].into_iter().map(str::to_owned).chain(reject.rates.iter().map(|r| format!("reject {r:.2}"))),
    );
    let curve = |dataset: &str, model: &str, rule: &str| {
        means_at(&out.reject, &reject.rates, |r| r.dataset == dataset && r.model == model && r.rule == rule, |r| r.rate, |r| r.accuracy)
    };
    for set in &spec.datasets {
        for model in &spec.models {
            for rule in rules {
                let values = curve(set.id(), &model.name, rule);
                if values.iter().all(Option::is_none) {
                    continue;
                }
                let cells = values.iter().map(|v| v.map_or("-".to_owned(), |v| format!("{v:.4}")));
                table.row([set.id().to_owned(), model.name.clone(), rule.to_owned()].into_iter().chain(cells));
            }
        }
    }
    let link = panels(
        ctx,
        spec,
        dir,
        "reject_curves",
        "Reject curves on the test set (mean over seeds)",
        ("rejection rate", "accuracy of the accepted"),
        |d| {
            let mut lines = Lines::new();
            for model in &spec.models {
                for rule in rules {
                    let (x, y): (Vec<f64>, Vec<f64>) =
                        reject.rates.iter().zip(curve(d, &model.name, rule)).filter_map(|(&r, v)| Some((r, v?))).unzip();
                    if !x.is_empty() {
                        // The softmax model's only rule is its softmax confidence: name it once.
                        let name = if rule.starts_with(model.name.as_str()) { rule.to_owned() } else { format!("{} {rule}", model.name) };
                        lines.push((name, x, y));
                    }
                }
            }
            lines
        },
    )?;
    let mut balls = Table::new(["dataset", "model", "rejected by the n-balls", "accuracy inside a ball"]);
    for ((dataset, model), b) in &out.balls {
        let (r, a): (Vec<f64>, Vec<f64>) = b.iter().map(|b| (b.rejected, b.accepted_accuracy)).unzip();
        balls.row([dataset.clone(), model.clone(), mean_std(&r, 3), mean_std(&a, 4)]);
    }
    Ok(format!(
        "**Reject curves** (Sec. 7.4): accuracy of the accepted test samples when the lowest-scoring fraction is rejected; prototype \
         heads by their n-balls (score -min_k d_k / r_k^2, radius = the {} quantile of the winning distances of the first {} training \
         samples) and by the relative similarity of the two nearest prototypes of different classes, the softmax head by its \
         confidence.\n\n{}\n{}\n![Reject curves]({link})\n",
        reject.radius_quantile,
        reject.radius_samples,
        table.markdown(),
        balls.markdown()
    ))
}

/// Accuracy under FGSM / PGD of every model, table and figure.
fn robustness_section(ctx: &RunContext, spec: &Spec, preset: &PresetSpec, out: &Collected<'_>, dir: &std::path::Path) -> Result<String> {
    let attacks = spec.robustness.as_ref().context("robustness settings")?;
    let mut table = Table::new(
        ["dataset", "model", "attack"].into_iter().map(str::to_owned).chain(attacks.epsilons.iter().map(|e| format!("ε = {e}"))),
    );
    let curve = |dataset: &str, model: &str, attack: &str| {
        means_at(
            &out.robust,
            &attacks.epsilons,
            |r| r.dataset == dataset && r.model == model && r.attack == attack,
            |r| r.epsilon,
            |r| r.accuracy,
        )
    };
    for set in &spec.datasets {
        for model in &spec.models {
            for attack in ["fgsm", "pgd"] {
                let cells = curve(set.id(), &model.name, attack).into_iter().map(|v| v.map_or("-".to_owned(), |v| format!("{v:.3}")));
                table.row([set.id().to_owned(), model.name.clone(), attack.to_owned()].into_iter().chain(cells));
            }
        }
    }
    let link = panels(ctx, spec, dir, "robustness", "Accuracy under attack (L-inf, white box)", ("epsilon", "accuracy"), |d| {
        let mut lines = Lines::new();
        for model in &spec.models {
            for attack in ["fgsm", "pgd"] {
                let (x, y): (Vec<f64>, Vec<f64>) =
                    attacks.epsilons.iter().zip(curve(d, &model.name, attack)).filter_map(|(&e, v)| Some((e, v?))).unzip();
                lines.push((format!("{} {attack}", model.name), x, y));
            }
        }
        lines
    })?;
    let mut text = format!(
        "**Robustness** (Sec. 7.3): accuracy on the first {} test samples under FGSM and PGD ({:?}, random start) in the L-inf ball, \
         inputs clipped to {:?}; white box, gradients through head and backbone of the margin `max_{{c != y}} s_c - s_y` of the class \
         scores (softmax: logits; prototype heads: minus the nearest distance of each class), the same objective for every head; \
         through a hard kernel-prototype layer the gradient is its straight-through estimator's (hard values forward, the softmax \
         surrogate's gradient backward: BPDA, Athalye et al. 2018). Mean over seeds.\n\n{}\n![Robustness]({link})\n",
        preset.attack_samples,
        attacks.pgd,
        attacks.clip,
        table.markdown()
    );
    if let Some(checks) = &attacks.checks {
        text.push_str(&masking_table(spec, preset, out, checks));
    }
    Ok(text)
}

/// The gradient-masking checks of every model at the check radii, table and reading.
fn masking_table(spec: &Spec, preset: &PresetSpec, out: &Collected<'_>, checks: &MaskingChecks) -> String {
    let mut table = Table::new([
        "dataset".to_owned(),
        "model".to_owned(),
        "ε".to_owned(),
        "PGD (above)".to_owned(),
        "PGD, restarts".to_owned(),
        format!("transfer from {}", checks.transfer_from),
        "lowest of the three".to_owned(),
        format!("SPSA, first {}", checks.spsa_samples),
        format!("PGD restarts, first {}", checks.spsa_samples),
    ]);
    for set in &spec.datasets {
        for model in &spec.models {
            for &epsilon in &checks.epsilons {
                let mean = |attack: &str| {
                    means_at(
                        &out.robust,
                        &[epsilon],
                        |r| r.dataset == set.id() && r.model == model.name && r.attack == attack,
                        |r| r.epsilon,
                        |r| r.accuracy,
                    )[0]
                };
                let whole = ["pgd", "pgd-restarts", "transfer"].map(mean);
                let lowest = whole.iter().flatten().copied().reduce(f64::min);
                let cell = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.3}"));
                table.row(
                    [set.id().to_owned(), model.name.clone(), format!("{epsilon}")].into_iter().chain(whole.into_iter().map(cell)).chain([
                        cell(lowest),
                        cell(mean("spsa")),
                        cell(mean("pgd-restarts-spsa-samples")),
                    ]),
                );
            }
        }
    }
    format!(
        "\n**Is it robustness or gradient masking?** (Athalye et al. 2018; Carlini et al. 2019, Sec. 5.) A model that resists \
         white-box PGD only because its gradients mislead PGD falls to an attack that does not use them. On the same {} samples: PGD \
         with more steps and random starts ({:?}; a sample counts as broken when any start breaks it), and a transfer attack (the \
         PGD examples above of `{}` — same dataset and seed — replayed on every model); on the first {} samples, gradient-free SPSA \
         ({:?}: directions of ±1 per pixel, forward passes only, so a hard layer is seen as it computes) beside the stronger PGD on \
         the same samples. An accuracy under transfer or SPSA well below the white-box PGD accuracy means the white-box number \
         overstates the robustness. Mean over seeds ({} here).\n\n{}",
        preset.attack_samples,
        checks.pgd,
        checks.transfer_from,
        checks.spsa_samples,
        checks.spsa,
        preset.seeds.len(),
        table.markdown()
    )
}

/// Seconds per epoch of the Rust models against their PyTorch twins.
fn pytorch_section(spec: &Spec, out: &Collected<'_>) -> String {
    let mut table =
        Table::new(["dataset", "model", "protolearn s / epoch", "PyTorch s / epoch", "PyTorch / protolearn", "accuracy (ours / PyTorch)"]);
    let mut notes = Vec::new();
    for (dataset, rows) in &out.pytorch {
        match rows {
            Err(why) => notes.push(format!("{dataset}: PyTorch not run ({why})")),
            Ok(rows) => {
                for (model, head) in &spec.pytorch {
                    let Some(py) = rows.iter().find(|r| &r.head == head) else { continue };
                    let first = |k: &str| out.results.values(dataset, model, k).first().copied().unwrap_or(f64::NAN);
                    table.row([
                        dataset.clone(),
                        model.clone(),
                        format!("{:.1}", first("seconds_per_epoch")),
                        format!("{:.1}", py.seconds_per_epoch),
                        format!("{:.2}", py.seconds_per_epoch / first("seconds_per_epoch")),
                        format!("{:.4} / {:.4}", first("accuracy"), py.test_accuracy),
                    ]);
                    if notes.is_empty() {
                        notes.push(format!("torch {}, {} threads", py.torch, py.threads));
                    }
                }
            }
        }
    }
    format!(
        "**Speed against PyTorch** on the same machine in the same run: the same network, heads, optimizer, batch size and epochs \
         in PyTorch eager (`benches/python/paper003_cnn.py`, written next to the results), first seed; both times include the \
         initialisation and the test evaluation after every epoch. A ratio above 1 means protolearn is faster. {}.\n\n{}",
        notes.join("; "),
        table.markdown()
    )
}
