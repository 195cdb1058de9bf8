//! The models of paper 001's protocol and how each is fitted: DDCL trained full batch (its DCL
//! mixes every sample, the authors' `P = Z^T W + b`) with its ablations and temperature settings,
//! DeepCluster end to end, and k-means; every model clusters one labelled set and is scored on
//! that same set (ACC with Hungarian matching, NMI, ARI), as clustering papers do.

use crate::progress::EpochBar;
use anyhow::{Context, Result};
use protolearn::config::{BackboneSpec, DdclSpec, DeepClusterSpec, EstimatorConfig, ModelSpec};
use protolearn::Estimator;
use protolearn_data::tensor::Dataset;
use protolearn_data::Data;
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::ddcl::{DclInput, FeatureNorm};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::Decay;
use protolearn_layers::som::Schedule;
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::ddcl::{DdclRecord, DdclVariant};
use protolearn_train::deepcluster::{DeepClusterFeatures, DeepClusterRecord};
use protolearn_train::device::DeviceChoice;
use protolearn_train::kmeans::KMeansFit;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use protolearn_train::quality::clustering_scores;
use protolearn_train::trainer::Batching;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Instant;

/// A dense backbone `input - hidden... - latent` (ReLU hidden layers, linear features).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Net {
    /// Hidden widths, input side first.
    pub hidden: Vec<i64>,
    /// Feature size `L`.
    pub latent_dim: i64,
}

impl Net {
    /// The backbone for inputs of `input_dim` values (its decoder is built but unused: no model
    /// of the protocol has a reconstruction term).
    pub fn backbone(&self, input_dim: i64) -> AutoencoderConfig {
        AutoencoderConfig::Dense(DenseConfig { input_dim, hidden: self.hidden.clone(), latent_dim: self.latent_dim })
    }
}

/// The settings every model of the protocol shares, written down once (paper 001 does not
/// publish them).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shared {
    /// Optimizer of every backbone (and of DeepCluster's head).
    pub optimizer: OptimizerConfig,
    /// The DCL's learning rate times its input count `N`: a DCL prototype sums `N` weighted
    /// features, so one Adam step moves it by about this many feature units whatever `N` is.
    pub dcl_step: f64,
    /// Fixed temperature of the soft assignment where a block does not vary it.
    pub tau: f64,
    /// The remedy against the trivial solution, applied to every DDCL variant of the remedied
    /// rows.
    pub remedy: FeatureNorm,
    /// DeepCluster's minibatch size (its head is reset every epoch, so it needs several steps per
    /// epoch; DDCL trains full batch).
    pub deepcluster_batch_size: usize,
    /// The k-means DeepCluster runs every epoch (and for its evaluation).
    pub kmeans: FeatureKMeans,
    /// Restarts of the k-means baseline on the raw inputs.
    pub kmeans_n_init: usize,
}

/// One DDCL configuration of a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DdclSettings {
    /// `L_q` (DDCL) or `L_OLS` alone.
    pub variant: DdclVariant,
    /// Temperature schedule over the run.
    pub tau: Schedule,
    /// Weight of the explicit separation term (0: none).
    pub separation_weight: f64,
    /// The features' normalisation.
    pub feature_norm: FeatureNorm,
    /// `None`: full batch (the DCL mixes every sample); `Some(b)`: one pass of shuffled batches
    /// of `b` whose DCL mixes the batch, scored with the running average of its prototypes.
    pub stream_batch: Option<usize>,
}

impl DdclSettings {
    /// Full-batch training at the fixed temperature `tau`, no separation term.
    pub fn fixed(variant: DdclVariant, tau: f64, feature_norm: FeatureNorm) -> Self {
        DdclSettings { variant, tau: constant(tau), separation_weight: 0.0, feature_norm, stream_batch: None }
    }
}

/// A constant schedule.
pub fn constant(value: f64) -> Schedule {
    Schedule { decay: Default::default(), start: value, end: value }
}

/// What a fit returns: final scores (and run statistics) by name, and the DDCL history.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `acc`, `nmi`, `ari`, `seconds`, ... of the fitted model on the set.
    pub metrics: BTreeMap<String, f64>,
    /// One record per logging interval (DDCL only).
    pub history: Vec<DdclRecord>,
}

