//! Synthetic Control Chart time series (Alcock & Manolopoulos 1999; UCI "Synthetic Control Chart Time Series").

use std::f64::consts::PI;

use rand::Rng;

use super::check_at_least;
use crate::data::Data;
use crate::error::{Error, Result};

/// The six control-chart classes, in label order (label `k` is `CONTROL_CHART_CLASSES[k]`).
pub const CONTROL_CHART_CLASSES: [&str; 6] = ["normal", "cyclic", "increasing trend", "decreasing trend", "upward shift", "downward shift"];

/// Mean level `m` of every series.
const MEAN: f64 = 30.0;
/// Noise scale `s`: the noise of a step is `r s` with `r ~ U(-3, 3)`.
const NOISE_SCALE: f64 = 2.0;

/// Univariate control-chart series in six classes (Alcock & Manolopoulos, "Time-series similarity
/// queries employing a feature-based approach", 1999; the UCI "Synthetic Control Chart Time
/// Series" data set), for `t = 1, ..., length` (1-based, as in the paper's formulas):
///
/// | label | class | `y(t)` | parameters, drawn once per series |
/// | --- | --- | --- | --- |
/// | 0 | normal | `m + r(t) s` | — |
/// | 1 | cyclic | `m + r(t) s + a sin(2πt / T)` | `a ~ U(10, 15)`, `T ~ U(10, 15)` |
/// | 2 | increasing trend | `m + r(t) s + g t` | `g ~ U(0.2, 0.5)` |
/// | 3 | decreasing trend | `m + r(t) s − g t` | `g ~ U(0.2, 0.5)` |
/// | 4 | upward shift | `m + r(t) s + k(t) x` | `x ~ U(7.5, 20)`, `t₃ ~ U(n/3, 2n/3)` |
/// | 5 | downward shift | `m + r(t) s − k(t) x` | as upward shift |
///
/// with `m = 30`, `s = 2`, `r(t) ~ U(-3, 3)` drawn afresh at every step, `n = length`, and
/// `k(t) = 0` for `t < t₃`, `1` for `t ≥ t₃`. Series come class by class (all of class 0 first,
/// not shuffled); for each series the class parameters are drawn first, then `r(1..=n)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlChartConfig {
    /// Series per class, at least 1. Default 100 (as the UCI data set).
    pub n_per_class: usize,
    /// Steps per series, at least 6. Default 60 (as the UCI data set).
    pub length: usize,
}

impl Default for ControlChartConfig {
    fn default() -> Self {
        ControlChartConfig { n_per_class: 100, length: 60 }
    }
}

impl ControlChartConfig {
    /// Draws the dataset: features `[6 n_per_class, length, 1]` (sequence layout `[n, T, D]`),
    /// labels `0..6` in the order of [`CONTROL_CHART_CLASSES`].
    pub fn generate(&self, rng: &mut impl Rng) -> Result<Data> {
        check_at_least("n_per_class", self.n_per_class, 1)?;
        check_at_least("length", self.length, 6)?;
        let n_series = self.n_per_class.checked_mul(CONTROL_CHART_CLASSES.len());
        let Some(total) = n_series.and_then(|n| n.checked_mul(self.length)) else {
            return Err(Error::invalid("n_per_class", "6 * n_per_class * length <= usize::MAX", self.n_per_class));
        };
        let n = self.length as f64;
        let mut features = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total / self.length);
        for label in 0..CONTROL_CHART_CLASSES.len() {
            for _ in 0..self.n_per_class {
                let pattern: Box<dyn Fn(f64) -> f64> = match label {
                    0 => Box::new(|_| 0.0),
                    1 => {
                        let (a, period) = (rng.random_range(10.0..15.0), rng.random_range(10.0..15.0));
                        Box::new(move |t| a * (2.0 * PI * t / period).sin())
                    }
                    2 | 3 => {
                        let g: f64 = rng.random_range(0.2..0.5);
                        let sign = if label == 2 { 1.0 } else { -1.0 };
                        Box::new(move |t| sign * g * t)
                    }
                    _ => {
                        let (x, t3): (f64, f64) = (rng.random_range(7.5..20.0), rng.random_range(n / 3.0..2.0 * n / 3.0));
                        let sign = if label == 4 { 1.0 } else { -1.0 };
                        Box::new(move |t| if t >= t3 { sign * x } else { 0.0 })
                    }
                };
                for t in 1..=self.length {
                    let r: f64 = rng.random_range(-3.0..3.0);
                    features.push((MEAN + r * NOISE_SCALE + pattern(t as f64)) as f32);
                }
                labels.push(label as i64);
            }
        }
        Data::new("control-chart", features, vec![labels.len(), self.length, 1], Some(labels))
    }
}
