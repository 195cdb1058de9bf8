//! The digits blocks of paper 001: temperature and separation (block 3), the frozen backbone
//! (block 5, on our pretrained autoencoder's features as a stand-in for CIFAR-10 / ResNet-18),
//! the joint backbone trained from scratch (block 6: DDCL vs its `L_OLS` ablation vs DeepCluster,
//! with and without the remedy against the trivial solution) and streaming (block 6: one pass of
//! non-repeating minibatches, DDCL vs mini-batch k-means).

use super::fit::{constant, labels, scores, DdclSettings, Outcome, Task};
use super::{push, Kept, PresetSpec, Results, Run, Spec};
use crate::progress::EpochBar;
use anyhow::Result;
use protolearn_data::tensor::Dataset;
use protolearn_data::Data;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::ddcl::{DclInput, DdclConfig, FeatureNorm};
use protolearn_train::clustering::fit_minibatch_kmeans;
use protolearn_train::ddcl::{fit_frozen, DdclVariant, FrozenConfig, FrozenLoss};
use protolearn_train::desom::{fit_autoencoder, AutoencoderTrainConfig};
use protolearn_train::kmeans::KMeansFit;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};

/// Classes of the digits (and prototypes `k`).
pub const K: usize = 10;

/// The digits, on the host (for the estimator) and on the run's device.
#[derive(Debug)]
pub struct Digits {
    /// Host copy.
    pub host: Data,
    /// On the device.
    pub data: Dataset,
}

/// A block on the digits.
pub type Block = fn(&Digits, &Spec, &PresetSpec, &mut Results, &mut Kept) -> Result<()>;

/// The digits task of `spec` with progress label `label`.
fn task<'a>(digits: &'a Digits, spec: &'a Spec, preset: &PresetSpec, label: String) -> Task<'a> {
    Task {
        host: &digits.host,
        data: &digits.data,
        net: &spec.digits_net,
        k: K,
        shared: &spec.shared,
        epochs: preset.digits_epochs,
        log_every: spec.digits_log_every,
        label,
    }
}

/// Records a DDCL run's metrics under `block/model` and keeps its history.
fn keep(block: &'static str, model: &str, seed: u64, outcome: Outcome, results: &mut Results, kept: &mut Kept) {
    push(results, &format!("{block}/{model}"), &outcome.metrics);
    if !outcome.history.is_empty() {
        kept.runs.push(Run { block, dataset: "digits".into(), model: model.to_owned(), seed, history: outcome.history });
    }
}

/// The row id of a fixed temperature.
pub fn fixed_id(tau: f64) -> String {
    format!("fixed-{tau}")
}

/// Block 3: DDCL with the remedy at the annealed and fixed temperatures, and the annealed run
/// plus the explicit separation term.
pub fn temperature(digits: &Digits, spec: &Spec, preset: &PresetSpec, results: &mut Results, kept: &mut Kept) -> Result<()> {
    let t = &spec.temperature;
    let base = DdclSettings { tau: t.anneal, ..DdclSettings::fixed(DdclVariant::Ddcl, spec.shared.tau, spec.shared.remedy) };
    let mut settings = vec![("anneal".to_owned(), base)];
    settings.extend(t.fixed.iter().map(|&tau| (fixed_id(tau), DdclSettings { tau: constant(tau), ..base })));
    settings.push(("anneal+separation".to_owned(), DdclSettings { separation_weight: t.separation_weight, ..base }));
    for &seed in &preset.seeds {
        for (id, s) in &settings {
            let outcome = task(digits, spec, preset, format!("temperature {id} seed {seed}")).ddcl(s, seed)?;
            keep("temperature", id, seed, outcome, results, kept);
        }
    }
    Ok(())
}

/// Block 6: DDCL (`L_q`) and its `L_OLS` ablation from scratch, without (`ddcl`, `ols-only`) and
/// with the remedy (`-std`), DeepCluster end to end, and k-means of the pixels.
pub fn joint(digits: &Digits, spec: &Spec, preset: &PresetSpec, results: &mut Results, kept: &mut Kept) -> Result<()> {
    let tau = spec.shared.tau;
    let rows = [
        ("ddcl", DdclVariant::Ddcl, FeatureNorm::None),
        ("ols-only", DdclVariant::OlsOnly, FeatureNorm::None),
        ("ddcl-std", DdclVariant::Ddcl, spec.shared.remedy),
        ("ols-only-std", DdclVariant::OlsOnly, spec.shared.remedy),
    ];
    for &seed in &preset.seeds {
        for (id, variant, norm) in rows {
            let outcome =
                task(digits, spec, preset, format!("joint {id} seed {seed}")).ddcl(&DdclSettings::fixed(variant, tau, norm), seed)?;
            keep("joint", id, seed, outcome, results, kept);
        }
        let t = task(digits, spec, preset, format!("joint deepcluster seed {seed}"));
        keep("joint", "deepcluster", seed, t.deepcluster(seed)?, results, kept);
        keep("joint", "kmeans", seed, t.kmeans(seed)?, results, kept);
    }
    Ok(())
}

