//! Curve panels: named series drawn as a mean line with a shaded band (e.g. min..max or
//! mean ± standard error over seeds), a legend, and a linear or logarithmic x axis.

use std::ops::Range;
use std::path::Path;

use plotters::chart::SeriesLabelPosition;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::{Circle, PathElement, Polygon, Text};
use plotters::prelude::{DrawingArea, DrawingBackend, LineSeries, Ranged};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, TextStyle, BLACK, WHITE};

use crate::axes::{self, AxisText, Chart};
use crate::error::{DrawResult, Error, Result};
use crate::font;
use crate::layout::{self, FigureFiles, Layout, Panel, AXIS_LABEL_PX};
use crate::palette::category_color;
use crate::validate;

/// Series with at most this many points also get a marker at each point.
const MARKER_MAX_POINTS: usize = 30;

/// Fraction of the x span added on each side, so that end markers are not cut.
const X_PAD: f64 = 0.02;

/// Opacity of the shaded bands.
const BAND_ALPHA: f64 = 0.22;

/// One named curve: `mean[i]` at `x[i]`, optionally with a band from `lower[i]` to `upper[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series<'a> {
    name: String,
    x: &'a [f64],
    mean: &'a [f64],
    band: Option<(&'a [f64], &'a [f64])>,
}

/// A named curve as owned values: legend name, x values, y values.
pub type Curve = (String, Vec<f64>, Vec<f64>);

impl<'a> Series<'a> {
    /// A curve called `name` (shown in the legend) through `(x[i], mean[i])`, without a band.
    pub fn new(name: impl Into<String>, x: &'a [f64], mean: &'a [f64]) -> Self {
        Self { name: name.into(), x, mean, band: None }
    }

    /// Shades the region between `lower` and `upper` (same length as `x`).
    pub fn band(mut self, lower: &'a [f64], upper: &'a [f64]) -> Self {
        self.band = Some((lower, upper));
        self
    }

    fn check(&self, log_x: bool) -> Result<()> {
        let what = |part: &str| format!("series {:?} {part}", self.name);
        let n = self.x.len();
        validate::non_empty(&what("x"), n)?;
        validate::length(&what("mean"), n, "one per x", self.mean.len())?;
        validate::finite(&what("x"), self.x.iter().copied())?;
        validate::finite(&what("mean"), self.mean.iter().copied())?;
        if let Some((lower, upper)) = self.band {
            validate::length(&what("lower"), n, "one per x", lower.len())?;
            validate::length(&what("upper"), n, "one per x", upper.len())?;
            validate::finite(&what("lower"), lower.iter().copied())?;
            validate::finite(&what("upper"), upper.iter().copied())?;
        }
        match self.x.iter().position(|&x| x <= 0.0) {
            Some(index) if log_x => Err(Error::Invalid {
                what: what("x") + " on a logarithmic axis",
                expected: "positive values".to_owned(),
                found: format!("{} at index {index}", self.x[index]),
            }),
            _ => Ok(()),
        }
    }

    /// Every y value drawn: means and band limits.
    fn y_values(&self) -> impl Iterator<Item = f64> + '_ {
        let (lower, upper) = self.band.unwrap_or((&[], &[]));
        self.mean.iter().chain(lower).chain(upper).copied()
    }
}

/// Where a curve panel puts its legend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LegendPosition {
    /// Top right corner of the plotting area.
    UpperRight,
    /// Top left corner.
    UpperLeft,
    /// Bottom right corner.
    LowerRight,
    /// Bottom left corner.
    LowerLeft,
    /// A key to the right of the plotting area, which is narrowed to make room: it never
    /// covers a curve (the default).
    #[default]
    Outside,
    /// No legend.
    Hidden,
}

/// Width in pixels of one character of the key's text (an upper bound for the sans font at
/// [`AXIS_LABEL_PX`]), for sizing the [`LegendPosition::Outside`] key.
const KEY_CHAR_PX: u32 = 9;

