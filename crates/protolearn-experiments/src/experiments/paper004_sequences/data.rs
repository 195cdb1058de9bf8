//! The sequence sets of the experiment: the Synthetic Control generator and UCR/UEA `.ts` files,
//! standardised per dimension with the train split's statistics over valid (non-NaN) steps.

use crate::context::RunContext;
use anyhow::{bail, Context, Result};
use protolearn_data::{load_ucr, ControlChartConfig, Data, CONTROL_CHART_CLASSES};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

/// Seeds of the generated Synthetic Control train and test splits (fixed: the data is the same
/// for every training seed, as a file would be).
const CONTROL_CHART_SEEDS: (u64, u64) = (1999, 2000);

/// A sequence set of the experiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SequenceSet {
    /// Synthetic Control Chart series (Alcock & Manolopoulos 1999), generated offline.
    SyntheticControl,
    /// UCR GunPoint (univariate, 150 steps, 2 classes).
    GunPoint,
    /// UCR ItalyPowerDemand (univariate, 24 steps, 2 classes).
    ItalyPowerDemand,
    /// UCR OSULeaf (univariate, 427 steps, 6 classes).
    OsuLeaf,
    /// UEA BasicMotions (6 dimensions, 100 steps, 4 classes).
    BasicMotions,
    /// UEA JapaneseVowels (12 dimensions, 7 to 29 steps, 9 classes).
    JapaneseVowels,
}

/// The generator's settings (spec `synthetic_control`).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlChartSpec {
    /// Series per class in the train split.
    pub train_per_class: usize,
    /// Series per class in the test split.
    pub test_per_class: usize,
    /// Steps per series (UCI: 60).
    pub length: usize,
}

/// A loaded set: `[n, T, D]` splits (NaN after a series' end), standardised.
#[derive(Debug)]
pub struct SequenceSplit {
    /// Train split.
    pub train: Data,
    /// Test split.
    pub test: Data,
    /// Class names in label order.
    pub classes: Vec<String>,
}

impl SequenceSplit {
    /// Steps `T` and dimensions `D` of one sample.
    pub fn steps_dims(&self) -> (i64, i64) {
        (self.train.shape[1] as i64, self.train.shape[2] as i64)
    }
}

impl SequenceSet {
    /// The id used in results and file names.
    pub fn id(self) -> &'static str {
        match self {
            SequenceSet::SyntheticControl => "synthetic-control",
            SequenceSet::GunPoint => "GunPoint",
            SequenceSet::ItalyPowerDemand => "ItalyPowerDemand",
            SequenceSet::OsuLeaf => "OSULeaf",
            SequenceSet::BasicMotions => "BasicMotions",
            SequenceSet::JapaneseVowels => "JapaneseVowels",
        }
    }

    /// Loads (or generates) the set and standardises both splits with the train statistics.
    pub fn load(self, ctx: &RunContext, control: &ControlChartSpec) -> Result<SequenceSplit> {
        let (mut train, mut test, classes) = match self {
            SequenceSet::SyntheticControl => {
                let generate = |per_class: usize, seed: u64| {
                    ControlChartConfig { n_per_class: per_class, length: control.length }.generate(&mut ChaCha8Rng::seed_from_u64(seed))
                };
                let classes = CONTROL_CHART_CLASSES.iter().map(|c| c.to_string()).collect();
                (
                    generate(control.train_per_class, CONTROL_CHART_SEEDS.0)?,
                    generate(control.test_per_class, CONTROL_CHART_SEEDS.1)?,
                    classes,
                )
            }
            ucr => {
                let split =
                    load_ucr(&ctx.data_dirs, ucr.id()).with_context(|| format!("loading {} (run `cargo xtask setup`)", ucr.id()))?;
                (split.train.to_data(), split.test.to_data(), split.train.class_names.clone())
            }
        };
        if train.shape.len() != 3 || train.shape[1..] != test.shape[1..] {
            bail!("{}: train {:?} and test {:?} must both be [n, T, D]", self.id(), train.shape, test.shape);
        }
        standardise(&mut train, &mut test);
        Ok(SequenceSplit { train, test, classes })
    }
}

/// `x ← (x − μ_d) / σ_d` per dimension `d`, `μ_d`, `σ_d` over the train split's valid values
/// (`σ_d = 1` when a dimension is constant); NaN padding stays NaN.
fn standardise(train: &mut Data, test: &mut Data) {
    let dims = train.shape[2];
    let mut sums = vec![(0.0f64, 0.0f64, 0usize); dims];
    for (i, v) in train.features.iter().enumerate().filter(|(_, v)| !v.is_nan()) {
        let s = &mut sums[i % dims];
        s.0 += f64::from(*v);
        s.1 += f64::from(*v) * f64::from(*v);
        s.2 += 1;
    }
    let stats: Vec<(f64, f64)> = sums
        .iter()
        .map(|&(sum, squares, count)| {
            let n = count.max(1) as f64;
            let mean = sum / n;
            let std = (squares / n - mean * mean).max(0.0).sqrt();
            (mean, if std > 0.0 { std } else { 1.0 })
        })
        .collect();
    for data in [train, test] {
        for (i, v) in data.features.iter_mut().enumerate() {
            let (mean, std) = stats[i % dims];
            *v = ((f64::from(*v) - mean) / std) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_per_dimension_with_train_statistics() {
        let nan = f32::NAN;
        // 2 series x 2 steps x 2 dims; dimension 1 is constant; one padded step
        let mut train =
            Data { name: "t".into(), features: vec![1.0, 5.0, 3.0, 5.0, 2.0, 5.0, nan, nan], shape: vec![2, 2, 2], labels: None };
        let mut test = Data { name: "s".into(), features: vec![4.0, 6.0, nan, nan], shape: vec![1, 2, 2], labels: None };
        standardise(&mut train, &mut test);
        let std = (2.0f64 / 3.0).sqrt();
        let expect = |v: f64| ((v - 2.0) / std) as f32;
        assert_eq!(train.features[0], expect(1.0));
        assert_eq!(train.features[2], expect(3.0));
        assert_eq!(train.features[1], 0.0, "constant dimension: centred, std taken as 1");
        assert!(train.features[6].is_nan() && test.features[3].is_nan(), "padding stays NaN");
        assert_eq!(test.features[0], expect(4.0));
        assert_eq!(test.features[1], 1.0);
    }
}
