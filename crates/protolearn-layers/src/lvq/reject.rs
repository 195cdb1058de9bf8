//! Reject options of prototype heads (paper 003, Sec. 7.4): n-balls around the prototypes
//! (outside every ball -> reject), the relative similarity of the two nearest prototypes of
//! different classes, softmax confidence as the baseline of ordinary networks, and the reject
//! curve (accuracy of the accepted samples against the rejection rate), and training with a
//! misclassification cost against a reject cost ([`RejectCosts`], [`reject_cost`]).

use super::loss::glvq_mu;
use crate::error::{expect_dims, Error, Result};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// Per-prototype radii `r_k` `[k]`: the `quantile` of the distances `sqrt(d_ik)` of the samples
/// that prototype `k` wins (a prototype that wins nothing gets radius 0, so it accepts nothing).
///
/// # Shapes
/// `d`: `[n, k]` squared distances → `[k]`.
pub fn fit_radii(d: &Tensor, quantile: f64) -> Result<Tensor> {
    let k = expect_dims(d, 2, "distances", "[n, k]")?[1];
    if !(0.0..=1.0).contains(&quantile) {
        return Err(Error::InvalidConfig { field: "quantile", expected: "in [0, 1]".into(), found: quantile.to_string() });
    }
    let _guard = tch::no_grad_guard();
    let (nearest, winners) = d.min_dim(-1, false);
    let distance = nearest.clamp_min(0.0).sqrt();
    let radii: Vec<Tensor> = (0..k)
        .map(|j| {
            let won = distance.masked_select(&winners.eq(j));
            if won.numel() == 0 {
                Tensor::zeros([], (Kind::Float, d.device()))
            } else {
                won.to_kind(Kind::Float).quantile_scalar(quantile, None, false, "linear")
            }
        })
        .collect();
    Ok(Tensor::stack(&radii, 0))
}

/// Whether each sample lies inside at least one n-ball, `d_ik <= r_k^2` (`[n]` bool; rejected
/// samples are the `false` ones).
pub fn inside_a_ball(d: &Tensor, radii: &Tensor) -> Tensor {
    d.le_tensor(&radii.square().unsqueeze(0)).any_dim(-1, false)
}

/// Relative similarity `rs = (d_2 - d_1) / (d_2 + d_1)` in `[0, 1]` of every sample, `d_1` the
/// distance to the nearest prototype and `d_2` to the nearest prototype of another class than
/// the winner's (no label needed): near 0 on the border between classes. Reject below a
/// threshold.
///
/// # Shapes
/// `d`: `[n, k]`, `labels`: `[k]` → `[n]`.
pub fn relative_similarity(d: &Tensor, labels: &Tensor) -> Tensor {
    let (d1, winner) = d.min_dim(-1, false);
    let winner_class = labels.index_select(0, &winner);
    let same = winner_class.unsqueeze(1).eq_tensor(&labels.unsqueeze(0));
    let d2 = d.masked_fill(&same, f64::INFINITY).amin(-1, false);
    ((&d2 - &d1) / (d2 + &d1).clamp_min(f64::from(f32::MIN_POSITIVE))).clamp(0.0, 1.0)
}

/// The costs of a classifier with a reject option (paper 003, Sec. 7.4: "misclassification
/// costs λe, reject-costs λr"): accepting a misclassified sample costs `error`, rejecting any
/// sample costs `reject`, a correct acceptance costs nothing. With `reject >= error / 2` on two
/// classes, Chow's rule never rejects (an error probability above 1/2 is impossible).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectCosts {
    /// `λe`, the cost of an accepted error.
    pub error: f64,
    /// `λr`, the cost of a rejection.
    pub reject: f64,
    /// Width `s` of the smooth accept `sigmoid((rs - θ) / s)` and error `sigmoid(μ / s)`.
    pub width: f64,
}

