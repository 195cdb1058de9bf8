//! Per-feature standardisation (z-scores) with a fitted, reusable scaler.

use crate::data::Data;
use crate::error::{Error, Result};

/// Per-feature affine scaler `z = (x - mean) / std`, like scikit-learn's `StandardScaler`.
///
/// Fit it on training data and apply the same transform to test data. `std` is the population
/// standard deviation (`ddof = 0`); a constant feature gets `std = 1`, so it maps to 0 instead
/// of NaN.
#[derive(Debug, Clone, PartialEq)]
pub struct Standardizer {
    /// Mean of each feature over the fitted samples.
    pub mean: Vec<f32>,
    /// Standard deviation of each feature (1 for constant features).
    pub std: Vec<f32>,
}

impl Standardizer {
    /// Fits mean and standard deviation of every feature (accumulated in `f64`, two passes).
    pub fn fit(data: &Data) -> Result<Self> {
        let (n, d) = (data.n_samples(), data.n_features());
        if n == 0 {
            return Err(Error::invalid("data", "at least one sample", "0 samples"));
        }
        let mut mean = vec![0.0f64; d];
        for row in data.rows() {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        let mut var = vec![0.0f64; d];
        let mut constant = vec![true; d];
        let first = data.row(0).unwrap_or_default();
        for row in data.rows() {
            for j in 0..d {
                let x = f64::from(row[j]);
                var[j] += (x - mean[j]).powi(2);
                constant[j] &= row[j] == first[j];
            }
        }
        let std = var
            .iter()
            .zip(&constant)
            .map(|(&v, &c)| {
                let s = (v / n as f64).sqrt() as f32;
                if c || s == 0.0 || !s.is_finite() {
                    1.0
                } else {
                    s
                }
            })
            .collect();
        let mean = mean.iter().zip(&constant).zip(first).map(|((&m, &c), &x0)| if c { x0 } else { m as f32 }).collect();
        Ok(Standardizer { mean, std })
    }

    /// Fits on `data` and transforms it in place; returns the fitted scaler.
    pub fn fit_transform(data: &mut Data) -> Result<Self> {
        let scaler = Self::fit(data)?;
        scaler.transform(data)?;
        Ok(scaler)
    }

    /// Applies `(x - mean) / std` in place; fails if the feature count differs from the fit.
    pub fn transform(&self, data: &mut Data) -> Result<()> {
        self.apply(data, |x, m, s| (x - m) / s)
    }

    /// Undoes [`transform`](Self::transform): `x = z * std + mean`, in place.
    pub fn inverse_transform(&self, data: &mut Data) -> Result<()> {
        self.apply(data, |z, m, s| z * s + m)
    }

    fn apply(&self, data: &mut Data, f: impl Fn(f32, f32, f32) -> f32) -> Result<()> {
        let d = self.mean.len();
        if data.n_features() != d {
            return Err(Error::Shape { expected: format!("{d} features (as fitted)"), got: format!("{} features", data.n_features()) });
        }
        for row in data.features.chunks_exact_mut(d.max(1)) {
            for ((x, &m), &s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *x = f(*x, m, s);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_and_inverts() -> Result<()> {
        let mut d = Data::new("t", vec![1.0, 5.0, 3.0, 5.0, 5.0, 5.0], vec![3, 2], None)?;
        let original = d.clone();
        let s = Standardizer::fit_transform(&mut d)?;
        assert_eq!(s.mean, vec![3.0, 5.0]);
        assert_eq!(s.std[1], 1.0);
        assert!((s.std[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(d.features[1], 0.0);
        s.inverse_transform(&mut d)?;
        for (a, b) in d.features.iter().zip(&original.features) {
            assert!((a - b).abs() < 1e-5);
        }
        Ok(())
    }

    #[test]
    fn rejects_empty_and_mismatched() -> Result<()> {
        let empty = Data::new("t", vec![], vec![0, 3], None)?;
        assert!(Standardizer::fit(&empty).is_err());
        let s = Standardizer::fit(&Data::new("t", vec![1.0, 2.0], vec![1, 2], None)?)?;
        let mut other = Data::new("t", vec![1.0; 3], vec![1, 3], None)?;
        assert!(s.transform(&mut other).is_err());
        Ok(())
    }
}
