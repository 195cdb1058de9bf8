//! `Data`: a plain, libtorch-free dataset (row-major `f32` features with a shape, optional labels).

use crate::error::{Error, Result};

/// A dataset in host memory: `n` samples of row-major `f32` features and optional class labels.
///
/// `shape[0]` is the number of samples; the remaining dimensions describe one sample
/// (`[n, d]` for vectors, `[n, 1, 28, 28]` for MNIST images). Labels are class indices
/// `0..C`. Build it with [`Data::new`], which checks these invariants; the fields are public
/// for reading, and code that mutates them must keep the invariants. Missing values are `NaN`:
/// [`Data::with_missing`] accepts them (a CSV read with missing cells kept), and
/// [`Sequences::to_data`](crate::Sequences::to_data) marks the padding of unequal-length series
/// with them (shape `[n, max_len, dims]`); [`Data::new`] rejects them.
#[derive(Debug, Clone, PartialEq)]
pub struct Data {
    /// Human-readable name (`"moons"`, `"mnist-train"`, a CSV file stem).
    pub name: String,
    /// Row-major features, `shape.iter().product()` values.
    pub features: Vec<f32>,
    /// `[n, ...]`: sample count, then the shape of one sample.
    pub shape: Vec<usize>,
    /// One class index `>= 0` per sample, if the data is labelled.
    pub labels: Option<Vec<i64>>,
}

impl Data {
    /// Checks and wraps the buffers: `shape` non-empty, `features.len() == prod(shape)`,
    /// every feature finite, `labels.len() == shape[0]` and every label `>= 0`.
    pub fn new(name: impl Into<String>, features: Vec<f32>, shape: Vec<usize>, labels: Option<Vec<i64>>) -> Result<Self> {
        Self::checked(name.into(), features, shape, labels, false)
    }

    /// [`Data::new`] for features with missing values: `NaN` is allowed (a missing cell), any
    /// other non-finite value is still an error.
    pub fn with_missing(name: impl Into<String>, features: Vec<f32>, shape: Vec<usize>, labels: Option<Vec<i64>>) -> Result<Self> {
        Self::checked(name.into(), features, shape, labels, true)
    }

    /// How many feature values are missing (`NaN`).
    pub fn missing_values(&self) -> usize {
        self.features.iter().filter(|v| v.is_nan()).count()
    }

    /// The checks of [`Data::new`], allowing `NaN` when `missing`.
    fn checked(name: String, features: Vec<f32>, shape: Vec<usize>, labels: Option<Vec<i64>>, missing: bool) -> Result<Self> {
        let Some(&n) = shape.first() else {
            return Err(Error::Shape { expected: "[n, ...] with at least one dimension".into(), got: "[]".into() });
        };
        let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if expected != Some(features.len()) {
            return Err(Error::Shape {
                expected: format!("{} values for shape {shape:?}", display_count(expected)),
                got: format!("{} values", features.len()),
            });
        }
        if let Some(i) = features.iter().position(|v| !(v.is_finite() || missing && v.is_nan())) {
            let expected = if missing { "finite values or NaN (missing)" } else { "finite values" };
            return Err(Error::invalid("features", expected, format!("{} at index {i}", features[i])));
        }
        if let Some(labels) = &labels {
            if labels.len() != n {
                return Err(Error::Shape { expected: format!("{n} labels (one per sample)"), got: format!("{} labels", labels.len()) });
            }
            if let Some(i) = labels.iter().position(|&l| l < 0) {
                return Err(Error::invalid("labels", "class indices >= 0", format!("{} at index {i}", labels[i])));
            }
        }
        Ok(Data { name, features, shape, labels })
    }

    /// Number of samples, `shape[0]`.
    pub fn n_samples(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Number of features per sample: the product of the non-leading dimensions.
    pub fn n_features(&self) -> usize {
        self.shape.iter().skip(1).product()
    }

    /// The features of sample `i`, flattened, or `None` when out of range.
    pub fn row(&self, i: usize) -> Option<&[f32]> {
        let d = self.n_features();
        self.features.get(i.checked_mul(d)?..(i + 1).checked_mul(d)?)
    }

    /// Iterates over the samples as flat feature rows.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f32]> + '_ {
        let d = self.n_features();
        let n = if d == 0 { 0 } else { self.n_samples() };
        self.features.chunks_exact(d.max(1)).take(n)
    }

    /// The same data with shape `[n, n_features]` (no copy).
    pub fn flattened(self) -> Data {
        let shape = vec![self.n_samples(), self.n_features()];
        Data { shape, ..self }
    }

