//! k-means on any libtorch device (the baseline of paper 002, Sec. 5: "k-means ... with 64
//! prototypes"): greedy k-means++ seeding from a Rust `ChaCha8Rng`, Lloyd iterations with the
//! row norms computed once and one `addmm` per assignment, restarts: each run a [`Lloyd`] that
//! protolearn-train's trainer steps until it converges (`protolearn_train::kmeans`).

use crate::collective::{default_group, shard_range, sum_across, Collective};
use crate::distance::{distances_less_row_norms, nearest_rows, squared_norms};
use crate::error::{expect_dims, Error, Result};
use crate::init::kmeans_plus_plus;
use crate::missing::{fill_missing, observed_mask, observed_means, Components, ObservedRows};
use crate::rows::{chunks, sample_rows, RowSource};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use tch::{Kind, Tensor};

/// k-means settings (scikit-learn's defaults where they exist). Its Lloyd runs come from
/// [`KMeansConfig::runs`]; protolearn-train's `KMeansFit::fit` steps them on the trainer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KMeansConfig {
    /// Number of clusters `k`; must not exceed the number of samples (an error otherwise).
    pub k: usize,
    /// Restarts from independent k-means++ seedings; the lowest inertia wins (default 10).
    #[serde(default = "default_n_init")]
    pub n_init: usize,
    /// Lloyd iterations per restart at most (default 300).
    #[serde(default = "default_max_iter")]
    pub max_iter: usize,
    /// Stop when the summed squared centroid shift is at most `tol` times the mean per-feature
    /// variance of the data (scikit-learn's rule; default `1e-4`).
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Seed of the `ChaCha8Rng` that draws one k-means++ seed per restart (default 0).
    #[serde(default)]
    pub seed: u64,
}

fn default_n_init() -> usize {
    10
}
fn default_max_iter() -> usize {
    300
}
fn default_tol() -> f64 {
    1e-4
}

/// Candidates per greedy k-means++ step: `2 + floor(ln k)` (scikit-learn's `KMeans`).
fn local_trials(k: usize) -> usize {
    2 + (k as f64).ln().floor() as usize
}

/// A fitted k-means partition.
#[derive(Debug)]
pub struct KMeans {
    /// Centroids `c_j`, `[k, d]`, on the data's device.
    pub centroids: Tensor,
    /// Nearest centroid of every sample, `[n]` int64.
    pub assignments: Tensor,
    /// Inertia `sum_i min_j ||x_i - c_j||^2` of the final centroids.
    pub inertia: f64,
    /// Inertia after every assignment step of the winning restart (non-increasing; the last
    /// entry is `inertia`).
    pub inertia_history: Vec<f64>,
}

impl KMeansConfig {
    /// `k` clusters with scikit-learn's defaults (10 restarts, 300 iterations, `tol = 1e-4`).
    pub fn new(k: usize, seed: u64) -> Self {
        KMeansConfig { k, n_init: default_n_init(), max_iter: default_max_iter(), tol: default_tol(), seed }
    }

    /// Checks the counts (at least 1) and `tol` (finite, `>= 0`).
    pub fn validate(&self) -> Result<()> {
        let checks = [("k", self.k, 1), ("n_init", self.n_init, 1), ("max_iter", self.max_iter, 1)];
        if let Some((field, value, _)) = checks.iter().find(|(_, v, min)| v < min) {
            return Err(Error::InvalidConfig { field, expected: "at least 1".into(), found: value.to_string() });
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(Error::InvalidConfig { field: "tol", expected: "finite tol >= 0".into(), found: self.tol.to_string() });
        }
        Ok(())
    }

