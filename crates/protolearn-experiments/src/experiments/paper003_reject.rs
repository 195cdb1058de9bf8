//! Paper 003, experiment 5 of its issue (Sec. 7.4): reject curves — accuracy of the accepted
//! test samples against the rejection rate — of a GLVQ head with the n-ball (radius) and the
//! relative-similarity rules, against softmax confidence of a softmax head on the same backbone,
//! seeds and batches, on MADELON-style tabular data.

use super::paper003_relevance::TabularData;
use crate::context::RunContext;
use crate::report::{mean_std, Section, Table};
use anyhow::{Context, Result};
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::desom::encode_chunked;
use protolearn_layers::lvq::reject::{fit_radii, inside_a_ball, reject_curve, relative_similarity, softmax_confidence};
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::PrototypeLayer;
use protolearn_plot::{curves, CurvePanel, Layout, Series};
use protolearn_train::lvq::{fit_lvq, fit_softmax, HeadInit, LvqTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use tch::{Kind, Tensor};

/// The experiment spec (benches/specs/paper003_reject.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The data.
    pub data: TabularData,
    /// The backbone shared by both heads (its encoder).
    pub backbone: AutoencoderConfig,
    /// The prototype head.
    pub head: LvqConfig,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Batch size.
    pub batch_size: usize,
    /// The n-ball radius of a prototype: this quantile of the distances of the training samples
    /// it wins.
    pub radius_quantile: f64,
    /// Rejection rates of the curves.
    pub rates: Vec<f64>,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Seeds (data, split and training).
    pub seeds: Vec<u64>,
    /// Epochs.
    pub epochs: usize,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_reject.toml");

/// The reject scores: names and one score per test sample (higher = more confident).
const RULES: [&str; 3] = ["radius (n-balls)", "relative similarity", "softmax confidence"];

/// A host copy of a float tensor.
fn host(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(t.to_kind(Kind::Double).to_device(tch::Device::Cpu))?)
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper003_reject", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir("paper003_reject")?;
    // curves[rule][rate index] = accuracies over seeds.
    let mut curve_values: BTreeMap<&str, Vec<Vec<f64>>> = RULES.iter().map(|&r| (r, vec![Vec::new(); spec.rates.len()])).collect();
    let mut balls: Vec<(f64, f64)> = Vec::new();
    for &seed in &preset.seeds {
        let (train, test) = {
            let (train, test, _) = spec.data.load(seed, ctx.device)?;
            (train, test)
        };
        let config =
            LvqTrainConfig {
                optimizer: spec.optimizer,
                batch_size: spec.batch_size,
                epochs: preset.epochs,
                eigenvalue_weight: 0.0,
                seed,
                init: HeadInit::Stratified,
                beta: None,
                reject: None,
            };
        let lvq = fit_lvq(&train, Some(&test), Some(&spec.backbone), &spec.head, &config, &mut Silent).context("prototype head")?;
        let softmax =
            fit_softmax(&train, Some(&test), Some(&spec.backbone), spec.head.classes, &config, &mut Silent).context("softmax head")?;
        let y = test.y.as_ref().context("labels")?;
        let _guard = tch::no_grad_guard();
        let backbone = lvq.backbone.as_deref().context("a backbone")?;
        let d_train = lvq.head.distances(&encode_chunked(backbone, &train.x)?)?;
        let radii = fit_radii(&d_train, spec.radius_quantile)?;
        let d = lvq.head.distances(&encode_chunked(backbone, &test.x)?)?;
        let lvq_correct: Vec<bool> =
            Vec::<bool>::try_from(lvq.head.predict(&encode_chunked(backbone, &test.x)?)?.eq_tensor(y).to_device(tch::Device::Cpu))?;
        let ratio = (&d / radii.square().clamp_min(f64::from(f32::MIN_POSITIVE)).unsqueeze(0)).amin(-1, false);
        let labels = lvq.head.prototype_labels().context("prototype labels")?;
        let soft_backbone = softmax.backbone.as_deref().context("a backbone")?;
        let logits = softmax.head.logits(&encode_chunked(soft_backbone, &test.x)?);
        let soft_correct: Vec<bool> = Vec::<bool>::try_from(logits.argmax(-1, false).eq_tensor(y).to_device(tch::Device::Cpu))?;
        let scores = [
            (host(&-ratio)?, &lvq_correct),
            (host(&relative_similarity(&d, &labels))?, &lvq_correct),
            (host(&softmax_confidence(&logits))?, &soft_correct),
        ];
        for (rule, (score, correct)) in RULES.iter().zip(&scores) {
            for (i, (_, accuracy)) in reject_curve(score, correct, &spec.rates)?.into_iter().enumerate() {
                curve_values.get_mut(rule).expect("every rule")[i].extend(accuracy);
            }
        }
        let inside = Vec::<bool>::try_from(inside_a_ball(&d, &radii).to_device(tch::Device::Cpu))?;
        let accepted: Vec<bool> = inside.iter().zip(&lvq_correct).filter(|(a, _)| **a).map(|(_, c)| *c).collect();
        let rejected = 1.0 - accepted.len() as f64 / inside.len() as f64;
        balls.push((rejected, accepted.iter().filter(|&&c| c).count() as f64 / accepted.len().max(1) as f64));
        println!(
            "  seed {seed}: accuracy GLVQ {:.3}, softmax {:.3}; the n-balls reject {:.1}%",
            frac(&lvq_correct),
            frac(&soft_correct),
            100.0 * rejected
        );
    }
    let mut table = Table::new(std::iter::once("rejection rate".to_owned()).chain(RULES.iter().map(|r| (*r).to_owned())));
    for (i, rate) in spec.rates.iter().enumerate() {
        table.row(std::iter::once(format!("{rate:.2}")).chain(RULES.iter().map(|r| mean_std(&curve_values[r][i], 3))));
    }
    let means: Vec<(String, Vec<f64>, Vec<f64>)> = RULES
        .iter()
        .map(|r| {
            let (x, y) =
                spec.rates.iter().zip(&curve_values[r]).filter_map(|(&rate, v)| Some((rate, protolearn_metrics::mean(v).ok()?))).unzip();
            ((*r).to_owned(), x, y)
        })
        .collect();
    let panel = CurvePanel::new(means.iter().map(|(n, x, y)| Series::new(n.clone(), x, y)).collect())
        .title("accuracy of the accepted samples")
        .axis_labels("rejection rate", "accuracy");
    let figure = curves(
        dir.join("reject_curves"),
        &Layout::new().title("Reject curves (mean over seeds)").columns(1).panel_size(560, 380),
        &[panel],
    )?;
    let (rejected, kept): (Vec<f64>, Vec<f64>) = balls.into_iter().unzip();
    let mut body = format!(
        "Settings (benches/specs/paper003_reject.toml, preset {}): {}; backbone {:?}, prototype head {:?}, and a softmax linear head on the same \
         backbone config, seeds and batches; {} epochs, batch {}, {:?} lr {}. Radius of a prototype: the {} quantile of the distances of \
         the training samples it wins; the radius score of a sample is -min_k d_k / r_k^2 (>= -1 inside a ball). Seeds {:?}; mean ± std.\n\n{}\n",
        ctx.preset.name(),
        spec.data.describe(),
        spec.backbone,
        spec.head.loss,
        preset.epochs,
        spec.batch_size,
        spec.optimizer.kind,
        spec.optimizer.lr,
        spec.radius_quantile,
        preset.seeds,
        table.markdown()
    );
    let _ = write!(
        body,
        "The n-balls themselves (reject outside every ball) reject {} of the test samples; accuracy on the accepted ones {}.\n\n![Reject curves]({})\n",
        mean_std(&rejected, 3),
        mean_std(&kept, 3),
        ctx.link(&figure.png)
    );
    Ok(Section { title: "Paper 003: reject options (n-balls, relative similarity, softmax confidence)".into(), body })
}

/// The fraction of `true` values.
fn frac(values: &[bool]) -> f64 {
    values.iter().filter(|&&v| v).count() as f64 / values.len().max(1) as f64
}
