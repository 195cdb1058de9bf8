//! Two interleaving half circles (scikit-learn's `make_moons`).

use std::f64::consts::PI;

use rand::Rng;

use super::{check_at_least, check_non_negative, finish, linspace};
use crate::data::Data;
use crate::error::Result;

/// Two interleaving half circles in 2-D, equivalent to scikit-learn's `make_moons`.
///
/// Class 0 (`n_samples / 2` points): `(cos t, sin t)` for `t = linspace(0, π)`, the upper half of
/// the unit circle centred at (0, 0). Class 1 (the rest): `(1 - cos t, 0.5 - sin t)`, the lower
/// half of the unit circle centred at (1, 0.5). Then rows are shuffled (if `shuffle`) and
/// `N(0, noise²)` is added to every coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct MoonsConfig {
    /// Total number of points, at least 2. Default 500 (scikit-learn: 100).
    pub n_samples: usize,
    /// Standard deviation of the Gaussian noise added to each coordinate, `>= 0`.
    /// Default 0.1 (scikit-learn: none).
    pub noise: f64,
    /// Shuffle the rows (otherwise class 0 comes first). Default `true` (as scikit-learn).
    pub shuffle: bool,
}

impl Default for MoonsConfig {
    fn default() -> Self {
        MoonsConfig { n_samples: 500, noise: 0.1, shuffle: true }
    }
}

impl MoonsConfig {
    /// Draws the dataset: features `[n_samples, 2]`, labels in {0, 1}.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("n_samples", self.n_samples, 2)?;
        check_non_negative("noise", self.noise)?;
        let n_out = self.n_samples / 2;
        let n_in = self.n_samples - n_out;
        let outer = linspace(0.0, PI, n_out, true).flat_map(|t| [t.cos(), t.sin()]);
        let inner = linspace(0.0, PI, n_in, true).flat_map(|t| [1.0 - t.cos(), 0.5 - t.sin()]);
        let points = outer.chain(inner).collect();
        let labels = std::iter::repeat_n(0, n_out).chain(std::iter::repeat_n(1, n_in)).collect();
        finish("moons", points, labels, 2, self.shuffle, self.noise, rng)
    }
}
