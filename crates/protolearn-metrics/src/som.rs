//! Self-organizing map quality (paper 002, Appendix 1): QE, distortion, TE, CE, TP, PSR, CSI.
//!
//! Every function takes the samples and the prototypes of one space: pass inputs and
//! decoded prototypes for the original-space metric (QE, TE, ...) or codes and latent
//! prototypes for the latent one (QÊ, TÊ, ...). Prototype `k` sits on unit `k` of the grid.
//! Best-matching units follow the crate's tie rule (lowest index first, see [`crate::bmu`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use crate::bmu::{best_matching_units, best_two, check_inputs, map_samples, BestUnits};
use crate::error::{check_at_least, check_len, Error, Result};
use crate::grid::Grid;
use crate::matrix::Matrix;

/// Added to prototype distances in the topographic product so that duplicated prototypes
/// (distance 0) give a large finite ratio instead of a division by zero (as SOMperf).
const TP_DISTANCE_EPS: f64 = 1e-16;

/// Checks data, prototypes and grid of a SOM metric: non-empty data, at least
/// `min_units` prototypes, one prototype per unit, equal dimensions.
fn check_som(data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid, min_units: usize) -> Result<()> {
    check_at_least("samples", 1, data.rows())?;
    check_inputs(data, prototypes)?;
    check_at_least("prototypes", min_units, prototypes.rows())?;
    check_len("prototypes (one per grid unit)", grid.n_units(), prototypes.rows())
}

/// Best and second-best units of every sample, for metrics that need both (`K >= 2`).
fn two_best(data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid) -> Result<Vec<(BestUnits, usize)>> {
    check_som(data, prototypes, grid, 2)?;
    best_matching_units(data, prototypes)?
        .into_iter()
        .map(|b| b.second.map(|s| (b, s.unit)).ok_or(Error::TooFew { what: "prototypes", min: 2, got: 1 }))
        .collect()
}

/// Quantization error `QE = (1/N) sum_i ||x_i - m_{b_i}||_2` (paper 002, Appendix 1).
///
/// # Errors
/// `TooFew` for empty data or no prototype, `Shape` for mismatched dimensions.
pub fn quantization_error(data: Matrix<'_>, prototypes: Matrix<'_>) -> Result<f64> {
    check_at_least("samples", 1, data.rows())?;
    quantization_error_from(&best_matching_units(data, prototypes)?)
}

/// Quantization error from precomputed best units (e.g. found on a GPU):
/// `QE = (1/N) sum_i ||x_i - m_{b_i}||_2`, the mean of `sqrt(first.sq_dist)`.
///
/// # Errors
/// `TooFew` for no sample.
pub fn quantization_error_from(best: &[BestUnits]) -> Result<f64> {
    check_at_least("samples", 1, best.len())?;
    // A sequential sum: a parallel reduction's order (and so its rounding) varies between runs.
    let sum: f64 = best.iter().map(|b| b.first.dist()).sum();
    Ok(sum / best.len() as f64)
}

/// Neighbourhood kernel `K(δ)` weighting a unit at grid distance `δ` from the best unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `K^T(δ) = exp(-δ^2 / T^2)` (paper 002, Sect. 2.1); `temperature` is `T > 0`.
    Gaussian {
        /// The temperature (radius) `T`.
        temperature: f64,
    },
    /// `K(δ) = 1` if `δ <= radius`, else 0 (SOMperf's window neighbourhood).
    Window {
        /// The window radius.
        radius: f64,
    },
}

impl Kernel {
    /// The kernel value at grid distance `delta`.
    pub fn weight(&self, delta: usize) -> f64 {
        let d = delta as f64;
        match *self {
            Kernel::Gaussian { temperature } => (-(d * d) / (temperature * temperature)).exp(),
            Kernel::Window { radius } => f64::from(u8::from(d <= radius)),
        }
    }

    fn check(&self) -> Result<()> {
        let ok = match *self {
            Kernel::Gaussian { temperature } => temperature.is_finite() && temperature > 0.0,
            Kernel::Window { radius } => radius.is_finite() && radius >= 0.0,
        };
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidParameter { name: "kernel", reason: "temperature must be finite and > 0, radius finite and >= 0" })
        }
    }
}

