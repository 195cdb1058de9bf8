//! A fitted estimator: the trained model with its config, input description and scaler; what it
//! says about new data (`predict`, `transform`, `encode`, `score`, per-unit summaries) and its
//! one-file form (`save` / `load`, see [`crate::model_file`]). The scores are in [`crate::scores`].

use crate::config::EstimatorConfig;
use crate::error::{Error, Result};
use crate::families::{SavedModel, TrainedModel};
use crate::missing::{fill_missing_values, observed_column_means, FittedMissing};
use crate::model_file::{self, model_error};
use crate::scaler::FittedScaler;
use crate::scores::{score_model, Scores, UnitSummary};
use protolearn_data::categorical::CategoryEncoding;
use protolearn_data::Data;
use protolearn_metrics::{neighbourhood_scores, Grid, Matrix, NeighbourhoodScores};
use protolearn_train::quality::best_units;
use protolearn_train::trainer::LogRecord;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// Metadata keys of the model file.
const KEY_CONFIG: &str = "config";
const KEY_INPUT: &str = "input";
const KEY_SCALER: &str = "scaler";
const KEY_SUMMARY: &str = "summary";
const KEY_MISSING: &str = "missing";
/// Tensor names of the scaler in the model file (`x' = (x - offset) / scale`).
const SCALER_OFFSET: &str = "scaler.offset";
const SCALER_SCALE: &str = "scaler.scale";

/// What the model was fitted on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputInfo {
    /// Shape of one sample (`[D]` for a table, `[C, H, W]` or `[H, W]` for images).
    pub sample_shape: Vec<usize>,
    /// One name per feature (the CSV header, else `x0, x1, ...`).
    pub feature_names: Vec<String>,
    /// Class names of the label indices, when the labels were text.
    pub classes: Option<Vec<String>>,
    /// Whether the training data had labels.
    pub labelled: bool,
    /// The CSV columns the features were read from, by header name in file order (before
    /// one-hot encoding); empty when not fitted on a CSV table with a header.
    #[serde(default)]
    pub columns: Vec<String>,
    /// The one-hot encoding of every categorical CSV column (new data is encoded the same way).
    #[serde(default)]
    pub categorical: Vec<CategoryEncoding>,
}

impl InputInfo {
    /// Number of features per sample.
    pub fn n_features(&self) -> usize {
        self.sample_shape.iter().product()
    }

    /// The name of class `label` (its text, else the number).
    pub fn class_name(&self, label: i64) -> String {
        self.classes.as_ref().and_then(|c| usize::try_from(label).ok().and_then(|l| c.get(l))).cloned().unwrap_or_else(|| label.to_string())
    }
}

/// What a fit measured, stored in the model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// The model family (`som`, `desom`, `competitive`, `lvq`, `ddcl`).
    pub kind: String,
    /// Training samples.
    pub n_samples: usize,
    /// Wall-clock seconds of the training.
    pub seconds: f64,
    /// The training device.
    pub device: String,
    /// Scores on the training data after training (`None` for a fit told not to compute them,
    /// [`crate::Estimator::without_training_scores`]).
    pub training: Option<Scores>,
    /// Per-unit counts on the training data (their majority labels are `predict_labels`'s answers).
    pub units: UnitSummary,
    /// The protolearn version that wrote the model.
    pub library_version: String,
}

/// A row-major `f32` array with its shape: what the estimators return.
#[derive(Debug, Clone, PartialEq)]
pub struct Array {
    /// Row-major values.
    pub values: Vec<f32>,
    /// The shape, rows first.
    pub shape: Vec<usize>,
}

impl Array {
    /// Copies a tensor to the host.
    pub(crate) fn from_tensor(t: &Tensor) -> Result<Self> {
        let shape = t.size().iter().map(|&d| d as usize).collect();
        let values = Vec::<f32>::try_from(t.detach().to_device(Device::Cpu).to_kind(Kind::Float).contiguous().reshape([-1]))?;
        Ok(Array { values, shape })
    }

    /// Row `i` (all values but the first dimension), if it exists.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let width: usize = self.shape.iter().skip(1).product();
        self.values.get(i * width..(i + 1) * width)
    }

    /// The values as `f64`, for the plotting and metrics crates.
    pub fn to_f64(&self) -> Vec<f64> {
        self.values.iter().map(|&v| f64::from(v)).collect()
    }
}

