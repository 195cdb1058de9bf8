//! Blocks 1 and 2 on synthetic data: DDCL trained full batch on standardised Moons, Circles,
//! Spiral and Blobs, the identity `L_q = L_OLS + V` checked in float64 at every step, and the
//! records that feed the negative-feedback correlations.

use super::fit::{DdclSettings, Task};
use super::{push, Kept, PresetSpec, Results, Run, Spec};
use crate::context::RunContext;
use anyhow::{bail, Result};
use protolearn_data::tensor::Dataset;
use protolearn_data::{BlobsConfig, CirclesConfig, Data, MoonsConfig, SpiralConfig, Standardizer};
use protolearn_train::ddcl::DdclVariant;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Blob centres of the `blobs` set.
const BLOB_CENTRES: usize = 4;

/// Synthetic set `name` of `n` samples drawn from `seed`, standardised.
pub fn dataset(name: &str, n: usize, seed: u64) -> Result<Data> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut data = match name {
        "moons" => MoonsConfig { n_samples: n, ..Default::default() }.generate(&mut rng)?,
        "circles" => CirclesConfig { n_samples: n, ..Default::default() }.generate(&mut rng)?,
        "spiral" => SpiralConfig { n_samples: n, ..Default::default() }.generate(&mut rng)?,
        "blobs" => BlobsConfig { n_samples: n, centers: protolearn_data::BlobCenters::Random(BLOB_CENTRES), ..Default::default() }
            .generate(&mut rng)?,
        other => bail!("unknown synthetic set `{other}` (expected moons, circles, spiral or blobs)"),
    };
    Standardizer::fit_transform(&mut data)?;
    Ok(data)
}

/// Trains DDCL on every set and seed of the preset (block 1), keeping every history.
pub fn run(ctx: &RunContext, spec: &Spec, preset: &PresetSpec, results: &mut Results, kept: &mut Kept) -> Result<()> {
    let id = &spec.identity;
    for name in &id.datasets {
        for &seed in &preset.identity_seeds {
            let host = dataset(name, id.n_samples, seed)?;
            let data = Dataset::from_data(&host, ctx.device)?;
            let task = Task {
                host: &host,
                data: &data,
                net: &id.net,
                k: id.k,
                shared: &spec.shared,
                epochs: preset.identity_epochs,
                log_every: id.log_every,
                label: format!("identity {name} seed {seed}"),
            };
            let outcome = task.ddcl(&DdclSettings::fixed(DdclVariant::Ddcl, spec.shared.tau, spec.shared.remedy), seed)?;
            push(results, &format!("identity/{name}"), &outcome.metrics);
            kept.runs.push(Run { block: "identity", dataset: name.clone(), model: "ddcl".into(), seed, history: outcome.history });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_synthetic_set_is_standardised_and_labelled() {
        for name in ["moons", "circles", "spiral", "blobs"] {
            let data = dataset(name, 60, 1).unwrap();
            assert_eq!(data.shape, vec![60, 2], "{name}");
            assert!(data.n_classes().unwrap() >= 2, "{name}");
            let mean: f32 = data.features.iter().step_by(2).sum::<f32>() / 60.0;
            assert!(mean.abs() < 1e-4, "{name}: {mean}");
        }
        assert!(dataset("swiss-roll", 10, 0).is_err());
    }
}
