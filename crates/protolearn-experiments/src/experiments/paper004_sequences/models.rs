//! The compared models on one sequence set and seed: k-means and the batch SOM on the raw series,
//! AE + SOM (two stages) and DESOM (joint, paper 004, Sec. 4) with the LSTM and the temporal
//! convolutional autoencoder, each an estimator model spec ([`Inputs::model_spec`]) fitted through
//! [`Estimator::fit_tensors`] and reduced to its prototypes, the test set in the same space and
//! the prototypes as sequences.

use super::data::SequenceSplit;
use super::Spec;
use anyhow::{bail, Context, Result};
use protolearn::config::{BackboneSpec, CodeClustering, DesomSpec, ModelSpec, SomSpec, TwoStageSpec};
use protolearn::{Estimator, EstimatorConfig};
use protolearn_data::tensor::Dataset;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::{Neighbourhood, Schedule, SomInit};
use protolearn_train::desom::{DesomRecord, Phase};
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerKind;
use protolearn_train::som::SomRule;
use serde::Deserialize;
use tch::Tensor;

/// One compared model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// k-means (`k` = map units) on the raw series, padding read as 0.
    Kmeans,
    /// Batch SOM (paper 002, Algorithm 2) on the raw series, padding read as 0.
    Som,
    /// Batch SOM on the codes of an LSTM autoencoder trained on `L_R` alone.
    LstmAeSom,
    /// Batch SOM on the codes of a temporal convolutional autoencoder trained on `L_R` alone.
    TemporalAeSom,
    /// LSTM-DESOM (paper 004, Sec. 4.2).
    LstmDesom,
    /// DESOM with the temporal convolutional autoencoder (paper 004, Sec. 4.1).
    TemporalDesom,
}

/// Which sequence autoencoder a deep model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AeKind {
    /// The LSTM autoencoder of the spec's `lstm`.
    Lstm,
    /// The temporal convolutional autoencoder of the spec's `temporal`.
    Temporal,
}

impl Model {
    /// Every model, in report order.
    pub const ALL: [Model; 6] = [Model::Kmeans, Model::Som, Model::LstmAeSom, Model::TemporalAeSom, Model::LstmDesom, Model::TemporalDesom];

    /// The id that keys results.
    pub fn id(self) -> &'static str {
        match self {
            Model::Kmeans => "kmeans",
            Model::Som => "som",
            Model::LstmAeSom => "lstm-ae-som",
            Model::TemporalAeSom => "temporal-ae-som",
            Model::LstmDesom => "lstm-desom",
            Model::TemporalDesom => "temporal-desom",
        }
    }

    /// The report label.
    pub fn label(self) -> &'static str {
        match self {
            Model::Kmeans => "k-means (raw)",
            Model::Som => "batch SOM (raw)",
            Model::LstmAeSom => "LSTM-AE + SOM",
            Model::TemporalAeSom => "TCN-AE + SOM",
            Model::LstmDesom => "LSTM-DESOM",
            Model::TemporalDesom => "TCN-DESOM",
        }
    }

    /// Whether the model is a map (has a topographic error).
    pub fn is_map(self) -> bool {
        self != Model::Kmeans
    }

    fn backbone(self) -> Option<AeKind> {
        match self {
            Model::LstmAeSom | Model::LstmDesom => Some(AeKind::Lstm),
            Model::TemporalAeSom | Model::TemporalDesom => Some(AeKind::Temporal),
            Model::Kmeans | Model::Som => None,
        }
    }
}

/// A trained model reduced to what the evaluation needs.
pub struct Fitted {
    /// Training seconds (AE + SOM: both stages).
    pub seconds: f64,
    /// Prototypes in the assignment space, `[K, d]`.
    pub prototypes: Tensor,
    /// The test set in the same space, `[n, d]`.
    pub test: Tensor,
    /// Prototypes as sequences, `[K, T, D]` (decoded for the deep models).
    pub sequences: Tensor,
    /// The autoencoder's history: DESOM's, or the AE's of AE + SOM (empty for the others).
    pub history: Vec<DesomRecord>,
}

/// The data and settings shared by the models of one set and seed.
pub struct Inputs<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// Preset iterations (DESOM, AE pretraining, SOM passes) and logging interval.
    pub preset: &'a super::PresetSpec,
    /// The set.
    pub split: &'a SequenceSplit,
    /// `[n, T, D]` train split (NaN padding) with labels, on the device.
    pub train: &'a Dataset,
    /// `[n, T, D]` test split.
    pub test: &'a Dataset,
    /// Training seed.
    pub seed: u64,
}

/// `[n, T, D]` with NaN → 0, flattened to `[n, T·D]`: the raw-series space.
fn raw(x: &Tensor) -> Result<Tensor> {
    Ok(x.f_nan_to_num(0.0, None, None)?.f_flatten(1, -1)?)
}

