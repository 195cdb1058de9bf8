//! The reference curve of Fig. 3 (paper 002, Sec. 4.1.2: latent QE "naturally varies like
//! sqrt(L)"): the least-squares fit `QE ≈ c sqrt(L)` through the origin and its `R²`.

use anyhow::{bail, Result};

/// `c = sum_i y_i sqrt(x_i) / sum_i x_i` minimising `sum_i (y_i - c sqrt(x_i))^2`, and
/// `R² = 1 - SS_res / SS_tot` with `SS_tot = sum_i (y_i - ȳ)^2` (`NaN` for constant `y`).
pub fn sqrt_fit(x: &[f64], y: &[f64]) -> Result<(f64, f64)> {
    if x.len() != y.len() || x.is_empty() || x.iter().any(|&v| v.is_nan() || v <= 0.0) {
        bail!("sqrt fit: needs as many x as y values, at least one, every x > 0 (got {} x, {} y)", x.len(), y.len());
    }
    let c = x.iter().zip(y).map(|(a, b)| b * a.sqrt()).sum::<f64>() / x.iter().sum::<f64>();
    let mean = y.iter().sum::<f64>() / y.len() as f64;
    let ss_res: f64 = x.iter().zip(y).map(|(a, b)| (b - c * a.sqrt()).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|b| (b - mean).powi(2)).sum();
    Ok((c, if ss_tot > 0.0 { 1.0 - ss_res / ss_tot } else { f64::NAN }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sqrt_data_is_fitted_with_r2_one() {
        let x = [2.0, 5.0, 10.0, 20.0];
        let y: Vec<f64> = x.iter().map(|v: &f64| 0.3 * v.sqrt()).collect();
        let (c, r2) = sqrt_fit(&x, &y).unwrap();
        assert!((c - 0.3).abs() < 1e-12 && (r2 - 1.0).abs() < 1e-12, "c {c}, r2 {r2}");
    }

    #[test]
    fn linear_data_fits_worse_and_bad_input_fails() {
        let x = [1.0, 10.0, 100.0];
        let (_, r2) = sqrt_fit(&x, &x).unwrap();
        assert!(r2 < 0.95, "a line is not a square root: r2 {r2}");
        assert!(sqrt_fit(&[0.0], &[1.0]).is_err());
        assert!(sqrt_fit(&[1.0, 2.0], &[1.0]).is_err());
    }
}
