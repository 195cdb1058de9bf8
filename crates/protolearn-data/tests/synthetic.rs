//! Synthetic generators: shapes, labels, reproducibility (pinned fingerprints), distributions (control-chart class shapes), errors.

mod common;

use common::fingerprint;
use protolearn_data::{
    BlobCenters, BlobsConfig, CirclesConfig, ControlChartConfig, Data, Error, FeatureRole, MadelonConfig, MoonsConfig, SpiralConfig,
    CONTROL_CHART_CLASSES,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed)
}

fn points(d: &Data) -> impl Iterator<Item = ([f64; 2], i64)> + '_ {
    d.rows().zip(d.labels.iter().flatten()).map(|(r, &l)| ([f64::from(r[0]), f64::from(r[1])], l))
}

fn dist(p: [f64; 2], c: [f64; 2]) -> f64 {
    ((p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2)).sqrt()
}

/// Same seed, same bits; a different seed, different data; and the pinned fingerprint and
/// first values, which catch drift across machines and dependency updates.
fn check_reproducible(generate: impl Fn(u64) -> Data, pinned: &str, first: [f32; 2]) {
    let a = generate(7);
    assert_eq!(a, generate(7));
    assert_ne!(a.features, generate(8).features);
    assert_eq!(fingerprint(&a), pinned, "first values {:?}", &a.features[..2]);
    assert_eq!(&a.features[..2], &first);
}

#[test]
fn moons_shape_labels_and_reproducibility() {
    let d = MoonsConfig::default().generate(&mut rng(1)).unwrap();
    assert_eq!(d.shape, vec![500, 2]);
    assert_eq!(d.class_counts(), Some(vec![250, 250]));
    let odd = MoonsConfig { n_samples: 7, ..Default::default() }.generate(&mut rng(1)).unwrap();
    assert_eq!(odd.class_counts(), Some(vec![3, 4]));
    check_reproducible(
        |s| MoonsConfig::default().generate(&mut rng(s)).unwrap(),
        "917e4e20406f386a064c2c11d3c7b884",
        [1.186723, -0.43941197],
    );
}

#[test]
fn moons_lie_on_two_unit_half_circles() {
    let exact = MoonsConfig { noise: 0.0, shuffle: false, ..Default::default() };
    let d = exact.generate(&mut rng(0)).unwrap();
    for (p, l) in points(&d) {
        let (c, upper) = if l == 0 { ([0.0, 0.0], 1.0) } else { ([1.0, 0.5], -1.0) };
        assert!((dist(p, c) - 1.0).abs() < 1e-6, "{p:?} class {l}");
        assert!((p[1] - c[1]) * upper >= -1e-6, "{p:?} on the wrong half");
    }
    // With noise, the mean radius around each centre stays close to 1.
    let noisy = MoonsConfig { n_samples: 4000, ..Default::default() }.generate(&mut rng(0)).unwrap();
    for (class, c) in [(0, [0.0, 0.0]), (1, [1.0, 0.5])] {
        let r: Vec<f64> = points(&noisy).filter(|&(_, l)| l == class).map(|(p, _)| dist(p, c)).collect();
        let mean = r.iter().sum::<f64>() / r.len() as f64;
        assert!((mean - 1.0).abs() < 0.02, "class {class}: mean radius {mean}");
    }
}

#[test]
fn circles_radii_are_one_and_factor() {
    let cfg = CirclesConfig { noise: 0.0, factor: 0.3, ..Default::default() };
    let d = cfg.generate(&mut rng(2)).unwrap();
    assert_eq!(d.shape, vec![500, 2]);
    assert_eq!(d.class_counts(), Some(vec![250, 250]));
    for (p, l) in points(&d) {
        let r = if l == 0 { 1.0 } else { 0.3 };
        assert!((dist(p, [0.0, 0.0]) - r).abs() < 1e-6, "{p:?} class {l}");
    }
    check_reproducible(
        |s| CirclesConfig::default().generate(&mut rng(s)).unwrap(),
        "df9004affdb0c3c17d0d24a9a2397138",
        [-0.46259955, -0.12443205],
    );
}

