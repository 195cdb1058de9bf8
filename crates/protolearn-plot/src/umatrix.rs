//! U-matrices: the mean distance of each map unit to its grid neighbours, computed by a pure
//! function and drawn as a grey heat map with optional class-coloured hit markers.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{Circle, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, ShapeStyle, BLACK};

use crate::error::{DrawResult, Result};
use crate::font;
use crate::grid_shape::GridShape;
use crate::layout::{self, FigureFiles, Layout, Panel, TICK_LABEL_PX};
use crate::palette::{category_color, grey_ramp};
use crate::validate;

/// Width of the colour bar strip (bar and its labels) at the right of the heat map.
const COLOUR_BAR_STRIP_PX: u32 = 80;
/// Width of the colour bar itself.
const COLOUR_BAR_PX: u32 = 16;
/// Number of grey steps drawn in the colour bar.
const COLOUR_BAR_STEPS: u32 = 64;
/// Free pixels around the heat map.
const MARGIN_PX: u32 = 10;

/// U-matrix of a rectangular map: for each unit, the mean Euclidean distance between its
/// prototype and those of its 4-neighbours (up, down, left, right) on the grid.
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
    validate::non_empty("map cells", map.cells())?;
    validate::non_empty("prototype dimension", dim)?;
    validate::length("prototypes", map.cells() * dim, &format!("{map} map of dimension {dim}"), prototypes.len())?;
    validate::finite("prototypes", prototypes.iter().copied())?;
    let unit = |r: usize, c: usize| &prototypes[(r * map.cols + c) * dim..][..dim];
    let distance = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt();
    let mut values = Vec::with_capacity(map.cells());
    for r in 0..map.rows {
        for c in 0..map.cols {
            let neighbours = [
                r.checked_sub(1).map(|up| (up, c)),
                (r + 1 < map.rows).then_some((r + 1, c)),
                c.checked_sub(1).map(|left| (r, left)),
                (c + 1 < map.cols).then_some((r, c + 1)),
            ];
            let (sum, count) = neighbours
                .into_iter()
                .flatten()
                .fold((0.0, 0usize), |(sum, count), (nr, nc)| (sum + distance(unit(r, c), unit(nr, nc)), count + 1));
            values.push(if count == 0 { 0.0 } else { sum / count as f64 });
        }
    }
    Ok(values)
}

/// A U-matrix heat map (white = close neighbours, dark = cluster borders) with a colour bar.
///
/// With [`UMatrixPanel::hits`], each unit with hits gets a marker in the colour of its majority
/// label, its area proportional to the hit count.
#[derive(Debug, Clone, PartialEq)]
pub struct UMatrixPanel<'a> {
    title: String,
    prototypes: &'a [f64],
    map: GridShape,
    dim: usize,
    hits: Option<(&'a [usize], &'a [usize])>,
}

