//! Paper 002 (DESOM), Sec. 4.1: DESOM against `γ` (Table 4, Fig. 2) and the latent dimension `L`
//! (Table 5, Fig. 3), and DESOM against ConvDESOM (Table 6), on MNIST and Fashion-MNIST (train
//! split -> test split), trained and evaluated by `paper002_desom`'s models and evaluation.

mod fit;
mod paper;
mod report;

use super::image_sets::ImageSet;
use super::paper002_desom::models::{Inputs, Model};
use super::paper002_desom::{self as desom, PresetSpec, Spec as BaseSpec};
use super::results::Results;
use crate::context::RunContext;
use crate::report::Section;
use anyhow::Result;
use serde::Deserialize;
use std::time::Instant;

/// The experiment spec (benches/specs/paper002_sweeps.toml); the model settings are
/// `paper002_desom`'s spec.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The quick preset.
    pub quick: SweepPreset,
    /// The full preset.
    pub full: SweepPreset,
}

/// The sizes of one preset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepPreset {
    /// `mnist`, `fashion-mnist`.
    pub datasets: Vec<ImageSet>,
    /// Training seeds (every model runs once per seed).
    pub seeds: Vec<u64>,
    /// DESOM iterations (paper: 10000).
    pub iterations: usize,
    /// Table 4's `γ` grid at the default `L`.
    pub gammas: Vec<f64>,
    /// Table 5's `L` grid at the default `γ`.
    pub latent_dims: Vec<i64>,
    /// ConvDESOM iterations (Table 6; 0: not run).
    pub conv_iterations: usize,
}

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../../benches/specs/paper002_sweeps.toml");

/// One DESOM setting of the sweeps: SOM loss weight `γ` and latent dimension `L`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Variant {
    /// `γ`.
    pub gamma: f64,
    /// `L`.
    pub latent: i64,
}

impl Variant {
    /// The key of its results (`summary.json`) and checkpoints.
    pub fn key(self) -> String {
        format!("desom-gamma{}-L{}", self.gamma, self.latent)
    }

    /// The base spec with this `γ` and `L`.
    fn spec(self, base: &BaseSpec) -> BaseSpec {
        let mut spec = base.clone();
        spec.gamma = self.gamma;
        spec.dense.latent_dim = self.latent;
        spec
    }
}

/// Every variant of `preset` once: the `γ` grid at the base `L`, then the `L` grid at the base `γ`.
fn variants(base: &BaseSpec, preset: &SweepPreset) -> Vec<Variant> {
    let mut out: Vec<Variant> = Vec::new();
    let grid = preset.gammas.iter().map(|&gamma| Variant { gamma, latent: base.dense.latent_dim });
    for v in grid.chain(preset.latent_dims.iter().map(|&latent| Variant { gamma: base.gamma, latent })) {
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

/// Paper002_desom's preset type for one model run of `iterations` (no two-stage models).
fn model_preset(preset: &SweepPreset, iterations: usize, model: Model) -> PresetSpec {
    PresetSpec {
        seeds: preset.seeds.clone(),
        iterations,
        som_iterations: 0,
        ae_pretrain_iterations: 0,
        kmeans_n_init: 1,
        log_every: iterations,
        models: vec![model],
        datasets: None,
    }
}

/// Runs every variant (and ConvDESOM) of `preset` on one dataset for every seed.
fn run_dataset(ctx: &RunContext, base: &BaseSpec, preset: &SweepPreset, name: ImageSet, results: &mut Results) -> Result<()> {
    let data = desom::load(ctx, base, name, false)?;
    let dataset = name.id();
    let dense = model_preset(preset, preset.iterations, Model::Desom);
    let conv = model_preset(preset, preset.conv_iterations, Model::ConvDesom);
    let mut runs: Vec<(String, BaseSpec, &PresetSpec)> =
        variants(base, preset).into_iter().map(|v| (v.key(), v.spec(base), &dense)).collect();
    if preset.conv_iterations > 0 {
        runs.push((Model::ConvDesom.id().to_owned(), base.clone(), &conv));
    }
    for &seed in &preset.seeds {
        for (key, spec, model_preset) in &runs {
            let checkpoints = ctx.checkpoints.then(|| ctx.out.join("paper002_sweeps").join("checkpoints").join(dataset).join(key));
            let inputs = Inputs {
                spec,
                preset: model_preset,
                train: &data.train,
                test: &data.test,
                seed,
                checkpoints,
                resume: ctx.resume,
                online: None,
            };
            println!("  {dataset} seed {seed}: {key}");
            let (_, metrics, _) =
                desom::SeedRun::default().fit_evaluate(&inputs, model_preset.models[0], false, &data, dataset, results)?;
            desom::record(results, dataset, key, &metrics);
        }
    }
    Ok(())
}

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    let spec: Spec = ctx.spec("paper002_sweeps", SPEC)?;
    let preset = ctx.pick(&spec.quick, &spec.full);
    let (base, base_text): (BaseSpec, String) = ctx.resolve_spec("paper002_desom", desom::SPEC)?;
    let dir = ctx.experiment_dir("paper002_sweeps")?;
    crate::context::write_file(&dir.join("paper002_desom_spec.toml"), base_text.as_bytes())?;
    let start = Instant::now();
    let mut results = Results::new();
    for &name in &preset.datasets {
        run_dataset(ctx, &base, preset, name, &mut results)?;
    }
    let wall = start.elapsed().as_secs_f64();
    crate::context::write_json(&dir.join("summary.json"), &results)?;
    report::section(ctx, &dir, &base, preset, &results, wall)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_defaults_are_trained_once() {
        let base: BaseSpec = toml::from_str(desom::SPEC).unwrap();
        let spec: Spec = toml::from_str(SPEC).unwrap();
        for preset in [&spec.quick, &spec.full] {
            let v = variants(&base, preset);
            let default = Variant { gamma: base.gamma, latent: base.dense.latent_dim };
            assert_eq!(v.iter().filter(|&&x| x == default).count(), 1);
            assert_eq!(v.len(), preset.gammas.len() + preset.latent_dims.len() - 1);
        }
    }
}
