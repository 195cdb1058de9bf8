//! Cartesian charts shared by the scatter and curve panels: title and axis text, data ranges,
//! and one chart builder generic over backend and axis type (linear or logarithmic).

use std::ops::Range;

use plotters::chart::{ChartBuilder, ChartContext};
use plotters::coord::cartesian::Cartesian2d;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::{Color, IntoFont, BLACK};

use crate::error::DrawFailure;
use crate::font;
use crate::layout::{AXIS_LABEL_PX, PANEL_TITLE_PX, TICK_LABEL_PX};

/// Title and axis descriptions of a chart panel; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AxisText {
    pub(crate) title: String,
    pub(crate) x: String,
    pub(crate) y: String,
}

/// `[min, max]` of `values` widened by 5 % on each side; a single value gets a unit-sized range.
/// `None` when `values` is empty.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values
        .into_iter()
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
            None => Some((v, v)),
        })?;
    let pad = if hi > lo {
        0.05 * (hi - lo)
    } else {
        0.5 * lo.abs().max(1.0)
    };
    Some(lo - pad..hi + pad)
}

/// Builds a chart in `area` with the panel's title, axis descriptions and a light mesh.
pub(crate) fn chart<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    text: &AxisText,
    x: X,
    y: Y,
) -> Result<ChartContext<'a, DB, Cartesian2d<X::CoordDescType, Y::CoordDescType>>, DrawFailure>
where
    DB: DrawingBackend,
    X: AsRangedCoord,
    Y: AsRangedCoord,
    X::CoordDescType: ValueFormatter<X::Value>,
    Y::CoordDescType: ValueFormatter<Y::Value>,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .x_label_area_size(if text.x.is_empty() { 28 } else { 48 })
        .y_label_area_size(if text.y.is_empty() { 48 } else { 68 });
    if !text.title.is_empty() {
        builder.caption(&text.title, (font::FAMILY, PANEL_TITLE_PX).into_font());
    }
    let mut chart = builder.build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(text.x.as_str())
        .y_desc(text.y.as_str())
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.08))
        .x_labels(6)
        .y_labels(6)
        .label_style((font::FAMILY, TICK_LABEL_PX))
        .axis_desc_style((font::FAMILY, AXIS_LABEL_PX))
        .draw()?;
    Ok(chart)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_range_widens_by_five_percent() {
        let r = padded_range([0.0, 10.0, 5.0]);
        assert_eq!(r, Some(-0.5..10.5));
    }

    #[test]
    fn padded_range_handles_constant_and_empty_input() {
        assert_eq!(padded_range([3.0, 3.0]), Some(1.5..4.5));
        assert_eq!(padded_range([0.0]), Some(-0.5..0.5));
        assert_eq!(padded_range(std::iter::empty()), None);
    }
}
