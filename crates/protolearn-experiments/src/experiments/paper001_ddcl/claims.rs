//! Paper 001's claims against our runs: the reported values (abstract, and the recovered
//! summaries of the full paper), a Welch test of our seeds against each reported mean ± std, and
//! the verdict.

use super::Results;
use crate::report::mean_std;
use anyhow::Result;
use protolearn_metrics::{mean, std_dev, welch_from_summary, Summary};

/// Significance level of the verdicts: a two-sided Welch `p` above it is "within the spread".
pub const ALPHA: f64 = 0.05;

/// A reported accuracy: mean ± std (0 when the summaries give no spread).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reported {
    /// Mean ACC.
    pub mean: f64,
    /// Standard deviation over the paper's runs (0: not reported).
    pub std: f64,
}

impl Reported {
    /// `0.378 ± 0.085`, or the mean alone without a spread.
    pub fn text(&self) -> String {
        if self.std > 0.0 {
            format!("{:.3} ± {:.3}", self.mean, self.std)
        } else {
            format!("{:.3}", self.mean)
        }
    }
}

/// DDCL (`L_q`) on digits, joint backbone.
pub const DDCL: Reported = Reported { mean: 0.378, std: 0.085 };
/// DDCL trained on `L_OLS` only.
pub const OLS_ONLY: Reported = Reported { mean: 0.229, std: 0.041 };
/// DeepCluster end to end.
pub const DEEPCLUSTER: Reported = Reported { mean: 0.170, std: 0.042 };
/// T annealed 2 -> 0.5.
pub const ANNEAL: Reported = Reported { mean: 0.576, std: 0.0 };
/// Fixed T = 0.5.
pub const FIXED_HALF: Reported = Reported { mean: 0.563, std: 0.0 };
/// L_q plus an explicit separation term.
pub const SEPARATION: Reported = Reported { mean: 0.549, std: 0.0 };
/// DDCL on MADELON-style data at d = 200.
pub const MADELON_200: Reported = Reported { mean: 0.807, std: 0.124 };
/// L_q and L_OLS on frozen CIFAR-10 / ResNet-18 features.
pub const FROZEN: Reported = Reported { mean: 0.265, std: 0.031 };
/// The Pearson correlation of the negative-feedback loop.
pub const PEARSON: f64 = -0.98;

/// The values of `metric` of `row`.
pub fn values<'a>(results: &'a Results, row: &str, metric: &str) -> &'a [f64] {
    results.get(row).and_then(|m| m.get(metric)).map_or(&[], Vec::as_slice)
}

/// Our seeds of `row`'s ACC against `reported` (its spread over `paper_seeds` runs): `(ours as
/// mean ± std (n), Welch p, verdict)`.
pub fn against(results: &Results, row: &str, reported: Reported, paper_seeds: usize) -> Result<(String, Option<f64>, String)> {
    let acc = values(results, row, "acc");
    let ours = format!("{} ({} seeds)", mean_std(acc, 3), acc.len());
    if acc.len() < 2 {
        return Ok((ours, None, "not tested: fewer than 2 seeds".into()));
    }
    let test = welch_from_summary(
        Summary { mean: mean(acc)?, std: std_dev(acc)?, n: acc.len() },
        Summary { mean: reported.mean, std: reported.std, n: paper_seeds },
    )?;
    let verdict = if test.p_value > ALPHA && reported.std == 0.0 {
        "reproduced: consistent with the reported mean".to_owned()
    } else if test.p_value > ALPHA {
        "reproduced: within the spread".to_owned()
    } else if test.t > 0.0 {
        "not reproduced: above".to_owned()
    } else {
        "not reproduced: below".to_owned()
    };
    Ok((ours, Some(test.p_value), verdict))
}

/// `mean(a) / mean(b) - 1` of the ACC of two rows, as `+65.0%`.
pub fn gain(results: &Results, a: &str, b: &str) -> String {
    match (mean(values(results, a, "acc")), mean(values(results, b, "acc"))) {
        (Ok(x), Ok(y)) if y > 0.0 => format!("{:+.1}%", 100.0 * (x / y - 1.0)),
        _ => "n/a".into(),
    }
}

/// Whether the ACC of `a` is significantly above that of `b` (Welch, our seeds on both sides).
pub fn above(results: &Results, a: &str, b: &str) -> Result<Option<(bool, f64)>> {
    let (x, y) = (values(results, a, "acc"), values(results, b, "acc"));
    if x.len() < 2 || y.len() < 2 {
        return Ok(None);
    }
    let test = protolearn_metrics::welch_t_test(x, y)?;
    Ok(Some((test.t > 0.0 && test.p_value <= ALPHA, test.p_value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn results(row: &str, acc: &[f64]) -> Results {
        BTreeMap::from([(row.to_owned(), BTreeMap::from([("acc".to_owned(), acc.to_vec())]))])
    }

    #[test]
    fn verdicts_follow_the_welch_test_against_the_reported_spread() {
        let close = results("r", &[0.35, 0.40, 0.30, 0.45, 0.38]);
        assert_eq!(against(&close, "r", DDCL, 10).unwrap().2, "reproduced: within the spread");
        let low = results("r", &[0.10, 0.11, 0.12, 0.10, 0.11]);
        assert_eq!(against(&low, "r", DDCL, 10).unwrap().2, "not reproduced: below");
        let high = results("r", &[0.90, 0.91, 0.92]);
        assert_eq!(against(&high, "r", ANNEAL, 10).unwrap().2, "not reproduced: above");
        let near = results("r", &[0.55, 0.60, 0.57, 0.58]);
        assert_eq!(against(&near, "r", ANNEAL, 10).unwrap().2, "reproduced: consistent with the reported mean");
        assert!(against(&results("r", &[0.3]), "r", DDCL, 10).unwrap().2.contains("fewer than 2"));
        assert_eq!(gain(&close, "r", "r"), "+0.0%");
        assert_eq!(gain(&close, "r", "missing"), "n/a");
    }
}
