//! Shared test helpers: the one float comparison with named tolerances, and fixture loading.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// Error type of fallible tests.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// A tolerance `|actual - expected| <= atol + rtol * |expected|` (numpy's `isclose`).
#[derive(Debug, Clone, Copy)]
pub struct Tol {
    /// Relative part.
    pub rtol: f64,
    /// Absolute part.
    pub atol: f64,
}

/// Same float64 formula evaluated in a different order (clustering indices, statistics).
pub const F64_FORMULA: Tol = Tol { rtol: 1e-10, atol: 1e-12 };
/// Metrics from `f32` distances accumulated in `f32`, compared with float64 references.
pub const F32_DISTANCES: Tol = Tol { rtol: 2e-5, atol: 1e-6 };

/// Panics with `context` unless `actual` is within `tol` of `expected`.
pub fn assert_close(actual: f64, expected: f64, tol: Tol, context: &str) {
    let bound = tol.atol + tol.rtol * expected.abs();
    assert!(
        (actual - expected).abs() <= bound,
        "{context}: got {actual}, expected {expected} (|diff| = {}, bound {bound})",
        (actual - expected).abs()
    );
}

/// Reads `tests/fixtures/<name>` and returns its `cases` field.
pub fn fixture<T: DeserializeOwned>(name: &str) -> Result<T, Box<dyn std::error::Error>> {
    #[derive(serde::Deserialize)]
    struct File<T> {
        cases: T,
    }
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", name].iter().collect();
    let file: File<T> = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    Ok(file.cases)
}
