//! Neighbourhood preservation of a projection (Venna & Kaski 2001): trustworthiness, continuity and SOMperf's neighbourhood preservation, from exact k-NN ranks.
//!
//! Every metric compares, for each sample `i`, its neighbours among the `n` rows of the
//! input data `X` `[n, D]` with its neighbours among the rows of the embedding `Y` `[n, E]`
//! (for a SOM: the grid position, or the prototype, of each sample's best-matching unit).
//! All three share the normalisation of Venna & Kaski (2001),
//!
//! ```text
//! 1 - 2 / (n k (2n - 3k - 1)) * (sum of rank excesses),    1 <= k < n / 2,
//! ```
//!
//! which maps the worst possible neighbourhoods to 0 and perfect ones to 1.
//!
//! # Ranks and ties
//! Distances are squared Euclidean, computed as `sum_d (y_d - x_d)^2` in `f32` in dimension
//! order (no `||a||^2 - 2ab + ||b||^2` cancellation: duplicated rows are at distance exactly
//! 0 and `d(i, j) == d(j, i)` bitwise). Sample `i` itself is never its own neighbour.
//!
//! - *Ordinal* ranks (trustworthiness, continuity): the neighbours of `i` are ordered by
//!   `(distance, index)`, i.e. ties go to the lowest index, as
//!   `numpy.argsort(kind="stable")`; `r(i, j) = 1 + #{l != i : (d(i,l), l) < (d(i,j), j)}`
//!   and the k nearest neighbours are the first k in that order.
//! - *Min* ranks (SOMperf's neighbourhood preservation, `pandas.rank(method="min")`):
//!   `rho(i, j) = 1 + #{l != i : d(i,l) < d(i,j)}`; tied samples share the lowest rank.
//!
//! # Cost
//! Exact: every distance is computed, but no `n x n` matrix is stored. Three scans, in
//! parallel with rayon: the embedding (k-NN of every sample), the data space (its k-NN and
//! the ranks of the embedding's k-NN) and, for continuity and neighbourhood preservation,
//! the embedding again (ranks of the data's k-NN that fall outside the embedding's k-NN).
//! Distances come from a register-tiled kernel (6 queries x 8 rows, vectorised across
//! pairs) in chunks that stay in cache; each chunk is reduced at once to the current k-th
//! smallest distance and to counts of smaller distances (one vectorised pass per key). The
//! data space, where the `n^2 D` work is, computes each unordered pair once and serves both
//! samples while `n * max(2k, 32) <= 2^25`; beyond that, one block of 48 queries at a time.
//! Memory: `O(n (D + E))`, plus `O(n k)` neighbourhood entries (more where distances tie at
//! the k-th neighbour), plus a block's embedding neighbourhoods (on a SOM, every sample that
//! shares a query's unit).

use std::cmp::Ordering;
use std::ops::Range;

use rayon::prelude::*;

use crate::error::{check_at_least, check_len, Error, Result};
use crate::matrix::Matrix;

/// Rows of a packed panel (the SIMD lanes of the distance tile).
const LANES: usize = 8;
/// Query rows per distance tile (6 x 8 accumulators fit the 16 SSE registers).
const ROWS: usize = 6;
/// Query rows per rayon task.
const BLOCK: usize = 8 * ROWS;
/// Rows of the other space per buffered chunk of distances (a `BLOCK x CHUNK` buffer, in L2).
const CHUNK: usize = 1024;
/// Rows per block of the symmetric data-space scan (a multiple of `LANES` and `ROWS`).
const PAIR_BLOCK: usize = 96;
/// Largest `n * max(2k, 32)` (neighbourhood entries held at once, 8 bytes each) for which the
/// data space is scanned symmetrically; above it, one block of queries at a time.
const PAIR_SCAN_MAX_ENTRIES: usize = 1 << 25;
/// Counters with at most this many keys count with one vectorised pass per key.
const VECTOR_KEYS: usize = 32;

/// Trustworthiness `T(k)` of an embedding, exactly as scikit-learn's
/// `sklearn.manifold.trustworthiness(data, embedding, n_neighbors=k, metric="euclidean")`
/// (Venna & Kaski 2001; equal to SOMperf's `trustworthiness` when no distances tie):
///
/// ```text
/// T(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in U_i^k} max(0, r(i, j) - k)
/// ```
///
/// where `U_i^k` are the k nearest neighbours of sample `i` in the embedding and `r(i, j)`
/// is the ordinal rank of `j` among the neighbours of `i` in the input space (1 = nearest,
/// `i` excluded). It penalises points that are close in the embedding but far in the data
/// (false neighbours). In `[0, 1]`; higher is better.
///
/// Ties go to the lowest index in both spaces (see the module documentation). scikit-learn
/// breaks input-space ties by `numpy.argsort`'s default unstable sort and embedding ties by
/// the order of its KD-tree, neither specified; the two agree whenever no distance from a
/// sample ties across a neighbourhood boundary (checked against scikit-learn 1.9.1 on such
/// fixtures). For a SOM embedding (many samples share a unit) the k neighbours of `i` in
/// the embedding are, among the samples at the same smallest distance, those of lowest index.
///
/// # Errors
/// `Shape` if the row counts differ; `TooFew` if `n < 3`; `InvalidParameter` unless
/// `1 <= k < n / 2` (scikit-learn's condition) or if `n` exceeds `u32::MAX`.
pub fn trustworthiness(data: Matrix<'_>, embedding: Matrix<'_>, k: usize) -> Result<f64> {
    scores(data, embedding, k, Wanted { trustworthiness: true, continuity: false, preservation: false }).map(|s| s.trustworthiness)
}

