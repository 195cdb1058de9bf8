//! Degenerate inputs give defined, finite results; invalid inputs give typed errors, never panics.

use crate::common::{assert_close, TestResult, F32_DISTANCES, F64_FORMULA};
use protolearn_metrics::{
    adjusted_rand_index, best_matching_units, class_scatter_index, clustering_accuracy, combined_error, competitive_hebbian, continuity,
    distortion, neighbourhood_preservation, neighbourhood_scores, normalized_mutual_info, prototype_sharpness_ratio, purity,
    quantization_error, topographic_error, topographic_product, trustworthiness, Boundary, Contingency, Error, Grid, ImageShape, Kernel,
    Lattice, Matrix, NmiAverage, Sharpness,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const GAUSSIAN: Kernel = Kernel::Gaussian { temperature: 1.0 };

fn rect(rows: usize, cols: usize) -> Result<Grid, Error> {
    Grid::new(rows, cols, Lattice::Rectangular, Boundary::Bounded)
}

/// Every data-based SOM metric on one input, for finiteness checks.
fn som_scores(x: Matrix<'_>, m: Matrix<'_>, grid: &Grid) -> Result<Vec<f64>, Error> {
    Ok(vec![
        quantization_error(x, m)?,
        distortion(x, m, grid, GAUSSIAN)?,
        topographic_error(x, m, grid)?,
        combined_error(x, m, grid)?,
        topographic_product(m, grid)?,
    ])
}

#[test]
fn identical_prototypes_tie_to_the_lowest_index_and_stay_finite() -> TestResult {
    let protos = [0.5_f32; 12]; // six identical 2-d prototypes
    let data = [0.0_f32, 0.0, 1.0, 1.0, 0.5, 0.5];
    let (x, m) = (Matrix::new(&data, 3, 2)?, Matrix::new(&protos, 6, 2)?);
    for b in best_matching_units(x, m)? {
        assert_eq!((b.first.unit, b.second.map(|s| s.unit)), (0, Some(1)));
    }
    let grid = rect(2, 3)?;
    for s in som_scores(x, m, &grid)? {
        assert!(s.is_finite(), "{s}");
    }
    // all prototypes coincide: every ratio d(j, .)/d(j, .) is 1, only the map term remains
    assert!(topographic_product(m, &grid)?.is_finite());
    // units 0 and 1 are adjacent and coincide: CE = QE
    assert_close(combined_error(x, m, &grid)?, quantization_error(x, m)?, F32_DISTANCES, "ce");
    assert_close(topographic_error(x, m, &grid)?, 0.0, F64_FORMULA, "te");
    Ok(())
}

#[test]
fn more_prototypes_than_samples_and_a_single_sample() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let protos: Vec<f32> = (0..25 * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
    let data = [0.1_f32, -0.2, 0.3];
    let grid = Grid::new(5, 5, Lattice::Hexagonal, Boundary::Bounded)?;
    let (x, m) = (Matrix::new(&data, 1, 3)?, Matrix::new(&protos, 25, 3)?);
    for s in som_scores(x, m, &grid)? {
        assert!(s.is_finite(), "{s}");
    }
    let g = competitive_hebbian(x, m)?;
    assert_eq!((g.n_edges(), g.n_valid()), (1, 1));
    assert_eq!(g.pruning_mask().iter().filter(|&&p| p).count(), 23);
    let te = topographic_error(x, m, &grid)?;
    assert!(te == 0.0 || te == 1.0);
    Ok(())
}

#[test]
fn clustering_degenerate_partitions_are_defined() -> TestResult {
    // one cluster, several classes; one class, several clusters; a single sample
    let cases: [(&[i64], &[usize], [f64; 4]); 3] = [
        (&[i64::MIN, 0, i64::MAX, 0], &[4, 4, 4, 4], [0.5, 0.0, 0.0, 0.5]),
        (&[-9, -9, -9], &[0, 7, 7], [1.0, 0.0, 0.0, 2.0 / 3.0]),
        (&[5], &[usize::MAX], [1.0, 1.0, 1.0, 1.0]),
    ];
    for (labels, clusters, [pur, nmi, ari, acc]) in cases {
        let t = Contingency::new(labels, clusters)?;
        assert_close(purity(&t), pur, F64_FORMULA, "purity");
        for avg in [NmiAverage::Arithmetic, NmiAverage::Geometric, NmiAverage::Max, NmiAverage::Min] {
            assert_close(normalized_mutual_info(&t, avg), nmi, F64_FORMULA, "nmi");
        }
        assert_close(adjusted_rand_index(&t), ari, F64_FORMULA, "ari");
        assert_close(clustering_accuracy(&t)?, acc, F64_FORMULA, "accuracy");
    }
    Ok(())
}

#[test]
fn empty_clusters_do_not_change_clustering_indices() -> TestResult {
    // the same partition written with dense ids and with ids of a 100-unit map (most units empty)
    let labels = [1_i64, 1, 2, 2, 3, 3, 3];
    let dense = Contingency::new(&labels, &[0, 0, 1, 2, 2, 2, 1])?;
    let sparse = Contingency::new(&labels, &[13, 13, 57, 99, 99, 99, 57])?;
    assert_eq!(dense.counts(), sparse.counts());
    assert_eq!(purity(&dense), purity(&sparse));
    assert_eq!(clustering_accuracy(&dense)?, clustering_accuracy(&sparse)?);
    Ok(())
}

#[test]
fn invalid_som_inputs_are_typed_errors() -> TestResult {
    let data = [0.0_f32, 1.0, 2.0, 3.0];
    let protos = [0.0_f32, 0.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
    let (x, m) = (Matrix::new(&data, 2, 2)?, Matrix::new(&protos, 4, 2)?);
    let empty = Matrix::new(&[], 0, 2)?;
    let grid = rect(2, 2)?;
    let too_small = |r: Result<f64, Error>| matches!(r, Err(Error::TooFew { .. }));
    let shape = |r: Result<f64, Error>| matches!(r, Err(Error::Shape { .. }));

    assert!(too_small(quantization_error(empty, m)));
    assert!(too_small(distortion(empty, m, &grid, GAUSSIAN)));
    assert!(too_small(topographic_error(empty, m, &grid)));
    assert!(too_small(combined_error(empty, m, &grid)));
    assert!(too_small(quantization_error(x, empty)));

    let one = Matrix::new(&protos[..2], 1, 2)?;
    let one_unit = rect(1, 1)?;
    assert!(too_small(topographic_error(x, one, &one_unit)));
    assert!(too_small(combined_error(x, one, &one_unit)));
    assert!(too_small(topographic_product(one, &one_unit)));
    assert!(distortion(x, one, &one_unit, GAUSSIAN)?.is_finite());

    let wrong_dim = Matrix::new(&protos, 2, 4)?;
    assert!(shape(quantization_error(x, wrong_dim)));
    let wrong_grid = rect(3, 3)?;
    assert!(shape(distortion(x, m, &wrong_grid, GAUSSIAN)));
    assert!(shape(topographic_error(x, m, &wrong_grid)));
    assert!(shape(topographic_product(m, &wrong_grid)));

    for bad in [Kernel::Gaussian { temperature: 0.0 }, Kernel::Gaussian { temperature: f64::NAN }, Kernel::Window { radius: -1.0 }] {
        assert!(matches!(distortion(x, m, &grid, bad), Err(Error::InvalidParameter { .. })));
    }
    assert!(matches!(Matrix::new(&data, 4, 0), Err(Error::TooFew { .. })));
    assert!(matches!(Matrix::new(&data, 3, 2), Err(Error::Shape { .. })));
    Ok(())
}

#[test]
fn invalid_labelled_inputs_are_typed_errors() -> TestResult {
    let grid = rect(2, 2)?;
    assert!(matches!(class_scatter_index(&[1, 2], &[0, 4], &grid), Err(Error::UnitOutOfRange { unit: 4, n_units: 4 })));
    assert!(matches!(class_scatter_index(&[1, 2], &[0], &grid), Err(Error::Shape { .. })));
    assert!(matches!(class_scatter_index(&[], &[], &grid), Err(Error::TooFew { .. })));
    assert!(matches!(Contingency::new(&[1, 2, 3], &[0, 1]), Err(Error::Shape { .. })));
    Ok(())
}

#[test]
fn class_scatter_index_counts_connected_groups() -> TestResult {
    // class 0 on units {0, 1, 2} (one row of a 3x3 map); class 1 on {0, 8} (two corners)
    let grid = rect(3, 3)?;
    let csi = class_scatter_index(&[0, 0, 0, 1, 1, 1], &[0, 1, 2, 0, 8, 8], &grid)?;
    assert_close(csi, 1.5, F64_FORMULA, "csi");
    let torus = Grid::new(3, 3, Lattice::Rectangular, Boundary::Toroidal)?;
    // on the torus unit 8 is adjacent to unit 2 but not to unit 0: still two groups for class 1
    assert_close(class_scatter_index(&[1, 1], &[0, 8], &torus)?, 2.0, F64_FORMULA, "csi torus");
    assert_close(class_scatter_index(&[1, 1], &[2, 8], &torus)?, 1.0, F64_FORMULA, "csi wrap");
    Ok(())
}

#[test]
fn sharpness_ratio_edge_cases() -> TestResult {
    let shape = ImageShape { height: 1, width: 4 };
    let ramp = [0.0_f32, 1.0, 2.0, 3.0];
    let flat = [5.0_f32; 4];
    let (x, m) = (Matrix::new(&ramp, 1, 4)?, Matrix::new(&flat, 1, 4)?);
    // a ramp has gradient 1 everywhere (the axis of length 1 contributes 0)
    let psr = prototype_sharpness_ratio(m, x, shape, Sharpness::MeanGradientNorm);
    assert!(matches!(psr, Err(Error::Undefined { .. })));
    assert_close(prototype_sharpness_ratio(x, x, shape, Sharpness::default())?, 1.0, F64_FORMULA, "psr");
    assert_close(prototype_sharpness_ratio(x, m, shape, Sharpness::SquaredGradientNorm)?, 0.0, F64_FORMULA, "psr flat");
    let wrong = ImageShape { height: 2, width: 3 };
    assert!(matches!(prototype_sharpness_ratio(x, m, wrong, Sharpness::default()), Err(Error::Shape { .. })));
    Ok(())
}

#[test]
fn original_and_latent_space_use_the_same_functions() -> TestResult {
    // a map whose prototypes lie on a line in 1-d and in 5-d (zero-padded) gives equal scores
    let grid = rect(1, 4)?;
    let protos_1d = [0.0_f32, 1.0, 2.0, 3.0];
    let data_1d = [0.2_f32, 1.4, 2.6, 2.9, 0.5];
    let pad = |v: &[f32]| v.iter().flat_map(|&a| [a, 0.0, 0.0, 0.0, 0.0]).collect::<Vec<f32>>();
    let (protos_5d, data_5d) = (pad(&protos_1d), pad(&data_1d));
    let low = som_scores(Matrix::new(&data_1d, 5, 1)?, Matrix::new(&protos_1d, 4, 1)?, &grid)?;
    let high = som_scores(Matrix::new(&data_5d, 5, 5)?, Matrix::new(&protos_5d, 4, 5)?, &grid)?;
    for (a, b) in low.iter().zip(&high) {
        assert_close(*a, *b, F32_DISTANCES, "1-d vs 5-d");
    }
    // a perfectly ordered line map has no topographic error and TP = 0
    assert_close(low[2], 0.0, F64_FORMULA, "te");
    assert_close(low[4], 0.0, F32_DISTANCES, "tp");
    Ok(())
}

/// The three neighbourhood metrics of one input, or the first error.
fn neighbourhood_all(x: Matrix<'_>, y: Matrix<'_>, k: usize) -> Result<[f64; 3], Error> {
    Ok([trustworthiness(x, y, k)?, continuity(x, y, k)?, neighbourhood_preservation(x, y, k)?])
}

#[test]
fn invalid_neighbourhood_inputs_are_typed_errors() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let xs: Vec<f32> = (0..10 * 3).map(|_| rng.random_range(-1.0..1.0)).collect();
    let x = Matrix::new(&xs, 10, 3)?;
    let y = Matrix::new(&xs[..20], 10, 2)?;
    let invalid_k = |r: Result<[f64; 3], Error>| matches!(r, Err(Error::InvalidParameter { name: "k", .. }));
    assert!(invalid_k(neighbourhood_all(x, y, 0)));
    assert!(invalid_k(neighbourhood_all(x, y, 5))); // k = n / 2
    assert!(invalid_k(neighbourhood_all(x, y, usize::MAX)));
    assert!(neighbourhood_all(x, y, 4).is_ok());
    let odd = Matrix::new(&xs[..27], 9, 3)?;
    let odd_y = Matrix::new(&xs[..18], 9, 2)?;
    assert!(neighbourhood_all(odd, odd_y, 4).is_ok()); // 4 < 4.5
    assert!(invalid_k(neighbourhood_all(odd, odd_y, 5)));
    let short = Matrix::new(&xs[..18], 9, 2)?;
    let r = neighbourhood_all(x, short, 2);
    assert!(matches!(r, Err(Error::Shape { expected: 10, got: 9, .. })), "{r:?}");
    assert!(matches!(neighbourhood_scores(x, short, 2), Err(Error::Shape { .. })));
    let two = Matrix::new(&xs[..4], 2, 2)?;
    assert!(matches!(neighbourhood_all(two, two, 1), Err(Error::TooFew { min: 3, got: 2, .. })));
    let empty = Matrix::new(&[], 0, 2)?;
    assert!(matches!(neighbourhood_all(empty, empty, 1), Err(Error::TooFew { .. })));
    Ok(())
}

#[test]
fn a_perfect_embedding_scores_one() -> TestResult {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let xs: Vec<f32> = (0..90 * 6).map(|_| rng.random_range(-1.0..1.0)).collect();
    let x = Matrix::new(&xs, 90, 6)?;
    let unrelated = Matrix::new(&xs[..180], 90, 2)?;
    for k in [1, 5, 44] {
        for s in neighbourhood_all(x, x, k)? {
            assert_close(s, 1.0, F64_FORMULA, "embedding == data");
        }
        for s in neighbourhood_all(x, unrelated, k)? {
            assert!(s < 0.9, "an unrelated embedding must not look perfect: {s}");
        }
    }
    Ok(())
}

#[test]
fn som_embeddings_with_shared_units_are_finite_and_order_free_for_np() -> TestResult {
    // 200 samples on a 3x3 map: ~22 samples per unit, k up to 99 crosses many ties
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let n = 200;
    let xs: Vec<f32> = (0..n * 4).map(|_| rng.random_range(-1.0..1.0)).collect();
    let units: Vec<f32> = (0..n).flat_map(|_| [rng.random_range(0..3) as f32, rng.random_range(0..3) as f32]).collect();
    let (x, y) = (Matrix::new(&xs, n, 4)?, Matrix::new(&units, n, 2)?);
    // the same samples in reverse order: NP uses min ranks, no index tie-break
    let rev = |v: &[f32], d: usize| v.chunks_exact(d).rev().flatten().copied().collect::<Vec<f32>>();
    let (xr, yr) = (rev(&xs, 4), rev(&units, 2));
    let (x_rev, y_rev) = (Matrix::new(&xr, n, 4)?, Matrix::new(&yr, n, 2)?);
    let same = vec![1.0_f32; n * 2];
    let one_unit = Matrix::new(&same, n, 2)?;
    for k in [1, 10, 30, 99] {
        let s = neighbourhood_all(x, y, k)?;
        assert!(s.iter().all(|v| v.is_finite()), "k={k}: {s:?}");
        assert!((0.0..=1.0).contains(&s[0]) && (0.0..=1.0).contains(&s[1]), "k={k}: {s:?}");
        let np_rev = neighbourhood_preservation(x_rev, y_rev, k)?;
        assert_close(np_rev, s[2], F64_FORMULA, "np under reordering");
        // every sample on one unit: all embedding distances tie at 0
        assert!(neighbourhood_all(x, one_unit, k)?.iter().all(|v| v.is_finite()));
    }
    Ok(())
}
