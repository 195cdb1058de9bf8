//! The key beside a map heat map: a colour bar for values on a ramp, or a legend of named swatches.

use plotters::coord::Shift;
use plotters::element::{Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, ShapeStyle, TextStyle, BLACK};

use crate::error::{DrawFailure, DrawResult};
use crate::font;
use crate::layout::{fit_text, TICK_LABEL_PX};
use crate::palette::Ramp;

/// Width of the strip holding a colour bar and its labels.
const COLOUR_BAR_STRIP_PX: u32 = 80;
/// Width of the colour bar itself.
const COLOUR_BAR_PX: i32 = 16;
/// Number of colour steps drawn in the colour bar.
const COLOUR_BAR_STEPS: u32 = 64;
/// Free pixels left of the key and between a swatch or bar and its text.
const PAD_PX: i32 = 4;
/// Side of a legend swatch.
const SWATCH_PX: i32 = 14;
/// Height of one legend row, at most (rows shrink to fit the map's height, down to the text height).
const LEGEND_ROW_PX: i32 = 20;

/// The rows of a legend, top down: a swatch with its name, or a line of text without swatch.
pub(crate) type LegendRows = Vec<(Option<RGBColor>, String)>;

/// What the key explains.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Key {
    /// A ramp's colours from `low` (bottom) to `high` (top).
    Bar {
        /// The ramp the cells are coloured with.
        ramp: Ramp,
        /// The value drawn with level 0.
        low: f64,
        /// The value drawn with level 1.
        high: f64,
    },
    /// Rows top down: a swatch with its name, or a line of text without swatch (`None`).
    Legend(LegendRows),
    /// Keys side by side, left to right (a U-matrix's colour bar and its hit markers' classes).
    Row(Vec<Key>),
}

impl Key {
    /// Width of the strip the key needs right of the map, at most `max` pixels.
    pub(crate) fn width<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, max: u32) -> Result<u32, DrawFailure> {
        let needed = match self {
            Self::Row(keys) => {
                let mut total = 0;
                for key in keys {
                    total += key.width(area, max)?;
                }
                total
            }
            Self::Bar { .. } => COLOUR_BAR_STRIP_PX,
            Self::Legend(rows) => {
                let style = legend_style();
                let mut widest = 0;
                for (_, name) in rows {
                    widest = widest.max(area.estimate_text_size(name, &style)?.0);
                }
                widest + (SWATCH_PX + 3 * PAD_PX + 2) as u32
            }
        };
        Ok(needed.min(max))
    }

    /// Draws the key into `area` (the strip right of the map) beside pixel rows `top..bottom` of the map.
    pub(crate) fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>, rows: (i32, i32)) -> DrawResult {
        match self {
            Self::Bar { ramp, low, high } => draw_colour_bar(area, *ramp, (*low, *high), rows),
            Self::Legend(entries) => draw_legend(area, entries, rows),
            Self::Row(keys) => {
                let mut rest = area.clone();
                for key in keys {
                    let width = key.width(&rest, rest.dim_in_pixel().0)?;
                    let (left, right) = rest.split_horizontally(width);
                    key.draw(&left, rows)?;
                    rest = right;
                }
                Ok(())
            }
        }
    }
}

/// Draws `ramp` from `low` (bottom) to `high` (top) between pixel rows `top..bottom`, labelled at both ends.
fn draw_colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    ramp: Ramp,
    (low, high): (f64, f64),
    (top, bottom): (i32, i32),
) -> DrawResult {
    let span = f64::from(bottom - top);
    let step = |i: u32| top + (span * f64::from(i) / f64::from(COLOUR_BAR_STEPS)).round() as i32;
    let x = (PAD_PX, PAD_PX + COLOUR_BAR_PX);
    for i in 0..COLOUR_BAR_STEPS {
        let level = 1.0 - (f64::from(i) + 0.5) / f64::from(COLOUR_BAR_STEPS);
        area.draw(&Rectangle::new([(x.0, step(i)), (x.1, step(i + 1))], ramp.color(level).filled()))?;
    }
    area.draw(&Rectangle::new([(x.0, top), (x.1, bottom)], ShapeStyle::from(BLACK).stroke_width(1)))?;
    let font = (font::FAMILY, TICK_LABEL_PX).into_font();
    for (value, y, v_pos) in [(high, top, VPos::Top), (low, bottom, VPos::Bottom)] {
        let style = font.color(&BLACK).pos(Pos::new(HPos::Left, v_pos));
        area.draw(&Text::new(format_value(value), (x.1 + PAD_PX, y), style))?;
    }
    Ok(())
}

/// Draws one row per entry from pixel row `top` down, rows shrinking to fit above `bottom`;
/// names too wide for the strip are cut with an ellipsis.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(Option<RGBColor>, String)],
    (top, bottom): (i32, i32),
) -> DrawResult {
    let style = legend_style();
    let row_px = ((bottom - top) / entries.len().max(1) as i32).clamp(TICK_LABEL_PX as i32 + 2, LEGEND_ROW_PX);
    let text_x = PAD_PX + SWATCH_PX + PAD_PX;
    let room = (area.dim_in_pixel().0 as i32 - text_x - PAD_PX).max(0) as u32;
    for (row, (swatch, name)) in entries.iter().enumerate() {
        let middle = top + row as i32 * row_px + row_px / 2;
        if let Some(color) = swatch {
            let corners = [(PAD_PX, middle - SWATCH_PX / 2), (PAD_PX + SWATCH_PX, middle + SWATCH_PX / 2)];
            area.draw(&Rectangle::new(corners, color.filled()))?;
            area.draw(&Rectangle::new(corners, ShapeStyle::from(BLACK).stroke_width(1)))?;
        }
        let text = fit_text(area, name, &style, room)?;
        area.draw(&Text::new(text, (text_x, middle), style.pos(Pos::new(HPos::Left, VPos::Center))))?;
    }
    Ok(())
}

/// The text style of legend rows.
fn legend_style() -> TextStyle<'static> {
    TextStyle::from((font::FAMILY, TICK_LABEL_PX).into_font())
}

/// Short label for a colour bar end: whole numbers as they are, else three decimals, or
/// scientific notation for tiny and huge values.
fn format_value(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e6 {
        format!("{value:.0}")
    } else if (0.01..1000.0).contains(&value.abs()) {
        format!("{value:.3}")
    } else {
        format!("{value:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_bar_labels_are_short() {
        assert_eq!(format_value(0.0), "0");
        assert_eq!(format_value(42.0), "42");
        assert_eq!(format_value(1.23456), "1.235");
        assert_eq!(format_value(0.000123), "1.23e-4");
        assert_eq!(format_value(2.5e7), "2.50e7");
    }
}