/// Continuity `C(k)` of an embedding (Venna & Kaski 2001): trustworthiness with the
/// roles of the data and the embedding swapped, i.e. exactly
/// `sklearn.manifold.trustworthiness(embedding, data, n_neighbors=k)`:
///
/// ```text
/// C(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i sum_{j in V_i^k} max(0, r^(i, j) - k)
/// ```
///
/// where `V_i^k` are the k nearest neighbours of `i` in the input space and `r^(i, j)` is the
/// ordinal rank of `j` among the neighbours of `i` in the embedding. It penalises neighbours
/// in the data that the embedding pulls apart (missing neighbours). In `[0, 1]`; higher is
/// better. Ties go to the lowest index in both spaces. Without ties it equals
/// [`neighbourhood_preservation`].
///
/// # Errors
/// As [`trustworthiness`].
pub fn continuity(data: Matrix<'_>, embedding: Matrix<'_>, k: usize) -> Result<f64> {
    scores(data, embedding, k, Wanted { trustworthiness: false, continuity: true, preservation: false }).map(|s| s.continuity)
}

/// Neighbourhood preservation `NP(k)` as SOMperf defines it
/// (`somperf.metrics.internal.neighborhood_preservation`, after Venna & Kaski 2001): the
/// continuity formula on min ranks, with SOMperf's weight for tied k-NN sets:
///
/// ```text
/// NP(k) = 1 - 2 / (n k (2n - 3k - 1)) * sum_i w_i sum_{j in A_i, rho^(i, j) > k} (rho^(i, j) - k)
/// A_i = {j != i : rho(i, j) <= k},   B_i = {j != i : rho^(i, j) <= k},   w_i = |B_i| / |A_i|
/// ```
///
/// with `rho` / `rho^` the min ranks (1 + number of strictly closer samples) in the input
/// space / the embedding. Without ties `|A_i| = |B_i| = k` and `NP(k) = C(k)` ([`continuity`]).
/// With ties `A_i` and `B_i` hold every sample tied with the k-th neighbour; the weight then
/// scales the penalty by `|B_i| / |A_i|`, so on a SOM embedding where many samples share a
/// unit `NP` can fall below 0 (SOMperf's behaviour, reproduced as published). No index
/// tie-break is involved: the result does not depend on the order of the samples.
///
/// SOMperf passes the prototypes of the best-matching units (`som[bmu]`, `[n, D]`) as the
/// embedding; pass the grid positions of the units instead to measure the map's own layout.
///
/// # Errors
/// As [`trustworthiness`].
pub fn neighbourhood_preservation(data: Matrix<'_>, embedding: Matrix<'_>, k: usize) -> Result<f64> {
    scores(data, embedding, k, Wanted { trustworthiness: false, continuity: false, preservation: true })
        .map(|s| s.neighbourhood_preservation)
}

/// [`trustworthiness`], [`continuity`] and [`neighbourhood_preservation`] at one `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NeighbourhoodScores {
    /// `T(k)`, scikit-learn's trustworthiness (false neighbours in the embedding).
    pub trustworthiness: f64,
    /// `C(k)`, trustworthiness with the roles swapped (neighbours lost by the embedding).
    pub continuity: f64,
    /// `NP(k)`, SOMperf's neighbourhood preservation (continuity on min ranks, tie weights).
    pub neighbourhood_preservation: f64,
}

/// All three neighbourhood metrics at one `k` in one pass over the `n^2` input distances
/// (about a third of the cost of calling the three functions). Same definitions, tie rules
/// and results as [`trustworthiness`], [`continuity`] and [`neighbourhood_preservation`].
///
/// # Errors
/// As [`trustworthiness`].
pub fn neighbourhood_scores(data: Matrix<'_>, embedding: Matrix<'_>, k: usize) -> Result<NeighbourhoodScores> {
    scores(data, embedding, k, Wanted { trustworthiness: true, continuity: true, preservation: true })
}

/// Which metrics a pass computes (the others are reported as NaN and never returned).
#[derive(Debug, Clone, Copy)]
struct Wanted {
    trustworthiness: bool,
    continuity: bool,
    preservation: bool,
}

/// Checks the inputs: same rows, `n >= 3`, `1 <= k < n / 2`, indices fit `u32`.
fn check(data: Matrix<'_>, embedding: Matrix<'_>, k: usize) -> Result<()> {
    check_len("embedding rows (one per data row)", data.rows(), embedding.rows())?;
    let n = data.rows();
    check_at_least("samples (1 <= k < n / 2 needs n >= 3)", 3, n)?;
    if k == 0 {
        return Err(Error::InvalidParameter { name: "k", reason: "the neighbourhood size must be at least 1" });
    }
    if k >= n.div_ceil(2) {
        return Err(Error::InvalidParameter {
            name: "k",
            reason: "the neighbourhood size must be below n / 2 (Venna & Kaski's normalisation)",
        });
    }
    if u32::try_from(n).is_err() {
        return Err(Error::InvalidParameter { name: "data rows", reason: "at most u32::MAX samples" });
    }
    Ok(())
}

/// Penalty sums of one block of queries: integer rank excesses, SOMperf's weighted sum.
#[derive(Debug, Clone, Copy, Default)]
struct Partial {
    trustworthiness: u64,
    continuity: u64,
    preservation: f64,
}

fn scores(data: Matrix<'_>, embedding: Matrix<'_>, k: usize, wanted: Wanted) -> Result<NeighbourhoodScores> {
    check(data, embedding, k)?;
    // the symmetric scan holds every sample's data neighbourhood at once: only for small k
    let symmetric = data.rows().saturating_mul((2 * k).max(32)) <= PAIR_SCAN_MAX_ENTRIES;
    Ok(scores_checked(data, embedding, k, wanted, symmetric))
}

