//! Summary statistics for result tables: mean, sample standard deviation, standard error, Welch's t-test.
//!
//! The Student t distribution is evaluated through the regularized incomplete beta function
//! (continued fraction, Numerical Recipes 6.4) and a Lanczos log-gamma; no statistics crate.

use crate::error::{check_at_least, Error, Result};

/// Relative accuracy at which the incomplete-beta continued fraction stops.
const BETA_CF_EPS: f64 = 1e-15;
/// Iteration cap of the continued fraction (it converges in O(sqrt(max(a, b))) steps).
const BETA_CF_MAX_ITER: usize = 10_000;
/// Guard against division by zero inside the modified Lentz algorithm.
const BETA_CF_TINY: f64 = 1e-300;

/// Result of Welch's unequal-variance two-sample t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WelchTest {
    /// `t = (mean_a - mean_b) / sqrt(s_a^2/n_a + s_b^2/n_b)`.
    pub t: f64,
    /// Welch-Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value `P(|T_df| >= |t|)`.
    pub p_value: f64,
}

fn check_values(what: &'static str, x: &[f64], min: usize) -> Result<()> {
    check_at_least(what, min, x.len())?;
    match x.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite { what, index }),
        None => Ok(()),
    }
}

/// Arithmetic mean `x̄ = (1/n) sum x_i`.
///
/// # Errors
/// `TooFew` for an empty slice, `NonFinite` for NaN or infinite values.
pub fn mean(x: &[f64]) -> Result<f64> {
    check_values("values", x, 1)?;
    Ok(x.iter().sum::<f64>() / x.len() as f64)
}

/// Sample variance `s^2 = sum (x_i - x̄)^2 / (n - 1)` (two-pass).
fn variance(x: &[f64]) -> Result<f64> {
    check_values("values", x, 2)?;
    let m = mean(x)?;
    Ok(x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64)
}

/// Sample standard deviation `s = sqrt(sum (x_i - x̄)^2 / (n - 1))` (numpy `ddof=1`).
///
/// # Errors
/// `TooFew` for fewer than two values, `NonFinite` for NaN or infinite values.
pub fn std_dev(x: &[f64]) -> Result<f64> {
    Ok(variance(x)?.sqrt())
}

/// Pearson correlation `r = sum (x_i - x̄)(y_i - ȳ) / sqrt(sum (x_i - x̄)^2 sum (y_i - ȳ)^2)`
/// (scipy `stats.pearsonr`); `None` when either series is constant (`r` undefined).
///
/// # Errors
/// `TooFew` for fewer than two pairs, `NonFinite` for NaN or infinite values, and
/// `InvalidParameter` for series of different lengths.
pub fn pearson(x: &[f64], y: &[f64]) -> Result<Option<f64>> {
    if x.len() != y.len() {
        return Err(Error::InvalidParameter { name: "y", reason: "must have as many values as x" });
    }
    let (mx, my) = (mean(x)?, mean(y)?);
    check_values("values", x, 2)?;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        let (dx, dy) = (a - mx, b - my);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    if sxx == 0.0 || syy == 0.0 {
        return Ok(None);
    }
    Ok(Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0)))
}

/// Standard error of the mean `s / sqrt(n)` (scipy `stats.sem`).
///
/// # Errors
/// As [`std_dev`].
pub fn std_error(x: &[f64]) -> Result<f64> {
    Ok(std_dev(x)? / (x.len() as f64).sqrt())
}

/// Welch's two-sided t-test (scipy `stats.ttest_ind(a, b, equal_var=False)`), the test
/// behind the "no significant difference" marks of paper 002's tables:
/// `t = (x̄_a - x̄_b) / sqrt(v_a + v_b)` with `v = s^2 / n`,
/// `df = (v_a + v_b)^2 / (v_a^2 / (n_a - 1) + v_b^2 / (n_b - 1))`,
/// `p = I_{df / (df + t^2)}(df / 2, 1 / 2)`.
///
/// Both samples constant (zero variance, where scipy returns NaN): `t = 0, p = 1` if the
/// means are equal, `t = ±inf, p = 0` otherwise, with `df = n_a + n_b - 2`.
///
/// # Errors
/// `TooFew` if a sample has fewer than two values, `NonFinite` for NaN or infinite values.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Result<WelchTest> {
    let summary = |x: &[f64]| -> Result<Summary> { Ok(Summary { mean: mean(x)?, std: variance(x)?.sqrt(), n: x.len() }) };
    welch_from_summary(summary(a)?, summary(b)?)
}

