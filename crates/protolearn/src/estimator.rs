//! The estimator: a checked [`EstimatorConfig`] that fits any model family on a [`Data`] through
//! protolearn-train's one trainer (`fit_som`, `fit_desom`, `fit_competitive`, ...) and returns a
//! [`Fitted`] model. Missing values (`NaN`) are refused, imputed or masked as the config says
//! ([`crate::missing`]).

use crate::config::{DdclSpec, EstimatorConfig, ModelSpec, SomSpec};
use crate::error::{Error, Result};
use crate::fitted::{prepared_tensor, Fitted, InputInfo, Summary};
use crate::history::Recorder;
use crate::missing::{starting_rows, FittedMissing, MissingValues};
use crate::model::{autoencoder_config, desom_config, model_sample_shape, som_config, Model};
use crate::scaler::{FittedScaler, Scaling};
use crate::scores::{score_model, UnitSummary};
use protolearn_data::tensor::Dataset;
use protolearn_data::{Data, Table};
use protolearn_layers::ddcl::{DclInput, DdclConfig};
use protolearn_layers::kmeans::KMeansConfig;
use protolearn_layers::som::{Decay, Schedule};
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::clustering::FeatureKMeans;
use protolearn_train::competitive::fit_competitive;
use protolearn_train::ddcl::{fit_ddcl, DclStart, DdclTrainConfig, DdclVariant};
use protolearn_train::desom::{fit_autoencoder, fit_desom, AutoencoderTrainConfig, DesomTrainConfig};
use protolearn_train::lvq::{fit_lvq, LvqTrainConfig};
use protolearn_train::observer::{Observer, Silent};
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use protolearn_train::som::{fit_som, SomTrainConfig};
use protolearn_train::DeviceChoice;
use std::path::Path;
use std::time::Instant;
use tch::{nn, Tensor};

/// Records per run when `log_every` is not set.
const DEFAULT_RECORDS: usize = 50;

/// Fits a model family on data. Build it from a config ([`Estimator::new`], a `MODEL.toml` with
/// [`Estimator::from_file`]) or with a shortcut ([`Estimator::som`]).
///
/// ```
/// use protolearn::prelude::*;
/// let rows: Vec<f32> = (0..200).flat_map(|i| { let c = (i % 2) as f32 * 5.0; [c + (i as f32 * 0.37).sin(), c] }).collect();
/// let data = Data::new("two-blobs", rows, vec![200, 2], None)?;
/// let som = Estimator::som(4, 4)?.with_scaling(Scaling::Standard).fit(&data)?;
/// let winners = som.predict(&data)?;
/// assert_eq!(winners.len(), 200);
/// assert!(som.score(&data)?.quantization_error < 0.5);
/// # Ok::<(), protolearn::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Estimator {
    config: EstimatorConfig,
}

