//! The map topology of a self-organizing map: rectangular or hexagonal grids, bounded or toroidal.
//!
//! Units are numbered row-major, `unit = row * cols + col` (as SOMperf does). Hexagonal
//! grids use the "odd-r" offset layout: odd rows are shifted right by half a unit.

use serde::{Deserialize, Serialize};

use crate::error::{check_at_least, Error, Result};

/// Shape of the cells of a map grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lattice {
    /// Square cells, four neighbours, Manhattan distance (paper 002, Sects. 2.1 and 3.6); the
    /// default, as in paper 002.
    #[default]
    Rectangular,
    /// Hexagonal cells, six neighbours, hexagonal (cube-coordinate) distance.
    Hexagonal,
}

/// What happens at the edges of a map grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Boundary {
    /// Edges are borders: units on them have fewer neighbours.
    #[default]
    Bounded,
    /// Opposite edges are glued: the map is a torus.
    Toroidal,
}

/// A map grid of `rows x cols` units with a lattice and a boundary.
///
/// `δ(k, l)` of paper 002 (Sect. 2.1, Appendix 1) is [`Grid::distance`]: the length of
/// the shortest path between units through adjacent units, i.e. the Manhattan distance
/// on rectangular grids and the hexagonal distance on hexagonal ones, taking the
/// shortest way around on a torus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "GridSpec")]
pub struct Grid {
    rows: usize,
    cols: usize,
    lattice: Lattice,
    boundary: Boundary,
}

/// Unchecked serde form of [`Grid`], validated by [`Grid::new`] on deserialization.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GridSpec {
    rows: usize,
    cols: usize,
    #[serde(default)]
    lattice: Lattice,
    #[serde(default)]
    boundary: Boundary,
}

impl TryFrom<GridSpec> for Grid {
    type Error = Error;

    fn try_from(spec: GridSpec) -> Result<Self> {
        Grid::new(spec.rows, spec.cols, spec.lattice, spec.boundary)
    }
}

/// Neighbour offsets `(d_row, d_col)` of a rectangular cell.
const RECT_OFFSETS: [(i64, i64); 4] = [(-1, 0), (0, -1), (0, 1), (1, 0)];
/// Neighbour offsets of a hexagonal cell on an even row (odd-r layout).
const HEX_EVEN_OFFSETS: [(i64, i64); 6] = [(-1, -1), (-1, 0), (0, -1), (0, 1), (1, -1), (1, 0)];
/// Neighbour offsets of a hexagonal cell on an odd row (odd-r layout).
const HEX_ODD_OFFSETS: [(i64, i64); 6] = [(-1, 0), (-1, 1), (0, -1), (0, 1), (1, 0), (1, 1)];

impl Grid {
    /// Builds a `rows x cols` grid.
    ///
    /// # Errors
    /// `TooFew` if `rows` or `cols` is zero; `InvalidParameter` for a toroidal hexagonal
    /// grid with an odd number of rows (the odd-r layout only tiles a torus with even rows).
    pub fn new(rows: usize, cols: usize, lattice: Lattice, boundary: Boundary) -> Result<Self> {
        check_at_least("grid rows", 1, rows)?;
        check_at_least("grid cols", 1, cols)?;
        if rows.checked_mul(cols).is_none() {
            return Err(Error::InvalidParameter { name: "rows", reason: "rows * cols overflows usize" });
        }
        if lattice == Lattice::Hexagonal && boundary == Boundary::Toroidal && rows % 2 == 1 {
            return Err(Error::InvalidParameter { name: "rows", reason: "a toroidal hexagonal grid needs an even number of rows" });
        }
        Ok(Self { rows, cols, lattice, boundary })
    }

    /// Number of rows of the map.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns of the map.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// The cell shape.
    pub fn lattice(&self) -> Lattice {
        self.lattice
    }

    /// The edge behaviour.
    pub fn boundary(&self) -> Boundary {
        self.boundary
    }

    /// Number of units, `K = rows * cols`.
    pub fn n_units(&self) -> usize {
        self.rows * self.cols
    }

    /// Grid coordinates `(row, col)` of `unit`, with `unit = row * cols + col`.
    ///
    /// # Errors
    /// `UnitOutOfRange` if `unit >= n_units()`.
    pub fn coords(&self, unit: usize) -> Result<(usize, usize)> {
        self.check_unit(unit)?;
        Ok(self.coords_of(unit))
    }