#[test]
fn a_one_arm_spiral_is_one_cluster_and_three_arms_split_the_turn() {
    let one = SpiralConfig { n_samples: 50, noise: 0.0, shuffle: false, arms: 1, ..Default::default() }.generate(&mut rng(1)).unwrap();
    assert_eq!(one.class_counts(), Some(vec![50]));
    let p: Vec<[f64; 2]> = points(&one).map(|(p, _)| p).collect();
    for (i, q) in p.iter().enumerate() {
        let r = dist(*q, [0.0, 0.0]);
        assert!((r - i as f64 / 49.0).abs() < 1e-6, "point {i}: r = {r}");
    }
    let three = SpiralConfig { n_samples: 31, noise: 0.0, shuffle: false, arms: 3, ..Default::default() }.generate(&mut rng(1)).unwrap();
    assert_eq!(three.class_counts(), Some(vec![11, 10, 10]));
    assert!(SpiralConfig { arms: 0, ..Default::default() }.generate(&mut rng(1)).is_err());
}

#[test]
fn spiral_arms_are_archimedean_and_opposite() {
    let cfg = SpiralConfig { n_samples: 200, noise: 0.0, shuffle: false, ..Default::default() };
    let d = cfg.generate(&mut rng(3)).unwrap();
    assert_eq!(d.shape, vec![200, 2]);
    assert_eq!(d.class_counts(), Some(vec![100, 100]));
    let p: Vec<[f64; 2]> = points(&d).map(|(p, _)| p).collect();
    for i in 0..100 {
        // Arm 1 is arm 0 rotated by π, and r grows linearly along the arm.
        assert!(dist(p[i], [-p[100 + i][0], -p[100 + i][1]]) < 1e-6, "point {i}");
        let r = dist(p[i], [0.0, 0.0]);
        assert!((r - i as f64 / 99.0).abs() < 1e-6, "point {i}: r = {r}");
    }
    check_reproducible(
        |s| SpiralConfig::default().generate(&mut rng(s)).unwrap(),
        "f256c111836246ffad79af8a5b437274",
        [-0.24181363, 0.50421214],
    );
}

#[test]
fn blobs_sizes_and_means() {
    let centers = vec![vec![0.0, 0.0, 0.0], vec![5.0, 5.0, 5.0], vec![-5.0, 5.0, 0.0]];
    let cfg = BlobsConfig {
        n_samples: 3001,
        n_features: 3,
        centers: BlobCenters::Given(centers.clone()),
        cluster_std: 0.5,
        ..Default::default()
    };
    let d = cfg.generate(&mut rng(4)).unwrap();
    assert_eq!(d.shape, vec![3001, 3]);
    assert_eq!(d.class_counts(), Some(vec![1001, 1000, 1000]));
    for (k, c) in centers.iter().enumerate() {
        let rows: Vec<&[f32]> = d.rows().zip(d.labels.iter().flatten()).filter(|&(_, &l)| l == k as i64).map(|(r, _)| r).collect();
        for j in 0..3 {
            let mean = rows.iter().map(|r| f64::from(r[j])).sum::<f64>() / rows.len() as f64;
            assert!((mean - c[j]).abs() < 0.05, "cluster {k} coord {j}: {mean}");
        }
    }
    let random = BlobsConfig::default().generate(&mut rng(4)).unwrap();
    assert!(random.features.iter().all(|v| v.abs() < 15.0));
    check_reproducible(
        |s| BlobsConfig::default().generate(&mut rng(s)).unwrap(),
        "0c61ce74855493776e9e7058e665e349",
        [3.4356966, 4.4550815],
    );
}