impl Estimator {
    /// An estimator for a checked `config`.
    pub fn new(config: EstimatorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Estimator { config })
    }

    /// An estimator from a `MODEL.toml` file (errors name the file, line and column).
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(Estimator { config: EstimatorConfig::load(path)? })
    }

    /// A `rows x cols` rectangular batch SOM with the defaults of [`SomSpec::new`].
    pub fn som(rows: usize, cols: usize) -> Result<Self> {
        let grid = Grid::new(rows, cols, Lattice::Rectangular, Boundary::Bounded)?;
        Self::new(EstimatorConfig::new(ModelSpec::Som(SomSpec::new(grid))))
    }

    /// The same estimator with another input scaling.
    pub fn with_scaling(mut self, scaling: Scaling) -> Self {
        self.config.scaling = scaling;
        self
    }

    /// The same estimator with another seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }

    /// The same estimator on another device.
    pub fn with_device(mut self, device: DeviceChoice) -> Self {
        self.config.device = device;
        self
    }

    /// The config.
    pub fn config(&self) -> &EstimatorConfig {
        &self.config
    }

    /// Fits on `data` (`[n, ...]`; labels, if any, are used for scores and class maps only),
    /// features named `x0, x1, ...`.
    pub fn fit(&self, data: &Data) -> Result<Fitted> {
        self.fit_named(data, &[], None, &mut Silent)
    }

    /// The same estimator with another treatment of missing values.
    pub fn with_missing(mut self, missing: MissingValues) -> Result<Self> {
        self.config.missing = missing;
        self.config.validate()?;
        Ok(self)
    }

    /// Fits on a table read by [`protolearn_data::load_table`], with its feature and class names.
    pub fn fit_table(&self, table: &Table) -> Result<Fitted> {
        self.fit_table_observed(table, &mut Silent)
    }

    /// [`Estimator::fit_table`] with an observer of the training. The model keeps the table's
    /// CSV columns and categorical encodings, so that new files are read the same way.
    pub fn fit_table_observed(&self, table: &Table, observer: &mut dyn Observer) -> Result<Fitted> {
        let mut fitted = self.fit_named(&table.data, &table.feature_names, table.classes.as_deref(), observer)?;
        fitted.input.columns = table.columns.clone();
        fitted.input.categorical = table.categorical.clone();
        Ok(fitted)
    }

    /// Fits on `data` with feature names (empty: `x0, x1, ...`), the class names of the label
    /// indices, and an observer of the training (e.g. a progress bar).
    pub fn fit_named(
        &self,
        data: &Data,
        feature_names: &[String],
        classes: Option<&[String]>,
        observer: &mut dyn Observer,
    ) -> Result<Fitted> {
        let (n, d) = (data.n_samples(), data.n_features());
        if n == 0 || d == 0 {
            return Err(Error::Shape {
                what: format!("data `{}`", data.name),
                expected: "at least one sample of at least one feature".into(),
                found: format!("shape {:?}", data.shape),
            });
        }
        if !feature_names.is_empty() && feature_names.len() != d {
            return Err(Error::Shape {
                what: "feature names".into(),
                expected: format!("one per feature ({d})"),
                found: format!("{} names", feature_names.len()),
            });
        }
        let sample_shape = data.shape[1..].to_vec();
        let input = InputInfo {
            feature_names: if feature_names.is_empty() { (0..d).map(|j| format!("x{j}")).collect() } else { feature_names.to_vec() },
            sample_shape: sample_shape.clone(),
            classes: classes.map(<[String]>::to_vec),
            labelled: data.labels.is_some(),
            columns: Vec::new(),
            categorical: Vec::new(),
        };
        let device = self.config.device.resolve()?;
        let missing = FittedMissing::fit(self.config.missing, &data.features, &input.feature_names)?;
        let mut treated = data.features.clone();
        missing.apply(&mut treated, &input.feature_names)?;
        let scaler = FittedScaler::fit(self.config.scaling, &treated, d)?;
        let shape = model_sample_shape(&self.config.model, &sample_shape);
        let x = prepared_tensor(data, &missing, &scaler, &input.feature_names, &shape, device)?;
        let y = data.labels.as_ref().map(|l| Tensor::f_from_slice(l).and_then(|t| t.f_to_device(device))).transpose()?;
        let dataset = Dataset::new(x, y)?;
        let mut recorder = Recorder::new(observer);
        let start = Instant::now();
        let model = self.train(&dataset, &input, &mut recorder)?;
        let seconds = start.elapsed().as_secs_f64();
        let (training, winners) = score_model(&model, &dataset.x, data.labels.as_deref())?;
        let units = UnitSummary::count(&winners, data.labels.as_deref(), model.prototypes().size()[0] as usize);
        let summary = Summary {
            kind: self.config.model.kind().into(),
            n_samples: n,
            seconds,
            device: format!("{device:?}"),
            training,
            units,
            library_version: env!("CARGO_PKG_VERSION").into(),
        };
        Ok(Fitted { config: self.config.clone(), input, missing, scaler, model, summary, history: recorder.records, device })
    }

    /// Trains the configured family on `data` (scaled, on the device) through the one trainer.
    fn train(&self, data: &Dataset, input: &InputInfo, observer: &mut dyn Observer) -> Result<Model> {
        let seed = self.config.seed;
        let components = self.config.missing.components();
        let log_every = |configured: Option<usize>, steps: usize| configured.unwrap_or((steps / DEFAULT_RECORDS).max(1));
        Ok(match &self.config.model {
            ModelSpec::Som(spec) => {
                let vs = nn::VarStore::new(data.device());
                let layer = som_config(spec).build(&(vs.root() / "som"), &starting_rows(&data.x, components), seed)?.with_components(components);
                let train = SomTrainConfig {
                    rule: spec.rule,
                    iterations: spec.iterations,
                    temperature: spec.temperature(),
                    seed,
                    log_every: log_every(spec.log_every, spec.iterations),
                };
                fit_som(&vs, &layer, data, &train, observer)?;
                Model::Som { vs, layer }
            }
            ModelSpec::Desom(spec) => {
                let model = desom_config(spec, &input.sample_shape)?;
                let train = DesomTrainConfig {
                    optimizer: OptimizerConfig { kind: OptimizerKind::Adam, lr: spec.lr },
                    iterations: spec.iterations,
                    batch_size: spec.batch_size.min(data.n_samples()),
                    temperature: spec.temperature(),
                    pretrain_iterations: spec.pretrain_iterations,
                    update_interval: 1,
                    log_every: log_every(spec.log_every, spec.iterations),
                    seed,
                    checkpoint: None,
                    resume: false,
                };
                let eval = data.y.is_some().then_some(data);
                let run = fit_desom(data, eval, &model, &train, observer)?;
                Model::Desom { vs: run.vs, model: run.model }
            }
            ModelSpec::Lvq(spec) => {
                let Some(classes) = data.y.as_ref().map(|y| y.max().int64_value(&[]) + 1) else {
                    return Err(Error::NoLabels {
                        what: "fitting an LVQ head".into(),
                        missing: "the training data has none (name the label column: --labels)".into(),
                    });
                };
                let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: spec.lr };
                let train = LvqTrainConfig {
                    init: spec.init,
                    components,
                    ..LvqTrainConfig::new(optimizer, spec.batch_size.min(data.n_samples()), spec.epochs, seed)
                };
                let run = fit_lvq(data, None, None, &spec.head(classes), &train, observer)?;
                Model::Lvq { vs: run.vs, head: run.head }
            }
            ModelSpec::Ddcl(spec) => train_ddcl(spec, data, input, seed, observer)?,
            ModelSpec::KMeans(spec) => Model::KMeans { centroids: KMeansConfig { seed, ..*spec }.fit_over(&data.x, components)?.centroids, components },
            ModelSpec::Competitive(spec) => {
                let run = fit_competitive(&data.x.unsqueeze(0), &[seed], &spec.layer, &spec.training(), observer)?;
                Model::Competitive { prototypes: run.prototypes.detach().squeeze_dim(0).contiguous() }
            }
        })
    }
}

