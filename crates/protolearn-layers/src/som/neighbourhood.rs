//! SOM neighbourhood functions `K^T(d)` of the grid distance and the decay schedules of the
//! temperature `T` and of the Kohonen learning rate (paper 002, Sec. 2.1).

use crate::error::{Error, Result};
use protolearn_metrics::Grid;
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// The neighbourhood function `K^T(d)` of the grid distance `d = δ(k, l)` at temperature `T`.
///
/// Every variant has `K^T(0) = 1` and is symmetric in `k, l` because `δ` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Neighbourhood {
    /// `K^T(d) = exp(-d^2 / T^2)`, values in `(0, 1]` (paper 002, Sec. 2.1; the default).
    #[default]
    Gaussian,
    /// `K^T(d) = 1` if `d <= T`, else `0` (Kohonen's bubble).
    Bubble,
    /// Ricker wavelet `K^T(d) = (1 - d^2 / T^2) exp(-d^2 / (2 T^2))` (MiniSom's convention):
    /// excitatory near the winner, inhibitory (minimum `-2 e^{-3/2} ≈ -0.446` at `d = √3 T`) further out.
    MexicanHat,
}

impl Neighbourhood {
    /// `K^T(d)` elementwise on grid distances `d` (any shape, float), temperature `t > 0`.
    ///
    /// # Shapes
    /// `d`: `[..]` → `[..]`.
    pub fn apply(self, d: &Tensor, t: f64) -> Tensor {
        let u = d.square() / (t * t); // [..] d^2 / T^2
        match self {
            Neighbourhood::Gaussian => (-u).exp(),
            Neighbourhood::Bubble => d.le(t).to_kind(d.kind()),
            Neighbourhood::MexicanHat => (1.0 - &u) * (u * -0.5).exp(),
        }
    }
}

/// How a scheduled value decays from `start` (iteration 0) to `end` (the last iteration).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Decay {
    /// `v(i) = start (end / start)^(i / iterations)` (paper 002, Sec. 2.1; the default).
    #[default]
    Exponential,
    /// `v(i) = start + (end - start) i / iterations`.
    Linear,
}

/// A decaying value: the SOM temperature `T(i)` or the Kohonen learning rate `α(i)`
/// (paper 002, Sec. 2.1 and Algorithms 1-2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Exponential or linear decay.
    #[serde(default)]
    pub decay: Decay,
    /// Value at iteration 0 (`T_max`).
    pub start: f64,
    /// Value at the last iteration (`T_min`).
    pub end: f64,
}

impl Schedule {
    /// The paper's temperature schedule for `grid`: exponential from `T_max = max(rows, cols)`
    /// ("T_max is always set equal to the map size", 8 for the 8x8 map of Table 2) to `T_min = 0.1`
    /// (paper 002, Sec. 3.6).
    pub fn paper_temperature(grid: &Grid) -> Schedule {
        Schedule { decay: Decay::Exponential, start: grid.rows().max(grid.cols()) as f64, end: 0.1 }
    }

    /// Checks `start >= end > 0` (an exponential decay needs positive endpoints; a zero
    /// temperature would divide by zero in [`Neighbourhood::apply`]).
    pub fn validate(&self, field: &'static str) -> Result<()> {
        if self.end > 0.0 && self.start >= self.end && self.start.is_finite() {
            Ok(())
        } else {
            Err(Error::InvalidConfig {
                field,
                expected: "finite start >= end > 0".into(),
                found: format!("start = {}, end = {}", self.start, self.end),
            })
        }
    }

