//! The estimator from Python: [`fit`] a config (the JSON form of a `MODEL.toml`) on a tensor,
//! [`load`] a model file, and the fitted [`Model`]'s answers. Models saved here are the CLI's and
//! the Rust crates' model files.

use crate::convert::{array_to_py, data_from_py};
use crate::errors::{guard, to_py};
use crate::progress::PythonProgress;
use protolearn::families::lvq::LvqModel;
use protolearn::train::observer::Silent;
use protolearn::{Estimator, EstimatorConfig, Fitted};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;
use std::path::PathBuf;

/// A fitted protolearn model (any family), as `protolearn.load` and the estimators' `model_`
/// hold it. Inputs are `[n, ...]` float tensors in the units the model was fitted on; the
/// model's scaling is applied inside.
#[pyclass(unsendable, module = "protolearn._native")]
pub struct Model {
    fitted: Fitted,
}

/// Serialises `value` for Python's `json.loads`.
fn json<T: Serialize>(value: &T) -> PyResult<String> {
    serde_json::to_string(value).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Fits the estimator of `config` (a JSON `MODEL.toml`: `{"model": {"kind": "som", ...},
/// "scaling": ..., "seed": ..., "device": ...}`) on `x` `[n, ...]` with optional label indices
/// `y`, feature names (empty: `x0, x1, ...`) and class names. `progress`, if given, is called
/// as `progress(event, phase, done, total, message)` during training.
#[pyfunction]
#[pyo3(signature = (config, x, y=None, feature_names=Vec::new(), classes=None, progress=None))]
pub fn fit(
    py: Python<'_>,
    config: &str,
    x: &Bound<'_, PyAny>,
    y: Option<Vec<i64>>,
    feature_names: Vec<String>,
    classes: Option<Vec<String>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Model> {
    let config: EstimatorConfig = serde_json::from_str(config).map_err(|e| PyValueError::new_err(format!("model config: {e}")))?;
    let estimator = guard(|| Estimator::new(config).map_err(to_py))?;
    let data = data_from_py(x, y)?;
    // Training runs without the GIL: libtorch's autograd engine refuses to run while it is held
    // (and other Python threads can go on).
    py.detach(|| {
        guard(|| {
            let (fitted, error) = match progress {
                Some(callback) => {
                    let mut observer = PythonProgress::new(callback);
                    let fitted = estimator.fit_named(&data, &feature_names, classes.as_deref(), &mut observer);
                    (fitted, observer.error)
                }
                None => (estimator.fit_named(&data, &feature_names, classes.as_deref(), &mut Silent), None),
            };
            if let Some(err) = error {
                return Err(err);
            }
            Ok(Model { fitted: fitted.map_err(to_py)? })
        })
    })
}

/// Loads a model file written by `Model.save`, `protolearn fit` or `Fitted::save` in Rust.
#[pyfunction]
pub fn load(path: PathBuf) -> PyResult<Model> {
    guard(|| Ok(Model { fitted: Fitted::load(&path).map_err(to_py)? }))
}

#[pymethods]
impl Model {
    /// The reject threshold θ an LVQ head learned with reject costs (paper 003, Sec. 7.4: accept
    /// a sample iff its relative similarity exceeds θ), else None.
    fn reject_threshold(&self) -> Option<f64> {
        self.fitted.trained().as_any().downcast_ref::<LvqModel>().and_then(LvqModel::reject_threshold)
    }

    /// The winning unit (prototype) of each sample of `x`.
    fn predict(&self, x: &Bound<'_, PyAny>) -> PyResult<Vec<usize>> {
        guard(|| self.fitted.predict(&data_from_py(x, None)?).map_err(to_py))
    }

    /// The class index of each sample of `x`: a classifier's prediction, or the majority label
    /// of the winning unit on the training data (`-1` where that unit won no labelled sample).
    fn predict_labels(&self, x: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
        guard(|| Ok(self.fitted.predict_labels(&data_from_py(x, None)?).map_err(to_py)?.into_iter().map(|l| l.unwrap_or(-1)).collect()))
    }

    /// Distances `[n, k]` from each sample of `x` to every prototype, in the model's space.
    fn transform(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        guard(|| array_to_py(py, &self.fitted.transform(&data_from_py(x, None)?).map_err(to_py)?))
    }

    /// The codes `[n, latent]` of `x` (the encoder's output for DESOM, DDCL, two-stage and
    /// DeepCluster; the scaled input for models on the input space).
    fn encode(&self, py: Python<'_>, x: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        guard(|| array_to_py(py, &self.fitted.encode(&data_from_py(x, None)?).map_err(to_py)?))
    }

    /// Scores of `x` (with label indices `y`): QE, TE, purity, NMI, accuracy, as JSON.
    #[pyo3(signature = (x, y=None))]
    fn score(&self, x: &Bound<'_, PyAny>, y: Option<Vec<i64>>) -> PyResult<String> {
        guard(|| json(&self.fitted.score(&data_from_py(x, y)?).map_err(to_py)?))
    }

    /// Hits, majority labels and purities of the units on `x` (with label indices `y`), as JSON.
    #[pyo3(signature = (x, y=None))]
    fn unit_summary(&self, x: &Bound<'_, PyAny>, y: Option<Vec<i64>>) -> PyResult<String> {
        guard(|| json(&self.fitted.unit_summary(&data_from_py(x, y)?).map_err(to_py)?))
    }

    /// The prototypes `[k, dim]` in the model's space (scaled inputs or latent codes).
    fn prototypes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| array_to_py(py, &self.fitted.prototypes().map_err(to_py)?))
    }

    /// The prototypes in input units (decoded and unscaled).
    fn input_space_prototypes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| array_to_py(py, &self.fitted.input_space_prototypes().map_err(to_py)?))
    }

    /// The U-matrix `[rows, cols]` of a map (mean distance of each unit's prototype to its grid
    /// neighbours'), `None` for models without a grid.
    fn umatrix(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| self.fitted.umatrix().map_err(to_py)?.map(|u| array_to_py(py, &u)).transpose())
    }

    /// The map's `(rows, cols, lattice, boundary)`, `None` for models without a grid.
    fn grid(&self) -> Option<(usize, usize, String, String)> {
        self.fitted
            .grid()
            .map(|g| (g.rows(), g.cols(), format!("{:?}", g.lattice()).to_lowercase(), format!("{:?}", g.boundary()).to_lowercase()))
    }

    /// Draws the model's figures for `x` (with label indices `y`) into `dir`: the PNG paths.
    #[pyo3(signature = (x, dir, y=None))]
    fn figures(&self, x: &Bound<'_, PyAny>, dir: PathBuf, y: Option<Vec<i64>>) -> PyResult<Vec<PathBuf>> {
        guard(|| Ok(self.fitted.figures(&data_from_py(x, y)?, &dir).map_err(to_py)?.into_iter().map(|f| f.png).collect()))
    }

    /// Writes the model file (safetensors; the CLI's and the Rust crates' format).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        guard(|| self.fitted.save(&path).map_err(to_py))
    }

    /// The training history: one JSON record per log point (phase, step, seconds, columns).
    fn history(&self) -> PyResult<String> {
        json(&self.fitted.history())
    }

    /// What the fit measured (family, samples, seconds, device, training scores), as JSON.
    fn summary(&self) -> PyResult<String> {
        json(self.fitted.summary())
    }

    /// The config the model was fitted with, as JSON.
    fn config(&self) -> PyResult<String> {
        json(self.fitted.config())
    }

    /// What the model was fitted on (sample shape, feature and class names), as JSON.
    fn input(&self) -> PyResult<String> {
        json(self.fitted.input())
    }
}
