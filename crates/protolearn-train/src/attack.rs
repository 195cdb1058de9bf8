//! Adversarial attacks in the L-inf ball (paper 003, Sec. 7.3 argues that prototype heads and
//! hard kernel-prototype layers make networks more robust; this is how it is measured): FGSM
//! (Goodfellow et al. 2015) and PGD with random restarts (Madry et al. 2018), white box with
//! gradients through the head *and* the backbone — through a hard layer's straight-through
//! estimator, i.e. BPDA (Athalye et al. 2018): hard values forward, the soft surrogate's gradient
//! backward — and SPSA (Uesato et al. 2018), which estimates the gradient from forward passes
//! only, the check against gradient masking. Every attack climbs the margin loss
//! `max_{c != y} s_c - s_y` of the head's class scores (the same loss for a softmax and a
//! prototype head, so no head is attacked with a weaker objective). [`adversarial_examples`]
//! keeps each sample's first version that fools the model, so examples crafted on one model can
//! be replayed on another (a transfer attack); [`accuracy_under_attack`] is the accuracy on them.
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
use protolearn_layers::autoencoder::{encode_chunked, Backbone};
use rand::{Rng, RngCore, SeedableRng};
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
    /// `epsilon` ball around `x` (and the clip range), from a uniform random start in the ball;
    /// `restarts` independent starts, a sample counting as broken when any of them breaks it.
    Pgd {
        /// Iterations (Madry et al.: 40 on MNIST; 10 is a common cheaper setting).
        steps: usize,
        /// Step as a fraction of `epsilon` (Madry et al.: 0.01 / 0.3 with 40 steps; `2.5 / steps`
        /// reaches the border from anywhere in the ball).
        step_size: f64,
        /// Random starts (default 1).
        #[serde(default = "one")]
        restarts: usize,
    },
    /// SPSA (Uesato et al. 2018, Sec. 3.1): from `x`, `iterations` signed steps of
    /// `step_size * epsilon` along the gradient estimate
    /// `g = (1/S) sum_s (L(x + δ v_s) - L(x - δ v_s)) / (2δ) v_s` over `S = samples` Rademacher
    /// directions `v_s`, projected as PGD's. Forward passes only: it sees the hard forward of a
    /// layer, not a surrogate's gradient.
    Spsa {
        /// Iterations.
        iterations: usize,
        /// Directions `S` per iteration (each costs two forward passes of the batch).
        samples: usize,
        /// Probe size `δ` in input units (Uesato et al.: 0.01).
        delta: f64,
        /// Step as a fraction of `epsilon`.
        step_size: f64,
    },
}

fn one() -> usize {
    1
}

