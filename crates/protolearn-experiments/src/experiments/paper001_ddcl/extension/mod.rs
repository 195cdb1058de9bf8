//! The extension of paper 001's experiments, not the paper's protocol: DDCL on MNIST and
//! Fashion-MNIST (60,000 training images, scored on the test set) with a pretrained autoencoder
//! anchor, against its non-differentiable ablations, the `L_OLS`-only ablation, DeepCluster and
//! two-stage AE + k-means; the identity over every step, the Pearson correlations of `V`, the
//! frozen-encoder descent on pretrained features, learning curves and decoded prototypes.

mod models;
mod report;

use super::history::HistoryRow;
use crate::context::RunContext;
use crate::experiments::image_sets::ImageSet;
use crate::experiments::results::Results;
use anyhow::{Context, Result};
use models::{Inputs, Model};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::ddcl::{DclInput, DdclConfig};
use protolearn_layers::som::Schedule;
use protolearn_metrics::Grid;
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::ddcl::{fit_frozen, DclStart, DdclRecord, FrozenConfig, FrozenDescent, FrozenLoss};
use protolearn_train::desom::{fit_autoencoder, AutoencoderTrainConfig};
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The extension's spec (the `[extension]` table of benches/specs/paper001_ddcl.toml).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// `mnist`, `fashion-mnist` (or `blob-images` for a smoke test).
    pub datasets: Vec<ImageSet>,
    /// Clusters and prototypes `k` (the number of classes).
    pub k: usize,
    /// Values per image (784).
    pub input_dim: i64,
    /// Feature size `L` of the backbone.
    pub latent_dim: i64,
    /// Optimizer of every model (and of the AE pretraining).
    pub optimizer: OptimizerConfig,
    /// Learning rate of the DCL weights.
    pub dcl_lr: f64,
    /// Minibatch size (and the minibatch DCL's `N`).
    pub batch_size: usize,
    /// Reference-set size `N` of the reference DCL.
    pub dcl_size: i64,
    /// Temperature of the soft assignment.
    pub tau: Schedule,
    /// Weight `λ_R` of the reconstruction term of the DDCL family.
    pub reconstruction_weight: f64,
    /// Running-average momentum of the minibatch DCL's prototypes.
    pub running_momentum: f64,
    /// How the DCL starts.
    pub dcl_init: DclStart,
    /// Divide `L_cluster` by the batch's feature variance.
    pub scale_invariant: bool,
    /// k-means refreshed during training (ablation, DeepCluster) and its evaluation.
    pub kmeans: FeatureKMeans,
    /// Restarts of the final k-means of AE + k-means and DESOM AE + k-means.
    pub final_kmeans_n_init: usize,
    /// Reconstruction weight of DeepCluster (0: as published).
    pub deepcluster_reconstruction_weight: f64,
    /// The map of DESOM AE + k-means (paper 002: 8x8).
    pub desom_grid: Grid,
    /// DESOM's `γ` (paper 002: 1e-3).
    pub desom_gamma: f64,
    /// The frozen-encoder descent.
    pub frozen: FrozenSpec,
    /// The quick preset.
    pub quick: PresetSpec,
    /// The full preset.
    pub full: PresetSpec,
}

impl Spec {
    /// The k-means of the two-stage baselines.
    pub fn final_kmeans(&self) -> FeatureKMeans {
        FeatureKMeans { n_init: self.final_kmeans_n_init, ..self.kmeans }
    }
}

/// The frozen-encoder descent: full-batch gradient descent on the DCL alone over the pretrained
/// features of the reference set, one run per learning rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrozenSpec {
    /// Steps per rate.
    pub steps: usize,
    /// Fixed temperature.
    pub tau: f64,
    /// The learning rates, increasing.
    pub lrs: Vec<f64>,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetSpec {
    /// Training seeds.
    pub seeds: Vec<u64>,
    /// Hidden widths of the dense autoencoder `input-hidden-latent`.
    pub hidden: Vec<i64>,
    /// AE pretraining iterations on `L_R` alone (shared by every model of a seed).
    pub pretrain_iterations: usize,
    /// Training epochs of every end-to-end model.
    pub epochs: usize,
    /// Records of the DDCL family per epoch (the learning curves and correlations).
    pub logs_per_epoch: usize,
    /// The models that run.
    pub models: Vec<Model>,
}

/// One row of `frozen.csv`: `L_q` at a step of a frozen-encoder run.
#[derive(Debug, Serialize)]
struct FrozenRow<'a> {
    dataset: &'a str,
    lr: f64,
    step: usize,
    loss: f64,
}

/// What is kept of the first seed for the figures.
#[derive(Default)]
struct Kept {
    histories: Vec<(String, Vec<DdclRecord>)>,
    decoded: Vec<(String, Vec<f32>)>,
    frozen: Vec<(String, Vec<FrozenDescent>)>,
}

