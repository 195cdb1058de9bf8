//! The figures of a fitted model on a data set, PNG + SVG: for a map the U-matrix (with class
//! markers when labelled), the hit map, the component planes (or the prototypes as images for
//! image inputs) and the class map; for a competitive layer or a classifier head the data and
//! its prototypes on the first two features. Hexagonal maps are drawn with hexagons.

use crate::error::Result;
use crate::fitted::{Array, Fitted};
use crate::scores::UnitSummary;
use protolearn_data::Data;
use protolearn_metrics::{Grid, Lattice};
use protolearn_plot::{
    class_map, component_planes, hit_map, image_grid, scatter, umatrix, umatrix_values_on, CellShape, FigureFiles, GridShape, ImagePanel,
    Intensity, Layout, Prototypes, ScatterPanel, UMatrixPanel,
};
use std::path::Path;

/// Pixel side of one map panel.
const PANEL_PX: u32 = 480;
/// Columns of the component-plane pages.
const PLANE_COLUMNS: usize = 4;
/// Pixel side of one component plane.
const PLANE_PX: u32 = 300;
/// Most features drawn as component planes (4 pages); `input_space_prototypes` has them all.
const MAX_PLANES: usize = 64;

impl Fitted {
    /// Draws the model's figures for `data` into `dir` (created if missing) and returns their
    /// files: `umatrix`, `hit_map`, `component_planes` (paged: `component_planes-1`, ...; the
    /// first 64 features) or, for
    /// image samples, `prototypes`, and `class_map` when `data` has labels; for a competitive
    /// layer, `prototypes` (the first two features). Each file is complete or absent.
    pub fn figures(&self, data: &Data, dir: &Path) -> Result<Vec<FigureFiles>> {
        let units = self.unit_summary(data)?;
        match self.grid() {
            Some(grid) => self.map_figures(&grid, &units, dir),
            None => self.prototype_scatter(data, dir).map(|f| vec![f]),
        }
    }

    /// The figures a map's fit can draw from its training summary alone, without the data
    /// (a fit that read its rows in chunks, [`crate::Estimator::fit_rows`]): `umatrix` with the
    /// training hits, `hit_map`, and `component_planes` or `prototypes` as [`Fitted::figures`]
    /// draws them; no figures for a model without a grid (its scatter plots the samples).
    pub fn training_figures(&self, dir: &Path) -> Result<Vec<FigureFiles>> {
        match self.grid() {
            Some(grid) => self.map_figures(&grid, &self.summary.units, dir),
            None => Ok(Vec::new()),
        }
    }

    /// The U-matrix `[rows, cols]` of a map: for each unit, the mean Euclidean distance from its
    /// prototype to those of its grid neighbours (4 on rectangular, 6 on hexagonal lattices; fewer
    /// on the borders), in the prototypes' space; `None` for models without a grid. The values
    /// drawn by [`Fitted::figures`]' `umatrix`.
    ///
    /// ```
    /// use protolearn::prelude::*;
    /// let rows: Vec<f32> = (0..100).flat_map(|i| [(i % 2) as f32 * 5.0, (i as f32 * 0.3).sin()]).collect();
    /// let som = Estimator::som(3, 4)?.fit(&Data::new("two-blobs", rows, vec![100, 2], None)?)?;
    /// let u = som.umatrix()?.expect("a SOM has a grid");
    /// assert_eq!(u.shape, vec![3, 4]);
    /// assert!(u.values.iter().all(|&v| v >= 0.0));
    /// # Ok::<(), protolearn::Error>(())
    /// ```
    pub fn umatrix(&self) -> Result<Option<Array>> {
        let Some(grid) = self.grid() else { return Ok(None) };
        let prototypes = self.prototypes()?;
        let values =
            umatrix_values_on(&prototypes.to_f64(), GridShape::new(grid.rows(), grid.cols()), cell_shape(&grid), prototypes.shape[1])?;
        Ok(Some(Array { values: values.into_iter().map(|v| v as f32).collect(), shape: vec![grid.rows(), grid.cols()] }))
    }

