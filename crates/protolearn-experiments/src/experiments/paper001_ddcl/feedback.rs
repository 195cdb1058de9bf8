//! Paper 001's negative-feedback loop measured over training: the quantities of the loop
//! (prototype separation, assignment concentration, the separation force `||dV/dP||`, `V`) per
//! record of a run, and the Pearson correlation of each pair, per run over its records, then
//! averaged over runs.

use anyhow::Result;
use protolearn_train::ddcl::DdclRecord;

/// A quantity of the loop read from a record.
pub type Pick = fn(&DdclRecord) -> f64;

/// The quantities, by name as the report shows them.
pub const QUANTITIES: [(&str, Pick); 7] = [
    ("mean prototype distance", |r| r.separation),
    ("min prototype distance", |r| r.min_separation),
    ("concentration (mean max q)", |r| r.concentration),
    ("assignment entropy", |r| r.train_entropy),
    ("V", |r| r.variance),
    ("||dV/dP|| (through q)", |r| r.force.unwrap_or(f64::NAN)),
    ("||2 P Sigma_q|| (q fixed)", |r| r.force_fixed_q),
];

/// The pairs reported: the loop's links in order (separation -> concentration -> separation
/// force -> separation), then `V` and the entropy against separation.
pub const PAIRS: [(usize, usize); 8] = [(0, 2), (2, 5), (5, 0), (2, 6), (6, 0), (4, 0), (3, 0), (4, 2)];

/// Pearson's `r` of each run's two series (one entry per run whose `r` is defined: at least two
/// finite pairs and neither series constant).
pub fn per_run_pearson(runs: &[(Vec<f64>, Vec<f64>)]) -> Result<Vec<f64>> {
    let mut out = Vec::new();
    for (a, b) in runs {
        let (a, b): (Vec<f64>, Vec<f64>) = a.iter().zip(b).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| (*x, *y)).unzip();
        if a.len() >= 2 {
            out.extend(protolearn_metrics::pearson(&a, &b)?);
        }
    }
    Ok(out)
}

/// Per pair of [`PAIRS`], the per-run correlations over `histories` (one per run).
pub fn correlations(histories: &[&[DdclRecord]]) -> Result<Vec<Vec<f64>>> {
    PAIRS
        .iter()
        .map(|&(i, j)| {
            let series: Vec<(Vec<f64>, Vec<f64>)> =
                histories.iter().map(|h| (h.iter().map(QUANTITIES[i].1).collect(), h.iter().map(QUANTITIES[j].1).collect())).collect();
            per_run_pearson(&series)
        })
        .collect()
}

/// The pair name `a vs b` of [`PAIRS`]`[p]`.
pub fn pair_name(p: usize) -> String {
    let (i, j) = PAIRS[p];
    format!("{} vs {}", QUANTITIES[i].0, QUANTITIES[j].0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pearson_per_run_on_hand_made_series() {
        let up: Vec<f64> = (0..5).map(f64::from).collect();
        let down: Vec<f64> = up.iter().map(|v| 10.0 - 2.0 * v).collect();
        // x = 0..4, y = 1, 3, 2, 5, 4: sxy = 8, sxx = 10, syy = 10, r = 0.8.
        let bumpy = vec![1.0, 3.0, 2.0, 5.0, 4.0];
        let runs = vec![
            (up.clone(), down),
            (up.clone(), bumpy),
            (up.clone(), vec![7.0; 5]),                      // constant: r undefined, skipped
            (vec![f64::NAN, 1.0, 2.0], vec![5.0, 2.0, 4.0]), // NaN pair dropped: r of (1,2)/(2,4) = 1
            (vec![1.0], vec![2.0]),                          // one pair: skipped
        ];
        let r = per_run_pearson(&runs).unwrap();
        assert_eq!(r.len(), 3, "{r:?}");
        assert!((r[0] + 1.0).abs() < 1e-12 && (r[1] - 0.8).abs() < 1e-12 && (r[2] - 1.0).abs() < 1e-12, "{r:?}");
    }

    #[test]
    fn the_loop_pairs_name_existing_quantities() {
        assert!(PAIRS.iter().all(|&(i, j)| i < QUANTITIES.len() && j < QUANTITIES.len() && i != j));
        assert_eq!(pair_name(0), "mean prototype distance vs concentration (mean max q)");
    }
}
