//! Training the compared models of paper 002, Sec. 5 (k-means, SOM, AE+k-means, AE+SOM, DESOM,
//! ConvDESOM) on one dataset and seed, each reduced to its prototypes and the test set in the
//! space where test samples are assigned.

use super::{PresetSpec, Spec};
use anyhow::{bail, Context, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::{Neighbourhood, Schedule, SomConfig, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::desom::{fit_autoencoder, fit_desom, AutoencoderTrainConfig, DesomRecord, DesomTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::som::{fit_som, SomRule, SomTrainConfig};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Instant;
use tch::{nn, Tensor};

/// One compared model (paper 002, Sec. 5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// k-means with `kmeans_k` clusters on pixels.
    Kmeans,
    /// Gradient ("Keras") SOM on pixels.
    Som,
    /// Online Kohonen SOM on pixels (paper 004, Table 1: "minisom"; needs [`Inputs::online`]).
    OnlineSom,
    /// k-means on the codes of an AE pretrained on `L_R` alone.
    AeKmeans,
    /// Gradient SOM on the codes of an AE pretrained on `L_R` alone.
    AeSom,
    /// Online Kohonen SOM on the codes of an AE pretrained on `L_R` alone (paper 004, Table 1:
    /// "AE+minisom"; needs [`Inputs::online`]).
    AeOnlineSom,
    /// k-means on the codes of DESOM's autoencoder (needs `desom` earlier in the list).
    DesomAeKmeans,
    /// Gradient SOM on the codes of DESOM's autoencoder (needs `desom` earlier in the list).
    DesomAeSom,
    /// DESOM with the dense AE (Algorithm 3, no pretraining) on the spec's grid.
    Desom,
    /// DESOM with the convolutional AE.
    ConvDesom,
    /// DESOM on the spec's `large_grid` (paper: 20x20, Figs. 4 and 17).
    DesomLarge,
    /// DESOM on the one-dimensional `#classes x 1` map (Table 11).
    DesomLine,
}

/// Where the codes of a two-stage model come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoder {
    /// An AE pretrained on `L_R` alone.
    Pretrained,
    /// The AE of the DESOM model trained before it.
    Desom,
}

impl Model {
    /// The id that keys results (`summary.json`, report rows): the spec's name of the model.
    pub fn id(self) -> &'static str {
        match self {
            Model::Kmeans => "kmeans",
            Model::Som => "som",
            Model::AeKmeans => "ae-kmeans",
            Model::AeSom => "ae-som",
            Model::OnlineSom => "online-som",
            Model::AeOnlineSom => "ae-online-som",
            Model::DesomAeKmeans => "desom-ae-kmeans",
            Model::DesomAeSom => "desom-ae-som",
            Model::Desom => "desom",
            Model::ConvDesom => "conv-desom",
            Model::DesomLarge => "desom-large",
            Model::DesomLine => "desom-line",
        }
    }

    /// Every model, for looking up an id.
    pub const ALL: [Model; 12] = [
        Model::Kmeans,
        Model::Som,
        Model::OnlineSom,
        Model::AeKmeans,
        Model::AeSom,
        Model::AeOnlineSom,
        Model::DesomAeKmeans,
        Model::DesomAeSom,
        Model::Desom,
        Model::ConvDesom,
        Model::DesomLarge,
        Model::DesomLine,
    ];

    /// Row label in the report (the paper's names, with the spec's map sizes and k).
    pub fn label(self, spec: &Spec) -> String {
        let size = |g: &Grid| format!("{}x{}", g.rows(), g.cols());
        match self {
            Model::Kmeans => format!("k-means (k={})", spec.kmeans_k),
            Model::Som => format!("SOM ({})", size(&spec.grid)),
            Model::AeKmeans => "AE+k-means".into(),
            Model::AeSom => "AE+SOM".into(),
            Model::OnlineSom => format!("online SOM ({})", size(&spec.grid)),
            Model::AeOnlineSom => "AE+online SOM".into(),
            Model::DesomAeKmeans => "DESOM-AE+k-means".into(),
            Model::DesomAeSom => "DESOM-AE+SOM".into(),
            Model::Desom => format!("DESOM ({})", size(&spec.grid)),
            Model::ConvDesom => format!("ConvDESOM ({})", size(&spec.grid)),
            Model::DesomLarge => format!("DESOM ({})", size(&spec.large_grid)),
            Model::DesomLine => "DESOM (#classes x 1)".into(),
        }
    }

    /// Whether it is a self-organizing map (topology metrics and post-clustering apply).
    pub fn is_map(self) -> bool {
        !matches!(self, Model::Kmeans | Model::AeKmeans | Model::DesomAeKmeans)
    }

    /// The encoder whose codes a two-stage model clusters, `None` for the others.
    pub fn encoder(self) -> Option<Encoder> {
        match self {
            Model::AeKmeans | Model::AeSom | Model::AeOnlineSom => Some(Encoder::Pretrained),
            Model::DesomAeKmeans | Model::DesomAeSom => Some(Encoder::Desom),
            _ => None,
        }
    }

    /// The map of this model: the spec's grid, its large grid, or the `classes x 1` line.
    pub fn grid(self, spec: &Spec) -> Result<Grid> {
        Ok(match self {
            Model::DesomLarge => spec.large_grid,
            Model::DesomLine => Grid::new(spec.classes, 1, Lattice::Rectangular, Boundary::Bounded)?,
            _ => spec.grid,
        })
    }
}

