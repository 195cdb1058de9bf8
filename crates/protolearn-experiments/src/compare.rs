//! `protolearn compare A B`: the quality numbers of two bench-all runs side by side, cell by cell
//! (every `summary.json` value of every experiment both ran; timings left out), with each
//! difference measured against the spread over seeds. It answers "did my rerun reproduce the
//! committed report?" and measures how far another CPU's rounding moves a result
//! (docs/results/quick-sequences-avx2).

use crate::experiments::results::Results;
use crate::report::Table;
use anyhow::{Context, Result};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One metric of one model on one dataset in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// `experiment / dataset / model / metric`.
    pub name: String,
    /// Run A's values (one per seed).
    pub a: Vec<f64>,
    /// Run B's values.
    pub b: Vec<f64>,
}

impl Cell {
    /// Whether the two runs agree bit for bit.
    pub fn identical(&self) -> bool {
        self.a.len() == self.b.len() && self.a.iter().zip(&self.b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// `|mean(B) - mean(A)|`.
    pub fn difference(&self) -> f64 {
        (mean(&self.b) - mean(&self.a)).abs()
    }

    /// The difference in units of A's sample standard deviation over seeds (`None` with fewer
    /// than two seeds or no spread).
    pub fn in_seed_stds(&self) -> Option<f64> {
        let std = protolearn_metrics::std_dev(&self.a).ok()?;
        (std > 0.0).then(|| self.difference() / std)
    }
}

fn mean(v: &[f64]) -> f64 {
    protolearn_metrics::mean(v).unwrap_or(f64::NAN)
}

/// The `summary.json` of every experiment folder under `run` (a bench-all output folder), by
/// experiment name.
fn summaries(run: &Path) -> Result<Vec<(String, Results)>> {
    let mut found = Vec::new();
    let entries = std::fs::read_dir(run).with_context(|| format!("reading the run folder {}", run.display()))?;
    for entry in entries {
        let path = entry.with_context(|| format!("reading {}", run.display()))?.path().join("summary.json");
        if !path.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let results: Results = serde_json::from_str(&text)
            .with_context(|| format!("{}: expected {{dataset: {{model: {{metric: [values]}}}}}} (a bench-all summary)", path.display()))?;
        let name = path.parent().and_then(Path::file_name).map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        found.push((name, results));
    }
    found.sort_by(|x, y| x.0.cmp(&y.0));
    Ok(found)
}

/// Every quality cell of the experiments both runs hold (metrics whose name contains `seconds`
/// are timings and left out), in experiment, dataset, model, metric order.
pub fn cells(a: &Path, b: &Path) -> Result<Vec<Cell>> {
    let theirs = summaries(b)?;
    let mut out = Vec::new();
    for (experiment, ours) in summaries(a)? {
        let Some((_, other)) = theirs.iter().find(|(name, _)| *name == experiment) else { continue };
        for (dataset, model, metric, values) in ours.cells() {
            if metric.contains("seconds") {
                continue;
            }
            if let Some(b) = other.get(dataset, model, metric) {
                out.push(Cell { name: format!("{experiment} / {dataset} / {model} / {metric}"), a: values.to_vec(), b: b.to_vec() });
            }
        }
    }
    Ok(out)
}

/// The comparison as Markdown: a count of identical cells and a table of the others, largest
/// difference (in seed standard deviations) first.
pub fn markdown(a: &Path, b: &Path, cells: &[Cell]) -> String {
    let same = cells.iter().filter(|c| c.identical()).count();
    let mut text = format!(
        "Run A: `{}`; run B: `{}`. {} quality cells in both (timings left out), {same} identical bit for bit, {} differ.\n\n",
        a.display(),
        b.display(),
        cells.len(),
        cells.len() - same
    );
    let mut differ: Vec<&Cell> = cells.iter().filter(|c| !c.identical()).collect();
    differ.sort_by(|x, y| y.in_seed_stds().unwrap_or(f64::INFINITY).total_cmp(&x.in_seed_stds().unwrap_or(f64::INFINITY)));
    if differ.is_empty() {
        return text;
    }
    let mut table = Table::new(["cell", "seeds", "A (mean)", "B (mean)", "difference of the means", "in A's seed stds"]);
    for c in &differ {
        table.row([
            c.name.clone(),
            c.a.len().to_string(),
            format!("{:.4}", mean(&c.a)),
            format!("{:.4}", mean(&c.b)),
            format!("{:.4}", c.difference()),
            c.in_seed_stds().map_or_else(|| "- (one seed)".to_owned(), |s| format!("{s:.2}")),
        ]);
    }
    let within = differ.iter().filter(|c| c.in_seed_stds().is_some_and(|s| s <= 1.0)).count();
    let _ = write!(
        text,
        "Of the {} that differ, {within} differ by at most one standard deviation over seeds.\n\n{}",
        differ.len(),
        table.markdown()
    );
    text
}

/// Compares runs `a` and `b` and writes the Markdown to `out` (else returns it only).
pub fn run(a: &Path, b: &Path, out: Option<&PathBuf>) -> Result<String> {
    let cells = cells(a, b)?;
    anyhow::ensure!(!cells.is_empty(), "no experiment with a summary.json in both {} and {}", a.display(), b.display());
    let text = markdown(a, b, &cells);
    if let Some(path) = out {
        crate::context::write_file(path, text.as_bytes())?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, experiment: &str, results: &Results) {
        std::fs::create_dir_all(dir.join(experiment)).unwrap();
        std::fs::write(dir.join(experiment).join("summary.json"), serde_json::to_string(results).unwrap()).unwrap();
    }

    #[test]
    fn cells_pair_the_runs_and_measure_differences_in_seed_stds() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let mut ra = Results::new();
        let mut rb = Results::new();
        for (x, y) in [(0.5, 0.5), (0.7, 0.7)] {
            ra.push("set", "som", "purity", x);
            rb.push("set", "som", "purity", y);
        }
        for (x, y) in [(0.2, 0.3), (0.4, 0.5)] {
            ra.push("set", "desom", "nmi", x);
            rb.push("set", "desom", "nmi", y);
        }
        ra.push("set", "desom", "seconds", 1.0);
        rb.push("set", "desom", "seconds", 2.0);
        write(a.path(), "exp", &ra);
        write(b.path(), "exp", &rb);
        write(a.path(), "only_in_a", &ra);
        let cells = cells(a.path(), b.path()).unwrap();
        assert_eq!(cells.len(), 2, "timings and one-sided experiments left out: {cells:?}");
        let nmi = cells.iter().find(|c| c.name == "exp / set / desom / nmi").unwrap();
        assert!(!nmi.identical());
        // |0.4 - 0.3| over the std of [0.2, 0.4] (0.1414): 0.707.
        assert!((nmi.in_seed_stds().unwrap() - 0.1 / 0.02f64.sqrt()).abs() < 1e-9);
        assert!(cells.iter().any(|c| c.name == "exp / set / som / purity" && c.identical()));
        let text = markdown(a.path(), b.path(), &cells);
        assert!(text.contains("2 quality cells in both (timings left out), 1 identical bit for bit, 1 differ"), "{text}");
        assert!(text.contains("| exp / set / desom / nmi | 2 | 0.3000 | 0.4000 | 0.1000 | 0.71 |"), "{text}");
    }

    #[test]
    fn a_folder_without_summaries_is_an_error_naming_both() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let err = run(a.path(), b.path(), None).unwrap_err().to_string();
        assert!(err.contains("no experiment with a summary.json"), "{err}");
    }
}
