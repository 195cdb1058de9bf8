//! Topology learned by a competitive layer (paper 000, Sect. II-E and III): CHL edges, Voronoi sets, pruning, components.

use crate::bmu::best_matching_units;
use crate::error::{check_len, Error, Result};
use crate::matrix::Matrix;

/// The Competitive Hebbian Learning graph of a prototype set together with its Voronoi set
/// sizes (paper 000, Sect. II-E: "if two prototypes are the two closest centroids for the
/// same sample, an edge is created between them").
///
/// The adjacency matrix `E` is symmetric, binary and has an empty diagonal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChlGraph {
    n_units: usize,
    adjacency: Vec<bool>,
    voronoi: Vec<usize>,
}

/// Connected components of a graph over prototypes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Components {
    /// Component id of every unit; ids are numbered `0..count` in order of each
    /// component's lowest unit.
    pub labels: Vec<usize>,
    /// Number of components (an isolated unit is a component of its own).
    pub count: usize,
}

/// Builds the CHL graph: for each sample `x`, the edge `{b^1(x), b^2(x)}` between its two
/// closest prototypes (lowest index first on ties), and the Voronoi set sizes
/// `|V_k| = |{x : b^1(x) = k}|` (paper 000, Sect. II-E). A single prototype has no edge;
/// empty data gives no edge and empty Voronoi sets.
///
/// # Errors
/// `TooFew` with no prototype, `Shape` for mismatched dimensions.
pub fn competitive_hebbian(data: Matrix<'_>, prototypes: Matrix<'_>) -> Result<ChlGraph> {
    let k = prototypes.rows();
    let bmus = best_matching_units(data, prototypes)?;
    let mut adjacency = vec![false; k * k];
    let mut voronoi = vec![0_usize; k];
    for b in &bmus {
        let a = b.first.unit;
        voronoi[a] += 1;
        if let Some(s) = b.second {
            adjacency[a * k + s.unit] = true;
            adjacency[s.unit * k + a] = true;
        }
    }
    Ok(ChlGraph { n_units: k, adjacency, voronoi })
}

impl ChlGraph {
    /// Builds the graph from an adjacency computed elsewhere (e.g. on a GPU): `adjacency` is the
    /// row-major `K x K` matrix, symmetrised here with an empty diagonal, `voronoi` the Voronoi set
    /// sizes `|V_k|` (paper 000, Sect. II-E).
    ///
    /// # Errors
    /// `Shape` if `adjacency.len() != K * K` or `voronoi.len() != K`; `InvalidParameter` if `K * K` overflows.
    pub fn from_parts(n_units: usize, adjacency: Vec<bool>, voronoi: Vec<usize>) -> Result<Self> {
        let entries = n_units.checked_mul(n_units).ok_or(Error::InvalidParameter { name: "n_units", reason: "K * K overflows usize" })?;
        check_len("adjacency (K * K entries)", entries, adjacency.len())?;
        check_len("voronoi sizes (one per prototype)", n_units, voronoi.len())?;
        let mut symmetric = adjacency;
        for a in 0..n_units {
            symmetric[a * n_units + a] = false;
            for b in (a + 1)..n_units {
                let linked = symmetric[a * n_units + b] || symmetric[b * n_units + a];
                symmetric[a * n_units + b] = linked;
                symmetric[b * n_units + a] = linked;
            }
        }
        Ok(ChlGraph { n_units, adjacency: symmetric, voronoi })
    }

    /// Number of prototypes `K`.
    pub fn n_units(&self) -> usize {
        self.n_units
    }

    /// Row-major `[K, K]` adjacency matrix `E` (`true` = edge).
    pub fn adjacency(&self) -> &[bool] {
        &self.adjacency
    }

    /// Whether the edge `{a, b}` exists.
    ///
    /// # Errors
    /// `UnitOutOfRange` if `a` or `b >= K`.
    pub fn has_edge(&self, a: usize, b: usize) -> Result<bool> {
        for u in [a, b] {
            if u >= self.n_units {
                return Err(Error::UnitOutOfRange { unit: u, n_units: self.n_units });
            }
        }
        Ok(self.adjacency[a * self.n_units + b])
    }