/// Checks that every DESOM-AE model comes after `desom` in `models`.
pub fn check_order(models: &[Model]) -> Result<()> {
    for (i, m) in models.iter().enumerate() {
        if m.encoder() == Some(Encoder::Desom) && !models[..i].contains(&Model::Desom) {
            bail!("models: `{m:?}` uses DESOM's autoencoder, so `desom` must come before it in the list (found {models:?})");
        }
    }
    Ok(())
}

/// A fitted model reduced to what the evaluation needs.
#[derive(Debug)]
pub struct Fitted {
    /// Which model.
    pub model: Model,
    /// Its map (for k-means: the spec's grid, unused).
    pub grid: Grid,
    /// Training seconds (the AE pretraining included for AE+ models).
    pub seconds: f64,
    /// Training iterations (Lloyd iterations are not counted for k-means: 0).
    pub iterations: usize,
    /// Prototypes in the assignment space (pixels or latent codes), `[K, d]`.
    pub prototypes: Tensor,
    /// For k-means models, the centroids of a second k-means with `k = #classes` in the same
    /// space (Table 11), `[classes, d]`.
    pub class_centroids: Option<Tensor>,
    /// The test samples in the same space, `[n, d]`.
    pub test: Tensor,
    /// Whether the assignment space is a learned latent space.
    pub latent: bool,
    /// Prototypes as images, `[K, C*H*W]` (the SOM weights or the decoded latent prototypes).
    pub pixel_prototypes: Option<Tensor>,
    /// DESOM's training history (empty for the others).
    pub history: Vec<DesomRecord>,
    /// DESOM's autoencoder with the encoded sets, kept when a DESOM-AE model needs it.
    pub encoded: Option<Encoded>,
}

/// What all models of one dataset and seed share: the data and the seed.
pub struct Inputs<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The preset.
    pub preset: &'a PresetSpec,
    /// The whole training set `[n, C*H*W]` (MNIST: `[60000, 784]`) with labels, on the device.
    pub train: &'a Dataset,
    /// The test set `[n, C*H*W]` (MNIST: `[10000, 784]`) with labels, on the device.
    pub test: &'a Dataset,
    /// Training seed.
    pub seed: u64,
    /// Checkpoint folder of this dataset's DESOM runs (one subfolder per model and seed), if any.
    pub checkpoints: Option<PathBuf>,
    /// Continue every DESOM run whose checkpoint exists.
    pub resume: bool,
    /// The online SOM of the `online-som` models (`None`: they cannot run).
    pub online: Option<OnlineSomSpec>,
}

/// The online Kohonen SOM (paper 002, Algorithm 1) of the `online-som` models: learning rate
/// `α(i)` and temperature `T(i)` schedules over the preset's `som_iterations` sample presentations.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineSomSpec {
    /// Learning rate `α(i)` from `start` to `end`.
    pub lr: Schedule,
    /// Temperature `T(i)` of the Gaussian neighbourhood `exp(-d^2 / T^2)`.
    pub temperature: Schedule,
}

/// An autoencoder with both sets encoded and the seconds it took to train.
pub struct Encoded {
    autoencoder: Box<dyn Backbone>,
    /// Training seconds.
    pub seconds: f64,
    train_codes: Tensor,
    test_codes: Tensor,
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded").field("seconds", &self.seconds).field("train_codes", &self.train_codes.size()).finish_non_exhaustive()
    }
}

/// The autoencoders the two-stage models use, filled as the models run.
#[derive(Debug, Default)]
pub struct Encoders {
    /// The AE pretrained on `L_R` alone.
    pub pretrained: Option<Encoded>,
    /// DESOM's AE.
    pub desom: Option<Encoded>,
}

