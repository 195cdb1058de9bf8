//! The figures of paper 001's blocks: the feedback quantities over training on the synthetic
//! sets, the trivial solution on digits (feature variance, live prototypes, ACC), the temperature
//! settings, ACC against dimension on MADELON-style data, and the frozen-encoder descent.

use super::claims::values;
use super::feedback::Pick;
use super::madelon::row;
use super::{Kept, Results, Spec};
use anyhow::Result;
use protolearn_plot::{curves, Curve, CurvePanel, Layout};
use protolearn_train::ddcl::{DdclRecord, FrozenDescent};
use std::path::{Path, PathBuf};

/// One panel: title, x label, y label, curves.
type Panel = (String, &'static str, String, Vec<Curve>);

/// Draws `panels` (two per row) as `<dir>/<stem>.png` and `.svg`; `None` when there is nothing.
fn draw(dir: &Path, stem: &str, title: &str, panels: &[Panel]) -> Result<Option<PathBuf>> {
    if panels.iter().all(|p| p.3.is_empty()) {
        return Ok(None);
    }
    let drawn: Vec<CurvePanel> =
        panels.iter().map(|(t, x, y, cs)| CurvePanel::of_curves(cs).title(t.clone()).axis_labels(*x, y.clone())).collect();
    let files = curves(dir.join(stem), &Layout::new().title(title).columns(2).panel_size(440, 300), &drawn)?;
    Ok(Some(files.png))
}

/// One panel per quantity, one curve per named run over its epochs (runs not kept are left out).
fn over_epochs(quantities: &[(&str, Pick)], runs: &[(String, Option<&[DdclRecord]>)]) -> Vec<Panel> {
    quantities
        .iter()
        .map(|&(name, pick)| {
            let cs = runs
                .iter()
                .filter_map(|(run, h)| {
                    let h = (*h)?;
                    Some((run.clone(), h.iter().map(|r| r.epoch).collect(), h.iter().map(pick).collect()))
                })
                .collect();
            (name.to_owned(), "epoch", name.to_owned(), cs)
        })
        .collect()
}

/// The first seed's run of `block` / `model` (and dataset), if kept.
fn first<'a>(kept: &'a Kept, block: &str, model: Option<&str>, dataset: Option<&str>) -> Option<&'a [DdclRecord]> {
    kept.runs
        .iter()
        .find(|r| r.block == block && model.is_none_or(|m| r.model == m) && dataset.is_none_or(|d| r.dataset == d))
        .map(|r| r.history.as_slice())
}

/// Block 2: separation, concentration, `V` and the separation force over training, one curve per
/// synthetic set (first seed).
pub fn feedback(dir: &Path, spec: &Spec, kept: &Kept) -> Result<Option<PathBuf>> {
    let quantities: [(&str, Pick); 4] = [
        ("mean prototype distance", |r| r.separation),
        ("concentration (mean max q)", |r| r.concentration),
        ("V", |r| r.variance),
        ("||dV/dP||", |r| r.force.unwrap_or(f64::NAN)),
    ];
    let runs: Vec<_> = spec.identity.datasets.iter().map(|d| (d.clone(), first(kept, "identity", None, Some(d)))).collect();
    let panels = over_epochs(&quantities, &runs);
    draw(dir, "ddcl_feedback", "The negative-feedback loop over training (synthetic sets, first seed)", &panels)
}

/// Block 6: the trivial solution on digits: raw feature variance (log10), live prototypes and ACC
/// of the four DDCL rows (first seed).
pub fn trivial_solution(dir: &Path, kept: &Kept) -> Result<Option<PathBuf>> {
    let models = ["ddcl", "ols-only", "ddcl-std", "ols-only-std"];
    let quantities: [(&str, Pick); 3] = [
        ("log10 feature variance", |r| r.feature_variance.max(1e-30).log10()),
        ("live prototypes", |r| r.live),
        ("ACC", |r| r.acc.unwrap_or(f64::NAN)),
    ];
    let runs: Vec<_> = models.iter().map(|m| ((*m).to_owned(), first(kept, "joint", Some(m), None))).collect();
    let panels = over_epochs(&quantities, &runs);
    draw(dir, "ddcl_trivial_solution", "Digits, joint backbone: no remedy vs remedy (-std), first seed", &panels)
}

/// Block 3: ACC and assignment entropy over training for each temperature setting (first seed).
pub fn temperature(dir: &Path, kept: &Kept, settings: &[String]) -> Result<Option<PathBuf>> {
    let quantities: [(&str, Pick); 2] = [("ACC", |r| r.acc.unwrap_or(f64::NAN)), ("assignment entropy", |r| r.train_entropy)];
    let runs: Vec<_> = settings.iter().map(|s| (s.clone(), first(kept, "temperature", Some(s), None))).collect();
    let panels = over_epochs(&quantities, &runs);
    draw(dir, "ddcl_temperature", "Temperature and separation on digits (first seed)", &panels)
}

/// Block 4: mean ACC against log10 d per model.
pub fn madelon(dir: &Path, spec: &Spec, results: &Results) -> Result<Option<PathBuf>> {
    let cs: Vec<Curve> = ["ddcl", "kmeans", "deepcluster"]
        .iter()
        .map(|m| {
            let points: Vec<(f64, f64)> = spec
                .madelon
                .dims
                .iter()
                .filter_map(|&d| Some(((d as f64).log10(), protolearn_metrics::mean(values(results, &row(m, d), "acc")).ok()?)))
                .collect();
            ((*m).to_owned(), points.iter().map(|p| p.0).collect(), points.iter().map(|p| p.1).collect())
        })
        .collect();
    let panels = [("ACC (mean over seeds)".to_owned(), "log10 d", "ACC".to_owned(), cs)];
    draw(dir, "ddcl_madelon", "MADELON-style data, n = 100, k = 2", &panels)
}

/// Block 5 (and the extension): `log10 L_q` under plain gradient descent on frozen features, one
/// panel per named set of runs and one curve per rate that did not diverge, as `<dir>/<stem>`.
pub fn descent(dir: &Path, stem: &str, runs: &[(String, &[FrozenDescent])]) -> Result<Option<PathBuf>> {
    let panels: Vec<Panel> = runs
        .iter()
        .map(|(name, descents)| {
            let cs = descents
                .iter()
                .filter(|d| d.diverged_at.is_none())
                .map(|d| {
                    let steps = (0..d.losses.len()).map(|i| i as f64).collect();
                    (format!("lr {:e}", d.lr), steps, d.losses.iter().map(|l| l.max(1e-12).log10()).collect())
                })
                .collect();
            (name.clone(), "step", "log10 L_q".to_owned(), cs)
        })
        .collect();
    draw(dir, stem, "Frozen encoder: L_q under gradient descent on the DCL", &panels)
}