/// Momentum of the running average of a streaming DCL's prototypes: a single pass has few steps
/// (28 on digits), so the average must forget its start faster than the estimator's 0.99.
const STREAM_MOMENTUM: f64 = 0.9;

/// One clustering task: a labelled set, the backbone, `k`, the shared settings and the budget.
#[derive(Debug)]
pub struct Task<'a> {
    /// The set that is clustered and scored, on the host (what the estimator takes).
    pub host: &'a Data,
    /// The same set on the run's device.
    pub data: &'a Dataset,
    /// The backbone of every deep model.
    pub net: &'a Net,
    /// Clusters and prototypes.
    pub k: usize,
    /// Shared settings.
    pub shared: &'a Shared,
    /// Epochs of every deep model (DDCL: full-batch steps).
    pub epochs: usize,
    /// DDCL records every this many epochs (the series of the feedback block).
    pub log_every: usize,
    /// Progress-bar label.
    pub label: String,
}

impl Task<'_> {
    /// DDCL (or its `L_OLS` ablation) with `settings`, from scratch, seeded by `seed`, through
    /// the estimator (what `protolearn fit` and the crates' users run); scored by its last record.
    pub fn ddcl(&self, settings: &DdclSettings, seed: u64) -> Result<Outcome> {
        if self.shared.optimizer.kind != OptimizerKind::Adam || settings.tau.decay != Decay::Exponential {
            anyhow::bail!("spec: the DDCL estimator trains with Adam and an exponential temperature schedule");
        }
        let start = Instant::now();
        let n = self.data.n_samples();
        let batch = settings.stream_batch.unwrap_or(n).min(n);
        let streaming = settings.stream_batch.is_some();
        let spec = DdclSpec {
            autoencoder: BackboneSpec::Dense { hidden: self.net.hidden.clone(), latent_dim: self.net.latent_dim },
            dcl_input: DclInput::Batch,
            dcl_size: batch,
            batch_size: batch,
            epochs: if streaming { 1 } else { self.epochs },
            pretrain_iterations: 0,
            lr: self.shared.optimizer.lr,
            dcl_lr: self.shared.dcl_step / batch as f64,
            tau: settings.tau.start,
            tau_end: Some(settings.tau.end),
            feature_norm: settings.feature_norm,
            separation_weight: settings.separation_weight,
            running_momentum: if streaming { STREAM_MOMENTUM } else { 0.99 },
            log_every: Some(if streaming { n / batch } else { self.log_every }),
            reconstruction_weight: 0.0,
            variant: settings.variant,
            ..DdclSpec::new(self.k as i64)
        };
        let device = match self.data.device() {
            tch::Device::Cuda(i) => DeviceChoice::Cuda(i),
            _ => DeviceChoice::Cpu,
        };
        let estimator =
            Estimator::new(EstimatorConfig::new(ModelSpec::Ddcl(spec)))?.with_seed(seed).with_device(device).without_training_scores();
        let mut bar = EpochBar::new(&self.label);
        let fitted = estimator.fit_named(self.host, &[], None, &mut bar)?;
        let spe = Batching::Shuffled { batch_size: batch }.steps_per_epoch(n);
        let history =
            fitted.history().iter().filter(|r| r.phase == "ddcl").map(|r| DdclRecord::from_log(r, spe)).collect::<Result<Vec<_>, _>>()?;
        let last = history.last().context("no DDCL record")?;
        let mut metrics = BTreeMap::new();
        let prefix_acc = if streaming { [last.running_acc, last.running_nmi, last.running_ari] } else { [last.acc, last.nmi, last.ari] };
        for (name, value) in ["acc", "nmi", "ari"].into_iter().zip(prefix_acc) {
            metrics.extend(value.map(|v| (name.to_owned(), v)));
        }
        metrics.extend(last.winners.map(|v| ("winners".to_owned(), v)));
        let h = &history;
        metrics.insert("identity_checked".into(), h.iter().map(|r| r.identity_checked as f64).sum());
        metrics.insert("identity_violations".into(), h.iter().map(|r| r.identity_violations as f64).sum());
        metrics.insert("identity_max_error".into(), h.iter().map(|r| r.identity_max_error).fold(0.0, f64::max));
        metrics.insert("feature_variance_start".into(), h.first().map_or(f64::NAN, |r| r.feature_variance));
        metrics.insert("feature_variance_end".into(), last.feature_variance);
        metrics.insert("live_end".into(), last.live);
        metrics.insert("seconds".into(), start.elapsed().as_secs_f64());
        Ok(Outcome { metrics, history })
    }

    /// DeepCluster end to end (published preprocessing, k-means every epoch, head reset), from
    /// scratch with the same backbone and epochs, seeded by `seed`, through the estimator and
    /// scored every epoch on the set itself; scored by its last record. Its seconds include the
    /// final k-means of the fitted model (what a user's fit costs).
    pub fn deepcluster(&self, seed: u64) -> Result<Outcome> {
        if self.shared.optimizer.kind != OptimizerKind::Adam {
            anyhow::bail!("spec: the DeepCluster estimator trains with Adam");
        }
        let spec = DeepClusterSpec {
            autoencoder: BackboneSpec::Dense { hidden: self.net.hidden.clone(), latent_dim: self.net.latent_dim },
            epochs: self.epochs,
            batch_size: self.shared.deepcluster_batch_size,
            lr: self.shared.optimizer.lr,
            reconstruction_weight: 0.0,
            features: DeepClusterFeatures::PcaWhitenL2,
            kmeans: self.shared.kmeans,
            ..DeepClusterSpec::new(self.k)
        };
        let estimator = Estimator::new(EstimatorConfig::new(ModelSpec::DeepCluster(spec)))?.with_seed(seed).without_training_scores();
        let fitted = estimator.fit_tensors(self.data, Some(self.data), &mut EpochBar::new(&self.label))?;
        let n = self.data.n_samples();
        let spe = Batching::Shuffled { batch_size: self.shared.deepcluster_batch_size.min(n).max(self.k) }.steps_per_epoch(n);
        let last = DeepClusterRecord::from_log(fitted.history().last().context("no DeepCluster record")?, spe)?;
        let mut metrics = BTreeMap::new();
        for (name, value) in [("acc", last.acc), ("nmi", last.nmi), ("ari", last.ari), ("head_acc", last.head_acc)] {
            metrics.extend(value.map(|v| (name.to_owned(), v)));
        }
        metrics.insert("seconds".into(), fitted.summary().seconds);
        Ok(Outcome { metrics, history: Vec::new() })
    }

    /// k-means of the raw inputs (`kmeans_n_init` k-means++ restarts), seeded by `seed`.
    pub fn kmeans(&self, seed: u64) -> Result<Outcome> {
        let start = Instant::now();
        let config = KMeansConfig { k: self.k, n_init: self.shared.kmeans_n_init, max_iter: 300, tol: 1e-4, seed };
        let km = config.fit(&self.data.x)?;
        let mut metrics = scores(&labels(self.data)?, &km.assignments)?;
        metrics.insert("seconds".into(), start.elapsed().as_secs_f64());
        Ok(Outcome { metrics, history: Vec::new() })
    }
}

/// The class of every sample of `data` (the protocol's sets are all labelled).
pub fn labels(data: &Dataset) -> Result<Vec<i64>> {
    let y = data.y.as_ref().context("the protocol's sets are labelled")?;
    Ok(Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))?)
}

/// ACC, NMI and ARI of cluster `assignments` (`[n]` int64) against `labels`, by name.
pub fn scores(labels: &[i64], assignments: &tch::Tensor) -> Result<BTreeMap<String, f64>> {
    let assigned: Vec<usize> = Vec::<i64>::try_from(assignments.to_device(tch::Device::Cpu))?.into_iter().map(|a| a as usize).collect();
    Ok(clustering_scores(labels, &assigned, "")?.into_iter().filter_map(|c| Some((c.name, *c.values.first()?))).collect())
}