impl RejectCosts {
    /// Checks that both costs are finite and >= 0, `reject < error` (otherwise rejecting never
    /// pays), and `width > 0`.
    pub fn validate(&self) -> Result<()> {
        let invalid =
            |field, expected: &str, found: f64| Err(Error::InvalidConfig { field, expected: expected.into(), found: found.to_string() });
        if !(self.error.is_finite() && self.error > 0.0) {
            return invalid("error", "a finite cost > 0", self.error);
        }
        if !(self.reject.is_finite() && (0.0..self.error).contains(&self.reject)) {
            return invalid("reject", "a cost in [0, error)", self.reject);
        }
        if !(self.width.is_finite() && self.width > 0.0) {
            return invalid("width", "finite and > 0", self.width);
        }
        Ok(())
    }
}

/// The smooth expected cost of classifying with a reject threshold `θ` on the relative
/// similarity, `(1/n) Σ_i [λe a_i e_i + λr (1 - a_i)]` with the soft acceptance
/// `a_i = sigmoid((rs_i - θ) / s)` and the soft error `e_i = sigmoid(μ_i / s)` (GLVQ's `μ`,
/// positive when misclassified). Differentiable in the distances (so in the network) and in
/// `θ`: the gradient moves `θ` up where `λe e_i > λr` near the threshold, down elsewhere.
///
/// # Shapes
/// `d`: `[n, k]`, `y`: `[n]`, `labels`: `[k]`, `theta`: `[]` → `[]`.
pub fn reject_cost(d: &Tensor, y: &Tensor, labels: &Tensor, theta: &Tensor, costs: &RejectCosts) -> Tensor {
    let accept = ((relative_similarity(d, labels) - theta) / costs.width).sigmoid();
    let error = (glvq_mu(d, y, labels) / costs.width).sigmoid();
    let rejected: Tensor = 1.0 - &accept;
    (accept * error * costs.error + rejected * costs.reject).mean(Kind::Float)
}

/// Decisions at a hard threshold: accept a sample iff its relative similarity exceeds `theta`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RejectOutcome {
    /// Fraction of samples rejected.
    pub reject_rate: f64,
    /// Accuracy on the accepted samples (`None` when all are rejected).
    pub accepted_accuracy: Option<f64>,
    /// `(λe #accepted errors + λr #rejected) / n`.
    pub cost: f64,
}

/// The [`RejectOutcome`] of threshold `theta` on the scores `rs` with per-sample correctness.
pub fn reject_outcome(rs: &[f64], correct: &[bool], theta: f64, costs: &RejectCosts) -> Result<RejectOutcome> {
    if rs.len() != correct.len() || rs.is_empty() {
        return Err(Error::InvalidConfig {
            field: "correct",
            expected: format!("{} values (one per score, at least one)", rs.len()),
            found: correct.len().to_string(),
        });
    }
    let accepted: Vec<bool> = rs.iter().map(|&r| r > theta).collect();
    let kept = accepted.iter().filter(|&&a| a).count();
    let right = accepted.iter().zip(correct).filter(|&(&a, &c)| a && c).count();
    let n = rs.len() as f64;
    Ok(RejectOutcome {
        reject_rate: (rs.len() - kept) as f64 / n,
        accepted_accuracy: (kept > 0).then(|| right as f64 / kept as f64),
        cost: (costs.error * (kept - right) as f64 + costs.reject * (rs.len() - kept) as f64) / n,
    })
}

