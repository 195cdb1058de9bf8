//! Figures as grids of panels: the [`Layout`], the output files, and the one renderer that draws
//! the same figure through the PNG and the SVG backend.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};
use plotters::style::{IntoFont, TextStyle, WHITE};

use crate::error::{DrawFailure, DrawResult, Error, Result};
use crate::{font, validate};

/// Pixel size of the figure title.
pub(crate) const FIGURE_TITLE_PX: u32 = 26;
/// Pixel size of a panel title.
pub(crate) const PANEL_TITLE_PX: u32 = 19;
/// Pixel size of axis descriptions and legend entries.
pub(crate) const AXIS_LABEL_PX: u32 = 16;
/// Pixel size of tick labels and other small text.
pub(crate) const TICK_LABEL_PX: u32 = 13;

/// Free pixels left and right of a panel title.
const TITLE_PAD_PX: u32 = 4;

/// Smallest panel side in pixels: below it axis labels would not fit.
const MIN_PANEL_PX: u32 = 120;

/// How panels are arranged: an optional figure title above `columns` columns of equal panels,
/// filled row by row (rows = panels / columns, rounded up). A single plot is a one-panel grid.
///
/// # Example
/// ```
/// use protolearn_plot::Layout;
/// // Paper-000 Fig. 4: two rows (VCL, DCL) of three datasets.
/// let layout = Layout::new().title("CHL graphs").columns(3).panel_size(400, 380);
/// assert_eq!(layout.figure_size(6), (1200, 760 + 44));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    title: Option<String>,
    columns: usize,
    panel_width: u32,
    panel_height: u32,
}

impl Default for Layout {
    /// One column of 640 x 480 panels, no figure title.
    fn default() -> Self {
        Self { title: None, columns: 1, panel_width: 640, panel_height: 480 }
    }
}

impl Layout {
    /// The default layout: one column of 640 x 480 panels, no figure title.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the title drawn above all panels.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the number of panel columns (at least 1).
    pub fn columns(mut self, columns: usize) -> Self {
        self.columns = columns;
        self
    }

    /// Sets the size of each panel in pixels (each side at least 120).
    pub fn panel_size(mut self, width: u32, height: u32) -> Self {
        self.panel_width = width;
        self.panel_height = height;
        self
    }

    /// Pixel size `(width, height)` of the whole figure holding `panels` panels.
    pub fn figure_size(&self, panels: usize) -> (u32, u32) {
        let (rows, cols) = self.grid(panels);
        let title = if self.title.is_some() { FIGURE_TITLE_PX + 18 } else { 0 };
        (saturating_u32(cols) * self.panel_width, saturating_u32(rows) * self.panel_height + title)
    }

    /// `(rows, columns)` of the grid for `panels` panels; fewer columns when there are fewer panels.
    fn grid(&self, panels: usize) -> (usize, usize) {
        let cols = self.columns.clamp(1, panels.max(1));
        (panels.div_ceil(cols), cols)
    }

    fn check(&self, panels: usize) -> Result<()> {
        validate::non_empty("panels", panels)?;
        validate::at_least("layout columns", self.columns as u64, 1)?;
        validate::at_least("layout panel width", self.panel_width.into(), MIN_PANEL_PX.into())?;
        validate::at_least("layout panel height", self.panel_height.into(), MIN_PANEL_PX.into())
    }
}

/// `area` with `title` drawn above it (the area itself when the title is empty); a title wider
/// than the area is cut with an ellipsis.
pub(crate) fn titled_area<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawFailure> {
    if title.is_empty() {
        return Ok(area.clone());
    }
    let style = TextStyle::from((font::FAMILY, PANEL_TITLE_PX).into_font());
    let title = fit_text(area, title, &style, area.dim_in_pixel().0.saturating_sub(2 * TITLE_PAD_PX))?;
    Ok(area.titled(&title, style)?)
}

/// `text`, or its longest prefix followed by an ellipsis that is at most `width` pixels wide.
pub(crate) fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    style: &TextStyle<'_>,
    width: u32,
) -> std::result::Result<String, DrawFailure> {
    if area.estimate_text_size(text, style)?.0 <= width {
        return Ok(text.to_owned());
    }
    let mut cut: Vec<char> = text.chars().collect();
    while cut.pop().is_some() {
        let candidate: String = cut.iter().chain(['…'].iter()).collect();
        if area.estimate_text_size(&candidate, style)?.0 <= width {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}

/// The figure title's style: [`FIGURE_TITLE_PX`], or the largest size down to
/// [`PANEL_TITLE_PX`] at which `title` fits `width` (a long title over a narrow figure shrinks
/// before [`fit_text`] shortens it).
fn figure_title_style<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    width: u32,
) -> std::result::Result<TextStyle<'static>, DrawFailure> {
    let style = |px: u32| TextStyle::from((font::FAMILY, px).into_font());
    for px in (PANEL_TITLE_PX..=FIGURE_TITLE_PX).rev() {
        if area.estimate_text_size(title, &style(px))?.0 <= width {
            return Ok(style(px));
        }
    }
    Ok(style(PANEL_TITLE_PX))
}

fn saturating_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The two files a figure function writes: `<stem>.png` and `<stem>.svg`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FigureFiles {
    /// The raster image.
    pub png: PathBuf,
    /// The vector image (text as `<text>` in the generic `sans-serif` family).
    pub svg: PathBuf,
}