/// Trains DDCL (paper 001) with an optional AE pretraining, and keeps its backbone and its
/// inference prototypes.
fn train_ddcl(spec: &DdclSpec, data: &Dataset, input: &InputInfo, seed: u64, observer: &mut dyn Observer) -> Result<Model> {
    let n = data.n_samples();
    let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: spec.lr };
    let batch_size = spec.batch_size.min(n);
    let dcl_size = if spec.dcl_input == DclInput::Batch { batch_size } else { spec.dcl_size.min(n) };
    let backbone = autoencoder_config(&spec.autoencoder, &input.sample_shape)?;
    let pretrained = match spec.pretrain_iterations {
        0 => None,
        iterations => {
            let config =
                AutoencoderTrainConfig { optimizer, iterations, batch_size, log_every: (iterations / DEFAULT_RECORDS).max(1), seed };
            Some(fit_autoencoder(data, &backbone, &config, observer)?.vs)
        }
    };
    let model = DdclConfig {
        backbone,
        n_prototypes: spec.n_prototypes,
        hidden: spec.hidden.clone(),
        bias: false,
        dcl_input: spec.dcl_input,
        dcl_size: dcl_size as i64,
        feature_norm: spec.feature_norm,
    };
    let kmeans = FeatureKMeans { n_init: 1, max_iter: 300, tol: 1e-4 };
    let train = DdclTrainConfig {
        optimizer,
        dcl_lr: Some(spec.dcl_lr),
        batch_size,
        epochs: spec.epochs,
        log_every: spec.log_every,
        tau: Schedule { decay: Decay::Exponential, start: spec.tau, end: spec.tau_end.unwrap_or(spec.tau) },
        reconstruction_weight: spec.reconstruction_weight,
        running_momentum: spec.running_momentum,
        variant: spec.variant,
        scale_invariant: false,
        separation_weight: spec.separation_weight,
        // The k-means start needs features worth clustering (pretrained) and a linear DCL.
        dcl_init: if pretrained.is_some() && spec.hidden.is_empty() { DclStart::KMeans } else { DclStart::Glorot },
        kmeans,
        seed,
    };
    let eval = data.y.is_some().then_some(data);
    let run = fit_ddcl(data, eval, &model, &train, pretrained.as_ref(), observer)?;
    // Saved in the backbone's raw feature space: k-means of the raw features (k-means commutes
    // with the standardisation, a translation and one scale), else the DCL's prototypes mapped
    // back from the normalised space they were computed in.
    let prototypes = match (spec.variant, spec.dcl_input) {
        (DdclVariant::KMeans, _) => kmeans.fit(run.model.backbone.as_ref(), &data.x, spec.n_prototypes as usize, seed)?.centroids,
        (_, DclInput::Reference) => run.model.raw_prototypes(&run.model.reference_prototypes()?, run.model.reference())?,
        // Full batch: the reference set is the training set in its order, so its prototypes are
        // the trained ones (a running average would lag behind them).
        (_, DclInput::Batch) if batch_size >= n => run.model.raw_prototypes(&run.model.reference_prototypes()?, run.model.reference())?,
        (_, DclInput::Batch) => run.model.raw_prototypes(&run.model.running_prototypes().detach().copy(), &data.x)?,
    };
    Ok(Model::Ddcl { vs: run.vs, backbone: run.model.backbone, prototypes: prototypes.contiguous() })
}
