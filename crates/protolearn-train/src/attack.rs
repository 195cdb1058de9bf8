//! White-box adversarial attacks in the L-inf ball (paper 003, Sec. 7.3 argues that prototype
//! heads make networks more robust; this is how it is measured): FGSM (Goodfellow et al. 2015)
//! and PGD (Madry et al. 2018) with gradients through the head *and* the backbone, on the
//! margin loss `max_{c != y} s_c - s_y` of the head's class scores (the same loss for a softmax
//! and a prototype head, so no head is attacked with a weaker objective), and the accuracy
//! under attack.
//!
//! ```
//! use protolearn_data::tensor::Dataset;
//! use protolearn_train::attack::{accuracy_under_attack, Attack, AttackConfig};
//! use protolearn_train::classifier::LinearHead;
//! use tch::{nn, Device, Tensor};
//!
//! // A fixed linear classifier on 1-D points at -1 and +1: the class flips at 0.
//! let vs = nn::VarStore::new(Device::Cpu);
//! let mut head = LinearHead::new(&vs.root(), 1, 2, &mut rand::SeedableRng::seed_from_u64(0));
//! tch::no_grad(|| {
//!     head.weight.copy_(&Tensor::from_slice(&[-1.0f32, 1.0]).view([2, 1]));
//! });
//! let x = Tensor::from_slice(&[-1.0f32, 1.0]).view([2, 1]);
//! let data = Dataset::new(x, Some(Tensor::from_slice(&[0i64, 1]))).unwrap();
//! let at = |epsilon| AttackConfig { attack: Attack::Fgsm, epsilon, clip: None };
//! assert_eq!(accuracy_under_attack(None, &head, &data, &at(0.5), 64, 0).unwrap(), 1.0);
//! assert_eq!(accuracy_under_attack(None, &head, &data, &at(1.5), 64, 0).unwrap(), 0.0);
//! ```

use crate::classifier::{features, Classifier};
use crate::error::{Error, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::Backbone;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Which attack.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Attack {
    /// One signed-gradient step of size `epsilon`: `x' = clip(x + eps sign(grad_x L))`.
    Fgsm,
    /// `steps` signed-gradient steps of `step_size * epsilon`, each projected back onto the
    /// `epsilon` ball around `x` (and the clip range), from a uniform random start in the ball.
    Pgd {
        /// Iterations (Madry et al.: 40 on MNIST; 10 is a common cheaper setting).
        steps: usize,
        /// Step as a fraction of `epsilon` (Madry et al.: 0.01 / 0.3 with 40 steps; `2.5 / steps`
        /// reaches the border from anywhere in the ball).
        step_size: f64,
    },
}

/// An attack with its budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackConfig {
    /// FGSM or PGD.
    pub attack: Attack,
    /// L-inf radius `epsilon` (in input units; images in `[0, 1]`: 0.1 - 0.3 on MNIST).
    pub epsilon: f64,
    /// The valid input range `[lo, hi]` the adversarial input is clipped to (`[0, 1]` for
    /// images; `None`: unbounded).
    pub clip: Option<[f64; 2]>,
}

impl AttackConfig {
    /// Checks the radius, the range and the PGD settings.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field: &str, expected: &str, found: String| {
            Err(Error::InvalidConfig { field: field.into(), expected: expected.into(), found })
        };
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return invalid("epsilon", "finite and >= 0", self.epsilon.to_string());
        }
        if let Some([lo, hi]) = self.clip {
            if !(lo.is_finite() && hi.is_finite() && lo < hi) {
                return invalid("clip", "finite [lo, hi] with lo < hi", format!("[{lo}, {hi}]"));
            }
        }
        match self.attack {
            Attack::Pgd { steps: 0, .. } => invalid("steps", "at least 1", "0".into()),
            Attack::Pgd { step_size, .. } if !(step_size.is_finite() && step_size > 0.0) => {
                invalid("step_size", "finite and > 0", step_size.to_string())
            }
            _ => Ok(()),
        }
    }
}