/// The metrics of checked inputs, with the data-space distances computed once per pair
/// (`symmetric`: all queries at once, memory `O(n k)`) or once per ordered pair (one block
/// of queries at a time, memory `O(BLOCK k)`). Both give bitwise the same result.
fn scores_checked(x: Matrix<'_>, y: Matrix<'_>, k: usize, wanted: Wanted, symmetric: bool) -> NeighbourhoodScores {
    let n = x.rows();
    let (packed_x, packed_y) = (Packed::new(x), Packed::new(y));
    let blocks: Vec<Range<usize>> = (0..n).step_by(BLOCK).map(|s| s..(s + BLOCK).min(n)).collect();
    let keep_data_knn = wanted.continuity || wanted.preservation;

    // 1. embedding, one block of queries at a time (on a SOM B_i holds every sample of the
    //    unit: only a block's lists are alive at once)
    let near_y: Vec<Vec<EmbeddingNeighbours>> = blocks.par_iter().map(|r| embedding_neighbours(&packed_y, y, r.clone(), k)).collect();
    let near_y: Vec<EmbeddingNeighbours> = near_y.into_iter().flatten().collect();

    // 2. data space: ordinal ranks of U_i (trustworthiness) and the data neighbourhood A_i,
    //    whose first k are V_i
    let consumer = |i: usize| {
        let ranks = wanted
            .trustworthiness
            .then(|| Counter::ordinal(near_y[i].first.iter().map(|&j| (sq_dist(x.row(i), x.row(j as usize)), j)).collect()));
        Consumer::new(keep_data_knn.then(|| Candidates::new(k)), ranks, None)
    };
    let finish = |consumers: Vec<Consumer>| {
        let mut trust = 0_u64;
        let near: Vec<Vec<Key>> = consumers
            .into_iter()
            .map(|c| {
                if let Some(r) = &c.ordinal {
                    trust += r.excess_over(k);
                }
                c.into_neighbours()
            })
            .collect();
        (trust, near)
    };
    // 3. embedding ranks of V_i (continuity) and min ranks of A_i (preservation), per block
    let ranks = |r: &Range<usize>, near_x: &[Vec<Key>]| {
        if keep_data_knn {
            embedding_ranks(&packed_y, y, r.clone(), k, wanted, near_x, &near_y[r.clone()])
        } else {
            Partial::default()
        }
    };
    // partial sums collected in block order and added sequentially: the result does not
    // depend on the number of threads
    let parts: Vec<Partial> = if symmetric {
        let mut consumers: Vec<Consumer> = (0..n).map(consumer).collect();
        scan_pairs(&packed_x, x, &mut consumers);
        let (trust, near_x) = finish(consumers);
        let mut parts: Vec<Partial> = blocks.par_iter().map(|r| ranks(r, &near_x[r.clone()])).collect();
        parts.push(Partial { trustworthiness: trust, ..Partial::default() });
        parts
    } else {
        blocks
            .par_iter()
            .map(|r| {
                let mut consumers: Vec<Consumer> = r.clone().map(consumer).collect();
                scan(&packed_x, x, r.clone(), &mut consumers);
                let (trust, near_x) = finish(consumers);
                Partial { trustworthiness: trust, ..ranks(r, &near_x) }
            })
            .collect()
    };
    let total = parts.iter().fold(Partial::default(), |t, p| Partial {
        trustworthiness: t.trustworthiness + p.trustworthiness,
        continuity: t.continuity + p.continuity,
        preservation: t.preservation + p.preservation,
    });

    let (nf, kf) = (n as f64, k as f64);
    // scikit-learn's order of operations: t * (2 / (n k (2n - 3k - 1))), n k an integer
    let scale = 2.0 / ((n * k) as f64 * (2.0 * nf - 3.0 * kf - 1.0));
    let excess = |t: u64| 1.0 - t as f64 * scale;
    // SOMperf's: 2 / (n k (2n - 3k - 1)) * sum, the denominator an integer (exact below 2^53)
    let norm = (n * k) as f64 * (2 * n - 3 * k - 1) as f64;
    let pick = |on: bool, v: f64| if on { v } else { f64::NAN };
    NeighbourhoodScores {
        trustworthiness: pick(wanted.trustworthiness, excess(total.trustworthiness)),
        continuity: pick(wanted.continuity, excess(total.continuity)),
        neighbourhood_preservation: pick(wanted.preservation, 1.0 - 2.0 / norm * total.preservation),
    }
}

/// What the rest of the computation needs of a sample's neighbourhood in the embedding.
struct EmbeddingNeighbours {
    /// `U_i`: the k nearest, ties by index.
    first: Vec<u32>,
    /// The k-th smallest distance.
    kth: f32,
    /// `|B_i|`: samples within the k-th smallest distance (k, or more on ties).
    count: usize,
}

/// [`EmbeddingNeighbours`] of the queries `range`, from one scan of the embedding.
fn embedding_neighbours(packed_y: &Packed, y: Matrix<'_>, range: Range<usize>, k: usize) -> Vec<EmbeddingNeighbours> {
    let mut consumers: Vec<Consumer> = range.clone().map(|_| Consumer::new(Some(Candidates::new(k)), None, None)).collect();
    scan(packed_y, y, range, &mut consumers);
    consumers
        .into_iter()
        .map(|c| {
            let near = c.into_neighbours();
            let kth = near.get(k.saturating_sub(1)).map_or(f32::INFINITY, |e| e.0);
            EmbeddingNeighbours { first: near.iter().take(k).map(|e| e.1).collect(), kth, count: near.len() }
        })
        .collect()
}

