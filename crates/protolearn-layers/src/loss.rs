//! Losses of the competitive layers as free functions over distance tensors (paper 000, Sec. II-F).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The form of the quantization error `Q` over the squared distance `m_i = min_j D_ij` of each
/// sample to its nearest prototype.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuantizationForm {
    /// `Q = ||m||_2 = sqrt(sum_i m_i^2)`: the form of the authors' code, with which the paper's
    /// learning rates (0.008 VCL / 0.0008 DCL) were tuned. Used when reproducing paper 000.
    L2Norm,
    /// `Q = (1/n) sum_i m_i`: the mean squared distance of the paper's text (Eq. 21).
    Mean,
}

/// Quantization error `Q` of each replica (paper 000, Eq. 21).
///
/// # Shapes
/// `dist`: `[.., n, k]` squared distances → `[..]`.
pub fn quantization_error(dist: &Tensor, form: QuantizationForm) -> Tensor {
    let nearest = dist.amin(-1, false); // [.., n]
    match form {
        QuantizationForm::L2Norm => nearest.square().sum_dim_intlist(-1, false, None::<Kind>).sqrt(),
        QuantizationForm::Mean => nearest.mean_dim(-1, false, None::<Kind>),
    }
}

/// Competitive Hebbian Learning adjacency: `E_ab = 1` when prototypes `a` and `b` are the first
/// and second nearest prototypes of at least one sample (paper 000, Sec. II-F), symmetric, zero
/// diagonal, no gradient. Ties between equal distances follow libtorch's `topk` order.
///
/// # Shapes
/// `dist`: `[.., n, k]` with `k >= 2` → `[.., k, k]` (float 0/1).
pub fn chl_adjacency(dist: &Tensor) -> Tensor {
    let _guard = tch::no_grad_guard();
    let size = dist.size();
    let k = size[size.len() - 1];
    let lead = &size[..size.len() - 2];
    let (_, idx) = dist.topk(2, -1, false, true); // [.., n, 2]
    let pair = idx.select(-1, 0) * k + idx.select(-1, 1); // [.., n]
    let flat_shape: Vec<i64> = lead.iter().copied().chain([k * k]).collect();
    let counts = Tensor::zeros(flat_shape.as_slice(), (Kind::Float, dist.device())).scatter_add(
        -1,
        &pair.flatten(lead.len() as i64, -1),
        &Tensor::ones_like(&pair.flatten(lead.len() as i64, -1)).to_kind(Kind::Float),
    );
    let square_shape: Vec<i64> = lead.iter().copied().chain([k, k]).collect();
    let counts = counts.view(square_shape.as_slice());
    (&counts + counts.transpose(-2, -1)).gt(0.0).to_kind(Kind::Float)
}

/// Frobenius norm `||E||` of an adjacency matrix (`sqrt` of twice the number of edges for a 0/1 symmetric `E`).
///
/// # Shapes
/// `adjacency`: `[.., k, k]` → `[..]`.
pub fn edge_matrix_norm(adjacency: &Tensor) -> Tensor {
    adjacency.square().sum_dim_intlist([-2i64, -1].as_slice(), false, None::<Kind>).sqrt()
}

/// Differentiable topology penalty: the summed squared length of the current CHL edges,
/// `T = sum_{a<b} E_ab ||p_a - p_b||^2`. Unlike the paper's constant `||E||^2` it pulls linked
/// prototypes together, so it changes the gradient (an option of this library, not of paper 000).
///
/// # Shapes
/// `prototypes`: `[.., k, d]`, `adjacency`: `[.., k, k]` → `[..]`.
pub fn chl_edge_length(prototypes: &Tensor, adjacency: &Tensor) -> Tensor {
    let lengths = crate::distance::squared_euclidean(prototypes, prototypes); // [.., k, k]
    (lengths * adjacency).sum_dim_intlist([-2i64, -1].as_slice(), false, None::<Kind>) * 0.5
}

