//! Cell shapes of a map (squares, or pointy-top hexagons in the "odd-r" layout of
//! `protolearn_metrics::Grid`): unit centres, neighbours and outlines in abstract units, where
//! the centres of adjacent units are 1 apart.

use crate::grid_shape::GridShape;

/// Neighbour offsets `(d_row, d_col)` of a square cell.
const SQUARE_OFFSETS: [(isize, isize); 4] = [(-1, 0), (0, -1), (0, 1), (1, 0)];
/// Neighbour offsets of a hexagon on an even row (odd-r layout).
const HEX_EVEN_ROW_OFFSETS: [(isize, isize); 6] = [(-1, -1), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 0)];
/// Neighbour offsets of a hexagon on an odd row (odd-r layout).
const HEX_ODD_ROW_OFFSETS: [(isize, isize); 6] = [(-1, 0), (-1, 1), (0, -1), (0, 1), (1, 0), (1, 1)];

/// How the units of a map are drawn, and which units are neighbours.
///
/// Units are numbered row-major, `unit = row * cols + col`, for both shapes.
///
/// # Example
/// ```
/// use protolearn_plot::CellShape;
/// // Odd rows of a hexagonal map are shifted right by half a unit.
/// assert_eq!(CellShape::Hexagon.centre(1, 0)[0], 0.5);
/// assert_eq!(CellShape::Square.centre(1, 0), [0.0, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CellShape {
    /// Squares on a rectangular lattice; four neighbours (up, down, left, right).
    #[default]
    Square,
    /// Pointy-top hexagons, odd rows shifted right by half a unit ("odd-r", as
    /// `protolearn_metrics::Grid` with `Lattice::Hexagonal`); six neighbours, fewer at borders.
    Hexagon,
}

impl CellShape {
    /// Centre `[x, y]` of the unit at `(row, col)` in abstract units, `y` pointing down:
    /// `[col, row]` for squares, `[col + (row mod 2) / 2, row * sqrt(3) / 2]` for hexagons
    /// (as `protolearn_metrics::Grid::position`), so that adjacent units are 1 apart.
    pub fn centre(self, row: usize, col: usize) -> [f64; 2] {
        match self {
            Self::Square => [col as f64, row as f64],
            Self::Hexagon => [col as f64 + 0.5 * (row % 2) as f64, row as f64 * hex_row_step()],
        }
    }

    /// The units `(row, col)` adjacent to `(row, col)` on `map`; units on a border have fewer.
    pub(crate) fn neighbours(self, map: GridShape, row: usize, col: usize) -> impl Iterator<Item = (usize, usize)> {
        let offsets: &'static [(isize, isize)] = match self {
            Self::Square => &SQUARE_OFFSETS,
            Self::Hexagon if row % 2 == 0 => &HEX_EVEN_ROW_OFFSETS,
            Self::Hexagon => &HEX_ODD_ROW_OFFSETS,
        };
        offsets.iter().filter_map(move |&(d_row, d_col)| {
            let (r, c) = (row.checked_add_signed(d_row)?, col.checked_add_signed(d_col)?);
            (r < map.rows && c < map.cols).then_some((r, c))
        })
    }

    /// Half width and half height of one cell's bounding box: `0.5` and `0.5` for squares,
    /// `0.5` and the circumradius `1 / sqrt(3)` for hexagons.
    pub(crate) fn half_size(self) -> [f64; 2] {
        match self {
            Self::Square => [0.5, 0.5],
            Self::Hexagon => [0.5, hex_circumradius()],
        }
    }

    /// Corners of one cell relative to its centre, going round it; hexagons start at the top.
    pub(crate) fn outline(self) -> Vec<[f64; 2]> {
        match self {
            Self::Square => vec![[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]],
            Self::Hexagon => (0..6)
                .map(|k| {
                    let angle = (-90.0 + 60.0 * f64::from(k)).to_radians();
                    [hex_circumradius() * angle.cos(), hex_circumradius() * angle.sin()]
                })
                .collect(),
        }
    }

    /// Width and height of the bounding box of all cells of `map` (the first centre is `[0, 0]`).
    pub(crate) fn extent(self, map: GridShape) -> [f64; 2] {
        // On a hexagonal map with several rows, the odd rows reach half a unit further right.
        let shift = if self == Self::Hexagon && map.rows > 1 { 0.5 } else { 0.0 };
        let right = map.cols.saturating_sub(1) as f64 + shift;
        let bottom = self.centre(map.rows.saturating_sub(1), 0)[1];
        let [half_w, half_h] = self.half_size();
        [right + 2.0 * half_w, bottom + 2.0 * half_h]
    }
}