/// The margin `max_{c != y} s_c - s_y` of every row (`[n]`; positive = misclassified).
///
/// # Shapes
/// `scores`: `[n, classes]`, `y`: `[n]` int64 → `[n]`.
pub fn margin(scores: &Tensor, y: &Tensor) -> Tensor {
    let index = y.unsqueeze(1);
    let correct = scores.gather(1, &index, false).squeeze_dim(1);
    let others = scores.scatter_value(1, &index, f64::NEG_INFINITY).amax(-1, false);
    others - correct
}

/// The network the attack differentiates: backbone (if any) then head.
struct Target<'a> {
    backbone: Option<&'a dyn Backbone>,
    head: &'a dyn Classifier,
}

impl Target<'_> {
    /// `sign(grad_x sum_i margin_i)`.
    fn signed_gradient(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let x = x.detach().set_requires_grad(true);
        let loss = margin(&self.head.scores(&features(self.backbone, &x)?)?, y).sum(Kind::Float);
        let grad = Tensor::f_run_backward(&[loss], &[&x], false, false)?;
        Ok(grad[0].sign())
    }
}

/// `x` clipped to the config's range.
fn clipped(x: Tensor, clip: Option<[f64; 2]>) -> Tensor {
    match clip {
        Some([lo, hi]) => x.clamp(lo, hi),
        None => x,
    }
}

/// The adversarial version of the batch `x` (labels `y`) under `config`; PGD's random start is
/// drawn on the host from `rng`.
fn perturb(target: &Target<'_>, x: &Tensor, y: &Tensor, config: &AttackConfig, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let eps = config.epsilon;
    if eps == 0.0 {
        return Ok(x.shallow_clone());
    }
    match config.attack {
        Attack::Fgsm => Ok(clipped(x + target.signed_gradient(x, y)? * eps, config.clip)),
        Attack::Pgd { steps, step_size } => {
            let noise: Vec<f32> = (0..x.numel()).map(|_| rng.random_range(-eps as f32..=eps as f32)).collect();
            let start = Tensor::from_slice(&noise).view(x.size().as_slice()).to_device(x.device());
            let mut adversarial = clipped(x + start, config.clip);
            for _ in 0..steps {
                let stepped = &adversarial + target.signed_gradient(&adversarial, y)? * (step_size * eps);
                let projected = x + (stepped - x).clamp(-eps, eps);
                adversarial = clipped(projected, config.clip);
            }
            Ok(adversarial)
        }
    }
}