/// Number of samples in each prototype's Voronoi set (ties go to the lowest index).
///
/// # Shapes
/// `dist`: `[.., n, k]` → `[.., k]` (int64).
pub fn voronoi_counts(dist: &Tensor) -> Tensor {
    let k = dist.size()[dist.dim() - 1];
    crate::distance::argmin(dist, -1).one_hot(k).sum_dim_intlist(-2, false, Kind::Int64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distance::squared_euclidean;

    fn line() -> (Tensor, Tensor) {
        // Samples on a line; prototypes at 0, 1, 10 and an unused one at 100.
        let x = Tensor::from_slice(&[0.1f32, 0.4, 0.9, 9.0]).view([4, 1]);
        let p = Tensor::from_slice(&[0.0f32, 1.0, 10.0, 100.0]).view([4, 1]);
        (x, p)
    }

    #[test]
    fn chl_links_first_and_second_winners() {
        let (x, p) = line();
        let e = chl_adjacency(&squared_euclidean(&x, &p));
        let expected = Tensor::from_slice(&[
            0.0f32, 1.0, 0.0, 0.0, //
            1.0, 0.0, 1.0, 0.0, //
            0.0, 1.0, 0.0, 0.0, //
            0.0, 0.0, 0.0, 0.0,
        ])
        .view([4, 4]);
        assert!(e.equal(&expected), "{e}");
        assert_eq!(edge_matrix_norm(&e).double_value(&[]), 2.0);
    }

    #[test]
    fn quantization_forms_and_voronoi_counts() {
        let (x, p) = line();
        let d = squared_euclidean(&x, &p);
        let m = [0.01f64, 0.16, 0.01, 1.0];
        let mean = m.iter().sum::<f64>() / 4.0;
        let l2 = m.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((quantization_error(&d, QuantizationForm::Mean).double_value(&[]) - mean).abs() < 1e-6);
        assert!((quantization_error(&d, QuantizationForm::L2Norm).double_value(&[]) - l2).abs() < 1e-6);
        assert_eq!(Vec::<i64>::try_from(voronoi_counts(&d)).unwrap(), vec![2, 1, 1, 0]);
    }

    #[test]
    fn edge_length_sums_linked_pairs_once() {
        let (x, p) = line();
        let e = chl_adjacency(&squared_euclidean(&x, &p));
        assert!((chl_edge_length(&p, &e).double_value(&[]) - (1.0 + 81.0)).abs() < 1e-4);
    }

    #[test]
    fn quantization_gradient_matches_finite_differences() {
        // Tolerance: float64 central differences with h = 1e-6 agree to ~1e-8; 1e-6 leaves margin.
        let x = Tensor::from_slice(&[0.3f64, -1.2, 2.0, 0.5, -0.7, 0.1, 1.5, 1.5]).view([4, 2]);
        let p0 = Tensor::from_slice(&[0.0f64, 0.0, 1.0, 1.0, -1.0, 0.5]).view([3, 2]);
        for form in [QuantizationForm::L2Norm, QuantizationForm::Mean] {
            let p = p0.copy().set_requires_grad(true);
            quantization_error(&squared_euclidean(&x, &p), form).backward();
            let grad = p.grad();
            let h = 1e-6;
            for idx in 0..6i64 {
                let (r, c) = (idx / 2, idx % 2);
                let shifted = |delta: f64| {
                    let q = p0.copy();
                    let _ = q.get(r).get(c).fill_(p0.double_value(&[r, c]) + delta);
                    quantization_error(&squared_euclidean(&x, &q), form).double_value(&[])
                };
                let numeric = (shifted(h) - shifted(-h)) / (2.0 * h);
                let analytic = grad.double_value(&[r, c]);
                assert!((numeric - analytic).abs() < 1e-6, "{form:?} [{r},{c}]: {numeric} vs {analytic}");
            }
        }
    }
}