/// The threshold with the lowest empirical cost on `(rs, correct)` (a plug-in of Chow's rule,
/// chosen after training): rejecting the `j` lowest scores costs
/// `(λe #errors among the rest + λr j) / n`; the returned `θ` rejects exactly those
/// (`rs <= θ`), `-inf` when accepting everything is cheapest.
pub fn chow_threshold(rs: &[f64], correct: &[bool], costs: &RejectCosts) -> Result<f64> {
    reject_outcome(rs, correct, f64::NEG_INFINITY, costs)?; // checks the lengths
    let mut order: Vec<usize> = (0..rs.len()).collect();
    order.sort_by(|&a, &b| rs[a].total_cmp(&rs[b]));
    let mut errors_kept = correct.iter().filter(|&&c| !c).count() as f64;
    let (mut best, mut best_cost) = (f64::NEG_INFINITY, costs.error * errors_kept);
    for (j, &i) in order.iter().enumerate() {
        errors_kept -= f64::from(u8::from(!correct[i]));
        let tie_follows = order.get(j + 1).is_some_and(|&next| rs[next] == rs[i]);
        let cost = costs.error * errors_kept + costs.reject * (j + 1) as f64;
        if !tie_follows && cost < best_cost {
            (best, best_cost) = (rs[i], cost);
        }
    }
    Ok(best)
}

/// Softmax confidence `max_c softmax(logits)_c` (`[n]`), the reject score of a softmax network.
pub fn softmax_confidence(logits: &Tensor) -> Tensor {
    logits.softmax(-1, Kind::Float).amax(-1, false)
}

