//! The model file: one safetensors file holding the weights (`float32`, readable from PyTorch with
//! `safetensors.torch.load_file`) and, as JSON strings in its metadata, the format name and
//! version, the estimator config, the input description, the scaler and the training summary.

use crate::error::{Error, Result};
use crate::history::temporary_path;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::HashMap;
use std::path::Path;
use tch::{Device, Kind, Tensor};

/// The `format` metadata value of a protolearn model file.
pub const FORMAT: &str = "protolearn-model";
/// The version of the file layout written by this library; other versions are refused on load.
pub const FORMAT_VERSION: u32 = 1;

/// Metadata keys.
pub(crate) const KEY_FORMAT: &str = "format";
pub(crate) const KEY_VERSION: &str = "format_version";

/// Writes `tensors` (moved to the CPU as `float32`) and `metadata` to `path` atomically.
pub(crate) fn write(path: &Path, tensors: &[(String, Tensor)], mut metadata: HashMap<String, String>) -> Result<()> {
    metadata.insert(KEY_FORMAT.into(), FORMAT.into());
    metadata.insert(KEY_VERSION.into(), FORMAT_VERSION.to_string());
    let host = tensors
        .iter()
        .map(|(name, t)| {
            let t = t.detach().to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
            let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
            let values = Vec::<f32>::try_from(t.reshape([-1]))?;
            let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
            Ok((name.clone(), shape, bytes))
        })
        .collect::<Result<Vec<_>>>()?;
    let views = host
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|v| (name.clone(), v))
                .map_err(|e| file_error(path, "tensors to write", e))
        })
        .collect::<Result<Vec<_>>>()?;
    let bytes = safetensors::tensor::serialize(views, &Some(metadata)).map_err(|e| file_error(path, "tensors to write", e))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(Error::io(parent))?;
    }
    let tmp = temporary_path(path);
    std::fs::write(&tmp, bytes).map_err(|source| {
        let _ = std::fs::remove_file(&tmp);
        Error::Io { path: path.to_owned(), source }
    })?;
    std::fs::rename(&tmp, path).map_err(Error::io(path))
}

/// A model file read back: its metadata and its tensors (on the CPU).
#[derive(Debug)]
pub(crate) struct ModelFile {
    pub(crate) metadata: HashMap<String, String>,
    pub(crate) tensors: HashMap<String, Tensor>,
}

/// Reads `path`, checking that it is a protolearn model of [`FORMAT_VERSION`].
pub(crate) fn read(path: &Path) -> Result<ModelFile> {
    let bytes = std::fs::read(path).map_err(Error::io(path))?;
    let (_, header) = SafeTensors::read_metadata(&bytes).map_err(|e| file_error(path, "a safetensors file", e))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    match metadata.get(KEY_FORMAT) {
        Some(f) if f == FORMAT => {}
        Some(other) => return Err(model_error(path, format!("metadata format = {FORMAT:?}"), format!("format = {other:?}"))),
        None => {
            return Err(model_error(path, format!("metadata format = {FORMAT:?}"), "no format metadata (not a protolearn model)".into()))
        }
    }
    let version = metadata.get(KEY_VERSION).map(String::as_str).unwrap_or("none");
    if version != FORMAT_VERSION.to_string() {
        return Err(model_error(path, format!("format version {FORMAT_VERSION}"), format!("format version {version}")));
    }
    let file = SafeTensors::deserialize(&bytes).map_err(|e| file_error(path, "a complete safetensors file", e))?;
    let mut tensors = HashMap::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(model_error(path, format!("float32 tensor {name}"), format!("{:?}", view.dtype())));
        }
        let values: Vec<f32> = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let shape: Vec<i64> = view.shape().iter().map(|&d| d as i64).collect();
        tensors.insert(name, Tensor::f_from_slice(&values)?.f_view(shape.as_slice())?);
    }
    Ok(ModelFile { metadata, tensors })
}

impl ModelFile {
    /// The metadata entry `key` parsed from JSON.
    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, path: &Path, key: &str) -> Result<T> {
        let text = self.metadata.get(key).ok_or_else(|| model_error(path, format!("metadata `{key}`"), "none".into()))?;
        serde_json::from_str(text).map_err(|e| model_error(path, format!("valid JSON in metadata `{key}`"), e.to_string()))
    }

    /// The tensor `name`.
    pub(crate) fn tensor(&self, path: &Path, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| {
            let mut names: Vec<&String> = self.tensors.keys().collect();
            names.sort();
            model_error(path, format!("tensor `{name}`"), format!("tensors {names:?}"))
        })
    }
}

/// A model-file error.
pub(crate) fn model_error(path: &Path, expected: String, found: String) -> Error {
    Error::ModelFile { path: path.to_owned(), expected, found }
}

fn file_error(path: &Path, expected: &str, e: safetensors::SafeTensorError) -> Error {
    model_error(path, expected.into(), format!("{e:?} (truncated or damaged?)"))
}
