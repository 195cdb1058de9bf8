//! U-matrices: the mean distance of each map unit to its grid neighbours (square or hexagonal
//! cells), computed by a pure function and drawn as a grey map heat map with optional
//! class-coloured hit markers.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};

use crate::cell_shape::CellShape;
use crate::error::{DrawResult, Result};
use crate::grid_shape::GridShape;
use crate::layout::{self, FigureFiles, Layout, Panel};
use crate::map::{Cells, MapPanel, MapPlan};
use crate::palette::Ramp;
use crate::validate;

/// U-matrix of a map of square cells: for each unit, the mean Euclidean distance between its
/// prototype and those of its 4-neighbours (up, down, left, right) on the grid; the same as
/// [`umatrix_values_on`] with [`CellShape::Square`].
///
/// `prototypes` holds `map.cells()` vectors of length `dim`, unit `(r, c)` at `(r * map.cols + c) * dim`.
/// The result is row-major like the map; a 1x1 map has the value 0 (no neighbours).
///
/// # Example
/// ```
/// use protolearn_plot::{umatrix_values, GridShape};
/// // 1 x 3 map of 1-D prototypes 0, 1, 3: neighbour distances 1 and 2.
/// let u = umatrix_values(&[0.0, 1.0, 3.0], GridShape::new(1, 3), 1)?;
/// assert_eq!(u, vec![1.0, 1.5, 2.0]);
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn umatrix_values(prototypes: &[f64], map: GridShape, dim: usize) -> Result<Vec<f64>> {
    umatrix_values_on(prototypes, map, CellShape::Square, dim)
}

/// U-matrix of a map of `shape` cells: for each unit, the mean Euclidean distance between its
/// prototype and those of its grid neighbours, 4 for squares and 6 for hexagons in the odd-r
/// layout of [`CellShape::Hexagon`] (fewer on the borders).
///
/// `prototypes` holds `map.cells()` vectors of length `dim`, unit `(r, c)` at `(r * map.cols + c) * dim`.
/// The result is row-major like the map; a 1x1 map has the value 0 (no neighbours).
///
/// # Errors
/// [`crate::Error::Empty`] for an empty map or `dim == 0`, [`crate::Error::Shape`] unless
/// `prototypes.len() == map.cells() * dim`, [`crate::Error::NonFinite`] for NaN or infinite values.
///
/// # Example
/// ```
/// use protolearn_plot::{umatrix_values_on, CellShape, GridShape};
/// // 2x2 hexagonal map of 1-D prototypes 0, 1 / 3, 7: unit 1 (top right) touches all three
/// // others (distances 1, 2, 6), unit 0 only units 1 and 2 (distances 1, 3).
/// let u = umatrix_values_on(&[0.0, 1.0, 3.0, 7.0], GridShape::new(2, 2), CellShape::Hexagon, 1)?;
/// assert_eq!(u, vec![2.0, 3.0, 3.0, 5.0]);
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn umatrix_values_on(prototypes: &[f64], map: GridShape, shape: CellShape, dim: usize) -> Result<Vec<f64>> {
    validate::prototypes(prototypes, map, dim)?;
    let unit = |r: usize, c: usize| &prototypes[(r * map.cols + c) * dim..][..dim];
    let distance = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    let mean_distance = |r: usize, c: usize| {
        let (sum, count) =
            shape.neighbours(map, r, c).fold((0.0, 0usize), |(sum, count), (nr, nc)| (sum + distance(unit(r, c), unit(nr, nc)), count + 1));
        if count == 0 {
            0.0
        } else {
            sum / count as f64
        }
    };
    Ok((0..map.rows).flat_map(|r| (0..map.cols).map(move |c| (r, c))).map(|(r, c)| mean_distance(r, c)).collect())
}

/// A U-matrix heat map (white = close neighbours, dark = cluster borders) with a colour bar,
/// square cells unless [`UMatrixPanel::cell_shape`] selects hexagons.
///
/// With [`UMatrixPanel::hits`], each unit with hits gets a marker in the colour of its majority
/// label, its area proportional to the hit count, and the key beside the colour bar names the
/// labels' colours.
#[derive(Debug, Clone, PartialEq)]
pub struct UMatrixPanel<'a> {
    title: String,
    prototypes: &'a [f64],
    map: GridShape,
    shape: CellShape,
    dim: usize,
    hits: Option<(&'a [usize], &'a [usize])>,
    class_names: Option<&'a [String]>,
}

