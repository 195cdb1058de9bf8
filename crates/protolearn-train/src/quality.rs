//! The thin tensor adapter to protolearn-metrics: best units found on the training device from a
//! distance tensor, copied to the host once, then scored by the one implementation of QE, TE,
//! purity and NMI in protolearn-metrics.

use crate::error::Result;
use crate::trainer::Column;
use protolearn_metrics::{
    normalized_mutual_info, purity, quantization_error_from, topographic_error_from, BestUnits, Contingency, Grid, NmiAverage, Ranked,
};
use tch::{Kind, Tensor};

/// Best and second-best units of every sample from squared distances `[n, K]` (one host copy of
/// `[n, 2]` values and indices). Distances are clamped at 0. Ties follow libtorch's `topk`, which
/// on CPU ranks the lower index first as protolearn-metrics does; on a GPU the order among exactly
/// equal distances is unspecified.
pub fn best_units(distances: &Tensor) -> Result<Vec<BestUnits>> {
    let _guard = tch::no_grad_guard();
    let k = distances.size().last().copied().unwrap_or(0);
    let (values, units) = distances.detach().clamp_min(0.0).topk(2.min(k), -1, false, true); // [n, m], ascending
    let m = values.size()[1] as usize;
    let values = Vec::<f32>::try_from(values.to_kind(Kind::Float).to_device(tch::Device::Cpu).reshape([-1]))?;
    let units = Vec::<i64>::try_from(units.to_device(tch::Device::Cpu).reshape([-1]))?;
    Ok(values
        .chunks(m)
        .zip(units.chunks(m))
        .map(|(v, u)| {
            let ranked = |j: usize| Ranked { unit: u[j] as usize, sq_dist: v[j] };
            BestUnits { first: ranked(0), second: (m > 1).then(|| ranked(1)) }
        })
        .collect())
}

/// What a map's assignment of an evaluation set measures (paper 002, Appendix 1).
#[derive(Debug, Clone, PartialEq)]
pub struct MapQuality {
    /// The best unit of every sample.
    pub units: Vec<usize>,
    /// `QE = (1/N) sum_i ||x_i - m_{b_i}||`.
    pub quantization_error: f64,
    /// `TE`, the fraction of samples whose two best units are not neighbours (`None` for one unit).
    pub topographic_error: Option<f64>,
}

impl MapQuality {
    /// The columns `quantization_error` and (for two units or more) `topographic_error`.
    pub fn columns(&self) -> Vec<Column> {
        let mut columns = vec![Column::scalar("quantization_error", self.quantization_error)];
        columns.extend(self.topographic_error.map(|te| Column::scalar("topographic_error", te)));
        columns
    }
}

/// QE, TE and the best units of distances `[n, K]` on `grid`.
pub fn map_quality(distances: &Tensor, grid: &Grid) -> Result<MapQuality> {
    let best = best_units(distances)?;
    let topographic_error = if grid.n_units() >= 2 { Some(topographic_error_from(&best, grid)?) } else { None };
    Ok(MapQuality {
        quantization_error: quantization_error_from(&best)?,
        topographic_error,
        units: best.iter().map(|b| b.first.unit).collect(),
    })
}

/// Purity and NMI (arithmetic normalisation) of cluster `units` against `labels`.
pub fn purity_nmi(labels: &[i64], units: &[usize]) -> Result<(f64, f64)> {
    let table = Contingency::new(labels, units)?;
    Ok((purity(&table), normalized_mutual_info(&table, NmiAverage::Arithmetic)))
}

/// Clustering accuracy (Hungarian matching), NMI (arithmetic) and ARI of cluster `assignments`
/// against `labels`: the three scores of deep-clustering papers (paper 001), as columns `acc`,
/// `nmi`, `ari` with `prefix` prepended (e.g. `running_`).
pub fn clustering_scores(labels: &[i64], assignments: &[usize], prefix: &str) -> Result<Vec<Column>> {
    let table = Contingency::new(labels, assignments)?;
    let named = |name: &str, value: f64| Column::scalar(&format!("{prefix}{name}"), value);
    Ok(vec![
        named("acc", protolearn_metrics::clustering_accuracy(&table)?),
        named("nmi", normalized_mutual_info(&table, NmiAverage::Arithmetic)),
        named("ari", protolearn_metrics::adjusted_rand_index(&table)),
    ])
}