#[test]
fn madelon_roles_shapes_and_reproducibility() {
    let cfg = MadelonConfig { n_repeated: 3, ..Default::default() };
    let m = cfg.generate_with_roles(&mut rng(5)).unwrap();
    assert_eq!(m.data.shape, vec![100, 20]);
    let count = |role| m.roles.iter().filter(|&&r| r == role).count();
    assert_eq!([FeatureRole::Informative, FeatureRole::Redundant, FeatureRole::Repeated, FeatureRole::Useless].map(count), [2, 2, 3, 13]);
    // Each repeated column is an exact copy of an informative or redundant one.
    let col = |j: usize| m.data.rows().map(|r| r[j]).collect::<Vec<f32>>();
    for j in (0..20).filter(|&j| m.roles[j] == FeatureRole::Repeated) {
        let copied = (0..20).filter(|&i| matches!(m.roles[i], FeatureRole::Informative | FeatureRole::Redundant)).any(|i| col(i) == col(j));
        assert!(copied, "repeated column {j} copies nothing");
    }
    check_reproducible(
        |s| MadelonConfig::default().generate(&mut rng(s)).unwrap(),
        "20bc1b84376d1c4dfeaae2f2f79361aa",
        [0.7854209, -0.3279606],
    );
    let nips = MadelonConfig::nips2003().generate(&mut rng(5)).unwrap();
    assert_eq!(nips.shape, vec![2600, 500]);
    // 1% of the labels are redrawn at random, so the balanced counts move a little.
    let counts = nips.class_counts().unwrap();
    assert!(counts.iter().all(|&c| c.abs_diff(1300) < 30), "{counts:?}");
}

#[test]
fn madelon_informative_features_separate_the_classes() {
    let cfg = MadelonConfig {
        n_samples: 2000,
        n_features: 30,
        n_informative: 5,
        n_redundant: 5,
        n_clusters_per_class: 1,
        class_sep: 2.0,
        flip_y: 0.0,
        ..Default::default()
    };
    let m = cfg.generate_with_roles(&mut rng(6)).unwrap();
    let inf: Vec<usize> = (0..30).filter(|&j| m.roles[j] == FeatureRole::Informative).collect();
    let labels = m.data.labels.clone().unwrap();
    let mut centroids = [vec![0.0f64; inf.len()], vec![0.0f64; inf.len()]];
    let mut counts = [0usize; 2];
    for (row, &l) in m.data.rows().zip(&labels) {
        counts[l as usize] += 1;
        for (c, &j) in centroids[l as usize].iter_mut().zip(&inf) {
            *c += f64::from(row[j]);
        }
    }
    assert_eq!(counts, [1000, 1000]);
    for (c, n) in centroids.iter_mut().zip(counts) {
        c.iter_mut().for_each(|v| *v /= n as f64);
    }
    let d2 = |row: &[f32], c: &[f64]| -> f64 { inf.iter().zip(c).map(|(&j, &m)| (f64::from(row[j]) - m).powi(2)).sum() };
    let correct = m.data.rows().zip(&labels).filter(|&(row, &l)| i64::from(d2(row, &centroids[1]) < d2(row, &centroids[0])) == l).count();
    let accuracy = correct as f64 / 2000.0;
    assert!(accuracy > 0.9, "nearest-centroid accuracy {accuracy}");
}

#[test]
fn madelon_weights_set_class_proportions() {
    let cfg = MadelonConfig { n_samples: 1000, weights: Some(vec![0.75]), flip_y: 0.0, ..Default::default() };
    let d = cfg.generate(&mut rng(9)).unwrap();
    assert_eq!(d.class_counts(), Some(vec![750, 250]));
}

