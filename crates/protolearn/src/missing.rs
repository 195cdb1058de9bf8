//! What an estimator does with missing input values (`NaN`, e.g. a CSV read with
//! `MissingCells::Keep`): refuse them, replace them by the training means (stored with the
//! model), or mask them — the families that compare inputs with prototypes component by
//! component (SOM, k-means, LVQ heads) then leave them out of every distance.

use crate::error::{Error, Result};
use protolearn_layers::missing::{fill_missing, observed_means, Components};
use serde::{Deserialize, Serialize};
use tch::Tensor;

/// The treatment of missing input values, chosen in the config (`missing = "mask"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissingValues {
    /// A `NaN` input is an error naming the columns (the default: a model never sees an invented
    /// value unless asked to).
    #[default]
    Reject,
    /// Each missing value becomes its feature's mean over the training rows that have it; the
    /// means are stored in the model and used for new data.
    ImputeMean,
    /// Missing values are left out of the distances, rescaled by the fraction observed
    /// ([`protolearn_layers::missing`]), in training and prediction. SOM, k-means and the LVQ
    /// heads with a component-wise dissimilarity only.
    Mask,
}

impl MissingValues {
    /// The components the layers compare: the observed ones when masking.
    pub fn components(self) -> Components {
        match self {
            MissingValues::Mask => Components::Observed,
            MissingValues::Reject | MissingValues::ImputeMean => Components::All,
        }
    }
}

/// The fitted treatment: the kind and, for [`MissingValues::ImputeMean`], the training mean of
/// every feature in input units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FittedMissing {
    /// The treatment.
    pub kind: MissingValues,
    /// One mean per feature for [`MissingValues::ImputeMean`] (a feature without any observed
    /// value gets 0), else empty.
    pub means: Vec<f32>,
}

impl Default for FittedMissing {
    fn default() -> Self {
        FittedMissing { kind: MissingValues::Reject, means: Vec::new() }
    }
}

impl FittedMissing {
    /// Fits `kind` on row-major `features` with `d` columns named `names` (a `NaN` is missing):
    /// the observed means (accumulated in `f64`) for imputation; an error for `Reject` when a
    /// value is missing.
    pub fn fit(kind: MissingValues, features: &[f32], names: &[String]) -> Result<Self> {
        let means = match kind {
            MissingValues::ImputeMean => observed_column_means(features, names.len().max(1)),
            MissingValues::Reject | MissingValues::Mask => Vec::new(),
        };
        let fitted = FittedMissing { kind, means };
        fitted.check(features, names)?;
        Ok(fitted)
    }

    /// Replaces the missing values of row-major `features` by the means when imputing; an error
    /// naming the columns when rejecting; nothing when masking.
    pub fn apply(&self, features: &mut [f32], names: &[String]) -> Result<()> {
        self.check(features, names)?;
        if self.kind == MissingValues::ImputeMean {
            fill_missing_values(features, &self.means);
        }
        Ok(())
    }

    /// [`Error::MissingValues`] when rejecting and a value is missing.
    fn check(&self, features: &[f32], names: &[String]) -> Result<()> {
        if self.kind != MissingValues::Reject {
            return Ok(());
        }
        let count = features.iter().filter(|v| v.is_nan()).count();
        if count == 0 {
            return Ok(());
        }
        let d = names.len().max(1);
        let mut columns: Vec<String> = Vec::new();
        for (j, name) in names.iter().enumerate() {
            if features.iter().skip(j).step_by(d).any(|v| v.is_nan()) {
                columns.push(name.clone());
            }
        }
        Err(Error::MissingValues { count, columns })
    }
}

/// The mean of every column of row-major `features` with `d` columns over its observed (not
/// `NaN`) values, accumulated in `f64`; 0 for a column without any.
pub(crate) fn observed_column_means(features: &[f32], d: usize) -> Vec<f32> {
    (0..d)
        .map(|j| {
            let (sum, count) =
                features.iter().skip(j).step_by(d).filter(|v| !v.is_nan()).fold((0.0f64, 0usize), |(s, c), &v| (s + f64::from(v), c + 1));
            if count == 0 {
                0.0
            } else {
                (sum / count as f64) as f32
            }
        })
        .collect()
}

/// Replaces every `NaN` of row-major `features` (rows of `means.len()` values) by its column's
/// entry of `means`.
pub(crate) fn fill_missing_values(features: &mut [f32], means: &[f32]) {
    for row in features.chunks_mut(means.len().max(1)) {
        for (v, m) in row.iter_mut().zip(means) {
            if v.is_nan() {
                *v = *m;
            }
        }
    }
}

/// The rows a family's prototypes start from (random samples, PCA): `x` itself, or with
/// [`Components::Observed`] `x` with the column means in its missing cells, so that no prototype
/// starts at `NaN`.
///
/// # Shapes
/// `x`: `[n, d]` → `[n, d]`.
pub(crate) fn starting_rows(x: &Tensor, components: Components) -> Tensor {
    match components {
        Components::All => x.shallow_clone(),
        Components::Observed => fill_missing(x, &observed_means(x)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imputes_observed_means_rejects_or_leaves_for_masking() {
        let names = vec!["a".to_owned(), "b".to_owned()];
        let x = vec![1.0, f32::NAN, 3.0, 4.0, f32::NAN, 8.0];
        let imputer = FittedMissing::fit(MissingValues::ImputeMean, &x, &names).unwrap();
        assert_eq!(imputer.means, vec![2.0, 6.0]);
        let mut filled = x.clone();
        imputer.apply(&mut filled, &names).unwrap();
        assert_eq!(filled, vec![1.0, 6.0, 3.0, 4.0, 2.0, 8.0]);
        let err = FittedMissing::fit(MissingValues::Reject, &x, &names).unwrap_err().to_string();
        assert!(err.contains("2 missing values") && err.contains("a, b"), "{err}");
        let mask = FittedMissing::fit(MissingValues::Mask, &x, &names).unwrap();
        let mut kept = x.clone();
        mask.apply(&mut kept, &names).unwrap();
        assert!(kept[1].is_nan() && kept[4].is_nan());
    }
}