/// Continuity and preservation penalties of the queries `range` from one scan of the
/// embedding, given their data neighbourhoods `near_x` (sorted, A_i) and `near_y`.
fn embedding_ranks(
    packed_y: &Packed,
    y: Matrix<'_>,
    range: Range<usize>,
    k: usize,
    wanted: Wanted,
    near_x: &[Vec<Key>],
    near_y: &[EmbeddingNeighbours],
) -> Partial {
    let mut consumers: Vec<Consumer> = Vec::with_capacity(range.len());
    let mut pending = false;
    for ((i, a), b) in range.clone().zip(near_x).zip(near_y) {
        let dist = |j: u32| sq_dist(y.row(i), y.row(j as usize));
        // without ties at the k-th distance, samples within it rank <= k: no excess to count
        let needs_count = |d: f32| d > b.kth || b.count > k;
        let ordinal: Vec<Key> = if wanted.continuity {
            a.iter().take(k).map(|&(_, j)| (dist(j), j)).filter(|&(d, _)| needs_count(d)).collect()
        } else {
            Vec::new()
        };
        // j in B_i (distance <= the k-th) has min rank <= k. (d, 0) as key: (d', l) < (d, 0) iff d' < d.
        let min: Vec<Key> =
            if wanted.preservation { a.iter().map(|&(_, j)| (dist(j), 0)).filter(|&(d, _)| d > b.kth).collect() } else { Vec::new() };
        pending |= !ordinal.is_empty() || !min.is_empty();
        consumers.push(Consumer::new(None, Some(Counter::ordinal(ordinal)), Some(Counter::min_rank(min))));
    }
    if pending {
        scan(packed_y, y, range, &mut consumers);
    }
    let mut part = Partial::default();
    for ((c, a), b) in consumers.iter().zip(near_x).zip(near_y) {
        if let Some(r) = &c.ordinal {
            part.continuity += r.excess_over(k);
        }
        if let (Some(r), true) = (&c.min, wanted.preservation) {
            // w_i = |B_i| / |A_i|; |A_i| >= k >= 1 (the k nearest have min rank <= k)
            let weight = b.count as f64 / a.len().max(1) as f64;
            part.preservation += r.excess_over(k) as f64 * weight;
        }
    }
    part
}

/// A neighbour: squared distance to the query, then index (the tie-break).
type Key = (f32, u32);

/// Total order on keys; distances are never NaN (finite inputs) nor -0.
fn key_cmp(a: &Key, b: &Key) -> Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// `a < b` in the `(distance, index)` order.
#[inline]
fn key_lt(a: Key, b: Key) -> bool {
    a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
}

/// `sum_d (point_d - query_d)^2` in `f32`, in dimension order, saturated at `f32::MAX`:
/// bitwise the value [`tile`] computes for the same pair, so keys built here compare exactly
/// with scanned distances (and `d(i, j) == d(j, i)`).
fn sq_dist(query: &[f32], point: &[f32]) -> f32 {
    let mut acc = 0.0_f32;
    for (&a, &p) in query.iter().zip(point) {
        let t = p - a;
        acc += t * t;
    }
    acc.min(f32::MAX)
}

/// Rows packed in panels of [`LANES`] rows, dimension-major: `panels[p * dim + d][lane]` is
/// coordinate `d` of row `p * LANES + lane` (zero past the last row).
struct Packed {
    panels: Vec<[f32; LANES]>,
    rows: usize,
    dim: usize,
}

impl Packed {
    fn new(m: Matrix<'_>) -> Self {
        let dim = m.cols();
        let mut panels = vec![[0.0_f32; LANES]; m.rows().div_ceil(LANES) * dim];
        for (i, row) in m.iter_rows().enumerate() {
            let (p, lane) = (i / LANES, i % LANES);
            for (slot, &v) in panels[p * dim..(p + 1) * dim].iter_mut().zip(row) {
                slot[lane] = v;
            }
        }
        Self { panels, rows: m.rows(), dim }
    }
}

/// A query coordinate repeated over one SIMD register.
type Splat = [f32; 4];

/// Query rows `range` of `m` in groups of [`ROWS`], dimension-major and splatted, into
/// `packed`: `[g * dim + d][r]` is coordinate `d` of query `g * ROWS + r`, four times.
fn pack_queries_into(m: Matrix<'_>, range: Range<usize>, packed: &mut Vec<[Splat; ROWS]>) {
    let dim = m.cols();
    // no clear: rows past the end keep stale (finite) values whose distances are never read
    packed.resize(range.len().div_ceil(ROWS) * dim, [[0.0_f32; 4]; ROWS]);
    for (local, i) in range.enumerate() {
        let (g, r) = (local / ROWS, local % ROWS);
        for (slot, &v) in packed[g * dim..(g + 1) * dim].iter_mut().zip(m.row(i)) {
            slot[r] = [v; 4];
        }
    }
}

/// Squared distances of [`ROWS`] queries to one panel of [`LANES`] rows: every pair summed
/// in dimension order (vectorised across pairs, so bitwise [`sq_dist`]). Not inlined: its
/// code generation (registers for the 6 x 8 accumulators) stays the same for every caller.
#[inline(never)]
fn tile(panel: &[[f32; LANES]], queries: &[[Splat; ROWS]]) -> [[f32; LANES]; ROWS] {
    let mut acc = [[0.0_f32; LANES]; ROWS];
    for (p, q) in panel.iter().zip(queries) {
        for (acc_r, a) in acc.iter_mut().zip(q) {
            for (acc_h, p_h) in acc_r.chunks_exact_mut(4).zip(p.chunks_exact(4)) {
                for ((s, &x), &a) in acc_h.iter_mut().zip(p_h).zip(a) {
                    let t = x - a;
                    *s += t * t;
                }
            }
        }
    }
    for v in acc.iter_mut().flatten() {
        *v = v.min(f32::MAX);
    }
    acc
}

