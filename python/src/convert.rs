//! Tensors across the boundary. A `torch.Tensor` from Python is unpacked into the very same
//! libtorch tensor (same storage, same autograd graph: no copy), and a tensor made here is
//! wrapped into a `torch.Tensor` the same way; this is the only module with `unsafe` code.

use crate::errors::{to_py, torch_to_py};
use protolearn::data::Data;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyAnyMethods;
use tch::python::CPyObject;
use tch::{Device, Kind, Tensor};

/// The libtorch tensor behind a `torch.Tensor` (shares its storage and autograd history).
pub fn tensor_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    // SAFETY: `obj` is a live Python object for the duration of the call (the GIL is held), and
    // `pyobject_unpack` first checks that it is a torch tensor before reading it as one.
    #[allow(unsafe_code)]
    let tensor = unsafe { Tensor::pyobject_unpack(obj.as_ptr().cast::<CPyObject>()) }.map_err(torch_to_py)?;
    tensor.ok_or_else(|| {
        let found = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "an unknown type".into());
        PyTypeError::new_err(format!("expected a torch.Tensor, found {found}"))
    })
}

/// A `torch.Tensor` holding `tensor` (the same storage, no copy).
pub fn tensor_to_py(py: Python<'_>, tensor: &Tensor) -> PyResult<Py<PyAny>> {
    let pointer = tensor.pyobject_wrap().map_err(torch_to_py)?;
    // SAFETY: `pyobject_wrap` returns a new strong reference to a torch.Tensor (or null with a
    // Python error set, which `from_owned_ptr_or_err` turns into that error).
    #[allow(unsafe_code)]
    let object = unsafe { Bound::from_owned_ptr_or_err(py, pointer.cast::<pyo3::ffi::PyObject>()) }?;
    Ok(object.unbind())
}

/// A row-major `f32` array (an estimator's answer) as a `torch.Tensor` on the CPU.
pub fn array_to_py(py: Python<'_>, array: &protolearn::Array) -> PyResult<Py<PyAny>> {
    let shape: Vec<i64> = array.shape.iter().map(|&d| d as i64).collect();
    let tensor = Tensor::f_from_slice(&array.values).and_then(|t| t.f_reshape(&shape)).map_err(torch_to_py)?;
    tensor_to_py(py, &tensor)
}

/// The estimator's [`Data`] from a `[n, ...]` float tensor (copied to the host as `f32`) and
/// label indices. `NaN` cells are kept: the estimator refuses, imputes or masks them as its
/// config says (infinite values are an error here).
pub fn data_from_py(x: &Bound<'_, PyAny>, labels: Option<Vec<i64>>) -> PyResult<Data> {
    let x = tensor_from_py(x)?;
    let shape: Vec<usize> = x.size().iter().map(|&d| d as usize).collect();
    if shape.len() < 2 {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "X: expected a 2-D array [n_samples, n_features] (or [n, ...] for images and sequences), found shape {shape:?}"
        )));
    }
    let host = x.f_detach().and_then(|t| t.f_to_device(Device::Cpu)).and_then(|t| t.f_to_kind(Kind::Float)).map_err(torch_to_py)?;
    let values = Vec::<f32>::try_from(host.contiguous().reshape([-1])).map_err(torch_to_py)?;
    Data::with_missing("X", values, shape, labels).map_err(|e| to_py(e.into()))
}