    /// Planar position `[x, y]` of the centre of `unit` for drawing: `[col, row]` on
    /// rectangular grids, `[col + (row mod 2) / 2, row * sqrt(3) / 2]` on hexagonal ones,
    /// so that adjacent units are at Euclidean distance 1.
    ///
    /// # Errors
    /// `UnitOutOfRange` if `unit >= n_units()`.
    pub fn position(&self, unit: usize) -> Result<[f64; 2]> {
        let (r, c) = self.coords(unit)?;
        Ok(match self.lattice {
            Lattice::Rectangular => [c as f64, r as f64],
            Lattice::Hexagonal => [c as f64 + 0.5 * (r % 2) as f64, r as f64 * 3.0_f64.sqrt() / 2.0],
        })
    }

    /// Topographic distance `δ(a, b)` (paper 002, Sect. 2.1): Manhattan
    /// `|Δrow| + |Δcol|` on rectangular grids, hexagonal `(|Δq| + |Δr| + |Δq + Δr|) / 2`
    /// in axial coordinates on hexagonal ones; on a torus the minimum over the periodic images.
    ///
    /// # Errors
    /// `UnitOutOfRange` if `a` or `b` is not on the grid.
    pub fn distance(&self, a: usize, b: usize) -> Result<usize> {
        self.check_unit(a)?;
        self.check_unit(b)?;
        Ok(self.distance_of(a, b))
    }

    /// Units adjacent to `unit` (at distance 1), ascending, without `unit` itself.
    ///
    /// # Errors
    /// `UnitOutOfRange` if `unit >= n_units()`.
    pub fn neighbors(&self, unit: usize) -> Result<Vec<usize>> {
        self.check_unit(unit)?;
        Ok(self.neighbors_of(unit))
    }

    /// All distances `δ(k, l)` as a row-major `[K, K]` buffer.
    pub fn distance_matrix(&self) -> Vec<usize> {
        let k = self.n_units();
        (0..k * k).map(|i| self.distance_of(i / k, i % k)).collect()
    }

    /// `UnitOutOfRange` unless `unit < n_units()`.
    pub(crate) fn check_unit(&self, unit: usize) -> Result<()> {
        if unit < self.n_units() {
            Ok(())
        } else {
            Err(Error::UnitOutOfRange { unit, n_units: self.n_units() })
        }
    }

    fn coords_of(&self, unit: usize) -> (usize, usize) {
        (unit / self.cols, unit % self.cols)
    }

    /// Distance between two units already known to be on the grid.
    pub(crate) fn distance_of(&self, a: usize, b: usize) -> usize {
        let (ra, ca) = self.coords_of(a);
        let (rb, cb) = self.coords_of(b);
        let (ra, ca, rb, cb) = (ra as i64, ca as i64, rb as i64, cb as i64);
        let (rows, cols) = (self.rows as i64, self.cols as i64);
        let d = match (self.lattice, self.boundary) {
            (Lattice::Rectangular, Boundary::Bounded) => (ra - rb).abs() + (ca - cb).abs(),
            (Lattice::Rectangular, Boundary::Toroidal) => {
                let dr = (ra - rb).abs();
                let dc = (ca - cb).abs();
                dr.min(rows - dr) + dc.min(cols - dc)
            }
            (Lattice::Hexagonal, Boundary::Bounded) => hex_distance(ra, ca, rb, cb),
            (Lattice::Hexagonal, Boundary::Toroidal) => {
                let images = [-1_i64, 0, 1];
                images
                    .iter()
                    .flat_map(|&sr| images.iter().map(move |&sc| (sr, sc)))
                    .map(|(sr, sc)| hex_distance(ra, ca, rb + sr * rows, cb + sc * cols))
                    .min()
                    .unwrap_or(0)
            }
        };
        d as usize
    }

