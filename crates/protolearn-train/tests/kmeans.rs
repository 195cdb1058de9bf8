//! k-means through the public API: blob recovery, monotone inertia, seeding, `k > n`, empty clusters.

use protolearn_layers::kmeans::KMeansConfig;
use protolearn_metrics::{purity, Contingency};
use protolearn_train::kmeans::KMeansFit;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::Tensor;

/// Relative slack on inertia comparisons (float32 sums over a few hundred points).
const INERTIA_RTOL: f64 = 1e-5;

/// `per` samples uniform in `[-r, r]^d` around each of `centres`;
/// returns features `[c * per, d]` and labels.
fn blobs(centres: &[Vec<f32>], per: usize, r: f32, seed: u64) -> (Tensor, Vec<i64>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let d = centres[0].len();
    let mut x = Vec::new();
    let mut y = Vec::new();
    for (label, c) in centres.iter().enumerate() {
        for _ in 0..per {
            x.extend(c.iter().map(|v| v + rng.random_range(-r..r)));
            y.push(label as i64);
        }
    }
    (Tensor::from_slice(&x).view([-1, d as i64]), y)
}

fn assignments(t: &Tensor) -> Vec<usize> {
    Vec::<i64>::try_from(t).expect("int64 assignments").into_iter().map(|a| a as usize).collect()
}

#[test]
fn recovers_three_separated_blobs_with_purity_one() {
    let (x, y) = blobs(&[vec![0.0, 0.0], vec![10.0, 0.0], vec![0.0, 10.0]], 50, 0.5, 1);
    let fit = KMeansConfig { k: 3, n_init: 3, max_iter: 100, tol: 1e-4, seed: 7 }.fit(&x).expect("fit");
    assert_eq!(fit.centroids.size(), vec![3, 2]);
    let table = Contingency::new(&y, &assignments(&fit.assignments)).expect("table");
    assert_eq!(purity(&table), 1.0, "well-separated blobs are recovered exactly");
    assert_eq!(table.clusters().len(), 3, "all three clusters used");
}

#[test]
fn inertia_never_increases_and_seed_reproduces() {
    let (x, _) = blobs(&[vec![0.0; 5], vec![1.0; 5], vec![2.0; 5], vec![3.0; 5]], 60, 1.0, 2);
    let cfg = KMeansConfig { k: 6, n_init: 2, max_iter: 50, tol: 0.0, seed: 3 };
    let a = cfg.fit(&x).expect("fit");
    assert!(a.inertia_history.len() >= 2);
    for w in a.inertia_history.windows(2) {
        assert!(w[1] <= w[0] * (1.0 + INERTIA_RTOL), "inertia rose: {:?}", a.inertia_history);
    }
    assert_eq!(a.inertia_history.last().copied(), Some(a.inertia));
    assert!(a.inertia.is_finite());
    let b = cfg.fit(&x).expect("fit");
    assert!(a.centroids.equal(&b.centroids) && a.assignments.equal(&b.assignments), "same seed, same result");
    let more = KMeansConfig { n_init: 6, ..cfg }.fit(&x).expect("fit");
    assert!(more.inertia <= a.inertia * (1.0 + INERTIA_RTOL), "more restarts never do worse with the same first seeds");
}

#[test]
fn duplicates_force_empty_clusters_without_nan() {
    // Five copies of one point and one other point, k = 3: k-means++ must pick a duplicate
    // twice, one cluster stays empty and is re-seeded instead of becoming NaN.
    let x = Tensor::from_slice(&[0.0f32, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 4.0, 4.0]).view([6, 2]);
    let fit = KMeansConfig { k: 3, n_init: 4, max_iter: 20, tol: 1e-4, seed: 0 }.fit(&x).expect("fit");
    assert!(!bool::try_from(fit.centroids.isnan().any()).expect("bool"), "no NaN centroid");
    assert!(fit.inertia.abs() < 1e-6, "both distinct points are centroids (atol 1e-6)");
}

#[test]
fn rejects_k_above_sample_count_and_bad_shapes() {
    let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, 3.0]).view([2, 2]);
    let cfg = KMeansConfig { k: 3, n_init: 1, max_iter: 10, tol: 1e-4, seed: 0 };
    assert!(cfg.fit(&x).is_err(), "k > n is an error");
    assert!(KMeansConfig { k: 2, ..cfg }.fit(&x).is_ok());
    assert!(KMeansConfig { k: 0, ..cfg }.fit(&x).is_err());
    assert!(KMeansConfig { k: 1, ..cfg }.fit(&x.view([4])).is_err());
}

