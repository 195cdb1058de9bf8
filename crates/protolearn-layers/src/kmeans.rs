//! k-means on any libtorch device (the baseline of paper 002, Sec. 5: "k-means ... with 64
//! prototypes"): greedy k-means++ seeding from a Rust `ChaCha8Rng`, Lloyd iterations with the
//! row norms computed once and one `addmm` per assignment, restarts.

use crate::distance::{nearest_rows, squared_norms};
use crate::error::{expect_dims, Error, Result};
use crate::init::kmeans_plus_plus;
use crate::missing::{fill_missing, observed_mask, observed_means, Components, ObservedRows};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// k-means settings (scikit-learn's defaults where they exist). Fit with [`KMeansConfig::fit`].
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

    /// Fits k-means to `x`: `n_init` restarts of greedy k-means++ seeding (`2 + ln k` candidates
    /// per step, as scikit-learn) followed by Lloyd's algorithm
    /// `c_j <- mean{x_i : a_i = j}`, keeping the restart with the lowest inertia.
    ///
    /// **Empty clusters** never produce NaN: an empty centroid is re-seeded at the sample
    /// farthest from its current centroid (distinct samples for several empty clusters), which
    /// cannot increase the inertia of the current assignment.
    ///
    /// # Shapes
    /// `x`: `[n, d]` float, `n >= k`.
    pub fn fit(&self, x: &Tensor) -> Result<KMeans> {
        self.fit_over(x, Components::All)
    }

    /// [`KMeansConfig::fit`] comparing samples over `components`. With
    /// [`Components::Observed`], `NaN` components of `x` are missing: assignments use
    /// [`crate::missing::squared_euclidean_observed`], each centroid component is the mean of the
    /// cluster's samples that observe it (a component none observes keeps its value), the
    /// inertia sums the rescaled observed distances, and k-means++ seeds from the samples with
    /// their missing components set to the column means.
    ///
    /// # Shapes
    /// `x`: `[n, d]` float, `n >= k`.
    pub fn fit_over(&self, x: &Tensor, components: Components) -> Result<KMeans> {
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
            Components::All => Rows::Complete { x, x_sq: squared_norms(x) },
            Components::Observed => Rows::Observed(ObservedRows::new(x)),
        };
        let shift_tol = self.tol * variance;
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut best: Option<KMeans> = None;
        for _ in 0..self.n_init {
            let mut restart_rng = ChaCha8Rng::seed_from_u64(rng.next_u64());
            let init = kmeans_plus_plus(&seeds_from, self.k as i64, local_trials(self.k), &mut restart_rng)?; // [k, d]
            let run = self.lloyd(&rows, &seeds_from, init, shift_tol)?;
            if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
                best = Some(run);
            }
        }
        best.ok_or(Error::InvalidConfig { field: "n_init", expected: "at least 1".into(), found: "0".into() })
    }

    /// Lloyd iterations from `centroids` `[k, d]` until the shift is at most `shift_tol`, on
    /// `rows` (complete, or with missing components); an empty cluster is re-seeded at the
    /// farthest row of `filled` (`x` itself, or `x` with column means in its missing cells).
    fn lloyd(&self, rows: &Rows<'_>, filled: &Tensor, mut centroids: Tensor, shift_tol: f64) -> Result<KMeans> {
        let k = self.k as i64;
        // Inertias stay on the device until the end: one host read per iteration (the shift).
        let mut history = Vec::new();
        for _ in 0..self.max_iter {
            let (nearest, assignments) = rows.nearest(&centroids); // [n], [n]
            history.push(nearest.sum(Kind::Double)); // []
            let counts = Tensor::zeros([k], (nearest.kind(), nearest.device())).f_index_add(0, &assignments, &nearest.ones_like())?; // [k]
            let mut updated = rows.means(&assignments, &counts, &centroids)?; // [k, d]
            let empty = counts.eq(0.0).nonzero().squeeze_dim(1); // [e]
            let n_empty = empty.size()[0];
            if n_empty > 0 {
                let farthest = nearest.topk(n_empty, 0, true, true).1; // [e]
                updated = updated.f_index_copy(0, &empty, &filled.f_index_select(0, &farthest)?)?;
            }
            let shift = (&updated - &centroids).square().sum(Kind::Double).f_double_value(&[])?;
            centroids = updated;
            if shift <= shift_tol {
                break;
            }
        }
        let (nearest, assignments) = rows.nearest(&centroids);
        let inertia = nearest.sum(Kind::Double).f_double_value(&[])?;
        let mut inertia_history = Vec::<f64>::try_from(Tensor::f_stack(&history, 0)?.to_device(tch::Device::Cpu))?;
        inertia_history.push(inertia);
        Ok(KMeans { centroids, assignments, inertia, inertia_history })
    }
}
/// The data of a Lloyd run: complete rows with their squared norms, or rows with missing
/// components prepared for masked distances.
enum Rows<'a> {
    /// Complete rows `[n, d]` and `||x_i||^2` `[n]`.
    Complete { x: &'a Tensor, x_sq: Tensor },
    /// Rows with missing (`NaN`) components.
    Observed(ObservedRows),
}

impl Rows<'_> {
    /// The squared distance to the nearest centroid and its index, `[n]` each.
    fn nearest(&self, centroids: &Tensor) -> (Tensor, Tensor) {
        match self {
            Rows::Complete { x, x_sq } => nearest_rows(x, x_sq, centroids),
            Rows::Observed(rows) => rows.squared_euclidean(centroids).min_dim(1, false),
        }
    }

    /// The centroids of `assignments` (`counts` members each): cluster means, or, with missing
    /// components, each component's mean over the members that observe it (a component none
    /// observes keeps its value in `old`).
    fn means(&self, assignments: &Tensor, counts: &Tensor, old: &Tensor) -> Result<Tensor> {
        let k = counts.size()[0];
        Ok(match self {
            Rows::Complete { x, .. } => {
                let sums = Tensor::zeros([k, x.size()[1]], (x.kind(), x.device())).f_index_add(0, assignments, x)?; // [k, d]
                sums / counts.clamp_min(1.0).unsqueeze(1)
            }
            Rows::Observed(rows) => {
                let (sums, observed) = rows.sums(assignments, k)?; // [k, d], [k, d]
                (sums / observed.clamp_min(1.0)).f_where_self(&observed.gt(0.0), old)?
            }
        })
    }
}
