//! The paper's values (Tables 7-12 of paper 002), the report tables with ours beside them, the
//! targets, and the figures (decoded prototype maps, U-matrix, DESOM learning curves).

use super::evaluate::View;

/// What is kept of one map model of the first seed for the figures.
#[derive(Debug)]
pub struct KeptView {
    /// Dataset id.
    pub dataset: String,
    /// Model id.
    pub model: &'static str,
    /// Model display label.
    pub label: String,
    /// Prototypes, BMUs and grid.
    pub view: View,
}
use crate::experiments::results::Results;
use crate::report::Table;
use anyhow::Result;
use protolearn_metrics::ImageShape;
use protolearn_plot::{curves, image_grid, umatrix, Curve, CurvePanel, GridShape, ImagePanel, Intensity, Layout, UMatrixPanel};
use protolearn_train::desom::{DesomRecord, Phase};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Paper 002's values: (model id, metric, [MNIST, Fashion-MNIST]), mean ± std over 10 runs on
/// the test set. Table 7: `purity`, `nmi`; Table 8: `qe`..`tp` (original space); Table 9:
/// `*_latent`; Table 10: `psr`; Table 11: `km10_*` (+KM), `hc_*` (+HC), `k10_*` (k-means with
/// k = #classes), the 1-D map's `purity` / `nmi` / `acc`; Table 12: `seconds`
/// (MNIST only, RTX 2080).
const PAPER: &[(&str, &str, [&str; 2])] = &[
    ("kmeans", "purity", [".845 ± .011", ".718 ± .006"]),
    ("kmeans", "nmi", [".581 ± .006", ".514 ± .002"]),
    ("ae-kmeans", "purity", [".946 ± .004", ".764 ± .005"]),
    ("ae-kmeans", "nmi", [".672 ± .005", ".548 ± .003"]),
    ("desom-ae-kmeans", "purity", [".932 ± .005", ".754 ± .008"]),
    ("desom-ae-kmeans", "nmi", [".656 ± .006", ".542 ± .003"]),
    ("desom-ae-som", "purity", [".933 ± .005", ".756 ± .007"]),
    ("desom-ae-som", "nmi", [".655 ± .005", ".543 ± .003"]),
    ("som", "purity", [".832 ± .010", ".712 ± .002"]),
    ("som", "nmi", [".576 ± .005", ".513 ± .002"]),
    ("ae-som", "purity", [".935 ± .005", ".758 ± .007"]),
    ("ae-som", "nmi", [".666 ± .005", ".542 ± .005"]),
    ("desom", "purity", [".934 ± .004", ".751 ± .009"]),
    ("desom", "nmi", [".658 ± .004", ".541 ± .004"]),
    ("som", "qe", ["5.345 ± 0.004", "4.537 ± 0.008"]),
    ("som", "te", ["0.518 ± 0.037", "0.477 ± 0.037"]),
    ("som", "ce", ["15.78 ± 0.662", "12.40 ± 0.654"]),
    ("som", "tp", ["-0.073 ± 0.004", "-0.026 ± 0.007"]),
    ("desom", "qe", ["5.848 ± 0.016", "4.755 ± 0.007"]),
    ("desom", "te", ["0.597 ± 0.033", "0.536 ± 0.035"]),
    ("desom", "ce", ["21.74 ± 0.643", "15.22 ± 0.941"]),
    ("desom", "tp", ["-0.104 ± 0.004", "-0.046 ± 0.005"]),
    ("ae-som", "qe_latent", ["1.231 ± 0.029", "0.960 ± 0.026"]),
    ("ae-som", "te_latent", ["0.510 ± 0.047", "0.532 ± 0.022"]),
    ("ae-som", "ce_latent", ["4.429 ± 0.287", "3.973 ± 0.250"]),
    ("ae-som", "tp_latent", ["-0.066 ± 0.002", "-0.059 ± 0.007"]),
    ("desom-ae-som", "qe_latent", ["0.205 ± 0.008", "0.166 ± 0.003"]),
    ("desom-ae-som", "te_latent", ["0.514 ± 0.031", "0.572 ± 0.037"]),
    ("desom-ae-som", "ce_latent", ["0.713 ± 0.017", "0.664 ± 0.041"]),
    ("desom-ae-som", "tp_latent", ["-0.055 ± 0.003", "-0.044 ± 0.003"]),
    ("desom", "qe_latent", ["0.205 ± 0.008", "0.167 ± 0.003"]),
    ("desom", "te_latent", ["0.534 ± 0.026", "0.556 ± 0.035"]),
    ("desom", "ce_latent", ["0.727 ± 0.058", "0.661 ± 0.036"]),
    ("desom", "tp_latent", ["-0.057 ± 0.005", "-0.045 ± 0.005"]),
    ("som", "psr", ["0.720 ± 0.005", "0.703 ± 0.005"]),
    ("ae-som", "psr", ["1.083 ± 0.012", "0.834 ± 0.011"]),
    ("desom-ae-som", "psr", ["1.034 ± 0.011", "0.825 ± 0.010"]),
    ("desom", "psr", ["1.030 ± 0.005", "0.832 ± 0.013"]),
    ("conv-desom", "psr", ["1.045 ± 0.027", "0.829 ± 0.009"]),
    ("som", "km10_purity", [".559 ± .053", ".538 ± .023"]),
    ("som", "km10_nmi", [".485 ± .041", ".499 ± .024"]),
    ("som", "km10_acc", [".510 ± .071", ".498 ± .035"]),
    ("som", "hc_purity", [".641 ± .030", ".550 ± .032"]),
    ("som", "hc_nmi", [".612 ± .027", ".536 ± .022"]),
    ("som", "hc_acc", [".598 ± .035", ".491 ± .041"]),
    ("ae-som", "km10_purity", [".773 ± .051", ".485 ± .041"]),
    ("ae-som", "km10_nmi", [".728 ± .032", ".461 ± .032"]),
    ("ae-som", "km10_acc", [".728 ± .073", ".439 ± .048"]),
    ("ae-som", "hc_purity", [".822 ± .024", ".528 ± .029"]),
    ("ae-som", "hc_nmi", [".788 ± .030", ".550 ± .026"]),
    ("ae-som", "hc_acc", [".791 ± .026", ".480 ± .032"]),
    ("desom-ae-som", "km10_purity", [".743 ± .049", ".588 ± .024"]),
    ("desom-ae-som", "km10_nmi", [".690 ± .033", ".583 ± .012"]),
    ("desom-ae-som", "km10_acc", [".720 ± .057", ".535 ± .033"]),
    ("desom-ae-som", "hc_purity", [".747 ± .041", ".598 ± .042"]),
    ("desom-ae-som", "hc_nmi", [".681 ± .036", ".586 ± .036"]),
    ("desom-ae-som", "hc_acc", [".721 ± .056", ".553 ± .047"]),
    ("kmeans", "k10_purity", [".591 ± .026", ".583 ± .018"]),
    ("kmeans", "k10_nmi", [".501 ± .020", ".513 ± .012"]),
    ("kmeans", "k10_acc", [".533 ± .038", ".549 ± .040"]),
    ("ae-kmeans", "k10_purity", [".820 ± .019", ".544 ± .010"]),
    ("ae-kmeans", "k10_nmi", [".754 ± .013", ".524 ± .012"]),
    ("ae-kmeans", "k10_acc", [".801 ± .027", ".489 ± .017"]),
    ("desom-ae-kmeans", "k10_purity", [".770 ± .025", ".625 ± .014"]),
    ("desom-ae-kmeans", "k10_nmi", [".701 ± .018", ".590 ± .009"]),
    ("desom-ae-kmeans", "k10_acc", [".744 ± .045", ".586 ± .014"]),
    ("desom-line", "purity", [".790 ± .017", ".563 ± .019"]),
    ("desom-line", "nmi", [".720 ± .020", ".553 ± .011"]),
    ("desom-line", "acc", [".779 ± .033", ".546 ± .025"]),
    ("desom", "km10_purity", [".751 ± .048", ".587 ± .044"]),
    ("desom", "km10_nmi", [".696 ± .036", ".582 ± .025"]),
    ("desom", "km10_acc", [".717 ± .065", ".536 ± .053"]),
    ("desom", "hc_purity", [".824 ± .024", ".613 ± .035"]),
    ("desom", "hc_nmi", [".793 ± .025", ".604 ± .019"]),
    ("desom", "hc_acc", [".810 ± .032", ".571 ± .036"]),
    ("ae-pretraining", "seconds", ["120 (100 epochs)", "-"]),
    ("som", "seconds", ["120 (10000 it.)", "-"]),
    ("ae-som", "seconds", ["240 (10000 it.)", "-"]),
    ("desom", "seconds", ["240 (10000 it.)", "-"]),
];

