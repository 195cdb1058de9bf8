//! Three ways to train a plain SOM, for comparison (paper 002, Sec. 2.1 and 3.4): minibatch
//! gradient descent on the distortion with Adam ("Keras SOM"), the batch SOM (Algorithm 2) and the
//! online Kohonen SOM (Algorithm 1); the last two are [`UpdateRule`]s driven by
//! [`train_with_rule`]. Sample order comes from a seeded `ChaCha8Rng`, never from
//! libtorch's global RNG.

use super::layer::SomLayer;
use super::loss::som_distortion;
use super::neighbourhood::Schedule;
use crate::error::{Error, Result};
use crate::layer::UpdateRule;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Kind, Tensor};

/// Denominators `sum_i K(k, b_i)` at or below this leave prototype `k` unchanged in the batch SOM.
const MIN_DENOMINATOR: f64 = 1e-12;

/// One point of a training history, measured on the full data set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SomRecord {
    /// The 1-based iteration after which it was measured.
    pub iteration: usize,
    /// The temperature `T` of that iteration.
    pub temperature: f64,
    /// Distortion `L_SOM` at `T` (paper 002, Sec. 2.1), a mean over samples.
    pub distortion: f64,
    /// Quantization error `QE = (1/N) sum_i ||x_i - m_{b_i}||` (paper 002, Appendix: a mean
    /// Euclidean, not squared, distance).
    pub quantization_error: f64,
}

/// Measures distortion and quantization error of `layer` on `x` `[n, L]` at `temperature`.
pub fn evaluate(layer: &SomLayer, x: &Tensor, iteration: usize, temperature: f64) -> Result<SomRecord> {
    let _guard = tch::no_grad_guard();
    let dist = layer.forward(x); // [n, K]
    let bmus = dist.argmin(-1, false); // [n]
    let weights = layer.neighbourhood_weights(&bmus, temperature)?; // [n, K]
    let distortion = som_distortion(&dist, &weights).f_double_value(&[])?;
    let quantization_error = dist.amin(-1, false).sqrt().mean(Kind::Float).f_double_value(&[])?;
    Ok(SomRecord { iteration, temperature, distortion, quantization_error })
}

/// Minibatch gradient descent on `L_SOM` with Adam (paper 002, Sec. 3.4, Eq. 7-8; Algorithm 3
/// without the autoencoder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradientSomConfig {
    /// Optimizer steps (paper 002: until convergence, 10000 on MNIST).
    pub iterations: usize,
    /// Minibatch size `n_b` (paper 002, Table 2: 256); capped at the data size.
    pub batch_size: usize,
    /// Adam learning rate `l_r` (paper 002, Table 2: 0.001).
    pub lr: f64,
    /// Temperature `T(i)`, updated every iteration.
    pub temperature: Schedule,
    /// Seed of the minibatch order.
    pub seed: u64,
    /// Record the history every this many iterations (and after the last).
    pub eval_every: usize,
}

/// The batch SOM (paper 002, Algorithm 2, Eq. 3). Deterministic: every iteration uses all samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSomConfig {
    /// Passes over the data, one prototype update each.
    pub iterations: usize,
    /// Temperature `T(i)`, updated every iteration.
    pub temperature: Schedule,
}

/// The online Kohonen SOM (paper 002, Algorithm 1, Eq. 2): one sample per iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineSomConfig {
    /// Sample presentations (an epoch is `n` of them).
    pub iterations: usize,
    /// Learning rate `α(i)`, decreasing (paper 002, Eq. 2).
    pub lr: Schedule,
    /// Temperature `T(i)`, updated every iteration.
    pub temperature: Schedule,
    /// Seed of the sample order.
    pub seed: u64,
    /// Record the history every this many iterations (and after the last).
    pub eval_every: usize,
}

/// `InvalidConfig` unless `value >= 1`.
fn at_least_one(field: &'static str, value: usize) -> Result<()> {
    if value >= 1 {
        Ok(())
    } else {
        Err(Error::InvalidConfig { field, expected: "at least 1".into(), found: value.to_string() })
    }
}

impl GradientSomConfig {
    /// Checks counts, learning rate and schedule.
    pub fn validate(&self) -> Result<()> {
        at_least_one("iterations", self.iterations)?;
        at_least_one("batch_size", self.batch_size)?;
        at_least_one("eval_every", self.eval_every)?;
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(Error::InvalidConfig { field: "lr", expected: "finite lr > 0".into(), found: self.lr.to_string() });
        }
        self.temperature.validate("temperature")
    }
}

