//! Best-matching units: squared Euclidean distances and the two nearest prototypes of every sample.
//!
//! Tie rule, used by every metric of the crate: among prototypes at the same distance the
//! lowest index ranks first (a strict `<` scan in index order, as `numpy.argsort(kind="stable")`).

use rayon::prelude::*;

use crate::error::{check_at_least, check_len, Result};
use crate::matrix::Matrix;

/// A unit and its squared Euclidean distance to a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    /// Prototype (unit) index.
    pub unit: usize,
    /// `||x - m_unit||_2^2`.
    pub sq_dist: f32,
}

impl Ranked {
    /// Euclidean distance `||x - m_unit||_2`.
    pub fn dist(&self) -> f64 {
        f64::from(self.sq_dist).sqrt()
    }
}

/// The best and second-best matching units `b^1`, `b^2` of one sample (paper 002, Eq. 1
/// and Appendix 1, topographic error); `second` is `None` when there is a single prototype.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestUnits {
    /// `b^1 = argmin_k ||x - m_k||^2`, lowest index on ties.
    pub first: Ranked,
    /// `b^2`, the argmin over the remaining units, lowest index on ties.
    pub second: Option<Ranked>,
}

/// Squared Euclidean distance `sum_d (a_d - b_d)^2`, accumulated in `f32` over eight lanes.
///
/// Computed from differences rather than `||a||^2 - 2 a.b + ||b||^2`, so it is a sum of
/// squares and never negative: taking its square root needs no clamp.
/// The slices must have the same length (checked by every public caller).
pub fn squared_euclidean(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut acc = [0.0_f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            let d = x[i] - y[i];
            acc[i] += d * d;
        }
    }
    let tail: f32 = ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum();
    acc.iter().sum::<f32>() + tail
}

/// Best and second-best matching units of every sample, in one parallel pass over
/// `N x K` distances (paper 002, Eq. 1: `b_i = argmin_k ||x_i - m_k||_2^2`).
///
/// # Errors
/// `TooFew` if there is no prototype; `Shape` if the dimensions differ.
/// Empty data gives an empty vector.
pub fn best_matching_units(data: Matrix<'_>, prototypes: Matrix<'_>) -> Result<Vec<BestUnits>> {
    check_inputs(data, prototypes)?;
    Ok(map_samples(data, prototypes, |dists| best_two(dists.iter().copied())).collect())
}

/// Maps `f` over every sample's squared distances `[||x_i - m_k||^2]_k`, in parallel, in
/// sample order; one distance buffer per rayon task. Callers check the inputs first.
pub(crate) fn map_samples<'a, T, F>(data: Matrix<'a>, prototypes: Matrix<'a>, f: F) -> impl IndexedParallelIterator<Item = T> + 'a
where
    T: Send,
    F: Fn(&[f32]) -> T + Sync + Send + 'a,
{
    let k = prototypes.rows();
    data.as_slice().par_chunks_exact(data.cols()).map_init(
        move || vec![0.0_f32; k],
        move |dists, x| {
            for (d, m) in dists.iter_mut().zip(prototypes.iter_rows()) {
                *d = squared_euclidean(x, m);
            }
            f(dists)
        },
    )
}

/// Checks that prototypes exist and share the data's dimension.
pub(crate) fn check_inputs(data: Matrix<'_>, prototypes: Matrix<'_>) -> Result<()> {
    check_at_least("prototypes", 1, prototypes.rows())?;
    check_len("prototype dimension (must equal the data dimension)", data.cols(), prototypes.cols())
}

/// Scans squared distances in unit order and keeps the two smallest, lowest index on ties.
/// The iterator must be non-empty (callers check that prototypes exist).
pub(crate) fn best_two(dists: impl Iterator<Item = f32>) -> BestUnits {
    let mut first = Ranked { unit: 0, sq_dist: f32::INFINITY };
    let mut second: Option<Ranked> = None;
    for (unit, sq_dist) in dists.enumerate() {
        let cand = Ranked { unit, sq_dist };
        if unit == 0 {
            first = cand;
        } else if sq_dist < first.sq_dist {
            second = Some(first);
            first = cand;
        } else if second.is_none_or(|s| sq_dist < s.sq_dist) {
            second = Some(cand);
        }
    }
    BestUnits { first, second }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_go_to_the_lowest_index() -> Result<()> {
        // prototypes 1 and 3 are duplicates, both nearest to the sample; 0 and 2 tie behind them
        let protos = [0.0_f32, 2.0, 1.0, 1.0, 2.0, 0.0, 1.0, 1.0];
        let data = [1.0_f32, 1.0];
        let bmus = best_matching_units(Matrix::new(&data, 1, 2)?, Matrix::new(&protos, 4, 2)?)?;
        assert_eq!(bmus[0].first.unit, 1);
        assert_eq!(bmus[0].second.map(|s| s.unit), Some(3));
        let d = [5.0_f32, 3.0, 5.0, 3.0];
        let b = best_two(d.into_iter());
        assert_eq!((b.first.unit, b.second.map(|s| s.unit)), (1, Some(3)));
        Ok(())
    }

    #[test]
    fn single_prototype_has_no_second_unit() -> Result<()> {
        let bmus = best_matching_units(Matrix::new(&[1.0, 2.0, 3.0], 3, 1)?, Matrix::new(&[0.0], 1, 1)?)?;
        assert!(bmus.iter().all(|b| b.first.unit == 0 && b.second.is_none()));
        Ok(())
    }

    #[test]
    fn squared_euclidean_matches_the_naive_sum() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 3.0 - i as f32).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((squared_euclidean(&a, &b) - naive).abs() <= 1e-4 * naive);
    }

    #[test]
    fn mismatched_dimensions_are_errors() -> Result<()> {
        let r = best_matching_units(Matrix::new(&[1.0, 2.0], 1, 2)?, Matrix::new(&[1.0], 1, 1)?);
        assert!(r.is_err());
        let none = best_matching_units(Matrix::new(&[1.0], 1, 1)?, Matrix::new(&[], 0, 1)?);
        assert!(none.is_err());
        Ok(())
    }
}