/// One sample's winner and its distance to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// The best-matching unit / prototype.
    pub winner: usize,
    /// The Euclidean distance to it, in the model's space.
    pub distance: f64,
}

/// A trained estimator. Build it with [`crate::Estimator::fit`] or [`Fitted::load`].
#[derive(Debug)]
pub struct Fitted {
    pub(crate) config: EstimatorConfig,
    pub(crate) input: InputInfo,
    pub(crate) missing: FittedMissing,
    pub(crate) scaler: FittedScaler,
    pub(crate) model: Box<dyn TrainedModel>,
    pub(crate) summary: Summary,
    pub(crate) history: Vec<LogRecord>,
    pub(crate) device: Device,
}

impl Fitted {
    /// The config it was fitted with.
    pub fn config(&self) -> &EstimatorConfig {
        &self.config
    }

    /// What it was fitted on.
    pub fn input(&self) -> &InputInfo {
        &self.input
    }

    /// The fitted treatment of missing values (the imputation means).
    pub fn missing(&self) -> &FittedMissing {
        &self.missing
    }

    /// The fitted input scaling.
    pub fn scaler(&self) -> &FittedScaler {
        &self.scaler
    }

    /// What the fit measured.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// The trainer's records of the fit (empty for a loaded model; `history.csv` keeps them).
    pub fn history(&self) -> &[LogRecord] {
        &self.history
    }

    /// The trained model, for work on tensors on the device (distances, codes, prototypes of
    /// [`crate::families::TrainedModel`]); its inputs are scaled samples shaped by
    /// [`Fitted::model_input`].
    pub fn trained(&self) -> &dyn TrainedModel {
        self.model.as_ref()
    }

    /// Scaled samples `x` `[n, ...]` (for a fit of [`crate::Estimator::fit_tensors`], the values
    /// as given) viewed as the model's input `[n, ...input]`: images for a convolutional
    /// backbone, `[T, D]` steps for a sequence backbone, flat vectors otherwise.
    pub fn model_input(&self, x: &Tensor) -> Result<Tensor> {
        let n = x.size().first().copied().unwrap_or(0);
        let values: i64 = x.size().iter().skip(1).product();
        if values != self.input.n_features() as i64 {
            return Err(Error::Shape {
                what: "model input".into(),
                expected: format!("{} values per sample, as the model was fitted on", self.input.n_features()),
                found: format!("a tensor of shape {:?}", x.size()),
            });
        }
        let shape = self.config.model.family().input_shape(&self.input.sample_shape);
        Ok(x.f_reshape(std::iter::once(n).chain(shape.into_iter().map(|d| d as i64)).collect::<Vec<_>>())?)
    }

    /// The map grid of the SOM families, `None` for a competitive layer.
    pub fn grid(&self) -> Option<Grid> {
        self.model.grid().copied()
    }

    /// Number of units / prototypes `K`.
    pub fn n_units(&self) -> usize {
        self.summary.units.hits.len()
    }

    /// The prototypes in the model's space `[K, L]`: the scaled input space (SOM, competitive)
    /// or the latent space (DESOM).
    pub fn prototypes(&self) -> Result<Array> {
        Array::from_tensor(&self.model.prototypes())
    }

    /// The prototypes in the input's units `[K, ...sample_shape]`: the SOM's or competitive
    /// layer's prototypes unscaled, DESOM's decoded prototypes `g(m_k)` unscaled.
    /// An LVQ head whose prototypes live in a learned projection has none: an error.
    pub fn input_space_prototypes(&self) -> Result<Array> {
        let mut array = Array::from_tensor(&self.model.input_space_prototypes()?)?;
        if array.values.len() != self.n_units() * self.input.n_features() {
            return Err(Error::Shape {
                what: "prototypes in input units".into(),
                expected: format!("prototypes of the {} input features", self.input.n_features()),
                found: format!("prototypes of shape {:?} in a projected space", array.shape),
            });
        }
        self.scaler.invert(&mut array.values);
        array.shape = std::iter::once(self.n_units()).chain(self.input.sample_shape.iter().copied()).collect();
        Ok(array)
    }