    /// The Lloyd runs of a k-means fit to `x` (what protolearn-train's `KMeansFit::fit` steps on
    /// the trainer): `n_init` restarts, each from a greedy k-means++ seeding (`2 + ln k`
    /// candidates per step, as scikit-learn) of its own `ChaCha8Rng` stream (seeded by this
    /// config's RNG), each Lloyd step `c_j <- mean{x_i : a_i = j}`, stopping when the summed
    /// squared centroid shift is at most `tol` times the mean per-feature variance; the restart
    /// with the lowest inertia wins.
    ///
    /// **Empty clusters** never produce NaN: an empty centroid is re-seeded at the sample
    /// farthest from its current centroid (distinct samples for several empty clusters), which
    /// cannot increase the inertia of the current assignment.
    ///
    /// With [`Components::Observed`], `NaN` components of `x` are missing: assignments use
    /// [`crate::missing::squared_euclidean_observed`], each centroid component is the mean of the
    /// cluster's samples that observe it (a component none observes keeps its value), the
    /// inertia sums the rescaled observed distances, and k-means++ seeds from the samples with
    /// their missing components set to the column means.
    ///
    /// # Shapes
    /// `x`: `[n, d]` float, `n >= k`.
    pub fn runs(&self, x: &Tensor, components: Components) -> Result<KMeansRuns<'static>> {
        let n = expect_dims(x, 2, "k-means data", "[n, d]")?[0];
        self.validate()?;
        if self.k as i64 > n {
            return Err(Error::InvalidConfig { field: "k", expected: format!("at most the sample count {n}"), found: self.k.to_string() });
        }
        let (seeds_from, variance) = match components {
            Components::All => (x.shallow_clone(), x.var_dim(0, false, false).mean(Kind::Float).f_double_value(&[])?),
            Components::Observed => {
                let filled = fill_missing(x, &observed_means(x));
                // The per-feature variance over the observed cells (filled cells add 0).
                let observed = observed_mask(x).sum_dim_intlist(0, false, Kind::Float).clamp_min(1.0);
                let centred = (&filled - filled.mean_dim(0, true, Kind::Float)).square().sum_dim_intlist(0, false, Kind::Float);
                (filled, (centred / observed).mean(Kind::Float).f_double_value(&[])?)
            }
        };
        // Prepared once per fit: the row norms, or the zeroed rows, mask, norms and rescaling.
        let rows = match components {
            Components::All => Rows::Complete { x: x.shallow_clone(), x_sq: squared_norms(x) },
            Components::Observed => Rows::Observed(ObservedRows::new(x)),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let starts = self.seeded_starts(seeds_from.shallow_clone(), &mut rng);
        Ok(KMeansRuns { rows, filled: Some(seeds_from), shift_tol: self.tol * variance, starts })
    }

