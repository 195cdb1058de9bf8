//! Two interleaved Archimedean spirals.

use std::f64::consts::{PI, TAU};

use rand::Rng;

use super::{check_at_least, check_non_negative, finish, linspace};
use crate::data::Data;
use crate::error::{Error, Result};

/// Two interleaved Archimedean spiral arms in 2-D, one class per arm.
///
/// Arm `k ∈ {0, 1}` has points at `s = linspace(0, 1)`: angle `θ = 2π · turns · s`, radius
/// `r = radius · s` (so `r = radius / (2π · turns) · θ`, an Archimedean spiral), position
/// `r · (cos(θ + kπ), sin(θ + kπ))`: the second arm is the first rotated by half a turn.
/// Arm 0 gets `n_samples / 2` points, arm 1 the rest. Then rows are shuffled (if `shuffle`) and
/// `N(0, noise²)` is added to every coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct SpiralConfig {
    /// Total number of points, at least 2. Default 500.
    pub n_samples: usize,
    /// Number of full turns of each arm, `> 0`. Default 1.5.
    pub turns: f64,
    /// Radius at the outer end of each arm, `> 0`. Default 1.
    pub radius: f64,
    /// Standard deviation of the Gaussian noise added to each coordinate, `>= 0`. Default 0.03.
    pub noise: f64,
    /// Shuffle the rows (otherwise arm 0 comes first). Default `true`.
    pub shuffle: bool,
}

impl Default for SpiralConfig {
    fn default() -> Self {
        SpiralConfig { n_samples: 500, turns: 1.5, radius: 1.0, noise: 0.03, shuffle: true }
    }
}

impl SpiralConfig {
    /// Draws the dataset: features `[n_samples, 2]`, labels = arm index in {0, 1}.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("n_samples", self.n_samples, 2)?;
        check_non_negative("noise", self.noise)?;
        for (name, v) in [("turns", self.turns), ("radius", self.radius)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(name, "a finite value > 0", v));
            }
        }
        let n0 = self.n_samples / 2;
        let n1 = self.n_samples - n0;
        let arm = |n: usize, phase: f64| {
            linspace(0.0, 1.0, n, true).flat_map(move |s| {
                let theta = TAU * self.turns * s + phase;
                let r = self.radius * s;
                [r * theta.cos(), r * theta.sin()]
            })
        };
        let points = arm(n0, 0.0).chain(arm(n1, PI)).collect();
        let labels = std::iter::repeat_n(0, n0).chain(std::iter::repeat_n(1, n1)).collect();
        finish("spiral", points, labels, 2, self.shuffle, self.noise, rng)
    }
}
