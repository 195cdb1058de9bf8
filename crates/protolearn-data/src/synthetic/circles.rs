//! A small circle inside a large one (scikit-learn's `make_circles`).

use std::f64::consts::TAU;

use rand::Rng;

use super::{check_at_least, check_non_negative, finish, linspace};
use crate::data::Data;
use crate::error::{Error, Result};

/// Two concentric circles in 2-D, equivalent to scikit-learn's `make_circles`.
///
/// Class 0 (`n_samples / 2` points): `(cos t, sin t)`, radius 1; class 1 (the rest):
/// `factor * (cos t, sin t)`; `t = linspace(0, 2π)` without the endpoint. Then rows are
/// shuffled (if `shuffle`) and `N(0, noise²)` is added to every coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct CirclesConfig {
    /// Total number of points, at least 2. Default 500 (scikit-learn: 100).
    pub n_samples: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate, `>= 0`.
    /// Default 0.05 (scikit-learn: none).
    pub noise: f64,
    /// Radius of the inner circle relative to the outer one, in `[0, 1)`.
    /// Default 0.5 (scikit-learn: 0.8).
    pub factor: f64,
    /// Shuffle the rows (otherwise class 0 comes first). Default `true` (as scikit-learn).
    pub shuffle: bool,
}

impl Default for CirclesConfig {
    fn default() -> Self {
        CirclesConfig { n_samples: 500, noise: 0.05, factor: 0.5, shuffle: true }
    }
}

impl CirclesConfig {
    /// Draws the dataset: features `[n_samples, 2]`, labels 0 (outer) and 1 (inner).
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("n_samples", self.n_samples, 2)?;
        check_non_negative("noise", self.noise)?;
        if !(0.0..1.0).contains(&self.factor) {
            return Err(Error::invalid("factor", "a value in [0, 1)", self.factor));
        }
        let n_out = self.n_samples / 2;
        let n_in = self.n_samples - n_out;
        let f = self.factor;
        let outer = linspace(0.0, TAU, n_out, false).flat_map(|t| [t.cos(), t.sin()]);
        let inner = linspace(0.0, TAU, n_in, false).flat_map(|t| [f * t.cos(), f * t.sin()]);
        let points = outer.chain(inner).collect();
        let labels = std::iter::repeat_n(0, n_out).chain(std::iter::repeat_n(1, n_in)).collect();
        finish("circles", points, labels, 2, self.shuffle, self.noise, rng)
    }
}