    /// [`KMeansConfig::runs`] on rows read from `source` `chunk_rows` at a time, for data larger
    /// than memory: k-means++ seeds from a seeded uniform sample of `init_rows` rows (all rows
    /// when there are fewer; scikit-learn's `MiniBatchKMeans` seeds from a sample the same way),
    /// then Lloyd steps sum each chunk's members as it is read, so a step is the in-memory
    /// step up to the order of float additions. Memory: one chunk, the sample, the centroids
    /// and `[n]` distances and assignments. Data-parallel over the default group when one is set
    /// (each rank reads its contiguous rows).
    pub fn runs_over_rows<'a>(&self, source: &'a dyn RowSource, chunk_rows: usize, init_rows: usize) -> Result<KMeansRuns<'a>> {
        self.validate()?;
        let n = source.n_rows();
        if self.k > n.min(init_rows) {
            return Err(Error::InvalidConfig {
                field: "k",
                expected: format!("at most the rows sampled for seeding, {} (of {n} rows; init_rows {init_rows})", n.min(init_rows)),
                found: self.k.to_string(),
            });
        }
        let rows = Rows::Source { source, range: 0..n, chunk_rows: chunk_rows.max(1) };
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        // All rows when they fit the sample (then the seeds are `runs`', drawn from the same RNG).
        let sample = sample_rows(source, chunk_rows, init_rows, &mut rng)?; // [m, d]
        let shift_tol = match self.tol {
            0.0 => 0.0,
            tol => tol * rows.mean_variance()?,
        };
        let starts = self.seeded_starts(sample, &mut rng);
        Ok(KMeansRuns { rows, filled: None, shift_tol, starts })
    }

    /// One Lloyd run on complete rows `x` `[n, d]` from the given starting centroids `init`
    /// `[k, d]` (no seeding, no restarts: `n_init` and `seed` are not used), at most `max_iter`
    /// steps, stopping early by the `tol` rule of [`KMeansConfig::runs`]; with `tol = 0` it runs
    /// `max_iter` steps unless the centroids stop moving. Runs from one start compare Lloyd
    /// implementations step for step (`protolearn speed` against FAISS and scikit-learn).
    ///
    /// ```
    /// use protolearn_layers::kmeans::KMeansConfig;
    /// use tch::Tensor;
    /// let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 1.0, 5.0, 5.0, 5.0, 6.0]).view([4, 2]);
    /// let init = Tensor::from_slice(&[0.0f32, 0.0, 5.0, 5.0]).view([2, 2]);
    /// let runs = KMeansConfig { k: 2, n_init: 1, max_iter: 10, tol: 0.0, seed: 0 }.runs_from(&x, &init)?;
    /// // What protolearn-train's trainer does with a run: step it until it converges.
    /// let mut lloyd = runs.lloyd(0)?;
    /// while !lloyd.step()?.converged {}
    /// let fit = lloyd.finish()?;
    /// // Centroids (0, 0.5) and (5, 5.5); distances from the GEMM expansion round at ~1e-6.
    /// assert!((fit.inertia - 1.0).abs() < 1e-4);
    /// # Ok::<(), protolearn_layers::Error>(())
    /// ```
    ///
    /// # Shapes
    /// `x`: `[n, d]` float, `init`: `[k, d]` of the same kind.
    pub fn runs_from(&self, x: &Tensor, init: &Tensor) -> Result<KMeansRuns<'static>> {
        let d = expect_dims(x, 2, "k-means data", "[n, d]")?[1];
        self.validate()?;
        let shape = expect_dims(init, 2, "k-means start", "[k, d]")?;
        if shape != [self.k as i64, d] {
            return Err(Error::Shape { what: "k-means start", expected: format!("[k = {}, d = {d}]", self.k), got: shape });
        }
        // With tol = 0 the rule needs no variance (a pass over the data saved).
        let shift_tol = match self.tol {
            0.0 => 0.0,
            tol => tol * x.var_dim(0, false, false).mean(Kind::Float).f_double_value(&[])?,
        };
        let rows = Rows::Complete { x: x.shallow_clone(), x_sq: squared_norms(x) };
        Ok(KMeansRuns { rows, filled: Some(x.shallow_clone()), shift_tol, starts: Starts::Given(init.to_kind(x.kind())) })
    }

    /// One k-means++ start per restart, each from its own RNG stream seeded by `rng`, drawn when
    /// its run begins.
    fn seeded_starts(&self, seeds_from: Tensor, rng: &mut ChaCha8Rng) -> Starts {
        let streams = (0..self.n_init).map(|_| rng.next_u64()).collect();
        Starts::Seeded { seeds_from, k: self.k as i64, streams }
    }
}

/// Where the runs of a fit start.
enum Starts {
    /// Greedy k-means++ from the rows `seeds_from`, one `ChaCha8Rng` stream per restart.
    Seeded { seeds_from: Tensor, k: i64, streams: Vec<u64> },
    /// The given centroids (one run).
    Given(Tensor),
}

/// The Lloyd runs of one k-means fit ([`KMeansConfig::runs`] and its variants): the data,
/// prepared once for every restart (row norms, or masked rows), the stopping tolerance and the
/// start of each restart. Each run is a [`Lloyd`], stepped to convergence by protolearn-train's
/// trainer; the caller keeps the run with the lowest inertia.
pub struct KMeansRuns<'a> {
    rows: Rows<'a>,
    /// The rows in memory that re-seed empty clusters (missing cells filled), if any.
    filled: Option<Tensor>,
    /// The summed squared centroid shift at which a run has converged.
    shift_tol: f64,
    starts: Starts,
}

impl std::fmt::Debug for KMeansRuns<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KMeansRuns").field("rows", &self.rows.len()).field("runs", &self.len()).field("shift_tol", &self.shift_tol).finish()
    }
}

