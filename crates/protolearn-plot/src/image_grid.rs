//! Prototype image grids: a map of small grayscale images (e.g. decoded SOM prototypes) drawn
//! as one mosaic, with optional text per cell.

use std::path::Path;

use plotters::coord::Shift;
use plotters::element::{BitMapElement, Rectangle, Text};
use plotters::prelude::{DrawingArea, DrawingBackend};
use plotters::style::{Color, IntoFont, RGBColor, WHITE};

use crate::error::{DrawFailure, DrawResult, Error, Result};
use crate::font;
use crate::grid_shape::GridShape;
use crate::layout::{self, FigureFiles, Layout, Panel};
use crate::palette::intensity;
use crate::validate;

/// Free pixels around the mosaic inside its panel.
const MARGIN_PX: u32 = 6;

/// How pixel values map to grey levels (black = low, white = high).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Intensity {
    /// `low` is black, `high` is white, values outside are clamped. `[0, 1]` by default.
    Fixed {
        /// Value drawn black.
        low: f64,
        /// Value drawn white.
        high: f64,
    },
    /// The minimum over all images is black, the maximum white.
    Global,
    /// Each image is stretched from its own minimum (black) to its maximum (white).
    PerImage,
}

impl Default for Intensity {
    /// `Fixed { low: 0.0, high: 1.0 }`.
    fn default() -> Self {
        Self::Fixed { low: 0.0, high: 1.0 }
    }
}

/// A map of `map.rows x map.cols` grayscale images of `image.rows x image.cols` pixels each.
///
/// `pixels` holds the images one after another in map order (row-major), each row-major:
/// pixel `(y, x)` of unit `(r, c)` is at `((r * map.cols + c) * image.rows + y) * image.cols + x`.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePanel<'a> {
    title: String,
    pixels: &'a [f64],
    map: GridShape,
    image: GridShape,
    intensity: Intensity,
    labels: Option<&'a [String]>,
}

impl<'a> ImagePanel<'a> {
    /// A panel of `map.cells()` images of shape `image`, grey levels from [`Intensity::default`].
    pub fn new(pixels: &'a [f64], map: GridShape, image: GridShape) -> Self {
        Self { title: String::new(), pixels, map, image, intensity: Intensity::default(), labels: None }
    }

    /// Sets the panel title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Sets how values map to grey levels.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Writes `labels[i]` in the corner of cell `i` (map order); empty strings are skipped.
    pub fn labels(mut self, labels: &'a [String]) -> Self {
        self.labels = Some(labels);
        self
    }

    fn images(&self) -> std::slice::ChunksExact<'a, f64> {
        self.pixels.chunks_exact(self.image.cells())
    }
}

/// Value range `(black, white)` per image of a checked image panel.
#[derive(Debug)]
pub(crate) struct ImagePlan {
    ranges: Vec<(f64, f64)>,
}

fn min_max(values: &[f64]) -> (f64, f64) {
    values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)))
}

impl Panel for ImagePanel<'_> {
    type Plan = ImagePlan;

    fn check(&self) -> Result<ImagePlan> {
        validate::non_empty("map cells", self.map.cells())?;
        validate::non_empty("image pixels", self.image.cells())?;
        validate::length(
            "pixels",
            self.map.cells() * self.image.cells(),
            &format!("{} map of {} images", self.map, self.image),
            self.pixels.len(),
        )?;
        validate::finite("pixels", self.pixels.iter().copied())?;
        if let Some(labels) = self.labels {
            validate::length("labels", self.map.cells(), "one per map cell", labels.len())?;
        }
        let ranges = match self.intensity {
            Intensity::Fixed { low, high } if low.is_finite() && high.is_finite() && low < high => {
                vec![(low, high); self.map.cells()]
            }
            Intensity::Fixed { low, high } => {
                return Err(Error::Invalid {
                    what: "fixed intensity range".to_owned(),
                    expected: "finite low < high".to_owned(),
                    found: format!("low {low}, high {high}"),
                })
            }
            Intensity::Global => vec![min_max(self.pixels); self.map.cells()],
            Intensity::PerImage => self.images().map(min_max).collect(),
        };
        Ok(ImagePlan { ranges })
    }

    fn draw<DB: DrawingBackend>(&self, plan: &ImagePlan, area: &DrawingArea<DB, Shift>) -> DrawResult {
        let area = layout::titled_area(area, &self.title)?;
        let (width, height) = area.dim_in_pixel();
        let mosaic = Mosaic::fit(self.map, self.image, width.saturating_sub(2 * MARGIN_PX), height.saturating_sub(2 * MARGIN_PX));
        if mosaic.width() > width || mosaic.height() > height {
            return Err(DrawFailure(format!(
                "a {} map needs at least {} x {} pixels, the panel has {width} x {height}",
                self.map,
                mosaic.width(),
                mosaic.height()
            )));
        }
        let origin = ((width.saturating_sub(mosaic.width()) / 2) as i32, (height.saturating_sub(mosaic.height()) / 2) as i32);
        let bitmap = BitMapElement::with_owned_buffer(origin, (mosaic.width(), mosaic.height()), mosaic.rgb(self.images(), &plan.ranges))
            .ok_or_else(|| DrawFailure("mosaic buffer smaller than its size".to_owned()))?;
        area.draw(&bitmap)?;
        let Some(labels) = self.labels else {
            return Ok(());
        };
        let size = (mosaic.cell_height / 4).clamp(9, 16);
        let style = (font::FAMILY, size).into_font().color(&RGBColor(230, 30, 30));
        for (index, label) in labels.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
            let (x, y) = mosaic.cell_origin(index);
            let corner = (origin.0 + x as i32, origin.1 + y as i32);
            let (text_w, text_h) = area.estimate_text_size(label, &style)?;
            area.draw(&Rectangle::new([corner, (corner.0 + text_w as i32 + 4, corner.1 + text_h as i32 + 2)], WHITE.mix(0.75).filled()))?;
            area.draw(&Text::new(label.as_str(), (corner.0 + 2, corner.1 + 1), &style))?;
        }
        Ok(())
    }
}

