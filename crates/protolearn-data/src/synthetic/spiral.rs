//! Interleaved Archimedean spirals: one arm (paper 000's Spiral, Table I: one cluster) or more.

use std::f64::consts::{PI, TAU};

use rand::Rng;

use super::{check_at_least, check_non_negative, finish, linspace};
use crate::data::Data;
use crate::error::{Error, Result};

/// `arms` interleaved Archimedean spiral arms in 2-D, one class per arm (default two).
///
/// Arm `k` has points at `s = linspace(0, 1)`: angle `θ = 2π · turns · s`, radius
/// `r = radius · s` (so `r = radius / (2π · turns) · θ`, an Archimedean spiral), position
/// `r · (cos(θ + 2πk / arms), sin(θ + 2πk / arms))`: arm `k` is the first rotated by `k / arms`
/// of a turn (two arms: half a turn). The points are split evenly, the first arms taking the
/// remainder. Then rows are shuffled (if `shuffle`) and `N(0, noise²)` is added to every
/// coordinate.
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
    /// Number of arms (clusters), at least 1. Default 2; paper 000's Spiral has one (Table I).
    pub arms: usize,
}

impl Default for SpiralConfig {
    fn default() -> Self {
        SpiralConfig { n_samples: 500, turns: 1.5, radius: 1.0, noise: 0.03, shuffle: true, arms: 2 }
    }
}

impl SpiralConfig {
    /// Draws the dataset: features `[n_samples, 2]`, labels = arm index in `0..arms`.
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("arms", self.arms, 1)?;
        check_at_least("n_samples", self.n_samples, 2.max(self.arms))?;
        check_non_negative("noise", self.noise)?;
        for (name, v) in [("turns", self.turns), ("radius", self.radius)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(name, "a finite value > 0", v));
            }
        }
        // Two arms: arm 0 gets n / 2 points and arm 1 the rest (the layout this generator always had).
        let sizes: Vec<usize> = match self.arms {
            2 => vec![self.n_samples / 2, self.n_samples - self.n_samples / 2],
            arms => (0..arms).map(|k| self.n_samples / arms + usize::from(k < self.n_samples % arms)).collect(),
        };
        let arm = |n: usize, phase: f64| {
            linspace(0.0, 1.0, n, true).flat_map(move |s| {
                let theta = TAU * self.turns * s + phase;
                let r = self.radius * s;
                [r * theta.cos(), r * theta.sin()]
            })
        };
        let phase = |k: usize| if self.arms == 2 { PI * k as f64 } else { TAU * k as f64 / self.arms as f64 };
        let points = sizes.iter().enumerate().flat_map(|(k, &n)| arm(n, phase(k))).collect();
        let labels = sizes.iter().enumerate().flat_map(|(k, &n)| std::iter::repeat_n(k as i64, n)).collect();
        finish("spiral", points, labels, 2, self.shuffle, self.noise, rng)
    }
}