/// A sample described by its mean, sample standard deviation and size (a published
/// `mean ± std` over `n` runs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (`ddof = 1`); 0 for a value reported without spread.
    pub std: f64,
    /// The number of runs.
    pub n: usize,
}

/// [`welch_t_test`] from summary statistics (scipy `stats.ttest_ind_from_stats(...,
/// equal_var=False)`): compares our runs with a paper's `mean ± std` over `n` runs. A side with
/// `std = 0` (a value reported without spread) reduces it to the one-sample t-test of the other
/// side against that value.
///
/// # Errors
/// `TooFew` if a side has fewer than two runs, `NonFinite` for a NaN or infinite statistic,
/// `InvalidParameter` for a negative standard deviation.
pub fn welch_from_summary(a: Summary, b: Summary) -> Result<WelchTest> {
    for side in [a, b] {
        check_at_least("runs", 2, side.n)?;
        if let Some(index) = [side.mean, side.std].iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "summary statistic", index });
        }
        if side.std < 0.0 {
            return Err(Error::InvalidParameter { name: "std", reason: "must be >= 0" });
        }
    }
    let (va, vb) = (a.std * a.std / a.n as f64, b.std * b.std / b.n as f64);
    let diff = a.mean - b.mean;
    let se2 = va + vb;
    if se2 == 0.0 {
        let df = (a.n + b.n - 2) as f64;
        return Ok(if diff == 0.0 {
            WelchTest { t: 0.0, df, p_value: 1.0 }
        } else {
            WelchTest { t: diff.signum() * f64::INFINITY, df, p_value: 0.0 }
        });
    }
    let t = diff / se2.sqrt();
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let p_value = regularized_incomplete_beta(0.5 * df, 0.5, df / (df + t * t))?;
    Ok(WelchTest { t, df, p_value })
}

/// Cumulative distribution function of Student's t with `df` degrees of freedom:
/// `F(t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2` for `t >= 0`, symmetric for `t < 0`.
///
/// # Errors
/// `InvalidParameter` unless `df > 0` and finite; `NonFinite` if `t` is NaN.
pub fn student_t_cdf(t: f64, df: f64) -> Result<f64> {
    if !(df.is_finite() && df > 0.0) {
        return Err(Error::InvalidParameter { name: "df", reason: "degrees of freedom must be finite and positive" });
    }
    if t.is_nan() {
        return Err(Error::NonFinite { what: "t", index: 0 });
    }
    let tail = 0.5 * regularized_incomplete_beta(0.5 * df, 0.5, df / (df + t * t))?;
    Ok(if t >= 0.0 { 1.0 - tail } else { tail })
}

/// Regularized incomplete beta `I_x(a, b) = B(x; a, b) / B(a, b)`, by the continued fraction
/// of Numerical Recipes (3rd ed., Sect. 6.4), using the symmetry
/// `I_x(a, b) = 1 - I_{1-x}(b, a)` where the fraction converges slowly.
///
/// # Errors
/// `InvalidParameter` unless `a, b > 0` are finite and `0 <= x <= 1`.
pub fn regularized_incomplete_beta(a: f64, b: f64, x: f64) -> Result<f64> {
    if !(a.is_finite() && b.is_finite() && a > 0.0 && b > 0.0) {
        return Err(Error::InvalidParameter { name: "a, b", reason: "shape parameters must be finite and positive" });
    }
    if !(0.0..=1.0).contains(&x) {
        return Err(Error::InvalidParameter { name: "x", reason: "must lie in [0, 1]" });
    }
    if x == 0.0 || x == 1.0 {
        return Ok(x);
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    Ok(if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_continued_fraction(b, a, 1.0 - x) / b
    })
}

/// Continued fraction of the incomplete beta function (modified Lentz), NR `betacf`.
fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    let guard = |v: f64| {
        if v.abs() < BETA_CF_TINY {
            BETA_CF_TINY
        } else {
            v
        }
    };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - qab * x / qap);
    let mut h = d;
    for m in 1..=BETA_CF_MAX_ITER {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 / guard(1.0 + aa * d);
        c = guard(1.0 + aa / c);
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() <= BETA_CF_EPS {
            break;
        }
    }
    h
}

