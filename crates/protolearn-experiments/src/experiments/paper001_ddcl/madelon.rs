//! Block 4 of paper 001: high dimension. MADELON-style sets (scikit-learn's
//! `make_classification` algorithm) of `n = 100` samples in `k = 2` classes with `d` from 10 to
//! 5,000 features of which a fixed few are informative; DDCL (full batch, with the remedy) against
//! k-means of the inputs and DeepCluster, scored on the set.

use super::fit::{DdclSettings, Task};
use super::{push, PresetSpec, Results, Spec};
use crate::context::RunContext;
use anyhow::Result;
use protolearn_data::tensor::Dataset;
use protolearn_data::Data;
use protolearn_train::ddcl::DdclVariant;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Classes (and prototypes) of the sweep (paper: `k = 2`).
pub const K: usize = 2;

/// The MADELON-style set of dimension `d` drawn from `seed`: `n_informative` informative and
/// `n_redundant` redundant features (fewer when `d` is smaller), the rest noise.
pub fn dataset(spec: &super::MadelonSpec, d: usize, seed: u64) -> Result<Data> {
    let config = protolearn_data::synthetic::MadelonConfig {
        n_samples: spec.n_samples,
        n_features: d,
        n_informative: spec.n_informative.min(d),
        n_redundant: spec.n_redundant.min(d - spec.n_informative.min(d)),
        n_repeated: 0,
        n_classes: K,
        n_clusters_per_class: spec.n_clusters_per_class,
        flip_y: spec.flip_y,
        class_sep: spec.class_sep,
        ..Default::default()
    };
    Ok(config.generate(&mut ChaCha8Rng::seed_from_u64(seed))?)
}

/// The row id of `model` at dimension `d`.
pub fn row(model: &str, d: usize) -> String {
    format!("madelon/{model}/d={d}")
}

/// Every dimension and seed of the preset: DDCL, k-means and DeepCluster.
pub fn run(ctx: &RunContext, spec: &Spec, preset: &PresetSpec, results: &mut Results) -> Result<()> {
    let m = &spec.madelon;
    for &d in &m.dims {
        for &seed in &preset.seeds {
            let host = dataset(m, d, seed)?;
            let data = Dataset::from_data(&host, ctx.device)?;
            let task = |model: &str| Task {
                host: &host,
                data: &data,
                net: &m.net,
                k: K,
                shared: &spec.shared,
                epochs: preset.madelon_epochs,
                log_every: preset.madelon_epochs,
                label: format!("madelon d={d} {model} seed {seed}"),
            };
            let settings = DdclSettings::fixed(DdclVariant::Ddcl, spec.shared.tau, spec.shared.remedy);
            push(results, &row("ddcl", d), &task("ddcl").ddcl(&settings, seed)?.metrics);
            push(results, &row("kmeans", d), &task("kmeans").kmeans(seed)?.metrics);
            push(results, &row("deepcluster", d), &task("deepcluster").deepcluster(seed)?.metrics);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiments::paper001_ddcl::fit::Net;

    fn spec() -> crate::experiments::paper001_ddcl::MadelonSpec {
        crate::experiments::paper001_ddcl::MadelonSpec {
            n_samples: 100,
            dims: vec![],
            n_informative: 5,
            n_redundant: 0,
            flip_y: 0.0,
            n_clusters_per_class: 1,
            class_sep: 2.0,
            net: Net { hidden: vec![], latent_dim: 2 },
        }
    }

    #[test]
    fn madelon_style_sets_have_the_shape_and_are_separable_at_small_d() {
        let data = dataset(&spec(), 10, 3).unwrap();
        assert_eq!(data.shape, vec![100, 10]);
        assert_eq!(data.class_counts().unwrap(), vec![50, 50]);
        assert_eq!(dataset(&spec(), 3, 3).unwrap().shape, vec![100, 3], "fewer informative features than d allows");
        let redundant = crate::experiments::paper001_ddcl::MadelonSpec { n_redundant: 4, ..spec() };
        assert_eq!(dataset(&redundant, 7, 3).unwrap().shape, vec![100, 7], "fewer redundant features than d allows");
        // At d = 10 the two class means are far apart against the within-class spread: the
        // nearest class mean (a linear rule) classifies almost every sample.
        let labels = data.labels.clone().unwrap();
        let mean = |c: i64| -> Vec<f64> {
            let rows: Vec<&[f32]> = data.rows().zip(&labels).filter(|(_, &l)| l == c).map(|(r, _)| r).collect();
            (0..10).map(|j| rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / rows.len() as f64).collect()
        };
        let (m0, m1) = (mean(0), mean(1));
        let dist = |r: &[f32], m: &[f64]| r.iter().zip(m).map(|(a, b)| (f64::from(*a) - b).powi(2)).sum::<f64>();
        let correct = data.rows().zip(&labels).filter(|(r, &l)| (dist(r, &m1) < dist(r, &m0)) == (l == 1)).count();
        assert!(correct >= 95, "{correct} of 100 nearest-mean correct");
    }
}