/// Vertical distance between hexagon rows, `sqrt(3) / 2`.
fn hex_row_step() -> f64 {
    3.0_f64.sqrt() / 2.0
}

/// Circumradius of a hexagon whose opposite sides are 1 apart, `1 / sqrt(3)`.
fn hex_circumradius() -> f64 {
    1.0 / 3.0_f64.sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-9;

    fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
        (a[0] - b[0]).hypot(a[1] - b[1])
    }

    fn units(map: GridShape) -> impl Iterator<Item = (usize, usize)> {
        (0..map.rows).flat_map(move |r| (0..map.cols).map(move |c| (r, c)))
    }

    #[test]
    fn neighbours_are_exactly_the_units_one_apart() {
        for shape in [CellShape::Square, CellShape::Hexagon] {
            for map in [GridShape::new(1, 1), GridShape::new(2, 2), GridShape::new(3, 3), GridShape::new(4, 5), GridShape::new(5, 2)] {
                for (r, c) in units(map) {
                    let mut listed: Vec<_> = shape.neighbours(map, r, c).collect();
                    listed.sort_unstable();
                    let one_apart: Vec<_> = units(map)
                        .filter(|&(r2, c2)| (distance(shape.centre(r, c), shape.centre(r2, c2)) - 1.0).abs() <= TOLERANCE)
                        .collect();
                    assert_eq!(listed, one_apart, "{shape:?} {map} unit ({r}, {c})");
                }
            }
        }
    }

    #[test]
    fn interior_hexagon_has_six_neighbours_on_even_and_odd_rows() {
        let map = GridShape::new(4, 5);
        assert_eq!(CellShape::Hexagon.neighbours(map, 2, 2).count(), 6);
        assert_eq!(CellShape::Hexagon.neighbours(map, 1, 2).count(), 6);
        assert_eq!(CellShape::Square.neighbours(map, 1, 2).count(), 4);
        // Corner (0, 0) of an odd-r map: right and the one below.
        let corner: Vec<_> = CellShape::Hexagon.neighbours(map, 0, 0).collect();
        assert_eq!(corner, vec![(0, 1), (1, 0)]);
    }

    #[test]
    fn hexagon_outline_is_regular_and_touches_its_neighbours() {
        let corners = CellShape::Hexagon.outline();
        assert_eq!(corners.len(), 6);
        for (k, corner) in corners.iter().enumerate() {
            assert!((distance(*corner, [0.0, 0.0]) - hex_circumradius()).abs() <= TOLERANCE);
            assert!((distance(*corner, corners[(k + 1) % 6]) - hex_circumradius()).abs() <= TOLERANCE);
        }
        // The right edge is vertical at x = 0.5: shared with the right neighbour.
        assert!((corners[1][0] - 0.5).abs() <= TOLERANCE && (corners[2][0] - 0.5).abs() <= TOLERANCE);
    }

    #[test]
    fn extent_covers_all_cells() {
        assert_eq!(CellShape::Square.extent(GridShape::new(3, 4)), [4.0, 3.0]);
        let [w, h] = CellShape::Hexagon.extent(GridShape::new(4, 5));
        assert!((w - 5.5).abs() <= TOLERANCE);
        assert!((h - (3.0 * hex_row_step() + 2.0 * hex_circumradius())).abs() <= TOLERANCE);
        let [w, _] = CellShape::Hexagon.extent(GridShape::new(1, 3));
        assert!((w - 3.0).abs() <= TOLERANCE);
    }
}
