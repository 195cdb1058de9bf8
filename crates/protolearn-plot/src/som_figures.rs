//! The classic figures of a self-organizing map, all drawn through the one map heat map: the
//! hit map, the component planes and the class map, on square or hexagonal cells.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::cell_shape::CellShape;
use crate::error::{Error, Result};
use crate::grid_shape::GridShape;
use crate::layout::{self, FigureFiles, Layout};
use crate::map::{Cells, MapPanel};
use crate::palette::Ramp;
use crate::validate;

/// Most component planes on one page of [`component_planes`].
pub const COMPONENT_PLANES_PER_PAGE: usize = 16;

/// Writes `<stem>.png` and `<stem>.svg`: the hit map, i.e. the number of samples per unit
/// (`counts`, map order) on a viridis ramp from the fewest (dark) to the most (yellow) hits,
/// with each count printed in its cell when the cells are large enough for the text.
///
/// The figure title, if any, comes from `layout`.
///
/// # Errors
/// [`Error::Empty`] for an empty map, [`Error::Shape`] unless `counts.len() == map.cells()`,
/// [`Error::Invalid`] for an invalid layout; nothing is written then.
///
/// # Example
/// ```
/// use protolearn_plot::{hit_map, CellShape, GridShape, Layout};
/// let counts = [3, 0, 12, 5, 7, 1];
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-hit-map");
/// let files = hit_map(&stem, &Layout::new().title("Hits"), GridShape::new(2, 3), CellShape::Hexagon, &counts)?;
/// assert!(files.png.exists() && files.svg.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn hit_map(stem: impl AsRef<Path>, layout: &Layout, map: GridShape, shape: CellShape, counts: &[usize]) -> Result<FigureFiles> {
    let values = counts.iter().map(|&n| n as f64).collect();
    let panel = MapPanel::new(map, shape, Cells::Values { what: "hit counts", values, ramp: Ramp::Viridis })
        .text(counts.iter().map(usize::to_string).collect());
    render_one(stem.as_ref(), layout, panel)
}

/// Writes one heat map per input feature `k`: prototype component `k` over the map (viridis,
/// from the feature's minimum to its maximum over the units), titled `names[k]`.
///
/// `prototypes` is laid out as for [`crate::umatrix_values`]: `map.cells()` vectors of length
/// `dim`, unit `u` at `u * dim`. The planes are arranged by `layout` (its columns, panel size and
/// title), at most [`COMPONENT_PLANES_PER_PAGE`] per page: one page is written as
/// `<stem>.png`/`.svg`, several as `<stem>-1`, `<stem>-2`, ... Returns the files of every page in order.
///
/// # Errors
/// [`Error::Empty`] for an empty map or `dim == 0`, [`Error::Shape`] unless
/// `prototypes.len() == map.cells() * dim` and `names.len() == dim`, [`Error::NonFinite`] for
/// NaN or infinite components, [`Error::Invalid`] for an invalid layout; all input is checked
/// before the first page is written.
///
/// # Example
/// ```
/// use protolearn_plot::{component_planes, CellShape, GridShape, Layout};
/// // 2x3 map of 2-D prototypes: feature "x" grows to the right, "y" downwards.
/// let prototypes = [0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0, 1.0, 1.0, 1.0, 2.0, 1.0];
/// let names = ["x".to_owned(), "y".to_owned()];
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-planes");
/// let layout = Layout::new().columns(2).panel_size(320, 260);
/// let pages = component_planes(&stem, &layout, GridShape::new(2, 3), CellShape::Square, &prototypes, 2, &names)?;
/// assert_eq!(pages.len(), 1);
/// assert!(pages[0].png.ends_with("protolearn-plot-doc-planes.png"));
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn component_planes(
    stem: impl AsRef<Path>,
    layout: &Layout,
    map: GridShape,
    shape: CellShape,
    prototypes: &[f64],
    dim: usize,
    names: &[String],
) -> Result<Vec<FigureFiles>> {
    validate::prototypes(prototypes, map, dim)?;
    validate::length("feature names", dim, "one per prototype component", names.len())?;
    let planes: Vec<MapPanel<'_>> = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let values = prototypes.iter().skip(k).step_by(dim).copied().collect();
            MapPanel::new(map, shape, Cells::Values { what: "prototype components", values, ramp: Ramp::Viridis }).title(name.as_str())
        })
        .collect();
    let pages = planes.len().div_ceil(COMPONENT_PLANES_PER_PAGE);
    planes
        .chunks(COMPONENT_PLANES_PER_PAGE)
        .enumerate()
        .map(|(page, panels)| layout::render(&page_stem(stem.as_ref(), page + 1, pages), layout, panels))
        .collect()
}

