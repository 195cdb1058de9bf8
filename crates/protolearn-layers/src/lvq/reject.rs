//! Reject options of prototype heads (paper 003, Sec. 7.4): n-balls around the prototypes
//! (outside every ball -> reject), the relative similarity of the two nearest prototypes of
//! different classes, softmax confidence as the baseline of ordinary networks, and the reject
//! curve (accuracy of the accepted samples against the rejection rate).

use crate::error::{expect_dims, Error, Result};
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
