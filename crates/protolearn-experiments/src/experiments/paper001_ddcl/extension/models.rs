//! The models of the paper-001 benchmark and how each is fitted from the shared AE pretraining.

use super::{PresetSpec, Spec};
use crate::progress::EpochBar;
use anyhow::Result;
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::{AutoencoderConfig, DenseConfig};
use protolearn_layers::ddcl::{DclInput, DdclConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::SomConfig;
use protolearn_train::clustering::LabelledSet;
use protolearn_train::ddcl::{fit_ddcl, DdclRecord, DdclTrainConfig, DdclVariant};
use protolearn_train::deepcluster::{fit_deepcluster, DeepClusterConfig};
use protolearn_train::desom::{fit_desom, AutoencoderRun, DesomTrainConfig};
use protolearn_train::trainer::steps_per_epoch;
use protolearn_train::trainer::Column;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Instant;

/// A row of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Two-stage: the pretrained AE's codes clustered by k-means.
    AeKmeans,
    /// DDCL with the reference-set DCL input.
    Ddcl,
    /// DDCL with the minibatch DCL input (prototypes of each batch; inference from the reference
    /// batch and from the running average).
    DdclBatch,
    /// Non-differentiable ablation: k-means centroids refreshed every epoch.
    AblationKmeans,
    /// Non-differentiable ablation: the DCL's input detached from the backbone.
    AblationDetached,
    /// `L_OLS` only (`V` removed from the gradient).
    OlsOnly,
    /// DeepCluster end to end.
    Deepcluster,
    /// DESOM (paper 002, from scratch) and k-means of its codes.
    DesomAeKmeans,
}

impl Model {
    /// Every model, in report order.
    pub const ALL: [Model; 8] = [
        Model::AeKmeans,
        Model::DesomAeKmeans,
        Model::Deepcluster,
        Model::AblationKmeans,
        Model::AblationDetached,
        Model::OlsOnly,
        Model::DdclBatch,
        Model::Ddcl,
    ];

    /// Id in result files.
    pub fn id(self) -> &'static str {
        match self {
            Model::AeKmeans => "ae-kmeans",
            Model::Ddcl => "ddcl",
            Model::DdclBatch => "ddcl-batch",
            Model::AblationKmeans => "ablation-kmeans",
            Model::AblationDetached => "ablation-detached",
            Model::OlsOnly => "ols-only",
            Model::Deepcluster => "deepcluster",
            Model::DesomAeKmeans => "desom-ae-kmeans",
        }
    }

    /// Name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Model::AeKmeans => "AE + k-means",
            Model::Ddcl => "DDCL (reference-set DCL)",
            Model::DdclBatch => "DDCL (minibatch DCL)",
            Model::AblationKmeans => "ablation: k-means prototypes",
            Model::AblationDetached => "ablation: detached DCL",
            Model::OlsOnly => "L_OLS only (V out of the gradient)",
            Model::Deepcluster => "DeepCluster",
            Model::DesomAeKmeans => "DESOM AE + k-means",
        }
    }

    /// The DDCL variant and DCL input of the DDCL-family rows.
    fn ddcl(self) -> Option<(DdclVariant, DclInput)> {
        Some(match self {
            Model::Ddcl => (DdclVariant::Ddcl, DclInput::Reference),
            Model::DdclBatch => (DdclVariant::Ddcl, DclInput::Batch),
            Model::AblationKmeans => (DdclVariant::KMeans, DclInput::Reference),
            Model::AblationDetached => (DdclVariant::DetachedDcl, DclInput::Reference),
            Model::OlsOnly => (DdclVariant::OlsOnly, DclInput::Reference),
            _ => return None,
        })
    }
}

/// What one fit gives the report.
pub struct Outcome {
    /// Test scores (`acc`, `nmi`, `ari`, ...) and `seconds`.
    pub metrics: BTreeMap<String, f64>,
    /// The DDCL-family history.
    pub history: Vec<DdclRecord>,
    /// Decoded prototypes `[k, pixels]` (DDCL with the reference DCL, and AE + k-means).
    pub decoded: Option<Vec<f32>>,
}

/// Everything a fit needs.
pub struct Inputs<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The preset.
    pub preset: &'a PresetSpec,
    /// The training set `[60000, 784]` with labels.
    pub train: &'a Dataset,
    /// The test set `[10000, 784]` with labels (every score).
    pub test: &'a Dataset,
    /// Training seed.
    pub seed: u64,
    /// The seed's AE pretraining, the start of every end-to-end model.
    pub ae: &'a AutoencoderRun,
    /// Progress-bar label (`dataset seed s`).
    pub label: String,
}

