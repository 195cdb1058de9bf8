//! The two SOM update rules without autograd (paper 002, Sec. 2.1): the batch SOM (Algorithm 2)
//! and the online Kohonen SOM (Algorithm 1), as [`UpdateRule`]s run by protolearn-train's
//! trainer. The gradient ("Keras") SOM is an objective and lives with the trainer.

use super::layer::SomLayer;
use super::neighbourhood::Schedule;
use crate::collective::{sum_across, Collective};
use crate::error::Result;
use crate::layer::UpdateRule;
use crate::missing::{observed_sums, zero_missing, Components};
use crate::rows::{chunks, RowSource};
use serde::{Deserialize, Serialize};
use std::ops::Range;
use tch::{Kind, Tensor};

/// Denominators `sum_i K(k, b_i)` at or below this leave prototype `k` unchanged in the batch SOM.
const MIN_DENOMINATOR: f64 = 1e-12;

/// The batch SOM (paper 002, Algorithm 2, Eq. 3): every step uses all samples of its batch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchSom {
    /// Temperature `T(i)`.
    pub temperature: Schedule,
}

/// The online Kohonen SOM (paper 002, Algorithm 1, Eq. 2): one update per sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnlineSom {
    /// Learning rate `α(i)`, decreasing (paper 002, Eq. 2).
    pub lr: Schedule,
    /// Temperature `T(i)`.
    pub temperature: Schedule,
}

impl BatchSom {
    /// Checks the schedule.
    pub fn validate(&self) -> Result<()> {
        self.temperature.validate("temperature")
    }
}

impl OnlineSom {
    /// Checks both schedules.
    pub fn validate(&self) -> Result<()> {
        self.lr.validate("lr")?;
        self.temperature.validate("temperature")
    }
}

impl UpdateRule<SomLayer> for BatchSom {
    /// One batch-SOM update (paper 002, Algorithm 2, Eq. 3): BMUs of all samples, then
    /// `m_k = sum_i K^T(δ(k, b_i)) x_i / sum_i K^T(δ(k, b_i))`; a prototype whose denominator is
    /// not positive (possible with the bubble or Mexican hat) keeps its old value.
    ///
    /// The weight depends on a sample only through its BMU, so the sums are regrouped by BMU:
    /// with `S_j = sum_{b_i = j} x_i` and `n_j = |{i : b_i = j}|` (one `index_add` each),
    /// `num_k = sum_j K^T(δ(k, j)) S_j` and `den_k = sum_j K^T(δ(k, j)) n_j` are `[K, K]`
    /// products: the `[n, K]` weight matrix and its `[K, n] x [n, L]` GEMM are never formed.
    ///
    /// With [`Components::Observed`] (`NaN` components missing), the BMUs come from the observed
    /// components and every component `l` of `m_k` averages over the samples observing it:
    /// `n_j` becomes the per-component count `n_jl`, and a component no weighted sample observes
    /// keeps its old value (the SOM Toolbox's batch rule with missing values).
    fn update(&self, layer: &SomLayer, x: &Tensor, _y: Option<&Tensor>, step: usize, steps: usize) -> Result<()> {
        self.apply(layer, &mut std::iter::once(Ok(x.shallow_clone())), step, steps, None)
    }

    /// The batch rule on this rank's part `x` of the batch: the sums `S_j` and counts `n_j`
    /// are summed over `group` before the `[K, K]` products, so every rank makes the whole
    /// batch's update.
    fn update_across(
        &self,
        layer: &SomLayer,
        x: &Tensor,
        _y: Option<&Tensor>,
        step: usize,
        steps: usize,
        group: &dyn Collective,
    ) -> Result<()> {
        self.apply(layer, &mut std::iter::once(Ok(x.shallow_clone())), step, steps, Some(group))
    }

    /// The batch rule over rows `range` of `source`, read `chunk_rows` at a time: `S_j` and
    /// `n_j` are sums, accumulated chunk after chunk (and over `group`).
    fn update_rows(
        &self,
        layer: &SomLayer,
        source: &dyn RowSource,
        range: Range<usize>,
        chunk_rows: usize,
        step: usize,
        steps: usize,
        group: Option<&dyn Collective>,
    ) -> Result<()> {
        self.apply(layer, &mut chunks(source, range, chunk_rows), step, steps, group)
    }
}

