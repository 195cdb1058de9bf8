//! The soft quantization loss of DDCL (paper 001) and its exact decomposition
//! `L_q = L_OLS + V` into a simplex-constrained reconstruction error and a weighted prototype
//! variance.

use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use tch::{Kind, Tensor};

/// Soft assignments `q_ik = softmax_k(-d_ik / tau)` of squared distances `d` (paper 001).
/// Every row is a point of the simplex (non-negative, sums to 1); ties share equally and a
/// sample far from every prototype still gets a valid row (softmax subtracts the row maximum).
///
/// # Shapes
/// `distances`: `[.., n, k]` → `[.., n, k]`.
pub fn soft_assignment(distances: &Tensor, tau: f64) -> Result<Tensor> {
    check_tau(tau)?;
    Ok((distances / -tau).softmax(-1, distances.kind()))
}

/// Checks `tau > 0` and finite.
pub(crate) fn check_tau(tau: f64) -> Result<()> {
    if tau.is_finite() && tau > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig { field: "tau", expected: "a finite temperature > 0".into(), found: tau.to_string() })
    }
}

/// The terms of the soft quantization loss of one batch, all `[]` scalars with gradient.
#[derive(Debug)]
pub struct SoftQuantization {
    /// `L_q = (1/n) sum_i sum_k q_ik ||z_i - p_k||^2`.
    pub loss: Tensor,
    /// `L_OLS = (1/n) sum_i ||z_i - ẑ_i||^2`, `ẑ_i = sum_k q_ik p_k`: the error of the best
    /// reconstruction of `z_i` by a convex combination of prototypes with weights `q_i`.
    pub reconstruction: Tensor,
    /// `V = (1/n) sum_i sum_k q_ik ||p_k - ẑ_i||^2 >= 0`: the variance of the prototypes under
    /// each sample's assignment, averaged over samples.
    pub variance: Tensor,
    /// The assignments `q` `[n, k]`.
    pub assignment: Tensor,
}

impl SoftQuantization {
    /// The terms for features `z` `[n, L]` and prototypes `p` `[k, L]` at temperature `tau`.
    ///
    /// Distances come from the one kernel ([`squared_euclidean`], clamped at 0). The identity
    /// `L_q = L_OLS + V` (paper 001) is the bias-variance decomposition of
    /// `sum_k q_ik ||z_i - p_k||^2` around the `q_i`-weighted mean `ẑ_i`; it needs only
    /// `sum_k q_ik = 1`. [`IdentityCheck`] verifies it in float64.
    pub fn new(z: &Tensor, p: &Tensor, tau: f64) -> Result<Self> {
        decompose(z, p, tau, squared_euclidean)
    }
}

/// The decomposition with distances from `distance` (`[n, L] x [k, L] -> [n, k]`).
fn decompose(z: &Tensor, p: &Tensor, tau: f64, distance: fn(&Tensor, &Tensor) -> Tensor) -> Result<SoftQuantization> {
    let l = expect_dims(z, 2, "DDCL features", "[n, L]")?[1];
    let pl = expect_dims(p, 2, "DDCL prototypes", "[k, L]")?[1];
    if pl != l {
        return Err(Error::Shape { what: "DDCL prototypes", expected: format!("[k, {l}] (the feature size)"), got: p.size() });
    }
    let kind = z.kind();
    let d = distance(z, p); // [n, k]
    let q = soft_assignment(&d, tau)?;
    let loss = (&q * &d).sum_dim_intlist(-1, false, kind).mean(kind);
    let mixture = q.matmul(p); // ẑ [n, L]
    let reconstruction = (z - &mixture).square().sum_dim_intlist(-1, false, kind).mean(kind);
    let variance = (&q * distance(&mixture, p)).sum_dim_intlist(-1, false, kind).mean(kind);
    Ok(SoftQuantization { loss, reconstruction, variance, assignment: q })
}

/// Squared distances by direct differences `||z_i - p_k||^2` (no expansion, so no cancellation):
/// the reference for the float64 identity check.
fn direct_squared_distances(z: &Tensor, p: &Tensor) -> Tensor {
    (z.unsqueeze(1) - p.unsqueeze(0)).square().sum_dim_intlist(-1, false, z.kind())
}

/// The identity `L_q = L_OLS + V` evaluated in float64 with direct differences (paper 001: "zero
/// violations across more than one hundred thousand training epochs").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdentityCheck {
    /// `L_q` in float64.
    pub loss: f64,
    /// `L_OLS` in float64.
    pub reconstruction: f64,
    /// `V` in float64.
    pub variance: f64,
}

