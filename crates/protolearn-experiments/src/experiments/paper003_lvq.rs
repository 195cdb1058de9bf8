//! Paper 003, experiments 1-2 of its issue: a small CNN (2 conv + pool, 64-d features) on MNIST
//! and Fashion-MNIST with a softmax linear head against RSLVQ, GLVQ, GMLVQ and CELVQ heads
//! trained end to end on the same backbone, seeds and batches: test accuracy, parameter counts,
//! seconds per epoch.

use super::image_sets::ImageSet;
use crate::context::RunContext;
use crate::progress::EpochBar;
use crate::report::{mean_std, Section, Table};
use anyhow::{Context, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::lvq::LvqConfig;
use protolearn_train::lvq::{fit_lvq, fit_softmax, HeadInit, LvqTrainConfig};
use protolearn_train::optim::OptimizerConfig;
use protolearn_train::trainer::LogRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;
use tch::nn;

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
    /// The heads, in report order.
    pub models: Vec<ModelSpec>,
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
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Epochs.
    pub epochs: usize,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_lvq.toml");

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
fn parameters(vs: &nn::VarStore) -> f64 {
    vs.variables().iter().filter(|(name, _)| !name.starts_with("backbone.decoder")).map(|(_, t)| t.numel() as f64).sum()
}

/// Per dataset and model: metric -> one value per seed.
type Results = BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<f64>>>>;

/// The backbone's per-sample input shape, to reshape the flat images.
fn input_shape(spec: &Spec) -> Vec<i64> {
    match &spec.backbone {
        AutoencoderConfig::Conv(c) => vec![c.channels, c.height, c.width],
        AutoencoderConfig::Dense(d) => vec![d.input_dim],
    }
}

/// `data` with every sample reshaped to `shape`.
fn shaped(data: &protolearn_data::Data, shape: &[i64], device: tch::Device) -> Result<Dataset> {
    let flat = Dataset::from_data(data, device)?;
    let full: Vec<i64> = std::iter::once(-1).chain(shape.iter().copied()).collect();
    Ok(Dataset::new(flat.x.f_reshape(full.as_slice())?, flat.y.as_ref().map(tch::Tensor::shallow_clone))?)
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper003_lvq", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir("paper003_lvq")?;
    let shape = input_shape(&spec);
    let pixels: i64 = shape.iter().product();
    let mut results = Results::new();
    let mut history = Vec::new();
    let start = Instant::now();
    for &name in &spec.datasets {
        let data = name.load(ctx, pixels, spec.classes)?;
        let (train, test) = (shaped(&data.train, &shape, ctx.device)?, shaped(&data.test, &shape, ctx.device)?);
        let dataset = name.id();
        for &seed in &preset.seeds {
            let config = LvqTrainConfig {
                optimizer: spec.optimizer,
                batch_size: spec.batch_size,
                epochs: preset.epochs,
                eigenvalue_weight: spec.eigenvalue_weight,
                seed,
                init: HeadInit::Stratified,
                beta: None,
                reject: None,
            };
            for model in &spec.models {
                let started = Instant::now();
                let mut bar = EpochBar::new(format!("{dataset} seed {seed} {}", model.name));
                let (vs, log): (nn::VarStore, Vec<LogRecord>) = match &model.head {
                    None => {
                        let run = fit_softmax(&train, Some(&test), Some(&spec.backbone), spec.classes as i64, &config, &mut bar)?;
                        (run.vs, run.history)
                    }
                    Some(head) => {
                        let run = fit_lvq(&train, Some(&test), Some(&spec.backbone), head, &config, &mut bar)
                            .with_context(|| format!("{dataset}: {}", model.name))?;
                        (run.vs, run.history)
                    }
                };
                let seconds = started.elapsed().as_secs_f64();
                let accuracy = log.last().and_then(|r| r.scalar("test_accuracy")).context("no test accuracy")?;
                println!("  {dataset} seed {seed}: {} test accuracy {accuracy:.4}, {seconds:.1} s", model.name);
                let entry = results.entry(dataset.into()).or_default().entry(model.name.clone()).or_default();
                for (key, value) in
                    [("accuracy", accuracy), ("parameters", parameters(&vs)), ("seconds_per_epoch", seconds / preset.epochs as f64)]
                {
                    entry.entry(key.into()).or_default().push(value);
                }
                for (epoch, r) in log.iter().enumerate() {
                    let value = |c: &str| r.scalar(c).unwrap_or(f64::NAN);
                    history.push(HistoryRow {
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
            }
        }
    }
    crate::context::write_csv(&dir.join("history.csv"), &history)?;
    std::fs::write(dir.join("summary.json"), serde_json::to_string_pretty(&results)?)?;
    let mut table = Table::new(["dataset", "head", "test accuracy", "parameters", "seconds / epoch", "target"]);
    for (dataset, models) in &results {
        for model in &spec.models {
            let Some(m) = models.get(&model.name) else { continue };
            let v = |k: &str| m.get(k).map_or(&[][..], Vec::as_slice);
            let target = match (dataset.as_str(), model.name.as_str()) {
                ("mnist", "RSLVQ" | "GLVQ") => {
                    let mean = protolearn_metrics::mean(v("accuracy")).unwrap_or(f64::NAN);
                    format!(">= 0.990: {}", if mean >= 0.99 { "reached" } else { "not reached" })
                }
                _ => "-".into(),
            };
            table.row([
                dataset.clone(),
                model.name.clone(),
                mean_std(v("accuracy"), 4),
                format!("{:.0}", v("parameters").first().copied().unwrap_or(0.0)),
                mean_std(v("seconds_per_epoch"), 1),
                target,
            ]);
        }
    }
    let heads: Vec<String> = spec
        .models
        .iter()
        .map(|m| format!("{}: {}", m.name, m.head.as_ref().map_or("softmax linear".to_owned(), |h| format!("{:?}", h.loss))))
        .collect();
    let mut body = format!(
        "Settings (benches/specs/paper003_lvq.toml, preset {}): seeds {:?}, {} epochs, batch {}, {:?} lr {}, backbone {:?}; heads {}. \
         Every head starts from the same backbone initialisation of its seed and sees the same batches; prototypes start at \
         class-stratified training samples through the initial backbone. Device {:?}, {} threads; {:.0} s in all. Test accuracy \
         on the test split (paper 003: 99% on MNIST with a small net), mean ± std over seeds.\n\n",
        ctx.preset.name(),
        preset.seeds,
        preset.epochs,
        spec.batch_size,
        spec.optimizer.kind,
        spec.optimizer.lr,
        spec.backbone,
        heads.join("; "),
        ctx.device,
        tch::get_num_threads(),
        start.elapsed().as_secs_f64()
    );
    let _ = write!(
        body,
        "{}\nThe paper's Tiny ImageNet row (ResNet50 + RSLVQ, 67.4%): not run, no offline source of Tiny ImageNet.\n",
        table.markdown()
    );
    Ok(Section { title: "Paper 003: prototype heads on a CNN (MNIST, Fashion-MNIST)".into(), body })
}
