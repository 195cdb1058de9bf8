//! Paper 003, experiment 5 of its issue (Sec. 7.4): reject curves — accuracy of the accepted
//! test samples against the rejection rate — of a GLVQ head with the n-ball (radius) and the
//! relative-similarity rules, against softmax confidence of a softmax head on the same backbone,
//! seeds and batches, on MADELON-style tabular data; and the same head trained with a
//! misclassification cost against a reject cost (a learned threshold) vs a post-hoc threshold.

use super::head_analysis::{host, reject_scores, BallOutcome};
use super::heads::{self, HeadTraining};
use super::paper003_relevance::TabularData;
use crate::context::RunContext;
use crate::report::{mean_std, Section, Table};
use anyhow::{Context, Result};
use protolearn::config::{LvqSpec, ModelSpec};
use protolearn::families::lvq::LvqModel;
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::AutoencoderConfig;
use protolearn_layers::lvq::reject::{chow_threshold, reject_curve, reject_outcome, relative_similarity, RejectCosts, RejectOutcome};
use protolearn_layers::lvq::LvqConfig;
use protolearn_layers::precision::Precision;
use protolearn_plot::{curves, Curve, CurvePanel, Layout};
use protolearn_train::lvq::HeadInit;
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerConfig;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

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
    /// Reject costs `λr` (with `λe = 1`) a threshold is trained with.
    pub reject_costs: Vec<f64>,
    /// Width of the smooth acceptance and error of the reject cost.
    pub cost_width: f64,
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

/// The reject rules in report order.
const RULES: [&str; 3] = ["n-balls", "relative similarity", "softmax confidence"];

/// Test outcome of one reject cost: the threshold trained with the network, and the plug-in
/// Chow threshold chosen on the training set after plain training.
#[derive(Debug, Default)]
struct CostOutcomes {
    trained: Vec<RejectOutcome>,
    post_hoc: Vec<RejectOutcome>,
}

/// The spec's GLVQ head on its backbone (with reject costs: a threshold trained with them) as
/// the estimator's LVQ spec.
fn lvq_spec(spec: &Spec, epochs: usize, reject: Option<RejectCosts>) -> Result<LvqSpec> {
    let training = head_training(spec, epochs);
    Ok(LvqSpec { reject, ..training.lvq(&spec.head, HeadInit::Stratified, Some(heads::backbone_spec(&spec.backbone)?))? })
}

/// The spec's optimizer, batch and `epochs` (float32, no eigenvalue regulariser).
fn head_training(spec: &Spec, epochs: usize) -> HeadTraining {
    HeadTraining { optimizer: spec.optimizer, batch_size: spec.batch_size, epochs, eigenvalue_weight: 0.0, precision: Precision::Fp32 }
}