impl KMeansRuns<'_> {
    /// The number of runs (restarts).
    pub fn len(&self) -> usize {
        match &self.starts {
            Starts::Seeded { streams, .. } => streams.len(),
            Starts::Given(_) => 1,
        }
    }

    /// Whether there is no run (never: configs have `n_init >= 1`).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Run `i` (from 0), at its start: its k-means++ seeding is drawn now.
    ///
    /// In a data-parallel run (a default process group, see [`crate::collective`]) every rank
    /// runs its contiguous part of the rows in each step and sums the member sums, counts and
    /// inertia across the group; the start is rank 0's and the re-seeded rows are the farthest
    /// over all ranks, so every rank follows the single-process trajectory (up to the order of
    /// float additions). The final assignments and distances are gathered onto every rank.
    pub fn lloyd(&self, i: usize) -> Result<Lloyd<'_>> {
        let centroids = match &self.starts {
            Starts::Seeded { seeds_from, k, streams } => {
                let stream = *streams.get(i).ok_or(Error::InvalidConfig {
                    field: "run",
                    expected: format!("one of the {} restarts", streams.len()),
                    found: i.to_string(),
                })?;
                let mut restart_rng = ChaCha8Rng::seed_from_u64(stream);
                kmeans_plus_plus(seeds_from, *k, local_trials(*k as usize), &mut restart_rng)?
                // [k, d]
            }
            Starts::Given(init) => init.shallow_clone(),
        };
        let group = default_group();
        let centroids = centroids.contiguous();
        let part = match group {
            Some(group) => {
                group.broadcast(&centroids, 0)?;
                Some(self.rows.shard(group)?)
            }
            None => None,
        };
        Ok(Lloyd { runs: self, part, group, centroids, history: Vec::new() })
    }
}

/// One Lloyd run of a [`KMeansRuns`] in progress: [`Lloyd::step`] until it converges (or a
/// step budget ends), then [`Lloyd::finish`].
pub struct Lloyd<'r> {
    runs: &'r KMeansRuns<'r>,
    /// This rank's part of the rows and the index of its first row (data-parallel), else none.
    part: Option<(Rows<'r>, i64)>,
    group: Option<&'static dyn Collective>,
    centroids: Tensor,
    /// The inertia before each step's update, on the device (read once, at the end).
    history: Vec<Tensor>,
}

impl std::fmt::Debug for Lloyd<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lloyd").field("centroids", &self.centroids.size()).field("steps", &self.history.len()).finish()
    }
}

/// What a Lloyd step reports.
#[derive(Debug)]
pub struct LloydStep {
    /// The inertia of the step's assignment (before the centroids moved), `[]` float64 on the
    /// device.
    pub inertia: Tensor,
    /// Whether the summed squared centroid shift was at most the tolerance: the run is done.
    pub converged: bool,
}

impl Lloyd<'_> {
    /// One step: assign every row to its nearest centroid, move each centroid to the mean of its
    /// members (an empty cluster to the farthest row), compare the shift with the tolerance
    /// (one host read).
    pub fn step(&mut self) -> Result<LloydStep> {
        let runs = self.runs;
        let (part, offset) = self.part.as_ref().map_or((&runs.rows, 0), |(part, offset)| (part, *offset));
        let Step { nearest, counts, mut updated } = part.step(&self.centroids, self.group)?; // [n], [k], [k, d]
        let inertia = nearest.sum(Kind::Double); // []
        sum_across(self.group, &inertia)?;
        self.history.push(inertia.shallow_clone());
        let empty = counts.eq(0.0).nonzero().squeeze_dim(1); // [e]
        let n_empty = empty.size()[0];
        if n_empty > 0 {
            let farthest = farthest_rows(&nearest, n_empty, offset, self.group)?; // [e]
            updated = updated.f_index_copy(0, &empty, &runs.rows.fetch(runs.filled.as_ref(), &farthest)?.to_kind(updated.kind()))?;
        }
        let shift = (&updated - &self.centroids).square().sum(Kind::Double).f_double_value(&[])?;
        self.centroids = updated;
        Ok(LloydStep { inertia, converged: shift <= runs.shift_tol })
    }

    /// The fitted partition: the final assignments (gathered onto every rank), the inertia of
    /// the final centroids and the inertia after every step.
    pub fn finish(self) -> Result<KMeans> {
        let runs = self.runs;
        let (part, offset) = self.part.as_ref().map_or((&runs.rows, 0), |(part, offset)| (part, *offset));
        let (nearest, assignments) = part.nearest(&self.centroids)?;
        let (nearest, assignments) = match self.group {
            Some(group) => {
                (gather_rows(&nearest, offset, runs.rows.len(), group)?, gather_rows(&assignments, offset, runs.rows.len(), group)?)
            }
            None => (nearest, assignments),
        };
        let inertia = nearest.sum(Kind::Double).f_double_value(&[])?;
        let mut inertia_history = match self.history.is_empty() {
            true => Vec::new(),
            false => Vec::<f64>::try_from(Tensor::f_stack(&self.history, 0)?.to_device(tch::Device::Cpu))?,
        };
        inertia_history.push(inertia);
        Ok(KMeans { centroids: self.centroids, assignments, inertia, inertia_history })
    }
}

