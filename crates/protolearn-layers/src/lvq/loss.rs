//! The LVQ losses on a dissimilarity matrix `d` `[n, k]` with prototype labels `[k]`: GLVQ's
//! relative distance difference `mu` (paper 003, Eq. 20), RSLVQ's negative log-likelihood of
//! the correct class (Eq. 19), CELVQ's cross-entropy on the per-class nearest distance.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// GLVQ's transfer function `f(mu)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Transfer {
    /// `f(mu) = mu`.
    Identity,
    /// `f(mu) = sigmoid(beta mu)` (Sato and Yamada).
    Sigmoid {
        /// Steepness `beta`.
        beta: f64,
    },
}

/// `[n, k]` mask of the prototypes whose label is the sample's class.
fn same_class(y: &Tensor, labels: &Tensor) -> Tensor {
    y.unsqueeze(1).eq_tensor(&labels.unsqueeze(0))
}

/// GLVQ's `mu_i = (d+ - d-) / (d+ + d-)` in `[-1, 1]`, `d+` the distance to the closest
/// prototype of the sample's class, `d-` to the closest of another class (0 when both are 0).
/// Negative `mu` means correctly classified.
///
/// # Shapes
/// `d`: `[n, k]`, `y`: `[n]` int64, `labels`: `[k]` int64 → `[n]`.
pub fn glvq_mu(d: &Tensor, y: &Tensor, labels: &Tensor) -> Tensor {
    let same = same_class(y, labels);
    let plus = d.masked_fill(&same.logical_not(), f64::INFINITY).amin(-1, false);
    let minus = d.masked_fill(&same, f64::INFINITY).amin(-1, false);
    (&plus - &minus) / (plus + minus).clamp_min(f64::from(f32::MIN_POSITIVE))
}

/// GLVQ's loss `(1/n) sum_i f(mu_i)`.
pub fn glvq_loss(d: &Tensor, y: &Tensor, labels: &Tensor, transfer: Transfer) -> Tensor {
    let mu = glvq_mu(d, y, labels);
    let kind = mu.kind();
    match transfer {
        Transfer::Identity => mu.mean(kind),
        Transfer::Sigmoid { beta } => (mu * beta).sigmoid().mean(kind),
    }
}

/// RSLVQ's class probabilities `p(c | x) = sum_{k: c_k = c} softmax_k(-d_k / sigma)`.
///
/// # Shapes
/// `d`: `[n, k]`, `labels`: `[k]` → `[n, classes]`, rows summing to 1.
pub fn rslvq_probabilities(d: &Tensor, labels: &Tensor, classes: i64, sigma: f64) -> Tensor {
    let p = (d / -sigma).softmax(-1, d.kind()); // [n, k]
    let index = labels.unsqueeze(0).expand_as(&p);
    Tensor::zeros([d.size()[0], classes], (d.kind(), d.device())).scatter_add(1, &index, &p)
}

/// RSLVQ's loss: the negative log-likelihood of the correct class,
/// `(1/n) sum_i [logsumexp_k(-d_ik / sigma) - logsumexp_{k: c_k = y_i}(-d_ik / sigma)]` (the
/// cross-entropy of [`rslvq_probabilities`], computed stably).
pub fn rslvq_loss(d: &Tensor, y: &Tensor, labels: &Tensor, sigma: f64) -> Tensor {
    let logits = d / -sigma;
    let correct = logits.masked_fill(&same_class(y, labels).logical_not(), f64::NEG_INFINITY).logsumexp([-1i64].as_slice(), false);
    (logits.logsumexp([-1i64].as_slice(), false) - correct).mean(d.kind())
}

/// The nearest distance of every class, `[n, classes]`; a class without prototypes is `inf`.
pub fn class_distances(d: &Tensor, labels: &Tensor, classes: i64) -> Tensor {
    let per_class: Vec<Tensor> = (0..classes).map(|c| d.masked_fill(&labels.ne(c).unsqueeze(0), f64::INFINITY).amin(-1, false)).collect();
    Tensor::stack(&per_class, 1)
}

