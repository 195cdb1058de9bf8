//! The one distance kernel: squared Euclidean distances between rows, clamped at zero.

use tch::Tensor;

/// Squared Euclidean distances `D[.., i, j] = ||x_i||^2 - 2 x_i . w_j + ||w_j||^2`, clamped at 0.
///
/// The expansion (paper 003, Sec. 2: "-2Wx + ||x||^2 + ||w||^2") turns the distance into one
/// matrix product; rounding can make it slightly negative for coincident points, hence the clamp.
///
/// # Shapes
/// `x`: `[.., n, d]`, `w`: `[.., k, d]` (leading dimensions broadcast) → `[.., n, k]`.
pub fn squared_euclidean(x: &Tensor, w: &Tensor) -> Tensor {
    let x_sq = x.square().sum_dim_intlist(-1, true, None::<tch::Kind>); // [.., n, 1]
    let w_sq = w.square().sum_dim_intlist(-1, true, None::<tch::Kind>).transpose(-2, -1); // [.., 1, k]
    let cross = x.matmul(&w.transpose(-2, -1)); // [.., n, k]
    (x_sq - cross * 2.0 + w_sq).clamp_min(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_direct_differences_and_is_never_negative() {
        let x = Tensor::from_slice(&[0.0f32, 0.0, 1.0, 2.0, 3.0, -1.0]).view([3, 2]);
        let w = Tensor::from_slice(&[1.0f32, 2.0, 0.0, 0.0]).view([2, 2]);
        let d = squared_euclidean(&x, &w);
        let direct = (x.unsqueeze(1) - w.unsqueeze(0)).square().sum_dim_intlist(-1, false, None::<tch::Kind>);
        assert!(d.allclose(&direct, 1e-6, 1e-6, false));
        assert_eq!(d.double_value(&[1, 0]), 0.0, "coincident point and prototype");
        let same = Tensor::from_slice(&[1e4f32, -3e4]).view([1, 2]);
        assert!(squared_euclidean(&same, &same).double_value(&[0, 0]) >= 0.0);
    }

    #[test]
    fn broadcasts_leading_replica_dimension() {
        let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).view([2, 2]);
        let w = Tensor::from_slice(&[0.0f32, 1.0, 5.0, 5.0]).view([2, 1, 2]);
        let d = squared_euclidean(&x, &w);
        assert_eq!(d.size(), vec![2, 2, 1]);
        assert_eq!(d.double_value(&[1, 1, 0]), 13.0);
    }
}