impl Encoders {
    fn get(&self, which: Encoder) -> Result<&Encoded> {
        match which {
            Encoder::Pretrained => self.pretrained.as_ref().context("AE+ models need the pretrained AE"),
            Encoder::Desom => self.desom.as_ref().context("DESOM-AE models need `desom` trained first"),
        }
    }
}

impl Inputs<'_> {
    /// The SOM layer of the paper (Table 2): `grid`, Gaussian neighbourhood, prototypes drawn
    /// from data samples.
    fn som_config(&self, grid: Grid) -> SomConfig {
        SomConfig { grid, init: SomInit::DataSamples, neighbourhood: Neighbourhood::Gaussian, map_distance: Default::default() }
    }

    /// DESOM's training settings: Table 2 for `grid` with the preset's iterations and logging
    /// interval.
    fn desom_train_config(&self, grid: &Grid, iterations: usize) -> DesomTrainConfig {
        DesomTrainConfig {
            log_every: self.preset.log_every.min(iterations),
            optimizer: self.spec.optimizer,
            batch_size: self.spec.batch_size,
            ..DesomTrainConfig::paper(grid, iterations, self.seed)
        }
    }

    /// Pretrains the dense AE on `L_R` alone for `ae_pretrain_iterations` (a `pretrain` phase
    /// on the one trainer, DESOM's optimizer, batch size and seeds) and encodes both sets.
    pub fn pretrain(&self) -> Result<Encoded> {
        let desom = self.desom_train_config(&self.spec.grid, self.preset.ae_pretrain_iterations);
        let config = AutoencoderTrainConfig::like_desom(&desom);
        let start = Instant::now();
        let run = fit_autoencoder(self.train, &AutoencoderConfig::Dense(self.spec.dense.clone()), &config, &mut Silent)
            .context("AE pretraining")?;
        let seconds = start.elapsed().as_secs_f64();
        Ok(Encoded {
            train_codes: encode_chunked(run.backbone.as_ref(), &self.train.x)?,
            test_codes: encode_chunked(run.backbone.as_ref(), &self.test.x)?,
            autoencoder: run.backbone,
            seconds,
        })
    }

    /// k-means with `k` clusters on `train`: the centroids `[k, d]`.
    fn kmeans(&self, train: &Tensor, k: usize) -> Result<Tensor> {
        let km = &self.spec.kmeans;
        let config = KMeansConfig { k, n_init: self.preset.kmeans_n_init, max_iter: km.max_iter, tol: km.tol, seed: self.seed };
        Ok(config.fit(train)?.centroids)
    }

    /// The SOM of `model` on `train` on the spec's grid for `som_iterations` steps: the
    /// weights `[K, d]`. The gradient SOM (paper 002, Sec. 3.4: Adam 1e-3, batch 256, paper
    /// temperature schedule) or, for the `online-som` models, the online Kohonen SOM of
    /// [`Inputs::online`] (one sample per step).
    fn som(&self, model: Model, train: &Tensor) -> Result<Tensor> {
        let vs = nn::VarStore::new(train.device());
        let layer = self.som_config(self.spec.grid).build(&vs.root(), train, self.seed)?;
        let (rule, temperature) = if matches!(model, Model::OnlineSom | Model::AeOnlineSom) {
            let online = self.online.context("the online-som models need the online SOM settings")?;
            (SomRule::Online { lr: online.lr }, online.temperature)
        } else {
            let rule = SomRule::Gradient { batch_size: self.spec.batch_size, lr: self.spec.optimizer.lr };
            (rule, Schedule::paper_temperature(&self.spec.grid))
        };
        let iterations = self.preset.som_iterations;
        let config = SomTrainConfig { rule, iterations, temperature, seed: self.seed, log_every: iterations };
        fit_som(&vs, &layer, &Dataset::new(train.shallow_clone(), None)?, &config, &mut Silent)?;
        Ok(layer.weight.detach())
    }

    /// Trains `model`; the two-stage models take their codes from `encoders`. With
    /// `keep_encoder`, DESOM keeps its autoencoder and encoded sets in [`Fitted::encoded`].
    pub fn fit(&self, model: Model, encoders: &Encoders, keep_encoder: bool) -> Result<Fitted> {
        let grid = model.grid(self.spec)?;
        if matches!(model, Model::Desom | Model::ConvDesom | Model::DesomLarge | Model::DesomLine) {
            return self.desom(model, grid, keep_encoder);
        }
        let encoded = model.encoder().map(|e| encoders.get(e)).transpose()?;
        let (train, test) = match encoded {
            Some(e) => (&e.train_codes, &e.test_codes),
            None => (&self.train.x, &self.test.x),
        };
        let start = Instant::now();
        let (prototypes, class_centroids, iterations) = if model.is_map() {
            (self.som(model, train)?, None, self.preset.som_iterations)
        } else {
            (self.kmeans(train, self.spec.kmeans_k)?, Some(self.kmeans(train, self.spec.classes)?), 0)
        };
        let seconds = start.elapsed().as_secs_f64() + encoded.map_or(0.0, |e| e.seconds);
        let pixel_prototypes = match (model.is_map(), encoded) {
            (false, _) => None,
            (true, None) => Some(prototypes.shallow_clone()),
            (true, Some(e)) => {
                let _guard = tch::no_grad_guard();
                Some(e.autoencoder.decode(&prototypes)?)
            }
        };
        Ok(Fitted {
            model,
            grid,
            seconds,
            iterations,
            prototypes,
            class_centroids,
            test: test.shallow_clone(),
            latent: encoded.is_some(),
            pixel_prototypes,
            history: Vec::new(),
            encoded: None,
        })
    }

    /// DESOM (dense AE) or ConvDESOM (convolutional AE, images `[n, C, H, W]`) on `grid`.
    fn desom(&self, model: Model, grid: Grid, keep_encoder: bool) -> Result<Fitted> {
        let (autoencoder, shape): (AutoencoderConfig, &[i64]) = match model {
            Model::ConvDesom => {
                let c = &self.spec.conv;
                (AutoencoderConfig::Conv(c.clone()), &[-1, c.channels, c.height, c.width])
            }
            _ => (AutoencoderConfig::Dense(self.spec.dense.clone()), &[-1, self.spec.dense.input_dim]),
        };
        let reshape =
            |d: &Dataset| -> Result<Dataset> { Ok(Dataset::new(d.x.f_reshape(shape)?, d.y.as_ref().map(Tensor::shallow_clone))?) };
        let (train, test) = (reshape(self.train)?, reshape(self.test)?);
        let config = DesomConfig { autoencoder, som: self.som_config(grid), gamma: self.spec.gamma };
        let start = Instant::now();
        let checkpoint = self.checkpoints.as_ref().map(|dir| dir.join(format!("{}-seed{}", model.id(), self.seed)));
        let resume = self.resume && checkpoint.as_ref().is_some_and(|dir| dir.join("state").is_dir() || dir.join("state.old").is_dir());
        let train_config = DesomTrainConfig { checkpoint, resume, ..self.desom_train_config(&grid, self.preset.iterations) };
        let run = fit_desom(&train, Some(&test), &config, &train_config, &mut Silent)
            .with_context(|| format!("training {}", model.label(self.spec)))?;
        let seconds = start.elapsed().as_secs_f64();
        let decoded = run.model.decoded_prototypes()?.f_reshape([-1, self.spec.dense.input_dim])?; // [K, C*H*W] (conv output is a non-contiguous crop)
        let test_codes = run.model.encode_all(&test.x)?;
        let encoded = if keep_encoder {
            Some(Encoded {
                train_codes: run.model.encode_all(&train.x)?,
                test_codes: test_codes.shallow_clone(),
                autoencoder: run.model.backbone,
                seconds,
            })
        } else {
            None
        };
        Ok(Fitted {
            model,
            grid,
            seconds,
            iterations: self.preset.iterations,
            prototypes: run.model.som.weight.detach(),
            class_centroids: None,
            test: test_codes,
            latent: true,
            pixel_prototypes: Some(decoded),
            history: run.history,
            encoded,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desom_ae_models_must_follow_desom() {
        assert!(check_order(&[Model::Desom, Model::DesomAeSom, Model::DesomAeKmeans]).is_ok());
        assert!(check_order(&[Model::AeSom, Model::Kmeans]).is_ok());
        assert!(check_order(&[Model::DesomAeSom, Model::Desom]).is_err());
        assert!(check_order(&[Model::ConvDesom, Model::DesomAeKmeans]).is_err());
    }

    #[test]
    fn shipped_spec_gives_each_map_its_grid() {
        let spec: Spec = toml::from_str(super::super::SPEC).unwrap();
        let shape = |m: Model| m.grid(&spec).map(|g| (g.rows(), g.cols())).unwrap();
        assert_eq!(shape(Model::Desom), (8, 8));
        assert_eq!(shape(Model::DesomLarge), (20, 20));
        assert_eq!(shape(Model::DesomLine), (spec.classes, 1));
        check_order(&spec.quick.models).unwrap();
        check_order(&spec.full.models).unwrap();
    }
}
