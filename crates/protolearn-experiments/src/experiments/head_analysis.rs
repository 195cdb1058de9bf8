//! What the paper-003 experiments measure on a trained classifier besides its accuracy: the
//! reject scores of its rules (n-balls and relative similarity for a prototype head, softmax
//! confidence for a softmax head; Sec. 7.4) and its accuracy under FGSM / PGD (Sec. 7.3), with
//! the checks that tell robustness from gradient masking (PGD with restarts, a transfer attack,
//! gradient-free SPSA).

use anyhow::{Context, Result};
use protolearn_data::tensor::Dataset;
use protolearn_layers::autoencoder::encode_chunked;
use protolearn_layers::autoencoder::Backbone;
use protolearn_layers::lvq::reject::{fit_radii, inside_a_ball, relative_similarity, softmax_confidence};
use protolearn_layers::lvq::LvqHead;
use protolearn_train::attack::{accuracy_on, accuracy_under_attack, adversarial_examples, Attack, AttackConfig};
use protolearn_train::classifier::{Classifier, LinearHead};
use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

/// A trained head of either kind.
#[derive(Clone, Copy)]
pub enum TrainedHead<'a> {
    /// The softmax linear baseline.
    Softmax(&'a LinearHead),
    /// A prototype head.
    Prototype(&'a LvqHead),
}

impl<'a> TrainedHead<'a> {
    /// The head as a classifier.
    pub fn classifier(self) -> &'a dyn Classifier {
        match self {
            TrainedHead::Softmax(h) => h,
            TrainedHead::Prototype(h) => h,
        }
    }
}

/// One reject rule's score (reject the lowest first) and whether each sample is classified right.
#[derive(Debug)]
pub struct RejectScores {
    /// `n-balls`, `relative similarity` or `softmax confidence`.
    pub rule: &'static str,
    /// One score per test sample.
    pub score: Vec<f64>,
    /// Whether the head classifies each test sample correctly.
    pub correct: Vec<bool>,
}

/// What the n-balls alone do on the test set.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BallOutcome {
    /// Fraction of test samples outside every ball.
    pub rejected: f64,
    /// Accuracy on the samples inside a ball.
    pub accepted_accuracy: f64,
}

/// `t` as host `f64`s.
pub fn host(t: &Tensor) -> Result<Vec<f64>> {
    Ok(Vec::<f64>::try_from(t.to_kind(Kind::Double).to_device(tch::Device::Cpu))?)
}

/// The reject scores of `head` on `backbone`'s features of `test`. A prototype head's radii
/// are the `quantile` of the winning distances of `radius_x` (training samples); its n-ball
/// score is `-min_k d_k / r_k^2` (>= -1 inside a ball).
pub fn reject_scores(
    backbone: &dyn Backbone,
    head: TrainedHead<'_>,
    radius_x: &Tensor,
    test: &Dataset,
    quantile: f64,
) -> Result<(Vec<RejectScores>, Option<BallOutcome>)> {
    let _guard = tch::no_grad_guard();
    let y = test.y.as_ref().context("a labelled test set")?;
    let z = encode_chunked(backbone, &test.x)?;
    let correct = Vec::<bool>::try_from(head.classifier().predict(&z)?.eq_tensor(y).to_device(tch::Device::Cpu))?;
    match head {
        TrainedHead::Softmax(h) => {
            let score = host(&softmax_confidence(&h.logits(&z)))?;
            Ok((vec![RejectScores { rule: "softmax confidence", score, correct }], None))
        }
        TrainedHead::Prototype(h) => {
            let radii = fit_radii(&h.distances(&encode_chunked(backbone, radius_x)?)?, quantile)?;
            let d = h.distances(&z)?;
            let ratio = (&d / radii.square().clamp_min(f64::from(f32::MIN_POSITIVE)).unsqueeze(0)).amin(-1, false);
            let inside = Vec::<bool>::try_from(inside_a_ball(&d, &radii).to_device(tch::Device::Cpu))?;
            let kept: Vec<bool> = inside.iter().zip(&correct).filter(|(a, _)| **a).map(|(_, c)| *c).collect();
            let balls = BallOutcome {
                rejected: 1.0 - kept.len() as f64 / inside.len() as f64,
                accepted_accuracy: kept.iter().filter(|&&c| c).count() as f64 / kept.len().max(1) as f64,
            };
            let scores = vec![
                RejectScores { rule: "n-balls", score: host(&-ratio)?, correct: correct.clone() },
                RejectScores { rule: "relative similarity", score: host(&relative_similarity(&d, h.labels()))?, correct },
            ];
            Ok((scores, Some(balls)))
        }
    }
}

/// The attacks of a robustness study: FGSM and PGD at every radius, inputs clipped to `clip`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RobustnessSpec {
    /// L-inf radii (0 = clean accuracy).
    pub epsilons: Vec<f64>,
    /// PGD's settings (an `Attack::Pgd`).
    pub pgd: Attack,
    /// The valid input range.
    pub clip: [f64; 2],
    /// Samples per attack batch.
    pub batch_size: usize,
    /// Checks for gradient masking at a few radii (none: FGSM and PGD only).
    #[serde(default)]
    pub checks: Option<MaskingChecks>,
}