/// CELVQ's loss: cross-entropy of `softmax_c(-min_{k: c_k = c} d_ik)` against the class.
pub fn celvq_loss(d: &Tensor, y: &Tensor, labels: &Tensor, classes: i64) -> Tensor {
    (-class_distances(d, labels, classes)).log_softmax(-1, d.kind()).nll_loss(y)
}

/// Checks that every label in `y` is one of the classes `0..classes` of the head, naming the
/// first one that is not (one host copy: call it once per dataset, not per batch).
pub fn check_labels(y: &Tensor, classes: i64) -> Result<()> {
    let values = Vec::<i64>::try_from(y.to_device(tch::Device::Cpu).to_kind(Kind::Int64))?;
    match values.iter().position(|&c| c < 0 || c >= classes) {
        Some(i) => Err(Error::InvalidConfig {
            field: "labels",
            expected: format!("class labels in 0..{classes} (the prototypes' labels)"),
            found: format!("{} at sample {i}", values[i]),
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn case() -> (Tensor, Tensor, Tensor) {
        // 3 samples, 4 prototypes labelled [0, 0, 1, 2].
        let d = Tensor::from_slice(&[1.0f32, 4.0, 9.0, 16.0, 5.0, 2.0, 1.0, 8.0, 0.0, 0.0, 3.0, 3.0]).view([3, 4]);
        (d, Tensor::from_slice(&[0i64, 1, 2]), Tensor::from_slice(&[0i64, 0, 1, 2]))
    }

    #[test]
    fn glvq_mu_is_the_relative_difference_in_minus_one_one() {
        let (d, y, labels) = case();
        let mu = Vec::<f32>::try_from(glvq_mu(&d, &y, &labels)).unwrap();
        assert_eq!(mu[0], (1.0 - 9.0) / 10.0, "d+ = 1 (proto 0), d- = 9 (proto 2)");
        assert_eq!(mu[1], (1.0 - 2.0) / 3.0);
        assert_eq!(mu[2], 1.0, "d+ = 3, d- = 0");
        assert!(mu.iter().all(|m| (-1.0..=1.0).contains(m)));
        let zero = Tensor::zeros([1, 4], (Kind::Float, Device::Cpu));
        assert_eq!(glvq_mu(&zero, &Tensor::from_slice(&[0i64]), &labels).double_value(&[0]), 0.0, "0/0 is 0, not NaN");
        let s = glvq_loss(&d, &y, &labels, Transfer::Sigmoid { beta: 2.0 }).double_value(&[]);
        let expected = mu.iter().map(|&m| 1.0 / (1.0 + (-2.0 * f64::from(m)).exp())).sum::<f64>() / 3.0;
        assert!((s - expected).abs() < 1e-6);
    }

    #[test]
    fn rslvq_probabilities_sum_to_one_and_give_the_loss() {
        let (d, y, labels) = case();
        let p = rslvq_probabilities(&d, &labels, 3, 0.5);
        assert!(p.sum_dim_intlist(-1, false, Kind::Float).allclose(&Tensor::ones([3], (Kind::Float, Device::Cpu)), 1e-6, 1e-6, false));
        let nll = -p.gather(1, &y.unsqueeze(1), false).log().mean(Kind::Float);
        assert!((rslvq_loss(&d, &y, &labels, 0.5).double_value(&[]) - nll.double_value(&[])).abs() < 1e-5);
    }

    #[test]
    fn celvq_uses_the_nearest_prototype_of_each_class() {
        let (d, y, labels) = case();
        let c = class_distances(&d, &labels, 3);
        assert_eq!(Vec::<f32>::try_from(c.get(0)).unwrap(), vec![1.0, 9.0, 16.0]);
        let expected = (-&c).log_softmax(-1, Kind::Float).gather(1, &y.unsqueeze(1), false).mean(Kind::Float) * -1.0;
        assert!((celvq_loss(&d, &y, &labels, 3).double_value(&[]) - expected.double_value(&[])).abs() < 1e-6);
        assert!(check_labels(&y, 3).is_ok());
        let err = check_labels(&Tensor::from_slice(&[0i64, 3]), 3).unwrap_err().to_string();
        assert!(err.contains("3 at sample 1"), "{err}");
    }
}
