//! Every metric against the reference values of tests/fixtures/make_fixtures.py
//! (scikit-learn, scipy, networkx and NumPy implementations of the published formulas).

use crate::common::{assert_close, fixture, TestResult, EXACT_F64, F32_DISTANCES, F64_FORMULA};
use protolearn_metrics::{
    adjusted_rand_index, best_matching_units, class_scatter_index, clustering_accuracy, combined_error, competitive_hebbian, continuity,
    distortion, mean, neighbourhood_preservation, neighbourhood_scores, normalized_mutual_info, prototype_sharpness_ratio, purity,
    quantization_error, std_dev, std_error, student_t_cdf, topographic_error, topographic_product, trustworthiness, welch_t_test,
    Contingency, Grid, ImageShape, Kernel, Matrix, NmiAverage, Sharpness,
};
use serde::Deserialize;

#[derive(Deserialize)]
struct ClusteringCase {
    name: String,
    labels: Vec<i64>,
    assignments: Vec<usize>,
    purity: f64,
    ari: f64,
    accuracy: f64,
    nmi_arithmetic: f64,
    nmi_geometric: f64,
    nmi_max: f64,
    nmi_min: f64,
}

#[test]
fn clustering_indices_match_scikit_learn() -> TestResult {
    let cases: Vec<ClusteringCase> = fixture("clustering.json")?;
    for c in &cases {
        let t = Contingency::new(&c.labels, &c.assignments)?;
        let ctx = |m: &str| format!("{} / {m}", c.name);
        assert_close(purity(&t), c.purity, F64_FORMULA, &ctx("purity"));
        assert_close(adjusted_rand_index(&t), c.ari, F64_FORMULA, &ctx("ari"));
        assert_close(clustering_accuracy(&t)?, c.accuracy, F64_FORMULA, &ctx("accuracy"));
        for (avg, expected) in [
            (NmiAverage::Arithmetic, c.nmi_arithmetic),
            (NmiAverage::Geometric, c.nmi_geometric),
            (NmiAverage::Max, c.nmi_max),
            (NmiAverage::Min, c.nmi_min),
        ] {
            let nmi = normalized_mutual_info(&t, avg);
            assert_close(nmi, expected, F64_FORMULA, &ctx(&format!("nmi {avg:?}")));
        }
    }
    assert_eq!(cases.len(), 11);
    Ok(())
}

#[derive(Deserialize)]
struct StatsCases {
    summary: Vec<Summary>,
    welch: Vec<Welch>,
    t_cdf: Vec<TCdf>,
}

#[derive(Deserialize)]
struct Summary {
    x: Vec<f64>,
    mean: f64,
    std: f64,
    sem: f64,
}

#[derive(Deserialize)]
struct Welch {
    a: Vec<f64>,
    b: Vec<f64>,
    t: f64,
    df: f64,
    p: f64,
}

#[derive(Deserialize)]
struct TCdf {
    t: f64,
    df: f64,
    cdf: f64,
}

#[test]
fn statistics_match_scipy() -> TestResult {
    let cases: StatsCases = fixture("stats.json")?;
    for s in &cases.summary {
        assert_close(mean(&s.x)?, s.mean, F64_FORMULA, "mean");
        assert_close(std_dev(&s.x)?, s.std, F64_FORMULA, "std");
        assert_close(std_error(&s.x)?, s.sem, F64_FORMULA, "sem");
    }
    for w in &cases.welch {
        let r = welch_t_test(&w.a, &w.b)?;
        assert_close(r.t, w.t, F64_FORMULA, "welch t");
        assert_close(r.df, w.df, F64_FORMULA, "welch df");
        assert_close(r.p_value, w.p, F64_FORMULA, "welch p");
    }
    for c in &cases.t_cdf {
        let ctx = format!("t cdf at t={}, df={}", c.t, c.df);
        assert_close(student_t_cdf(c.t, c.df)?, c.cdf, F64_FORMULA, &ctx);
    }
    assert_eq!((cases.summary.len(), cases.welch.len(), cases.t_cdf.len()), (6, 5, 8));
    Ok(())
}

#[derive(Deserialize)]
struct GridCase {
    grid: Grid,
    distance_matrix: Vec<usize>,
    neighbors: Vec<Vec<usize>>,
}