/// Streams the distances between the queries `range` (rows of `queries`, the matrix `space`
/// packs) and every row of `space` to `consumers[local]`, [`CHUNK`] rows at a time; the
/// query's distance to itself is replaced by NaN, which no comparison accepts.
fn scan(space: &Packed, queries: Matrix<'_>, range: Range<usize>, consumers: &mut [Consumer]) {
    let dim = space.dim;
    let mut packed = Vec::new();
    pack_queries_into(queries, range.clone(), &mut packed);
    const PANELS: usize = CHUNK / LANES;
    let mut buf = vec![[0.0_f32; LANES]; range.len().div_ceil(ROWS) * ROWS * PANELS];
    let n_panels = space.rows.div_ceil(LANES);
    for first in (0..n_panels).step_by(PANELS) {
        let last = (first + PANELS).min(n_panels);
        for (pp, panel) in space.panels[first * dim..last * dim].chunks_exact(dim).enumerate() {
            for (g, group) in packed.chunks_exact(dim).enumerate() {
                let acc = tile(panel, group);
                for (r, row) in acc.iter().enumerate() {
                    if let Some(dst) = buf.get_mut((g * ROWS + r) * PANELS + pp) {
                        *dst = *row;
                    }
                }
            }
        }
        let base = first * LANES;
        let len = (space.rows - base).min(CHUNK);
        for ((i, c), row) in range.clone().zip(consumers.iter_mut()).zip(buf.chunks_exact_mut(PANELS)) {
            let row = &mut row.as_flattened_mut()[..len];
            if let Some(own) = i.checked_sub(base).and_then(|o| row.get_mut(o)) {
                *own = f32::NAN;
            }
            c.consume(row, base);
        }
    }
}

/// Buffers of one [`pair`] task, reused across the tasks of a rayon job.
#[derive(Default)]
struct Scratch {
    queries: Vec<[Splat; ROWS]>,
    dist: Vec<[f32; LANES]>,
    transposed: Vec<f32>,
}

/// Streams every distance of `space` (the packed rows of `m`) to `consumers[i]`, computing
/// each pair once: blocks of [`PAIR_BLOCK`] rows are paired in rounds of disjoint pairs (the
/// circle method), each pair's distances going to both blocks' consumers in parallel.
fn scan_pairs(space: &Packed, m: Matrix<'_>, consumers: &mut [Consumer]) {
    for round in round_robin(space.rows.div_ceil(PAIR_BLOCK)) {
        let mut slots: Vec<Option<&mut [Consumer]>> = consumers.chunks_mut(PAIR_BLOCK).map(Some).collect();
        let mut tasks = Vec::with_capacity(round.len());
        for (a, b) in round {
            let rows = slots.get_mut(a).and_then(Option::take);
            let cols = if a == b { None } else { slots.get_mut(b).and_then(Option::take) };
            if let Some(rows) = rows {
                tasks.push((a, b, rows, cols));
            }
        }
        tasks.into_par_iter().for_each_init(Scratch::default, |s, (a, b, rows, cols)| pair(space, m, a, b, rows, cols, s));
    }
}

/// Rounds of disjoint block pairs covering every unordered pair once: first the diagonal
/// `(a, a)`, then the circle method's `m - 1` rounds (`m` = blocks rounded up to even).
fn round_robin(blocks: usize) -> Vec<Vec<(usize, usize)>> {
    let mut rounds = vec![(0..blocks).map(|a| (a, a)).collect::<Vec<_>>()];
    let m = blocks + blocks % 2; // block `blocks` is a dummy when odd
    for r in 0..m.saturating_sub(1) {
        let at = |i: usize| if i == 0 { 0 } else { (i - 1 + r) % (m - 1) + 1 };
        rounds.push((0..m / 2).map(|i| (at(i), at(m - 1 - i))).filter(|&(a, b)| a < blocks && b < blocks).collect());
    }
    rounds
}

/// Distances between the rows of blocks `a` (queries) and `b` (panels), given to the
/// consumers of `a` row by row and, transposed, to those of `b`; on the diagonal (`a == b`)
/// only to `a`, with each query's distance to itself replaced by NaN.
fn pair(space: &Packed, m: Matrix<'_>, a: usize, b: usize, rows: &mut [Consumer], cols: Option<&mut [Consumer]>, s: &mut Scratch) {
    let dim = space.dim;
    let ra = a * PAIR_BLOCK..a * PAIR_BLOCK + rows.len();
    let rb = b * PAIR_BLOCK..((b + 1) * PAIR_BLOCK).min(space.rows);
    let width = rb.len().div_ceil(LANES);
    pack_queries_into(m, ra.clone(), &mut s.queries);
    // every entry is written below
    s.dist.resize(ra.len().div_ceil(ROWS) * ROWS * width, [0.0; LANES]);
    let panels = &space.panels[rb.start / LANES * dim..(rb.start / LANES + width) * dim];
    for (g, group) in s.queries.chunks_exact(dim).enumerate() {
        for (pp, panel) in panels.chunks_exact(dim).enumerate() {
            for (r, row) in tile(panel, group).iter().enumerate() {
                if let Some(dst) = s.dist.get_mut((g * ROWS + r) * width + pp) {
                    *dst = *row;
                }
            }
        }
    }
    for (r, (c, row)) in rows.iter_mut().zip(s.dist.chunks_exact_mut(width)).enumerate() {
        let row = &mut row.as_flattened_mut()[..rb.len()];
        if a == b {
            if let Some(own) = row.get_mut(r) {
                *own = f32::NAN;
            }
        }
        c.consume(row, rb.start);
    }
    if let Some(cols) = cols {
        let h = ra.len();
        // every entry is written below, in 8 x 8 blocks: contiguous writes of 8 values
        // instead of strided single stores
        s.transposed.resize(rb.len() * h, 0.0);
        for r0 in (0..h).step_by(LANES) {
            let rn = LANES.min(h - r0);
            for pp in 0..width {
                let mut block = [[0.0_f32; LANES]; LANES];
                for (i, dst) in block.iter_mut().enumerate().take(rn) {
                    if let Some(src) = s.dist.get((r0 + i) * width + pp) {
                        *dst = *src;
                    }
                }
                for lane in 0..LANES.min(rb.len() - pp * LANES) {
                    let at = (pp * LANES + lane) * h + r0;
                    if let Some(dst) = s.transposed.get_mut(at..at + rn) {
                        for (d, row) in dst.iter_mut().zip(&block) {
                            *d = row[lane];
                        }
                    }
                }
            }
        }
        for (c, col) in cols.iter_mut().zip(s.transposed.chunks_exact(h)) {
            c.consume(col, ra.start);
        }
    }
}