impl Inputs<'_> {
    /// The dense backbone of the preset.
    pub fn backbone(spec: &Spec, preset: &PresetSpec) -> AutoencoderConfig {
        AutoencoderConfig::Dense(DenseConfig { input_dim: spec.input_dim, hidden: preset.hidden.clone(), latent_dim: spec.latent_dim })
    }

    fn scores(columns: Vec<Column>) -> BTreeMap<String, f64> {
        columns.into_iter().filter_map(|c| Some((c.name, *c.values.first()?))).collect()
    }

    /// Fits `model` and scores it on the test set.
    pub fn fit(&self, model: Model) -> Result<Outcome> {
        let (spec, preset) = (self.spec, self.preset);
        let start = Instant::now();
        let eval = LabelledSet::new(self.test)?.ok_or_else(|| anyhow::anyhow!("test labels missing"))?;
        let mut bar = EpochBar::new(format!("{} {}", self.label, model.id()));
        let mut outcome = match model {
            Model::AeKmeans => {
                let km = spec.final_kmeans().fit(self.ae.backbone.as_ref(), &self.train.x, spec.k, self.seed)?;
                let z = encode_chunked(self.ae.backbone.as_ref(), &self.test.x)?;
                let decoded = Vec::<f32>::try_from(tch::no_grad(|| self.ae.backbone.decode(&km.centroids))?.flatten(0, -1))?;
                Outcome { metrics: Self::scores(eval.score(&z, &km.centroids, None, "")?), history: Vec::new(), decoded: Some(decoded) }
            }
            Model::Deepcluster => {
                let config = DeepClusterConfig {
                    optimizer: spec.optimizer,
                    batch_size: spec.batch_size,
                    epochs: preset.epochs,
                    k: spec.k,
                    reconstruction_weight: spec.deepcluster_reconstruction_weight,
                    features: Default::default(),
                    kmeans: spec.kmeans,
                    seed: self.seed,
                };
                let run =
                    fit_deepcluster(self.train, Some(self.test), &Self::backbone(spec, preset), &config, Some(&self.ae.vs), &mut bar)?;
                let last = run.history.last().ok_or_else(|| anyhow::anyhow!("no DeepCluster record"))?;
                let mut metrics = BTreeMap::new();
                for (name, value) in [("acc", last.acc), ("nmi", last.nmi), ("ari", last.ari), ("head_acc", last.head_acc)] {
                    metrics.extend(value.map(|v| (name.to_owned(), v)));
                }
                Outcome { metrics, history: Vec::new(), decoded: None }
            }
            Model::DesomAeKmeans => {
                let grid = spec.desom_grid;
                let desom = DesomConfig {
                    autoencoder: Self::backbone(spec, preset),
                    som: SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
                    gamma: spec.desom_gamma,
                };
                let iterations = preset.pretrain_iterations + preset.epochs * steps_per_epoch(self.train, spec.batch_size);
                let config = DesomTrainConfig { optimizer: spec.optimizer, ..DesomTrainConfig::paper(&grid, iterations, self.seed) };
                let run = fit_desom(self.train, None, &desom, &config, &mut bar)?;
                let km = spec.final_kmeans().fit(run.model.backbone.as_ref(), &self.train.x, spec.k, self.seed)?;
                let z = encode_chunked(run.model.backbone.as_ref(), &self.test.x)?;
                Outcome { metrics: Self::scores(eval.score(&z, &km.centroids, None, "")?), history: Vec::new(), decoded: None }
            }
            _ => self.fit_ddcl(model, &mut bar)?,
        };
        outcome.metrics.insert("seconds".into(), start.elapsed().as_secs_f64());
        Ok(outcome)
    }

    /// The DDCL-family rows.
    fn fit_ddcl(&self, model: Model, bar: &mut EpochBar) -> Result<Outcome> {
        let (spec, preset) = (self.spec, self.preset);
        let (variant, input) = model.ddcl().expect("a DDCL-family model");
        let model_config = DdclConfig {
            backbone: Self::backbone(spec, preset),
            n_prototypes: spec.k as i64,
            hidden: Vec::new(),
            bias: false,
            dcl_input: input,
            dcl_size: match input {
                DclInput::Batch => spec.batch_size as i64,
                DclInput::Reference => spec.dcl_size,
            },
            feature_norm: Default::default(),
        };
        let spe = steps_per_epoch(self.train, spec.batch_size);
        let config = DdclTrainConfig {
            optimizer: spec.optimizer,
            dcl_lr: Some(spec.dcl_lr),
            batch_size: spec.batch_size,
            epochs: preset.epochs,
            log_every: Some((spe / preset.logs_per_epoch.max(1)).max(1)),
            tau: spec.tau,
            reconstruction_weight: spec.reconstruction_weight,
            running_momentum: spec.running_momentum,
            variant,
            dcl_init: spec.dcl_init,
            scale_invariant: spec.scale_invariant,
            separation_weight: 0.0,
            kmeans: spec.kmeans,
            seed: self.seed,
            precision: Default::default(),
        };
        let run = fit_ddcl(self.train, Some(self.test), &model_config, &config, Some(&self.ae.vs), bar)?;
        let last = run.history.last().ok_or_else(|| anyhow::anyhow!("no DDCL record"))?;
        let mut metrics = BTreeMap::new();
        let values = [
            ("acc", last.acc),
            ("nmi", last.nmi),
            ("ari", last.ari),
            ("winners", last.winners),
            ("entropy", last.entropy),
            ("running_acc", last.running_acc),
            ("running_nmi", last.running_nmi),
            ("running_ari", last.running_ari),
        ];
        for (name, value) in values {
            metrics.extend(value.map(|v| (name.to_owned(), v)));
        }
        let (v, sep, ols): (Vec<f64>, Vec<f64>, Vec<f64>) =
            run.history.iter().fold((vec![], vec![], vec![]), |(mut a, mut b, mut c), r| {
                a.push(r.variance);
                b.push(r.separation);
                c.push(r.ols);
                (a, b, c)
            });
        if let Some(r) = protolearn_metrics::pearson(&v, &sep)? {
            metrics.insert("pearson_v_separation".into(), r);
        }
        if let Some(r) = protolearn_metrics::pearson(&v, &ols)? {
            metrics.insert("pearson_v_ols".into(), r);
        }
        metrics.insert("identity_violations".into(), run.history.iter().map(|r| r.identity_violations as f64).sum());
        metrics.insert("identity_checked".into(), run.history.iter().map(|r| r.identity_checked as f64).sum());
        let decoded = if model == Model::Ddcl {
            let p = run.model.reference_prototypes()?;
            Some(Vec::<f32>::try_from(tch::no_grad(|| run.model.backbone.decode(&p))?.flatten(0, -1))?)
        } else {
            None
        };
        Ok(Outcome { metrics, history: run.history, decoded })
    }
}
