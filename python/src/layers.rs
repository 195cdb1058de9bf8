//! The layers' functional forms on the caller's tensors, for the `torch.nn.Module`s of
//! `protolearn/nn.py`: the parameters are the user's `torch.nn.Parameter`s, the computation is
//! protolearn's (protolearn-layers), and the result stays in the user's autograd graph.

use crate::convert::{tensor_from_py, tensor_to_py};
use crate::errors::{guard, layer_to_py};
use protolearn::layers::competitive::Dcl;
use protolearn::layers::kernel_prototype::KernelPrototypeConfig;
use protolearn::layers::lvq::loss::{
    celvq_loss as celvq, check_labels, glvq_loss as glvq, rslvq_loss as rslvq, rslvq_probabilities as rslvq_p,
};
use protolearn::layers::lvq::{Dissimilarity, Transfer};
use protolearn::layers::neural_gas;
use protolearn::layers::som::{som_distortion, SomConfig};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tch::nn::Module;
use tch::Tensor;

type Any<'py> = Bound<'py, PyAny>;

/// Registers the layer functions on the extension module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(lvq_distances, m)?)?;
    m.add_function(wrap_pyfunction!(glvq_loss, m)?)?;
    m.add_function(wrap_pyfunction!(rslvq_loss, m)?)?;
    m.add_function(wrap_pyfunction!(rslvq_probabilities, m)?)?;
    m.add_function(wrap_pyfunction!(celvq_loss, m)?)?;
    m.add_function(wrap_pyfunction!(som_forward, m)?)?;
    m.add_function(wrap_pyfunction!(neural_gas_loss, m)?)?;
    m.add_function(wrap_pyfunction!(dcl_prototypes, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_prototype_conv, m)?)?;
    Ok(())
}

/// An LVQ dissimilarity `d(x_i, w_k)` `[n, k]` (paper 003, Sec. 3): `metric` is
/// `squared-euclidean`, `omega` (GMLVQ, `d = ||Ω(x - w)||²`, `matrix` `[m, d]`), `local-omega`
/// (LGMLVQ, `matrix` `[k, m, d]`), `relevance` (GRLVQ, `matrix` the raw relevances `[d]`),
/// `projection` (`||Ωx - w||²`, Eq. 14, prototypes `[k, m]`) or `nonlinear-projection`
/// (`||φ(Ωx - b) - w||²`, Eq. 15, with `bias` `[m]` and `activation` relu / tanh / sigmoid).
#[pyfunction]
#[pyo3(signature = (x, prototypes, metric, matrix=None, normalize=false, bias=None, activation=None))]
#[allow(clippy::too_many_arguments)]
fn lvq_distances(
    py: Python<'_>,
    x: &Any<'_>,
    prototypes: &Any<'_>,
    metric: &str,
    matrix: Option<&Any<'_>>,
    normalize: bool,
    bias: Option<&Any<'_>>,
    activation: Option<&str>,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        let matrix = matrix.map(tensor_from_py).transpose()?;
        let needs = |m: Option<Tensor>| m.ok_or_else(|| PyValueError::new_err(format!("the {metric} dissimilarity needs its matrix")));
        let dissimilarity = match metric {
            "squared-euclidean" => Dissimilarity::SquaredEuclidean,
            "omega" => Dissimilarity::Omega { omega: needs(matrix)?, normalize },
            "local-omega" => Dissimilarity::LocalOmega { omega: needs(matrix)?, normalize },
            "relevance" => Dissimilarity::Relevance { raw: needs(matrix)? },
            "projection" => Dissimilarity::Projection { omega: needs(matrix)?, bias: None, activation: None },
            "nonlinear-projection" => {
                let activation = serde_json::from_value(serde_json::Value::String(activation.unwrap_or("tanh").to_owned()))
                    .map_err(|e| PyValueError::new_err(format!("activation: {e}")))?;
                let bias = bias.map(tensor_from_py).transpose()?;
                Dissimilarity::Projection { omega: needs(matrix)?, bias, activation: Some(activation) }
            }
            other => {
                return Err(PyValueError::new_err(format!(
                    "metric: expected squared-euclidean, omega, local-omega, relevance, projection or nonlinear-projection, found {other:?}"
                )))
            }
        };
        let d = dissimilarity.distances(&tensor_from_py(x)?, &tensor_from_py(prototypes)?).map_err(layer_to_py)?;
        tensor_to_py(py, &d)
    })
}

