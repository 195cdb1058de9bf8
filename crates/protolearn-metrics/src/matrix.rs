//! The borrowed row-major `f32` matrix view every metric takes (data, prototypes, images).

use crate::error::{check_at_least, check_len, Error, Result};

/// A checked, borrowed, row-major view `[rows, cols]` over `f32` values.
///
/// Row `i` is `data[i * cols .. (i + 1) * cols]`. The constructor guarantees
/// `data.len() == rows * cols`, `cols >= 1` and that every value is finite, so
/// no metric can produce NaN from its input. `rows` may be zero; metrics that
/// are undefined on empty data report [`Error::TooFew`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
}

impl<'a> Matrix<'a> {
    /// Wraps `data` as a `[rows, cols]` matrix.
    ///
    /// # Errors
    /// `TooFew` if `cols == 0`, `Shape` if `data.len() != rows * cols`,
    /// `NonFinite` if a value is NaN or infinite.
    pub fn new(data: &'a [f32], rows: usize, cols: usize) -> Result<Self> {
        check_at_least("matrix columns (dimension)", 1, cols)?;
        let expected = rows.checked_mul(cols).ok_or(Error::InvalidParameter { name: "rows", reason: "rows * cols overflows usize" })?;
        check_len("matrix data length (rows * cols)", expected, data.len())?;
        if let Some(index) = data.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite { what: "matrix", index });
        }
        Ok(Self { data, rows, cols })
    }

    /// Number of rows (samples or prototypes).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (the dimension).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The underlying row-major buffer.
    pub fn as_slice(&self) -> &'a [f32] {
        self.data
    }

    /// Row `i` as a slice; `i < rows()` is the caller's invariant inside the crate.
    pub(crate) fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }

    /// Iterator over the rows.
    pub fn iter_rows(&self) -> std::slice::ChunksExact<'a, f32> {
        self.data.chunks_exact(self.cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_shapes_and_values() {
        let v = [1.0_f32, 2.0, 3.0, 4.0];
        assert!(Matrix::new(&v, 2, 2).is_ok());
        assert!(Matrix::new(&[], 0, 3).is_ok());
        assert!(matches!(Matrix::new(&v, 3, 2), Err(Error::Shape { .. })));
        assert!(matches!(Matrix::new(&v, 4, 0), Err(Error::TooFew { .. })));
        let bad = [1.0_f32, f32::NAN];
        assert_eq!(Matrix::new(&bad, 1, 2), Err(Error::NonFinite { what: "matrix", index: 1 }));
    }

    #[test]
    fn rows_are_contiguous_slices() -> Result<()> {
        let v = [1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = Matrix::new(&v, 3, 2)?;
        assert_eq!(m.row(1), &[3.0, 4.0]);
        assert_eq!(m.iter_rows().count(), 3);
        Ok(())
    }
}
