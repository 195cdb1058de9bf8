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
}

impl Estimator {
    /// An estimator for a checked `config`.
    pub fn new(config: EstimatorConfig) -> Result<Self> {
        config.validate()?;
        Ok(Estimator { config, checkpointing: Checkpointing::default() })
    }

    /// An estimator from a `MODEL.toml` file (errors name the file, line and column).
    pub fn from_file(path: &Path) -> Result<Self> {
        Ok(Estimator { config: EstimatorConfig::load(path)?, checkpointing: Checkpointing::default() })
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
    /// SOM, DESOM, LVQ heads, neural gas and the two-stage models; competitive layers, DDCL and
    /// DeepCluster refuse (their training keeps state the checkpoint does not hold); k-means
    /// ignores it (deterministic, in one go).
    pub fn with_checkpoints(mut self, checkpointing: Checkpointing) -> Self {
        self.checkpointing = checkpointing;
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
        let mut recorder = Recorder::new(observer);
        let start = Instant::now();
        let model = self.train(&dataset, &input, &mut recorder)?;
        let seconds = start.elapsed().as_secs_f64();
        let (training, winners) = score_model(model.as_ref(), &dataset.x, data.labels.as_deref())?;
        let units = UnitSummary::count(&winners, data.labels.as_deref(), model.prototypes().size()[0] as usize);
        let summary = self.summary(n, seconds, device, training, units);
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
        };
        let model = self.config.model.family().fit_rows(&scaled, chunk_rows, &context, &mut recorder)?;
        let seconds = start.elapsed().as_secs_f64();
        let (training, winners) = score_rows(model.as_ref(), &scaled, chunk_rows)?;
        let units = UnitSummary::count(&winners, None, model.prototypes().size()[0] as usize);
        let summary = self.summary(n, seconds, device, training, units);
        Ok(Fitted { config: self.config.clone(), input, missing, scaler, model, summary, history: recorder.records, device })
    }

    /// The summary of a fit of `n` samples that trained for `seconds` on `device`.
    fn summary(&self, n: usize, seconds: f64, device: tch::Device, training: Scores, units: UnitSummary) -> Summary {
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

    /// Trains the configured family on `data` (scaled, on the device) through the one trainer.
    fn train(&self, data: &Dataset, input: &InputInfo, observer: &mut dyn Observer) -> Result<Box<dyn TrainedModel>> {
        let context =
            FitContext { seed: self.config.seed, components: self.config.missing.components(), input, checkpointing: &self.checkpointing };
        self.config.model.family().fit(data, &context, observer)
    }
}
