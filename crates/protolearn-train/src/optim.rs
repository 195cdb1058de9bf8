//! Optimizer choice (Adam or SGD) and learning rate, as data, and [`TensorOptimizer`]: the two
//! optimizers as tensor code, with the formulas of libtorch's `torch::optim::Adam` and `SGD` but
//! with a state that can be saved and restored, which resuming a run needs, and with Adam on CPU
//! float32 parameters as one fused pass (`fused_adam.rs`). Results equal `tch::nn::Adam` /
//! `nn::Sgd` to float32 rounding, not bit for bit: libtorch's vectorised kernels round their
//! intermediates differently.

use crate::error::{Error, Result};
use crate::fused_adam::{self, AdamStep};
use serde::{Deserialize, Serialize};
use tch::{nn, Tensor};

/// Adam's `β_1` (Kingma & Ba; libtorch's default).
const BETA1: f64 = 0.9;
/// Adam's `β_2`.
const BETA2: f64 = 0.999;
/// Adam's `ε`, added to `sqrt(v̂)`.
const EPS: f64 = 1e-8;

/// The optimizer family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// Adam (Kingma & Ba) with betas (0.9, 0.999), eps 1e-8: the papers' optimizer.
    Adam,
    /// Plain stochastic gradient descent.
    Sgd,
}

/// Optimizer and learning rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimizerConfig {
    /// Adam or SGD.
    pub kind: OptimizerKind,
    /// Learning rate (paper 000: 0.008 for VCL, 0.0008 for DCL).
    pub lr: f64,
}

impl OptimizerConfig {
    /// The optimizer of a run: a [`TensorOptimizer`], whose Adam step on CPU float32
    /// parameters is one fused pass over memory (DESOM through the trainer against libtorch's
    /// `torch::optim::Adam`: `cargo bench -p protolearn-train --bench desom`), and whose state
    /// can be checkpointed.
    pub fn build(&self, vs: &nn::VarStore) -> Result<Box<dyn Optimize>> {
        Ok(Box::new(self.build_checkpointable(vs)?))
    }

    /// [`OptimizerConfig::build_checkpointable`] with the rate of variable group `g` set to `lr_g`
    /// for each `(g, lr_g)` of `groups`, as [`OptimizerConfig::build_grouped`] but with a state
    /// a checkpoint holds (equal to libtorch's optimizer to float32 rounding only).
    pub fn build_checkpointable_grouped(&self, vs: &nn::VarStore, groups: &[(usize, f64)]) -> Result<TensorOptimizer> {
        for &(_, lr) in groups {
            OptimizerConfig { lr, ..*self }.validate()?;
        }
        let mut optimizer = self.build_checkpointable(vs)?;
        let variables = vs.variables_.lock().map_err(|_| Error::InvalidConfig {
            field: "variables".into(),
            expected: "a variable store no other thread panicked while holding".into(),
            found: "a poisoned lock".into(),
        })?;
        let group_of = |p: &Tensor| variables.trainable_variables.iter().find(|v| v.tensor.data_ptr() == p.data_ptr()).map(|v| v.group);
        optimizer.group_lr = optimizer
            .params
            .iter()
            .map(|(_, p)| group_of(p).and_then(|g| groups.iter().find(|(group, _)| *group == g).map(|&(_, lr)| lr)))
            .collect();
        Ok(optimizer)
    }

    /// libtorch's optimizer (`tch::nn::Adam` / `nn::Sgd`) with the rate of variable group `g`
    /// set to `lr_g` for each `(g, lr_g)` of `groups` (groups come from `nn::Path::set_group`);
    /// a schedule set with [`Optimize::set_lr`] overrides them all.
    pub fn build_grouped(&self, vs: &nn::VarStore, groups: &[(usize, f64)]) -> Result<Box<dyn Optimize>> {
        use nn::OptimizerConfig as _;
        self.validate()?;
        for &(_, lr) in groups {
            OptimizerConfig { lr, ..*self }.validate()?;
        }
        let mut optimizer = match self.kind {
            OptimizerKind::Adam => nn::Adam::default().build(vs, self.lr)?,
            OptimizerKind::Sgd => nn::Sgd::default().build(vs, self.lr)?,
        };
        for &(group, lr) in groups {
            optimizer.set_lr_group(group, lr);
        }
        Ok(Box::new(optimizer))
    }