/// Smallest non-NaN value of `xs` (`+inf` if none), over eight independent lanes so that it
/// vectorises (`if v < m { v } else { m }` is exactly `minps`).
#[inline]
fn lowest(xs: &[f32]) -> f32 {
    let mut m = [f32::INFINITY; 8];
    let chunks = xs.chunks_exact(8);
    let tail = chunks.remainder();
    for c in chunks {
        for (m, &v) in m.iter_mut().zip(c) {
            *m = if v < *m { v } else { *m };
        }
    }
    tail.iter().chain(&m).fold(f32::INFINITY, |m, &v| if v < m { v } else { m })
}

/// What one query collects during a scan.
struct Consumer {
    /// Neighbourhood: every row within the k-th smallest distance.
    candidates: Option<Candidates>,
    /// Ordinal ranks of given keys.
    ordinal: Option<Counter>,
    /// Min ranks of given distances.
    min: Option<Counter>,
}

impl Consumer {
    fn new(candidates: Option<Candidates>, ordinal: Option<Counter>, min: Option<Counter>) -> Self {
        Self { candidates, ordinal, min }
    }

    /// Distances `row[j]` to rows `base + j`.
    fn consume(&mut self, row: &[f32], base: usize) {
        if let Some(c) = self.candidates.as_mut() {
            c.consume(row, base);
        }
        if let Some(r) = self.ordinal.as_mut() {
            r.consume(row, base);
        }
        if let Some(r) = self.min.as_mut() {
            r.consume(row, base);
        }
    }

    fn into_neighbours(self) -> Vec<Key> {
        self.candidates.map(Candidates::finish).unwrap_or_default()
    }
}

/// The rows whose distance is at most the k-th smallest distance seen, with ties.
///
/// Keeps every offered row with `d <= threshold`; when the buffer reaches `limit` it keeps
/// only the rows within the current k-th smallest distance, which becomes the threshold.
/// The threshold never drops below the final k-th smallest distance, so no row of the final
/// neighbourhood is ever discarded. Amortised O(1) per offer; runs of 16 distances above the
/// threshold are skipped with one vectorised minimum.
struct Candidates {
    k: usize,
    limit: usize,
    threshold: f32,
    items: Vec<Key>,
}

impl Candidates {
    fn new(k: usize) -> Self {
        let limit = (2 * k).max(32);
        Self { k, limit, threshold: f32::INFINITY, items: Vec::with_capacity(limit) }
    }

    fn consume(&mut self, row: &[f32], base: usize) {
        for (c, run) in row.chunks(16).enumerate() {
            if lowest(run) > self.threshold {
                continue;
            }
            for (j, &d) in run.iter().enumerate() {
                if d <= self.threshold {
                    self.items.push((d, (base + c * 16 + j) as u32)); // < n <= u32::MAX (checked)
                    if self.items.len() >= self.limit {
                        self.compact();
                    }
                }
            }
        }
    }

    fn compact(&mut self) {
        if self.items.len() < self.k || self.k == 0 {
            return;
        }
        let (_, kth, _) = self.items.select_nth_unstable_by(self.k - 1, key_cmp);
        let t = kth.0;
        self.items.retain(|c| c.0 <= t);
        self.threshold = t;
        self.limit = self.limit.max(2 * self.items.len());
    }

    /// Every row within the k-th smallest distance, sorted by `(distance, index)`: the first
    /// k are the ordinal k-NN, all of them the min-rank k-NN (rank <= k).
    fn finish(mut self) -> Vec<Key> {
        self.compact();
        self.items.sort_unstable_by(key_cmp);
        self.items
    }
}

/// For sorted keys `q_m`, counts the consumed rows below each: `(d_l, l) < q_m` (ordinal
/// ranks, ties by index) or `d_l < q_m.0` (min ranks).
struct Counter {
    keys: Vec<Key>,
    /// Direct counts (at most [`VECTOR_KEYS`] keys: one vectorised pass per key).
    below: Vec<u64>,
    /// Counts by difference (more keys: one binary search per row under the largest key):
    /// `hits[m]` rows are below `q_m` but not below `q_{m-1}`.
    hits: Vec<u64>,
    min_rank: bool,
}

impl Counter {
    fn ordinal(keys: Vec<Key>) -> Self {
        Self::new(keys, false)
    }

    fn min_rank(keys: Vec<Key>) -> Self {
        Self::new(keys, true)
    }

    fn new(mut keys: Vec<Key>, min_rank: bool) -> Self {
        keys.sort_unstable_by(key_cmp);
        let m = keys.len();
        Self { keys, below: vec![0; m], hits: vec![0; m], min_rank }
    }

