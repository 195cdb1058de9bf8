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

/// A chart with x axis type `X` and y axis type `Y`, drawing on backend `DB`.
pub(crate) type Chart<'a, DB, X, Y> = ChartContext<'a, DB, Cartesian2d<X, Y>>;

/// `[min, max]` of `values` widened by 5 % on each side; a single value gets a unit-sized range.
/// `None` when `values` is empty.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) = values.into_iter().fold(None, |acc: Option<(f64, f64)>, v| match acc {
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        None => Some((v, v)),
    })?;
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.5 * lo.abs().max(1.0) };
    Some(lo - pad..hi + pad)
}

/// Tick label without float noise: at most 6 significant digits, no trailing zeros
/// (`20`, `0.3`, `-1.25`), scientific notation below 1e-3 and from 1e6 on.
pub(crate) fn tick_label(value: f64) -> String {
    let magnitude = value.abs();
    if value == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e6).contains(&magnitude) {
        let text = format!("{value:.2e}");
        match text.split_once('e') {
            Some((mantissa, exponent)) => {
                format!("{}e{exponent}", trim_zeros(mantissa))
            }
            None => text,
        }
    } else {
        let decimals = (5 - magnitude.log10().floor() as i32).max(0) as usize;
        trim_zeros(&format!("{value:.decimals$}")).to_owned()
    }
}

/// The length of an axis range.
fn span(range: &Range<f64>) -> f64 {
    (range.end - range.start).abs()
}

/// A tick value within `1e-9` of the axis span of zero is zero: ticks are sums of steps, and a
/// tick meant to be 0 comes out as `-5.55e-17` (which then printed as a long label that did not
/// fit the panel's label area).
fn snap_to_zero(value: f64, span: f64) -> f64 {
    if value.abs() <= 1e-9 * span {
        0.0
    } else {
        value
    }
}

/// `"1.500"` -> `"1.5"`, `"20.000"` -> `"20"`, `"-0.000"` stays as written minus its zeros.
fn trim_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Ticks for a logarithmic axis over `range` (positive): 1, 2, 5 times powers of ten,
/// or only the powers of ten when that would give more than 12 ticks.
pub(crate) fn log_ticks(range: &Range<f64>) -> Vec<f64> {
    let first = range.start.log10().floor() as i32;
    let last = range.end.log10().ceil() as i32;
    let within = |v: &f64| range.start <= *v && *v <= range.end;
    let decades = || (first..=last).map(|e| 10f64.powi(e));
    let fine: Vec<f64> = decades().flat_map(|p| [p, 2.0 * p, 5.0 * p]).filter(within).collect();
    if fine.len() <= 12 {
        fine
    } else {
        decades().filter(within).collect()
    }
}

/// Builds a chart in `area` with the panel's title, axis descriptions and a light mesh.
pub(crate) fn chart<'a, DB, X, Y>(
    area: &'a DrawingArea<DB, Shift>,
    text: &AxisText,
    x: X,
    y: Y,
) -> Result<Chart<'a, DB, X::CoordDescType, Y::CoordDescType>, DrawFailure>
where
    DB: DrawingBackend,
    X: AsRangedCoord<Value = f64>,
    Y: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .margin_right(24)
        .x_label_area_size(if text.x.is_empty() { 28 } else { 48 })
        .y_label_area_size(if text.y.is_empty() { 48 } else { 68 });
    if !text.title.is_empty() {
        builder.caption(&text.title, (font::FAMILY, PANEL_TITLE_PX).into_font());
    }
    let mut chart = builder.build_cartesian_2d(x, y)?;
    let (x_span, y_span) = (span(&chart.x_range()), span(&chart.y_range()));
    chart
        .configure_mesh()
        .x_desc(text.x.as_str())
        .y_desc(text.y.as_str())
        .max_light_lines(0)
        .bold_line_style(BLACK.mix(0.08))
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| tick_label(snap_to_zero(*v, x_span)))
        .y_label_formatter(&|v| tick_label(snap_to_zero(*v, y_span)))
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
    fn tick_labels_have_no_float_noise() {
        assert_eq!(tick_label(20.0), "20");
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(-1.25), "-1.25");
        assert_eq!(tick_label(0.0), "0");
        assert_eq!(tick_label(123456.0), "123456");
        assert_eq!(tick_label(2.5e-5), "2.5e-5");
        assert_eq!(tick_label(3e7), "3e7");
        assert_eq!(tick_label(snap_to_zero(-5.55e-17, 0.8)), "0");
        assert_eq!(tick_label(snap_to_zero(2.5e-5, 1e-4)), "2.5e-5", "a small value on a small axis stays");
    }

    #[test]
    fn log_ticks_use_one_two_five_or_decades() {
        assert_eq!(log_ticks(&(2.0..128.0)), vec![2.0, 5.0, 10.0, 20.0, 50.0, 100.0]);
        assert_eq!(log_ticks(&(1.0..1e5)), vec![1.0, 10.0, 100.0, 1e3, 1e4, 1e5]);
    }

    #[test]
    fn padded_range_handles_constant_and_empty_input() {
        assert_eq!(padded_range([3.0, 3.0]), Some(1.5..4.5));
        assert_eq!(padded_range([0.0]), Some(-0.5..0.5));
        assert_eq!(padded_range(std::iter::empty()), None);
    }
}
