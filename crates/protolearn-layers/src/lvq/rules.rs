//! Kohonen's LVQ1 and LVQ2.1 as update rules (no autograd) on a Euclidean [`LvqHead`], run by
//! the trainer's update-rule path with the batch's labels.

use super::dissimilarity::Dissimilarity;
use super::head::LvqHead;
use crate::distance::{argmin, squared_euclidean};
use crate::error::{Error, Result};
use crate::layer::{PrototypeLayer, UpdateRule};
use crate::som::Schedule;
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// The moves `Δ_k = α(i) mean_{j -> k} s_j (x_j - w_k)` of a batch, where sample `j` moves
/// prototype `targets[j]` towards (`s_j = +1`) or away from (`s_j = -1`) itself; the mean is over
/// the samples that move prototype `k`, so a batch of one is Kohonen's online step and larger
/// batches do not take larger steps.
fn apply_moves(head: &LvqHead, x: &Tensor, targets: &Tensor, signs: &Tensor, lr: f64) -> Result<()> {
    let _guard = tch::no_grad_guard();
    let w = &head.prototypes;
    let k = w.size()[0];
    let pull = (x - w.index_select(0, targets)) * signs.unsqueeze(1); // [m, d]
    let sums = Tensor::zeros_like(w).index_add(0, targets, &pull);
    let counts = Tensor::zeros([k], (Kind::Float, w.device())).index_add(0, targets, &signs.abs()).clamp_min(1.0);
    let moved = w + sums / counts.unsqueeze(1) * lr;
    w.shallow_clone().f_copy_(&moved)?;
    Ok(())
}

/// Checks that a rule runs on a Euclidean head with labels.
fn checked<'a>(head: &LvqHead, y: Option<&'a Tensor>, rule: &str) -> Result<&'a Tensor> {
    if !matches!(head.dissimilarity, Dissimilarity::SquaredEuclidean) {
        return Err(Error::InvalidConfig {
            field: "dissimilarity",
            expected: format!("squared-euclidean for {rule}"),
            found: "a learned metric".into(),
        });
    }
    y.ok_or_else(|| Error::InvalidConfig {
        field: "labels",
        expected: format!("class labels for {rule} (a supervised rule)"),
        found: "none".into(),
    })
}

/// LVQ1: the nearest prototype moves towards a sample of its class and away from a sample of
/// another class, `w <- w ± α (x - w)`, at rate `α(i)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lvq1 {
    /// Learning rate `α(i)` over the steps.
    pub lr: Schedule,
}

impl UpdateRule<LvqHead> for Lvq1 {
    fn update(&self, head: &LvqHead, x: &Tensor, y: Option<&Tensor>, step: usize, steps: usize) -> Result<()> {
        let y = checked(head, y, "LVQ1")?;
        let labels = head.prototype_labels().expect("a supervised head");
        let winners = argmin(&squared_euclidean(x, &head.prototypes), -1);
        let signs = labels.index_select(0, &winners).eq_tensor(y).to_kind(Kind::Float) * 2.0 - 1.0;
        apply_moves(head, x, &winners, &signs, self.lr.at(step, steps))
    }
}

/// LVQ2.1: when the two nearest prototypes have different correctness (one of the sample's
/// class, one not) and the sample lies in the window `min(d_1/d_2, d_2/d_1) > (1 - ω)/(1 + ω)`
/// (Euclidean distances), the correct one moves towards it and the wrong one away.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lvq21 {
    /// Learning rate `α(i)` over the steps.
    pub lr: Schedule,
    /// Relative window width `ω` (Kohonen: 0.2 to 0.3).
    pub window: f64,
}