impl BatchSom {
    /// [`UpdateRule::update`] on the samples of `parts` (one tensor, or the chunks of a larger
    /// batch), its sums completed over `group` when there is one.
    fn apply(
        &self,
        layer: &SomLayer,
        parts: &mut dyn Iterator<Item = Result<Tensor>>,
        step: usize,
        steps: usize,
        group: Option<&dyn Collective>,
    ) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let t = self.temperature.at(step, steps);
        let [units, columns] = [layer.weight.size()[0], layer.weight.size()[1]];
        let (kind, device) = (layer.weight.kind(), layer.weight.device());
        // Each component averaged over the samples that observe it: counts per component.
        let count_columns = if layer.components() == Components::All { 1 } else { columns };
        let sums = Tensor::zeros([units, columns], (kind, device)); // [K, L]
        let counts = Tensor::zeros([units, count_columns], (kind, device)); // [K, 1] or [K, L]
        for x in parts {
            let x = x?;
            let bmus = layer.bmus(&x)?; // [n]
            let (part_sums, part_counts) = match layer.components() {
                Components::All => {
                    let ones = Tensor::ones([1, 1], (x.kind(), x.device())).expand([bmus.size()[0], 1], false);
                    (Tensor::zeros_like(&sums).f_index_add(0, &bmus, &x)?, Tensor::zeros_like(&counts).f_index_add(0, &bmus, &ones)?)
                }
                Components::Observed => observed_sums(&x, &bmus, units)?, // [K, L], [K, L]
            };
            _ = sums.shallow_clone().f_add_(&part_sums)?; // in place; the alias is not needed
            _ = counts.shallow_clone().f_add_(&part_counts)?;
        }
        sum_across(group, &sums)?;
        sum_across(group, &counts)?;
        let h = layer.neighbourhood_weights(&Tensor::arange(units, (Kind::Int64, device)), t)?; // [K, K], row j = BMU j
        let num = h.transpose(0, 1).f_matmul(&sums)?; // [K, L]
        let den = h.transpose(0, 1).f_matmul(&counts)?; // [K, 1] or [K, L]
        let moved = num / den.clamp_min(MIN_DENOMINATOR); // [K, L]
        let updated = moved.f_where_self(&den.gt(MIN_DENOMINATOR), &layer.weight)?; // [K, L]
        layer.weight.shallow_clone().f_copy_(&updated)?;
        Ok(())
    }
}

impl UpdateRule<SomLayer> for OnlineSom {
    /// One Kohonen update (paper 002, Algorithm 1, Eq. 2) per sample of `x`, in order:
    /// `m_k += α(i) K^T(δ(b, k)) (x - m_k)` for every unit `k`; with [`Components::Observed`] the
    /// BMU comes from the observed components and only those components move.
    fn update(&self, layer: &SomLayer, x: &Tensor, _y: Option<&Tensor>, step: usize, steps: usize) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let (t, alpha) = (self.temperature.at(step, steps), self.lr.at(step, steps));
        let mut weight = layer.weight.shallow_clone();
        for i in 0..x.size()[0] {
            let xi = x.f_narrow(0, i, 1)?; // [1, L]
            let h = layer.neighbourhood_weights(&layer.bmus(&xi)?, t)?; // [1, K]
            let delta = match layer.components() {
                Components::All => h.transpose(0, 1) * (&xi - &weight) * alpha, // [K, L]
                // A missing component of the sample moves no prototype component.
                Components::Observed => h.transpose(0, 1) * zero_missing(&(&xi - &weight)) * alpha,
            };
            _ = weight.f_add_(&delta)?; // in place; the returned alias is not needed
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::som::{SomConfig, SomInit};
    use protolearn_metrics::{Boundary, Grid, Lattice};
    use tch::{nn, Device};

    /// A 1x2 map whose prototypes start at `(0, 0)` and `(10, 10)`, comparing observed components.
    fn masked_map(vs: &nn::VarStore) -> SomLayer {
        let grid = Grid::new(1, 2, Lattice::Rectangular, Boundary::Bounded).unwrap();
        let config = SomConfig { grid, init: SomInit::default(), neighbourhood: Default::default(), map_distance: Default::default() };
        let start = Tensor::from_slice(&[0.0f32, 0.0, 10.0, 10.0]).view([2, 2]);
        config.build_from(&vs.root(), &start).unwrap().with_components(Components::Observed)
    }

    /// A temperature so low that a unit's neighbour gets no weight.
    fn cold() -> Schedule {
        Schedule { decay: Default::default(), start: 0.01, end: 0.01 }
    }

    #[test]
    fn masked_batch_update_averages_each_component_over_the_samples_that_have_it() {
        let vs = nn::VarStore::new(Device::Cpu);
        let map = masked_map(&vs);
        // Unit 0 wins (1, NaN) and (NaN, 3); unit 1 wins (9, NaN) only, so its second component stays.
        let x = Tensor::from_slice(&[1.0f32, f32::NAN, f32::NAN, 3.0, 9.0, f32::NAN]).view([3, 2]);
        BatchSom { temperature: cold() }.update(&map, &x, None, 0, 1).unwrap();
        assert_eq!(Vec::<f32>::try_from(map.weight.reshape([-1])).unwrap(), vec![1.0, 3.0, 9.0, 10.0]);
    }

    #[test]
    fn masked_online_update_moves_only_observed_components() {
        let vs = nn::VarStore::new(Device::Cpu);
        let map = masked_map(&vs);
        let x = Tensor::from_slice(&[2.0f32, f32::NAN]).view([1, 2]);
        let rule = OnlineSom { lr: Schedule { decay: Default::default(), start: 0.5, end: 0.5 }, temperature: cold() };
        rule.update(&map, &x, None, 0, 1).unwrap();
        assert_eq!(Vec::<f32>::try_from(map.weight.reshape([-1])).unwrap(), vec![1.0, 0.0, 10.0, 10.0]);
    }
}