/// The paper's value of `metric` for `model` on dataset `d` (0 MNIST, 1 Fashion), or `-`.
fn paper(model: &str, metric: &str, d: Option<usize>) -> String {
    let Some(d) = d else { return "-".to_owned() };
    PAPER.iter().find(|(m, k, _)| *m == model && *k == metric).map_or("-".to_owned(), |(_, _, v)| v[d].to_owned())
}

/// Whether the paper reports `metric` for any model (else the table has no paper column for it).
fn in_paper(metric: &str) -> bool {
    PAPER.iter().any(|(_, k, _)| *k == metric)
}

/// One table: a row per model id and dataset that has the metrics (shown by `label`), columns
/// "ours" and, for the metrics the paper reports, "paper" per metric.
pub fn table(results: &Results, models: &[&str], metrics: &[(&str, &str)], digits: usize, label: &dyn Fn(&str) -> String) -> Table {
    let mut header = vec!["dataset".to_owned(), "model".to_owned()];
    for (key, name) in metrics {
        header.push(format!("{name} (ours)"));
        if in_paper(key) {
            header.push(format!("{name} (paper)"));
        }
    }
    let mut t = Table::new(header);
    for dataset in results.datasets() {
        for model in models {
            let cells: Vec<Option<String>> = metrics.iter().map(|(k, _)| results.mean_std(dataset, model, k, digits)).collect();
            if cells.iter().all(Option::is_none) {
                continue;
            }
            let mut row = vec![dataset_label(dataset), label(model)];
            for ((k, _), cell) in metrics.iter().zip(cells) {
                row.push(cell.unwrap_or_else(|| "-".into()));
                if in_paper(k) {
                    row.push(paper(model, k, paper_index(dataset)));
                }
            }
            t.row(row);
        }
    }
    t
}