/// The checked labels `y` `[n]` and prototype labels `[k]` of an LVQ loss on distances `[n, k]`.
fn lvq_inputs(d: &Any<'_>, y: &Any<'_>, labels: &Any<'_>, classes: i64) -> PyResult<(Tensor, Tensor, Tensor)> {
    let (d, y, labels) = (tensor_from_py(d)?, tensor_from_py(y)?, tensor_from_py(labels)?);
    check_labels(&y, classes).map_err(layer_to_py)?;
    check_labels(&labels, classes).map_err(layer_to_py)?;
    if d.dim() != 2 || d.size()[0] != y.size().first().copied().unwrap_or(-1) || d.size()[1] != labels.size().first().copied().unwrap_or(-1)
    {
        return Err(PyValueError::new_err(format!(
            "LVQ loss: expected distances [n, k] with y [n] and prototype labels [k], found {:?}, {:?} and {:?}",
            d.size(),
            y.size(),
            labels.size()
        )));
    }
    Ok((d, y, labels))
}

/// GLVQ's loss `(1/n) Σ f(μ_i)`, `μ = (d⁺ - d⁻) / (d⁺ + d⁻)` (paper 003, Eq. 20); `f` the
/// identity, or `sigmoid(β μ)` with `beta`.
#[pyfunction]
#[pyo3(signature = (d, y, labels, classes, beta=None))]
fn glvq_loss(py: Python<'_>, d: &Any<'_>, y: &Any<'_>, labels: &Any<'_>, classes: i64, beta: Option<f64>) -> PyResult<Py<PyAny>> {
    guard(|| {
        let (d, y, labels) = lvq_inputs(d, y, labels, classes)?;
        let transfer = beta.map_or(Transfer::Identity, |beta| Transfer::Sigmoid { beta });
        tensor_to_py(py, &glvq(&d, &y, &labels, transfer))
    })
}

/// RSLVQ's loss: the negative log-likelihood of the correct class under Gaussian mixtures of
/// width `sigma` (paper 003, Eq. 19).
#[pyfunction]
fn rslvq_loss(py: Python<'_>, d: &Any<'_>, y: &Any<'_>, labels: &Any<'_>, classes: i64, sigma: f64) -> PyResult<Py<PyAny>> {
    guard(|| {
        let (d, y, labels) = lvq_inputs(d, y, labels, classes)?;
        tensor_to_py(py, &rslvq(&d, &y, &labels, sigma))
    })
}

/// RSLVQ's class probabilities `[n, classes]`.
#[pyfunction]
fn rslvq_probabilities(py: Python<'_>, d: &Any<'_>, labels: &Any<'_>, classes: i64, sigma: f64) -> PyResult<Py<PyAny>> {
    guard(|| {
        let (d, labels) = (tensor_from_py(d)?, tensor_from_py(labels)?);
        check_labels(&labels, classes).map_err(layer_to_py)?;
        tensor_to_py(py, &rslvq_p(&d, &labels, classes, sigma))
    })
}

/// CELVQ's loss: cross-entropy on the negative per-class nearest distances.
#[pyfunction]
fn celvq_loss(py: Python<'_>, d: &Any<'_>, y: &Any<'_>, labels: &Any<'_>, classes: i64) -> PyResult<Py<PyAny>> {
    guard(|| {
        let (d, y, labels) = lvq_inputs(d, y, labels, classes)?;
        tensor_to_py(py, &celvq(&d, &y, &labels, classes))
    })
}