/// The indices (into all rows) of the `e` rows farthest from their centroids, given this rank's
/// `nearest` squared distances `[n_r]` of the rows starting at `offset`: every rank offers its
/// own farthest `e` (fewer when it has fewer rows), the offers are shared by one all-reduce of
/// zero-filled slots (each rank writes only its own), and the farthest `e` of all offers are
/// taken, the same on every rank. One process: the `e` farthest of `nearest`.
fn farthest_rows(nearest: &Tensor, e: i64, offset: i64, group: Option<&dyn Collective>) -> Result<Tensor> {
    let Some(group) = group else {
        return Ok(nearest.topk(e, 0, true, true).1);
    };
    let (world, rank) = (group.world_size() as i64, group.rank() as i64);
    let offered = e.min(nearest.size()[0]);
    let (values, local) = nearest.topk(offered, 0, true, true); // [o], [o]
    let device = nearest.device();
    // Each rank fills its own row (-inf past its offers); the sum of the rows is every offer.
    let slot_values = Tensor::zeros([world, e], (Kind::Double, device));
    let slot_indices = Tensor::zeros([world, e], (Kind::Int64, device));
    let padded = Tensor::full([e], f64::NEG_INFINITY, (Kind::Double, device)).f_index_copy(
        0,
        &Tensor::arange(offered, (Kind::Int64, device)),
        &values.to_kind(Kind::Double),
    )?;
    slot_values.f_select(0, rank)?.f_copy_(&padded)?;
    slot_indices.f_select(0, rank)?.f_narrow(0, 0, offered)?.f_copy_(&(local + offset))?;
    group.all_reduce_sum(&slot_values)?;
    group.all_reduce_sum(&slot_indices)?;
    let best = slot_values.reshape([-1]).topk(e, 0, true, true).1; // [e]
    Ok(slot_indices.reshape([-1]).f_index_select(0, &best)?)
}

/// Bytes of the row block a CPU Lloyd pass multiplies and then sums while it is still in the
/// cache (16 MiB: 5,350 Fashion-MNIST rows; on 60,000 x 784, k = 64, 2 threads, blocks of 4,096
/// to 16,384 rows all took 48-50 ms per pass against 53 ms for one GEMM over all rows followed by
/// one `index_add`).
const LLOYD_BLOCK_BYTES: i64 = 16 << 20;

/// The data of a Lloyd run: complete rows with their squared norms, or rows with missing
/// components prepared for masked distances.
enum Rows<'a> {
    /// Complete rows `[n, d]` and `||x_i||^2` `[n]` (all rows, or a data-parallel rank's part).
    Complete { x: Tensor, x_sq: Tensor },
    /// Complete rows `range` of a source, read `chunk_rows` at a time.
    Source { source: &'a dyn RowSource, range: Range<usize>, chunk_rows: usize },
    /// Rows with missing (`NaN`) components.
    Observed(ObservedRows),
}

impl<'a> Rows<'a> {
    /// The number of rows.
    fn len(&self) -> usize {
        match self {
            Rows::Complete { x, .. } => x.size()[0] as usize,
            Rows::Source { range, .. } => range.len(),
            Rows::Observed(rows) => rows.len(),
        }
    }

    /// This rank's contiguous part of the rows and the index of its first row.
    fn shard(&self, group: &dyn Collective) -> Result<(Rows<'a>, i64)> {
        match self {
            Rows::Complete { x, x_sq } => {
                let range = shard_range(x.size()[0] as usize, group.rank(), group.world_size());
                let (start, len) = (range.start as i64, range.len() as i64);
                Ok((Rows::Complete { x: x.f_narrow(0, start, len)?, x_sq: x_sq.f_narrow(0, start, len)? }, start))
            }
            Rows::Source { source, range, chunk_rows } => {
                let part = shard_range(range.len(), group.rank(), group.world_size());
                let start = range.start + part.start;
                Ok((Rows::Source { source: *source, range: start..start + part.len(), chunk_rows: *chunk_rows }, part.start as i64))
            }
            Rows::Observed(_) => Err(Error::InvalidConfig {
                field: "data-parallel k-means",
                expected: "complete rows (k-means with missing values runs in one process)".into(),
                found: format!("{} processes (WORLD_SIZE)", group.world_size()),
            }),
        }
    }