/// Distortion, the SOM loss: `D = (1/N) sum_i sum_k K(δ(b_i, k)) ||x_i - m_k||_2^2`
/// (paper 002, Appendix 1; latent distortion is DESOM's SOM loss).
///
/// # Errors
/// As [`quantization_error`], plus `Shape` if the grid size differs from the number of
/// prototypes and `InvalidParameter` for a non-positive temperature.
pub fn distortion(data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid, kernel: Kernel) -> Result<f64> {
    check_som(data, prototypes, grid, 1)?;
    kernel.check()?;
    let k = prototypes.rows();
    let weights: Vec<f64> = grid.distance_matrix().into_iter().map(|d| kernel.weight(d)).collect();
    let sum: f64 = map_samples(data, prototypes, |dists| {
        let b = best_two(dists.iter().copied()).first.unit;
        let w = &weights[b * k..(b + 1) * k];
        w.iter().zip(dists).map(|(w, &d)| w * f64::from(d)).sum::<f64>()
    })
    .collect::<Vec<f64>>() // in sample order, then summed sequentially: the same rounding every run
    .iter()
    .sum();
    Ok(sum / data.rows() as f64)
}

/// Topographic error `TE = (1/N) sum_i 1[δ(b_i^1, b_i^2) > 1]`: the fraction of samples whose
/// two best units are not adjacent on the map (paper 002, Appendix 1).
///
/// # Errors
/// As [`distortion`]; `TooFew` with fewer than two prototypes (no second unit).
pub fn topographic_error(data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid) -> Result<f64> {
    check_som(data, prototypes, grid, 2)?;
    topographic_error_from(&best_matching_units(data, prototypes)?, grid)
}

/// Topographic error from precomputed best units (e.g. found on a GPU): the fraction of
/// samples with `δ(b_i^1, b_i^2) > 1`.
///
/// # Errors
/// `TooFew` for no sample or a sample without second unit, `Shape` for a unit outside `grid`.
pub fn topographic_error_from(best: &[BestUnits], grid: &Grid) -> Result<f64> {
    check_at_least("samples", 1, best.len())?;
    let mut errors = 0usize;
    for b in best {
        let second = b.second.ok_or(Error::TooFew { what: "prototypes", min: 2, got: 1 })?;
        for unit in [b.first.unit, second.unit] {
            if unit >= grid.n_units() {
                return Err(Error::Shape { what: "grid units above a best unit", expected: unit + 1, got: grid.n_units() });
            }
        }
        errors += usize::from(grid.distance_of(b.first.unit, second.unit) > 1);
    }
    Ok(errors as f64 / best.len() as f64)
}

/// Combined error (Kaski and Lagus 1996; paper 002, Appendix 1):
/// `CE = (1/N) sum_i [ ||x_i - m_{b_i^1}|| + min_p sum_k ||m_{p(k+1)} - m_{p(k)}|| ]`, the path `p`
/// running from `b_i^1` to `b_i^2` through adjacent units. Euclidean (not squared) distances
/// are used, as in Kaski and Lagus and SOMperf; paper 002 prints squared norms.
///
/// # Errors
/// As [`topographic_error`].
pub fn combined_error(data: Matrix<'_>, prototypes: Matrix<'_>, grid: &Grid) -> Result<f64> {
    let pairs = two_best(data, prototypes, grid)?;
    let k = prototypes.rows();
    let graph: Vec<Vec<(usize, f64)>> = (0..k)
        .map(|u| grid.neighbors_of(u).into_iter().map(|v| (v, euclidean_f64(prototypes.row(u), prototypes.row(v)))).collect())
        .collect();
    let mut is_source = vec![false; k];
    for (b, _) in &pairs {
        is_source[b.first.unit] = true;
    }
    let paths: Vec<Option<Vec<f64>>> = (0..k).into_par_iter().map(|s| is_source[s].then(|| dijkstra(&graph, s))).collect();
    let sum: f64 = pairs
        .iter()
        .map(|(b, second)| {
            let path = paths[b.first.unit].as_ref().map_or(0.0, |dist| dist[*second]);
            b.first.dist() + path
        })
        .sum();
    Ok(sum / pairs.len() as f64)
}