/// The accuracy of `head` on `backbone`'s features of `data` when every sample is replaced by its
/// adversarial version under `config` (white box: gradients through head and backbone), in
/// batches of `batch_size`; `seed` draws PGD's random starts.
pub fn accuracy_under_attack(
    backbone: Option<&dyn Backbone>,
    head: &dyn Classifier,
    data: &Dataset,
    config: &AttackConfig,
    batch_size: usize,
    seed: u64,
) -> Result<f64> {
    config.validate()?;
    let y = data.y.as_ref().ok_or_else(|| Error::InvalidConfig {
        field: "data".into(),
        expected: "a labelled dataset to attack".into(),
        found: "none".into(),
    })?;
    if batch_size == 0 {
        return Err(Error::InvalidConfig { field: "batch_size".into(), expected: "at least 1".into(), found: "0".into() });
    }
    let target = Target { backbone, head };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = data.n_samples() as i64;
    let mut correct = Tensor::zeros([], (Kind::Int64, data.device()));
    for start in (0..n).step_by(batch_size) {
        let len = (batch_size as i64).min(n - start);
        let (x, y) = (data.x.narrow(0, start, len), y.narrow(0, start, len));
        let adversarial = perturb(&target, &x, &y, config, &mut rng)?;
        let _guard = tch::no_grad_guard();
        let predicted = head.predict(&features(backbone, &adversarial)?)?;
        correct = &correct + predicted.eq_tensor(&y).sum(Kind::Int64);
    }
    Ok(correct.f_double_value(&[])? / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classifier::LinearHead;
    use tch::{nn, Device};

    /// A linear head `s = [ -x_0, x_0 ]` on 2-D points (the second coordinate is ignored).
    fn head(vs: &nn::VarStore) -> LinearHead {
        let mut head = LinearHead::new(&vs.root(), 2, 2, &mut ChaCha8Rng::seed_from_u64(0));
        tch::no_grad(|| {
            head.weight.copy_(&Tensor::from_slice(&[-1.0f32, 0.0, 1.0, 0.0]).view([2, 2]));
        });
        head
    }

    #[test]
    fn margin_is_best_wrong_minus_correct() {
        let s = Tensor::from_slice(&[3.0f32, 1.0, 2.0, 0.0, 5.0, 1.0]).view([2, 3]);
        let m = Vec::<f32>::try_from(margin(&s, &Tensor::from_slice(&[0i64, 0]))).unwrap();
        assert_eq!(m, vec![-1.0, 5.0]);
    }

    #[test]
    fn fgsm_moves_every_coordinate_by_epsilon_towards_the_border() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = head(&vs);
        let target = Target { backbone: None, head: &head };
        let x = Tensor::from_slice(&[0.5f32, 0.5, -0.5, 0.5]).view([2, 2]);
        let y = Tensor::from_slice(&[1i64, 0]);
        let config = AttackConfig { attack: Attack::Fgsm, epsilon: 0.2, clip: Some([0.0, 1.0]) };
        let adv =
            Vec::<f32>::try_from(perturb(&target, &x, &y, &config, &mut ChaCha8Rng::seed_from_u64(0)).unwrap().flatten(0, -1)).unwrap();
        // Class 1 at x_0 = 0.5 is pushed to 0.3; class 0 at -0.5 to -0.3, then clipped to 0.
        // The ignored coordinate has zero gradient, sign 0: it stays.
        assert_eq!(adv, vec![0.3, 0.5, 0.0, 0.5]);
    }

    #[test]
    fn pgd_stays_in_the_ball_and_beats_a_margin_smaller_than_epsilon() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = head(&vs);
        let target = Target { backbone: None, head: &head };
        let x = Tensor::from_slice(&[0.3f32, 0.0, -0.6, 0.0]).view([2, 2]);
        let y = Tensor::from_slice(&[1i64, 0]);
        let config = AttackConfig { attack: Attack::Pgd { steps: 10, step_size: 0.25 }, epsilon: 0.4, clip: None };
        let adv = perturb(&target, &x, &y, &config, &mut ChaCha8Rng::seed_from_u64(3)).unwrap();
        let moved = (&adv - &x).abs().max().double_value(&[]);
        assert!(moved <= 0.4 + 1e-6, "left the ball: {moved}");
        let predicted = Vec::<i64>::try_from(head.predict(&adv).unwrap()).unwrap();
        assert_eq!(predicted, vec![0, 0], "margin 0.3 < eps flips; margin 0.6 > eps holds");
        let data = Dataset::new(x, Some(y)).unwrap();
        assert_eq!(accuracy_under_attack(None, &head, &data, &config, 1, 0).unwrap(), 0.5);
        let none = AttackConfig { epsilon: 0.0, ..config };
        assert_eq!(accuracy_under_attack(None, &head, &data, &none, 1, 0).unwrap(), 1.0);
    }

    #[test]
    fn bad_budgets_are_errors() {
        let base = AttackConfig { attack: Attack::Fgsm, epsilon: 0.1, clip: None };
        assert!(AttackConfig { epsilon: -0.1, ..base }.validate().is_err());
        assert!(AttackConfig { clip: Some([1.0, 0.0]), ..base }.validate().is_err());
        let err = AttackConfig { attack: Attack::Pgd { steps: 0, step_size: 0.1 }, ..base }.validate().unwrap_err();
        assert!(err.to_string().contains("steps"), "{err}");
    }
}