/// Pixel geometry of a mosaic: equal cells with a white gap between them, nearest-neighbour scaled.
#[derive(Debug, Clone, Copy)]
struct Mosaic {
    map: GridShape,
    image: GridShape,
    cell_width: u32,
    cell_height: u32,
    gap: u32,
}

impl Mosaic {
    /// The largest cells (keeping the image aspect ratio) that fit `width` x `height` pixels;
    /// at least one pixel per cell, so a map with more cells than pixels does not fit.
    fn fit(map: GridShape, image: GridShape, width: u32, height: u32) -> Self {
        let box_w = width / map.cols.max(1) as u32;
        let box_h = height / map.rows.max(1) as u32;
        let gap = match box_w.min(box_h) {
            0..=3 => 0,
            4..=23 => 1,
            _ => 2,
        };
        let scale = f64::min(
            f64::from(box_w.saturating_sub(gap)) / image.cols.max(1) as f64,
            f64::from(box_h.saturating_sub(gap)) / image.rows.max(1) as f64,
        );
        Self {
            map,
            image,
            cell_width: ((image.cols as f64 * scale) as u32).max(1),
            cell_height: ((image.rows as f64 * scale) as u32).max(1),
            gap,
        }
    }

    fn width(&self) -> u32 {
        self.map.cols as u32 * (self.cell_width + self.gap) - self.gap
    }

    fn height(&self) -> u32 {
        self.map.rows as u32 * (self.cell_height + self.gap) - self.gap
    }

    /// Top-left pixel of cell `index` (map order) inside the mosaic.
    fn cell_origin(&self, index: usize) -> (u32, u32) {
        let (r, c) = (index / self.map.cols, index % self.map.cols);
        (c as u32 * (self.cell_width + self.gap), r as u32 * (self.cell_height + self.gap))
    }

    /// RGB bytes of the mosaic: white gaps, image `i` stretched from `ranges[i]` to black..white.
    fn rgb<'i>(&self, images: impl Iterator<Item = &'i [f64]>, ranges: &[(f64, f64)]) -> Vec<u8> {
        let (width, height) = (self.width() as usize, self.height() as usize);
        let mut rgb = vec![255u8; width * height * 3];
        for (index, (pixels, &(low, high))) in images.zip(ranges).enumerate() {
            let (x0, y0) = self.cell_origin(index);
            let span = if high > low { high - low } else { 1.0 };
            for py in 0..self.cell_height as usize {
                let sy = py * self.image.rows / self.cell_height as usize;
                let row = (y0 as usize + py) * width + x0 as usize;
                for px in 0..self.cell_width as usize {
                    let sx = px * self.image.cols / self.cell_width as usize;
                    let grey = intensity((pixels[sy * self.image.cols + sx] - low) / span);
                    rgb[(row + px) * 3..(row + px) * 3 + 3].fill(grey);
                }
            }
        }
        rgb
    }
}

/// Writes `<stem>.png` and `<stem>.svg`: one image mosaic per entry of `panels`, arranged by `layout`.
///
/// Cells are as large as the panel allows, keeping each image's aspect ratio (a panel with fewer
/// pixels than map cells is an [`Error::Draw`]). The pixel count
/// must be `map.cells() * image.cells()`, all finite (NaN is an error, not skipped); violations
/// are reported as [`Error`] before anything is written. In the SVG the mosaic is one embedded
/// PNG image. The output directory is created if missing.
///
/// # Example
/// ```
/// use protolearn_plot::{image_grid, GridShape, ImagePanel, Intensity, Layout};
/// // A 2x3 map of 4x4 images with a gradient each.
/// let pixels: Vec<f64> = (0..6 * 16).map(|i| (i % 16) as f64 / 15.0).collect();
/// let labels: Vec<String> = (0..6).map(|i| format!("{i}")).collect();
/// let panel = ImagePanel::new(&pixels, GridShape::new(2, 3), GridShape::new(4, 4))
///     .intensity(Intensity::Global)
///     .labels(&labels)
///     .title("decoded prototypes");
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-images");
/// let files = image_grid(&stem, &Layout::new().panel_size(360, 260), &[panel])?;
/// assert!(files.png.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn image_grid(stem: impl AsRef<Path>, layout: &Layout, panels: &[ImagePanel<'_>]) -> Result<FigureFiles> {
    layout::render(stem.as_ref(), layout, panels)
}
