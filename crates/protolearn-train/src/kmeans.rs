//! k-means on the one trainer: each restart's Lloyd run ([`protolearn_layers::kmeans::Lloyd`])
//! is an [`Iteration`] the trainer steps until the centroids stop moving or `max_iter` steps are
//! done; the run with the lowest inertia wins. [`KMeansFit`] gives `KMeansConfig` its fits.
//!
//! ```
//! use protolearn_layers::kmeans::KMeansConfig;
//! use protolearn_train::kmeans::KMeansFit;
//! use tch::Tensor;
//! let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 1.0, 5.0, 5.0, 5.0, 6.0]).view([4, 2]);
//! // A tensor is a row source too; here read one row at a time.
//! let fit = KMeansConfig { k: 2, n_init: 2, max_iter: 10, tol: 0.0, seed: 0 }.fit_rows(&x, 1, 4)?;
//! assert!((fit.inertia - 1.0).abs() < 1e-4);
//! # Ok::<(), protolearn_train::Error>(())
//! ```

use crate::error::Result;
use crate::observer::{Observer, Silent};
use crate::trainer::{Iteration, PhaseConfig, Progress, StepInfo, Trainer};
use protolearn_layers::kmeans::{KMeans, KMeansConfig, KMeansRuns, Lloyd};
use protolearn_layers::missing::Components;
use protolearn_layers::rows::RowSource;
use tch::{nn, Tensor};

/// The phase of every Lloyd run.
pub const PHASE: &str = "lloyd";

/// The fits of a [`KMeansConfig`], each on the trainer ([`fit_runs`]).
pub trait KMeansFit {
    /// k-means of `x` `[n, d]` ([`KMeansConfig::runs`] over all components).
    fn fit(&self, x: &Tensor) -> Result<KMeans>;
    /// k-means of `x` comparing samples over `components` ([`KMeansConfig::runs`]).
    fn fit_over(&self, x: &Tensor, components: Components) -> Result<KMeans>;
    /// k-means of the rows of `source` read `chunk_rows` at a time, seeded from `init_rows`
    /// sampled rows ([`KMeansConfig::runs_over_rows`]).
    fn fit_rows(&self, source: &dyn RowSource, chunk_rows: usize, init_rows: usize) -> Result<KMeans>;
    /// One Lloyd run on `x` from the centroids `init` ([`KMeansConfig::runs_from`]).
    fn fit_from(&self, x: &Tensor, init: &Tensor) -> Result<KMeans>;
}

impl KMeansFit for KMeansConfig {
    fn fit(&self, x: &Tensor) -> Result<KMeans> {
        self.fit_over(x, Components::All)
    }

    fn fit_over(&self, x: &Tensor, components: Components) -> Result<KMeans> {
        fit_runs(&self.runs(x, components)?, self.max_iter, &mut Silent)
    }

    fn fit_rows(&self, source: &dyn RowSource, chunk_rows: usize, init_rows: usize) -> Result<KMeans> {
        fit_runs(&self.runs_over_rows(source, chunk_rows, init_rows)?, self.max_iter, &mut Silent)
    }

    fn fit_from(&self, x: &Tensor, init: &Tensor) -> Result<KMeans> {
        fit_runs(&self.runs_from(x, init)?, self.max_iter, &mut Silent)
    }
}

/// Steps every run of `runs` on the trainer (phase [`PHASE`] of at most `max_iter` steps, a
/// record per step: the inertia of its assignment, read with the shift the step reads anyway)
/// and keeps the one with the lowest final inertia (the first of equals).
pub fn fit_runs(runs: &KMeansRuns<'_>, max_iter: usize, observer: &mut dyn Observer) -> Result<KMeans> {
    let phase = PhaseConfig::new(PHASE, max_iter, 1);
    let vs = nn::VarStore::new(tch::Device::Cpu); // Lloyd keeps its centroids to itself
    let mut best: Option<KMeans> = None;
    for i in 0..runs.len() {
        let mut run = Run(runs.lloyd(i)?);
        Trainer::holding().iterate(&phase, &mut run, &vs, &mut [], observer)?;
        let fit = run.0.finish()?;
        if best.as_ref().is_none_or(|b| fit.inertia < b.inertia) {
            best = Some(fit);
        }
    }
    best.ok_or_else(|| crate::Error::InvalidConfig { field: "n_init".into(), expected: "at least 1".into(), found: "0".into() })
}

/// A Lloyd run as the trainer's [`Iteration`].
struct Run<'r>(Lloyd<'r>);

impl Iteration for Run<'_> {
    fn step(&mut self, _at: &StepInfo) -> Result<Progress> {
        let step = self.0.step()?;
        Ok(Progress { logged: vec![("inertia", step.inertia)], converged: step.converged })
    }
}
