//! Resumable run state: at every log point of a phase with a checkpoint folder, the trainer
//! writes the variables, the optimizer state, the phase and step, how many batches the stream has
//! drawn, and the history so far. [`crate::trainer::Trainer::resume`] reads it back, replays the
//! batch stream to the same position and continues; on CPU the result equals an uninterrupted
//! run bit for bit (test `interrupted_desom_resumes_bit_for_bit`).
//!
//! Layout of the folder: `state/` holds `variables.safetensors`, `optimizer.safetensors` and
//! `run.toml`. A new state is written to `next/` and renamed into place (the previous one is kept
//! as `state.old/` meanwhile), so a kill while writing leaves a complete state behind.

use crate::error::{Error, Result};
use crate::record::LogRecord;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tch::{nn, Tensor};

/// Version of the `run.toml` layout; another version is refused.
pub const FORMAT_VERSION: u32 = 1;

/// Where the trainer stands, as saved in `run.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    /// [`FORMAT_VERSION`] of the writer.
    pub format_version: u32,
    /// The phase in progress.
    pub phase: String,
    /// Steps of that phase done.
    pub step: usize,
    /// Batches the stream has drawn since the trainer was created (all phases).
    pub batches: usize,
    /// The histories of the phases finished before, in order.
    pub finished: Vec<PhaseHistory>,
    /// The history of the phase in progress.
    pub history: Vec<LogRecord>,
}

/// The records of one finished phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhaseHistory {
    /// The phase name.
    pub phase: String,
    /// Its records.
    pub history: Vec<LogRecord>,
}

/// A loaded state: where the run stands and its tensors.
#[derive(Debug)]
pub(crate) struct Saved {
    pub(crate) run: RunState,
    pub(crate) variables: Vec<(String, Tensor)>,
    pub(crate) optimizer: Vec<(String, Tensor)>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io { path: path.to_path_buf(), source }
}

/// Writes `run`, the variables of `vs` and the optimizer tensors into `dir/state/`.
pub(crate) fn save(dir: &Path, run: &RunState, vs: &nn::VarStore, optimizer: &[(String, Tensor)]) -> Result<()> {
    let (next, state, old) = (dir.join("next"), dir.join("state"), dir.join("state.old"));
    if next.exists() {
        std::fs::remove_dir_all(&next).map_err(io(&next))?;
    }
    std::fs::create_dir_all(&next).map_err(io(&next))?;
    let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    variables.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&variables, next.join("variables.safetensors"))?;
    Tensor::write_safetensors(optimizer, next.join("optimizer.safetensors"))?;
    let text = toml::to_string(run).map_err(|e| Error::InvalidConfig {
        field: "run state".into(),
        expected: "TOML".into(),
        found: e.to_string(),
    })?;
    let file = next.join("run.toml");
    std::fs::write(&file, text).map_err(io(&file))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    if state.exists() {
        std::fs::rename(&state, &old).map_err(io(&state))?;
    }
    std::fs::rename(&next, &state).map_err(io(&next))?;
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// The folder of the newest complete state under `dir`.
fn newest(dir: &Path) -> Result<PathBuf> {
    [dir.join("state"), dir.join("state.old")]
        .into_iter()
        .find(|d| d.join("run.toml").is_file())
        .ok_or_else(|| Error::Io { path: dir.join("state/run.toml"), source: std::io::Error::from(std::io::ErrorKind::NotFound) })
}

/// Whether `dir` holds a complete saved state.
pub(crate) fn has_state(dir: &Path) -> bool {
    newest(dir).is_ok()
}

/// Reads the state under `dir`.
pub(crate) fn load(dir: &Path) -> Result<Saved> {
    let state = newest(dir)?;
    let file = state.join("run.toml");
    let text = std::fs::read_to_string(&file).map_err(io(&file))?;
    let run: RunState = toml::from_str(&text).map_err(|e| Error::InvalidConfig {
        field: file.display().to_string(),
        expected: "a run state written by protolearn-train".into(),
        found: e.to_string(),
    })?;
    if run.format_version != FORMAT_VERSION {
        return Err(Error::InvalidConfig {
            field: file.display().to_string(),
            expected: format!("format_version {FORMAT_VERSION}"),
            found: run.format_version.to_string(),
        });
    }
    Ok(Saved {
        run,
        variables: Tensor::read_safetensors(state.join("variables.safetensors"))?,
        optimizer: Tensor::read_safetensors(state.join("optimizer.safetensors"))?,
    })
}

/// Copies saved tensors into the variables of `vs` (every variable must be there, same shape).
pub(crate) fn restore_variables(vs: &nn::VarStore, saved: &[(String, Tensor)]) -> Result<()> {
    let _guard = tch::no_grad_guard();
    for (name, var) in vs.variables() {
        let src = saved.iter().find(|(n, _)| *n == name).map(|(_, t)| t).ok_or_else(|| Error::InvalidConfig {
            field: "checkpoint".into(),
            expected: format!("variable `{name}`"),
            found: "no such tensor".into(),
        })?;
        if src.size() != var.size() {
            return Err(Error::InvalidConfig {
                field: "checkpoint".into(),
                expected: format!("variable `{name}` of shape {:?}", var.size()),
                found: format!("{:?}", src.size()),
            });
        }
        var.shallow_clone().f_copy_(src)?;
    }
    Ok(())
}