impl BatchSomConfig {
    /// Checks the iteration count and schedule.
    pub fn validate(&self) -> Result<()> {
        at_least_one("iterations", self.iterations)?;
        self.temperature.validate("temperature")
    }
}

impl OnlineSomConfig {
    /// Checks counts and both schedules.
    pub fn validate(&self) -> Result<()> {
        at_least_one("iterations", self.iterations)?;
        at_least_one("eval_every", self.eval_every)?;
        self.lr.validate("lr")?;
        self.temperature.validate("temperature")
    }
}

/// Sample indices in shuffled epochs: consecutive chunks of a permutation redrawn from a seeded
/// `ChaCha8Rng` whenever fewer than a chunk remain.
struct Epochs {
    rng: ChaCha8Rng,
    order: Vec<i64>,
    pos: usize,
}

impl Epochs {
    fn new(n: i64, seed: u64) -> Epochs {
        Epochs { rng: ChaCha8Rng::seed_from_u64(seed), order: (0..n).collect(), pos: n as usize }
    }

    /// The next `size <= n` indices.
    fn next(&mut self, size: usize) -> &[i64] {
        if self.pos + size > self.order.len() {
            self.order.shuffle(&mut self.rng);
            self.pos = 0;
        }
        self.pos += size;
        &self.order[self.pos - size..self.pos]
    }
}

/// Appends a record to `history` after iteration `it` when it is due.
fn record(history: &mut Vec<SomRecord>, layer: &SomLayer, x: &Tensor, it: usize, every: usize, last: usize, t: f64) -> Result<()> {
    if it % every == 0 || it == last {
        history.push(evaluate(layer, x, it, t)?);
    }
    Ok(())
}

/// Trains `layer` by minibatch Adam on `L_SOM` (paper 002, Sec. 3.4): each step fixes the BMUs and
/// weights `w_ik = K^T(δ(b_i, k))` of the batch at `T(i)`, then takes one gradient step on
/// `(1/n_b) sum_i sum_k w_ik ||x_i - m_k||^2`. The optimizer covers the variables of `vs`, the
/// store the layer was built in.
///
/// # Shapes
/// `x`: `[n, L]`.
pub fn train_gradient(vs: &nn::VarStore, layer: &SomLayer, x: &Tensor, cfg: &GradientSomConfig) -> Result<Vec<SomRecord>> {
    cfg.validate()?;
    layer.check_input(x)?;
    let n = x.size()[0];
    let batch = cfg.batch_size.min(n as usize);
    let mut epochs = Epochs::new(n, cfg.seed);
    let mut opt = nn::Adam::default().build(vs, cfg.lr)?;
    let mut history = Vec::new();
    for it in 1..=cfg.iterations {
        let t = cfg.temperature.at(it, cfg.iterations);
        let idx = Tensor::f_from_slice(epochs.next(batch))?.to_device(x.device()); // [b]
        let xb = x.f_index_select(0, &idx)?; // [b, L]
        let weights = layer.neighbourhood_weights(&layer.bmus(&xb)?, t)?; // [b, K]
        opt.backward_step(&som_distortion(&layer.forward(&xb), &weights));
        record(&mut history, layer, x, it, cfg.eval_every, cfg.iterations, t)?;
    }
    Ok(history)
}

impl UpdateRule<SomLayer> for BatchSomConfig {
    fn batch_size(&self) -> Option<usize> {
        None
    }

    /// One batch-SOM update (paper 002, Algorithm 2, Eq. 3): BMUs of all samples, then
    /// `m_k = sum_i K^T(δ(k, b_i)) x_i / sum_i K^T(δ(k, b_i))`; a prototype whose denominator is
    /// not positive (possible with the bubble or Mexican hat) keeps its old value.
    fn step(&self, layer: &mut SomLayer, x: &Tensor, iteration: usize, iterations: usize) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let t = self.temperature.at(iteration, iterations);
        let h = layer.neighbourhood_weights(&layer.bmus(x)?, t)?; // [n, K]
        let num = h.transpose(0, 1).f_matmul(x)?; // [K, L]
        let den = h.sum_dim_intlist(0, false, None::<Kind>).unsqueeze(-1); // [K, 1]
        let moved = num / den.clamp_min(MIN_DENOMINATOR); // [K, L]
        let updated = moved.f_where_self(&den.gt(MIN_DENOMINATOR), &layer.weight)?; // [K, L]
        layer.weight.f_copy_(&updated)?;
        Ok(())
    }
}

