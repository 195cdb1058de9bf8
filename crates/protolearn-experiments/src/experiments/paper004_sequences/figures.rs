//! Figures of one sequence set (first seed): each map's prototypes as small line plots per unit
//! (decoded prototypes for the deep models) and the U-matrices of every map with test hits.

use super::data::SequenceSplit;
use super::models::{Fitted, Model};
use anyhow::Result;
use protolearn_metrics::Grid;
use protolearn_plot::{curves, umatrix, CurvePanel, GridShape, Layout, LegendPosition, Series, UMatrixPanel};
use std::path::{Path, PathBuf};

/// Dimensions drawn per unit (the first ones; JapaneseVowels has 12).
const DRAWN_DIMS: usize = 3;

/// A fitted map of the first seed with its test BMUs.
pub type Kept = (Model, Fitted, Vec<usize>);

/// Per unit, the majority test class (0 without hits) and the hit count.
pub fn majority_hits(bmus: &[usize], labels: &[i64], units: usize, classes: usize) -> (Vec<usize>, Vec<usize>) {
    let mut counts = vec![vec![0usize; classes]; units];
    for (&b, &l) in bmus.iter().zip(labels) {
        if let (Some(unit), Some(c)) = (counts.get_mut(b), usize::try_from(l).ok().filter(|&c| c < classes)) {
            unit[c] += 1;
        }
    }
    let majority = counts.iter().map(|c| (0..classes).max_by_key(|&i| (c[i], std::cmp::Reverse(i))).unwrap_or_default()).collect();
    let hits = counts.iter().map(|c| c.iter().sum()).collect();
    (majority, hits)
}

/// Draws the prototype line plots of every kept map and one U-matrix figure; returns the PNGs.
pub fn draw(dir: &Path, dataset: &str, split: &SequenceSplit, grid: &Grid, kept: &[Kept], labels: &[i64]) -> Result<Vec<PathBuf>> {
    let (rows, cols) = (grid.rows(), grid.cols());
    let classes = split.classes.len();
    let mut pngs = Vec::new();
    let mut maps = Vec::new();
    for (model, fitted, bmus) in kept {
        let (majority, hits) = majority_hits(bmus, labels, grid.n_units(), classes);
        let size = fitted.sequences.size(); // [K, T, D]
        let (steps, dims) = (size[1] as usize, size[2] as usize);
        let values: Vec<f64> = super::host(&fitted.sequences)?.into_iter().map(f64::from).collect();
        let x: Vec<f64> = (0..steps).map(|t| t as f64).collect();
        let lines: Vec<Vec<Vec<f64>>> = (0..grid.n_units())
            .map(|k| (0..dims.min(DRAWN_DIMS)).map(|d| (0..steps).map(|t| values[(k * steps + t) * dims + d]).collect()).collect())
            .collect();
        let panels: Vec<CurvePanel> = lines
            .iter()
            .enumerate()
            .map(|(k, unit)| {
                let series = unit.iter().enumerate().map(|(d, y)| Series::new(format!("dim {d}"), &x, y)).collect();
                let title = if hits[k] > 0 { format!("{} ({})", split.classes[majority[k]], hits[k]) } else { "no hits".to_owned() };
                CurvePanel::new(series).title(title).legend(LegendPosition::Hidden)
            })
            .collect();
        let layout = Layout::new().title(format!("{dataset}: {} prototypes", model.label())).columns(cols).panel_size(220, 150);
        pngs.push(curves(dir.join(format!("{dataset}_{}_prototypes", model.id())), &layout, &panels)?.png);
        let dim = fitted.prototypes.size()[1] as usize;
        let prototypes: Vec<f64> = super::host(&fitted.prototypes)?.into_iter().map(f64::from).collect();
        maps.push((model.label(), prototypes, dim, majority, hits));
    }
    let panels: Vec<UMatrixPanel> = maps
        .iter()
        .map(|(label, p, dim, majority, hits)| {
            UMatrixPanel::new(p, GridShape::new(rows, cols), *dim).hits(majority, hits).class_names(&split.classes).title(*label)
        })
        .collect();
    if !panels.is_empty() {
        let layout =
            Layout::new().title(format!("{dataset}: U-matrices, test hits by class")).columns(panels.len().min(3)).panel_size(360, 330);
        pngs.push(umatrix(dir.join(format!("{dataset}_umatrix")), &layout, &panels)?.png);
    }
    Ok(pngs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_and_hits_per_unit() {
        // unit 0: classes 1, 1, 0; unit 2: class 2; unit 1: no hits; a tie goes to the lower class
        let (majority, hits) = majority_hits(&[0, 0, 0, 2, 3, 3], &[1, 1, 0, 2, 0, 1], 4, 3);
        assert_eq!(majority, vec![1, 0, 2, 0]);
        assert_eq!(hits, vec![3, 0, 1, 2]);
    }
}
