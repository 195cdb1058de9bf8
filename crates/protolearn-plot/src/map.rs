//! The map heat map every map figure draws through: one coloured cell (square or hexagon) per
//! unit, a colour bar or a class legend beside it, optional per-cell text and hit markers.

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Polygon, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, ShapeStyle, TextStyle, BLACK, WHITE};

use crate::cell_shape::CellShape;
use crate::error::{DrawResult, Result};
use crate::font;
use crate::grid_shape::GridShape;
use crate::layout::{self, Panel};
use crate::map_key::{Key, LegendRows};
use crate::palette::{category_color, is_dark, tint, Ramp};
use crate::validate;

/// Free pixels around the map.
const MARGIN_PX: f64 = 10.0;
/// Cells whose neighbours are closer than this many pixels get no outline (it would hide the fill).
const MIN_OUTLINE_PX: f64 = 8.0;
/// Colour of the cell outlines.
const OUTLINE: RGBColor = RGBColor(150, 150, 150);
/// Fill of a unit without a category (e.g. no samples in a class map).
const EMPTY_CELL: RGBColor = RGBColor(222, 222, 222);
/// Largest and smallest pixel size of per-cell text; below the smallest, no text is drawn.
const CELL_TEXT_PX: (f64, f64) = (8.0, 14.0);
/// Cell text and hit markers stay within this fraction of the distance between neighbour centres.
const CELL_CONTENT_FRACTION: f64 = 0.84;

/// What colours the cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cells<'a> {
    /// One value per unit on `ramp`, from the minimum (level 0) to the maximum (level 1), with a colour bar.
    Values {
        /// The input the values come from, named in errors.
        what: &'static str,
        /// One value per unit, map order.
        values: Vec<f64>,
        /// The colour ramp.
        ramp: Ramp,
    },
    /// Per unit a category ([`category_color`]; `None` = empty unit, drawn light grey) faded
    /// towards white by its strength in `[0, 1]`, with a legend naming the categories.
    Categories {
        /// One category per unit, map order; each below `names.len()`.
        categories: &'a [Option<usize>],
        /// One strength per unit; ignored for empty units.
        strength: &'a [f64],
        /// Category names, shown in the legend.
        names: &'a [String],
    },
}

/// A heat map of a `map` of `shape` cells, built by the map figures and drawn by [`Panel`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MapPanel<'a> {
    title: String,
    map: GridShape,
    shape: CellShape,
    cells: Cells<'a>,
    text: Option<Vec<String>>,
    hits: Option<(&'a [usize], &'a [usize])>,
    class_names: Option<&'a [String]>,
}

impl<'a> MapPanel<'a> {
    /// A heat map without title, text or hit markers.
    pub(crate) fn new(map: GridShape, shape: CellShape, cells: Cells<'a>) -> Self {
        Self { title: String::new(), map, shape, cells, text: None, hits: None, class_names: None }
    }

    /// Names the hit markers' labels in the key (label `l` is `names[l]`; default: the number).
    pub(crate) fn class_names(mut self, names: Option<&'a [String]>) -> Self {
        self.class_names = names;
        self
    }

    /// Sets the panel title.
    pub(crate) fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Writes `text[unit]` in the middle of each cell when the cells are large enough for all of it.
    pub(crate) fn text(mut self, text: Vec<String>) -> Self {
        self.text = Some(text);
        self
    }

    /// Sets (or clears) hit markers: per unit its majority label and hit count, as [`crate::UMatrixPanel::hits`].
    pub(crate) fn hits(mut self, hits: Option<(&'a [usize], &'a [usize])>) -> Self {
        self.hits = hits;
        self
    }
}

/// The cell colours and the key of a checked map panel.
#[derive(Debug)]
pub(crate) struct MapPlan {
    fills: Vec<RGBColor>,
    key: Key,
}

