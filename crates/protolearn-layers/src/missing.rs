//! Inputs with missing components (`NaN` cells): squared distances over the observed components
//! only, rescaled by the fraction observed, and the per-component sums and means that the masked
//! SOM and k-means updates are built from. This is the SOM Toolbox's treatment of missing values
//! (Vesanto et al., "SOM Toolbox for Matlab 5", 2000, Sec. 3.2: the best-matching unit is searched
//! over the known components, and the batch update averages each component over the samples that
//! have it).

use crate::distance::squared_euclidean;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Which components of an input a distance sums over.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Components {
    /// Every component (the default; a `NaN` input gives a `NaN` distance).
    #[default]
    All,
    /// The observed ones: a `NaN` component is missing and left out, and the sum is rescaled by
    /// `d / d_i` (`d_i` observed of `d`) so that distances of rows with different numbers of
    /// observed components stay comparable.
    Observed,
}

impl Components {
    /// Squared Euclidean distances of `x` `[n, d]` to `w` `[k, d]` → `[n, k]`, clamped at 0:
    /// [`squared_euclidean`] for [`Components::All`], [`squared_euclidean_observed`] otherwise.
    pub fn squared_euclidean(self, x: &Tensor, w: &Tensor) -> Tensor {
        match self {
            Components::All => squared_euclidean(x, w),
            Components::Observed => squared_euclidean_observed(x, w),
        }
    }
}

/// `1.0` where `x` is observed (finite), `0.0` where it is missing, in `x`'s kind.
///
/// # Shapes
/// `x`: any → the same.
pub fn observed_mask(x: &Tensor) -> Tensor {
    x.isfinite().to_kind(x.kind())
}

/// `x` with its missing (non-finite) components set to 0.
pub fn zero_missing(x: &Tensor) -> Tensor {
    x.where_scalarother(&x.isfinite(), 0.0)
}

/// The rescaling `d / d_i` of every row of `x` `[n, d]` → `[n, 1]` (`d_i` its observed
/// components; a row with none gets `d`, and distances of 0).
fn observed_scale(mask: &Tensor) -> Tensor {
    let d = mask.size()[mask.dim() - 1] as f64;
    mask.sum_dim_intlist(-1, true, Kind::Float).clamp_min(1.0).reciprocal() * d
}

/// `D_ik = (d / d_i) sum_{j observed in x_i} (x_ij - w_kj)^2`, clamped at 0, from three GEMMs:
/// `sum_j m_ij x_ij^2 - 2 (m ⊙ x) w^T + m (w ⊙ w)^T` with `m` the observed mask. Equals
/// [`squared_euclidean`] up to float rounding when nothing is missing.
///
/// # Shapes
/// `x`: `[n, d]` (missing components are `NaN`), `w`: `[k, d]` → `[n, k]`.
pub fn squared_euclidean_observed(x: &Tensor, w: &Tensor) -> Tensor {
    squared_euclidean_masked(&zero_missing(x), &observed_mask(x), w)
}

/// [`squared_euclidean_observed`] from the inputs with their missing components already zeroed,
/// `x0`, and the observed mask `mask`: for inputs that are transformed before the distance
/// (GRLVQ's relevance scaling), where a `NaN` would reach the gradient of the transform even
/// when masked afterwards (`0 · NaN = NaN`).
///
/// # Shapes
/// `x0`, `mask`: `[n, d]`, `w`: `[k, d]` → `[n, k]`.
pub fn squared_euclidean_masked(x0: &Tensor, mask: &Tensor, w: &Tensor) -> Tensor {
    ObservedRows::from_parts(x0.shallow_clone(), mask.shallow_clone()).squared_euclidean(w)
}

/// Rows with missing components, prepared once for many distance and sum evaluations against
/// changing prototypes (the iterations of a masked k-means): the zeroed rows, the observed mask,
/// the rows' squared norms and the `d / d_i` rescaling.
#[derive(Debug)]
pub struct ObservedRows {
    x0: Tensor,
    mask: Tensor,
    x_sq: Tensor,
    scale: Tensor,
}

impl ObservedRows {
    /// Prepares `x` `[n, d]` (missing components are `NaN`).
    pub fn new(x: &Tensor) -> Self {
        Self::from_parts(zero_missing(x), observed_mask(x))
    }

    /// From the zeroed rows `x0` and the observed mask `mask`, both `[n, d]`.
    fn from_parts(x0: Tensor, mask: Tensor) -> Self {
        let x_sq = x0.square().sum_dim_intlist(-1, true, None::<Kind>); // [n, 1]
        let scale = observed_scale(&mask); // [n, 1]
        ObservedRows { x0, mask, x_sq, scale }
    }

