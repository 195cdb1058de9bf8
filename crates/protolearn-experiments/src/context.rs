//! What every experiment run receives: preset, device, output folder, data locations.

use crate::overrides::Override;
use protolearn_data::DataDirs;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
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
}

impl RunContext {
    /// The output folder of experiment `name`, created if missing.
    pub fn experiment_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.out.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
        Ok(dir)
    }

    /// The spec of experiment `name` (shipped TOML `text` with this run's `--set` overrides),
    /// also written as `spec.toml` into the experiment's output folder.
    pub fn spec<T: serde::de::DeserializeOwned>(&self, name: &str, text: &str) -> anyhow::Result<T> {
        let (spec, resolved) = crate::overrides::resolve(name, text, &self.overrides)?;
        let path = self.experiment_dir(name)?.join("spec.toml");
        std::fs::write(&path, resolved).map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
        Ok(spec)
    }
}