    fn validate(&self) -> Result<()> {
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::InvalidConfig {
                field: "lr".into(),
                expected: "a positive finite number".into(),
                found: self.lr.to_string(),
            });
        }
        Ok(())
    }

    /// The optimizer as tensor code over every trainable variable of `vs` (those that exist
    /// now), whose state can be checkpointed and restored.
    pub fn build_checkpointable(&self, vs: &nn::VarStore) -> Result<TensorOptimizer> {
        self.validate()?;
        let mut params: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let like = |params: &[(String, Tensor)]| params.iter().map(|(_, p)| p.detach().zeros_like()).collect::<Vec<_>>();
        let (m, v, scratch) = match self.kind {
            OptimizerKind::Adam => (like(&params), like(&params), [like(&params), like(&params)]),
            OptimizerKind::Sgd => (Vec::new(), Vec::new(), [like(&params), Vec::new()]),
        };
        let group_lr = vec![None; params.len()];
        Ok(TensorOptimizer { kind: self.kind, lr: self.lr, group_lr, step: 0, params, m, v, scratch })
    }
}

/// What the data-parallel trainer does to the gradients of one step (see
/// [`Optimize::backward_combine_step`]): the computed gradients in, the ones to step with out.
pub type Combine<'a> = dyn FnMut(&[Tensor]) -> Result<Vec<Tensor>> + 'a;

/// What the trainer needs of an optimizer. Implemented by [`TensorOptimizer`] (the library's,
/// whose state can be checkpointed) and by `tch::nn::Optimizer` (no saved state).
pub trait Optimize {
    /// Sets the learning rate of the next steps.
    fn set_lr(&mut self, lr: f64);
    /// Zeroes the gradients, back-propagates `loss` and takes one step.
    fn backward_step(&mut self, loss: &Tensor) -> Result<()>;
    /// Back-propagates `loss`, steps with the gradients `combine` makes of the computed ones (the
    /// data-parallel trainer sums them across processes; an undefined gradient, of a variable
    /// outside the graph, stays undefined). `vs` holds the variables.
    fn backward_combine_step(&mut self, loss: &Tensor, vs: &nn::VarStore, combine: &mut Combine<'_>) -> Result<()>;
    /// The state to checkpoint (named tensors), `None` when it cannot be saved.
    fn state(&self) -> Option<Vec<(String, Tensor)>>;
    /// Restores a state written by [`Optimize::state`].
    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()>;
}

impl Optimize for nn::Optimizer {
    fn set_lr(&mut self, lr: f64) {
        nn::Optimizer::set_lr(self, lr);
    }

    fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        nn::Optimizer::backward_step(self, loss);
        Ok(())
    }

    fn backward_combine_step(&mut self, loss: &Tensor, vs: &nn::VarStore, combine: &mut Combine<'_>) -> Result<()> {
        self.zero_grad();
        loss.f_backward()?;
        let grads: Vec<Tensor> = vs.trainable_variables().iter().map(Tensor::grad).collect();
        let combined = combine(&grads)?;
        let _guard = tch::no_grad_guard();
        for (grad, new) in grads.iter().zip(&combined).filter(|(g, _)| g.defined()) {
            grad.shallow_clone().f_copy_(new)?; // `.grad` buffers are laid out like their variables
        }
        self.step();
        Ok(())
    }

    fn state(&self) -> Option<Vec<(String, Tensor)>> {
        None
    }

    fn load_state(&mut self, _state: &[(String, Tensor)]) -> Result<()> {
        Err(Error::InvalidConfig {
            field: "optimizer".into(),
            expected: "protolearn's TensorOptimizer to restore a state".into(),
            found: "tch::nn::Optimizer".into(),
        })
    }
}

