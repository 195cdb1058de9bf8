//! The SOM distortion loss (paper 002, Sec. 3.2, `L_SOM`).

use tch::{Kind, Tensor};

/// SOM distortion `L_SOM = (1/n) sum_i sum_k w_ik ||x_i - m_k||^2` with `w_ik = K^T(δ(b_i, k))`
/// held fixed (paper 002, Sec. 2.1 and 3.2).
///
/// A **mean** over samples, as in the paper (`1/N`): the value and its gradient do not grow with
/// the batch size, so one learning rate fits every `n_b` (paper 002, Eq. 5-8 divide by `n_b`).
///
/// # Shapes
/// `dist`: `[.., n, K]` squared distances, `weights`: `[.., n, K]` → `[..]` (a scalar for 2-D input).
pub fn som_distortion(dist: &Tensor, weights: &Tensor) -> Tensor {
    (weights * dist) // [.., n, K]
        .sum_dim_intlist(-1, false, None::<Kind>) // [.., n]
        .mean_dim(-1, false, None::<Kind>)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_two_by_two_map() {
        // 2x2 grid, units 0 1 / 2 3, Manhattan δ; T = 1, Gaussian: K(0)=1, K(1)=e^-1, K(2)=e^-4.
        // Prototypes (0,0) (1,0) (0,1) (1,1); samples x1 = (0,0) (BMU 0), x2 = (1,1) (BMU 3).
        // Squared distances: x1 -> [0, 1, 1, 2], x2 -> [2, 1, 1, 0].
        // Per sample: 0*1 + 1*e^-1 + 1*e^-1 + 2*e^-4 = 2e^-1 + 2e^-4 (both); the mean is the same.
        let dist = Tensor::from_slice(&[0.0f32, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 0.0]).view([2, 4]);
        let (a, b) = ((-1.0f32).exp(), (-4.0f32).exp());
        let w = Tensor::from_slice(&[1.0, a, a, b, b, a, a, 1.0]).view([2, 4]);
        let expected = 2.0 * (-1.0f64).exp() + 2.0 * (-4.0f64).exp();
        assert!((som_distortion(&dist, &w).double_value(&[]) - expected).abs() < 1e-6);
    }

    #[test]
    fn gradient_is_two_w_times_difference() {
        // d L / d m_k = (2/n) sum_i w_ik (m_k - x_i) (paper 002, Sec. 3.4), here n = 1.
        let x = Tensor::from_slice(&[1.0f32, 2.0]).view([1, 2]);
        let m = Tensor::from_slice(&[0.0f32, 0.0, 3.0, 3.0]).view([2, 2]).set_requires_grad(true);
        let w = Tensor::from_slice(&[1.0f32, 0.5]).view([1, 2]);
        som_distortion(&crate::distance::squared_euclidean(&x, &m), &w).backward();
        let expected = Tensor::from_slice(&[-2.0f32, -4.0, 2.0, 1.0]).view([2, 2]);
        assert!(m.grad().allclose(&expected, 1e-5, 1e-5, false));
    }
}