/// Block 6, streaming: the digits in one pass of non-repeating shuffled minibatches; DDCL with a
/// minibatch DCL (scored with the running average of its prototypes) against mini-batch k-means
/// of the pixels (scikit-learn's algorithm, without its re-seeding of small clusters); both on
/// the one trainer, one pass of shuffled batches (the last, smaller batch dropped).
pub fn streaming(digits: &Digits, spec: &Spec, preset: &PresetSpec, results: &mut Results, kept: &mut Kept) -> Result<()> {
    let data = &digits.data;
    let b = spec.streaming.batch_size.min(data.n_samples());
    let labels = labels(data)?;
    for &seed in &preset.seeds {
        let settings =
            DdclSettings { stream_batch: Some(b), ..DdclSettings::fixed(DdclVariant::Ddcl, spec.shared.tau, spec.shared.remedy) };
        let outcome = task(digits, spec, preset, format!("streaming ddcl seed {seed}")).ddcl(&settings, seed)?;
        keep("streaming", "ddcl", seed, outcome, results, kept);
        let start = std::time::Instant::now();
        let (_vs, km) = fit_minibatch_kmeans(data, K, b, 1, seed, &mut EpochBar::new(format!("streaming minibatch-kmeans seed {seed}")))?;
        let mut metrics = scores(&labels, &km.predict(&data.x))?;
        metrics.insert("seconds".into(), start.elapsed().as_secs_f64());
        push(results, "streaming/minibatch-kmeans", &metrics);
    }
    Ok(())
}

/// Block 5: per seed, an autoencoder pretrained on the digits and frozen; the DCL alone trained
/// on its features with `L_q` or with `L_OLS` (full-batch Adam), and k-means of the same
/// features; the Lyapunov descent (plain gradient descent on `L_q`) on the first seed.
pub fn frozen(digits: &Digits, spec: &Spec, preset: &PresetSpec, results: &mut Results, kept: &mut Kept) -> Result<()> {
    let data = &digits.data;
    let (f, shared) = (&spec.frozen, &spec.shared);
    let n = data.n_samples();
    let backbone = spec.digits_net.backbone(data.x.size()[1]);
    let labels = labels(data)?;
    for (s, &seed) in preset.seeds.iter().enumerate() {
        let ae_config = AutoencoderTrainConfig {
            optimizer: shared.optimizer,
            iterations: f.pretrain_iterations,
            batch_size: f.pretrain_batch_size.min(n),
            log_every: f.pretrain_iterations.max(1),
            seed,
        };
        let ae = fit_autoencoder(data, &backbone, &ae_config, &mut EpochBar::new(format!("frozen AE seed {seed}")))?;
        let z = shared.remedy.apply(&encode_chunked(ae.backbone.as_ref(), &data.x)?);
        let model = DdclConfig {
            backbone: backbone.clone(),
            n_prototypes: K as i64,
            hidden: Vec::new(),
            bias: false,
            dcl_input: DclInput::Reference,
            dcl_size: n as i64,
            feature_norm: FeatureNorm::None,
        };
        let adam = OptimizerConfig { kind: OptimizerKind::Adam, lr: shared.dcl_step / n as f64 };
        for (id, loss) in [("lq", FrozenLoss::Quantization), ("ols", FrozenLoss::Ols)] {
            let start = std::time::Instant::now();
            let config = FrozenConfig { optimizer: adam, steps: f.steps, tau: shared.tau, loss, seed };
            let run = fit_frozen(&z, &model, &config)?;
            let assigned = protolearn_layers::distance::argmin(&protolearn_layers::distance::squared_euclidean(&z, &run.prototypes), -1);
            let mut metrics = scores(&labels, &assigned)?;
            metrics.insert("seconds".into(), start.elapsed().as_secs_f64());
            push(results, &format!("frozen/{id}"), &metrics);
        }
        let km = protolearn_layers::kmeans::KMeansConfig { k: K, n_init: shared.kmeans_n_init, max_iter: 300, tol: 1e-4, seed }.fit(&z)?;
        push(results, "frozen/kmeans", &scores(&labels, &km.assignments)?);
        if s == 0 {
            for &lr in &f.lyapunov_lrs {
                let config = FrozenConfig {
                    optimizer: OptimizerConfig { kind: OptimizerKind::Sgd, lr },
                    steps: f.lyapunov_steps,
                    tau: shared.tau,
                    loss: FrozenLoss::Quantization,
                    seed,
                };
                kept.lyapunov.push(fit_frozen(&z, &model, &config)?.descent);
            }
        }
    }
    Ok(())
}