    /// The edges `(a, b)` with `a < b`, in ascending order.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let k = self.n_units;
        (0..k).flat_map(|a| (a + 1..k).map(move |b| (a, b))).filter(|&(a, b)| self.adjacency[a * k + b]).collect()
    }

    /// Number of (undirected) edges.
    pub fn n_edges(&self) -> usize {
        self.adjacency.iter().filter(|&&e| e).count() / 2
    }

    /// Number of edges at each unit.
    pub fn degrees(&self) -> Vec<usize> {
        self.rows().map(|r| r.iter().filter(|&&e| e).count()).collect()
    }

    /// Voronoi set sizes `|V_k|`: samples whose best-matching unit is `k`.
    pub fn voronoi_counts(&self) -> &[usize] {
        &self.voronoi
    }

    /// Frobenius norm `||E||_F = sqrt(sum_ij E_ij^2) = sqrt(2 * edges)` of the symmetric
    /// adjacency matrix; paper 000, Eq. 21 adds `λ ||E||^2` to the loss.
    pub fn frobenius_norm(&self) -> f64 {
        (2.0 * self.n_edges() as f64).sqrt()
    }

    /// Valid prototypes: those with a non-empty Voronoi set, `|V_k| > 0` (paper 000, Sect. III, Fig. 3).
    pub fn valid_prototypes(&self) -> Vec<bool> {
        self.voronoi.iter().map(|&c| c > 0).collect()
    }

    /// Number of valid prototypes.
    pub fn n_valid(&self) -> usize {
        self.voronoi.iter().filter(|&&c| c > 0).count()
    }

    /// Pruning mask: `true` for prototypes with no edge and an empty Voronoi set, which can be
    /// removed after training (paper 000, Sect. II-E).
    pub fn pruning_mask(&self) -> Vec<bool> {
        self.degrees().into_iter().zip(&self.voronoi).map(|(deg, &c)| deg == 0 && c == 0).collect()
    }

    /// Connected components of the CHL graph (paper 000, Fig. 4); every unit is labelled,
    /// pruned ones as singleton components.
    pub fn connected_components(&self) -> Components {
        let k = self.n_units;
        let mut labels = vec![usize::MAX; k];
        let mut count = 0;
        for start in 0..k {
            if labels[start] != usize::MAX {
                continue;
            }
            labels[start] = count;
            let mut stack = vec![start];
            while let Some(u) = stack.pop() {
                for (v, &edge) in self.adjacency[u * k..(u + 1) * k].iter().enumerate() {
                    if edge && labels[v] == usize::MAX {
                        labels[v] = count;
                        stack.push(v);
                    }
                }
            }
            count += 1;
        }
        Components { labels, count }
    }

    /// Number of connected components that contain at least one unit flagged in `mask`,
    /// e.g. `components_within(&valid_prototypes())` counts the clusters formed by valid
    /// prototypes (paper 000, Fig. 4).
    ///
    /// # Errors
    /// `Shape` if `mask.len() != K`.
    pub fn components_within(&self, mask: &[bool]) -> Result<usize> {
        check_len("mask (one flag per prototype)", self.n_units, mask.len())?;
        let comps = self.connected_components();
        let mut hit = vec![false; comps.count];
        for (&label, &m) in comps.labels.iter().zip(mask) {
            hit[label] |= m;
        }
        Ok(hit.into_iter().filter(|&h| h).count())
    }

    fn rows(&self) -> std::slice::ChunksExact<'_, bool> {
        self.adjacency.chunks_exact(self.n_units.max(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_parts_matches_the_graph_built_from_data() -> Result<()> {
        let data = [0.1f32, 0.4, 0.9, 9.0];
        let protos = [0.0f32, 1.0, 10.0, 100.0];
        let built = competitive_hebbian(Matrix::new(&data, 4, 1)?, Matrix::new(&protos, 4, 1)?)?;
        // One-sided, with a self-loop: from_parts symmetrises and clears the diagonal.
        let mut adjacency = vec![false; 16];
        adjacency[1] = true; // 0-1
        adjacency[2 * 4 + 1] = true; // 2-1
        adjacency[3 * 4 + 3] = true; // self-loop on 3
        let parts = ChlGraph::from_parts(4, adjacency, vec![2, 1, 1, 0])?;
        assert_eq!(parts, built);
        assert!(ChlGraph::from_parts(3, vec![false; 9], vec![0; 2]).is_err());
        assert!(ChlGraph::from_parts(usize::MAX, vec![], vec![]).is_err());
        Ok(())
    }
}
