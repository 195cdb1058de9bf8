//! The numbers an experiment collects: one value per seed of every (dataset, model, metric), as
//! an experiment's `summary.json` stores them, and their mean ± std for a report's tables.

use crate::report::mean_std;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One value per seed of every metric of every model on every dataset (`summary.json`:
/// `{dataset: {model: {metric: [values]}}}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Results(BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<f64>>>>);

impl Results {
    /// No results yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `value` (one seed's) to `metric` of `model` on `dataset`.
    pub fn push(&mut self, dataset: &str, model: &str, metric: &str, value: f64) {
        self.0
            .entry(dataset.to_owned())
            .or_default()
            .entry(model.to_owned())
            .or_default()
            .entry(metric.to_owned())
            .or_default()
            .push(value);
    }

    /// The values of `metric` of `model` on `dataset`, `None` where it was not measured.
    pub fn get(&self, dataset: &str, model: &str, metric: &str) -> Option<&[f64]> {
        self.0.get(dataset)?.get(model)?.get(metric).map(Vec::as_slice)
    }

    /// The values of `metric` of `model` on `dataset` (empty where it was not measured).
    pub fn values(&self, dataset: &str, model: &str, metric: &str) -> &[f64] {
        self.get(dataset, model, metric).unwrap_or(&[])
    }

    /// Their mean ± std over seeds with `digits` decimals, `None` where not measured.
    pub fn mean_std(&self, dataset: &str, model: &str, metric: &str, digits: usize) -> Option<String> {
        self.get(dataset, model, metric).map(|v| mean_std(v, digits))
    }

    /// Their mean over seeds, `None` where not measured.
    pub fn mean(&self, dataset: &str, model: &str, metric: &str) -> Option<f64> {
        protolearn_metrics::mean(self.get(dataset, model, metric)?).ok()
    }

    /// Whether `model` has any result on `dataset`.
    pub fn has(&self, dataset: &str, model: &str) -> bool {
        self.0.get(dataset).is_some_and(|m| m.contains_key(model))
    }

    /// Every (dataset, model, metric) with its values, in that order.
    pub fn cells(&self) -> impl Iterator<Item = (&str, &str, &str, &[f64])> {
        self.0.iter().flat_map(|(dataset, models)| {
            models.iter().flat_map(move |(model, metrics)| {
                metrics.iter().map(move |(metric, values)| (dataset.as_str(), model.as_str(), metric.as_str(), values.as_slice()))
            })
        })
    }

    /// The datasets with results, in order.
    pub fn datasets(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_per_seed_under_dataset_model_and_metric() {
        let mut results = Results::new();
        results.push("mnist", "desom", "purity", 0.8);
        results.push("mnist", "desom", "purity", 0.9);
        results.push("fashion-mnist", "som", "nmi", 0.5);
        assert_eq!(results.values("mnist", "desom", "purity"), &[0.8, 0.9]);
        assert_eq!(results.get("mnist", "desom", "nmi"), None);
        assert!(results.values("mnist", "som", "nmi").is_empty());
        assert!((results.mean("mnist", "desom", "purity").unwrap() - 0.85).abs() < 1e-12);
        assert!(results.has("fashion-mnist", "som") && !results.has("mnist", "som"));
        assert_eq!(results.datasets().collect::<Vec<_>>(), ["fashion-mnist", "mnist"]);
        let cells: Vec<_> = results.cells().map(|(d, m, k, v)| (d, m, k, v.len())).collect();
        assert_eq!(cells, [("fashion-mnist", "som", "nmi", 1), ("mnist", "desom", "purity", 2)]);
        let json = serde_json::to_string(&results).unwrap();
        assert_eq!(json, r#"{"fashion-mnist":{"som":{"nmi":[0.5]}},"mnist":{"desom":{"purity":[0.8,0.9]}}}"#);
        let read: Results = serde_json::from_str(&json).unwrap();
        assert_eq!(read.values("mnist", "desom", "purity"), &[0.8, 0.9]);
    }
}