#[test]
fn grid_distances_match_geometric_graphs() -> TestResult {
    let cases: Vec<GridCase> = fixture("grids.json")?;
    for c in &cases {
        assert_eq!(c.grid.distance_matrix(), c.distance_matrix, "{:?}", c.grid);
        for (u, expected) in c.neighbors.iter().enumerate() {
            assert_eq!(&c.grid.neighbors(u)?, expected, "{:?} unit {u}", c.grid);
        }
    }
    assert_eq!(cases.len(), 9);
    Ok(())
}

#[derive(Deserialize)]
struct SomCases {
    metrics: Vec<SomCase>,
    class_scatter: Vec<CsiCase>,
}

#[derive(Deserialize)]
struct SomCase {
    name: String,
    grid: Grid,
    dim: usize,
    data: Vec<f32>,
    prototypes: Vec<f32>,
    temperature: f64,
    radius: f64,
    bmu_first: Vec<usize>,
    bmu_second: Option<Vec<usize>>,
    qe: f64,
    distortion_gaussian: f64,
    distortion_window: f64,
    te: Option<f64>,
    ce: Option<f64>,
    tp: Option<f64>,
}

#[derive(Deserialize)]
struct CsiCase {
    grid: Grid,
    labels: Vec<i64>,
    units: Vec<usize>,
    csi: f64,
}

#[test]
fn som_quality_matches_numpy_formulas() -> TestResult {
    let cases: SomCases = fixture("som.json")?;
    for c in &cases.metrics {
        let x = Matrix::new(&c.data, c.data.len() / c.dim, c.dim)?;
        let m = Matrix::new(&c.prototypes, c.prototypes.len() / c.dim, c.dim)?;
        let ctx = |metric: &str| format!("{} / {metric}", c.name);
        let bmus = best_matching_units(x, m)?;
        let first: Vec<usize> = bmus.iter().map(|b| b.first.unit).collect();
        assert_eq!(first, c.bmu_first, "{}", ctx("first bmu"));
        let second: Option<Vec<usize>> = bmus.iter().map(|b| b.second.map(|s| s.unit)).collect();
        assert_eq!(second, c.bmu_second, "{}", ctx("second bmu"));
        assert_close(quantization_error(x, m)?, c.qe, F32_DISTANCES, &ctx("qe"));
        let gaussian = Kernel::Gaussian { temperature: c.temperature };
        let d = distortion(x, m, &c.grid, gaussian)?;
        assert_close(d, c.distortion_gaussian, F32_DISTANCES, &ctx("distortion"));
        let d = distortion(x, m, &c.grid, Kernel::Window { radius: c.radius })?;
        assert_close(d, c.distortion_window, F32_DISTANCES, &ctx("window distortion"));
        match (c.te, c.ce, c.tp) {
            (Some(te), Some(ce), Some(tp)) => {
                assert_close(topographic_error(x, m, &c.grid)?, te, F64_FORMULA, &ctx("te"));
                assert_close(combined_error(x, m, &c.grid)?, ce, F32_DISTANCES, &ctx("ce"));
                assert_close(topographic_product(m, &c.grid)?, tp, F32_DISTANCES, &ctx("tp"));
            }
            _ => {
                assert!(topographic_error(x, m, &c.grid).is_err(), "{}", ctx("te"));
                assert!(combined_error(x, m, &c.grid).is_err(), "{}", ctx("ce"));
                assert!(topographic_product(m, &c.grid).is_err(), "{}", ctx("tp"));
            }
        }
    }
    for c in &cases.class_scatter {
        let csi = class_scatter_index(&c.labels, &c.units, &c.grid)?;
        assert_close(csi, c.csi, F64_FORMULA, "class scatter index");
    }
    assert_eq!((cases.metrics.len(), cases.class_scatter.len()), (13, 3));
    Ok(())
}

#[derive(Deserialize)]
struct PsrCase {
    height: usize,
    width: usize,
    data: Vec<f32>,
    prototypes: Vec<f32>,
    psr_mean_norm: f64,
    psr_squared: f64,
}

