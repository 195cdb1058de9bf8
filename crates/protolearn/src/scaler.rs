//! Input scaling fitted on the training data and stored with the model: none, standardisation
//! (`(x - mean) / std`) or min-max to `[0, 1]`, per feature.

use crate::error::{Error, Result};
use protolearn_layers::rows::{chunks, RowSource};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// Which scaling an estimator fits on its training data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scaling {
    /// The inputs as they are (the default, as minisom and scikit-learn).
    #[default]
    None,
    /// `x' = (x - mean) / std` per feature (population std; a constant feature gets std 1).
    Standard,
    /// `x' = (x - min) / (max - min)` per feature (a constant feature gets range 1).
    MinMax,
}

/// A fitted per-feature affine map `x' = (x - offset) / scale`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedScaler {
    /// The scaling it was fitted as.
    pub kind: Scaling,
    /// Per-feature offset (mean or minimum; 0 for none).
    pub offset: Vec<f32>,
    /// Per-feature scale (std or range, never 0; 1 for none).
    pub scale: Vec<f32>,
}

impl FittedScaler {
    /// The identity on `d` features (`Scaling::None`): inputs used as given.
    pub fn identity(d: usize) -> Self {
        FittedScaler { kind: Scaling::None, offset: vec![0.0; d], scale: vec![1.0; d] }
    }

    /// Fits `kind` on row-major `features` with `d` columns. Statistics are accumulated in
    /// `f64` over the observed values (a `NaN` is missing and left out); a scale below
    /// `f32::EPSILON` (a constant feature) becomes 1, so no NaN appears.
    pub fn fit(kind: Scaling, features: &[f32], d: usize) -> Result<Self> {
        if d == 0 || features.is_empty() || features.len() % d != 0 {
            return Err(Error::Shape {
                what: "scaling input".into(),
                expected: "at least one row of at least one feature".into(),
                found: format!("{} values in rows of {d}", features.len()),
            });
        }
        // Missing values (NaN) are left out: every statistic is over the observed rows.
        let column = |j: usize| features.iter().skip(j).step_by(d).filter(|v| !v.is_nan()).map(|&v| f64::from(v));
        let count = |j: usize| column(j).count().max(1) as f64;
        let (offset, scale): (Vec<f64>, Vec<f64>) = match kind {
            Scaling::None => (vec![0.0; d], vec![1.0; d]),
            Scaling::Standard => (0..d)
                .map(|j| {
                    let mean = column(j).sum::<f64>() / count(j);
                    let var = column(j).map(|v| (v - mean) * (v - mean)).sum::<f64>() / count(j);
                    (mean, var.sqrt())
                })
                .unzip(),
            Scaling::MinMax => (0..d)
                .map(|j| {
                    let (lo, hi) = column(j).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
                    if lo.is_finite() {
                        (lo, hi - lo)
                    } else {
                        (0.0, 1.0) // no observed value
                    }
                })
                .unzip(),
        };
        let scale = scale.into_iter().map(|s| if s < f64::from(f32::EPSILON) { 1.0 } else { s as f32 }).collect();
        Ok(FittedScaler { kind, offset: offset.into_iter().map(|o| o as f32).collect(), scale })
    }

    /// Fits `kind` on the rows of `source`, read `chunk_rows` at a time (data larger than
    /// memory): per-chunk means and squared deviations combined in `f64` by Chan et al.'s
    /// pairwise update (the in-memory [`FittedScaler::fit`]'s statistics to rounding), minima and
    /// maxima; a scale below `f32::EPSILON` becomes 1 as there.
    pub fn fit_rows(kind: Scaling, source: &dyn RowSource, chunk_rows: usize) -> Result<Self> {
        let d = source.n_cols();
        if kind == Scaling::None {
            return Ok(FittedScaler { kind, offset: vec![0.0; d], scale: vec![1.0; d] });
        }
        let (cpu, f64k) = (Device::Cpu, Kind::Double);
        let (mut count, mut mean, mut m2) = (0.0f64, Tensor::zeros([d as i64], (f64k, cpu)), Tensor::zeros([d as i64], (f64k, cpu)));
        let (mut lo, mut hi) =
            (Tensor::full([d as i64], f64::INFINITY, (f64k, cpu)), Tensor::full([d as i64], f64::NEG_INFINITY, (f64k, cpu)));
        for x in chunks(source, 0..source.n_rows(), chunk_rows) {
            let x = x?.to_kind(f64k).to_device(cpu); // [b, d]
            let b = x.size()[0] as f64;
            let chunk_mean = x.mean_dim(0, false, f64k);
            let chunk_m2 = (&x - &chunk_mean).square().sum_dim_intlist(0, false, f64k);
            let total = count + b;
            let delta = &chunk_mean - &mean;
            mean = &mean + &delta * (b / total);
            m2 = m2 + chunk_m2 + delta.square() * (count * b / total);
            lo = lo.minimum(&x.amin(0, false));
            hi = hi.maximum(&x.amax(0, false));
            count = total;
        }
        let values = |t: &Tensor| Vec::<f64>::try_from(t).map_err(Error::from);
        let (offset, scale) = match kind {
            Scaling::Standard => (values(&mean)?, values(&(m2 / count.max(1.0)).sqrt())?),
            _ => (values(&lo)?, values(&(&hi - &lo))?),
        };
        let scale = scale.into_iter().map(|s| if s < f64::from(f32::EPSILON) { 1.0 } else { s as f32 }).collect();
        Ok(FittedScaler { kind, offset: offset.into_iter().map(|o| o as f32).collect(), scale })
    }

    /// Number of features.
    pub fn n_features(&self) -> usize {
        self.offset.len()
    }

    /// Scales row-major `features` in place.
    pub fn apply(&self, features: &mut [f32]) {
        let d = self.n_features().max(1);
        for row in features.chunks_mut(d) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = (*v - o) / s;
            }
        }
    }

    /// Maps scaled row-major `features` back to input units in place.
    pub fn invert(&self, features: &mut [f32]) {
        let d = self.n_features().max(1);
        for row in features.chunks_mut(d) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = *v * s + o;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_minmax_by_hand() {
        // Columns (1, 3) and (5, 5): mean 2, std 1; constant column keeps scale 1.
        let x = [1.0f32, 5.0, 3.0, 5.0];
        let s = FittedScaler::fit(Scaling::Standard, &x, 2).unwrap();
        assert_eq!((s.offset.clone(), s.scale.clone()), (vec![2.0, 5.0], vec![1.0, 1.0]));
        let mut y = x;
        s.apply(&mut y);
        assert_eq!(y, [-1.0, 0.0, 1.0, 0.0]);
        s.invert(&mut y);
        assert_eq!(y, x);
        let m = FittedScaler::fit(Scaling::MinMax, &x, 2).unwrap();
        let mut y = x;
        m.apply(&mut y);
        assert_eq!(y, [0.0, 0.0, 1.0, 0.0]);
        assert!(FittedScaler::fit(Scaling::Standard, &x, 3).is_err());
        assert!(FittedScaler::fit(Scaling::Standard, &[], 2).is_err());
    }
}