/// Relative similarity and correctness of a fitted prototype head on `data`.
fn similarity(model: &LvqModel, data: &Dataset) -> Result<(Vec<f64>, Vec<bool>)> {
    let _guard = tch::no_grad_guard();
    let z = encode_chunked(model.backbone().context("a backbone")?, &data.x)?;
    let d = model.head().distances(&z)?;
    let correct = model.head().predict_of(&d).eq_tensor(data.y.as_ref().context("labels")?).to_device(tch::Device::Cpu);
    Ok((host(&relative_similarity(&d, model.head().labels()))?, Vec::<bool>::try_from(correct)?))
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper003_reject", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let dir = ctx.experiment_dir("paper003_reject")?;
    // curves[rule][rate index] = accuracies over seeds.
    let mut curve_values: BTreeMap<&str, Vec<Vec<f64>>> = RULES.iter().map(|&r| (r, vec![Vec::new(); spec.rates.len()])).collect();
    let mut balls: Vec<BallOutcome> = Vec::new();
    let mut costed: Vec<CostOutcomes> = spec.reject_costs.iter().map(|_| CostOutcomes::default()).collect();
    for &seed in &preset.seeds {
        let (train, test) = {
            let (train, test, _) = spec.data.load(seed, ctx.device)?;
            (train, test)
        };
        let lvq = heads::fit(ModelSpec::Lvq(lvq_spec(&spec, preset.epochs, None)?), seed, &train, Some(&test), &mut Silent)
            .context("prototype head")?;
        let backbone = Some(heads::backbone_spec(&spec.backbone)?);
        let softmax = ModelSpec::Softmax(head_training(&spec, preset.epochs).softmax(backbone)?);
        let softmax = heads::fit(softmax, seed, &train, Some(&test), &mut Silent).context("softmax head")?;
        let mut scores = Vec::new();
        let mut ball = None;
        for (fitted, quantile) in [(&lvq, spec.radius_quantile), (&softmax, 1.0)] {
            let (backbone, head) = heads::head_of(fitted)?;
            let (rules, outcome) = reject_scores(backbone.context("a backbone")?, head, &train.x, &test, quantile)?;
            scores.extend(rules);
            ball = ball.or(outcome);
        }
        let lvq = heads::lvq_model(&lvq)?;
        for rule in &scores {
            for (i, (_, accuracy)) in reject_curve(&rule.score, &rule.correct, &spec.rates)?.into_iter().enumerate() {
                curve_values.get_mut(rule.rule).context("a known rule")?[i].extend(accuracy);
            }
        }
        let ball = ball.context("a prototype head has n-balls")?;
        balls.push(ball);
        let (train_rs, train_correct) = similarity(lvq, &train)?;
        let (test_rs, test_correct) = similarity(lvq, &test)?;
        for (&reject, outcome) in spec.reject_costs.iter().zip(&mut costed) {
            let costs = RejectCosts { error: 1.0, reject, width: spec.cost_width };
            let theta = chow_threshold(&train_rs, &train_correct, &costs)?;
            outcome.post_hoc.push(reject_outcome(&test_rs, &test_correct, theta, &costs)?);
            let trained = ModelSpec::Lvq(lvq_spec(&spec, preset.epochs, Some(costs))?);
            let trained = heads::fit(trained, seed, &train, None, &mut Silent).with_context(|| format!("reject cost {reject}"))?;
            let trained = heads::lvq_model(&trained)?;
            let (rs, correct) = similarity(trained, &test)?;
            outcome.trained.push(reject_outcome(&rs, &correct, trained.reject_threshold().context("a learned threshold")?, &costs)?);
        }
        let accuracy = |c: &[bool]| c.iter().filter(|&&v| v).count() as f64 / c.len().max(1) as f64;
        println!(
            "  seed {seed}: accuracy GLVQ {:.3}, softmax {:.3}; the n-balls reject {:.1}%",
            accuracy(&scores[0].correct),
            accuracy(&scores[2].correct),
            100.0 * ball.rejected
        );
    }
    let mut table = Table::new(std::iter::once("rejection rate".to_owned()).chain(RULES.iter().map(|r| (*r).to_owned())));
    for (i, rate) in spec.rates.iter().enumerate() {
        table.row(std::iter::once(format!("{rate:.2}")).chain(RULES.iter().map(|r| mean_std(&curve_values[r][i], 3))));
    }
    let means: Vec<Curve> = RULES
        .iter()
        .map(|r| {
            let (x, y) =
                spec.rates.iter().zip(&curve_values[r]).filter_map(|(&rate, v)| Some((rate, protolearn_metrics::mean(v).ok()?))).unzip();
            ((*r).to_owned(), x, y)
        })
        .collect();
    let panel = CurvePanel::of_curves(&means).title("accuracy of the accepted samples").axis_labels("rejection rate", "accuracy");
    let figure = curves(
        dir.join("reject_curves"),
        &Layout::new().title("Reject curves (mean over seeds)").columns(1).panel_size(560, 380),
        &[panel],
    )?;
    let mut cost_table = Table::new([
        "reject cost λr (λe = 1)",
        "trained θ: rejected",
        "accepted accuracy",
        "test cost",
        "post-hoc θ: rejected",
        "accepted accuracy",
        "test cost",
    ]);
    for (&reject, outcome) in spec.reject_costs.iter().zip(&costed) {
        let column = |o: &[RejectOutcome], f: fn(&RejectOutcome) -> f64| mean_std(&o.iter().map(f).collect::<Vec<_>>(), 3);
        let kept = |o: &RejectOutcome| o.accepted_accuracy.unwrap_or(f64::NAN);
        cost_table.row([
            format!("{reject}"),
            column(&outcome.trained, |o| o.reject_rate),
            column(&outcome.trained, kept),
            column(&outcome.trained, |o| o.cost),
            column(&outcome.post_hoc, |o| o.reject_rate),
            column(&outcome.post_hoc, kept),
            column(&outcome.post_hoc, |o| o.cost),
        ]);
    }
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
    let (rejected, kept): (Vec<f64>, Vec<f64>) = balls.iter().map(|b| (b.rejected, b.accepted_accuracy)).unzip();
    let _ = write!(
        body,
        "The n-balls themselves (reject outside every ball) reject {} of the test samples; accuracy on the accepted ones {}.\n\n![Reject curves]({})\n\n",
        mean_std(&rejected, 3),
        mean_std(&kept, 3),
        ctx.link(&figure.png)
    );
    let _ = write!(
        body,
        "**Training with a misclassification cost and a reject cost** (Sec. 7.4): the same GLVQ head and backbone trained with the \
         expected cost `λe a e + λr (1 - a)` added to the loss, soft acceptance `a = sigmoid((rs - θ) / {w})` on the relative similarity \
         and soft error `e = sigmoid(μ / {w})`, θ learned with the network; against the plain head with the plug-in Chow threshold that \
         minimises the same cost on the training set. Test set, hard decisions (accept iff rs > θ); cost = (λe accepted errors + λr \
         rejections) / n.\n\n{}\n",
        cost_table.markdown(),
        w = spec.cost_width
    );
    Ok(Section { title: "Paper 003: reject options (n-balls, relative similarity, softmax confidence)".into(), body })
}