/// Euclidean distance in `f64` between two prototype rows of equal length.
fn euclidean_f64(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| {
            let d = f64::from(x) - f64::from(y);
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

/// A heap entry ordered by ascending distance (a min-heap on `BinaryHeap`).
#[derive(PartialEq)]
struct Frontier(f64, usize);

impl Eq for Frontier {}

impl Ord for Frontier {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then_with(|| other.1.cmp(&self.1))
    }
}

impl PartialOrd for Frontier {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Shortest path lengths from `source` over a graph with non-negative edge weights.
/// Grid graphs are connected, so every entry ends finite.
fn dijkstra(graph: &[Vec<(usize, f64)>], source: usize) -> Vec<f64> {
    let mut dist = vec![f64::INFINITY; graph.len()];
    let mut heap = BinaryHeap::new();
    dist[source] = 0.0;
    heap.push(Frontier(0.0, source));
    while let Some(Frontier(d, u)) = heap.pop() {
        if d > dist[u] {
            continue;
        }
        for &(v, w) in &graph[u] {
            let nd = d + w;
            if nd < dist[v] {
                dist[v] = nd;
                heap.push(Frontier(nd, v));
            }
        }
    }
    dist
}

/// Topographic product (Bauer and Pawelzik 1992; paper 002, Appendix 1):
/// `TP = 1/(K(K-1)) sum_j sum_{k=1}^{K-1} log P3(j, k)`,
/// `P3(j, k) = [prod_{l<=k} Q1(j, l) Q2(j, l)]^{1/(2k)}`,
/// `Q1 = d(m_j, m_{n_l^δ(j)}) / d(m_j, m_{n_l^d(j)})`, `Q2 = δ(j, n_l^δ(j)) / δ(j, n_l^d(j))`,
/// where `n_l^δ(j)` / `n_l^d(j)` is the `l`-th nearest unit to `j` on the map / in prototype
/// space. Neighbour ranks exclude `j` itself and break ties by the lower unit index;
/// prototype distances get `+1e-16` (as SOMperf) so duplicated prototypes stay finite.
///
/// # Errors
/// `TooFew` with fewer than two prototypes, `Shape` if the grid size differs.
pub fn topographic_product(prototypes: Matrix<'_>, grid: &Grid) -> Result<f64> {
    check_at_least("prototypes", 2, prototypes.rows())?;
    check_len("prototypes (one per grid unit)", grid.n_units(), prototypes.rows())?;
    let k = prototypes.rows();
    let delta: Vec<f64> = grid.distance_matrix().into_iter().map(|d| d as f64).collect();
    let total: f64 = (0..k)
        .into_par_iter()
        .map(|j| {
            let d: Vec<f64> = (0..k).map(|l| euclidean_f64(prototypes.row(j), prototypes.row(l)) + TP_DISTANCE_EPS).collect();
            let dl = &delta[j * k..(j + 1) * k];
            let by_map = ranked_others(j, dl);
            let by_space = ranked_others(j, &d);
            let mut log_prod = 0.0;
            by_map
                .iter()
                .zip(&by_space)
                .enumerate()
                .map(|(l, (&nm, &ns))| {
                    log_prod += (d[nm] / d[ns]).ln() + (dl[nm] / dl[ns]).ln();
                    log_prod / (2.0 * (l + 1) as f64)
                })
                .sum::<f64>()
        })
        .collect::<Vec<f64>>() // in unit order, then summed sequentially: the same rounding every run
        .iter()
        .sum();
    Ok(total / (k * (k - 1)) as f64)
}

/// Units other than `j`, sorted by ascending `dist`, ties by ascending index.
fn ranked_others(j: usize, dist: &[f64]) -> Vec<usize> {
    let mut others: Vec<usize> = (0..dist.len()).filter(|&l| l != j).collect();
    others.sort_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(a.cmp(&b)));
    others
}

/// Height and width of the single-channel images stored as matrix rows (row-major pixels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageShape {
    /// Number of pixel rows.
    pub height: usize,
    /// Number of pixel columns.
    pub width: usize,
}

/// How the sharpness of one image is measured from its 2-D gradient `(g_y, g_x)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharpness {
    /// Mean gradient norm `(1/P) sum_p sqrt(g_y^2 + g_x^2)`: the text of paper 002
    /// ("average norm of pixel gradients") and its authors' released code.
    #[default]
    MeanGradientNorm,
    /// Squared gradient norm `sum_p (g_y^2 + g_x^2)`: the equation printed in paper 002.
    SquaredGradientNorm,
}

