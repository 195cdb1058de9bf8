//! Training the compared models of paper 002, Sec. 5 (k-means, SOM, AE+k-means, AE+SOM, DESOM,
//! ConvDESOM) on one dataset and seed, each reduced to its prototypes and the test set in the
//! space where test samples are assigned.

use super::{PresetSpec, Spec};
use anyhow::{Context, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::{Autoencoder, AutoencoderConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::train::{train_gradient, GradientSomConfig};
use protolearn_layers::som::{Neighbourhood, Schedule, SomConfig};
use protolearn_layers::init::PrototypeInit;
use protolearn_train::desom::{fit_desom, DesomRecord, DesomTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::trainer::Timed;
use serde::Deserialize;
use std::time::Instant;
use tch::{nn, Tensor};

/// One compared model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// k-means with `kmeans_k` clusters on pixels.
    Kmeans,
    /// Gradient ("Keras") SOM on pixels.
    Som,
    /// k-means on the codes of an AE pretrained on `L_R` alone.
    AeKmeans,
    /// Gradient SOM on the codes of an AE pretrained on `L_R` alone.
    AeSom,
    /// DESOM with the dense AE (Algorithm 3, no pretraining).
    Desom,
    /// DESOM with the convolutional AE.
    ConvDesom,
}

impl Model {
    /// Row label in the report (the paper's names).
    pub fn label(self) -> &'static str {
        match self {
            Model::Kmeans => "k-means (k=64)",
            Model::Som => "SOM (8x8)",
            Model::AeKmeans => "AE+k-means",
            Model::AeSom => "AE+SOM",
            Model::Desom => "DESOM (8x8)",
            Model::ConvDesom => "ConvDESOM (8x8)",
        }
    }

    /// Whether it is a self-organizing map (topology metrics and post-clustering apply).
    pub fn is_map(self) -> bool {
        !matches!(self, Model::Kmeans | Model::AeKmeans)
    }
}

/// A fitted model reduced to what the evaluation needs.
#[derive(Debug)]
pub struct Fitted {
    /// Which model.
    pub model: Model,
    /// Training seconds (the AE pretraining included for AE+ models).
    pub seconds: f64,
    /// Training iterations (Lloyd iterations are not counted for k-means: 0).
    pub iterations: usize,
    /// Prototypes in the assignment space (pixels or latent codes), `[K, d]`.
    pub prototypes: Tensor,
    /// The test samples in the same space, `[n, d]`.
    pub test: Tensor,
    /// Whether the assignment space is a learned latent space.
    pub latent: bool,
    /// Prototypes as images, `[K, 784]` (the SOM weights or the decoded latent prototypes).
    pub pixel_prototypes: Option<Tensor>,
    /// DESOM's training history (empty for the others).
    pub history: Vec<Timed<DesomRecord>>,
}

/// What all models of one dataset and seed share: the data and the AE pretrained on `L_R`.
pub struct Inputs<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The preset.
    pub preset: &'a PresetSpec,
    /// The whole training set `[60000, 784]` with labels, on the device.
    pub train: &'a Dataset,
    /// The test set `[10000, 784]` with labels, on the device.
    pub test: &'a Dataset,
    /// Training seed.
    pub seed: u64,
}

/// An autoencoder trained on `L_R` alone, with its training time and the encoded data.
pub struct Pretrained {
    autoencoder: Autoencoder,
    /// Training seconds.
    pub seconds: f64,
    train_codes: Tensor,
    test_codes: Tensor,
}