    /// The mean over columns of the per-column variance of source rows, from float64 sums over
    /// the chunks (and over the ranks of the default group).
    fn mean_variance(&self) -> Result<f64> {
        let Rows::Source { source, range, chunk_rows } = self else {
            return Err(Error::InvalidConfig {
                field: "k-means rows",
                expected: "rows of a source".into(),
                found: "rows in memory".into(),
            });
        };
        let group = default_group();
        let part = group.map_or(range.clone(), |g| {
            let p = shard_range(range.len(), g.rank(), g.world_size());
            range.start + p.start..range.start + p.end
        });
        let d = source.n_cols() as i64;
        let totals = Tensor::zeros([2, d], (Kind::Double, tch::Device::Cpu)); // sums, sums of squares
        for x in chunks(*source, part, *chunk_rows) {
            let x = x?.to_kind(Kind::Double).to_device(tch::Device::Cpu);
            let moments =
                Tensor::f_stack(&[x.sum_dim_intlist(0, false, None::<Kind>), x.square().sum_dim_intlist(0, false, None::<Kind>)], 0)?;
            _ = totals.shallow_clone().f_add_(&moments)?;
        }
        sum_across(group, &totals)?;
        let n = range.len().max(1) as f64;
        let mean = totals.get(0) / n;
        Ok((totals.get(1) / n - mean.square()).clamp_min(0.0).mean(Kind::Double).f_double_value(&[])?)
    }

    /// The squared distance to the nearest centroid and its index, `[n]` each.
    fn nearest(&self, centroids: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok(match self {
            Rows::Complete { x, x_sq } => nearest_rows(x, x_sq, centroids),
            Rows::Source { source, range, chunk_rows } => {
                let (mut nearest, mut assignments) = (Vec::new(), Vec::new());
                for x in chunks(*source, range.clone(), *chunk_rows) {
                    let x = x?;
                    let (d, a) = nearest_rows(&x, &squared_norms(&x), centroids);
                    nearest.push(d);
                    assignments.push(a);
                }
                (Tensor::f_cat(&nearest, 0)?, Tensor::f_cat(&assignments, 0)?)
            }
            Rows::Observed(rows) => rows.squared_euclidean(centroids).min_dim(1, false),
        })
    }

    /// Rows `indices` (of the whole table, `[e]`) with their missing components filled: from
    /// `filled` (the rows in memory, missing cells filled) or read from the source.
    fn fetch(&self, filled: Option<&Tensor>, indices: &Tensor) -> Result<Tensor> {
        match (self, filled) {
            (Rows::Source { source, .. }, _) => {
                let rows = Vec::<i64>::try_from(indices.to_device(tch::Device::Cpu))?
                    .into_iter()
                    .map(|i| source.rows(i as usize, 1))
                    .collect::<Result<Vec<_>>>()?;
                Ok(Tensor::f_cat(&rows, 0)?)
            }
            (_, Some(filled)) => Ok(filled.f_index_select(0, indices)?),
            (_, None) => {
                Err(Error::InvalidConfig { field: "k-means rows", expected: "rows in memory to re-seed from".into(), found: "none".into() })
            }
        }
    }