/// The frozen-encoder descent on the pretrained reference features of `train`.
fn frozen(spec: &Spec, preset: &PresetSpec, ae: &protolearn_train::desom::AutoencoderRun, train: &Dataset) -> Result<Vec<FrozenDescent>> {
    let z = encode_chunked(ae.backbone.as_ref(), &train.x.narrow(0, 0, spec.dcl_size))?;
    let model = DdclConfig {
        backbone: Inputs::backbone(spec, preset),
        n_prototypes: spec.k as i64,
        hidden: Vec::new(),
        bias: false,
        dcl_input: DclInput::Reference,
        dcl_size: spec.dcl_size,
        feature_norm: Default::default(),
    };
    let config = |lr| FrozenConfig {
        optimizer: OptimizerConfig { kind: OptimizerKind::Sgd, lr },
        steps: spec.frozen.steps,
        tau: spec.frozen.tau,
        loss: FrozenLoss::Quantization,
        seed: 0,
    };
    spec.frozen.lrs.iter().map(|&lr| Ok(fit_frozen(&z, &model, &config(lr))?.descent)).collect()
}

/// Runs every model of `preset` on one dataset for every seed.
fn run_dataset(
    ctx: &RunContext,
    spec: &Spec,
    preset: &PresetSpec,
    name: ImageSet,
    results: &mut Results,
    kept: &mut Kept,
    dir: &std::path::Path,
) -> Result<()> {
    let data = name.load(ctx, spec.input_dim, spec.k)?;
    let train = Dataset::from_data(&data.train, ctx.device)?;
    let test = Dataset::from_data(&data.test, ctx.device)?;
    let dataset = name.id();
    let mut history = Vec::new();
    for (s, &seed) in preset.seeds.iter().enumerate() {
        let start = Instant::now();
        let backbone = Inputs::backbone(spec, preset);
        let ae_config = AutoencoderTrainConfig {
            optimizer: spec.optimizer,
            iterations: preset.pretrain_iterations,
            batch_size: spec.batch_size,
            log_every: preset.pretrain_iterations,
            seed,
        };
        let ae = fit_autoencoder(&train, &backbone, &ae_config, &mut crate::progress::EpochBar::new(format!("{dataset} seed {seed}")))
            .context("AE pretraining")?;
        let pretrain_seconds = start.elapsed().as_secs_f64();
        println!("  {dataset} seed {seed}: AE pretraining ({} it.) {pretrain_seconds:.1} s", preset.pretrain_iterations);
        results.push(dataset, "ae-pretraining", "seconds", pretrain_seconds);
        if s == 0 {
            kept.frozen.push((name.label().to_owned(), frozen(spec, preset, &ae, &train)?));
        }
        let inputs = Inputs { spec, preset, train: &train, test: &test, seed, ae: &ae, label: format!("{dataset} seed {seed}") };
        for &model in &preset.models {
            let outcome = inputs.fit(model).with_context(|| format!("{dataset} seed {seed}: {}", model.id()))?;
            let m = &outcome.metrics;
            println!(
                "  {dataset} seed {seed}: {} {:.1} s, acc {:.3}, NMI {:.3}, ARI {:.3}",
                model.label(),
                m.get("seconds").copied().unwrap_or(f64::NAN),
                m.get("acc").copied().unwrap_or(f64::NAN),
                m.get("nmi").copied().unwrap_or(f64::NAN),
                m.get("ari").copied().unwrap_or(f64::NAN)
            );
            for (k, v) in m {
                results.push(dataset, model.id(), k, *v);
            }
            history.extend(outcome.history.iter().map(|r| (model.id(), seed, *r)));
            if s == 0 {
                if model == Model::Ddcl {
                    kept.histories.push((name.label().to_owned(), outcome.history));
                }
                if let Some(pixels) = outcome.decoded {
                    kept.decoded.push((format!("{}, {}", model.label(), name.label()), pixels));
                }
            }
        }
    }
    let rows = history.iter().map(|(model, seed, record)| HistoryRow::new(dataset, model, *seed, record));
    crate::context::write_csv(&dir.join(format!("history_{dataset}.csv")), rows)?;
    Ok(())
}

/// Runs the extension into `dir/extension` and returns its part of the report.
pub fn run(ctx: &RunContext, spec: &Spec, dir: &std::path::Path) -> Result<String> {
    let preset = ctx.pick(&spec.quick, &spec.full);
    if preset.seeds.is_empty() || preset.models.is_empty() {
        anyhow::bail!("spec: the extension's {} preset needs at least one seed and one model", ctx.preset.name());
    }
    let dir = dir.join("extension");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut results = Results::new();
    let mut kept = Kept::default();
    let start = Instant::now();
    for &name in &spec.datasets {
        run_dataset(ctx, spec, preset, name, &mut results, &mut kept, &dir)?;
    }
    let wall = start.elapsed().as_secs_f64();
    crate::context::write_json(&dir.join("summary.json"), &results)?;
    let frozen_rows: Vec<FrozenRow> = kept
        .frozen
        .iter()
        .flat_map(|(dataset, runs)| {
            runs.iter().flat_map(move |d| d.losses.iter().enumerate().map(move |(step, &loss)| FrozenRow { dataset, lr: d.lr, step, loss }))
        })
        .collect();
    crate::context::write_csv(&dir.join("frozen.csv"), frozen_rows)?;
    report::body(ctx, spec, preset, &results, &kept, &dir, wall)
}