/// Prototype sharpness ratio `PSR = [(1/K) sum_k s(m_k)] / [(1/N) sum_i s(x_i)]` with image
/// sharpness `s` (paper 002, Appendix 1). Gradients are `numpy.gradient`'s: central
/// differences inside, one-sided at the borders, 0 along an axis of length 1.
///
/// # Errors
/// `Shape` if a row is not `height * width` pixels, `TooFew` for no image,
/// `Undefined` if every data image is constant (zero sharpness).
pub fn prototype_sharpness_ratio(data: Matrix<'_>, prototypes: Matrix<'_>, shape: ImageShape, sharpness: Sharpness) -> Result<f64> {
    check_at_least("samples", 1, data.rows())?;
    check_at_least("prototypes", 1, prototypes.rows())?;
    let pixels =
        shape.height.checked_mul(shape.width).ok_or(Error::InvalidParameter { name: "shape", reason: "height * width overflows usize" })?;
    check_len("image pixels (height * width)", pixels, data.cols())?;
    check_len("prototype pixels (height * width)", pixels, prototypes.cols())?;
    let mean_sharpness = |m: Matrix<'_>| {
        // Collected in image order, then summed sequentially: the same rounding every run.
        let each: Vec<f64> = m.as_slice().par_chunks_exact(pixels).map(|img| image_sharpness(img, shape, sharpness)).collect();
        each.iter().sum::<f64>() / m.rows() as f64
    };
    let data_sharpness = mean_sharpness(data);
    if data_sharpness <= 0.0 {
        return Err(Error::Undefined { what: "prototype sharpness ratio", reason: "every data image is constant" });
    }
    Ok(mean_sharpness(prototypes) / data_sharpness)
}

/// Sharpness of one `height x width` image.
fn image_sharpness(img: &[f32], shape: ImageShape, sharpness: Sharpness) -> f64 {
    let ImageShape { height: h, width: w } = shape;
    let px = |r: usize, c: usize| f64::from(img[r * w + c]);
    // numpy.gradient along one axis of length n at position i, from values f(i)
    let grad = |n: usize, i: usize, f: &dyn Fn(usize) -> f64| match (n, i) {
        (1, _) => 0.0,
        (_, 0) => f(1) - f(0),
        (n, i) if i == n - 1 => f(i) - f(i - 1),
        (_, i) => 0.5 * (f(i + 1) - f(i - 1)),
    };
    let total: f64 = (0..h * w)
        .map(|p| {
            let (r, c) = (p / w, p % w);
            let gy = grad(h, r, &|i| px(i, c));
            let gx = grad(w, c, &|i| px(r, i));
            let sq = gy * gy + gx * gx;
            match sharpness {
                Sharpness::MeanGradientNorm => sq.sqrt(),
                Sharpness::SquaredGradientNorm => sq,
            }
        })
        .sum();
    match sharpness {
        Sharpness::MeanGradientNorm => total / (h * w) as f64,
        Sharpness::SquaredGradientNorm => total,
    }
}

/// Class scatter index (Elend and Kramer 2019; paper 002, Sect. 4.1.3 and Appendix 1): the
/// mean over classes of the number of groups the class forms on the map, a group being a
/// connected set (through adjacent units) of units that hold at least one sample of the class.
///
/// Takes each sample's label and its best-matching unit. Groups are full connected
/// components; SOMperf's loop only merges units adjacent to a group's first unit.
///
/// # Errors
/// `TooFew` for no sample, `Shape` for mismatched lengths, `UnitOutOfRange` for a unit
/// that is not on the grid.
pub fn class_scatter_index(labels: &[i64], units: &[usize], grid: &Grid) -> Result<f64> {
    check_at_least("labels", 1, labels.len())?;
    check_len("units (one per label)", labels.len(), units.len())?;
    for &u in units {
        grid.check_unit(u)?;
    }
    let mut pairs: Vec<(i64, usize)> = labels.iter().copied().zip(units.iter().copied()).collect();
    pairs.sort_unstable();
    pairs.dedup();
    let k = grid.n_units();
    let mut present = vec![false; k];
    let mut seen = vec![false; k];
    let mut n_classes = 0_usize;
    let mut n_groups = 0_usize;
    for class in pairs.chunk_by(|a, b| a.0 == b.0) {
        n_classes += 1;
        for &(_, u) in class {
            present[u] = true;
        }
        for &(_, start) in class {
            if seen[start] {
                continue;
            }
            n_groups += 1;
            seen[start] = true;
            let mut stack = vec![start];
            while let Some(u) = stack.pop() {
                for v in grid.neighbors_of(u) {
                    if present[v] && !seen[v] {
                        seen[v] = true;
                        stack.push(v);
                    }
                }
            }
        }
        for &(_, u) in class {
            present[u] = false;
            seen[u] = false;
        }
    }
    Ok(n_groups as f64 / n_classes as f64)
}