#[test]
fn prototype_sharpness_ratio_matches_numpy_gradient() -> TestResult {
    let cases: Vec<PsrCase> = fixture("psr.json")?;
    for c in &cases {
        let p = c.height * c.width;
        let x = Matrix::new(&c.data, c.data.len() / p, p)?;
        let m = Matrix::new(&c.prototypes, c.prototypes.len() / p, p)?;
        let shape = ImageShape { height: c.height, width: c.width };
        for (s, expected) in [(Sharpness::MeanGradientNorm, c.psr_mean_norm), (Sharpness::SquaredGradientNorm, c.psr_squared)] {
            let psr = prototype_sharpness_ratio(x, m, shape, s)?;
            assert_close(psr, expected, F32_DISTANCES, &format!("psr {s:?} {shape:?}"));
        }
    }
    assert_eq!(cases.len(), 3);
    Ok(())
}

#[derive(Deserialize)]
struct ChlCase {
    name: String,
    dim: usize,
    data: Vec<f32>,
    prototypes: Vec<f32>,
    edges: Vec<(usize, usize)>,
    voronoi: Vec<usize>,
    frobenius: f64,
    n_valid: usize,
    pruning_mask: Vec<bool>,
    component_labels: Vec<usize>,
    n_components: usize,
    valid_components: usize,
}

#[test]
fn competitive_topology_matches_networkx() -> TestResult {
    let cases: Vec<ChlCase> = fixture("topology.json")?;
    for c in &cases {
        let x = Matrix::new(&c.data, c.data.len() / c.dim, c.dim)?;
        let m = Matrix::new(&c.prototypes, c.prototypes.len() / c.dim, c.dim)?;
        let g = competitive_hebbian(x, m)?;
        assert_eq!(g.edges(), c.edges, "{}", c.name);
        assert_eq!(g.voronoi_counts(), c.voronoi.as_slice(), "{}", c.name);
        assert_close(g.frobenius_norm(), c.frobenius, F64_FORMULA, &c.name);
        assert_eq!(g.n_valid(), c.n_valid, "{}", c.name);
        assert_eq!(g.pruning_mask(), c.pruning_mask, "{}", c.name);
        let comps = g.connected_components();
        assert_eq!(comps.labels, c.component_labels, "{}", c.name);
        assert_eq!(comps.count, c.n_components, "{}", c.name);
        assert_eq!(g.components_within(&g.valid_prototypes())?, c.valid_components, "{}", c.name);
    }
    assert_eq!(cases.len(), 4);
    Ok(())
}

#[derive(Deserialize)]
struct NeighbourhoodCase {
    name: String,
    dim: usize,
    embedding_dim: usize,
    data: Vec<f32>,
    embedding: Vec<f32>,
    scores: Vec<NeighbourhoodScore>,
}

#[derive(Deserialize)]
struct NeighbourhoodScore {
    k: usize,
    trustworthiness: f64,
    continuity: f64,
    neighbourhood_preservation: f64,
}

/// Ranks are integers computed from the same `f32` distances as the fixture's, so
/// trustworthiness and continuity follow the same float64 formula (`EXACT_F64`); SOMperf's
/// weighted sum is accumulated in another order (`F64_FORMULA`).
#[test]
fn neighbourhood_metrics_match_scikit_learn_and_somperf() -> TestResult {
    let cases: Vec<NeighbourhoodCase> = fixture("neighbourhood.json")?;
    for c in &cases {
        let n = c.data.len() / c.dim;
        let x = Matrix::new(&c.data, n, c.dim)?;
        let y = Matrix::new(&c.embedding, n, c.embedding_dim)?;
        for s in &c.scores {
            let ctx = |m: &str| format!("{} / k={} / {m}", c.name, s.k);
            assert_close(trustworthiness(x, y, s.k)?, s.trustworthiness, EXACT_F64, &ctx("trustworthiness"));
            assert_close(continuity(x, y, s.k)?, s.continuity, EXACT_F64, &ctx("continuity"));
            let np = neighbourhood_preservation(x, y, s.k)?;
            assert_close(np, s.neighbourhood_preservation, F64_FORMULA, &ctx("neighbourhood preservation"));
            let all = neighbourhood_scores(x, y, s.k)?;
            assert_eq!((all.trustworthiness, all.continuity), (trustworthiness(x, y, s.k)?, continuity(x, y, s.k)?), "{}", ctx("scores"));
            assert_eq!(all.neighbourhood_preservation, np, "{}", ctx("scores"));
        }
    }
    assert_eq!(cases.iter().map(|c| c.scores.len()).collect::<Vec<_>>(), [4, 4, 3, 5, 4]);
    Ok(())
}