    /// The map figures of a SOM or DESOM.
    fn map_figures(&self, grid: &Grid, units: &UnitSummary, dir: &Path) -> Result<Vec<FigureFiles>> {
        let map = GridShape::new(grid.rows(), grid.cols());
        let shape = cell_shape(grid);
        let layout = |title: &str| Layout::new().title(title).panel_size(PANEL_PX, PANEL_PX);
        let space = if matches!(self.config.model.kind(), "desom" | "two-stage") { "latent space" } else { "scaled input space" };
        let mut files = Vec::new();

        let prototypes = self.prototypes()?;
        let dim = prototypes.shape[1];
        let majority: Vec<Option<usize>> = units.majority.iter().map(|m| m.and_then(|l| usize::try_from(l).ok())).collect();
        let marker_labels: Vec<usize> = majority.iter().map(|m| m.unwrap_or(0)).collect();
        let values = prototypes.to_f64();
        let mut panel = UMatrixPanel::new(&values, map, dim).cell_shape(shape);
        if self.input.labelled {
            panel = panel.hits(&marker_labels, &units.hits);
            if let Some(classes) = &self.input.classes {
                panel = panel.class_names(classes);
            }
        }
        files.push(umatrix(dir.join("umatrix"), &layout(&format!("U-matrix ({space})")), &[panel])?);
        files.push(hit_map(dir.join("hit_map"), &layout("Hits per unit"), map, shape, &units.hits)?);

        let input_prototypes = self.input_space_prototypes()?;
        let pixels = input_prototypes.to_f64();
        match self.input.sample_shape.as_slice() {
            [d] => {
                // The first MAX_PLANES features: beyond them pages of planes stop being read.
                let shown = (*d).min(MAX_PLANES);
                let first: Vec<f64> = pixels.chunks(*d).flat_map(|p| p[..shown].iter().copied()).collect();
                let title = if shown < *d {
                    format!("Component planes (input units; first {shown} of {d} features)")
                } else {
                    "Component planes (input units)".into()
                };
                let planes = Layout::new().title(title).columns(PLANE_COLUMNS.min(shown)).panel_size(PLANE_PX, PLANE_PX);
                let names = &self.input.feature_names[..shown];
                files.extend(component_planes(dir.join("component_planes"), &planes, map, shape, &first, shown, names)?);
            }
            image => {
                let (h, w) = (image[image.len() - 2], image[image.len() - 1]);
                let channels: usize = image[..image.len() - 2].iter().product();
                // Multi-channel images: the first channel of each prototype.
                let first: Vec<f64> = pixels.chunks(channels * h * w).flat_map(|p| p[..h * w].iter().copied()).collect();
                // Grey levels from the smallest to the largest value over all prototypes.
                let panel =
                    ImagePanel::new(&first, map, GridShape::new(h, w)).intensity(Intensity::Global).title("Prototypes (input units)");
                files.push(image_grid(dir.join("prototypes"), &Layout::new().panel_size(PANEL_PX + 160, PANEL_PX + 160), &[panel])?);
            }
        }

        if self.input.labelled {
            let n_classes = self.input.classes.as_ref().map_or_else(|| marker_labels.iter().max().map_or(1, |m| m + 1), Vec::len);
            let names: Vec<String> = (0..n_classes as i64).map(|c| self.input.class_name(c)).collect();
            files.push(class_map(dir.join("class_map"), &layout("Majority class per unit"), map, shape, &majority, &units.purity, &names)?);
        }
        Ok(files)
    }

    /// The data and the prototypes on the first two features (input units), coloured by label.
    fn prototype_scatter(&self, data: &Data, dir: &Path) -> Result<FigureFiles> {
        let d = self.input.n_features();
        let pair = |row: &[f32]| [f64::from(row[0]), row.get(1).map_or(0.0, |&v| f64::from(v))];
        // Rows missing either of the two features have no place in the plane.
        let shown: Vec<bool> = data.rows().map(|row| pair(row).iter().all(|v| !v.is_nan())).collect();
        let points: Vec<[f64; 2]> = data.rows().map(pair).zip(&shown).filter(|(_, &s)| s).map(|(p, _)| p).collect();
        // Prototypes in a learned projection (LVQ projection heads) have no place in this plane.
        let positions: Vec<[f64; 2]> = match self.input_space_prototypes() {
            Ok(prototypes) => prototypes.values.chunks(d).map(pair).collect(),
            Err(_) => Vec::new(),
        };
        let labels: Vec<usize> =
            data.labels.iter().flatten().zip(&shown).filter(|(_, &s)| s).map(|(&l, _)| usize::try_from(l).unwrap_or(0)).collect();
        let names = &self.input.feature_names;
        let mut panel = ScatterPanel::new(&points)
            .prototypes(Prototypes::new(&positions))
            .axis_labels(names[0].clone(), names.get(1).cloned().unwrap_or_default())
            .title(format!("{} prototypes", self.n_units()));
        if !labels.is_empty() {
            panel = panel.labels(&labels);
        }
        Ok(scatter(dir.join("prototypes"), &Layout::new().panel_size(PANEL_PX + 160, PANEL_PX), &[panel])?)
    }
}

/// How a map's units are drawn: squares for a rectangular lattice, hexagons for a hexagonal one.
fn cell_shape(grid: &Grid) -> CellShape {
    match grid.lattice() {
        Lattice::Rectangular => CellShape::Square,
        Lattice::Hexagonal => CellShape::Hexagon,
    }
}