#[test]
fn invalid_parameters_are_typed_errors() {
    let invalid = |r: protolearn_data::Result<Data>, field: &str| match r {
        Err(Error::InvalidParameter { name, .. }) => assert_eq!(name, field),
        other => panic!("expected invalid `{field}`, got {other:?}"),
    };
    let g = &mut rng(0);
    invalid(MoonsConfig { n_samples: 0, ..Default::default() }.generate(g), "n_samples");
    invalid(MoonsConfig { noise: -0.1, ..Default::default() }.generate(g), "noise");
    invalid(MoonsConfig { noise: f64::NAN, ..Default::default() }.generate(g), "noise");
    invalid(CirclesConfig { factor: 1.0, ..Default::default() }.generate(g), "factor");
    invalid(CirclesConfig { n_samples: 1, ..Default::default() }.generate(g), "n_samples");
    invalid(SpiralConfig { turns: 0.0, ..Default::default() }.generate(g), "turns");
    invalid(SpiralConfig { noise: -1.0, ..Default::default() }.generate(g), "noise");
    invalid(BlobsConfig { centers: BlobCenters::Random(0), ..Default::default() }.generate(g), "centers");
    invalid(BlobsConfig { center_box: (1.0, 1.0), ..Default::default() }.generate(g), "center_box");
    invalid(BlobsConfig { cluster_std: -1.0, ..Default::default() }.generate(g), "cluster_std");
    invalid(MadelonConfig { n_samples: 0, ..Default::default() }.generate(g), "n_samples");
    invalid(MadelonConfig { n_features: 4, n_repeated: 1, ..Default::default() }.generate(g), "n_features");
    invalid(MadelonConfig { n_classes: 3, ..Default::default() }.generate(g), "n_informative");
    invalid(MadelonConfig { flip_y: 1.5, ..Default::default() }.generate(g), "flip_y");
    invalid(MadelonConfig { weights: Some(vec![0.5, 0.2, 0.3]), ..Default::default() }.generate(g), "weights");
    invalid(MadelonConfig { weights: Some(vec![1.5]), ..Default::default() }.generate(g), "weights");
    invalid(MadelonConfig { class_sep: f64::INFINITY, ..Default::default() }.generate(g), "class_sep");
    let shape = BlobsConfig { centers: BlobCenters::Given(vec![vec![0.0; 3]]), ..Default::default() };
    assert!(matches!(shape.generate(g), Err(Error::Shape { .. })));
}

/// The series of class `label` of a `[n, T, 1]` control-chart set, as `f64`.
fn series_of(d: &Data, label: i64) -> Vec<Vec<f64>> {
    d.rows().zip(d.labels.iter().flatten()).filter(|(_, &l)| l == label).map(|(r, _)| r.iter().map(|&v| f64::from(v)).collect()).collect()
}

/// Least-squares slope of `y` against `t = 1..=n`.
fn slope(y: &[f64]) -> f64 {
    let n = y.len() as f64;
    let (tm, ym) = ((n + 1.0) / 2.0, y.iter().sum::<f64>() / n);
    let cov: f64 = y.iter().enumerate().map(|(i, v)| (i as f64 + 1.0 - tm) * (v - ym)).sum();
    cov / y.iter().enumerate().map(|(i, _)| (i as f64 + 1.0 - tm).powi(2)).sum::<f64>()
}

/// `max over split points p in [n/3, 2n/3] of mean(y[p..]) - mean(y[..p])` (`sign = 1`), or the
/// most negative such difference (`sign = -1`, returned negated back).
fn jump(y: &[f64], sign: f64) -> f64 {
    let n = y.len();
    let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
    let best = (n / 3..=2 * n / 3).map(|p| sign * (mean(&y[p..]) - mean(&y[..p]))).fold(f64::MIN, f64::max);
    sign * best
}

/// Sample autocorrelation of `y` at `lag` (demeaned, normalised by the lag-0 sum).
fn acf(y: &[f64], lag: usize) -> f64 {
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let c0: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    y.iter().zip(&y[lag..]).map(|(a, b)| (a - m) * (b - m)).sum::<f64>() / c0
}

#[test]
fn control_chart_shape_labels_and_reproducibility() {
    let d = ControlChartConfig::default().generate(&mut rng(1)).unwrap();
    assert_eq!(d.shape, vec![600, 60, 1]);
    assert_eq!(d.class_counts(), Some(vec![100; 6]));
    assert_eq!(d.labels.as_ref().map(|l| (l[0], l[599])), Some((0, 5)), "class by class");
    assert_eq!(CONTROL_CHART_CLASSES[4], "upward shift");
    let small = ControlChartConfig { n_per_class: 2, length: 6 }.generate(&mut rng(1)).unwrap();
    assert_eq!(small.shape, vec![12, 6, 1]);
    check_reproducible(
        |s| ControlChartConfig { n_per_class: 5, length: 60 }.generate(&mut rng(s)).unwrap(),
        "91ba61dbd7ac69f949ed1dcef5a2fc58",
        [25.893553, 26.015873],
    );
    for bad in [ControlChartConfig { n_per_class: 0, length: 60 }, ControlChartConfig { n_per_class: 1, length: 5 }] {
        assert!(matches!(bad.generate(&mut rng(1)), Err(Error::InvalidParameter { .. })), "{bad:?}");
    }
}