    /// Squared distances of every sample to every prototype in the model's space, `[n, K]`.
    pub fn transform(&self, data: &Data) -> Result<Array> {
        Array::from_tensor(&self.model.distances(&self.tensor(data)?)?)
    }

    /// The samples in the model's space `[n, L]`: DESOM's latent codes, else the scaled inputs.
    pub fn encode(&self, data: &Data) -> Result<Array> {
        let codes = self.model.codes(&self.tensor(data)?)?;
        Array::from_tensor(&codes.flatten(1, -1))
    }

    /// The winning unit of every sample (ties: the lowest index).
    pub fn predict(&self, data: &Data) -> Result<Vec<usize>> {
        Ok(self.assign(data)?.into_iter().map(|a| a.winner).collect())
    }

    /// The class of every sample: the class of its winning prototype for a classifier head,
    /// else the majority label of its winner on the training data (`None` where the winner won
    /// no training sample).
    pub fn predict_labels(&self, data: &Data) -> Result<Vec<Option<i64>>> {
        if !self.input.labelled {
            return Err(Error::NoLabels { what: "predict_labels".into(), missing: "the model was fitted on data without labels".into() });
        }
        let unit_labels = self.unit_labels()?;
        Ok(self.predict(data)?.into_iter().map(|w| unit_labels.get(w).copied().flatten()).collect())
    }

    /// The class each unit stands for: a classifier's prototype labels, else the majority
    /// labels of the training data.
    fn unit_labels(&self) -> Result<Vec<Option<i64>>> {
        match self.model.prototype_labels() {
            Some(labels) => Ok(Vec::<i64>::try_from(labels.to_device(Device::Cpu))?.into_iter().map(Some).collect()),
            None if self.summary.training.is_none() => Err(Error::NoLabels {
                what: "predict_labels".into(),
                missing: "the model was fitted without training scores, so its units have no majority labels".into(),
            }),
            None => Ok(self.summary.units.majority.clone()),
        }
    }

    /// Every sample's winner and its Euclidean distance to it.
    pub fn assign(&self, data: &Data) -> Result<Vec<Assignment>> {
        let best = best_units(&self.model.distances(&self.tensor(data)?)?)?;
        Ok(best.iter().map(|b| Assignment { winner: b.first.unit, distance: b.first.dist() }).collect())
    }

    /// QE, TE (SOM families), and purity and NMI when `data` has labels.
    pub fn score(&self, data: &Data) -> Result<Scores> {
        let (scores, _) = score_model(self.model.as_ref(), &self.tensor(data)?, data.labels.as_deref())?;
        Ok(scores)
    }

    /// Trustworthiness, continuity and SOMperf's neighbourhood preservation of the map as a
    /// projection (Venna & Kaski 2001), over the `k` nearest neighbours: the samples in the
    /// model's space (scaled inputs, or DESOM's codes) against their winners' grid positions
    /// (`Grid::position`; samples sharing a winner are tied, broken by index). Exact; the cost
    /// grows as `n^2`. `None` for models without a map. Missing values of a masked model's codes
    /// are taken at their column means.
    pub fn neighbourhood_scores(&self, data: &Data, k: usize) -> Result<Option<NeighbourhoodScores>> {
        let Some(grid) = self.grid() else { return Ok(None) };
        let mut codes = self.encode(data)?;
        // A masked model's codes keep their missing values: the neighbours of a sample are then
        // found with its missing components at the column means.
        let means = observed_column_means(&codes.values, codes.values.len() / codes.shape[0].max(1));
        fill_missing_values(&mut codes.values, &means);
        let positions = self
            .predict(data)?
            .into_iter()
            .map(|unit| grid.position(unit).map(|[x, y]| [x as f32, y as f32]))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let flat: Vec<f32> = positions.concat();
        let (n, width) = (codes.shape[0], codes.values.len() / codes.shape[0].max(1));
        let data = Matrix::new(&codes.values, n, width)?;
        let embedding = Matrix::new(&flat, n, 2)?;
        Ok(Some(neighbourhood_scores(data, embedding, k)?))
    }

    /// Hits, majority labels and purities of the units on `data`.
    pub fn unit_summary(&self, data: &Data) -> Result<UnitSummary> {
        Ok(UnitSummary::count(&self.predict(data)?, data.labels.as_deref(), self.n_units()))
    }