/// `ln Γ(x)` for `x > 0` by the Lanczos approximation (g = 7, n = 9; relative error ~1e-15).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // reflection: Γ(x) Γ(1 - x) = π / sin(π x)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let t = x + G + 0.5;
    let series = COEF[1..].iter().enumerate().fold(COEF[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + series.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut fact = 1.0_f64;
        for n in 1..20 {
            fact *= n as f64;
            // Γ(n + 1) = n!
            assert!((ln_gamma(n as f64 + 1.0) - fact.ln()).abs() <= 1e-12 * fact.ln().max(1.0));
        }
        // Γ(1/2) = sqrt(π)
        let half = 0.5 * std::f64::consts::PI.ln();
        assert!((ln_gamma(0.5) - half).abs() < 1e-13);
    }

    #[test]
    fn incomplete_beta_closed_forms() -> Result<()> {
        // I_x(1, 1) = x ; I_x(a, 1) = x^a ; I_x(1, b) = 1 - (1 - x)^b
        for &x in &[0.0, 0.1, 0.37, 0.5, 0.93, 1.0] {
            assert!((regularized_incomplete_beta(1.0, 1.0, x)? - x).abs() < 1e-14);
            assert!((regularized_incomplete_beta(3.5, 1.0, x)? - x.powf(3.5)).abs() < 1e-13);
            let expected = 1.0 - (1.0 - x).powf(2.25);
            assert!((regularized_incomplete_beta(1.0, 2.25, x)? - expected).abs() < 1e-13);
        }
        assert!(regularized_incomplete_beta(0.0, 1.0, 0.5).is_err());
        assert!(regularized_incomplete_beta(1.0, 1.0, 1.5).is_err());
        Ok(())
    }

    #[test]
    fn welch_from_summary_matches_the_samples_and_reduces_to_one_sample() -> Result<()> {
        let (a, b) = ([0.31, 0.42, 0.38, 0.29, 0.45], [0.2, 0.25, 0.18, 0.27]);
        let from_samples = welch_t_test(&a, &b)?;
        let summary = |x: &[f64]| Summary { mean: mean(x).unwrap(), std: std_dev(x).unwrap(), n: x.len() };
        let from_stats = welch_from_summary(summary(&a), summary(&b))?;
        assert!((from_samples.t - from_stats.t).abs() < 1e-12 && (from_samples.p_value - from_stats.p_value).abs() < 1e-12);
        // A value without spread: the one-sample t-test, t = (x̄ - m) / (s / sqrt(n)), df = n - 1.
        let one = welch_from_summary(summary(&a), Summary { mean: 0.3, std: 0.0, n: 10 })?;
        let t = (mean(&a)? - 0.3) / (std_dev(&a)? / 5f64.sqrt());
        assert!((one.t - t).abs() < 1e-12 && (one.df - 4.0).abs() < 1e-12, "{one:?}");
        assert!((one.p_value - 2.0 * (1.0 - student_t_cdf(t.abs(), 4.0)?)).abs() < 1e-12);
        let bad = Summary { mean: 0.0, std: -1.0, n: 3 };
        assert!(welch_from_summary(bad, bad).is_err());
        assert!(matches!(welch_from_summary(Summary { n: 1, ..bad }, bad), Err(Error::TooFew { .. })));
        Ok(())
    }

    #[test]
    fn degenerate_samples_are_defined() -> Result<()> {
        let same = welch_t_test(&[1.0, 1.0], &[1.0, 1.0, 1.0])?;
        assert_eq!((same.t, same.p_value), (0.0, 1.0));
        let apart = welch_t_test(&[1.0, 1.0], &[2.0, 2.0])?;
        assert_eq!((apart.t, apart.p_value), (f64::NEG_INFINITY, 0.0));
        assert!(matches!(welch_t_test(&[1.0], &[1.0, 2.0]), Err(Error::TooFew { .. })));
        assert!(matches!(mean(&[]), Err(Error::TooFew { .. })));
        assert!(matches!(std_dev(&[3.0]), Err(Error::TooFew { .. })));
        assert!(matches!(mean(&[1.0, f64::NAN]), Err(Error::NonFinite { .. })));
        assert!(student_t_cdf(1.0, 0.0).is_err());
        Ok(())
    }

    #[test]
    fn pearson_matches_scipy_and_handles_constant_series() {
        // By hand: sxy = 12, sxx = 10, syy = 21.2, r = 12 / sqrt(212).
        let r = pearson(&[1.0, 2.0, 3.0, 4.0, 5.0], &[2.0, 1.0, 4.0, 3.0, 7.0]).unwrap().unwrap();
        assert!((r - 12.0 / 212f64.sqrt()).abs() < 1e-12, "{r}");
        assert_eq!(pearson(&[1.0, 2.0], &[-1.0, -3.0]).unwrap(), Some(-1.0));
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).unwrap(), None);
        assert!(pearson(&[1.0], &[1.0]).is_err() && pearson(&[1.0, 2.0], &[1.0]).is_err());
    }
}