/// Each class has its defining shape, on 50 series per class of length n = 60.
///
/// Thresholds come from the formulas, not from tuning: the noise `r s`, `r ~ U(-3, 3)`, `s = 2`
/// has variance 6²/3 = 12 (sd 3.46); the least-squares slope over t = 1..60 then has standard
/// error 3.46 / sqrt(sum (t - 30.5)²) = 3.46 / 134 = 0.026. A mean difference across a split
/// at p in [20, 40] has standard error at most 3.46 sqrt(1/20 + 1/40) = 0.95.
#[test]
fn control_chart_classes_have_their_shapes() {
    let d = ControlChartConfig { n_per_class: 50, length: 60 }.generate(&mut rng(3)).unwrap();
    let class = |label| series_of(&d, label);
    // Trends: g >= 0.2, so every slope exceeds 0.2 - 3.8 se = 0.1 (one chance in ~10^6 per
    // series to fall below); the class mean is E[g] = 0.35 within 4 se of a mean of 50
    // (sd of U(0.2, 0.5) = 0.087, / sqrt(50) = 0.012: ±0.05).
    for (label, sign) in [(2, 1.0), (3, -1.0)] {
        let slopes: Vec<f64> = class(label).iter().map(|y| sign * slope(y)).collect();
        assert!(slopes.iter().all(|&s| s > 0.1), "class {label}: {slopes:?}");
        let mean = slopes.iter().sum::<f64>() / slopes.len() as f64;
        assert!((mean - 0.35).abs() < 0.05, "class {label}: mean slope {mean}");
    }
    // Normal: slope 0 ± 0.12 (4.6 se). Cyclic: a sinusoid with a <= 15, T in [10, 15] over 60
    // steps has a least-squares slope of at most 0.118 (computed over the T range), so 0.25
    // leaves 5 se of noise.
    assert!(class(0).iter().all(|y| slope(y).abs() < 0.12));
    assert!(class(1).iter().all(|y| slope(y).abs() < 0.25));
    // Shifts: at the split p = ceil(t3) the difference is ±x with x >= 7.5, so the largest
    // difference exceeds 5 (2.6 se below 7.5 at worst). Pure noise: 21 splits, each within
    // 4.5 = 4.7 se.
    assert!(class(4).iter().all(|y| jump(y, 1.0) > 5.0));
    assert!(class(5).iter().all(|y| jump(y, -1.0) < -5.0));
    assert!(class(0).iter().all(|y| jump(y, 1.0).abs() < 4.5 && jump(y, -1.0).abs() < 4.5));
    // Cyclic: the sinusoid (variance a²/2 >= 50 against the noise's 12) makes the autocorrelation
    // peak over lags 5..=20 sit at the period (10..=15, ±1 for rounding) with a value near
    // 0.8 (1 - T/60) >= 0.6; take 0.4. Normal: the class-mean autocorrelation at lags 10..=15
    // is 0 ± 0.13 / sqrt(50) = 0.018 per lag; take 0.1.
    for y in class(1) {
        let (lag, peak) = (5..=20).map(|l| (l, acf(&y, l))).fold((0, f64::MIN), |b, c| if c.1 > b.1 { c } else { b });
        assert!((9..=16).contains(&lag) && peak > 0.4, "cyclic peak at lag {lag}: {peak}");
    }
    let normal = class(0);
    for lag in 10..=15 {
        let mean = normal.iter().map(|y| acf(y, lag)).sum::<f64>() / normal.len() as f64;
        assert!(mean.abs() < 0.1, "normal class-mean autocorrelation at lag {lag}: {mean}");
    }
}