impl Inputs<'_> {
    /// The SOM layer of the paper (Table 2): the spec's grid, Gaussian neighbourhood,
    /// prototypes drawn from data samples.
    fn som_config(&self) -> SomConfig {
        SomConfig { grid: self.spec.grid, init: PrototypeInit::DataSamples, neighbourhood: Neighbourhood::Gaussian }
    }

    /// DESOM's training settings: Table 2 with the preset's iterations and logging interval.
    fn desom_train_config(&self, iterations: usize) -> DesomTrainConfig {
        DesomTrainConfig {
            log_every: self.preset.log_every.min(iterations),
            ..DesomTrainConfig::paper(&self.spec.grid, iterations, self.seed)
        }
    }

    /// Pretrains the dense AE on `L_R` alone for `ae_pretrain_iterations` (DESOM's trainer with
    /// `γ = 0`: the SOM layer receives no gradient and is discarded) and encodes both sets.
    pub fn pretrain(&self) -> Result<Pretrained> {
        let config = DesomConfig {
            autoencoder: AutoencoderConfig::Dense(self.spec.dense.clone()),
            som: self.som_config(),
            gamma: 0.0,
        };
        let start = Instant::now();
        let run = fit_desom(self.train, None, &config, &self.desom_train_config(self.preset.ae_pretrain_iterations), &mut Silent)
            .context("AE pretraining")?;
        let seconds = start.elapsed().as_secs_f64();
        let train_codes = run.model.encode_all(&self.train.x)?;
        let test_codes = run.model.encode_all(&self.test.x)?;
        Ok(Pretrained { autoencoder: run.model.autoencoder, seconds, train_codes, test_codes })
    }

    /// k-means with `kmeans_k` clusters on `train`, timed.
    fn kmeans(&self, train: &Tensor) -> Result<(Tensor, f64)> {
        let start = Instant::now();
        let fit = KMeansConfig { k: self.spec.kmeans_k, n_init: self.preset.kmeans_n_init, max_iter: 300, tol: 1e-4, seed: self.seed }
            .fit(train)?;
        Ok((fit.centroids, start.elapsed().as_secs_f64()))
    }

    /// The gradient SOM on `train` (paper 002, Sec. 3.4: Adam 1e-3, batch 256, paper
    /// temperature schedule), timed; the weights `[K, d]`.
    fn som(&self, train: &Tensor) -> Result<(Tensor, f64)> {
        let vs = nn::VarStore::new(train.device());
        let layer = self.som_config().build(&vs.root(), train, self.seed)?;
        let config = GradientSomConfig {
            iterations: self.preset.som_iterations,
            batch_size: 256,
            lr: 1e-3,
            temperature: Schedule::paper_temperature(&self.spec.grid),
            seed: self.seed,
            eval_every: self.preset.som_iterations,
        };
        let start = Instant::now();
        train_gradient(&vs, &layer, train, &config)?;
        Ok((layer.weight.detach(), start.elapsed().as_secs_f64()))
    }

    /// Trains `model` (`ae`: the pretrained AE, required by the AE+ models).
    pub fn fit(&self, model: Model, ae: Option<&Pretrained>) -> Result<Fitted> {
        let pixels = |prototypes: Tensor, seconds: f64, iterations: usize, map: bool| Fitted {
            model,
            seconds,
            iterations,
            pixel_prototypes: map.then(|| prototypes.shallow_clone()),
            prototypes,
            test: self.test.x.shallow_clone(),
            latent: false,
            history: Vec::new(),
        };
        match model {
            Model::Kmeans => {
                let (c, s) = self.kmeans(&self.train.x)?;
                Ok(pixels(c, s, 0, false))
            }
            Model::Som => {
                let (w, s) = self.som(&self.train.x)?;
                Ok(pixels(w, s, self.preset.som_iterations, true))
            }
            Model::AeKmeans | Model::AeSom => {
                let ae = ae.context("AE+ models need the pretrained AE")?;
                let (prototypes, seconds, iterations) = if model == Model::AeSom {
                    let (w, s) = self.som(&ae.train_codes)?;
                    (w, s, self.preset.som_iterations)
                } else {
                    let (c, s) = self.kmeans(&ae.train_codes)?;
                    (c, s, 0)
                };
                let decoded = {
                    let _guard = tch::no_grad_guard();
                    ae.autoencoder.decode(&prototypes)?
                };
                Ok(Fitted {
                    model,
                    seconds: ae.seconds + seconds,
                    iterations,
                    pixel_prototypes: model.is_map().then_some(decoded),
                    prototypes,
                    test: ae.test_codes.shallow_clone(),
                    latent: true,
                    history: Vec::new(),
                })
            }
            Model::Desom | Model::ConvDesom => self.desom(model),
        }
    }

    /// DESOM (dense AE) or ConvDESOM (convolutional AE, images `[n, 1, 28, 28]`).
    fn desom(&self, model: Model) -> Result<Fitted> {
        let (autoencoder, shape): (AutoencoderConfig, &[i64]) = match model {
            Model::ConvDesom => (AutoencoderConfig::Conv(self.spec.conv.clone()), &[-1, 1, 28, 28]),
            _ => (AutoencoderConfig::Dense(self.spec.dense.clone()), &[-1, 784]),
        };
        let reshape = |d: &Dataset| Dataset::new(d.x.view(shape), d.y.as_ref().map(Tensor::shallow_clone));
        let (train, test) = (reshape(self.train)?, reshape(self.test)?);
        let config = DesomConfig { autoencoder, som: self.som_config(), gamma: self.spec.gamma };
        let start = Instant::now();
        let run = fit_desom(&train, Some(&test), &config, &self.desom_train_config(self.preset.iterations), &mut Silent)
            .with_context(|| format!("training {}", model.label()))?;
        let seconds = start.elapsed().as_secs_f64();
        let decoded = run.model.decoded_prototypes()?.view([-1, 784]); // [K, 784]
        Ok(Fitted {
            model,
            seconds,
            iterations: self.preset.iterations,
            prototypes: run.model.som.weight.detach(),
            test: run.model.encode_all(&test.x)?,
            latent: true,
            pixel_prototypes: Some(decoded),
            history: run.history,
        })
    }
}
