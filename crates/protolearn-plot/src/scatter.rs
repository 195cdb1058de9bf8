//! Scatter panels: 2-D points coloured by label, with an optional overlay of prototypes and the
//! graph edges between them (e.g. CHL edges coloured by connected component).

use std::ops::Range;
use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{Circle, PathElement};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::{Color, RGBColor, ShapeStyle, BLACK, WHITE};

use crate::axes::{self, AxisText};
use crate::error::{DrawResult, Error, Result};
use crate::layout::{self, FigureFiles, Layout, Panel};
use crate::palette::category_color;
use crate::validate;

/// Colour of data points without labels, and of edges joining different components.
const UNLABELLED: RGBColor = RGBColor(110, 110, 110);

/// Prototypes drawn over a scatter panel: positions, graph edges, optional component ids.
///
/// Prototypes are large black-edged markers, filled with the colour of their component
/// (white without components). An edge whose two ends share a component takes its colour,
/// any other edge is grey.
#[derive(Debug, Clone, PartialEq)]
pub struct Prototypes<'a> {
    positions: &'a [[f64; 2]],
    edges: &'a [(usize, usize)],
    components: Option<&'a [usize]>,
}

impl<'a> Prototypes<'a> {
    /// Prototypes at `positions`, without edges or components.
    pub fn new(positions: &'a [[f64; 2]]) -> Self {
        Self { positions, edges: &[], components: None }
    }

    /// Sets the graph edges, as index pairs into the positions.
    pub fn edges(mut self, edges: &'a [(usize, usize)]) -> Self {
        self.edges = edges;
        self
    }

    /// Sets one component id per prototype (e.g. connected components of the graph).
    pub fn components(mut self, components: &'a [usize]) -> Self {
        self.components = Some(components);
        self
    }

    fn check(&self) -> Result<()> {
        validate::finite_points("prototype positions", self.positions)?;
        validate::indices_below("prototype edges", self.edges.iter().flat_map(|&(a, b)| [a, b]), self.positions.len())?;
        match self.components {
            Some(c) => validate::length("prototype components", self.positions.len(), "one per prototype", c.len()),
            None => Ok(()),
        }
    }

    fn component_color(&self, index: usize) -> Option<RGBColor> {
        self.components.and_then(|c| c.get(index)).map(|&c| category_color(c))
    }
}

/// One scatter panel: points (coloured by label when labels are given), optional prototypes.
///
/// Non-finite coordinates are an error ([`Error::NonFinite`]), not skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct ScatterPanel<'a> {
    text: AxisText,
    points: &'a [[f64; 2]],
    labels: Option<&'a [usize]>,
    prototypes: Option<Prototypes<'a>>,
}

impl<'a> ScatterPanel<'a> {
    /// A panel of `points` `[x, y]`, grey, without title or prototypes.
    pub fn new(points: &'a [[f64; 2]]) -> Self {
        Self { text: AxisText::default(), points, labels: None, prototypes: None }
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

    /// Colours the points by integer label, one per point (see [`crate::category_color`]).
    pub fn labels(mut self, labels: &'a [usize]) -> Self {
        self.labels = Some(labels);
        self
    }

    /// Draws prototypes (and their graph) over the points.
    pub fn prototypes(mut self, prototypes: Prototypes<'a>) -> Self {
        self.prototypes = Some(prototypes);
        self
    }

    fn point_color(&self, index: usize) -> RGBColor {
        self.labels.and_then(|l| l.get(index)).map_or(UNLABELLED, |&l| category_color(l))
    }

    fn prototype_positions(&self) -> &'a [[f64; 2]] {
        self.prototypes.as_ref().map_or(&[], |p| p.positions)
    }
}

/// Axis ranges of a checked scatter panel.
#[derive(Debug)]
pub(crate) struct ScatterPlan {
    x: Range<f64>,
    y: Range<f64>,
}

impl Panel for ScatterPanel<'_> {
    type Plan = ScatterPlan;

    fn check(&self) -> Result<ScatterPlan> {
        validate::finite_points("points", self.points)?;
        if let Some(labels) = self.labels {
            validate::length("labels", self.points.len(), "one per point", labels.len())?;
        }
        if let Some(prototypes) = &self.prototypes {
            prototypes.check()?;
        }
        let all = || self.points.iter().chain(self.prototype_positions());
        match (axes::padded_range(all().map(|p| p[0])), axes::padded_range(all().map(|p| p[1]))) {
            (Some(x), Some(y)) => Ok(ScatterPlan { x, y }),
            _ => Err(Error::Empty { what: "points and prototypes".to_owned() }),
        }
    }

    fn draw<DB: DrawingBackend>(&self, plan: &ScatterPlan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut chart = axes::chart(area, &self.text, plan.x.clone(), plan.y.clone())?;
        chart.draw_series(
            self.points.iter().enumerate().map(|(i, p)| Circle::new((p[0], p[1]), 2, self.point_color(i).mix(0.65).filled())),
        )?;
        let Some(prototypes) = &self.prototypes else {
            return Ok(());
        };
        let positions = prototypes.positions;
        chart.draw_series(prototypes.edges.iter().filter_map(|&(a, b)| {
            let color = match (prototypes.component_color(a), prototypes.component_color(b)) {
                (Some(ca), Some(cb)) if ca == cb => ca,
                _ => UNLABELLED,
            };
            let (pa, pb) = (positions.get(a)?, positions.get(b)?);
            let line = vec![(pa[0], pa[1]), (pb[0], pb[1])];
            Some(PathElement::new(line, color.stroke_width(2)))
        }))?;
        let outline = ShapeStyle::from(BLACK).stroke_width(1);
        chart.draw_series(positions.iter().enumerate().flat_map(|(i, p)| {
            let fill = prototypes.component_color(i).unwrap_or(WHITE);
            [Circle::new((p[0], p[1]), 5, fill.filled()), Circle::new((p[0], p[1]), 5, outline)]
        }))?;
        Ok(())
    }
}

/// Writes `<stem>.png` and `<stem>.svg`: one scatter panel per entry of `panels`, arranged by `layout`.
///
/// A single scatter plot is a one-panel grid. Invalid input (mismatched lengths, NaN
/// coordinates, edge indices out of range, nothing to plot) is reported as [`Error`] before
/// anything is written; the output directory is created if missing.
///
/// # Example
/// ```
/// use protolearn_plot::{scatter, Layout, Prototypes, ScatterPanel};
/// let points = [[0.0, 0.0], [1.0, 0.2], [0.1, 1.0], [1.1, 1.2]];
/// let labels = [0, 0, 1, 1];
/// let protos = [[0.5, 0.1], [0.6, 1.1]];
/// let edges = [(0, 1)];
/// let panel = ScatterPanel::new(&points)
///     .labels(&labels)
///     .title("blobs")
///     .axis_labels("x1", "x2")
///     .prototypes(Prototypes::new(&protos).edges(&edges).components(&[0, 0]));
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-scatter");
/// let files = scatter(&stem, &Layout::new(), &[panel])?;
/// assert!(files.png.exists() && files.svg.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn scatter(stem: impl AsRef<Path>, layout: &Layout, panels: &[ScatterPanel<'_>]) -> Result<FigureFiles> {
    layout::render(stem.as_ref(), layout, panels)
}