/// A SOM layer's forward on `x` `[n, L]` and prototypes `[K, L]` (the map of `config`, a JSON
/// `SomConfig`): `(distances [n, K], bmus [n], loss)`, the loss being the SOM distortion
/// `(1/n) Σ_i Σ_k h(δ(b_i, k), T) ||x_i - m_k||²` at temperature `T` (paper 002, Eq. 5).
#[pyfunction]
fn som_forward(
    py: Python<'_>,
    x: &Any<'_>,
    prototypes: &Any<'_>,
    config: &str,
    temperature: f64,
) -> PyResult<(Py<PyAny>, Py<PyAny>, Py<PyAny>)> {
    guard(|| {
        let config: SomConfig = serde_json::from_str(config).map_err(|e| PyValueError::new_err(format!("SOM config: {e}")))?;
        let layer = config.layer_on(&tensor_from_py(prototypes)?).map_err(layer_to_py)?;
        let x = tensor_from_py(x)?;
        let bmus = layer.bmus(&x).map_err(layer_to_py)?;
        let weights = layer.neighbourhood_weights(&bmus, temperature).map_err(layer_to_py)?;
        let d = layer.forward(&x);
        let loss = som_distortion(&d, &weights);
        Ok((tensor_to_py(py, &d)?, tensor_to_py(py, &bmus)?, tensor_to_py(py, &loss)?))
    })
}

/// The neural-gas cost on squared distances `[n, k]` with neighbourhood range `λ` (paper 003, Sec. 8).
#[pyfunction]
fn neural_gas_loss(py: Python<'_>, d: &Any<'_>, range: f64) -> PyResult<Py<PyAny>> {
    guard(|| tensor_to_py(py, &neural_gas::neural_gas_loss(&tensor_from_py(d)?, range).map_err(layer_to_py)?))
}

/// A DCL's prototypes `[k, d]` for samples `x` `[N, d]`: `Y = f(Xᵀ)` through the dense layers
/// `weights[i]` `[N_i, N_{i+1}]` (+ `biases[i]`), `tanh` between them (paper 000, Eq. 16).
#[pyfunction]
#[pyo3(signature = (x, weights, biases, minibatch=false))]
fn dcl_prototypes(
    py: Python<'_>,
    x: &Any<'_>,
    weights: Vec<Any<'_>>,
    biases: Vec<Option<Any<'_>>>,
    minibatch: bool,
) -> PyResult<Py<PyAny>> {
    guard(|| {
        if biases.len() != weights.len() {
            return Err(PyValueError::new_err(format!("DCL: {} weights but {} biases (None for none)", weights.len(), biases.len())));
        }
        let layers = weights
            .iter()
            .zip(&biases)
            .map(|(w, b)| Ok((tensor_from_py(w)?, b.as_ref().map(tensor_from_py).transpose()?)))
            .collect::<PyResult<Vec<_>>>()?;
        let dcl = Dcl::on_weights(&layers, minibatch).map_err(layer_to_py)?;
        tensor_to_py(py, &dcl.prototypes_of(&tensor_from_py(x)?).map_err(layer_to_py)?)
    })
}

/// The kernel-prototype convolution (paper 003, Sec. 6) of `x` `[n, C, H, W]` with kernels
/// `[K, C / groups, kh, kw]` (and radii `[K]`) as `config` (a JSON `KernelPrototypeConfig`)
/// says: its output `[n, K, H', W']`.
#[pyfunction]
#[pyo3(signature = (x, kernels, radius, config))]
fn kernel_prototype_conv(py: Python<'_>, x: &Any<'_>, kernels: &Any<'_>, radius: Option<&Any<'_>>, config: &str) -> PyResult<Py<PyAny>> {
    guard(|| {
        let config: KernelPrototypeConfig =
            serde_json::from_str(config).map_err(|e| PyValueError::new_err(format!("kernel-prototype config: {e}")))?;
        let radius = radius.map(tensor_from_py).transpose()?;
        let layer = config.layer_on(&tensor_from_py(kernels)?, radius.as_ref()).map_err(layer_to_py)?;
        tensor_to_py(py, &layer.output(&tensor_from_py(x)?).map_err(layer_to_py)?)
    })
}