    /// The scaled samples of `data` as a tensor on the model's device, shaped for the model.
    fn tensor(&self, data: &Data) -> Result<Tensor> {
        let expected = self.input.n_features();
        if data.n_features() != expected {
            return Err(Error::Shape {
                what: format!("data `{}`", data.name),
                expected: format!("{expected} features per sample, as the model was fitted on"),
                found: format!("{} features per sample (shape {:?})", data.n_features(), data.shape),
            });
        }
        let shape = self.config.model.family().input_shape(&self.input.sample_shape);
        prepared_tensor(data, &self.missing, &self.scaler, &self.input.feature_names, &shape, self.device)
    }

    /// Writes the model to one safetensors file (atomically): the weights, the scaler as
    /// `scaler.offset` / `scaler.scale`, and the config, input, scaler and summary as JSON
    /// metadata with the format name and version.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = self.model.named_tensors();
        tensors.push((SCALER_OFFSET.into(), Tensor::f_from_slice(&self.scaler.offset)?));
        tensors.push((SCALER_SCALE.into(), Tensor::f_from_slice(&self.scaler.scale)?));
        let metadata = HashMap::from([
            (KEY_CONFIG.to_owned(), to_json(&self.config)?),
            (KEY_INPUT.to_owned(), to_json(&self.input)?),
            (KEY_SCALER.to_owned(), to_json(&self.scaler.kind)?),
            (KEY_MISSING.to_owned(), to_json(&self.missing)?),
            (KEY_SUMMARY.to_owned(), to_json(&self.summary)?),
        ]);
        model_file::write(path, &tensors, metadata)
    }

    /// Reads a model written by [`Fitted::save`] onto the CPU, without its training data.
    /// A file of another format version, of another kind, or damaged is an
    /// [`Error::ModelFile`] naming the file and what it holds.
    pub fn load(path: &Path) -> Result<Fitted> {
        let file = model_file::read(path)?;
        let config: EstimatorConfig = file.json(path, KEY_CONFIG)?;
        let input: InputInfo = file.json(path, KEY_INPUT)?;
        let summary: Summary = file.json(path, KEY_SUMMARY)?;
        // Files written before missing values were handled have none: rejected.
        let missing: FittedMissing =
            if file.metadata.contains_key(KEY_MISSING) { file.json(path, KEY_MISSING)? } else { FittedMissing::default() };
        let components = config.missing.components();
        let vector = |name: &str| -> Result<Vec<f32>> { Ok(Vec::<f32>::try_from(file.tensor(path, name)?.reshape([-1]))?) };
        let scaler = FittedScaler { kind: file.json(path, KEY_SCALER)?, offset: vector(SCALER_OFFSET)?, scale: vector(SCALER_SCALE)? };
        if scaler.n_features() != input.n_features() || scaler.scale.len() != scaler.n_features() {
            return Err(model_error(
                path,
                format!("a scaler of {} features", input.n_features()),
                format!("{} offsets", scaler.n_features()),
            ));
        }
        let saved = SavedModel { file: &file, path, input: &input, components };
        let model = config.model.family().load(&saved)?;
        let fitted = Fitted { config, input, missing, scaler, model, summary, history: Vec::new(), device: Device::Cpu };
        let k = fitted.model.prototypes().size()[0] as usize;
        if k != fitted.summary.units.hits.len() {
            return Err(model_error(path, format!("a summary of {k} units"), format!("{} units", fitted.summary.units.hits.len())));
        }
        Ok(fitted)
    }
}

/// `data` with its missing values treated by `missing` (features named `names`) and scaled by
/// `scaler`, as a `[n, ...shape]` tensor on `device`.
pub(crate) fn prepared_tensor(
    data: &Data,
    missing: &FittedMissing,
    scaler: &FittedScaler,
    names: &[String],
    sample_shape: &[usize],
    device: Device,
) -> Result<Tensor> {
    let mut features = data.features.clone();
    missing.apply(&mut features, names)?;
    scaler.apply(&mut features);
    let shape: Vec<i64> = std::iter::once(data.n_samples()).chain(sample_shape.iter().copied()).map(|d| d as i64).collect();
    Ok(Tensor::f_from_slice(&features)?.f_view(shape.as_slice())?.f_to_device(device)?)
}

/// A metadata value as JSON.
fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::invalid("model metadata", "values that serialise to JSON", e))
}