impl<'a> UMatrixPanel<'a> {
    /// The U-matrix of `prototypes` laid out as in [`umatrix_values`].
    pub fn new(prototypes: &'a [f64], map: GridShape, dim: usize) -> Self {
        Self { title: String::new(), prototypes, map, dim, hits: None }
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

/// U-matrix values and their range, computed when the panel is checked.
#[derive(Debug)]
pub(crate) struct UMatrixPlan {
    values: Vec<f64>,
    low: f64,
    high: f64,
}

impl UMatrixPlan {
    /// `value` scaled to `[0, 1]` over the panel's range (0 when all values are equal).
    fn level(&self, value: f64) -> f64 {
        if self.high > self.low {
            (value - self.low) / (self.high - self.low)
        } else {
            0.0
        }
    }
}

impl Panel for UMatrixPanel<'_> {
    type Plan = UMatrixPlan;

    fn check(&self) -> Result<UMatrixPlan> {
        if let Some((labels, counts)) = self.hits {
            validate::length("hit labels", self.map.cells(), "one per unit", labels.len())?;
            validate::length("hit counts", self.map.cells(), "one per unit", counts.len())?;
        }
        let values = umatrix_values(self.prototypes, self.map, self.dim)?;
        let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        Ok(UMatrixPlan { values, low, high })
    }

    fn draw<DB: DrawingBackend>(&self, plan: &UMatrixPlan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = layout::titled_area(area, &self.title)?;
        let (width, height) = area.dim_in_pixel();
        let (map_area, bar_area) = area.split_horizontally(width.saturating_sub(COLOUR_BAR_STRIP_PX));
        let cell = u32::min(
            width.saturating_sub(COLOUR_BAR_STRIP_PX + 2 * MARGIN_PX) / self.map.cols as u32,
            height.saturating_sub(2 * MARGIN_PX) / self.map.rows as u32,
        )
        .max(1) as i32;
        let (map_w, map_h) = (cell * self.map.cols as i32, cell * self.map.rows as i32);
        let (mx, my) = map_area.dim_in_pixel();
        let origin = ((mx as i32 - map_w) / 2, (my as i32 - map_h) / 2);
        let corner = |index: usize| {
            let (r, c) = ((index / self.map.cols) as i32, (index % self.map.cols) as i32);
            (origin.0 + c * cell, origin.1 + r * cell)
        };
        for (index, &value) in plan.values.iter().enumerate() {
            let (x, y) = corner(index);
            let fill = grey_ramp(plan.level(value)).filled();
            map_area.draw(&Rectangle::new([(x, y), (x + cell, y + cell)], fill))?;
        }
        map_area.draw(&Rectangle::new([origin, (origin.0 + map_w, origin.1 + map_h)], ShapeStyle::from(BLACK).stroke_width(1)))?;
        if let Some((labels, counts)) = self.hits {
            let most = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
            let max_radius = f64::from(cell) * 0.42;
            for (index, (&label, &count)) in labels.iter().zip(counts).enumerate() {
                if count == 0 {
                    continue;
                }
                let (x, y) = corner(index);
                let centre = (x + cell / 2, y + cell / 2);
                let radius = (max_radius * (count as f64 / most).sqrt()).max(2.0) as i32;
                map_area.draw(&Circle::new(centre, radius, category_color(label).filled()))?;
                map_area.draw(&Circle::new(centre, radius, ShapeStyle::from(BLACK).stroke_width(1)))?;
            }
        }
        draw_colour_bar(&bar_area, plan, (origin.1, origin.1 + map_h))
    }
}

/// Draws the grey scale from `plan.low` (bottom) to `plan.high` (top) between pixel rows `top..bottom`.
fn draw_colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, plan: &UMatrixPlan, (top, bottom): (i32, i32)) -> DrawResult {
    let span = f64::from(bottom - top);
    let step = |i: u32| top + (span * f64::from(i) / f64::from(COLOUR_BAR_STEPS)).round() as i32;
    let x = (4, 4 + COLOUR_BAR_PX as i32);
    for i in 0..COLOUR_BAR_STEPS {
        let level = 1.0 - (f64::from(i) + 0.5) / f64::from(COLOUR_BAR_STEPS);
        let fill = grey_ramp(level).filled();
        area.draw(&Rectangle::new([(x.0, step(i)), (x.1, step(i + 1))], fill))?;
    }
    area.draw(&Rectangle::new([(x.0, top), (x.1, bottom)], ShapeStyle::from(BLACK).stroke_width(1)))?;
    let font = (font::FAMILY, TICK_LABEL_PX).into_font();
    for (value, y, v_pos) in [(plan.high, top, VPos::Top), (plan.low, bottom, VPos::Bottom)] {
        let style = font.color(&BLACK).pos(Pos::new(HPos::Left, v_pos));
        area.draw(&Text::new(format_value(value), (x.1 + 4, y), style))?;
    }
    Ok(())
}

/// Short label for a colour bar end: three decimals, or scientific notation for tiny/huge values.
fn format_value(value: f64) -> String {
    if value == 0.0 || (0.01..1000.0).contains(&value.abs()) {
        format!("{value:.3}")
    } else {
        format!("{value:.2e}")
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
    fn colour_bar_labels_are_short() {
        assert_eq!(format_value(0.0), "0.000");
        assert_eq!(format_value(1.23456), "1.235");
        assert_eq!(format_value(0.000123), "1.23e-4");
    }
}
