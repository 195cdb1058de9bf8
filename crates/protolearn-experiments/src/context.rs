//! What every experiment run receives (preset, device, output folder, data locations, spec files
//! and `--set` overrides) and the helpers every experiment shares: the preset's part of a spec,
//! the resolved spec, figure links relative to the report, CSV and JSON result files written
//! atomically.

use crate::overrides::Override;
use protolearn_data::DataDirs;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::Device;

/// Size of a bench-all run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// Fits a 2-core CPU in minutes: the paper's settings where they are cheap, smaller sweeps elsewhere.
    Quick,
    /// Paper scale.
    Full,
}

impl Preset {
    /// `quick` or `full`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Quick => "quick",
            Preset::Full => "full",
        }
    }
}

/// Shared inputs of an experiment run.
#[derive(Debug)]
pub struct RunContext {
    /// Quick or full.
    pub preset: Preset,
    /// Where tensors live during training.
    pub device: Device,
    /// The run's output folder; each experiment writes into a subfolder named after it.
    pub out: PathBuf,
    /// Where MNIST and Fashion-MNIST are looked for.
    pub data_dirs: DataDirs,
    /// `--set` changes to the experiments' specs.
    pub overrides: Vec<Override>,
    /// `--spec` files replacing the shipped spec of an experiment (by experiment name).
    pub spec_files: BTreeMap<String, PathBuf>,
    /// Write resumable checkpoints of the long runs (DESOM) under `<out>/<experiment>/checkpoints/`.
    pub checkpoints: bool,
    /// Continue every long run whose checkpoint exists (a killed bench-all into the same `out`).
    pub resume: bool,
}

impl RunContext {
    /// The output folder of experiment `name`, created if missing.
    pub fn experiment_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.out.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// The spec of experiment `name`: its `--spec` file if one was given, else the shipped TOML
    /// `text`, with this run's `--set` overrides; also written as `spec.toml` into the
    /// experiment's output folder.
    pub fn spec<T: serde::de::DeserializeOwned>(&self, name: &str, text: &str) -> anyhow::Result<T> {
        let (spec, resolved) = self.resolve_spec(name, text)?;
        let path = self.experiment_dir(name)?.join("spec.toml");
        write_file(&path, resolved.as_bytes())?;
        Ok(spec)
    }

    /// The spec of experiment `name` as [`RunContext::spec`] resolves it (its `--spec` file or
    /// the shipped `text`, with its `--set` overrides), with the resolved TOML, written nowhere:
    /// for experiments that build on another experiment's spec.
    pub fn resolve_spec<T: serde::de::DeserializeOwned>(&self, name: &str, text: &str) -> anyhow::Result<(T, String)> {
        Ok(match self.spec_files.get(name) {
            Some(file) => {
                let own = std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("reading spec file {}: {e}", file.display()))?;
                crate::overrides::resolve(name, &own, &self.overrides).map_err(|e| anyhow::anyhow!("spec file {}: {e}", file.display()))?
            }
            None => crate::overrides::resolve(name, text, &self.overrides)?,
        })
    }

    /// The part of a spec for this run's preset.
    pub fn pick<'a, T>(&self, quick: &'a T, full: &'a T) -> &'a T {
        match self.preset {
            Preset::Quick => quick,
            Preset::Full => full,
        }
    }

    /// `path` relative to the output folder, for links in the report.
    pub fn link(&self, path: &Path) -> String {
        path.strip_prefix(&self.out).unwrap_or(path).display().to_string()
    }
}

/// Writes `rows` (any serde records with named fields) as a CSV file with a header line, through
/// a temporary file renamed into place (a reader never sees half a file).
pub fn write_csv<R: Serialize>(path: &Path, rows: impl IntoIterator<Item = R>) -> anyhow::Result<()> {
    let mut text = csv::Writer::from_writer(Vec::new());
    for row in rows {
        text.serialize(row).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }
    let bytes = text.into_inner().map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    write_file(path, &bytes)
}

/// Writes `value` as pretty JSON (an experiment's `summary.json`), atomically as [`write_csv`].
pub fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> anyhow::Result<()> {
    write_file(path, serde_json::to_string_pretty(value)?.as_bytes())
}

/// Writes `bytes` to `path` through a temporary file renamed into place (the library's one
/// atomic write).
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    Ok(protolearn::history::write_atomically(path, bytes)?)
}