/// Pixels of the key's line sample, the gap after it and the key's margins.
const KEY_SAMPLE_PX: u32 = 22;
const KEY_GAP_PX: u32 = 8;
const KEY_MARGIN_PX: u32 = 12;

/// Vertical distance between two key rows.
const KEY_ROW_PX: u32 = 24;

/// One panel of curves; series `i` gets colour [`crate::category_color`]`(i)`, so the same
/// order of series gives the same colours in every panel.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePanel<'a> {
    text: AxisText,
    series: Vec<Series<'a>>,
    log_x: bool,
    legend: LegendPosition,
}

impl<'a> CurvePanel<'a> {
    /// A panel drawing `series`, linear axes, the legend as a key right of the plotting area.
    pub fn new(series: Vec<Series<'a>>) -> Self {
        Self { text: AxisText::default(), series, log_x: false, legend: LegendPosition::default() }
    }

    /// A panel drawing every named curve of `curves` without a band, as [`CurvePanel::new`].
    pub fn of_curves(curves: &'a [Curve]) -> Self {
        Self::new(curves.iter().map(|(name, x, y)| Series::new(name.clone(), x, y)).collect())
    }

    /// Sets the panel title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.text.title = title.into();
        self
    }

    /// Sets the x and y axis descriptions.
    pub fn axis_labels(mut self, x: impl Into<String>, y: impl Into<String>) -> Self {
        self.text.x = x.into();
        self.text.y = y.into();
        self
    }

    /// Uses a logarithmic x axis (all x values must then be positive).
    pub fn log_x(mut self, log_x: bool) -> Self {
        self.log_x = log_x;
        self
    }

    /// Sets where the legend goes.
    pub fn legend(mut self, legend: LegendPosition) -> Self {
        self.legend = legend;
        self
    }

    /// The key of [`LegendPosition::Outside`] in its own area: a line sample and the name of
    /// each series, from the top.
    fn draw_key<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> DrawResult {
        for (index, series) in self.series.iter().enumerate() {
            let color = category_color(index);
            let y = (2 * KEY_ROW_PX + KEY_ROW_PX * index as u32) as i32;
            let x = KEY_MARGIN_PX as i32;
            area.draw(&PathElement::new(vec![(x, y), (x + KEY_SAMPLE_PX as i32, y)], color.stroke_width(3)))?;
            let style = TextStyle::from((font::FAMILY, AXIS_LABEL_PX).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
            area.draw(&Text::new(series.name.clone(), (x + (KEY_SAMPLE_PX + KEY_GAP_PX) as i32, y), style))?;
        }
        Ok(())
    }

    fn draw_on<'c, DB, X>(&self, mut chart: Chart<'c, DB, X, RangedCoordf64>) -> DrawResult
    where
        DB: DrawingBackend + 'c,
        X: Ranged<ValueType = f64>,
    {
        for (index, series) in self.series.iter().enumerate() {
            let color = category_color(index);
            if let Some((lower, upper)) = series.band {
                let outline = series.x.iter().zip(upper).chain(series.x.iter().zip(lower).rev()).map(|(&x, &y)| (x, y)).collect::<Vec<_>>();
                chart.draw_series([Polygon::new(outline, color.mix(BAND_ALPHA).filled())])?;
            }
            let line = series.x.iter().copied().zip(series.mean.iter().copied());
            chart
                .draw_series(LineSeries::new(line.clone(), color.stroke_width(2)))?
                .label(series.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 22, y)], color.stroke_width(3)));
            if series.x.len() <= MARKER_MAX_POINTS {
                chart.draw_series(line.map(|p| Circle::new(p, 3, color.filled())))?;
            }
        }
        let position = match self.legend {
            LegendPosition::UpperRight => SeriesLabelPosition::UpperRight,
            LegendPosition::UpperLeft => SeriesLabelPosition::UpperLeft,
            LegendPosition::LowerRight => SeriesLabelPosition::LowerRight,
            LegendPosition::LowerLeft => SeriesLabelPosition::LowerLeft,
            LegendPosition::Outside | LegendPosition::Hidden => return Ok(()),
        };
        chart
            .configure_series_labels()
            .position(position)
            .margin(10)
            .label_font((font::FAMILY, AXIS_LABEL_PX))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .draw()?;
        Ok(())
    }
}

