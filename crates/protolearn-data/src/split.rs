//! Seeded train/test split, optionally stratified by class.

use rand::Rng;

use crate::data::{Data, TrainTest};
use crate::error::{Error, Result};
use crate::shuffle::{permutation, shuffle};

/// How to split a dataset into training and test parts (scikit-learn's `train_test_split`).
#[derive(Debug, Clone, PartialEq)]
pub struct SplitConfig {
    /// Fraction of the samples put in the test part, in `(0, 1)`; the test part holds
    /// `ceil(test_fraction * n)` samples like scikit-learn. Default 0.25 (scikit-learn's).
    pub test_fraction: f64,
    /// Keep the class proportions in both parts (needs labels). Each class contributes
    /// `round(test_fraction * n_c)` test samples, so the total may differ from the
    /// unstratified size by a few samples. Default `false`.
    pub stratify: bool,
}

impl Default for SplitConfig {
    fn default() -> Self {
        SplitConfig { test_fraction: 0.25, stratify: false }
    }
}

impl SplitConfig {
    /// Splits `data` into shuffled training and test parts; the same RNG seed gives the same split.
    ///
    /// Errors when `test_fraction` is outside `(0, 1)`, when either part would be empty, or
    /// when `stratify` is set on unlabelled data.
    pub fn split(&self, data: &Data, rng: &mut impl Rng) -> Result<TrainTest> {
        let f = self.test_fraction;
        if !(f > 0.0 && f < 1.0) {
            return Err(Error::invalid("test_fraction", "a value in (0, 1)", f));
        }
        let n = data.n_samples();
        let (mut train, mut test) = if self.stratify {
            stratified_indices(data, f, rng)?
        } else {
            let n_test = (f * n as f64).ceil() as usize;
            let mut perm = permutation(n, rng);
            let train = perm.split_off(n_test.min(n));
            (train, perm)
        };
        if train.is_empty() || test.is_empty() {
            return Err(Error::invalid(
                "test_fraction",
                "a value leaving at least one sample in each part",
                format!("{f} of {n} samples: {} train, {} test", train.len(), test.len()),
            ));
        }
        shuffle(&mut train, rng);
        shuffle(&mut test, rng);
        Ok(TrainTest { train: data.subset(&train)?, test: data.subset(&test)? })
    }
}

/// Per-class shuffled indices, `round(f * n_c)` of each class to the test part.
fn stratified_indices(data: &Data, f: f64, rng: &mut impl Rng) -> Result<(Vec<usize>, Vec<usize>)> {
    let labels = data.labels.as_ref().ok_or_else(|| Error::invalid("stratify", "labelled data", "unlabelled data"))?;
    let mut by_class = vec![Vec::new(); data.n_classes().unwrap_or(0)];
    for (i, &l) in labels.iter().enumerate() {
        if let Some(members) = usize::try_from(l).ok().and_then(|l| by_class.get_mut(l)) {
            members.push(i);
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for mut members in by_class {
        shuffle(&mut members, rng);
        let n_test = (f * members.len() as f64).round() as usize;
        test.extend_from_slice(&members[..n_test]);
        train.extend_from_slice(&members[n_test..]);
    }
    Ok((train, test))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn labelled(n: usize) -> Result<Data> {
        let features = (0..n).map(|i| i as f32).collect();
        let labels = (0..n).map(|i| i64::from(i % 4 == 0)).collect();
        Data::new("t", features, vec![n, 1], Some(labels))
    }

    #[test]
    fn split_is_a_partition_and_reproducible() -> Result<()> {
        let d = labelled(10)?;
        let cfg = SplitConfig::default();
        let a = cfg.split(&d, &mut ChaCha8Rng::seed_from_u64(3))?;
        let b = cfg.split(&d, &mut ChaCha8Rng::seed_from_u64(3))?;
        assert_eq!(a, b);
        assert_eq!((a.train.n_samples(), a.test.n_samples()), (7, 3));
        let mut all: Vec<f32> = a.train.features.iter().chain(&a.test.features).copied().collect();
        all.sort_by(f32::total_cmp);
        assert_eq!(all, d.features);
        Ok(())
    }

    #[test]
    fn stratified_keeps_proportions() -> Result<()> {
        let d = labelled(100)?;
        let cfg = SplitConfig { test_fraction: 0.2, stratify: true };
        let s = cfg.split(&d, &mut ChaCha8Rng::seed_from_u64(1))?;
        assert_eq!(s.test.class_counts(), Some(vec![15, 5]));
        assert_eq!(s.train.class_counts(), Some(vec![60, 20]));
        Ok(())
    }

    #[test]
    fn rejects_bad_fractions() -> Result<()> {
        let d = labelled(3)?;
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for f in [0.0, 1.0, f64::NAN, 0.99] {
            let cfg = SplitConfig { test_fraction: f, stratify: false };
            assert!(cfg.split(&d, &mut rng).is_err(), "{f}");
        }
        let unlabelled = Data::new("t", vec![0.0; 4], vec![4, 1], None)?;
        let cfg = SplitConfig { stratify: true, ..SplitConfig::default() };
        assert!(cfg.split(&unlabelled, &mut rng).is_err());
        Ok(())
    }
}
