//! The compared models on one sequence set and seed: k-means and the batch SOM on the raw series,
//! AE + SOM (two stages) and DESOM (joint, paper 004, Sec. 4) with the LSTM and the temporal
//! convolutional autoencoder; each reduced to its prototypes, the test set in the same space and
//! the prototypes as sequences.

use super::data::SequenceSplit;
use super::Spec;
use anyhow::{Context, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone, LstmConfig, TemporalConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::{Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_train::desom::{fit_autoencoder, fit_desom, AutoencoderTrainConfig, DesomRecord, DesomTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::som::{fit_som, SomRule, SomTrainConfig};
use serde::Deserialize;
use std::time::Instant;
use tch::{nn, Tensor};

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
    /// [`LstmConfig`] from the spec's `lstm`.
    Lstm,
    /// [`TemporalConfig`] from the spec's `temporal`.
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
    /// DESOM's history (empty for the others).
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
    fn som_config(&self) -> SomConfig {
        SomConfig {
            grid: self.spec.grid,
            init: SomInit::DataSamples,
            neighbourhood: Neighbourhood::Gaussian,
            map_distance: Default::default(),
        }
    }

    fn autoencoder(&self, which: AeKind) -> AutoencoderConfig {
        let (steps, features) = self.split.steps_dims();
        match which {
            AeKind::Lstm => {
                let l = &self.spec.lstm;
                AutoencoderConfig::Lstm(LstmConfig {
                    steps,
                    features,
                    hidden: l.hidden.clone(),
                    latent_dim: l.latent_dim,
                    conditional: l.conditional,
                })
            }
            AeKind::Temporal => {
                let t = &self.spec.temporal;
                AutoencoderConfig::Temporal(TemporalConfig {
                    steps,
                    features,
                    filters: t.filters.clone(),
                    kernel_size: t.kernel_size,
                    pool: t.pool,
                    latent_dim: t.latent_dim,
                })
            }
        }
    }

    /// The batch SOM on `x` `[n, d]`: its prototypes `[K, d]`.
    fn batch_som(&self, x: &Tensor) -> Result<Tensor> {
        let vs = nn::VarStore::new(x.device());
        let layer = self.som_config().build(&vs.root(), x, self.seed)?;
        let config = SomTrainConfig {
            rule: SomRule::Batch,
            iterations: self.preset.som_iterations,
            temperature: Schedule::paper_temperature(&self.spec.grid),
            seed: self.seed,
            log_every: self.preset.som_iterations,
        };
        fit_som(&vs, &layer, &Dataset::new(x.shallow_clone(), None)?, &config, &mut Silent)?;
        Ok(layer.weight.detach())
    }

    /// DESOM's training settings (paper 002, Table 2, the spec's batch size and optimizer).
    fn desom_train_config(&self, iterations: usize) -> DesomTrainConfig {
        DesomTrainConfig {
            log_every: self.preset.log_every.min(iterations),
            optimizer: self.spec.optimizer,
            batch_size: self.spec.batch_size.min(self.train.n_samples()),
            ..DesomTrainConfig::paper(&self.spec.grid, iterations, self.seed)
        }
    }

    /// Trains `model`.
    pub fn fit(&self, model: Model) -> Result<Fitted> {
        let start = Instant::now();
        let Some(which) = model.backbone() else {
            return self.fit_raw(model, start);
        };
        if matches!(model, Model::LstmAeSom | Model::TemporalAeSom) {
            let desom = self.desom_train_config(self.preset.pretrain_iterations);
            let config = AutoencoderTrainConfig::like_desom(&desom);
            let run = fit_autoencoder(self.train, &self.autoencoder(which), &config, &mut Silent).context("AE pretraining")?;
            let codes = encode_chunked(run.backbone.as_ref(), &self.train.x)?;
            let prototypes = self.batch_som(&codes)?;
            let seconds = start.elapsed().as_secs_f64();
            let sequences = decode(run.backbone.as_ref(), &prototypes)?;
            let test = encode_chunked(run.backbone.as_ref(), &self.test.x)?;
            return Ok(Fitted { seconds, prototypes, test, sequences, history: run.history });
        }
        let config = DesomConfig { autoencoder: self.autoencoder(which), som: self.som_config(), gamma: self.spec.gamma };
        let run = fit_desom(self.train, Some(self.test), &config, &self.desom_train_config(self.preset.iterations), &mut Silent)
            .with_context(|| format!("training {}", model.label()))?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(Fitted {
            seconds,
            prototypes: run.model.som.weight.detach(),
            test: run.model.encode_all(&self.test.x)?,
            sequences: run.model.decoded_prototypes()?,
            history: run.history,
        })
    }

    /// k-means or the batch SOM on the raw series.
    fn fit_raw(&self, model: Model, start: Instant) -> Result<Fitted> {
        let (steps, features) = self.split.steps_dims();
        let (train, test) = (raw(&self.train.x)?, raw(&self.test.x)?);
        let prototypes = if model == Model::Kmeans {
            self.spec.kmeans.fit_codes(&train, self.spec.grid.n_units(), self.seed)?.centroids
        } else {
            self.batch_som(&train)?
        };
        let seconds = start.elapsed().as_secs_f64();
        let sequences = prototypes.f_view([-1, steps, features])?;
        Ok(Fitted { seconds, prototypes, test, sequences, history: Vec::new() })
    }
}

/// `g(m_k)` without gradient.
fn decode(backbone: &dyn Backbone, prototypes: &Tensor) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    Ok(backbone.decode(prototypes)?)
}