    /// The value at iteration `i` of `iterations` (`i = 0` gives `start`, `i = iterations` gives `end`).
    pub fn at(&self, i: usize, iterations: usize) -> f64 {
        let frac = if iterations == 0 { 1.0 } else { i as f64 / iterations as f64 };
        match self.decay {
            Decay::Exponential => self.start * (self.end / self.start).powf(frac),
            Decay::Linear => self.start + (self.end - self.start) * frac,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protolearn_metrics::{Boundary, Lattice};
    use tch::Kind;

    const ALL: [Neighbourhood; 3] = [Neighbourhood::Gaussian, Neighbourhood::Bubble, Neighbourhood::MexicanHat];

    fn grid_distances() -> Tensor {
        let grid = Grid::new(3, 4, Lattice::Hexagonal, Boundary::Bounded).unwrap();
        let d: Vec<f32> = grid.distance_matrix().into_iter().map(|v| v as f32).collect();
        Tensor::from_slice(&d).view([12, 12])
    }

    #[test]
    fn schedule_endpoints_and_monotone_decay() {
        for decay in [Decay::Exponential, Decay::Linear] {
            let s = Schedule { decay, start: 8.0, end: 0.1 };
            assert!((s.at(0, 100) - 8.0).abs() < 1e-12);
            assert!((s.at(100, 100) - 0.1).abs() < 1e-12);
            assert!((1..=100).all(|i| s.at(i, 100) < s.at(i - 1, 100)), "{decay:?} decreases");
        }
        let exp = Schedule { decay: Decay::Exponential, start: 8.0, end: 0.5 };
        assert!((exp.at(50, 100) - 2.0).abs() < 1e-12, "geometric mean at half-way");
    }

    #[test]
    fn paper_schedule_and_validation() {
        let grid = Grid::new(8, 8, Lattice::Rectangular, Boundary::Bounded).unwrap();
        let s = Schedule::paper_temperature(&grid);
        assert_eq!((s.decay, s.start, s.end), (Decay::Exponential, 8.0, 0.1));
        assert!(s.validate("temperature").is_ok());
        assert!(Schedule { decay: Decay::Linear, start: 1.0, end: 0.0 }.validate("t").is_err());
        assert!(Schedule { decay: Decay::Linear, start: 0.1, end: 1.0 }.validate("t").is_err());
    }

    #[test]
    fn neighbourhoods_are_symmetric_one_at_the_winner_and_bounded() {
        let d = grid_distances();
        for n in ALL {
            for t in [0.5, 1.0, 3.0] {
                let k = n.apply(&d, t); // [12, 12]
                assert!(k.allclose(&k.transpose(0, 1), 0.0, 0.0, false), "{n:?} symmetric");
                assert!(k.diagonal(0, 0, 1).allclose(&Tensor::ones([12], (Kind::Float, tch::Device::Cpu)), 0.0, 0.0, false));
                let lo = if n == Neighbourhood::MexicanHat { -2.0 * (-1.5f64).exp() - 1e-6 } else { 0.0 };
                assert!(k.min().double_value(&[]) >= lo, "{n:?} lower bound");
                assert!(k.max().double_value(&[]) <= 1.0, "{n:?} upper bound");
            }
        }
    }

    #[test]
    fn gaussian_and_bubble_values() {
        let d = Tensor::from_slice(&[0.0f32, 1.0, 2.0]);
        let g = Neighbourhood::Gaussian.apply(&d, 2.0);
        assert!((g.double_value(&[1]) - (-0.25f64).exp()).abs() < 1e-6);
        assert!((g.double_value(&[2]) - (-1.0f64).exp()).abs() < 1e-6);
        let b = Neighbourhood::Bubble.apply(&d, 1.0);
        assert_eq!(Vec::<f32>::try_from(b).unwrap(), vec![1.0, 1.0, 0.0]);
        let m = Neighbourhood::MexicanHat.apply(&d, 1.0);
        assert!(m.double_value(&[1]).abs() < 1e-6, "zero crossing at d = T");
        assert!(m.double_value(&[2]) < 0.0);
    }

    #[test]
    fn config_round_trips_through_toml() {
        let s = Schedule { decay: Decay::Linear, start: 4.0, end: 0.1 };
        assert_eq!(toml::from_str::<Schedule>(&toml::to_string(&s).unwrap()).unwrap(), s);
        assert_eq!(toml::from_str::<Schedule>("start = 8.0\nend = 0.1\n").unwrap().decay, Decay::Exponential);
        assert!(toml::from_str::<Schedule>("start = 8.0\nend = 0.1\nbogus = 1\n").is_err());
    }
}