/// The checks that tell robustness from gradient masking (Athalye et al. 2018, Sec. 3;
/// Carlini et al. 2019, "On evaluating adversarial robustness", Sec. 5): a stronger PGD with
/// random restarts, a transfer attack (the PGD examples of another model replayed), and a
/// gradient-free attack (SPSA). A model whose white-box PGD accuracy stands above the transfer
/// or SPSA accuracy has gradients that mislead the white-box attack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaskingChecks {
    /// Radii the checks run at.
    pub epsilons: Vec<f64>,
    /// The stronger PGD (an `Attack::Pgd` with more steps and restarts).
    pub pgd: Attack,
    /// The gradient-free attack (an `Attack::Spsa`).
    pub spsa: Attack,
    /// SPSA attacks the first this many of the attacked samples (its forward passes are many).
    pub spsa_samples: i64,
    /// The model (the spec's first) whose PGD examples are replayed on every model.
    pub transfer_from: String,
}

/// One accuracy under attack.
#[derive(Debug, Clone, Serialize)]
pub struct AttackRow {
    /// `fgsm`, `pgd`, and for the checks `pgd-restarts`, `transfer`, `spsa` and
    /// `pgd-restarts-spsa-samples` (the stronger PGD on SPSA's samples).
    pub attack: &'static str,
    /// The radius.
    pub epsilon: f64,
    /// Accuracy on the attacked samples.
    pub accuracy: f64,
}

/// The accuracy of `head` under FGSM and PGD at every radius of `spec` on `data`.
pub fn robustness(
    backbone: &dyn Backbone,
    head: TrainedHead<'_>,
    data: &Dataset,
    spec: &RobustnessSpec,
    seed: u64,
) -> Result<Vec<AttackRow>> {
    let mut rows = Vec::new();
    for (name, attack) in [("fgsm", Attack::Fgsm), ("pgd", spec.pgd)] {
        for &epsilon in &spec.epsilons {
            let config = AttackConfig { attack, epsilon, clip: Some(spec.clip) };
            let accuracy = accuracy_under_attack(Some(backbone), head.classifier(), data, &config, spec.batch_size, seed)?;
            rows.push(AttackRow { attack: name, epsilon, accuracy });
        }
    }
    Ok(rows)
}

/// The examples a transfer attack replays: the PGD examples (`spec.pgd`) of the source model at
/// every check radius.
pub fn transfer_examples(
    backbone: &dyn Backbone,
    head: TrainedHead<'_>,
    data: &Dataset,
    spec: &RobustnessSpec,
    checks: &MaskingChecks,
    seed: u64,
) -> Result<Vec<(f64, Tensor)>> {
    checks
        .epsilons
        .iter()
        .map(|&epsilon| {
            let config = AttackConfig { attack: spec.pgd, epsilon, clip: Some(spec.clip) };
            Ok((epsilon, adversarial_examples(Some(backbone), head.classifier(), data, &config, spec.batch_size, seed)?))
        })
        .collect()
}

/// The accuracy of `head` under the masking checks at every check radius on `data`: the
/// stronger PGD, the `transferred` examples, SPSA on the first `spsa_samples` and the stronger
/// PGD on the same samples.
pub fn masking_checks(
    backbone: &dyn Backbone,
    head: TrainedHead<'_>,
    data: &Dataset,
    spec: &RobustnessSpec,
    checks: &MaskingChecks,
    transferred: &[(f64, Tensor)],
    seed: u64,
) -> Result<Vec<AttackRow>> {
    let y = data.y.as_ref().context("a labelled set to attack")?;
    let n = checks.spsa_samples.min(data.n_samples() as i64);
    let few = Dataset::new(data.x.narrow(0, 0, n), Some(y.narrow(0, 0, n)))?;
    let mut rows = Vec::new();
    for &epsilon in &checks.epsilons {
        let under = |attack: Attack, data: &Dataset| {
            let config = AttackConfig { attack, epsilon, clip: Some(spec.clip) };
            accuracy_under_attack(Some(backbone), head.classifier(), data, &config, spec.batch_size, seed)
        };
        let replayed = transferred.iter().find(|(e, _)| *e == epsilon).map(|(_, x)| x).context("transfer examples at every radius")?;
        rows.extend([
            AttackRow { attack: "pgd-restarts", epsilon, accuracy: under(checks.pgd, data)? },
            AttackRow { attack: "transfer", epsilon, accuracy: accuracy_on(Some(backbone), head.classifier(), replayed, y)? },
            AttackRow { attack: "spsa", epsilon, accuracy: under(checks.spsa, &few)? },
            AttackRow { attack: "pgd-restarts-spsa-samples", epsilon, accuracy: under(checks.pgd, &few)? },
        ]);
    }
    Ok(rows)
}