impl UpdateRule<LvqHead> for Lvq21 {
    fn update(&self, head: &LvqHead, x: &Tensor, y: Option<&Tensor>, step: usize, steps: usize) -> Result<()> {
        let y = checked(head, y, "LVQ2.1")?;
        if !(self.window > 0.0 && self.window < 1.0) {
            return Err(Error::InvalidConfig { field: "window", expected: "in (0, 1)".into(), found: self.window.to_string() });
        }
        let labels = head.prototype_labels().expect("a supervised head");
        let (d, nearest) = squared_euclidean(x, &head.prototypes).topk(2, -1, false, true); // [b, 2]
        let d = d.sqrt();
        let correct = labels.index_select(0, &nearest.flatten(0, -1)).view([-1, 2]).eq_tensor(&y.unsqueeze(1)); // [b, 2]
        let mixed = correct.select(1, 0).logical_xor(&correct.select(1, 1));
        let (d1, d2) = (d.select(1, 0), d.select(1, 1));
        let ratio = (&d1 / d2.clamp_min(f64::MIN_POSITIVE)).minimum(&(&d2 / d1.clamp_min(f64::MIN_POSITIVE)));
        let threshold = (1.0 - self.window) / (1.0 + self.window);
        let active = mixed.logical_and(&ratio.gt(threshold)).to_kind(Kind::Float).unsqueeze(1); // [b, 1]
        let signs = (correct.to_kind(Kind::Float) * 2.0 - 1.0) * active; // [b, 2]: +1 correct, -1 wrong, 0 inactive
        let x2 = x.unsqueeze(1).expand([-1, 2, -1], false).reshape([-1, x.size()[1]]);
        apply_moves(head, &x2, &nearest.flatten(0, -1), &signs.flatten(0, -1), self.lr.at(step, steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lvq::{DissimilarityConfig, LvqConfig, LvqLoss};
    use tch::{nn, Device};

    fn head(vs: &nn::VarStore) -> LvqHead {
        let x = Tensor::from_slice(&[0.0f32, 0.0, 4.0, 0.0]).view([2, 2]);
        let y = Tensor::from_slice(&[0i64, 1]);
        let cfg = LvqConfig { classes: 2, per_class: 1, dissimilarity: DissimilarityConfig::SquaredEuclidean, loss: LvqLoss::Celvq };
        cfg.build(&vs.root(), &x, &y, 0).unwrap()
    }

    fn constant(lr: f64) -> Schedule {
        Schedule { decay: Default::default(), start: lr, end: lr }
    }

    #[test]
    fn lvq1_attracts_the_right_winner_and_repels_the_wrong_one() {
        let vs = nn::VarStore::new(Device::Cpu);
        let h = head(&vs);
        let x = Tensor::from_slice(&[1.0f32, 0.0]).view([1, 2]);
        Lvq1 { lr: constant(0.5) }.update(&h, &x, Some(&Tensor::from_slice(&[0i64])), 1, 1).unwrap();
        assert_eq!(Vec::<f32>::try_from(h.prototypes.get(0)).unwrap(), vec![0.5, 0.0], "towards x");
        Lvq1 { lr: constant(0.5) }.update(&h, &x, Some(&Tensor::from_slice(&[1i64])), 1, 1).unwrap();
        assert_eq!(Vec::<f32>::try_from(h.prototypes.get(0)).unwrap(), vec![0.25, 0.0], "away from x (wrong class)");
        assert_eq!(Vec::<f32>::try_from(h.prototypes.get(1)).unwrap(), vec![4.0, 0.0], "the loser stays");
        assert!(Lvq1 { lr: constant(0.5) }.update(&h, &x, None, 1, 1).is_err(), "labels are required");
    }

    #[test]
    fn lvq21_moves_both_inside_the_window_only() {
        let vs = nn::VarStore::new(Device::Cpu);
        let h = head(&vs);
        let y = Tensor::from_slice(&[1i64]);
        // x = (1.9, 0): d1 = 1.9 (class 0, wrong), d2 = 2.1 (class 1, right); ratio 0.905 > 0.667.
        let x = Tensor::from_slice(&[1.9f32, 0.0]).view([1, 2]);
        Lvq21 { lr: constant(0.1), window: 0.2 }.update(&h, &x, Some(&y), 1, 1).unwrap();
        let w = Vec::<f32>::try_from(h.prototypes.flatten(0, -1)).unwrap();
        assert!((w[0] - -0.19).abs() < 1e-6 && (w[2] - 3.79).abs() < 1e-6, "{w:?}");
        // Far outside the window: nothing moves.
        let x = Tensor::from_slice(&[-0.5f32, 0.0]).view([1, 2]);
        Lvq21 { lr: constant(0.1), window: 0.2 }.update(&h, &x, Some(&y), 1, 1).unwrap();
        assert_eq!(Vec::<f32>::try_from(h.prototypes.flatten(0, -1)).unwrap(), w);
    }
}
