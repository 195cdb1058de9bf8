//! The divergence guard: remembers, on the device and without a host sync per step, the first
//! step whose logged loss terms were not finite, and checks the parameters at log points.

use crate::error::{Error, Result};
use tch::{nn, Kind, Tensor};

/// The first non-finite step and term of a phase, tracked on the device.
#[derive(Debug)]
pub(crate) struct DivergenceGuard {
    /// `[2]` int64: (1-based step, term index) of the first non-finite value, or (0, 0).
    first: Option<Tensor>,
}

impl DivergenceGuard {
    /// A guard that has seen nothing.
    pub(crate) fn new() -> Self {
        DivergenceGuard { first: None }
    }

    /// Records step `step`'s terms `[t, replicas]` (detached): if this is the first step with a
    /// non-finite value, remembers it. Device operations only.
    pub(crate) fn observe(&mut self, step: usize, terms: &Tensor) {
        let bad = terms.isfinite().logical_not().any_dim(-1, false); // [t]
        let flagged = bad.any(); // []
        let term = bad.to_kind(Kind::Int64).argmax(0, false); // []: first bad term
        let here = Tensor::stack(&[flagged.to_kind(Kind::Int64) * step as i64, term], 0); // [2]
        self.first = Some(match self.first.take() {
            None => here,
            Some(first) => {
                let seen = first.select(0, 0).gt(0); // []
                first.where_self(&seen, &here)
            }
        });
    }

    /// Fails with [`Error::Diverged`] naming the first non-finite step and term (one host copy of
    /// two integers), or when a trainable variable of `vs` holds a NaN or an infinity.
    /// `now` is the step of the log point.
    pub(crate) fn check(&self, phase: &str, now: usize, names: &[&'static str], vs: &nn::VarStore) -> Result<()> {
        if let Some(first) = &self.first {
            let [step, term] = <[i64; 2]>::try_from(Vec::<i64>::try_from(first.to_device(tch::Device::Cpu))?)
                .map_err(|v| Error::InvalidConfig { field: "guard".into(), expected: "2 values".into(), found: v.len().to_string() })?;
            if step > 0 {
                let name = names.get(term as usize).copied().unwrap_or("loss");
                return Err(Error::Diverged { phase: phase.to_owned(), step: step as usize, what: format!("loss term `{name}`") });
            }
        }
        let _guard = tch::no_grad_guard();
        let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        if variables.is_empty() {
            return Ok(());
        }
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        let finite: Vec<Tensor> = variables.iter().map(|(_, v)| v.isfinite().all()).collect();
        let finite = Vec::<bool>::try_from(Tensor::stack(&finite, 0).to_device(tch::Device::Cpu))?; // one host copy
        match finite.iter().position(|ok| !ok) {
            Some(i) => Err(Error::Diverged {
                phase: phase.to_owned(),
                step: now,
                what: format!("variable `{}` (found at this log point)", variables[i].0),
            }),
            None => Ok(()),
        }
    }
}
