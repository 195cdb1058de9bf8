//! protolearn-plot: figures as PNG + SVG pairs from plain slices (no tch): scatter plots with
//! prototype graphs, curves with bands, prototype image grids, and the self-organizing-map
//! figures (U-matrix, hit map, component planes, class map) on square or hexagonal cells.
//!
//! Every figure function takes an output path stem, a [`Layout`] (a grid of panels with an
//! optional title; a single plot is a one-panel grid) and a slice of panels (the map figures
//! [`hit_map`], [`component_planes`] and [`class_map`]: the map and its per-unit data), checks
//! all input first (typed [`Error`], never a panic), creates the output directory, and writes
//! `<stem>.png` and `<stem>.svg` with the same drawing code. Text uses the bundled DejaVu Sans
//! font in PNGs and the generic `sans-serif` family in SVGs.
//!
//! # Example
//! ```
//! use protolearn_plot::{scatter, Layout, ScatterPanel};
//! let spiral: Vec<[f64; 2]> = (0..200)
//!     .map(|i| { let t = i as f64 / 20.0; [t * t.cos(), t * t.sin()] })
//!     .collect();
//! let labels: Vec<usize> = (0..200).map(|i| i % 2).collect();
//! let panels = [
//!     ScatterPanel::new(&spiral).title("spiral"),
//!     ScatterPanel::new(&spiral).labels(&labels).title("spiral, labelled"),
//! ];
//! let stem = std::env::temp_dir().join("protolearn-plot-doc-lib").join("spirals");
//! let files = scatter(&stem, &Layout::new().title("Datasets").columns(2).panel_size(360, 320), &panels)?;
//! assert!(files.png.exists() && files.svg.exists());
//! # Ok::<(), protolearn_plot::Error>(())
//! ```

mod axes;
mod cell_shape;
mod curves;
mod error;
mod font;
mod grid_shape;
mod image_grid;
mod layout;
mod map;
mod map_key;
mod palette;
mod scatter;
mod som_figures;
mod umatrix;
mod validate;

pub use cell_shape::CellShape;
pub use curves::{curves, Curve, CurvePanel, LegendPosition, Series};
pub use error::{Error, Result};
pub use grid_shape::GridShape;
pub use image_grid::{image_grid, ImagePanel, Intensity};
pub use layout::{FigureFiles, Layout};
pub use palette::{category_color, CATEGORY_COUNT};
pub use scatter::{scatter, Prototypes, ScatterPanel};
pub use som_figures::{class_map, component_planes, hit_map, COMPONENT_PLANES_PER_PAGE};
pub use umatrix::{umatrix, umatrix_values, umatrix_values_on, UMatrixPanel};