    /// One Lloyd step from `centroids` `[k, d]`: assign every row to its nearest centroid, then
    /// move each centroid to the mean of its members (with missing components, each component's
    /// mean over the members that observe it; a component none observes keeps its value).
    /// Complete rows are summed block by block right after each block's distance GEMM (on CPU,
    /// blocks of [`LLOYD_BLOCK_BYTES`]: every row is read from memory once per step, not twice).
    ///
    /// With `group`, the rows are this rank's part and the sums and counts are summed over the
    /// group before the division.
    fn step(&self, centroids: &Tensor, group: Option<&dyn Collective>) -> Result<Step> {
        let k = centroids.size()[0];
        let (nearest, assignments, updated) = match self {
            Rows::Complete { x, x_sq } => {
                let [n, d] = [x.size()[0], x.size()[1]];
                let block = match x.device() {
                    tch::Device::Cpu => (LLOYD_BLOCK_BYTES / (4 * d.max(1))).max(1),
                    _ => n,
                };
                let blocks = (0..n).step_by(block as usize).map(|start| {
                    let len = block.min(n - start);
                    Ok((x.f_narrow(0, start, len)?, x_sq.f_narrow(0, start, len)?))
                });
                complete_pass(blocks, centroids)?
            }
            Rows::Source { source, range, chunk_rows } => {
                let parts = chunks(*source, range.clone(), *chunk_rows).map(|x| {
                    let x = x?;
                    let x_sq = squared_norms(&x);
                    Ok((x, x_sq))
                });
                complete_pass(parts, centroids)?
            }
            Rows::Observed(rows) => {
                let (nearest, assignments) = rows.squared_euclidean(centroids).min_dim(1, false);
                let (sums, observed) = rows.sums(&assignments, k)?; // [k, d], [k, d]
                (nearest, assignments, Means::Observed { sums, observed })
            }
        };
        let counts = Tensor::zeros([k], (nearest.kind(), nearest.device())).f_index_add(0, &assignments, &nearest.ones_like())?; // [k]
        sum_across(group, &counts)?;
        match &updated {
            Means::Complete(sums) => sum_across(group, sums)?,
            Means::Observed { sums, observed } => {
                sum_across(group, sums)?;
                sum_across(group, observed)?;
            }
        }
        let updated = match updated {
            Means::Complete(sums) => sums / counts.clamp_min(1.0).unsqueeze(1),
            Means::Observed { sums, observed } => (sums / observed.clamp_min(1.0)).f_where_self(&observed.gt(0.0), centroids)?,
        };
        Ok(Step { nearest, counts, updated })
    }
}

/// The assignment half of a Lloyd step on complete rows given part by part (`[b, d]` rows and
/// their `[b]` squared norms): each part's rows are summed into their clusters right after
/// its distance GEMM, while they are still in the cache. Returns the squared distances to the
/// nearest centroids `[n]` (clamped at 0), the assignments `[n]` and the member sums.
fn complete_pass(parts: impl Iterator<Item = Result<(Tensor, Tensor)>>, centroids: &Tensor) -> Result<(Tensor, Tensor, Means)> {
    let [k, d] = [centroids.size()[0], centroids.size()[1]];
    let mut sums = Tensor::zeros([k, d], (centroids.kind(), centroids.device())); // [k, d]
    let (mut nearest, mut assignments) = (Vec::new(), Vec::new());
    for part in parts {
        let (rows, rows_sq) = part?; // [b, d], [b]
        let (min, index) = distances_less_row_norms(&rows, centroids).min_dim(1, false); // [b], [b]
        sums = sums.f_index_add(0, &index, &rows)?;
        nearest.push(min + rows_sq);
        assignments.push(index);
    }
    let nearest = Tensor::f_cat(&nearest, 0)?.clamp_min(0.0); // [n]
    Ok((nearest, Tensor::f_cat(&assignments, 0)?, Means::Complete(sums)))
}

/// This rank's values `local` `[n_r]` of the rows starting at `offset`, placed among all `n`
/// rows' on every rank (one all-reduce of a zero-filled `[n]`: each rank writes only its rows).
fn gather_rows(local: &Tensor, offset: i64, n: usize, group: &dyn Collective) -> Result<Tensor> {
    let all = Tensor::zeros([n as i64], (local.kind(), local.device()));
    all.f_narrow(0, offset, local.size()[0])?.f_copy_(local)?;
    group.all_reduce_sum(&all)?;
    Ok(all)
}

/// The member sums of a Lloyd step, before division.
enum Means {
    /// Sums `[k, d]` of complete rows by cluster.
    Complete(Tensor),
    /// Sums `[k, d]` of the observed components by cluster and how many members observe each.
    Observed { sums: Tensor, observed: Tensor },
}

/// The outcome of [`Rows::step`].
struct Step {
    /// Squared distance of every row to its nearest centroid before the update, `[n]`.
    nearest: Tensor,
    /// Members per cluster, `[k]` (float).
    counts: Tensor,
    /// The updated centroids `[k, d]` (empty clusters keep the sums' zero; the caller re-seeds).
    updated: Tensor,
}
