//! What a model says about a data set as numbers: QE, TE, purity, NMI and accuracy
//! ([`Scores`]), and per-unit hits, majority labels and purities ([`UnitSummary`]).

use crate::error::Result;
use crate::families::TrainedModel;
use protolearn_metrics::quantization_error_from;
use protolearn_train::quality::{best_units, map_quality, purity_nmi};
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};

/// How well a model quantizes (and, with labels, clusters) a data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Samples scored.
    pub n_samples: usize,
    /// `QE = (1/N) sum_i ||x_i - m_{b_i}||` in the model's space (paper 002, Appendix 1).
    pub quantization_error: f64,
    /// `TE`: fraction of samples whose two best units are not grid neighbours (SOM families).
    pub topographic_error: Option<f64>,
    /// Purity of the winners against the labels (labelled data).
    pub purity: Option<f64>,
    /// NMI (arithmetic normalisation) of the winners against the labels (labelled data).
    pub nmi: Option<f64>,
    /// Classification accuracy of a classifier head (labelled data).
    #[serde(default)]
    pub accuracy: Option<f64>,
}

/// Per-unit counts of a data set: hits, majority label and its share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitSummary {
    /// Samples won by each unit.
    pub hits: Vec<usize>,
    /// Each unit's most frequent label (ties: the smallest), `None` for an empty unit or unlabelled data.
    pub majority: Vec<Option<i64>>,
    /// Share of the unit's samples with the majority label (0 for an empty unit).
    pub purity: Vec<f64>,
}

impl UnitSummary {
    /// Counts `winners` (and `labels`, if any) over `n_units` units.
    pub fn count(winners: &[usize], labels: Option<&[i64]>, n_units: usize) -> Self {
        let mut hits = vec![0; n_units];
        let mut by_label: Vec<std::collections::BTreeMap<i64, usize>> = vec![Default::default(); n_units];
        for (i, &w) in winners.iter().enumerate() {
            if let Some(h) = hits.get_mut(w) {
                *h += 1;
                if let Some(&l) = labels.and_then(|l| l.get(i)) {
                    *by_label[w].entry(l).or_default() += 1;
                }
            }
        }
        let (majority, purity) = by_label
            .iter()
            .zip(&hits)
            .map(|(counts, &h)| {
                // The first of the largest counts in label order: the smallest label wins ties.
                let best = counts.iter().fold(None, |best: Option<(i64, usize)>, (&l, &c)| match best {
                    Some((_, bc)) if bc >= c => best,
                    _ => Some((l, c)),
                });
                match best {
                    Some((l, c)) if h > 0 => (Some(l), c as f64 / h as f64),
                    _ => (None, 0.0),
                }
            })
            .unzip();
        UnitSummary { hits, majority, purity }
    }
}

/// Scores and winners of scaled samples `x` (on the model's device).
pub(crate) fn score_model(model: &dyn TrainedModel, x: &Tensor, labels: Option<&[i64]>) -> Result<(Scores, Vec<usize>)> {
    let distances = model.distances(x)?;
    let (units, quantization_error, topographic_error) = match model.grid() {
        Some(grid) => {
            let q = map_quality(&distances, grid)?;
            (q.units, q.quantization_error, q.topographic_error)
        }
        None => {
            let best = best_units(&distances)?;
            (best.iter().map(|b| b.first.unit).collect(), quantization_error_from(&best)?, None)
        }
    };
    let (purity, nmi) = match labels {
        Some(labels) => {
            let (p, n) = purity_nmi(labels, &units)?;
            (Some(p), Some(n))
        }
        None => (None, None),
    };
    let accuracy = match (labels, model.prototype_labels()) {
        (Some(labels), Some(classes)) => {
            let classes = Vec::<i64>::try_from(classes.to_device(Device::Cpu))?;
            let right = units.iter().zip(labels).filter(|(&u, &l)| classes.get(u) == Some(&l)).count();
            Some(right as f64 / units.len().max(1) as f64)
        }
        _ => None,
    };
    Ok((Scores { n_samples: units.len(), quantization_error, topographic_error, purity, nmi, accuracy }, units))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_summary_counts_majorities_and_ties() {
        let s = UnitSummary::count(&[0, 0, 0, 2, 2], Some(&[1, 1, 0, 3, 2]), 3);
        assert_eq!(s.hits, vec![3, 0, 2]);
        assert_eq!(s.majority, vec![Some(1), None, Some(2)], "tie 2 vs 3: the smaller label");
        assert_eq!(s.purity, vec![2.0 / 3.0, 0.0, 0.5]);
        let s = UnitSummary::count(&[1, 1], None, 2);
        assert_eq!((s.hits, s.majority), (vec![0, 2], vec![None, None]));
    }
}
