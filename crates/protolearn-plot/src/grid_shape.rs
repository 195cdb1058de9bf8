//! The rows x columns shape of a rectangular map (of SOM units, or of one image's pixels).

/// Rows x columns of a rectangular arrangement, stored row-major: cell `(r, c)` is at `r * cols + c`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridShape {
    /// Number of rows (image height in pixels).
    pub rows: usize,
    /// Number of columns (image width in pixels).
    pub cols: usize,
}

impl GridShape {
    /// A `rows` x `cols` shape.
    pub fn new(rows: usize, cols: usize) -> Self {
        Self { rows, cols }
    }

    /// Number of cells, `rows * cols`.
    pub fn cells(self) -> usize {
        self.rows * self.cols
    }
}

impl std::fmt::Display for GridShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.rows, self.cols)
    }
}
