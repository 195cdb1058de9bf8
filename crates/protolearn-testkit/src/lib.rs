//! Test helpers shared by the protolearn test suites: [`assert_close`] and the named
//! [`Tolerance`]s every numeric comparison uses, each with the reason for its size, so that a
//! tolerance is chosen once and justified once.
//!
//! ```
//! use protolearn_testkit::{assert_close, Tolerance};
//!
//! assert_close("mean", 0.1 + 0.2, 0.3, Tolerance::EXACT_F64);
//! assert!(std::panic::catch_unwind(|| assert_close("mean", 0.31, 0.3, Tolerance::F32_SUM)).is_err());
//! ```

/// An accepted difference `|got - expected| <= abs + rel * |expected|`, with its reason.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerance {
    /// Absolute part.
    pub abs: f64,
    /// Relative part.
    pub rel: f64,
    /// Why this size (printed when the check fails).
    pub why: &'static str,
}

impl Tolerance {
    /// Equal to double rounding of a few operations.
    pub const EXACT_F64: Tolerance = Tolerance { abs: 1e-12, rel: 1e-12, why: "float64 arithmetic, a few roundings" };
    /// The same float64 formula evaluated in a different order (clustering indices, statistics).
    pub const F64_FORMULA: Tolerance = Tolerance { abs: 1e-12, rel: 1e-10, why: "the same float64 formula in another order" };
    /// Metrics from `f32` distances accumulated in `f32`, against float64 references.
    pub const F32_DISTANCES: Tolerance = Tolerance { abs: 1e-6, rel: 2e-5, why: "float32 distances against float64 references" };
    /// A float32 quantity summed in a different order (GEMM-form distances against the
    /// difference form, device reductions against host sums).
    pub const F32_SUM: Tolerance = Tolerance { abs: 1e-5, rel: 1e-5, why: "float32 values summed in another order" };
    /// Float32 against float64 computations of the same quantity over hundreds of terms.
    pub const F32_VS_F64: Tolerance = Tolerance { abs: 1e-6, rel: 1e-4, why: "float32 tensors against float64 sums" };
    /// A float64 pseudo-inverse cast back to float32.
    pub const F32_CAST: Tolerance = Tolerance { abs: 1e-4, rel: 1e-4, why: "float64 result cast to float32" };

    /// Whether `got` is within the tolerance of `expected` (NaN never is).
    pub fn accepts(&self, got: f64, expected: f64) -> bool {
        (got - expected).abs() <= self.abs + self.rel * expected.abs()
    }
}

/// Panics with the quantity, both values, the difference and the tolerance's reason unless
/// `got` is within `tolerance` of `expected`.
///
/// # Panics
/// When the values differ by more than the tolerance, or either is NaN.
#[track_caller]
pub fn assert_close(what: &str, got: f64, expected: f64, tolerance: Tolerance) {
    assert!(
        tolerance.accepts(got, expected),
        "{what}: got {got}, expected {expected} (difference {:e} > {:e} + {:e} * |expected|: {})",
        (got - expected).abs(),
        tolerance.abs,
        tolerance.rel,
        tolerance.why
    );
}

/// [`assert_close`] element by element (the slices must have the same length).
///
/// # Panics
/// On a length mismatch or the first element outside the tolerance.
#[track_caller]
pub fn assert_all_close(what: &str, got: &[f64], expected: &[f64], tolerance: Tolerance) {
    assert_eq!(got.len(), expected.len(), "{what}: {} values, expected {}", got.len(), expected.len());
    for (i, (&g, &e)) in got.iter().zip(expected).enumerate() {
        assert_close(&format!("{what}[{i}]"), g, e, tolerance);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_absolute_plus_relative_and_rejects_nan() {
        let t = Tolerance { abs: 0.1, rel: 0.1, why: "test" };
        assert!(t.accepts(10.0 + 1.1, 10.0));
        assert!(!t.accepts(10.0 + 1.2, 10.0));
        assert!(!t.accepts(f64::NAN, 0.0));
        assert!(std::panic::catch_unwind(|| assert_all_close("v", &[1.0], &[1.0, 2.0], t)).is_err());
    }
}
