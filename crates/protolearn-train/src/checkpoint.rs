//! Checkpoints: the variables of a `VarStore` as safetensors (loadable from PyTorch with
//! `safetensors.torch.load_file`), and variables copied from one store to another (a pretraining's
//! backbone into a model).

use crate::error::{Error, Result};
use std::path::Path;
use tch::nn::{self, VarStore};

/// Saves every variable of `vs` to `path` (`.safetensors`), atomically (temporary file + rename).
pub fn save(vs: &VarStore, path: &Path) -> Result<()> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("partial.safetensors");
    vs.save(&tmp)?;
    std::fs::rename(&tmp, path).map_err(io)
}

/// Loads the variables of `vs` from `path`; names and shapes must match the layer that saved them.
pub fn load(vs: &mut VarStore, path: &Path) -> Result<()> {
    if !path.is_file() {
        return Err(Error::Io { path: path.to_path_buf(), source: std::io::Error::from(std::io::ErrorKind::NotFound) });
    }
    Ok(vs.load(path)?)
}

/// Copies every variable of `from` whose name starts with `prefix` into the same-named variable
/// of `to` (e.g. a pretrained autoencoder's `ae.*`), returning how many were copied; a missing
/// name or another shape is an error.
pub fn copy_variables(from: &nn::VarStore, to: &nn::VarStore, prefix: &str) -> Result<usize> {
    let target = to.variables();
    let _guard = tch::no_grad_guard();
    let mut copied = 0;
    for (name, source) in from.variables().into_iter().filter(|(n, _)| n.starts_with(prefix)) {
        let Some(t) = target.get(&name) else {
            return Err(Error::InvalidConfig {
                field: "pretrained".into(),
                expected: format!("a variable `{name}` in the model"),
                found: "none".into(),
            });
        };
        if t.size() != source.size() {
            return Err(Error::InvalidConfig {
                field: "pretrained".into(),
                expected: format!("`{name}` of shape {:?}", t.size()),
                found: format!("{:?}", source.size()),
            });
        }
        t.shallow_clone().f_copy_(&source)?;
        copied += 1;
    }
    if copied == 0 {
        return Err(Error::InvalidConfig {
            field: "pretrained".into(),
            expected: format!("variables named `{prefix}*`"),
            found: "none".into(),
        });
    }
    Ok(copied)
}