/// Relative error above which the identity counts as violated (paper 001's threshold). Float64
/// rounding of the three sums is about `n k L * 1e-16`, many orders below it.
pub const IDENTITY_TOLERANCE: f64 = 1e-6;

impl IdentityCheck {
    /// The three terms of `z` `[n, L]`, `p` `[k, L]` at `tau`, computed in float64 (detached).
    pub fn new(z: &Tensor, p: &Tensor, tau: f64) -> Result<Self> {
        let _guard = tch::no_grad_guard();
        let terms = decompose(&z.to_kind(Kind::Double), &p.to_kind(Kind::Double), tau, direct_squared_distances)?;
        Ok(IdentityCheck {
            loss: terms.loss.f_double_value(&[])?,
            reconstruction: terms.reconstruction.f_double_value(&[])?,
            variance: terms.variance.f_double_value(&[])?,
        })
    }

    /// `|L_q - (L_OLS + V)| / max(|L_q|, tiny)`.
    pub fn relative_error(&self) -> f64 {
        (self.loss - (self.reconstruction + self.variance)).abs() / self.loss.abs().max(f64::MIN_POSITIVE)
    }

    /// Whether the relative error exceeds [`IDENTITY_TOLERANCE`].
    pub fn violated(&self) -> bool {
        let error = self.relative_error();
        error.is_nan() || error > IDENTITY_TOLERANCE
    }
}

/// The identity check on the device, without a host copy: relative error `[]` float64 of the
/// three terms (for per-step logging; [`IdentityCheck`] is the host-side version).
pub fn identity_relative_error(z: &Tensor, p: &Tensor, tau: f64) -> Result<Tensor> {
    let _guard = tch::no_grad_guard();
    let t = decompose(&z.to_kind(Kind::Double), &p.to_kind(Kind::Double), tau, direct_squared_distances)?;
    Ok((&t.loss - (&t.reconstruction + &t.variance)).abs() / t.loss.abs().clamp_min(f64::MIN_POSITIVE))
}

/// Mean assignment entropy `-(1/n) sum_i sum_k q_ik ln q_ik` (nats; 0 for hard assignments,
/// `ln k` for uniform ones).
///
/// # Shapes
/// `q`: `[n, k]` → `[]`.
pub fn assignment_entropy(q: &Tensor) -> Tensor {
    let kind = q.kind();
    (-(q * q.clamp_min(1e-30).log()).sum_dim_intlist(-1, false, kind)).mean(kind)
}

