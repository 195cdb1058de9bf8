//! The estimator: a checked [`EstimatorConfig`] that fits any model family on a [`Data`] through
//! protolearn-train's one trainer (`fit_som`, `fit_desom`, `fit_competitive`, ...) and returns a
//! [`Fitted`] model. Missing values (`NaN`) are refused, imputed or masked as the config says
//! ([`crate::missing`]).

use crate::config::{EstimatorConfig, ModelSpec, SomSpec};
use crate::error::{Error, Result};
use crate::families::{FitContext, TrainedModel};
use crate::fitted::{prepared_tensor, Fitted, InputInfo, Summary};
use crate::history::Recorder;
use crate::missing::{FittedMissing, MissingValues};
use crate::scaler::{FittedScaler, Scaling};
use crate::scores::{score_model, Scores, UnitSummary};
use crate::streamed::{score_rows, ScaledRows};
use protolearn_data::tensor::Dataset;
use protolearn_data::{Data, Table};
use protolearn_layers::rows::RowSource;
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_train::observer::{Observer, Silent};
use protolearn_train::run::Checkpointing;
use protolearn_train::DeviceChoice;
use std::path::Path;
use std::time::Instant;
use tch::Tensor;

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
    checkpointing: Checkpointing,
    score_training: bool,
}