impl<'a> UMatrixPanel<'a> {
    /// The U-matrix of `prototypes` laid out as in [`umatrix_values`], drawn with square cells.
    pub fn new(prototypes: &'a [f64], map: GridShape, dim: usize) -> Self {
        Self { title: String::new(), prototypes, map, shape: CellShape::Square, dim, hits: None, class_names: None }
    }

    /// Names the hit markers' labels in the key beside the colour bar (label `l` is `names[l]`;
    /// without names the key shows the label numbers).
    pub fn class_names(mut self, names: &'a [String]) -> Self {
        self.class_names = Some(names);
        self
    }

    /// Sets the cell shape, and with it the neighbours averaged (see [`umatrix_values_on`]).
    pub fn cell_shape(mut self, shape: CellShape) -> Self {
        self.shape = shape;
        self
    }

    /// Sets the panel title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Adds hit markers: per unit (map order) its majority label and its hit count
    /// (units with zero hits get no marker, their label is ignored).
    pub fn hits(mut self, labels: &'a [usize], counts: &'a [usize]) -> Self {
        self.hits = Some((labels, counts));
        self
    }
}

impl<'a> Panel for UMatrixPanel<'a> {
    /// The heat map of the computed values, checked.
    type Plan = (MapPanel<'a>, MapPlan);

    fn check(&self) -> Result<Self::Plan> {
        let values = umatrix_values_on(self.prototypes, self.map, self.shape, self.dim)?;
        let panel = MapPanel::new(self.map, self.shape, Cells::Values { what: "U-matrix", values, ramp: Ramp::Grey })
            .title(self.title.clone())
            .hits(self.hits)
            .class_names(self.class_names);
        let plan = panel.check()?;
        Ok((panel, plan))
    }

    fn draw<DB: DrawingBackend>(&self, (panel, plan): &Self::Plan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        panel.draw(plan, area)
    }
}

/// Writes `<stem>.png` and `<stem>.svg`: one U-matrix per entry of `panels`, arranged by `layout`.
///
/// Invalid input (prototype count not `map.cells() * dim`, NaN values, hit arrays of the wrong
/// length) is reported as [`crate::Error`] before anything is written. The output directory is
/// created if missing.
///
/// # Example
/// ```
/// use protolearn_plot::{umatrix, GridShape, Layout, UMatrixPanel};
/// // 2x2 map of 2-D prototypes; units 0 and 1 were hit by classes 0 and 1.
/// let prototypes = [0.0, 0.0, 3.0, 4.0, 0.0, 1.0, 3.0, 5.0];
/// let panel = UMatrixPanel::new(&prototypes, GridShape::new(2, 2), 2)
///     .hits(&[0, 1, 0, 0], &[5, 2, 0, 0])
///     .title("U-matrix");
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-umatrix");
/// let files = umatrix(&stem, &Layout::new().panel_size(360, 300), &[panel])?;
/// assert!(files.png.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn umatrix(stem: impl AsRef<Path>, layout: &Layout, panels: &[UMatrixPanel<'_>]) -> Result<FigureFiles> {
    layout::render(stem.as_ref(), layout, panels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    fn assert_all_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len());
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() <= 1e-12, "{actual:?} vs {expected:?}");
        }
    }

    #[test]
    fn two_by_two_map_by_hand() -> Result<()> {
        // Units (row-major) 00=[0,0], 01=[3,4], 10=[0,1], 11=[3,5].
        // Edges: 00-01 = 5, 00-10 = 1, 01-11 = 1, 10-11 = sqrt(9+16) = 5.
        let prototypes = [0.0, 0.0, 3.0, 4.0, 0.0, 1.0, 3.0, 5.0];
        let u = umatrix_values(&prototypes, GridShape::new(2, 2), 2)?;
        assert_all_close(&u, &[3.0, 3.0, 3.0, 3.0]);
        // 1-D: 00=0, 01=1, 10=3, 11=7. Edges 1, 3, 6, 4.
        let u = umatrix_values(&[0.0, 1.0, 3.0, 7.0], GridShape::new(2, 2), 1)?;
        assert_all_close(&u, &[2.0, 3.5, 3.5, 5.0]);
        Ok(())
    }

    #[test]
    fn interior_unit_averages_four_neighbours() -> Result<()> {
        // 3x3 map, 1-D; centre 10, neighbours 0, 2, 4, 6 -> distances 10, 8, 6, 4.
        let prototypes = [9.0, 0.0, 9.0, 2.0, 10.0, 4.0, 9.0, 6.0, 9.0];
        let u = umatrix_values(&prototypes, GridShape::new(3, 3), 1)?;
        assert!((u[4] - 7.0).abs() <= 1e-12);
        // Corner 0 (value 9) neighbours 1 (0) and 3 (2): (9 + 7) / 2.
        assert!((u[0] - 8.0).abs() <= 1e-12);
        Ok(())
    }

    #[test]
    fn single_unit_has_zero() -> Result<()> {
        assert_eq!(umatrix_values(&[1.0, 2.0], GridShape::new(1, 1), 2)?, vec![0.0]);
        Ok(())
    }

    #[test]
    fn invalid_prototypes_are_typed_errors() {
        let map = GridShape::new(2, 2);
        assert!(matches!(umatrix_values(&[0.0; 7], map, 2), Err(Error::Shape { .. })));
        assert!(matches!(umatrix_values(&[], GridShape::new(0, 2), 2), Err(Error::Empty { .. })));
        assert!(matches!(umatrix_values(&[], map, 0), Err(Error::Empty { .. })));
        let mut bad = [0.0; 8];
        bad[5] = f64::NAN;
        assert!(matches!(umatrix_values(&bad, map, 2), Err(Error::NonFinite { index: 5, .. })));
    }

    #[test]
    fn two_by_two_hexagonal_map_by_hand() -> Result<()> {
        // Odd-r: unit 0 (0,0) touches 1 and 2; unit 1 (0,1) touches 0, 2, 3; unit 2 (1,0)
        // touches 0, 1, 3; unit 3 (1,1) touches 1 and 2. Values 0, 1 / 3, 7.
        // Unit 0: (1 + 3) / 2; unit 1: (1 + 2 + 6) / 3; unit 2: (3 + 2 + 4) / 3; unit 3: (6 + 4) / 2.
        let u = umatrix_values_on(&[0.0, 1.0, 3.0, 7.0], GridShape::new(2, 2), CellShape::Hexagon, 1)?;
        assert_all_close(&u, &[2.0, 3.0, 3.0, 5.0]);
        // 2-D: 0=[0,0], 1=[3,4], 2=[0,1], 3=[3,5]. Edges 0-1 = 5, 0-2 = 1, 1-2 = sqrt(9+9), 1-3 = 1, 2-3 = 5.
        let prototypes = [0.0, 0.0, 3.0, 4.0, 0.0, 1.0, 3.0, 5.0];
        let u = umatrix_values_on(&prototypes, GridShape::new(2, 2), CellShape::Hexagon, 2)?;
        let diagonal = 18.0_f64.sqrt();
        assert_all_close(&u, &[3.0, (6.0 + diagonal) / 3.0, (6.0 + diagonal) / 3.0, 3.0]);
        Ok(())
    }

    #[test]
    fn three_by_three_hexagonal_map_by_hand() -> Result<()> {
        // Row-major 1-D prototypes:   100   9  12
        //                               7  10  14      (row 1 shifted right by half a unit)
        //                               0   5  16
        let prototypes = [100.0, 9.0, 12.0, 7.0, 10.0, 14.0, 0.0, 5.0, 16.0];
        let u = umatrix_values_on(&prototypes, GridShape::new(3, 3), CellShape::Hexagon, 1)?;
        // Centre (1,1), odd row: neighbours 1, 2, 3, 5, 7, 8 at distances 1, 2, 3, 4, 5, 6.
        assert!((u[4] - 3.5).abs() <= 1e-12);
        // Corner (0,0): units 1 and 3, distances 91 and 93.
        assert!((u[0] - 92.0).abs() <= 1e-12);
        // Corner (0,2), even row: units 1, 4, 5 at distances 3, 2, 2.
        assert!((u[2] - 7.0 / 3.0).abs() <= 1e-12);
        // Edge (1,2), odd row: units 2, 4, 8 at distances 2, 4, 2.
        assert!((u[5] - 8.0 / 3.0).abs() <= 1e-12);
        // Corner (2,0), even row: units 3 and 7 at distances 7 and 5.
        assert!((u[6] - 6.0).abs() <= 1e-12);
        Ok(())
    }

    #[test]
    fn square_variant_is_the_plain_u_matrix() -> Result<()> {
        let prototypes: Vec<f64> = (0..24).map(|i| f64::from(i * i % 7)).collect();
        let map = GridShape::new(3, 4);
        assert_eq!(umatrix_values_on(&prototypes, map, CellShape::Square, 2)?, umatrix_values(&prototypes, map, 2)?);
        Ok(())
    }
}
