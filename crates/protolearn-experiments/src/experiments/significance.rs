//! The bold marks of paper 002's Tables 4-5 (and paper 004's Table 1): the best mean of a column
//! and every entry not significantly different from it (two-sided Welch t-test, `p > 0.05`), and
//! the table cells that show them.

use crate::report::mean_std;
use anyhow::Result;
use protolearn_metrics::{mean, welch_t_test};

/// Significance level of the "no statistically significant difference to the best" marks
/// (paper 002, Tables 4-5: `p > 0.05` after a pairwise t-test).
pub const ALPHA: f64 = 0.05;

/// Fewest seeds per entry for which a column is marked: with two, Welch's test has about one
/// degree of freedom and a standard deviation from two values, so marks would say little.
pub const MIN_SEEDS: usize = 3;

/// The marks of one column of a results table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Marks {
    /// Some entry has fewer than [`MIN_SEEDS`] seeds: nothing is marked.
    Untested,
    /// Per entry: `Best` (highest or lowest mean), `Tie` (Welch `p > ALPHA` against the best)
    /// or `Plain`; entries without values are `Plain`.
    Tested(Vec<Mark>),
}

/// The mark of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// The best mean (paper: bold underlined).
    Best,
    /// Not significantly different from the best (paper: bold).
    Tie,
    /// Significantly worse than the best.
    Plain,
}

/// The marks of a column of per-seed `samples` (empty = not measured), best = highest mean when
/// `higher_is_better`, else lowest; each entry is compared with the best by Welch's two-sided
/// t-test ([`welch_t_test`], unequal variances).
pub fn marks(samples: &[&[f64]], higher_is_better: bool) -> Result<Marks> {
    let measured: Vec<(usize, &[f64])> = samples.iter().copied().enumerate().filter(|(_, s)| !s.is_empty()).collect();
    if measured.is_empty() || measured.iter().any(|(_, s)| s.len() < MIN_SEEDS) {
        return Ok(Marks::Untested);
    }
    let sign = if higher_is_better { 1.0 } else { -1.0 };
    let mut best = (measured[0].0, sign * mean(measured[0].1)?);
    for &(i, s) in &measured[1..] {
        let m = sign * mean(s)?;
        if m > best.1 {
            best = (i, m);
        }
    }
    let mut out = vec![Mark::Plain; samples.len()];
    for (i, s) in measured {
        out[i] = if i == best.0 {
            Mark::Best
        } else if welch_t_test(samples[best.0], s)?.p_value > ALPHA {
            Mark::Tie
        } else {
            Mark::Plain
        };
    }
    Ok(Marks::Tested(out))
}

impl Marks {
    /// The cell of entry `i`: `mean ± std` of `values` with `digits` decimals, bold underlined
    /// for the best, bold for a tie, `-` without values.
    pub fn cell(&self, i: usize, values: &[f64], digits: usize) -> String {
        if values.is_empty() {
            return "-".into();
        }
        let text = mean_std(values, digits);
        match self {
            Marks::Tested(m) if m[i] == Mark::Best => format!("**<u>{text}</u>**"),
            Marks::Tested(m) if m[i] == Mark::Tie => format!("**{text}**"),
            _ => text,
        }
    }
}

/// The sentence the reports print about the marks of their tables.
pub fn legend(tested: bool) -> &'static str {
    if tested {
        "Bold underlined: best mean of the column (per dataset); bold: not significantly different from it \
         (two-sided Welch t-test, unequal variances, p > 0.05; the paper says \"pairwise t test\")."
    } else {
        "No bold marks: at least one entry has fewer than 3 seeds, too few for the t-test to mean much."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_and_ties_follow_the_welch_test() {
        let good = [0.935, 0.945, 0.94, 0.938];
        let close = [0.931, 0.936, 0.94, 0.93];
        let bad = [0.80, 0.81, 0.805, 0.79];
        let Marks::Tested(m) = marks(&[&close, &good, &bad, &[]], true).unwrap() else { panic!("three seeds or more must be tested") };
        assert_eq!(m, vec![Mark::Tie, Mark::Best, Mark::Plain, Mark::Plain]);
        let Marks::Tested(low) = marks(&[&close, &good, &bad], false).unwrap() else { panic!("tested") };
        assert_eq!(low, vec![Mark::Plain, Mark::Plain, Mark::Best]);
    }

    #[test]
    fn fewer_than_three_seeds_are_untested_and_cells_show_the_marks() {
        assert_eq!(marks(&[&[0.9], &[0.8, 0.7]], true).unwrap(), Marks::Untested);
        assert_eq!(marks(&[&[0.9, 0.91], &[0.8, 0.7, 0.75]], true).unwrap(), Marks::Untested);
        assert!(matches!(marks(&[&[0.9, 0.91, 0.92], &[0.8, 0.7, 0.75]], true).unwrap(), Marks::Tested(_)));
        assert_eq!(Marks::Untested.cell(0, &[0.5], 2), "0.50");
        let m = Marks::Tested(vec![Mark::Best, Mark::Tie, Mark::Plain]);
        assert_eq!(m.cell(0, &[1.0, 3.0], 1), "**<u>2.0 ± 1.4</u>**");
        assert_eq!(m.cell(1, &[1.0, 3.0], 1), "**2.0 ± 1.4**");
        assert_eq!(m.cell(2, &[1.0, 3.0], 1), "2.0 ± 1.4");
        assert_eq!(m.cell(2, &[], 1), "-");
    }
}