/// Adam or SGD over named parameters, as tensor code.
///
/// Adam, step `t` (libtorch's formulation): `m = β_1 m + (1-β_1) g`, `v = β_2 v + (1-β_2) g²`,
/// `p -= (lr / (1-β_1^t)) m / (sqrt(v) / sqrt(1-β_2^t) + ε)`. SGD: `p -= lr g`.
#[derive(Debug)]
pub struct TensorOptimizer {
    kind: OptimizerKind,
    lr: f64,
    /// Per parameter, the rate of its variable group when one is set (else `lr`); a rate set
    /// with [`Optimize::set_lr`] overrides them all, as libtorch's.
    group_lr: Vec<Option<f64>>,
    step: i64,
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Two buffers per parameter for the step's temporaries, allocated once (a fresh
    /// parameter-sized allocation per step and tensor costs more than the arithmetic).
    scratch: [Vec<Tensor>; 2],
}

impl TensorOptimizer {
    /// Steps taken.
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// One update from `grads`, one per parameter (undefined: the parameter is not in the graph).
    fn step(&mut self, grads: &[Tensor]) {
        let _guard = tch::no_grad_guard();
        self.step += 1;
        let t = self.step as f64;
        let (c1, c2) = (1.0 - BETA1.powf(t), 1.0 - BETA2.powf(t));
        for (i, ((_, p), g)) in self.params.iter().zip(grads).enumerate() {
            if !g.defined() {
                continue;
            }
            // The engine may hand back a strided gradient (of a broadcast); `.grad` accumulation
            // laid it out like the parameter, which the fused pass needs.
            let g = g.contiguous();
            let mut p = p.shallow_clone();
            let lr = self.group_lr[i].unwrap_or(self.lr);
            let [first, second] = &mut self.scratch;
            let a = &first[i];
            // The in-place and `_out` ops return aliases that are not needed.
            match self.kind {
                OptimizerKind::Sgd => {
                    _ = g.mul_scalar_out(a, -lr);
                    _ = p.g_add_(a);
                }
                OptimizerKind::Adam if fused_adam::applies([&p, &g, &self.m[i], &self.v[i]]) => {
                    let step = AdamStep::new(BETA1, BETA2, EPS, lr, t);
                    fused_adam::update(&p, &g, &self.m[i], &self.v[i], step);
                }
                OptimizerKind::Adam => {
                    let (m, v, b) = (&mut self.m[i], &mut self.v[i], &mut second[i]);
                    _ = g.mul_scalar_out(a, 1.0 - BETA1);
                    _ = m.g_mul_scalar_(BETA1).g_add_(a);
                    _ = g.mul_scalar_out(a, 1.0 - BETA2);
                    _ = v.g_mul_scalar_(BETA2).addcmul_(a, &g);
                    _ = v.sqrt_out(b);
                    _ = b.g_div_scalar_(c2.sqrt()).g_add_scalar_(EPS);
                    _ = m.mul_scalar_out(a, -(lr / c1));
                    _ = p.addcdiv_(a, b);
                }
            }
        }
    }
}