/// Column of [`PAPER`] for a dataset id (`None`: not in the paper).
fn paper_index(dataset: &str) -> Option<usize> {
    match dataset {
        "mnist" => Some(0),
        "fashion-mnist" => Some(1),
        _ => None,
    }
}

/// The display name of a dataset id.
pub(crate) fn dataset_label(dataset: &str) -> String {
    match dataset {
        "mnist" => "MNIST".into(),
        "fashion-mnist" => "Fashion-MNIST".into(),
        other => other.into(),
    }
}

/// The paper's targets (Sec. 5.2 and 5.4) against our means.
pub fn targets(results: &Results) -> String {
    let checks = [
        ("mnist", "purity", 0.92),
        ("mnist", "nmi", 0.64),
        ("fashion-mnist", "purity", 0.74),
        ("fashion-mnist", "nmi", 0.53),
        ("mnist", "hc_acc", 0.78),
    ];
    let mut out = String::new();
    for (dataset, metric, target) in checks {
        let value = results.mean(dataset, "desom", metric);
        let verdict = match value {
            Some(v) if v >= target => format!("{v:.3} — reached"),
            Some(v) => format!("{v:.3} — not reached"),
            None => "not run".into(),
        };
        let _ = writeln!(out, "- DESOM 8x8 on {}, {metric} >= {target}: {verdict}", dataset_label(dataset));
    }
    out
}

/// Decoded prototype maps (Figs. 15-17): one panel per dataset and map model with images whose
/// map has `grid` (rows, columns) units, written to `<dir>/<name>.png` / `.svg`.
pub fn prototype_maps(dir: &Path, name: &str, grid: (usize, usize), image: ImageShape, views: &[KeptView]) -> Result<Option<PathBuf>> {
    let owned: Vec<(String, Vec<f64>)> = views
        .iter()
        .filter(|k| k.view.grid == grid)
        .filter_map(|k| {
            let pixels = k.view.pixel_prototypes.as_ref()?;
            Some((format!("{}, {}", k.label, dataset_label(&k.dataset)), pixels.iter().map(|&p| f64::from(p)).collect()))
        })
        .collect();
    if owned.is_empty() {
        return Ok(None);
    }
    let shape = GridShape::new(grid.0, grid.1);
    let panels: Vec<ImagePanel> = owned
        .iter()
        .map(|(title, pixels)| {
            ImagePanel::new(pixels, shape, GridShape::new(image.height, image.width))
                .intensity(Intensity::Fixed { low: 0.0, high: 1.0 })
                .title(title.clone())
        })
        .collect();
    let side = (52 * grid.0.max(grid.1)).clamp(420, 1200) as u32;
    let columns = panels.len().div_ceil(2).max(1);
    let title = format!("{}x{} maps: prototypes (SOM) and decoded prototypes", grid.0, grid.1);
    let files = image_grid(dir.join(name), &Layout::new().title(title).columns(columns).panel_size(side, side + 20), &panels)?;
    Ok(Some(files.png))
}

