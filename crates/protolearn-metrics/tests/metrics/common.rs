//! Shared test helpers: the one float comparison with named tolerances, and fixture loading.

use std::path::PathBuf;

use serde::de::DeserializeOwned;

/// Error type of fallible tests.
pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub use protolearn_testkit::Tolerance as Tol;

/// The same float64 formula in the same order on the same integers (neighbourhood ranks).
pub const EXACT_F64: Tol = Tol::EXACT_F64;
/// Same float64 formula evaluated in a different order (clustering indices, statistics).
pub const F64_FORMULA: Tol = Tol::F64_FORMULA;
/// Metrics from `f32` distances accumulated in `f32`, compared with float64 references.
pub const F32_DISTANCES: Tol = Tol::F32_DISTANCES;

/// The shared [`protolearn_testkit::assert_close`] in this suite's argument order.
#[track_caller]
pub fn assert_close(actual: f64, expected: f64, tol: Tol, context: &str) {
    protolearn_testkit::assert_close(context, actual, expected, tol);
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