/// An attack with its budget.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttackConfig {
    /// FGSM, PGD or SPSA.
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
        let positive = |x: f64| x.is_finite() && x > 0.0;
        match self.attack {
            Attack::Pgd { steps: 0, .. } | Attack::Spsa { iterations: 0, .. } => invalid("steps", "at least 1", "0".into()),
            Attack::Pgd { restarts: 0, .. } => invalid("restarts", "at least 1", "0".into()),
            Attack::Spsa { samples: 0, .. } => invalid("samples", "at least 1", "0".into()),
            Attack::Pgd { step_size, .. } | Attack::Spsa { step_size, .. } if !positive(step_size) => {
                invalid("step_size", "finite and > 0", step_size.to_string())
            }
            Attack::Spsa { delta, .. } if !positive(delta) => invalid("delta", "finite and > 0", delta.to_string()),
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

    /// The head's inputs for `x` without gradient (the backbone encodes a few thousand rows at a
    /// time).
    fn features_without_gradient(&self, x: &Tensor) -> Result<Tensor> {
        match self.backbone {
            Some(b) => Ok(encode_chunked(b, x)?),
            None => Ok(x.flatten(1, -1)),
        }
    }

    /// The margins of `x` without gradient.
    fn margins(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(margin(&self.head.scores(&self.features_without_gradient(x)?)?, y))
    }

    /// The predicted class of every row of `x`, without gradient.
    fn predict(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.head.predict(&self.features_without_gradient(x)?)
    }

    /// `current` where it already fools the model, else `candidate` (per sample).
    fn keep_fooling(&self, current: Tensor, candidate: Tensor, y: &Tensor) -> Result<Tensor> {
        let fooled = self.predict(&current)?.ne_tensor(y);
        let mask = fooled.view([-1].into_iter().chain(std::iter::repeat_n(1, current.dim() - 1)).collect::<Vec<i64>>().as_slice());
        Ok(current.where_self(&mask, &candidate))
    }

    /// SPSA's estimate of `grad_x margin` at every row of `x` from `samples` Rademacher
    /// directions drawn on the host from `rng`.
    fn spsa_gradient(&self, x: &Tensor, y: &Tensor, samples: usize, delta: f64, rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        let s = samples as i64;
        let n = x.size()[0];
        let signs = rademacher(samples * x.numel(), rng);
        let mut shape = vec![s];
        shape.extend(x.size());
        let v = Tensor::from_slice(&signs).view(shape.as_slice()).to_device(x.device());
        let probes = Tensor::f_cat(&[x.unsqueeze(0) + &v * delta, x.unsqueeze(0) - &v * delta], 0)?.flatten(0, 1);
        let m = self.margins(&probes, &y.repeat([2 * s]))?.view([2, s, n]);
        let slope = (m.get(0) - m.get(1)) / (2.0 * delta);
        let mut per_sample = vec![s, n];
        per_sample.extend(std::iter::repeat_n(1, x.dim() - 1));
        Ok((v * slope.view(per_sample.as_slice())).mean_dim(0, false, Kind::Float))
    }
}

/// `count` independent signs `±1` from the bits of `rng`.
fn rademacher(count: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut signs = Vec::with_capacity(count);
    while signs.len() < count {
        let bits = rng.next_u64();
        signs.extend((0..64.min(count - signs.len())).map(|b| if bits >> b & 1 == 1 { 1.0 } else { -1.0 }));
    }
    signs
}

/// `x` clipped to the config's range.
fn clipped(x: Tensor, clip: Option<[f64; 2]>) -> Tensor {
    match clip {
        Some([lo, hi]) => x.clamp(lo, hi),
        None => x,
    }
}

/// `x + step` projected onto the `epsilon` ball around `x` and the clip range.
fn projected(x: &Tensor, stepped: Tensor, config: &AttackConfig) -> Tensor {
    clipped(x + (stepped - x).clamp(-config.epsilon, config.epsilon), config.clip)
}

/// The adversarial version of the batch `x` (labels `y`) under `config`: for each sample the
/// first version found that fools the model, else the attack's last. PGD's random starts and
/// SPSA's directions are drawn on the host from `rng`.
fn perturb(target: &Target<'_>, x: &Tensor, y: &Tensor, config: &AttackConfig, rng: &mut ChaCha8Rng) -> Result<Tensor> {
    let eps = config.epsilon;
    if eps == 0.0 {
        return Ok(x.shallow_clone());
    }
    match config.attack {
        Attack::Fgsm => Ok(clipped(x + target.signed_gradient(x, y)? * eps, config.clip)),
        Attack::Pgd { steps, step_size, restarts } => {
            let mut best: Option<Tensor> = None;
            for _ in 0..restarts {
                let noise: Vec<f32> = (0..x.numel()).map(|_| rng.random_range(-eps as f32..=eps as f32)).collect();
                let start = Tensor::from_slice(&noise).view(x.size().as_slice()).to_device(x.device());
                let mut adversarial = clipped(x + start, config.clip);
                for _ in 0..steps {
                    let stepped = &adversarial + target.signed_gradient(&adversarial, y)? * (step_size * eps);
                    adversarial = projected(x, stepped, config);
                }
                best = Some(match best {
                    Some(current) => target.keep_fooling(current, adversarial, y)?,
                    None => adversarial,
                });
            }
            Ok(best.unwrap_or_else(|| x.shallow_clone()))
        }
        Attack::Spsa { iterations, samples, delta, step_size } => {
            let (mut adversarial, mut best) = (x.shallow_clone(), x.shallow_clone());
            for _ in 0..iterations {
                let gradient = target.spsa_gradient(&adversarial, y, samples, delta, rng)?;
                adversarial = projected(x, &adversarial + gradient.sign() * (step_size * eps), config);
                best = target.keep_fooling(best, adversarial.shallow_clone(), y)?;
            }
            Ok(best)
        }
    }
}