impl Panel for MapPanel<'_> {
    type Plan = MapPlan;

    fn check(&self) -> Result<MapPlan> {
        let units = self.map.cells();
        validate::non_empty("map cells", units)?;
        if let Some(text) = &self.text {
            validate::length("cell text", units, "one per unit", text.len())?;
        }
        if let Some((labels, counts)) = self.hits {
            validate::length("hit labels", units, "one per unit", labels.len())?;
            validate::length("hit counts", units, "one per unit", counts.len())?;
        }
        match &self.cells {
            Cells::Values { what, values, ramp } => {
                validate::length(what, units, "one per unit", values.len())?;
                validate::finite(what, values.iter().copied())?;
                let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
                let level = |v: f64| if high > low { (v - low) / (high - low) } else { 0.0 };
                let fills = values.iter().map(|&v| ramp.color(level(v))).collect();
                let bar = Key::Bar { ramp: *ramp, low, high };
                let key = match self.hit_classes()? {
                    Some(classes) => Key::Row(vec![bar, Key::Legend(classes)]),
                    None => bar,
                };
                Ok(MapPlan { fills, key })
            }
            Cells::Categories { categories, strength, names } => {
                validate::length("majority labels", units, "one per unit", categories.len())?;
                validate::length("purity", units, "one per unit", strength.len())?;
                validate::non_empty("class names", names.len())?;
                validate::indices_below("majority labels", categories.iter().flatten().copied(), names.len())?;
                let filled = || categories.iter().zip(strength.iter().copied()).enumerate();
                validate::fractions("purity", filled().filter_map(|(unit, (c, s))| c.map(|_| (unit, s))))?;
                let fills = filled().map(|(_, (c, s))| c.map_or(EMPTY_CELL, |c| tint(category_color(c), s))).collect();
                let mut rows: Vec<_> = names.iter().enumerate().map(|(c, name)| (Some(category_color(c)), name.clone())).collect();
                if categories.iter().any(Option::is_none) {
                    rows.push((Some(EMPTY_CELL), "no samples".to_owned()));
                }
                rows.push((None, "pale: mixed".to_owned()));
                Ok(MapPlan { fills, key: Key::Legend(rows) })
            }
        }
    }

    fn draw<DB: DrawingBackend>(&self, plan: &MapPlan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = layout::titled_area(area, &self.title)?;
        let width = area.dim_in_pixel().0;
        let strip = plan.key.width(&area, width / 2)?;
        let (map_area, key_area) = area.split_horizontally(width.saturating_sub(strip));
        let frame = Frame::fit(self.map, self.shape, map_area.dim_in_pixel());
        for (unit, fill) in plan.fills.iter().enumerate() {
            map_area.draw(&Polygon::new(frame.cell(unit), fill.filled()))?;
        }
        if frame.scale >= MIN_OUTLINE_PX {
            for unit in 0..self.map.cells() {
                let mut corners = frame.cell(unit);
                corners.extend(corners.first().copied());
                map_area.draw(&PathElement::new(corners, ShapeStyle::from(OUTLINE).stroke_width(1)))?;
            }
        }
        self.draw_hits(&map_area, &frame)?;
        self.draw_text(&map_area, &frame, &plan.fills)?;
        plan.key.draw(&key_area, (frame.top.round() as i32, frame.bottom.round() as i32))
    }
}

impl MapPanel<'_> {
    /// The legend rows of the hit markers' colours: every label a unit with hits shows, in
    /// label order, named by [`MapPanel::class_names`] (checked to cover them) or by number.
    fn hit_classes(&self) -> Result<Option<LegendRows>> {
        let Some((labels, counts)) = self.hits else {
            return Ok(None);
        };
        let mut shown: Vec<usize> = labels.iter().zip(counts).filter(|(_, &c)| c > 0).map(|(&l, _)| l).collect();
        shown.sort_unstable();
        shown.dedup();
        if let Some(names) = self.class_names {
            validate::indices_below("hit labels", shown.iter().copied(), names.len())?;
        }
        let name = |l: usize| self.class_names.and_then(|n| n.get(l)).cloned().unwrap_or_else(|| l.to_string());
        Ok(Some(shown.into_iter().map(|l| (Some(category_color(l)), name(l))).collect()))
    }

    /// A marker per unit with hits: its majority label's colour, its area proportional to the count.
    fn draw_hits<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, frame: &Frame) -> DrawResult {
        let Some((labels, counts)) = self.hits else {
            return Ok(());
        };
        let most = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
        let max_radius = frame.scale * CELL_CONTENT_FRACTION / 2.0;
        for (unit, (&label, &count)) in labels.iter().zip(counts).enumerate().filter(|(_, (_, &count))| count > 0) {
            let centre = pixel(frame.centre(unit));
            let radius = (max_radius * (count as f64 / most).sqrt()).max(2.0) as i32;
            area.draw(&Circle::new(centre, radius, category_color(label).filled()))?;
            area.draw(&Circle::new(centre, radius, ShapeStyle::from(BLACK).stroke_width(1)))?;
        }
        Ok(())
    }

    /// The per-cell text, centred, black or white against the fill; none at all when the cells
    /// are too small for the text size's minimum or for the widest text.
    fn draw_text<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, frame: &Frame, fills: &[RGBColor]) -> DrawResult {
        let Some(text) = &self.text else {
            return Ok(());
        };
        let size = (frame.scale * 0.4).min(CELL_TEXT_PX.1).floor();
        if size < CELL_TEXT_PX.0 {
            return Ok(());
        }
        let style = TextStyle::from((font::FAMILY, size).into_font()).pos(Pos::new(HPos::Center, VPos::Center));
        let room = frame.scale * CELL_CONTENT_FRACTION;
        for line in text {
            if f64::from(area.estimate_text_size(line, &style)?.0) > room {
                return Ok(());
            }
        }
        for (unit, (line, fill)) in text.iter().zip(fills).enumerate() {
            let color = if is_dark(*fill) { WHITE } else { BLACK };
            area.draw(&Text::new(line.as_str(), pixel(frame.centre(unit)), style.color(&color)))?;
        }
        Ok(())
    }
}