impl Inputs<'_> {
    /// The batch SOM (paper 002, Algorithm 2) on the spec's grid: Gaussian neighbourhood,
    /// prototypes drawn from samples, the paper's temperature, the preset's passes.
    fn batch_som(&self) -> SomSpec {
        let iterations = self.preset.som_iterations;
        SomSpec {
            init: SomInit::DataSamples,
            neighbourhood: Neighbourhood::Gaussian,
            rule: SomRule::Batch,
            iterations,
            temperature: Some(Schedule::paper_temperature(&self.spec.grid)),
            log_every: Some(iterations),
            ..SomSpec::new(self.spec.grid)
        }
    }

    /// The sequence autoencoder of a deep model, its steps and features from the data.
    fn autoencoder(&self, which: AeKind) -> BackboneSpec {
        let (_, features) = self.split.steps_dims();
        match which {
            AeKind::Lstm => {
                let l = &self.spec.lstm;
                BackboneSpec::Lstm { hidden: l.hidden.clone(), latent_dim: l.latent_dim, features, conditional: l.conditional }
            }
            AeKind::Temporal => {
                let t = &self.spec.temporal;
                BackboneSpec::TemporalConv {
                    filters: t.filters.clone(),
                    latent_dim: t.latent_dim,
                    features,
                    kernel_size: t.kernel_size,
                    pool: t.pool,
                }
            }
        }
    }

    /// The Adam learning rate of DESOM and the AEs (another optimizer is an error).
    fn adam_lr(&self) -> Result<f64> {
        match self.spec.optimizer.kind {
            OptimizerKind::Adam => Ok(self.spec.optimizer.lr),
            other => bail!("spec: optimizer {other:?}; the sequence models train with Adam (paper 002, Table 2)"),
        }
    }

    /// What `model` fits, as the estimator's model spec (the `[model]` table of a user's
    /// `MODEL.toml`).
    pub fn model_spec(&self, model: Model) -> Result<ModelSpec> {
        let grid = self.spec.grid;
        let log_every = |iterations: usize| Some(self.preset.log_every.min(iterations));
        Ok(match (model, model.backbone()) {
            (Model::Kmeans, _) => {
                let km = &self.spec.kmeans;
                ModelSpec::KMeans(KMeansConfig { k: grid.n_units(), n_init: km.n_init, max_iter: km.max_iter, tol: km.tol, seed: 0 })
            }
            (Model::LstmAeSom | Model::TemporalAeSom, Some(which)) => ModelSpec::TwoStage(TwoStageSpec {
                autoencoder: self.autoencoder(which),
                pretrain_iterations: self.preset.pretrain_iterations,
                batch_size: self.spec.batch_size,
                lr: self.adam_lr()?,
                log_every: log_every(self.preset.pretrain_iterations),
                clustering: CodeClustering::Som(self.batch_som()),
            }),
            (_, Some(which)) => ModelSpec::Desom(DesomSpec {
                init: SomInit::DataSamples,
                neighbourhood: Neighbourhood::Gaussian,
                autoencoder: self.autoencoder(which),
                gamma: self.spec.gamma,
                iterations: self.preset.iterations,
                batch_size: self.spec.batch_size,
                lr: self.adam_lr()?,
                temperature: Some(Schedule::paper_temperature(&grid)),
                log_every: log_every(self.preset.iterations),
                ..DesomSpec::new(grid)
            }),
            (_, None) => ModelSpec::Som(self.batch_som()),
        })
    }

    /// Trains `model` through the estimator: the raw models on the zero-padded flattened series,
    /// the deep ones on the NaN-padded sequences (DESOM's history scored on the test split).
    pub fn fit(&self, model: Model) -> Result<Fitted> {
        let estimator =
            Estimator::new(EstimatorConfig { seed: self.seed, ..EstimatorConfig::new(self.model_spec(model)?) })?.without_training_scores();
        let fit = |train: &Dataset, eval: Option<&Dataset>| {
            estimator.fit_tensors(train, eval, &mut Silent).with_context(|| format!("training {}", model.label()))
        };
        if model.backbone().is_none() {
            let (steps, features) = self.split.steps_dims();
            let fitted = fit(&Dataset::new(raw(&self.train.x)?, None)?, None)?;
            let prototypes = fitted.trained().prototypes();
            let sequences = prototypes.f_view([-1, steps, features])?;
            return Ok(Fitted { seconds: fitted.summary().seconds, prototypes, test: raw(&self.test.x)?, sequences, history: Vec::new() });
        }
        let is_desom = matches!(model, Model::LstmDesom | Model::TemporalDesom);
        let fitted = fit(self.train, is_desom.then_some(self.test))?;
        let autoencoder = [Phase::Pretrain.name(), Phase::Joint.name()];
        let history = fitted
            .history()
            .iter()
            .filter(|r| autoencoder.contains(&r.phase.as_str()))
            .map(DesomRecord::from_log)
            .collect::<Result<_, _>>()?;
        let test = {
            let _guard = tch::no_grad_guard();
            fitted.trained().codes(&fitted.model_input(&self.test.x)?)?
        };
        Ok(Fitted {
            seconds: fitted.summary().seconds,
            prototypes: fitted.trained().prototypes(),
            test,
            sequences: fitted.trained().input_space_prototypes()?,
            history,
        })
    }
}