    fn consume(&mut self, row: &[f32], base: usize) {
        let Some(&(top, _)) = self.keys.last() else { return };
        let lo = lowest(row);
        if lo > top {
            return;
        }
        if self.keys.len() <= VECTOR_KEYS {
            for (&(v, idx), below) in self.keys.iter().zip(self.below.iter_mut()) {
                if v < lo {
                    continue; // every row is farther than this key
                }
                // ordinal: rows of lower index than the key's count when tied
                let split = if self.min_rank { 0 } else { (idx as usize).saturating_sub(base).min(row.len()) };
                let (before, after) = row.split_at(split);
                let n_le: u32 = before.iter().map(|&x| u32::from(x <= v)).sum();
                let n_lt: u32 = after.iter().map(|&x| u32::from(x < v)).sum();
                *below += u64::from(n_le + n_lt);
            }
        } else {
            for (j, &x) in row.iter().enumerate() {
                if x <= top {
                    let key = (x, (base + j) as u32);
                    let m = if self.min_rank {
                        self.keys.partition_point(|q| q.0 <= x)
                    } else {
                        self.keys.partition_point(|&q| !key_lt(key, q))
                    };
                    if let Some(h) = self.hits.get_mut(m) {
                        *h += 1;
                    }
                }
            }
        }
    }

    /// `sum_m max(0, rank_m - k)` with `rank_m = 1 + #{rows below q_m}`.
    fn excess_over(&self, k: usize) -> u64 {
        let mut from_hits = 0_u64;
        let mut sum = 0_u64;
        for (&b, &h) in self.below.iter().zip(&self.hits) {
            from_hits += h;
            sum += (b + from_hits + 1).saturating_sub(k as u64);
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Row `i`'s other rows sorted by `(distance, index)`, from [`sq_dist`].
    fn sorted_row(m: Matrix<'_>, i: usize) -> Vec<Key> {
        let mut v: Vec<Key> = (0..m.rows()).filter(|&l| l != i).map(|l| (sq_dist(m.row(i), m.row(l)), l as u32)).collect();
        v.sort_by(key_cmp);
        v
    }

    /// Ordinal and min ranks of every row `j != i` among row `i`'s neighbours (`rank[i] = 0`).
    fn ranks(m: Matrix<'_>, i: usize) -> (Vec<usize>, Vec<usize>) {
        let row = sorted_row(m, i);
        let (mut ordinal, mut min) = (vec![0; m.rows()], vec![0; m.rows()]);
        let mut first_of_value = 0;
        for (pos, &(d, j)) in row.iter().enumerate() {
            if pos > 0 && row[pos - 1].0 < d {
                first_of_value = pos;
            }
            ordinal[j as usize] = pos + 1;
            min[j as usize] = first_of_value + 1;
        }
        (ordinal, min)
    }

    /// The three metrics from full sorts, straight from their definitions.
    fn naive(x: Matrix<'_>, y: Matrix<'_>, k: usize) -> NeighbourhoodScores {
        let n = x.rows();
        let (mut t, mut c, mut p) = (0_usize, 0_usize, 0.0_f64);
        for i in 0..n {
            let ((ox, mx), (oy, my)) = (ranks(x, i), ranks(y, i));
            let others = || (0..n).filter(move |&j| j != i);
            t += others().filter(|&j| oy[j] <= k).map(|j| ox[j].saturating_sub(k)).sum::<usize>();
            c += others().filter(|&j| ox[j] <= k).map(|j| oy[j].saturating_sub(k)).sum::<usize>();
            let a = others().filter(|&j| mx[j] <= k).count();
            let b = others().filter(|&j| my[j] <= k).count();
            let excess: usize = others().filter(|&j| mx[j] <= k).map(|j| my[j].saturating_sub(k)).sum();
            p += excess as f64 * b as f64 / a as f64;
        }
        let scale = 2.0 / ((n * k) as f64 * (2.0 * n as f64 - 3.0 * k as f64 - 1.0));
        NeighbourhoodScores {
            trustworthiness: 1.0 - t as f64 * scale,
            continuity: 1.0 - c as f64 * scale,
            neighbourhood_preservation: 1.0 - p * scale,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12
    }

    #[test]
    fn matches_full_sorts_with_and_without_ties() -> Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        // n crosses block (48), pair block (96, four of them at n = 301), tile (6) and panel (8)
        // boundaries; integer grids tie heavily
        for (n, d, e, grid) in [
            (9, 3, 2, false),
            (70, 5, 2, true),
            (131, 6, 3, false),
            (150, 4, 2, true),
            (67, 1, 1, true),
            (301, 9, 2, false),
            (302, 3, 2, true),
        ] {
            let xs: Vec<f32> = (0..n * d).map(|_| if grid { rng.random_range(0..3) as f32 } else { rng.random_range(-1.0..1.0) }).collect();
            let ys: Vec<f32> = (0..n * e).map(|_| if grid { rng.random_range(0..4) as f32 } else { rng.random_range(-1.0..1.0) }).collect();
            let (x, y) = (Matrix::new(&xs, n, d)?, Matrix::new(&ys, n, e)?);
            for k in [1, 2, 5, n.div_ceil(2) - 1].into_iter().filter(|&k| k < n.div_ceil(2)) {
                let fast = neighbourhood_scores(x, y, k)?;
                let all = Wanted { trustworthiness: true, continuity: true, preservation: true };
                let by_block = scores_checked(x, y, k, all, false);
                assert_eq!(format!("{fast:?}"), format!("{by_block:?}"), "symmetric vs by block, n={n} k={k}");
                let slow = naive(x, y, k);
                assert!(close(fast.trustworthiness, slow.trustworthiness), "n={n} k={k}: {fast:?} vs {slow:?}");
                assert!(close(fast.continuity, slow.continuity), "n={n} k={k}: {fast:?} vs {slow:?}");
                let np = fast.neighbourhood_preservation;
                assert!((np - slow.neighbourhood_preservation).abs() <= 1e-9, "n={n} k={k}: {fast:?} vs {slow:?}");
                assert_eq!(trustworthiness(x, y, k)?, fast.trustworthiness);
                assert_eq!(continuity(x, y, k)?, fast.continuity);
                assert_eq!(neighbourhood_preservation(x, y, k)?, np);
            }
        }
        Ok(())
    }

    #[test]
    fn tile_and_single_distances_agree_bitwise() -> Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, d) = (13, 11);
        let mut xs: Vec<f32> = (0..n * d).map(|_| rng.random_range(-10.0..10.0)).collect();
        xs[3] = 3.0e19; // overflows: saturates at f32::MAX in both
        let x = Matrix::new(&xs, n, d)?;
        let packed = Packed::new(x);
        let queries = 2..n;
        let mut groups = Vec::new();
        pack_queries_into(x, queries.clone(), &mut groups);
        for (p, panel) in packed.panels.chunks_exact(d).enumerate() {
            for (g, group) in groups.chunks_exact(d).enumerate() {
                let acc = tile(panel, group);
                for (r, row) in acc.iter().enumerate() {
                    let i = queries.start + g * ROWS + r;
                    for (lane, &got) in row.iter().enumerate() {
                        let l = p * LANES + lane;
                        if l < n && i < n {
                            assert_eq!(got.to_bits(), sq_dist(x.row(i), x.row(l)).to_bits(), "({i}, {l})");
                            assert_eq!(got.to_bits(), sq_dist(x.row(l), x.row(i)).to_bits(), "({l}, {i})");
                        }
                    }
                }
            }
        }
        assert_eq!(sq_dist(x.row(0), x.row(1)), f32::MAX);
        Ok(())
    }

