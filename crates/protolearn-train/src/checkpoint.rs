//! Checkpoints: the variables of a `VarStore` as safetensors (loadable from PyTorch with
//! `safetensors.torch.load_file`).

use crate::error::{Error, Result};
use std::path::Path;
use tch::nn::VarStore;

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