    /// The number of rows `n`.
    pub fn len(&self) -> usize {
        self.x0.size()[0] as usize
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// [`squared_euclidean_observed`] of the rows to `w` `[k, d]` → `[n, k]`.
    pub fn squared_euclidean(&self, w: &Tensor) -> Tensor {
        let cross = self.x0.matmul(&w.transpose(-2, -1)); // [n, k]
        let w_sq = self.mask.matmul(&w.square().transpose(-2, -1)); // [n, k]
        (&self.x_sq - cross * 2.0 + w_sq).clamp_min(0.0) * &self.scale
    }

    /// [`observed_sums`] of the rows by `index` `[n]` into `groups` groups.
    pub fn sums(&self, index: &Tensor, groups: i64) -> Result<(Tensor, Tensor), tch::TchError> {
        let size = [groups, self.x0.size()[1]];
        let sums = Tensor::zeros(size, (self.x0.kind(), self.x0.device())).f_index_add(0, index, &self.x0)?;
        let counts = Tensor::zeros(size, (self.mask.kind(), self.mask.device())).f_index_add(0, index, &self.mask)?;
        Ok((sums, counts))
    }
}

/// The observed part of the differences `x_i - w_k`, rescaled so that its squared norm is
/// [`squared_euclidean_observed`]'s: `sqrt(d / d_i) m_i ⊙ (x_i - w_k)` → `[n, k, d]`, for the
/// dissimilarities that map differences through a matrix (GMLVQ's `Omega`).
///
/// # Shapes
/// `x`: `[n, d]`, `w`: `[k, d]` → `[n, k, d]`.
pub fn observed_differences(x: &Tensor, w: &Tensor) -> Tensor {
    let mask = observed_mask(x); // [n, d]
    let scale = observed_scale(&mask).sqrt().unsqueeze(-1); // [n, 1, 1]
    (zero_missing(x).unsqueeze(1) - w.unsqueeze(0)) * mask.unsqueeze(1) * scale
}

/// Per-group sums of the observed components and their counts: `sums[g, j] = sum_{i: index_i = g}
/// m_ij x_ij` and `counts[g, j] = sum_{i: index_i = g} m_ij`, one `index_add` each.
///
/// # Shapes
/// `x`: `[n, d]`, `index`: `[n]` int64 in `0..groups` → (`[groups, d]`, `[groups, d]`).
pub fn observed_sums(x: &Tensor, index: &Tensor, groups: i64) -> Result<(Tensor, Tensor), tch::TchError> {
    ObservedRows::new(x).sums(index, groups)
}

/// The mean of every component over the rows that observe it → `[d]` (0 for a component no row
/// observes).
///
/// # Shapes
/// `x`: `[n, d]` → `[d]`.
pub fn observed_means(x: &Tensor) -> Tensor {
    let counts = observed_mask(x).sum_dim_intlist(0, false, Kind::Float).clamp_min(1.0);
    zero_missing(x).sum_dim_intlist(0, false, Kind::Float) / counts
}

/// `x` with every missing component replaced by `means[j]` of its column (the starting points of
/// the masked families, drawn from rows that must be complete).
///
/// # Shapes
/// `x`: `[n, d]`, `means`: `[d]` → `[n, d]`.
pub fn fill_missing(x: &Tensor, means: &Tensor) -> Tensor {
    x.where_self(&x.isfinite(), &means.to_kind(x.kind()).unsqueeze(0).expand_as(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nan() -> f32 {
        f32::NAN
    }

    #[test]
    fn observed_distances_leave_out_and_rescale_missing_components() {
        let x = Tensor::from_slice(&[1.0f32, nan(), 3.0, 0.0, 1.0, 2.0]).view([2, 3]);
        let w = Tensor::from_slice(&[0.0f32, 5.0, 1.0, 1.0, 1.0, 1.0]).view([2, 3]);
        let d = squared_euclidean_observed(&x, &w);
        // Row 0 observes 2 of 3 components: (1 + 4) * 3 / 2 and (0 + 4) * 3 / 2.
        let want = Tensor::from_slice(&[7.5f32, 6.0, 17.0, 2.0]).view([2, 2]);
        assert!(d.allclose(&want, 1e-6, 1e-6, false), "{d:?}");
        let diff = observed_differences(&x, &w).square().sum_dim_intlist(-1, false, Kind::Float);
        assert!(diff.allclose(&want, 1e-5, 1e-5, false), "{diff:?}");
        let complete = Tensor::from_slice(&[1.0f32, 2.0, 3.0]).view([1, 3]);
        assert!(squared_euclidean_observed(&complete, &w).allclose(&squared_euclidean(&complete, &w), 1e-6, 1e-6, false));
    }

    #[test]
    fn sums_counts_means_and_filling_skip_missing_cells() {
        let x = Tensor::from_slice(&[1.0f32, nan(), 3.0, 4.0, nan(), nan()]).view([3, 2]);
        let (sums, counts) = observed_sums(&x, &Tensor::from_slice(&[0i64, 0, 1]), 2).unwrap();
        assert_eq!(Vec::<f32>::try_from(sums.reshape([-1])).unwrap(), vec![4.0, 4.0, 0.0, 0.0]);
        assert_eq!(Vec::<f32>::try_from(counts.reshape([-1])).unwrap(), vec![2.0, 1.0, 0.0, 0.0]);
        let means = observed_means(&x);
        assert_eq!(Vec::<f32>::try_from(&means).unwrap(), vec![2.0, 4.0]);
        let filled = fill_missing(&x, &means);
        assert_eq!(Vec::<f32>::try_from(filled.reshape([-1])).unwrap(), vec![1.0, 4.0, 3.0, 4.0, 2.0, 4.0]);
    }
}
