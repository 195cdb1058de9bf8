//! The logging interval and the divergence guard in one: the loss terms of every step of an
//! interval stay on the device; at the log point their means and the finiteness of every
//! trainable variable come back in one host copy. A non-finite mean (or variable) stops
//! training with the first non-finite step and term (found only then, from the kept steps).

use crate::error::{Error, Result};
use crate::record::Column;
use tch::{nn, Kind, Tensor};

/// The loss terms of the steps since the last log point.
#[derive(Debug)]
pub(crate) struct Interval {
    names: Vec<&'static str>,
    /// `(1-based step, terms [t, replicas])`, detached, on the device.
    steps: Vec<(usize, Tensor)>,
    /// The trainable variables, sorted by name (fixed for a phase).
    variables: Vec<(String, Tensor)>,
}

impl Interval {
    /// An empty interval over the trainable variables of `vs`.
    pub(crate) fn new(vs: &nn::VarStore) -> Self {
        let mut variables: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, t)| t.requires_grad()).collect();
        variables.sort_by(|a, b| a.0.cmp(&b.0));
        Interval { names: Vec::new(), steps: Vec::new(), variables }
    }

    /// Records step `step`'s named terms (`[]` or `[replicas]` each). Device operations only.
    pub(crate) fn push(&mut self, step: usize, logged: &[(&'static str, Tensor)]) -> Result<()> {
        if logged.is_empty() {
            return Ok(());
        }
        self.names = logged.iter().map(|(n, _)| *n).collect();
        let rows: Vec<Tensor> = logged.iter().map(|(_, t)| t.reshape([-1]).to_kind(Kind::Float)).collect();
        self.steps.push((step, Tensor::f_stack(&rows, 0)?)); // [t, r]
        Ok(())
    }

    /// Closes the interval at log point `now` of `phase`: the mean of every term over the
    /// interval's steps (one column per term, one value per replica), after checking that every
    /// term and every trainable variable is finite ([`Error::Diverged`] otherwise). One host copy.
    pub(crate) fn close(&mut self, phase: &str, now: usize) -> Result<Vec<Column>> {
        let _guard = tch::no_grad_guard();
        let steps = std::mem::take(&mut self.steps);
        let stacked = if steps.is_empty() {
            None
        } else {
            Some(Tensor::f_stack(&steps.iter().map(|(_, t)| t.shallow_clone()).collect::<Vec<_>>(), 0)?)
            // [s, t, r]
        };
        let mut parts: Vec<Tensor> = Vec::new();
        if let Some(s) = &stacked {
            parts.push((s.sum_dim_intlist(0, false, Kind::Float) / steps.len() as f64).reshape([-1]).to_kind(Kind::Double));
        }
        if !self.variables.is_empty() {
            let finite: Vec<Tensor> = self.variables.iter().map(|(_, v)| v.isfinite().all()).collect();
            parts.push(Tensor::f_stack(&finite, 0)?.to_kind(Kind::Double));
        }
        if parts.is_empty() {
            return Ok(Vec::new());
        }
        let host = Vec::<f64>::try_from(Tensor::f_cat(&parts, 0)?.to_device(tch::Device::Cpu))?; // the one host copy
        let (t, r) = stacked.as_ref().map_or((0, 0), |s| (s.size()[1] as usize, s.size()[2] as usize));
        let (means, finite) = host.split_at(t * r);
        if let Some(bad) = means.iter().position(|m| !m.is_finite()) {
            return Err(self.first_bad(phase, now, &steps, bad / r.max(1))?);
        }
        if let Some(v) = finite.iter().position(|&f| f == 0.0) {
            let what = format!("variable `{}` (found at this log point)", self.variables[v].0);
            return Err(Error::Diverged { phase: phase.to_owned(), step: now, what });
        }
        Ok(self.names.iter().zip(means.chunks(r.max(1))).map(|(&name, v)| Column { name: name.to_owned(), values: v.to_vec() }).collect())
    }

    /// The first step and term of `steps` with a non-finite value (`term` if the mean overflowed
    /// without any non-finite step).
    fn first_bad(&self, phase: &str, now: usize, steps: &[(usize, Tensor)], term: usize) -> Result<Error> {
        for (step, terms) in steps {
            let values = Vec::<f64>::try_from(terms.to_kind(Kind::Double).to_device(tch::Device::Cpu).reshape([-1]))?;
            let r = terms.size()[1].max(1) as usize;
            if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                let name = self.names.get(i / r).copied().unwrap_or("loss");
                return Ok(Error::Diverged { phase: phase.to_owned(), step: *step, what: format!("loss term `{name}`") });
            }
        }
        let name = self.names.get(term).copied().unwrap_or("loss");
        Ok(Error::Diverged { phase: phase.to_owned(), step: now, what: format!("the interval mean of loss term `{name}` (it overflowed)") })
    }
}