    /// Adjacent units of a unit already known to be on the grid.
    pub(crate) fn neighbors_of(&self, unit: usize) -> Vec<usize> {
        let (r, c) = self.coords_of(unit);
        let offsets: &[(i64, i64)] = match self.lattice {
            Lattice::Rectangular => &RECT_OFFSETS,
            Lattice::Hexagonal if r % 2 == 0 => &HEX_EVEN_OFFSETS,
            Lattice::Hexagonal => &HEX_ODD_OFFSETS,
        };
        let (rows, cols) = (self.rows as i64, self.cols as i64);
        let mut out: Vec<usize> = offsets
            .iter()
            .filter_map(|&(dr, dc)| {
                let (nr, nc) = (r as i64 + dr, c as i64 + dc);
                let (nr, nc) = match self.boundary {
                    Boundary::Toroidal => (nr.rem_euclid(rows), nc.rem_euclid(cols)),
                    Boundary::Bounded => (nr, nc),
                };
                let inside = (0..rows).contains(&nr) && (0..cols).contains(&nc);
                inside.then_some((nr * cols + nc) as usize)
            })
            .filter(|&v| v != unit)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// Hexagonal distance between odd-r offset cells `(row, col)`: convert to axial
/// `q = col - (row - (row mod 2)) / 2` and take `(|Δq| + |Δr| + |Δq + Δr|) / 2`.
fn hex_distance(ra: i64, ca: i64, rb: i64, cb: i64) -> i64 {
    let qa = ca - (ra - ra.rem_euclid(2)) / 2;
    let qb = cb - (rb - rb.rem_euclid(2)) / 2;
    let (dq, dr) = (qa - qb, ra - rb);
    (dq.abs() + dr.abs() + (dq + dr).abs()) / 2
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_grids() -> Result<Vec<Grid>> {
        let mut grids = Vec::new();
        for rows in 1..=6 {
            for cols in 1..=5 {
                for lattice in [Lattice::Rectangular, Lattice::Hexagonal] {
                    for boundary in [Boundary::Bounded, Boundary::Toroidal] {
                        if lattice == Lattice::Hexagonal && boundary == Boundary::Toroidal && rows % 2 == 1 {
                            continue;
                        }
                        grids.push(Grid::new(rows, cols, lattice, boundary)?);
                    }
                }
            }
        }
        Ok(grids)
    }

    #[test]
    fn neighbours_are_exactly_the_units_at_distance_one() -> Result<()> {
        for g in all_grids()? {
            for u in 0..g.n_units() {
                let by_distance: Vec<usize> = (0..g.n_units()).filter(|&v| g.distance_of(u, v) == 1).collect();
                assert_eq!(g.neighbors(u)?, by_distance, "{g:?} unit {u}");
            }
        }
        Ok(())
    }

    #[test]
    fn distance_is_a_symmetric_metric() -> Result<()> {
        for g in all_grids()? {
            let k = g.n_units();
            let d = g.distance_matrix();
            for a in 0..k {
                assert_eq!(d[a * k + a], 0);
                for b in 0..k {
                    assert_eq!(d[a * k + b], d[b * k + a]);
                    if a != b {
                        assert!(d[a * k + b] >= 1);
                    }
                    for c in 0..k {
                        assert!(d[a * k + c] <= d[a * k + b] + d[b * k + c], "{g:?}");
                    }
                }
            }
        }
        Ok(())
    }

    #[test]
    fn invalid_grids_and_units_are_errors() -> Result<()> {
        assert!(Grid::new(0, 3, Lattice::Rectangular, Boundary::Bounded).is_err());
        assert!(Grid::new(3, 4, Lattice::Hexagonal, Boundary::Toroidal).is_err());
        let g = Grid::new(2, 3, Lattice::Rectangular, Boundary::Bounded)?;
        assert_eq!(g.distance(0, 6), Err(Error::UnitOutOfRange { unit: 6, n_units: 6 }));
        assert!(g.coords(6).is_err());
        assert!(g.neighbors(6).is_err());
        assert_eq!(g.coords(4)?, (1, 1));
        Ok(())
    }

    #[test]
    fn hexagonal_neighbours_are_one_apart_in_the_plane() -> Result<()> {
        let g = Grid::new(4, 5, Lattice::Hexagonal, Boundary::Bounded)?;
        for u in 0..g.n_units() {
            let p = g.position(u)?;
            for v in g.neighbors(u)? {
                let q = g.position(v)?;
                let d = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
                assert!((d - 1.0).abs() < 1e-12);
            }
        }
        Ok(())
    }

    #[test]
    fn serde_round_trip_validates() -> std::result::Result<(), Box<dyn std::error::Error>> {
        let g = Grid::new(4, 6, Lattice::Hexagonal, Boundary::Toroidal)?;
        let back: Grid = serde_json::from_str(&serde_json::to_string(&g)?)?;
        assert_eq!(back, g);
        let odd = serde_json::from_str::<Grid>(r#"{"rows":3,"cols":6,"lattice":"hexagonal","boundary":"toroidal"}"#);
        assert!(odd.is_err());
        let unknown = serde_json::from_str::<Grid>(r#"{"rows":3,"cols":6,"lattice":"hexagonal","wrap":true}"#);
        assert!(unknown.is_err());
        let bounded: Grid = serde_json::from_str(r#"{"rows":3,"cols":6,"lattice":"rectangular"}"#)?;
        let default: Grid = serde_json::from_str(r#"{"rows":3,"cols":6}"#)?;
        assert_eq!(default, bounded, "rectangular and bounded unless said");
        assert_eq!(bounded.boundary(), Boundary::Bounded);
        Ok(())
    }
}
