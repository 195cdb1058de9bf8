//! The compared models of paper 002, Sec. 5 (k-means, SOM, AE+k-means, AE+SOM, DESOM, ConvDESOM)
//! as estimator model specs ([`Inputs::model_spec`]: the `[model]` table a user would write),
//! fitted on one dataset and seed through [`Estimator::fit_tensors`] (what `protolearn fit`
//! runs), each reduced to its prototypes and the test set in the space where test samples are
//! assigned.

use super::{PresetSpec, Spec};
use anyhow::{bail, Context, Result};
use protolearn::config::{BackboneSpec, CodeClustering, DesomSpec, ModelSpec, SomSpec, TwoStageSpec};
use protolearn::{Estimator, EstimatorConfig};
use protolearn_data::tensor::Dataset;
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::{Neighbourhood, Schedule, SomInit};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::desom::{DesomRecord, Phase};
use protolearn_train::observer::Silent;
use protolearn_train::optim::OptimizerKind;
use protolearn_train::run::Checkpointing;
use protolearn_train::som::SomRule;
use serde::Deserialize;
use std::path::PathBuf;
use tch::Tensor;

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
    /// Seconds of the `L_R`-only AE pretraining of an AE+ model (the sum of its logged
    /// intervals), `None` for the others.
    pub pretrain_seconds: Option<f64>,
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
    /// The fitted autoencoder model with the encoded sets, for the models that reuse it.
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
    /// Checkpoint folder of this dataset's runs (one subfolder per model and seed), if any.
    pub checkpoints: Option<PathBuf>,
    /// Continue every run whose checkpoint exists.
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

/// A fitted autoencoder model (DESOM, or an AE+ model's two-stage fit) with both sets encoded,
/// for the models that cluster its codes.
pub struct Encoded {
    /// Which autoencoder it is.
    pub source: Encoder,
    fitted: protolearn::Fitted,
    /// Training seconds of the autoencoder (DESOM's whole fit; the AE pretraining of a
    /// two-stage fit).
    pub seconds: f64,
    train_codes: Tensor,
    test_codes: Tensor,
}

impl Encoded {
    /// `fitted` with the codes of `train` and the test codes already computed.
    fn new(source: Encoder, fitted: protolearn::Fitted, seconds: f64, train: &Dataset, test_codes: &Tensor) -> Result<Self> {
        Ok(Encoded { source, train_codes: codes(&fitted, &train.x)?, test_codes: test_codes.shallow_clone(), seconds, fitted })
    }
}

/// The autoencoders the two-stage models reuse, filled as a seed's models run.
#[derive(Debug, Default)]
pub struct Encoders {
    /// The AE of the seed's first AE+ model.
    pub pretrained: Option<Encoded>,
    /// DESOM's.
    pub desom: Option<Encoded>,
}

impl Encoders {
    /// The autoencoder `which`.
    fn get(&self, which: Encoder) -> Result<&Encoded> {
        match which {
            Encoder::Pretrained => self.pretrained.as_ref().context("AE+ models reuse the first AE+ model's autoencoder"),
            Encoder::Desom => self.desom.as_ref().context("DESOM-AE models need `desom` trained first"),
        }
    }

    /// Keeps `encoded` in its slot.
    pub fn keep(&mut self, encoded: Encoded) {
        match encoded.source {
            Encoder::Pretrained => self.pretrained = Some(encoded),
            Encoder::Desom => self.desom = Some(encoded),
        }
    }
}

impl std::fmt::Debug for Encoded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Encoded").field("seconds", &self.seconds).field("train_codes", &self.train_codes.size()).finish_non_exhaustive()
    }
}

/// `fitted`'s codes of `x` `[n, ...]` (its latent codes, or `x` flattened for a model on pixels).
fn codes(fitted: &protolearn::Fitted, x: &Tensor) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    Ok(fitted.trained().codes(&fitted.model_input(x)?)?)
}

/// `d` viewed as images `[n, C, H, W]` of the spec's conv shape: every model's input (the dense
/// ones flatten it).
fn images(d: &Dataset, spec: &Spec) -> Result<Dataset> {
    spec.image()?; // the conv shape agrees with the dense input_dim
    let c = &spec.conv;
    Ok(Dataset::new(d.x.f_reshape([-1, c.channels, c.height, c.width])?, d.y.as_ref().map(Tensor::shallow_clone))?)
}