impl Estimator {
    /// An estimator for a checked `config`.
    pub fn new(config: EstimatorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Estimator { config, checkpointing: Checkpointing::default(), score_training: true })
    }

    /// An estimator from a `MODEL.toml` file (errors name the file, line and column).
    pub fn from_file(path: &Path) -> Result<Self> {
        Self::new(EstimatorConfig::load(path)?)
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

    /// The same estimator writing the trainer's resumable state into `checkpointing`'s folder at
    /// every log point and, with `resume`, continuing the run found there (same data, config and
    /// seed); on CPU a resumed fit ends bit for bit where the uninterrupted checkpointed fit ends.
    /// Every family but k-means, which ignores it (deterministic, in one go); DDCL then steps with
    /// the library's optimizer, equal to libtorch's to float32 rounding only.
    pub fn with_checkpoints(mut self, checkpointing: Checkpointing) -> Self {
        self.checkpointing = checkpointing;
        self
    }

    /// The same estimator leaving the training data unscored after the fit: the summary's
    /// [`Summary::training`] is `None` and its units have no hits or majority labels (so
    /// [`Fitted::predict_labels`] of a clustering family is an error; a classifier's prototypes
    /// keep their classes). For experiments that score their own evaluation set, where a forward
    /// pass over every training sample through a deep backbone would cost as much as an epoch.
    pub fn without_training_scores(mut self) -> Self {
        self.score_training = false;
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
        let shape = self.config.model.family().input_shape(&sample_shape);
        let x = prepared_tensor(data, &missing, &scaler, &input.feature_names, &shape, device)?;
        let y = data.labels.as_ref().map(|l| Tensor::f_from_slice(l).and_then(|t| t.f_to_device(device))).transpose()?;
        let dataset = Dataset::new(x, y)?;
        self.train_and_score(&dataset, None, data.labels.as_deref(), Prepared { input, missing, scaler }, observer)
    }

    /// Fits on tensors already prepared, on the device they are on: `train.x` `[n, ...sample]`
    /// with optional labels, and `eval`, a labelled set the trainer's evaluator scores at every
    /// log point (DESOM's and DDCL's purity, NMI, quantization and topographic errors, default
    /// the training set when it has labels; DeepCluster's clustering scores and the classifier
    /// heads' test accuracy, only on a set given here). The summary's training scores are
    /// computed on all of `train` after the fit (a forward pass over it) unless
    /// [`Estimator::without_training_scores`] says not to. This is how the
    /// benchmark experiments fit their models, so what they report is what a user's fit
    /// computes. The values are used as given:
    /// the config must have `scaling = "none"` and `missing = "reject"` (NaN is padding to the
    /// sequence backbones, see [`crate::config::BackboneSpec`]), and the config's device is not
    /// consulted.
    ///
    /// ```
    /// use protolearn::prelude::*;
    /// use protolearn::data::tensor::Dataset;
    /// let x = tch::Tensor::from_slice(&[0.0f32, 0.1, 0.2, 5.0, 5.1, 5.2]).view([6, 1]);
    /// let kmeans = Estimator::new(EstimatorConfig::new(ModelSpec::KMeans(protolearn::layers::kmeans::KMeansConfig::new(2, 0))))?;
    /// let fitted = kmeans.fit_tensors(&Dataset::new(x, None)?, None, &mut protolearn::train::observer::Silent)?;
    /// assert!(fitted.summary().training.as_ref().unwrap().quantization_error < 0.1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn fit_tensors(&self, train: &Dataset, eval: Option<&Dataset>, observer: &mut dyn Observer) -> Result<Fitted> {
        if self.config.scaling != Scaling::None || self.config.missing != MissingValues::Reject {
            return Err(Error::invalid(
                "scaling and missing",
                "scaling = \"none\" and missing = \"reject\" for tensors fitted as given",
                format!("{:?} and {:?}", self.config.scaling, self.config.missing),
            ));
        }
        let sample_shape: Vec<usize> = train.x.size()[1..].iter().map(|&d| d as usize).collect();
        let d = sample_shape.iter().product::<usize>();
        let input = InputInfo {
            feature_names: (0..d).map(|j| format!("x{j}")).collect(),
            sample_shape,
            classes: None,
            labelled: train.y.is_some(),
            columns: Vec::new(),
            categorical: Vec::new(),
        };
        let missing = FittedMissing::fit(MissingValues::Reject, &[], &input.feature_names)?;
        let prepared = Prepared { input, missing, scaler: FittedScaler::identity(d) };
        let shape = self.config.model.family().input_shape(&prepared.input.sample_shape);
        let as_input = |set: &Dataset| -> Result<Dataset> {
            let x = set.x.f_reshape(model_shape(&shape, set.n_samples() as i64))?;
            Ok(Dataset::new(x, set.y.as_ref().map(Tensor::shallow_clone))?)
        };
        let labels = train.y.as_ref().map(|y| Vec::<i64>::try_from(y.to_device(tch::Device::Cpu))).transpose()?;
        let eval = eval.map(as_input).transpose()?;
        self.train_and_score(&as_input(train)?, eval.as_ref(), labels.as_deref(), prepared, observer)
    }

    /// Trains on `dataset` (prepared, on its device), times it, scores it on the same data and
    /// assembles the fitted model.
    fn train_and_score(
        &self,
        dataset: &Dataset,
        eval: Option<&Dataset>,
        labels: Option<&[i64]>,
        prepared: Prepared,
        observer: &mut dyn Observer,
    ) -> Result<Fitted> {
        let Prepared { input, missing, scaler } = prepared;
        let mut recorder = Recorder::new(observer);
        let start = Instant::now();
        let context = FitContext {
            seed: self.config.seed,
            components: self.config.missing.components(),
            input: &input,
            checkpointing: &self.checkpointing,
            eval,
        };
        let model = self.config.model.family().fit(dataset, &context, &mut recorder)?;
        let seconds = start.elapsed().as_secs_f64();
        let (training, units) = self.training_scores(model.as_ref(), labels, || score_model(model.as_ref(), &dataset.x, labels))?;
        let device = dataset.device();
        let summary = self.summary(dataset.n_samples(), seconds, device, training, units);
        Ok(Fitted { config: self.config.clone(), input, missing, scaler, model, summary, history: recorder.records, device })
    }

    /// Fits on the rows of `source` read `chunk_rows` at a time, for data larger than memory
    /// (a `.npy` file or a folder of them through `protolearn_train::npy_source::NpySource`):
    /// the scaler is fitted over the chunks, every chunk is scaled as it is read, the model
    /// starts from a sample of [`crate::streamed::INIT_ROWS`] rows, and the training scores are
    /// accumulated chunk by chunk. The batch SOM and k-means train this way (their steps are
    /// sums over the data, read chunk by chunk), and DESOM (random minibatches read row by row);
    /// the rows have no labels and missing values are rejected. Peak memory is bounded by the
    /// chunk, the sample, the model and `[n]` winners.
    pub fn fit_rows(&self, source: &dyn RowSource, chunk_rows: usize, observer: &mut dyn Observer) -> Result<Fitted> {
        let (n, d) = (source.n_rows(), source.n_cols());
        if self.config.missing != MissingValues::Reject {
            return Err(Error::invalid(
                "missing",
                "reject for data read in chunks (non-finite values are errors there)",
                format!("{:?}", self.config.missing),
            ));
        }
        let input = InputInfo {
            feature_names: (0..d).map(|j| format!("x{j}")).collect(),
            sample_shape: vec![d],
            classes: None,
            labelled: false,
            columns: Vec::new(),
            categorical: Vec::new(),
        };
        let device = self.config.device.resolve()?;
        let missing = FittedMissing::fit(MissingValues::Reject, &[], &input.feature_names)?;
        let scaler = FittedScaler::fit_rows(self.config.scaling, source, chunk_rows)?;
        let scaled = ScaledRows::new(source, &scaler);
        let mut recorder = Recorder::new(observer);
        let start = Instant::now();
        let context = FitContext {
            seed: self.config.seed,
            components: self.config.missing.components(),
            input: &input,
            checkpointing: &self.checkpointing,
            eval: None,
        };
        let model = self.config.model.family().fit_rows(&scaled, chunk_rows, &context, &mut recorder)?;
        let seconds = start.elapsed().as_secs_f64();
        let (training, units) = self.training_scores(model.as_ref(), None, || score_rows(model.as_ref(), &scaled, chunk_rows))?;
        let summary = self.summary(n, seconds, device, training, units);
        Ok(Fitted { config: self.config.clone(), input, missing, scaler, model, summary, history: recorder.records, device })
    }

    /// The training scores and unit counts `score` computes (scores and winners), or none and
    /// empty units under [`Estimator::without_training_scores`].
    fn training_scores(
        &self,
        model: &dyn TrainedModel,
        labels: Option<&[i64]>,
        score: impl FnOnce() -> Result<(Scores, Vec<usize>)>,
    ) -> Result<(Option<Scores>, UnitSummary)> {
        let n_units = model.prototypes().size()[0] as usize;
        if !self.score_training {
            return Ok((None, UnitSummary::count(&[], None, n_units)));
        }
        let (scores, winners) = score()?;
        Ok((Some(scores), UnitSummary::count(&winners, labels, n_units)))
    }

    /// The summary of a fit of `n` samples that trained for `seconds` on `device`.
    fn summary(&self, n: usize, seconds: f64, device: tch::Device, training: Option<Scores>, units: UnitSummary) -> Summary {
        Summary {
            kind: self.config.model.kind().into(),
            n_samples: n,
            seconds,
            device: format!("{device:?}"),
            training,
            units,
            library_version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// What a fit keeps of its input besides the tensors: the description, the missing-value
/// treatment and the scaler.
struct Prepared {
    input: InputInfo,
    missing: FittedMissing,
    scaler: FittedScaler,
}

/// `[n, ...sample_shape]` as tensor sizes.
fn model_shape(sample_shape: &[usize], n: i64) -> Vec<i64> {
    std::iter::once(n).chain(sample_shape.iter().map(|&d| d as i64)).collect()
}