impl UpdateRule<SomLayer> for OnlineSomConfig {
    fn batch_size(&self) -> Option<usize> {
        Some(1)
    }

    /// One Kohonen update (paper 002, Algorithm 1, Eq. 2) per sample of `x`, in order:
    /// `m_k += α(i) K^T(δ(b, k)) (x - m_k)` for every unit `k`.
    fn step(&self, layer: &mut SomLayer, x: &Tensor, iteration: usize, iterations: usize) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let (t, alpha) = (self.temperature.at(iteration, iterations), self.lr.at(iteration, iterations));
        for i in 0..x.size()[0] {
            let xi = x.f_narrow(0, i, 1)?; // [1, L]
            let h = layer.neighbourhood_weights(&layer.bmus(&xi)?, t)?; // [1, K]
            let delta = h.transpose(0, 1) * (&xi - &layer.weight) * alpha; // [K, L]
            _ = layer.weight.f_add_(&delta)?; // in place; the returned alias is not needed
        }
        Ok(())
    }
}

/// How [`train_with_rule`] runs: steps, sample order and history interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleRun<'a> {
    /// Steps.
    pub iterations: usize,
    /// Seed of the sample order (unused by full-batch rules).
    pub seed: u64,
    /// Record the history every this many steps (and after the last).
    pub eval_every: usize,
    /// The temperature the history's distortion is measured at.
    pub temperature: &'a Schedule,
}

/// Trains `layer` with a non-gradient update rule: each step gives the rule its batch (the whole
/// set, or the next samples of shuffled epochs from a seeded `ChaCha8Rng`) and records the
/// history when due.
///
/// # Shapes
/// `x`: `[n, L]`.
pub fn train_with_rule<R: UpdateRule<SomLayer>>(layer: &mut SomLayer, x: &Tensor, rule: &R, run: RuleRun<'_>) -> Result<Vec<SomRecord>> {
    at_least_one("iterations", run.iterations)?;
    at_least_one("eval_every", run.eval_every)?;
    layer.check_input(x)?;
    let n = x.size()[0];
    let mut epochs = Epochs::new(n, run.seed);
    let mut history = Vec::new();
    for it in 1..=run.iterations {
        let batch = match rule.batch_size() {
            None => x.shallow_clone(),
            Some(b) => x.f_index_select(0, &Tensor::f_from_slice(epochs.next(b.min(n as usize)))?.to_device(x.device()))?,
        };
        rule.step(layer, &batch, it, run.iterations)?;
        record(&mut history, layer, x, it, run.eval_every, run.iterations, run.temperature.at(it, run.iterations))?;
    }
    Ok(history)
}

/// Trains `layer` by the batch SOM (paper 002, Algorithm 2, Eq. 3; see the [`UpdateRule`]
/// implementation). Deterministic; records every iteration.
///
/// # Shapes
/// `x`: `[n, L]`.
pub fn train_batch(layer: &mut SomLayer, x: &Tensor, cfg: &BatchSomConfig) -> Result<Vec<SomRecord>> {
    cfg.validate()?;
    train_with_rule(layer, x, cfg, RuleRun { iterations: cfg.iterations, seed: 0, eval_every: 1, temperature: &cfg.temperature })
}

/// Trains `layer` by the online Kohonen SOM (paper 002, Algorithm 1, Eq. 2; see the
/// [`UpdateRule`] implementation): one sample per iteration in shuffled epochs.
///
/// # Shapes
/// `x`: `[n, L]`.
pub fn train_online(layer: &mut SomLayer, x: &Tensor, cfg: &OnlineSomConfig) -> Result<Vec<SomRecord>> {
    cfg.validate()?;
    let run = RuleRun { iterations: cfg.iterations, seed: cfg.seed, eval_every: cfg.eval_every, temperature: &cfg.temperature };
    train_with_rule(layer, x, cfg, run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_visit_every_sample_once_per_epoch_and_reproduce() {
        let mut a = Epochs::new(10, 4);
        let mut b = Epochs::new(10, 4);
        let mut first: Vec<i64> = (0..5).flat_map(|_| a.next(2).to_vec()).collect();
        let again: Vec<i64> = (0..5).flat_map(|_| b.next(2).to_vec()).collect();
        assert_eq!(first, again);
        first.sort_unstable();
        assert_eq!(first, (0..10).collect::<Vec<_>>());
        assert_eq!(a.next(3).len(), 3);
    }
}