/// Axis ranges of a checked curve panel.
#[derive(Debug)]
pub(crate) struct CurvePlan {
    x: Range<f64>,
    y: Range<f64>,
}

impl Panel for CurvePanel<'_> {
    type Plan = CurvePlan;

    fn check(&self) -> Result<CurvePlan> {
        validate::non_empty("series", self.series.len())?;
        for series in &self.series {
            series.check(self.log_x)?;
        }
        let xs = || self.series.iter().flat_map(|s| s.x.iter().copied());
        let lo = xs().fold(f64::INFINITY, f64::min);
        let hi = xs().fold(f64::NEG_INFINITY, f64::max);
        let x = match (hi > lo, self.log_x) {
            (true, true) => {
                let pad = (hi / lo).powf(X_PAD);
                lo / pad..hi * pad
            }
            (true, false) => lo - X_PAD * (hi - lo)..hi + X_PAD * (hi - lo),
            (false, true) => lo / 2.0..hi * 2.0,
            (false, false) => lo - 0.5..hi + 0.5,
        };
        let y = axes::padded_range(self.series.iter().flat_map(Series::y_values));
        y.map(|y| CurvePlan { x, y }).ok_or_else(|| Error::Empty { what: "series values".to_owned() })
    }

    fn draw<DB: DrawingBackend>(&self, plan: &CurvePlan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let (x, y) = (plan.x.clone(), plan.y.clone());
        let area = match self.legend {
            LegendPosition::Outside => {
                let width = area.dim_in_pixel().0;
                let longest = self.series.iter().map(|s| s.name.chars().count() as u32).max().unwrap_or(0);
                let key = (2 * KEY_MARGIN_PX + KEY_SAMPLE_PX + KEY_GAP_PX + KEY_CHAR_PX * longest).min(width / 2);
                let (plot, key_area) = area.split_horizontally(width - key);
                self.draw_key(&key_area)?;
                plot
            }
            _ => area.clone(),
        };
        if self.log_x {
            let ticks = axes::log_ticks(&x);
            let x = x.log_scale().with_key_points(ticks);
            self.draw_on(axes::chart(&area, &self.text, x, y)?)
        } else {
            self.draw_on(axes::chart(&area, &self.text, x, y)?)
        }
    }
}

/// Writes `<stem>.png` and `<stem>.svg`: one curve panel per entry of `panels`, arranged by `layout`.
///
/// Each series needs as many means (and band limits) as x values, all finite (NaN is an
/// error, not skipped), and positive x on a log axis; violations are reported as [`Error`]
/// before anything is written. The output directory is created if missing.
///
/// # Example
/// ```
/// use protolearn_plot::{curves, CurvePanel, Layout, Series};
/// let epochs = [1.0, 2.0, 3.0, 4.0];
/// let (mean, lo, hi) = ([0.9, 0.5, 0.3, 0.25], [0.8, 0.45, 0.25, 0.2], [1.0, 0.6, 0.35, 0.3]);
/// let panel = CurvePanel::new(vec![Series::new("DCL", &epochs, &mean).band(&lo, &hi)])
///     .title("spiral")
///     .axis_labels("epoch", "quantization error");
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-curves");
/// let files = curves(&stem, &Layout::new(), &[panel])?;
/// assert!(files.svg.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn curves(stem: impl AsRef<Path>, layout: &Layout, panels: &[CurvePanel<'_>]) -> Result<FigureFiles> {
    layout::render(stem.as_ref(), layout, panels)
}