impl FigureFiles {
    /// The files for `stem`: the extensions are appended, so `out/fig.v2` gives `out/fig.v2.png`.
    pub fn for_stem(stem: impl AsRef<Path>) -> Self {
        let with = |ext: &str| {
            let mut name = OsString::from(stem.as_ref().as_os_str());
            name.push(ext);
            PathBuf::from(name)
        };
        Self { png: with(".png"), svg: with(".svg") }
    }
}

/// One cell of a figure grid: checked once, then drawn once per backend.
pub(crate) trait Panel {
    /// What checking finds out and drawing needs (axis ranges, computed values).
    type Plan;

    /// Validates the panel's input; nothing is drawn before every panel passed.
    fn check(&self) -> Result<Self::Plan>;

    /// Draws the panel into `area`.
    fn draw<DB: DrawingBackend>(&self, plan: &Self::Plan, area: &DrawingArea<DB, Shift>) -> DrawResult;
}

/// Checks every panel, then writes `<stem>.png` and `<stem>.svg` with the same drawing code.
pub(crate) fn render<P: Panel>(stem: &Path, layout: &Layout, panels: &[P]) -> Result<FigureFiles> {
    layout.check(panels.len())?;
    let plans = panels
        .iter()
        .enumerate()
        .map(|(index, panel)| panel.check().map_err(|source| Error::Panel { index, source: Box::new(source) }))
        .collect::<Result<Vec<_>>>()?;
    font::ensure_registered()?;
    let files = FigureFiles::for_stem(stem);
    if let Some(dir) = files.png.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io { path: dir.to_path_buf(), source })?;
    }
    let size = layout.figure_size(panels.len());
    let figure = Figure { layout, panels, plans: &plans };
    figure.write(BitMapBackend::new(&files.png, size).into_drawing_area(), &files.png)?;
    let mut svg = String::new();
    figure.write(SVGBackend::with_string(&mut svg, size).into_drawing_area(), &files.svg)?;
    // plotters-svg 0.3.7 embeds bitmaps as `data:png;base64,`; a data URL needs the MIME type.
    let svg = svg.replace("href=\"data:png;base64,", "href=\"data:image/png;base64,");
    std::fs::write(&files.svg, svg).map_err(|source| Error::Io { path: files.svg.clone(), source })?;
    Ok(files)
}

/// Checked panels with their layout, ready to draw on any backend.
struct Figure<'f, P: Panel> {
    layout: &'f Layout,
    panels: &'f [P],
    plans: &'f [P::Plan],
}

impl<P: Panel> Figure<'_, P> {
    fn write<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>, path: &Path) -> Result<()> {
        self.draw(&root)
            .and_then(|()| root.present().map_err(DrawFailure::from))
            .map_err(|DrawFailure(message)| Error::Draw { path: path.to_path_buf(), message })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE)?;
        let body = match &self.layout.title {
            Some(title) => {
                let width = root.dim_in_pixel().0.saturating_sub(2 * TITLE_PAD_PX);
                let style = figure_title_style(root, title, width)?;
                let text = fit_text(root, title, &style, width)?;
                root.titled(&text, style)?
            }
            None => root.clone(),
        };
        let cells = body.split_evenly(self.layout.grid(self.panels.len()));
        for ((panel, plan), cell) in self.panels.iter().zip(self.plans).zip(&cells) {
            panel.draw(plan, cell)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_fills_rows_and_shrinks_to_fit_few_panels() {
        let layout = Layout::new().columns(3).panel_size(200, 150);
        assert_eq!(layout.grid(6), (2, 3));
        assert_eq!(layout.grid(7), (3, 3));
        assert_eq!(layout.grid(2), (1, 2));
        assert_eq!(layout.figure_size(1), (200, 150));
        assert_eq!(layout.title("t").figure_size(4), (600, 300 + FIGURE_TITLE_PX + 18));
    }

    #[test]
    fn invalid_layouts_are_rejected() {
        assert!(matches!(Layout::new().check(0), Err(Error::Empty { .. })));
        assert!(matches!(Layout::new().columns(0).check(1), Err(Error::Invalid { .. })));
        assert!(matches!(Layout::new().panel_size(50, 400).check(1), Err(Error::Invalid { .. })));
    }

    #[test]
    fn files_append_extensions_to_the_stem() {
        let files = FigureFiles::for_stem("out/fig.v2");
        assert_eq!(files.png, PathBuf::from("out/fig.v2.png"));
        assert_eq!(files.svg, PathBuf::from("out/fig.v2.svg"));
    }

    #[test]
    fn a_long_figure_title_shrinks_to_the_figure_width() {
        font::ensure_registered().unwrap();
        let mut svg = String::new();
        let area = plotters::prelude::SVGBackend::with_string(&mut svg, (300, 200)).into_drawing_area();
        let title = "DESOM latent U-matrix, test hits by majority class";
        let style = figure_title_style(&area, title, 292).unwrap();
        assert!(area.estimate_text_size(title, &style).unwrap().0 <= 292 || fit_text(&area, title, &style, 292).unwrap().ends_with('…'));
        assert!(style.font.get_size() < f64::from(FIGURE_TITLE_PX), "the title kept its full size");
        let short = figure_title_style(&area, "short", 292).unwrap();
        assert_eq!(short.font.get_size(), f64::from(FIGURE_TITLE_PX));
    }
}
