//! Reproducible synthetic datasets (spiral, moons, circles, blobs, MADELON, control charts) and their shared plumbing.
//!
//! Every generator is a config struct with `Default` and a `generate(&mut rng) -> Result<Data>`
//! method. Given the same RNG state (callers use `ChaCha8Rng::seed_from_u64`), the output is the
//! same bit for bit on every machine, up to one caveat: `sin`, `cos`, `ln` and `exp` are Rust's
//! `f64` methods, which call the platform's libm, and libms may differ in the last bit on some
//! inputs. Arithmetic is done in `f64` and rounded to `f32` once at the end, which absorbs such
//! differences in all but rare cases. Gaussian draws use `rand_distr::StandardNormal`
//! (ziggurat); uniform draws and shuffles use `rand`'s portable integer and float sampling.

mod blobs;
mod circles;
mod control_chart;
mod madelon;
mod moons;
mod spiral;

pub use blobs::{BlobCenters, BlobsConfig};
pub use circles::CirclesConfig;
pub use control_chart::{ControlChartConfig, CONTROL_CHART_CLASSES};
pub use madelon::{FeatureRole, Madelon, MadelonConfig};
pub use moons::MoonsConfig;
pub use spiral::SpiralConfig;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::data::Data;
use crate::error::{Error, Result};
use crate::shuffle::permutation;

/// Fails unless `n >= min`.
fn check_at_least(name: &'static str, n: usize, min: usize) -> Result<()> {
    if n < min {
        return Err(Error::invalid(name, format!("at least {min}"), n));
    }
    Ok(())
}

/// Fails unless `v` is finite and `>= 0`.
fn check_non_negative(name: &'static str, v: f64) -> Result<()> {
    if !(v.is_finite() && v >= 0.0) {
        return Err(Error::invalid(name, "a finite value >= 0", v));
    }
    Ok(())
}

/// Fails unless `v` is finite.
fn check_finite(name: &'static str, v: f64) -> Result<()> {
    if !v.is_finite() {
        return Err(Error::invalid(name, "a finite value", v));
    }
    Ok(())
}

/// `n` evenly spaced values from `start` to `stop` (included iff `endpoint`), like `numpy.linspace`.
fn linspace(start: f64, stop: f64, n: usize, endpoint: bool) -> impl Iterator<Item = f64> {
    let div = if endpoint { n.saturating_sub(1).max(1) } else { n.max(1) };
    let step = (stop - start) / div as f64;
    (0..n).map(move |i| start + step * i as f64)
}

/// One draw from `N(0, 1)`.
fn normal(rng: &mut impl Rng) -> f64 {
    rng.sample(StandardNormal)
}

/// Finishes a 2-class-style toy set: optionally shuffles the rows, then adds `N(0, noise^2)` to
/// every coordinate (scikit-learn's order), and rounds to `f32`.
fn finish(
    name: &str,
    points: Vec<f64>,
    labels: Vec<i64>,
    n_features: usize,
    shuffle: bool,
    noise: f64,
    rng: &mut impl Rng,
) -> Result<Data> {
    let n = labels.len();
    let (mut points, labels) = if shuffle {
        let perm = permutation(n, rng);
        let pts = perm.iter().flat_map(|&i| &points[i * n_features..(i + 1) * n_features]).copied().collect();
        (pts, perm.iter().map(|&i| labels[i]).collect())
    } else {
        (points, labels)
    };
    if noise > 0.0 {
        points.iter_mut().for_each(|p| *p += noise * normal(rng));
    }
    let features = points.into_iter().map(|p| p as f32).collect();
    Data::new(name, features, vec![n, n_features], Some(labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_numpy() {
        let v: Vec<f64> = linspace(0.0, 1.0, 5, true).collect();
        assert_eq!(v, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        let v: Vec<f64> = linspace(0.0, 1.0, 4, false).collect();
        assert_eq!(v, vec![0.0, 0.25, 0.5, 0.75]);
        assert_eq!(linspace(2.0, 3.0, 1, true).collect::<Vec<_>>(), vec![2.0]);
    }
}