impl Inputs<'_> {
    /// The Adam learning rate of DESOM, the AEs and the gradient SOMs (the families train with
    /// Adam, as the paper; another optimizer in the spec is an error).
    fn adam_lr(&self) -> Result<f64> {
        match self.spec.optimizer.kind {
            OptimizerKind::Adam => Ok(self.spec.optimizer.lr),
            other => bail!("spec: optimizer {other:?}; the paper-002 models train with Adam (Table 2)"),
        }
    }

    /// The SOM of `model` on `grid` for `som_iterations` steps (paper 002, Table 2: Gaussian
    /// neighbourhood, prototypes drawn from samples): the gradient SOM (Sec. 3.4: Adam, batch
    /// 256, paper temperature schedule) or, for the `online-som` models, the online Kohonen SOM
    /// of [`Inputs::online`] (one sample per step).
    fn som(&self, model: Model, grid: Grid) -> Result<SomSpec> {
        let (rule, temperature) = if matches!(model, Model::OnlineSom | Model::AeOnlineSom) {
            let online = self.online.context("the online-som models need the online SOM settings")?;
            (SomRule::Online { lr: online.lr }, online.temperature)
        } else {
            (SomRule::Gradient { batch_size: self.spec.batch_size, lr: self.adam_lr()? }, Schedule::paper_temperature(&grid))
        };
        let iterations = self.preset.som_iterations;
        Ok(SomSpec {
            init: SomInit::DataSamples,
            neighbourhood: Neighbourhood::Gaussian,
            rule,
            iterations,
            temperature: Some(temperature),
            log_every: Some(iterations),
            ..SomSpec::new(grid)
        })
    }

    /// k-means with `k` clusters, the spec's iterations and tolerance, the preset's restarts.
    fn kmeans(&self, k: usize) -> KMeansConfig {
        let km = &self.spec.kmeans;
        KMeansConfig { k, n_init: self.preset.kmeans_n_init, max_iter: km.max_iter, tol: km.tol, seed: 0 }
    }

    /// The dense autoencoder of the spec.
    fn dense(&self) -> BackboneSpec {
        BackboneSpec::Dense { hidden: self.spec.dense.hidden.clone(), latent_dim: self.spec.dense.latent_dim }
    }

    /// DESOM (dense AE) or ConvDESOM (convolutional AE) on `grid`: Table 2 with the preset's
    /// iterations and logging interval.
    fn desom(&self, model: Model, grid: Grid) -> Result<DesomSpec> {
        let autoencoder = match model {
            Model::ConvDesom => BackboneSpec::Conv { filters: self.spec.conv.filters.clone(), latent_dim: self.spec.conv.latent_dim },
            _ => self.dense(),
        };
        let iterations = self.preset.iterations;
        Ok(DesomSpec {
            init: SomInit::DataSamples,
            neighbourhood: Neighbourhood::Gaussian,
            autoencoder,
            gamma: self.spec.gamma,
            iterations,
            batch_size: self.spec.batch_size,
            lr: self.adam_lr()?,
            temperature: Some(Schedule::paper_temperature(&grid)),
            log_every: Some(self.preset.log_every.min(iterations)),
            ..DesomSpec::new(grid)
        })
    }

    /// What `model` fits, as the estimator's model spec (the `[model]` table a user's
    /// `MODEL.toml` would hold); `None` for the DESOM-AE models, whose first stage is DESOM's.
    pub fn model_spec(&self, model: Model) -> Result<Option<ModelSpec>> {
        let grid = model.grid(self.spec)?;
        let second = || -> Result<CodeClustering> {
            Ok(if model.is_map() {
                CodeClustering::Som(self.som(model, grid)?)
            } else {
                CodeClustering::KMeans(self.kmeans(self.spec.kmeans_k))
            })
        };
        Ok(Some(match model {
            Model::Kmeans => ModelSpec::KMeans(self.kmeans(self.spec.kmeans_k)),
            Model::Som | Model::OnlineSom => ModelSpec::Som(self.som(model, grid)?),
            Model::Desom | Model::ConvDesom | Model::DesomLarge | Model::DesomLine => ModelSpec::Desom(self.desom(model, grid)?),
            Model::AeKmeans | Model::AeSom | Model::AeOnlineSom => {
                let iterations = self.preset.ae_pretrain_iterations;
                ModelSpec::TwoStage(TwoStageSpec {
                    autoencoder: self.dense(),
                    pretrain_iterations: iterations,
                    batch_size: self.spec.batch_size,
                    lr: self.adam_lr()?,
                    log_every: Some(self.preset.log_every.min(iterations)),
                    clustering: second()?,
                })
            }
            Model::DesomAeKmeans | Model::DesomAeSom => return Ok(None),
        }))
    }

    /// Fits `spec` with the seed on `train`, DESOM's history scored on `eval`; a DESOM run
    /// checkpoints into `model`'s folder when the run has one (the long runs; `--checkpoints`).
    fn fit_spec(&self, spec: ModelSpec, model: Model, train: &Dataset, eval: Option<&Dataset>) -> Result<protolearn::Fitted> {
        let is_desom = matches!(spec, ModelSpec::Desom(_));
        let mut estimator = Estimator::new(EstimatorConfig { seed: self.seed, ..EstimatorConfig::new(spec) })?.without_training_scores();
        if let (Some(dir), true) = (&self.checkpoints, is_desom) {
            let dir = dir.join(format!("{}-seed{}", model.id(), self.seed));
            let resume = self.resume && (dir.join("state").is_dir() || dir.join("state.old").is_dir());
            estimator = estimator.with_checkpoints(Checkpointing::new(dir, resume));
        }
        estimator.fit_tensors(train, eval, &mut Silent).with_context(|| format!("training {}", model.label(self.spec)))
    }

    /// Trains `model` through the estimator. The DESOM-AE models cluster the codes of DESOM's
    /// autoencoder in `encoders`; an AE+ model after the first of its seed clusters the codes of
    /// the first one's autoencoder (trained once, as an independent two-stage fit with the same
    /// seed would train it again, bit for bit). The first AE+ model, and DESOM with
    /// `keep_encoder`, hand their fitted model and encoded sets back in [`Fitted::encoded`].
    pub fn fit(&self, model: Model, encoders: &Encoders, keep_encoder: bool) -> Result<Fitted> {
        let grid = model.grid(self.spec)?;
        match (model.encoder(), &encoders.pretrained) {
            (Some(Encoder::Desom), _) => return self.fit_on_codes(model, grid, encoders.get(Encoder::Desom)?),
            (Some(Encoder::Pretrained), Some(pretrained)) => return self.fit_on_codes(model, grid, pretrained),
            _ => {}
        }
        let (train, test) = (images(self.train, self.spec)?, images(self.test, self.spec)?);
        let spec = self.model_spec(model)?.context("every model but the DESOM-AE ones has a spec")?;
        let is_desom = matches!(spec, ModelSpec::Desom(_));
        let fitted = self.fit_spec(spec, model, &train, is_desom.then_some(&test))?;
        let records = fitted.history();
        let pretrain_seconds = (model.encoder() == Some(Encoder::Pretrained))
            .then(|| records.iter().filter(|r| r.phase == Phase::Pretrain.name()).map(|r| r.seconds).sum());
        let history = if is_desom { records.iter().map(DesomRecord::from_log).collect::<Result<_, _>>()? } else { Vec::new() };
        let seconds = fitted.summary().seconds;
        let test_codes = codes(&fitted, &test.x)?;
        let class_centroids = if model.is_map() { None } else { Some(self.class_centroids(&codes(&fitted, &train.x)?)?) };
        let prototypes = fitted.trained().prototypes();
        let pixel_prototypes = if model.is_map() { Some(self.pixels(fitted.trained().input_space_prototypes()?)?) } else { None };
        let encoded = match (pretrain_seconds, keep_encoder && is_desom) {
            (Some(ae_seconds), _) => Some(Encoded::new(Encoder::Pretrained, fitted, ae_seconds, &train, &test_codes)?),
            (None, true) => Some(Encoded::new(Encoder::Desom, fitted, seconds, &train, &test_codes)?),
            (None, false) => None,
        };
        Ok(Fitted {
            model,
            grid,
            seconds,
            pretrain_seconds,
            iterations: if is_desom {
                self.preset.iterations
            } else if model.is_map() {
                self.preset.som_iterations
            } else {
                0
            },
            prototypes,
            class_centroids,
            test: test_codes,
            latent: is_desom || model.encoder().is_some(),
            pixel_prototypes,
            history,
            encoded,
        })
    }

    /// Images `[K, ...]` as rows of pixels `[K, C*H*W]`.
    fn pixels(&self, images: Tensor) -> Result<Tensor> {
        Ok(images.f_reshape([-1, self.spec.dense.input_dim])?)
    }

    /// The centroids of k-means with `k = #classes` on `codes` (Table 11's baseline rows).
    fn class_centroids(&self, codes: &Tensor) -> Result<Tensor> {
        let spec = ModelSpec::KMeans(self.kmeans(self.spec.classes));
        let estimator = Estimator::new(EstimatorConfig { seed: self.seed, ..EstimatorConfig::new(spec) })?.without_training_scores();
        Ok(estimator.fit_tensors(&Dataset::new(codes.shallow_clone(), None)?, None, &mut Silent)?.trained().prototypes())
    }

    /// A model clustering the codes of an autoencoder already trained (DESOM's, or the AE of the
    /// seed's first AE+ model): the SOM or k-means of `model` through the estimator on them, its
    /// prototypes decoded by that autoencoder's decoder.
    fn fit_on_codes(&self, model: Model, grid: Grid, encoded: &Encoded) -> Result<Fitted> {
        let second =
            if model.is_map() { ModelSpec::Som(self.som(model, grid)?) } else { ModelSpec::KMeans(self.kmeans(self.spec.kmeans_k)) };
        let codes = Dataset::new(encoded.train_codes.shallow_clone(), self.train.y.as_ref().map(Tensor::shallow_clone))?;
        let fitted = self.fit_spec(second, model, &codes, None)?;
        let prototypes = fitted.trained().prototypes();
        let pixel_prototypes = if model.is_map() { Some(self.pixels(encoded.fitted.trained().decode(&prototypes)?)?) } else { None };
        Ok(Fitted {
            model,
            grid,
            seconds: encoded.seconds + fitted.summary().seconds,
            pretrain_seconds: None,
            iterations: if model.is_map() { self.preset.som_iterations } else { 0 },
            class_centroids: (!model.is_map()).then(|| self.class_centroids(&encoded.train_codes)).transpose()?,
            prototypes,
            test: encoded.test_codes.shallow_clone(),
            latent: true,
            pixel_prototypes,
            history: Vec::new(),
            encoded: None,
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