    /// The same data with per-sample shape `sample_shape`, i.e. shape `[n, sample_shape...]`
    /// (no copy); fails unless `prod(sample_shape) == n_features`.
    pub fn reshaped(self, sample_shape: &[usize]) -> Result<Data> {
        let d: usize = sample_shape.iter().product();
        if d != self.n_features() {
            return Err(Error::Shape {
                expected: format!("a sample shape with {} values", self.n_features()),
                got: format!("{sample_shape:?} ({d} values)"),
            });
        }
        let shape = std::iter::once(self.n_samples()).chain(sample_shape.iter().copied()).collect();
        Ok(Data { shape, ..self })
    }

    /// A new dataset holding the samples `indices` in that order (repeats allowed).
    pub fn subset(&self, indices: &[usize]) -> Result<Data> {
        let n = self.n_samples();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(Error::invalid("indices", format!("indices < {n}"), bad));
        }
        let d = self.n_features();
        let mut features = Vec::with_capacity(indices.len() * d);
        for &i in indices {
            features.extend_from_slice(&self.features[i * d..(i + 1) * d]);
        }
        let labels = self.labels.as_ref().map(|l| indices.iter().map(|&i| l[i]).collect());
        let mut shape = self.shape.clone();
        shape[0] = indices.len();
        Ok(Data { name: self.name.clone(), features, shape, labels })
    }

    /// Number of classes `C = max(label) + 1`, or `None` for unlabelled data.
    pub fn n_classes(&self) -> Option<usize> {
        let labels = self.labels.as_ref()?;
        let classes = labels.iter().filter_map(|&l| usize::try_from(l).ok());
        Some(classes.map(|l| l + 1).max().unwrap_or(0))
    }

    /// Number of samples of each class `0..C`, or `None` for unlabelled data.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let mut counts = vec![0; self.n_classes()?];
        for l in self.labels.iter().flatten().filter_map(|&l| usize::try_from(l).ok()) {
            counts[l] += 1;
        }
        Some(counts)
    }
}

/// A pair of datasets: the training part and the held-out test part.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainTest {
    /// Data to fit on.
    pub train: Data,
    /// Held-out data to evaluate on.
    pub test: Data,
}

fn display_count(count: Option<usize>) -> String {
    count.map_or_else(|| "more than usize::MAX".to_owned(), |c| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Result<Data> {
        Data::new("t", (0..12).map(|v| v as f32).collect(), vec![3, 2, 2], Some(vec![0, 2, 2]))
    }

    #[test]
    fn sizes_and_views() -> Result<()> {
        let d = small()?;
        assert_eq!((d.n_samples(), d.n_features()), (3, 4));
        assert_eq!(d.row(1), Some(&[4.0, 5.0, 6.0, 7.0][..]));
        assert_eq!(d.row(3), None);
        assert_eq!(d.rows().count(), 3);
        assert_eq!(d.n_classes(), Some(3));
        assert_eq!(d.class_counts(), Some(vec![1, 0, 2]));
        let flat = d.clone().flattened();
        assert_eq!(flat.shape, vec![3, 4]);
        assert_eq!(flat.clone().reshaped(&[4, 1])?.shape, vec![3, 4, 1]);
        assert!(flat.reshaped(&[3]).is_err());
        Ok(())
    }

    #[test]
    fn subset_keeps_rows_and_labels() -> Result<()> {
        let s = small()?.subset(&[2, 0, 2])?;
        assert_eq!(s.shape, vec![3, 2, 2]);
        assert_eq!(&s.features[..4], &[8.0, 9.0, 10.0, 11.0]);
        assert_eq!(s.labels, Some(vec![2, 0, 2]));
        assert!(small()?.subset(&[3]).is_err());
        Ok(())
    }

    #[test]
    fn new_rejects_bad_buffers() {
        assert!(Data::new("t", vec![0.0; 5], vec![2, 2], None).is_err());
        assert!(Data::new("t", vec![0.0; 4], vec![], None).is_err());
        assert!(Data::new("t", vec![0.0, f32::NAN], vec![1, 2], None).is_err());
        assert!(Data::new("t", vec![0.0; 4], vec![2, 2], Some(vec![0])).is_err());
        assert!(Data::new("t", vec![0.0; 4], vec![2, 2], Some(vec![0, -1])).is_err());
        assert!(Data::new("t", vec![], vec![usize::MAX, 2], None).is_err());
    }
}