/// The adversarial version of every sample of `data` under `config` against `head` on
/// `backbone`'s features, in batches of `batch_size` (`[n, ...]`, the shape of `data.x`); `seed`
/// draws PGD's random starts and SPSA's directions. Replayed on another model they are a
/// transfer attack.
pub fn adversarial_examples(
    backbone: Option<&dyn Backbone>,
    head: &dyn Classifier,
    data: &Dataset,
    config: &AttackConfig,
    batch_size: usize,
    seed: u64,
) -> Result<Tensor> {
    config.validate()?;
    let y = labels(data)?;
    if batch_size == 0 {
        return Err(Error::InvalidConfig { field: "batch_size".into(), expected: "at least 1".into(), found: "0".into() });
    }
    let target = Target { backbone, head };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let n = data.n_samples() as i64;
    let batches = (0..n)
        .step_by(batch_size)
        .map(|start| {
            let len = (batch_size as i64).min(n - start);
            perturb(&target, &data.x.narrow(0, start, len), &y.narrow(0, start, len), config, &mut rng)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::f_cat(&batches, 0)?)
}

/// The labels of a dataset to attack.
fn labels(data: &Dataset) -> Result<&Tensor> {
    data.y.as_ref().ok_or_else(|| Error::InvalidConfig {
        field: "data".into(),
        expected: "a labelled dataset to attack".into(),
        found: "none".into(),
    })
}

/// The accuracy of `head` on `backbone`'s features of `data` when every sample is replaced by its
/// adversarial version under `config` ([`adversarial_examples`]).
pub fn accuracy_under_attack(
    backbone: Option<&dyn Backbone>,
    head: &dyn Classifier,
    data: &Dataset,
    config: &AttackConfig,
    batch_size: usize,
    seed: u64,
) -> Result<f64> {
    let adversarial = adversarial_examples(backbone, head, data, config, batch_size, seed)?;
    accuracy_on(backbone, head, &adversarial, labels(data)?)
}

/// The accuracy of `head` on `backbone`'s features of `x` against `y` (e.g. adversarial examples
/// crafted on another model).
pub fn accuracy_on(backbone: Option<&dyn Backbone>, head: &dyn Classifier, x: &Tensor, y: &Tensor) -> Result<f64> {
    let correct = Target { backbone, head }.predict(x)?.eq_tensor(y).sum(Kind::Int64).f_int64_value(&[])?;
    Ok(correct as f64 / x.size()[0].max(1) as f64)
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
        let config = AttackConfig { attack: Attack::Pgd { steps: 10, step_size: 0.25, restarts: 1 }, epsilon: 0.4, clip: None };
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
    fn spsa_breaks_what_pgd_breaks_without_gradients_and_restarts_never_help_the_model() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = head(&vs);
        let x = Tensor::from_slice(&[0.3f32, 0.0, -0.6, 0.0, 0.1, 0.2, -0.2, 0.9]).view([4, 2]);
        let data = Dataset::new(x.shallow_clone(), Some(Tensor::from_slice(&[1i64, 0, 1, 0]))).unwrap();
        let spsa =
            AttackConfig { attack: Attack::Spsa { iterations: 5, samples: 4, delta: 0.01, step_size: 0.5 }, epsilon: 0.4, clip: None };
        let adversarial = adversarial_examples(None, &head, &data, &spsa, 2, 0).unwrap();
        assert!((&adversarial - &x).abs().max().double_value(&[]) <= 0.4 + 1e-6, "left the ball");
        // Margins 0.3, 0.1 and 0.2 are below epsilon: broken; 0.6 holds.
        assert_eq!(accuracy_on(None, &head, &adversarial, data.y.as_ref().unwrap()).unwrap(), 0.25);
        assert_eq!(accuracy_under_attack(None, &head, &data, &spsa, 2, 0).unwrap(), 0.25);
    }

    #[test]
    fn restarts_break_what_one_random_start_misses() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = head(&vs);
        // 400 copies of a class-1 point at margin 0.3. One short PGD step (0.04) from a uniform
        // start in [-0.4, 0.4] crosses the border iff the start is below -0.26: probability
        // 0.175 per start, so about 0.825 survive one start and 0.825^5 = 0.38 five.
        let x = Tensor::from_slice(&[0.3f32, 0.0]).view([1, 2]).repeat([400, 1]);
        let data = Dataset::new(x, Some(Tensor::ones([400], (Kind::Int64, Device::Cpu)))).unwrap();
        let pgd = |restarts| AttackConfig { attack: Attack::Pgd { steps: 1, step_size: 0.1, restarts }, epsilon: 0.4, clip: None };
        let accuracy = |restarts| accuracy_under_attack(None, &head, &data, &pgd(restarts), 100, 7).unwrap();
        let (one, five) = (accuracy(1), accuracy(5));
        assert!((one - 0.825).abs() < 0.06, "one start: {one}");
        assert!((five - 0.825f64.powi(5)).abs() < 0.06, "five starts: {five}");
    }

    #[test]
    fn a_sample_keeps_its_first_fooling_version() {
        let vs = nn::VarStore::new(Device::Cpu);
        let head = head(&vs);
        let target = Target { backbone: None, head: &head };
        let y = Tensor::from_slice(&[1i64, 1]);
        // Row 0 of `current` fools (x_0 < 0 is class 0), row 1 does not.
        let current = Tensor::from_slice(&[-0.1f32, 0.0, 0.2, 0.0]).view([2, 2]);
        let candidate = Tensor::from_slice(&[0.5f32, 0.5, -0.3, 0.5]).view([2, 2]);
        let kept = Vec::<f32>::try_from(target.keep_fooling(current, candidate, &y).unwrap().flatten(0, -1)).unwrap();
        assert_eq!(kept, vec![-0.1, 0.0, -0.3, 0.5]);
    }

    #[test]
    fn bad_budgets_are_errors() {
        let base = AttackConfig { attack: Attack::Fgsm, epsilon: 0.1, clip: None };
        assert!(AttackConfig { epsilon: -0.1, ..base }.validate().is_err());
        assert!(AttackConfig { clip: Some([1.0, 0.0]), ..base }.validate().is_err());
        let err = AttackConfig { attack: Attack::Pgd { steps: 0, step_size: 0.1, restarts: 1 }, ..base }.validate().unwrap_err();
        assert!(err.to_string().contains("steps"), "{err}");
        let err = AttackConfig { attack: Attack::Pgd { steps: 5, step_size: 0.1, restarts: 0 }, ..base }.validate().unwrap_err();
        assert!(err.to_string().contains("restarts"), "{err}");
        let spsa = Attack::Spsa { iterations: 5, samples: 4, delta: 0.0, step_size: 0.1 };
        assert!(AttackConfig { attack: spsa, ..base }.validate().unwrap_err().to_string().contains("delta"));
        let toml: AttackConfig = toml::from_str("attack = { kind = \"pgd\", steps = 10, step_size = 0.25 }\nepsilon = 0.1").unwrap();
        assert_eq!(toml.attack, Attack::Pgd { steps: 10, step_size: 0.25, restarts: 1 }, "one start by default");
    }
}