/// The reject curve: for each rejection rate in `rates`, the accuracy on the samples kept when
/// the lowest-`score` fraction is rejected (ties broken by sample index). A rate that rejects
/// every sample gives `None`.
pub fn reject_curve(score: &[f64], correct: &[bool], rates: &[f64]) -> Result<Vec<(f64, Option<f64>)>> {
    if score.len() != correct.len() {
        return Err(Error::InvalidConfig {
            field: "correct",
            expected: format!("{} values (one per score)", score.len()),
            found: correct.len().to_string(),
        });
    }
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    rates
        .iter()
        .map(|&rate| {
            if !(0.0..=1.0).contains(&rate) {
                return Err(Error::InvalidConfig { field: "rates", expected: "in [0, 1]".into(), found: rate.to_string() });
            }
            let rejected = ((rate * score.len() as f64).round() as usize).min(score.len());
            let kept = &order[rejected..];
            let accuracy = (!kept.is_empty()).then(|| kept.iter().filter(|&&i| correct[i]).count() as f64 / kept.len() as f64);
            Ok((rate, accuracy))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balls_accept_near_points_and_reject_far_ones() {
        // Prototypes at 0 and 10 (1-D); squared distances of samples at 0.5, 9, 5, 30.
        let x = Tensor::from_slice(&[0.5f32, 9.0, 5.0, 30.0]).view([4, 1]);
        let w = Tensor::from_slice(&[0.0f32, 10.0]).view([2, 1]);
        let d = crate::distance::squared_euclidean(&x, &w);
        let radii = Tensor::from_slice(&[1.0f32, 2.0]);
        assert_eq!(Vec::<bool>::try_from(inside_a_ball(&d, &radii)).unwrap(), vec![true, true, false, false]);
        // The median winning distance of each prototype on training points.
        let train = Tensor::from_slice(&[0.0f32, 1.0, 3.0, 10.0, 12.0]).view([5, 1]);
        let r = Vec::<f32>::try_from(fit_radii(&crate::distance::squared_euclidean(&train, &w), 0.5).unwrap()).unwrap();
        assert_eq!(r, vec![1.0, 1.0], "prototype 0 wins 0, 1, 3 (median 1); prototype 1 wins 10, 12 (median 1)");
        let idle = Tensor::from_slice(&[0.0f32, 100.0]).view([2, 1]);
        assert_eq!(Vec::<f32>::try_from(fit_radii(&crate::distance::squared_euclidean(&train, &idle), 1.0).unwrap()).unwrap()[1], 0.0);
    }

    #[test]
    fn relative_similarity_is_zero_on_the_border_and_one_on_a_prototype() {
        // Class 0 at 0, class 1 at 4; a second class-0 prototype at 1 must not count as d_2.
        let w = Tensor::from_slice(&[0.0f32, 1.0, 4.0]).view([3, 1]);
        let labels = Tensor::from_slice(&[0i64, 0, 1]);
        let x = Tensor::from_slice(&[0.0f32, 2.5, 4.0]).view([3, 1]);
        let rs = Vec::<f32>::try_from(relative_similarity(&crate::distance::squared_euclidean(&x, &w), &labels)).unwrap();
        assert_eq!(rs[0], 1.0);
        assert!(rs[1].abs() < 1e-6, "x = 2.5 is equidistant from 1 (class 0) and 4 (class 1): {}", rs[1]);
        assert_eq!(rs[2], 1.0);
    }

    #[test]
    fn reject_cost_rewards_rejecting_only_what_is_likely_wrong() {
        // Class 0 at 0, class 1 at 4 (1-D); samples near each prototype and one on the border.
        let w = Tensor::from_slice(&[0.0f32, 4.0]).view([2, 1]);
        let labels = Tensor::from_slice(&[0i64, 1]);
        let x = Tensor::from_slice(&[0.1f32, 3.9, 2.1]).view([3, 1]);
        let d = crate::distance::squared_euclidean(&x, &w);
        let y = Tensor::from_slice(&[0i64, 1, 0]); // the border sample is misclassified
        let costs = RejectCosts { error: 1.0, reject: 0.2, width: 0.05 };
        let at = |t: f64| reject_cost(&d, &y, &labels, &Tensor::from(t as f32), &costs).double_value(&[]);
        // θ between the border sample's rs (~0.05) and the others' (~0.9): reject only the error.
        assert!(at(0.5) < at(-0.5), "rejecting the error beats accepting all: {} vs {}", at(0.5), at(-0.5));
        assert!(at(0.5) < at(1.5), "and beats rejecting all: {}", at(1.5));
        assert!((at(0.5) - 0.2 / 3.0).abs() < 0.01, "cost ~ λr / 3: {}", at(0.5));
        let rs: Vec<f64> = Vec::<f32>::try_from(relative_similarity(&d, &labels)).unwrap().into_iter().map(f64::from).collect();
        let hard = reject_outcome(&rs, &[true, true, false], 0.5, &costs).unwrap();
        assert_eq!(hard, RejectOutcome { reject_rate: 1.0 / 3.0, accepted_accuracy: Some(1.0), cost: 0.2 / 3.0 });
        assert!(RejectCosts { reject: 1.0, ..costs }.validate().is_err(), "rejecting at the error's cost never pays");
        // Scores 0.1 (wrong), 0.2 (wrong), 0.3 (right), 0.9 (right): reject the two errors.
        let (rs, correct) = ([0.9, 0.1, 0.3, 0.2], [true, false, true, false]);
        assert_eq!(chow_threshold(&rs, &correct, &costs).unwrap(), 0.2);
        let dear = RejectCosts { reject: 0.9, ..costs };
        assert_eq!(chow_threshold(&[0.9, 0.1, 0.3], &[true, false, true], &dear).unwrap(), 0.1, "one error is worth one rejection");
        assert_eq!(chow_threshold(&[0.9, 0.3], &[true, true], &costs).unwrap(), f64::NEG_INFINITY, "nothing to reject");
        assert!(RejectCosts { width: 0.0, ..costs }.validate().is_err());
    }

    #[test]
    fn reject_curve_drops_the_least_confident_first() {
        let score = [0.9, 0.2, 0.8, 0.1];
        let correct = [true, false, true, false];
        let curve = reject_curve(&score, &correct, &[0.0, 0.25, 0.5, 1.0]).unwrap();
        assert_eq!(curve, vec![(0.0, Some(0.5)), (0.25, Some(2.0 / 3.0)), (0.5, Some(1.0)), (1.0, None)]);
        assert!(reject_curve(&score, &correct[..3], &[0.0]).is_err());
        let p = softmax_confidence(&Tensor::from_slice(&[0.0f32, 0.0]).view([1, 2]));
        assert!((p.double_value(&[0]) - 0.5).abs() < 1e-6);
    }
}