/// Mean and minimum distance `||p_j - p_k||` over pairs `j < k` of prototypes `[k, L]`
/// (`[]` each; both 0 for a single prototype).
pub fn prototype_separation(p: &Tensor) -> (Tensor, Tensor) {
    let k = p.size()[0];
    let d = direct_squared_distances(p, p).clamp_min(0.0).sqrt(); // [k, k]
    if k < 2 {
        let zero = Tensor::zeros([], (p.kind(), p.device()));
        return (zero.shallow_clone(), zero);
    }
    // Masked reductions of fixed shape: no data-dependent output size, so no device sync on a
    // GPU (it runs at every training step).
    let upper = Tensor::ones([k, k], (Kind::Bool, p.device())).triu(1);
    let pairs = (k * (k - 1) / 2) as f64;
    let mean = d.masked_fill(&upper.logical_not(), 0.0).sum(p.kind()) / pairs;
    let min = d.masked_fill(&upper.logical_not(), f64::INFINITY).min();
    (mean, min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use tch::Device;

    fn random(rng: &mut ChaCha8Rng, shape: [i64; 2], scale: f64) -> Tensor {
        let v: Vec<f64> = (0..shape[0] * shape[1]).map(|_| rng.random_range(-1.0..1.0) * scale).collect();
        Tensor::from_slice(&v).view(shape)
    }

    #[test]
    fn identity_holds_in_float64_on_many_shapes_and_temperatures() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut checked = 0;
        for &(n, k, l) in &[(1, 2, 1), (7, 3, 2), (64, 10, 10), (200, 5, 33), (3, 17, 4)] {
            for &tau in &[1e-3, 0.1, 1.0, 10.0, 1e3] {
                for &scale in &[1e-3, 1.0, 1e3] {
                    let (z, p) = (random(&mut rng, [n, l], scale), random(&mut rng, [k, l], scale));
                    let check = IdentityCheck::new(&z, &p, tau).unwrap();
                    assert!(!check.violated(), "n {n} k {k} L {l} tau {tau} scale {scale}: {check:?}");
                    assert!(check.variance >= 0.0 && check.reconstruction >= 0.0);
                    let device = identity_relative_error(&z, &p, tau).unwrap().double_value(&[]);
                    assert!((device - check.relative_error()).abs() < 1e-12);
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 75);
    }

    #[test]
    fn float32_terms_match_the_float64_check() {
        // Float32 sums of 64 x 10 terms of size ~1: relative rounding ~1e-6, allowed 1e-4.
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (z, p) = (random(&mut rng, [64, 10], 1.0), random(&mut rng, [10, 10], 1.0));
        let check = IdentityCheck::new(&z, &p, 0.5).unwrap();
        let t = SoftQuantization::new(&z.to_kind(Kind::Float), &p.to_kind(Kind::Float), 0.5).unwrap();
        for (got, expected) in [(&t.loss, check.loss), (&t.reconstruction, check.reconstruction), (&t.variance, check.variance)] {
            assert!((got.double_value(&[]) - expected).abs() <= 1e-4 * expected.abs().max(1e-3), "{got:?} vs {expected}");
        }
    }

    #[test]
    fn assignments_are_simplex_rows_even_for_far_samples_and_ties() {
        let z = Tensor::from_slice(&[0.0f32, 0.0, 1e4, 1e4, 1.0, 0.0]).view([3, 2]);
        let p = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 1.0]).view([2, 2]);
        let q = soft_assignment(&squared_euclidean(&z, &p), 0.01).unwrap();
        assert!(q.isfinite().all().int64_value(&[]) == 1);
        let sums = q.sum_dim_intlist(-1, false, Kind::Float);
        assert!(sums.allclose(&Tensor::ones([3], (Kind::Float, Device::Cpu)), 1e-6, 1e-6, false));
        // The third sample is equidistant from both prototypes: equal shares.
        assert!((q.double_value(&[2, 0]) - 0.5).abs() < 1e-6);
        assert!(soft_assignment(&q, 0.0).is_err() && soft_assignment(&q, f64::NAN).is_err() && soft_assignment(&q, -1.0).is_err());
    }

    #[test]
    fn variance_gradient_pushes_two_prototypes_apart() {
        // Samples at -1 and +1, prototypes at -a and +a (a = 1), tau = 1. By symmetry
        // q_11 = q_22 = q = sigmoid(4a / tau) and V = 4 a^2 q (1 - q), which *falls* as a grows past
        // its peak (assignments sharpen): descending V moves the prototypes apart. The gradient
        // through q is what makes V a separation force (with q held fixed it would attract).
        let z = Tensor::from_slice(&[-1.0f64, 1.0]).view([2, 1]);
        let p = Tensor::from_slice(&[-1.0f64, 1.0]).view([2, 1]).set_requires_grad(true);
        let t = SoftQuantization::new(&z, &p, 1.0).unwrap();
        let q = 1.0 / (1.0 + (-4.0f64).exp());
        assert!((t.variance.double_value(&[]) - 4.0 * q * (1.0 - q)).abs() < 1e-12);
        let grad = Tensor::run_backward(&[&t.variance], &[&p], false, false).pop().unwrap();
        let (g1, g2) = (grad.double_value(&[0, 0]), grad.double_value(&[1, 0]));
        assert!(g1 > 0.0 && g2 < 0.0, "a descent step moves p1 left and p2 right: {g1} {g2}");
        assert!((g1 + g2).abs() < 1e-12, "symmetric");
        // dV/da = q(1-q) (8a + 16 a^2 (1 - 2q) / tau) split equally over the two prototypes.
        let dv_da = q * (1.0 - q) * (8.0 + 16.0 * (1.0 - 2.0 * q));
        assert!((g2 - dv_da / 2.0).abs() < 1e-10, "{g2} vs {}", dv_da / 2.0);
    }

    #[test]
    fn separation_and_entropy() {
        let p = Tensor::from_slice(&[0.0f32, 0.0, 3.0, 4.0, 0.0, 1.0]).view([3, 2]);
        let (mean, min) = prototype_separation(&p);
        assert!((mean.double_value(&[]) - (5.0 + 1.0 + 18f64.sqrt()) / 3.0).abs() < 1e-5);
        assert!((min.double_value(&[]) - 1.0).abs() < 1e-6);
        let uniform = Tensor::full([4, 5], 0.2, (Kind::Float, Device::Cpu));
        assert!((assignment_entropy(&uniform).double_value(&[]) - 5f64.ln()).abs() < 1e-5);
        let hard = Tensor::eye(3, (Kind::Float, Device::Cpu));
        assert_eq!(assignment_entropy(&hard).double_value(&[]), 0.0);
    }
}