/// Where the cells of a map land in a drawing area: `pixel = origin + scale * centre`, with
/// the map's bounding box centred in the area and as large as the margins allow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    map: GridShape,
    shape: CellShape,
    /// Pixel position of the centre of unit 0.
    origin: [f64; 2],
    /// Pixels per abstract unit: the distance between adjacent cell centres.
    scale: f64,
    /// Pixel row of the top of the map's bounding box.
    top: f64,
    /// Pixel row of the bottom of the map's bounding box.
    bottom: f64,
}

impl Frame {
    /// The frame of a `map` of `shape` cells in an area of `(width, height)` pixels.
    pub(crate) fn fit(map: GridShape, shape: CellShape, (width, height): (u32, u32)) -> Self {
        let (width, height) = (f64::from(width), f64::from(height));
        let [extent_w, extent_h] = shape.extent(map);
        let room = |side: f64| (side - 2.0 * MARGIN_PX).max(1.0);
        let scale = f64::min(room(width) / extent_w, room(height) / extent_h);
        let (left, top) = ((width - scale * extent_w) / 2.0, (height - scale * extent_h) / 2.0);
        let [half_w, half_h] = shape.half_size();
        Self { map, shape, origin: [left + scale * half_w, top + scale * half_h], scale, top, bottom: top + scale * extent_h }
    }

    /// Pixel centre of `unit` (row-major), unrounded.
    pub(crate) fn centre(&self, unit: usize) -> [f64; 2] {
        let [x, y] = self.shape.centre(unit / self.map.cols.max(1), unit % self.map.cols.max(1));
        [self.origin[0] + self.scale * x, self.origin[1] + self.scale * y]
    }

    /// Pixel corners of the cell of `unit`.
    fn cell(&self, unit: usize) -> Vec<(i32, i32)> {
        let [x, y] = self.centre(unit);
        self.shape.outline().into_iter().map(|[dx, dy]| pixel([x + self.scale * dx, y + self.scale * dy])).collect()
    }
}