#[test]
fn config_defaults_from_toml() {
    let cfg: KMeansConfig = toml::from_str("k = 4\nseed = 1\n").expect("toml");
    assert_eq!((cfg.n_init, cfg.max_iter, cfg.tol), (10, 300, 1e-4));
    assert!(toml::from_str::<KMeansConfig>("k = 4\nseed = 1\nbogus = 2\n").is_err());
}

/// Uniform `[rows, cols]` values in `[0, 1)`.
fn uniform(rows: i64, cols: i64, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Tensor::from_slice(&(0..rows * cols).map(|_| rng.random::<f32>()).collect::<Vec<_>>()).view([rows, cols])
}

#[test]
fn one_step_from_a_start_equals_the_means_of_the_nearest_rows_across_row_blocks() {
    // 6,000 x 800 float32 = 19.2 MB: more than one 16 MiB row block of the CPU Lloyd step.
    let x = uniform(6_000, 800, 11);
    let init = x.narrow(0, 0, 8).copy();
    let fit = KMeansConfig { k: 8, n_init: 1, max_iter: 1, tol: 0.0, seed: 0 }.fit_from(&x, &init).expect("fit");
    let nearest = protolearn_layers::distance::squared_euclidean(&x, &init).argmin(1, false); // [n]
    let one_hot = nearest.one_hot(8).to_kind(tch::Kind::Float); // [n, 8]
    let want = one_hot.tr().mm(&x) / one_hot.sum_dim_intlist(0, false, None::<tch::Kind>).unsqueeze(1);
    assert!(fit.centroids.allclose(&want, 1e-5, 1e-6, false), "blocked step = direct means");
    assert_eq!(fit.inertia_history.len(), 2, "one step, then the final inertia");
}

#[test]
fn fit_from_continues_where_it_stopped_and_checks_the_start_shape() {
    let (x, _) = blobs(&[vec![0.0, 0.0], vec![3.0, 0.0], vec![0.0, 3.0], vec![3.0, 3.0]], 40, 2.0, 5);
    let init = x.narrow(0, 0, 4).copy();
    let config = |max_iter| KMeansConfig { k: 4, n_init: 1, max_iter, tol: 0.0, seed: 0 };
    let five = config(5).fit_from(&x, &init).expect("five steps");
    let three = config(3).fit_from(&x, &init).expect("three steps");
    let three_then_two = config(2).fit_from(&x, &three.centroids).expect("two more");
    assert!(five.centroids.equal(&three_then_two.centroids), "Lloyd steps compose bit for bit");
    let wrong = x.narrow(0, 0, 3).copy();
    let err = config(5).fit_from(&x, &wrong).expect_err("3 starting centroids for k = 4");
    assert!(err.to_string().contains("k-means start"), "{err}");
}

/// Relative inertia difference allowed between k-means on rows in memory and on the same rows
/// read chunk by chunk: the member sums add the same float32 terms grouped by chunk, a relative
/// difference of order `n * 2^-24` per step.
const CHUNKED_INERTIA_RTOL: f64 = 1e-5;

#[test]
fn kmeans_on_rows_read_in_chunks_equals_the_in_memory_fit() {
    let (x, _) = blobs(&[vec![0.0, 0.0, 0.0], vec![4.0, 0.0, 1.0], vec![0.0, 4.0, 2.0], vec![3.0, 3.0, -2.0]], 150, 1.5, 9);
    let cfg = KMeansConfig { k: 5, n_init: 3, max_iter: 50, tol: 1e-4, seed: 3 };
    let memory = cfg.fit(&x).expect("fit in memory");
    // A sample as large as the data seeds exactly as `fit` does; 37-row chunks, the last short.
    let rows = cfg.fit_rows(&x, 37, 600).expect("fit on rows");
    assert_eq!(assignments(&rows.assignments), assignments(&memory.assignments));
    assert!((rows.inertia - memory.inertia).abs() <= CHUNKED_INERTIA_RTOL * memory.inertia, "{} vs {}", rows.inertia, memory.inertia);
    assert_eq!(rows.inertia_history.len(), memory.inertia_history.len());
    // Seeding from a sample of 100 rows still finds the blobs' partition of this easy set.
    let sampled = cfg.fit_rows(&x, 64, 100).expect("fit from a seeding sample");
    assert!(sampled.inertia <= memory.inertia * 1.01, "{} vs {}", sampled.inertia, memory.inertia);
    let err = KMeansConfig { k: 7, ..cfg }.fit_rows(&x, 64, 5).unwrap_err().to_string();
    assert!(err.contains("at most the rows sampled for seeding, 5"), "{err}");
}
