//! Input checks shared by the figures; each returns the typed [`Error`] naming expected vs found.

use crate::error::{Error, Result};
use crate::grid_shape::GridShape;

/// Fails unless `found == expected`; `unit` says what one element is, e.g. `"one per point"`.
pub(crate) fn length(what: &str, expected: usize, unit: &str, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(Error::Shape { what: what.to_owned(), expected: format!("length {expected} ({unit})"), found: format!("length {found}") })
    }
}

/// Fails if `len` is zero.
pub(crate) fn non_empty(what: &str, len: usize) -> Result<()> {
    if len == 0 {
        Err(Error::Empty { what: what.to_owned() })
    } else {
        Ok(())
    }
}

/// Fails at the first NaN or infinite value.
pub(crate) fn finite(what: &str, values: impl IntoIterator<Item = f64>) -> Result<()> {
    match values.into_iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, value)) => Err(Error::NonFinite { what: what.to_owned(), index, value }),
        None => Ok(()),
    }
}

/// Fails at the first point with a NaN or infinite coordinate; the index is the point's.
pub(crate) fn finite_points(what: &str, points: &[[f64; 2]]) -> Result<()> {
    match points.iter().enumerate().find(|(_, p)| !(p[0].is_finite() && p[1].is_finite())) {
        Some((index, p)) => Err(Error::NonFinite { what: what.to_owned(), index, value: if p[0].is_finite() { p[1] } else { p[0] } }),
        None => Ok(()),
    }
}

/// Fails at the first index that is not below `len`.
pub(crate) fn indices_below(what: &str, indices: impl IntoIterator<Item = usize>, len: usize) -> Result<()> {
    match indices.into_iter().find(|&i| i >= len) {
        Some(index) => Err(Error::IndexOutOfRange { what: what.to_owned(), index, len }),
        None => Ok(()),
    }
}

/// Fails at the first `(index, value)` outside `[0, 1]`; NaN and infinities are reported as non-finite.
pub(crate) fn fractions(what: &str, values: impl IntoIterator<Item = (usize, f64)>) -> Result<()> {
    match values.into_iter().find(|(_, v)| !(0.0..=1.0).contains(v)) {
        Some((index, value)) if !value.is_finite() => Err(Error::NonFinite { what: what.to_owned(), index, value }),
        Some((index, value)) => Err(Error::Invalid {
            what: what.to_owned(),
            expected: "values in [0, 1]".to_owned(),
            found: format!("{value} at index {index}"),
        }),
        None => Ok(()),
    }
}

/// Fails unless `prototypes` holds `map.cells()` finite vectors of length `dim`, both non-zero.
pub(crate) fn prototypes(prototypes: &[f64], map: GridShape, dim: usize) -> Result<()> {
    non_empty("map cells", map.cells())?;
    non_empty("prototype dimension", dim)?;
    length("prototypes", map.cells() * dim, &format!("{map} map of dimension {dim}"), prototypes.len())?;
    finite("prototypes", prototypes.iter().copied())
}

/// Fails unless `value >= min`.
pub(crate) fn at_least(what: &str, value: u64, min: u64) -> Result<()> {
    if value >= min {
        Ok(())
    } else {
        Err(Error::Invalid { what: what.to_owned(), expected: format!("at least {min}"), found: value.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_mismatch_names_both_lengths() {
        let message = length("labels", 3, "one per point", 2).err().map(|e| e.to_string());
        assert_eq!(message.as_deref(), Some("labels: expected length 3 (one per point), found length 2"));
        assert!(length("labels", 3, "one per point", 3).is_ok());
    }

    #[test]
    fn non_finite_reports_first_offender() {
        let err = finite("mean", [1.0, f64::INFINITY, f64::NAN]);
        assert!(matches!(err, Err(Error::NonFinite { index: 1, value, .. }) if value.is_infinite()));
        let err = finite_points("points", &[[0.0, 0.0], [1.0, f64::NAN]]);
        assert!(matches!(err, Err(Error::NonFinite { index: 1, value, .. }) if value.is_nan()));
        assert!(finite_points("points", &[[0.0, 1.0]]).is_ok());
    }

    #[test]
    fn indices_empty_and_minimum_checks() {
        let err = indices_below("edges", [0, 4, 9], 4);
        assert!(matches!(err, Err(Error::IndexOutOfRange { index: 4, len: 4, .. })));
        assert!(matches!(non_empty("series", 0), Err(Error::Empty { .. })));
        assert!(matches!(at_least("columns", 0, 1), Err(Error::Invalid { .. })));
        assert!(at_least("columns", 1, 1).is_ok());
    }

    #[test]
    fn fractions_and_prototypes_report_the_offender() {
        assert!(fractions("purity", [(0, 0.0), (1, 1.0)]).is_ok());
        assert!(matches!(fractions("purity", [(0, 0.5), (3, 1.5)]), Err(Error::Invalid { .. })));
        assert!(matches!(fractions("purity", [(2, f64::NAN)]), Err(Error::NonFinite { index: 2, .. })));
        let map = GridShape::new(1, 2);
        assert!(prototypes(&[0.0; 6], map, 3).is_ok());
        assert!(matches!(prototypes(&[0.0; 5], map, 3), Err(Error::Shape { .. })));
        assert!(matches!(prototypes(&[], map, 0), Err(Error::Empty { .. })));
        assert!(matches!(prototypes(&[0.0, f64::INFINITY], map, 1), Err(Error::NonFinite { index: 1, .. })));
    }
}