/// The nearest pixel to a point.
fn pixel([x, y]: [f64; 2]) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn drawn_hexagon_centres_are_equally_spaced() {
        let map = GridShape::new(4, 5);
        let frame = Frame::fit(map, CellShape::Hexagon, (533, 417));
        let mut six = 0;
        for unit in 0..map.cells() {
            let (row, col) = (unit / map.cols, unit % map.cols);
            let neighbours: Vec<_> = CellShape::Hexagon.neighbours(map, row, col).collect();
            six += usize::from(neighbours.len() == 6);
            for (r, c) in neighbours {
                let [a, b] = [frame.centre(unit), frame.centre(r * map.cols + c)];
                assert!(((a[0] - b[0]).hypot(a[1] - b[1]) - frame.scale).abs() <= 1e-9, "unit {unit} vs ({r}, {c})");
            }
        }
        assert_eq!(six, 6, "the interior units of a 4x5 map");
    }

    #[test]
    fn frame_fits_the_map_inside_the_margins() {
        for shape in [CellShape::Square, CellShape::Hexagon] {
            let map = GridShape::new(4, 5);
            let frame = Frame::fit(map, shape, (400, 300));
            let [w, h] = shape.extent(map);
            assert!(frame.scale * w <= 400.0 - 2.0 * MARGIN_PX + 1e-9);
            assert!(frame.scale * h <= 300.0 - 2.0 * MARGIN_PX + 1e-9);
            assert!(frame.top >= MARGIN_PX - 1e-9 && frame.bottom <= 300.0 - MARGIN_PX + 1e-9);
            for unit in 0..map.cells() {
                for (x, y) in frame.cell(unit) {
                    assert!((0..=400).contains(&x) && (0..=300).contains(&y), "{shape:?} unit {unit}: ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn value_cells_are_coloured_from_minimum_to_maximum() -> Result<()> {
        let cells = Cells::Values { what: "values", values: vec![2.0, 4.0, 3.0], ramp: Ramp::Grey };
        let plan = MapPanel::new(GridShape::new(1, 3), CellShape::Square, cells).check()?;
        assert_eq!(plan.fills, vec![Ramp::Grey.color(0.0), Ramp::Grey.color(1.0), Ramp::Grey.color(0.5)]);
        assert_eq!(plan.key, Key::Bar { ramp: Ramp::Grey, low: 2.0, high: 4.0 });
        Ok(())
    }

    #[test]
    fn category_cells_fade_with_strength_and_empty_units_are_grey() -> Result<()> {
        let names = ["a".to_owned(), "b".to_owned()];
        let cells = Cells::Categories { categories: &[Some(1), None, Some(0)], strength: &[0.5, f64::NAN, 1.0], names: &names };
        let plan = MapPanel::new(GridShape::new(3, 1), CellShape::Hexagon, cells).check()?;
        assert_eq!(plan.fills, vec![tint(category_color(1), 0.5), EMPTY_CELL, category_color(0)]);
        let rows = match plan.key {
            Key::Legend(rows) => rows,
            bar => panic!("expected a legend, got {bar:?}"),
        };
        assert_eq!(rows[0], (Some(category_color(0)), "a".to_owned()));
        assert_eq!(rows[2], (Some(EMPTY_CELL), "no samples".to_owned()));
        assert_eq!(rows.len(), 4);
        Ok(())
    }

    #[test]
    fn mismatched_cell_inputs_are_typed_errors() {
        let panel = |values: Vec<f64>| {
            MapPanel::new(GridShape::new(2, 2), CellShape::Hexagon, Cells::Values { what: "v", values, ramp: Ramp::Viridis })
        };
        assert!(matches!(panel(vec![0.0; 3]).check(), Err(Error::Shape { .. })));
        assert!(matches!(panel(vec![0.0, 1.0, f64::NAN, 0.0]).check(), Err(Error::NonFinite { index: 2, .. })));
        assert!(matches!(panel(vec![0.0; 4]).text(vec![String::new(); 3]).check(), Err(Error::Shape { .. })));
        assert!(matches!(panel(vec![0.0; 4]).hits(Some((&[0; 4], &[1; 5]))).check(), Err(Error::Shape { .. })));
        assert!(matches!(
            MapPanel::new(GridShape::new(0, 3), CellShape::Square, Cells::Values { what: "v", values: vec![], ramp: Ramp::Grey }).check(),
            Err(Error::Empty { .. })
        ));
    }

    #[test]
    fn hit_markers_add_a_key_of_the_classes_they_show() {
        let values = [1.0, 2.0, 3.0, 4.0];
        let (labels, counts) = ([2, 0, 2, 1], [3, 1, 0, 0]);
        let panel =
            MapPanel::new(GridShape::new(2, 2), CellShape::Square, Cells::Values { what: "U", values: values.to_vec(), ramp: Ramp::Grey })
                .hits(Some((&labels, &counts)));
        let names = ["zero".to_owned(), "one".to_owned(), "two".to_owned()];
        let key = |panel: MapPanel<'_>| panel.check().map(|plan| plan.key);
        // Label 1 sits on a unit without hits: no marker, so no key row.
        let numbered = vec![(Some(category_color(0)), "0".to_owned()), (Some(category_color(2)), "2".to_owned())];
        assert_eq!(key(panel.clone()).unwrap(), Key::Row(vec![Key::Bar { ramp: Ramp::Grey, low: 1.0, high: 4.0 }, Key::Legend(numbered)]));
        let named = key(panel.clone().class_names(Some(&names))).unwrap();
        assert!(
            matches!(&named, Key::Row(keys) if keys[1] == Key::Legend(vec![(Some(category_color(0)), "zero".into()), (Some(category_color(2)), "two".into())]))
        );
        assert!(
            matches!(key(panel.class_names(Some(&names[..2]))), Err(Error::IndexOutOfRange { index: 2, len: 2, .. })),
            "names must cover the labels"
        );
    }
}