/// Writes `<stem>.png` and `<stem>.svg`: the class map. Each unit is filled with the colour of
/// its majority class ([`crate::category_color`] of `majority[unit]`), faded towards white as
/// its purity (the fraction of its samples with the majority label, in `[0, 1]`) drops; units
/// without samples (`None`) are light grey. A legend names the classes (`class_names[c]` for class `c`).
///
/// The purity of an empty unit is ignored (it may be NaN, as 0 / 0). The figure title, if any,
/// comes from `layout`.
///
/// # Errors
/// [`Error::Empty`] for an empty map or no class names, [`Error::Shape`] unless `majority` and
/// `purity` hold one entry per unit, [`Error::IndexOutOfRange`] for a class without a name,
/// [`Error::NonFinite`] or [`Error::Invalid`] for a purity outside `[0, 1]`; nothing is written then.
///
/// # Example
/// ```
/// use protolearn_plot::{class_map, CellShape, GridShape, Layout};
/// let majority = [Some(0), Some(0), None, Some(1), Some(1), Some(2)];
/// let purity = [1.0, 0.6, f64::NAN, 0.9, 0.5, 1.0];
/// let names = ["cat".to_owned(), "dog".to_owned(), "bird".to_owned()];
/// let stem = std::env::temp_dir().join("protolearn-plot-doc-class-map");
/// let files = class_map(&stem, &Layout::new(), GridShape::new(2, 3), CellShape::Hexagon, &majority, &purity, &names)?;
/// assert!(files.svg.exists());
/// # Ok::<(), protolearn_plot::Error>(())
/// ```
pub fn class_map(
    stem: impl AsRef<Path>,
    layout: &Layout,
    map: GridShape,
    shape: CellShape,
    majority: &[Option<usize>],
    purity: &[f64],
    class_names: &[String],
) -> Result<FigureFiles> {
    let panel = MapPanel::new(map, shape, Cells::Categories { categories: majority, strength: purity, names: class_names });
    render_one(stem.as_ref(), layout, panel)
}

/// Renders a one-panel figure; a panel error is returned as it is, without [`Error::Panel`] around it.
fn render_one(stem: &Path, layout: &Layout, panel: MapPanel<'_>) -> Result<FigureFiles> {
    layout::render(stem, layout, &[panel]).map_err(|err| match err {
        Error::Panel { source, .. } => *source,
        other => other,
    })
}

/// `stem` itself when there is one page, else `stem` with `-<page>` appended (pages count from 1).
fn page_stem(stem: &Path, page: usize, pages: usize) -> PathBuf {
    if pages == 1 {
        return stem.to_path_buf();
    }
    let mut name = OsString::from(stem.as_os_str());
    name.push(format!("-{page}"));
    PathBuf::from(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_numbered_only_when_there_are_several() {
        assert_eq!(page_stem(Path::new("out/planes"), 1, 1), PathBuf::from("out/planes"));
        assert_eq!(page_stem(Path::new("out/planes.v2"), 2, 3), PathBuf::from("out/planes.v2-2"));
    }
}