/// U-matrix of DESOM's latent prototypes with the majority test label and hit count per unit
/// (`None` without a DESOM run). Labels are class indices `0..classes`; others are not counted.
pub fn desom_umatrix(dir: &Path, views: &[KeptView], labels: &BTreeMap<String, Vec<i64>>, classes: usize) -> Result<Option<PathBuf>> {
    let mut owned = Vec::new();
    for k in views.iter().filter(|k| k.model == "desom") {
        let v = &k.view;
        let y = labels.get(&k.dataset).map_or(&[][..], Vec::as_slice);
        let units = v.prototypes.len() / v.dim;
        let mut counts = vec![vec![0usize; classes]; units];
        for (&b, &l) in v.bmus.iter().zip(y) {
            if let Some(c) = usize::try_from(l).ok().filter(|&c| c < classes) {
                counts[b][c] += 1;
            }
        }
        let majority: Vec<usize> = counts.iter().map(|c| (0..classes).max_by_key(|&i| c[i]).unwrap_or_default()).collect();
        let hits: Vec<usize> = counts.iter().map(|c| c.iter().sum()).collect();
        let protos: Vec<f64> = v.prototypes.iter().map(|&p| f64::from(p)).collect();
        owned.push((dataset_label(&k.dataset), protos, v.dim, majority, hits, v.grid));
    }
    if owned.is_empty() {
        return Ok(None);
    }
    let panels: Vec<UMatrixPanel> = owned
        .iter()
        .map(|(d, p, dim, maj, hits, (rows, cols))| {
            UMatrixPanel::new(p, GridShape::new(*rows, *cols), *dim).hits(maj, hits).title(d.to_string())
        })
        .collect();
    let files = umatrix(
        dir.join("desom_umatrix"),
        &Layout::new().title("DESOM latent U-matrix, test hits by majority class").columns(panels.len().max(1)).panel_size(460, 420),
        &panels,
    )?;
    Ok(Some(files.png))
}

/// DESOM learning curves (Fig. 6): `L_R`, `L_SOM`, test purity, NMI, latent QE and TE against
/// the iteration,
/// one series per dataset (first seed); `None` without DESOM runs.
pub fn learning_curves(dir: &Path, histories: &[(String, Vec<DesomRecord>)]) -> Result<Option<PathBuf>> {
    if histories.is_empty() {
        return Ok(None);
    }
    type Pick = fn(&DesomRecord) -> Option<f64>;
    let metrics: [(&str, Pick); 6] = [
        ("reconstruction loss L_R", |r| Some(r.reconstruction)),
        ("SOM loss L_SOM", |r| r.som),
        ("test purity", |r| r.purity),
        ("test NMI", |r| r.nmi),
        ("test latent QE", |r| r.quantization_error),
        ("test latent TE", |r| r.topographic_error),
    ];
    let data: Vec<Vec<Curve>> = metrics
        .iter()
        .map(|(_, pick)| {
            histories
                .iter()
                .map(|(name, h)| {
                    let (x, y) = h.iter().filter(|t| t.phase == Phase::Joint).filter_map(|t| Some((t.iteration as f64, pick(t)?))).unzip();
                    (name.clone(), x, y)
                })
                .collect()
        })
        .collect();
    let panels: Vec<CurvePanel> = metrics
        .iter()
        .zip(&data)
        .map(|((name, _), series)| CurvePanel::of_curves(series).title(*name).axis_labels("iteration", *name))
        .collect();
    let files = curves(
        dir.join("desom_learning_curves"),
        &Layout::new().title("DESOM learning curves (Fig. 6 analogue)").columns(3).panel_size(440, 300),
        &panels,
    )?;
    Ok(Some(files.png))
}