impl Optimize for TensorOptimizer {
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
        self.group_lr.iter_mut().for_each(|g| *g = None);
    }

    /// The gradients come back from the autograd engine as fresh tensors (`torch.autograd.grad`)
    /// instead of being accumulated into `.grad` buffers that each step zeroes first: no zero
    /// fill and no accumulating add per parameter and step (PyTorch's `zero_grad(set_to_none=True)`
    /// saves the same), with the same values; the parameters' `.grad` stays undefined.
    fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let params: Vec<&Tensor> = self.params.iter().map(|(_, p)| p).collect();
        let grads = Tensor::f_run_backward(&[loss], &params, false, false)?;
        self.step(&grads);
        Ok(())
    }

    fn backward_combine_step(&mut self, loss: &Tensor, _vs: &nn::VarStore, combine: &mut Combine<'_>) -> Result<()> {
        let params: Vec<&Tensor> = self.params.iter().map(|(_, p)| p).collect();
        let grads = Tensor::f_run_backward(&[loss], &params, false, false)?;
        self.step(&combine(&grads)?);
        Ok(())
    }

    fn state(&self) -> Option<Vec<(String, Tensor)>> {
        let mut state = vec![("optimizer.step".to_owned(), Tensor::from(self.step)), ("optimizer.lr".to_owned(), Tensor::from(self.lr))];
        for (i, (name, _)) in self.params.iter().enumerate() {
            if let (Some(m), Some(v)) = (self.m.get(i), self.v.get(i)) {
                state.push((format!("optimizer.m.{name}"), m.shallow_clone()));
                state.push((format!("optimizer.v.{name}"), v.shallow_clone()));
            }
        }
        Some(state)
    }

    fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let find = |name: &str| {
            state.iter().find(|(n, _)| n == name).map(|(_, t)| t).ok_or_else(|| Error::InvalidConfig {
                field: "checkpoint".into(),
                expected: format!("optimizer state `{name}`"),
                found: "no such tensor".into(),
            })
        };
        self.step = find("optimizer.step")?.f_int64_value(&[])?;
        self.lr = find("optimizer.lr")?.f_double_value(&[])?;
        let _guard = tch::no_grad_guard();
        for (i, (name, _)) in self.params.iter().enumerate() {
            if self.kind == OptimizerKind::Adam {
                self.m[i].f_copy_(find(&format!("optimizer.m.{name}"))?)?;
                self.v[i].f_copy_(find(&format!("optimizer.v.{name}"))?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::OptimizerConfig as _;
    use tch::Kind;

    /// Ten steps of a small quadratic with both implementations from the same start, with
    /// parameters of `precision` (float32: the fused CPU path; float64: the tensor-op path
    /// that GPUs take).
    fn run(kind: OptimizerKind, ours: bool, precision: Kind) -> Tensor {
        let mut vs = nn::VarStore::new(tch::Device::Cpu);
        // 4096 values: large enough for libtorch's vectorised kernels.
        let start: Vec<f32> = (0..4096).map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0).collect();
        let start = Tensor::from_slice(&start).view([64, 64]).to_kind(precision);
        let w = vs.root().var_copy("w", &start);
        vs.set_kind(precision);
        let target = start.flip([0]) * 0.5;
        let loss = |w: &Tensor| (w - &target).pow_tensor_scalar(4).sum(precision) + w.sum(precision);
        let lr = 0.05;
        if ours {
            let mut opt = OptimizerConfig { kind, lr }.build_checkpointable(&vs).unwrap();
            for _ in 0..10 {
                opt.backward_step(&loss(&w)).unwrap();
            }
        } else {
            let mut opt = match kind {
                OptimizerKind::Adam => nn::Adam::default().build(&vs, lr).unwrap(),
                OptimizerKind::Sgd => nn::Sgd::default().build(&vs, lr).unwrap(),
            };
            for _ in 0..10 {
                opt.backward_step(&loss(&w));
            }
        }
        w.detach().copy()
    }

    #[test]
    fn tensor_adam_and_sgd_equal_libtorch_to_float32_rounding() {
        // libtorch's vectorised kernels (`add_` with alpha, `addcmul_`) fuse multiply and add,
        // which tch's tensor ops cannot express: equal to float32 rounding after 10 steps.
        // Float32 runs check the fused CPU Adam, float64 runs the tensor-op path (GPUs), each
        // to a few units of its rounding (measured: 2.4e-7 and 6.7e-16 on values up to 2).
        for (precision, rtol, atol) in [(Kind::Float, 1e-5, 1e-6), (Kind::Double, 1e-12, 1e-13)] {
            for kind in [OptimizerKind::Adam, OptimizerKind::Sgd] {
                let (ours, theirs) = (run(kind, true, precision), run(kind, false, precision));
                let diff = (&ours - &theirs).abs().max().double_value(&[]);
                assert!(ours.allclose(&theirs, rtol, atol, false), "{kind:?} {precision:?}: max |difference| {diff}");
            }
        }
    }

    #[test]
    fn state_round_trips() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let w = vs.root().var_copy("w", &Tensor::from_slice(&[1.0f32, 2.0]));
        let mut a = OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.1 }.build_checkpointable(&vs).unwrap();
        a.backward_step(&w.square().sum(Kind::Float)).unwrap();
        let saved: Vec<(String, Tensor)> = a.state().unwrap().into_iter().map(|(n, t)| (n, t.copy())).collect();
        let mut b = OptimizerConfig { kind: OptimizerKind::Adam, lr: 0.5 }.build_checkpointable(&vs).unwrap();
        b.load_state(&saved).unwrap();
        assert_eq!((b.steps(), b.lr), (1, 0.1));
        assert!(b.m[0].equal(&a.m[0]) && b.v[0].equal(&a.v[0]));
        assert!(b.load_state(&saved[..1]).is_err(), "missing tensors are an error");
    }
}