    #[test]
    fn rounds_pair_every_two_blocks_once_and_disjointly() {
        for blocks in 0..9 {
            let mut seen = vec![vec![0; blocks]; blocks];
            for round in round_robin(blocks) {
                let mut busy = vec![false; blocks];
                for (a, b) in round {
                    assert!(!busy[a] && !busy[b], "{blocks} blocks: block used twice in a round");
                    busy[a] = true;
                    busy[b] = true;
                    seen[a.min(b)][a.max(b)] += 1;
                }
            }
            for (a, row) in seen.iter().enumerate() {
                assert!(row[a..].iter().all(|&c| c == 1), "{blocks} blocks: {seen:?}");
            }
        }
    }

    #[test]
    fn candidates_keep_every_tie_of_the_kth_distance() {
        let ds = [5.0, 1.0, 3.0, 3.0, 9.0, 3.0, 0.5, 3.0, 7.0, f32::NAN];
        // the 3rd smallest is 3.0: all four rows at 3.0 stay; NaN (the query itself) never does
        let mut c = Candidates::new(3);
        c.consume(&ds, 100);
        let got: Vec<u32> = c.finish().iter().map(|e| e.1).collect();
        assert_eq!(got, vec![106, 101, 102, 103, 105, 107]);
        // with compactions: 0.5 is seen 10 times, so it alone is the 3rd smallest
        let mut c = Candidates::new(3);
        for b in 0..10 {
            c.consume(&ds, 10 * b);
        }
        let got = c.finish();
        assert_eq!(got.iter().map(|e| e.1).collect::<Vec<_>>(), (0..10).map(|b| 10 * b + 6).collect::<Vec<_>>());
    }

    #[test]
    fn counters_count_rows_below_each_key() {
        let row = [2.0, 1.0, 2.0, f32::NAN, 0.5, 2.0, 3.0];
        // ordinal keys (2.0, 12): rows 10 and 14 (value <= 2, lower index) + row 11, 14 (< 2)
        for n_keys in [1, VECTOR_KEYS + 1] {
            let mut keys = vec![(2.0, 12), (2.0, 15), (0.5, 14), (3.0, 99)];
            keys.extend((0..n_keys.saturating_sub(4)).map(|j| (100.0, 200 + j as u32)));
            let mut c = Counter::ordinal(keys.clone());
            c.consume(&row, 10);
            let mut from_hits = 0;
            let counts: Vec<u64> = c
                .below
                .iter()
                .zip(&c.hits)
                .map(|(&b, &h)| {
                    from_hits += h;
                    b + from_hits
                })
                .collect();
            assert_eq!(&counts[..4], &[0, 3, 4, 6], "{n_keys} keys"); // sorted: (0.5,14), (2,12), (2,15), (3,99)
            let mut m = Counter::min_rank(keys.iter().map(|&(v, _)| (v, 0)).collect());
            m.consume(&row, 10);
            let mut from_hits = 0;
            let counts: Vec<u64> = m
                .below
                .iter()
                .zip(&m.hits)
                .map(|(&b, &h)| {
                    from_hits += h;
                    b + from_hits
                })
                .collect();
            assert_eq!(&counts[..4], &[0, 2, 2, 5], "{n_keys} keys");
        }
    }

    #[test]
    fn identical_spaces_are_perfect_and_scores_are_finite() -> Result<()> {
        let xs = [0.0_f32, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.0, 0.0, 3.0, 3.0];
        let x = Matrix::new(&xs, 7, 2)?;
        for k in 1..=3 {
            let s = neighbourhood_scores(x, x, k)?;
            assert_eq!((s.trustworthiness, s.continuity, s.neighbourhood_preservation), (1.0, 1.0, 1.0));
        }
        let same = Matrix::new(&[2.0_f32; 7], 7, 1)?;
        let s = neighbourhood_scores(x, same, 3)?;
        assert!(s.trustworthiness.is_finite() && s.continuity.is_finite() && s.neighbourhood_preservation.is_finite(), "{s:?}");
        Ok(())
    }
}
