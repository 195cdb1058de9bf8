//! `protolearn._native`: the Rust side of protolearn's Python package. It binds the estimator
//! (`fit`, `load`, the fitted [`model::Model`]) and the layers' functional forms
//! ([`layers`]) on the user's own torch tensors; the Python package (`python/protolearn/`) puts
//! scikit-learn estimators and `torch.nn.Module`s on top.

mod convert;
mod distributed;
mod errors;
mod layers;
mod model;
mod progress;

use pyo3::prelude::*;

/// The extension module. `protolearn/__init__.py` imports torch first, so that libtorch is
/// loaded (and found) before this module links against it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("ProtolearnError", m.py().get_type::<errors::ProtolearnError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<model::Model>()?;
    m.add_function(wrap_pyfunction!(model::fit, m)?)?;
    m.add_function(wrap_pyfunction!(model::load, m)?)?;
    m.add_function(wrap_pyfunction!(errors::panic_for_test, m)?)?;
    m.add_function(wrap_pyfunction!(distributed::init_distributed, m)?)?;
    layers::register(m)?;
    Ok(())
}
