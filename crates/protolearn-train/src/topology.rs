//! Bridges tensors to the CHL graphs of protolearn-metrics (edges, Voronoi sets, pruning, components).

use crate::error::Result;
use protolearn_layers::distance::squared_euclidean;
use protolearn_layers::loss::{chl_adjacency, voronoi_counts};
use protolearn_metrics::ChlGraph;
use tch::{Device, Kind, Tensor};

/// CHL graphs of prototypes `[r, k, d]` on data `[r, n, d]`, one per replica.
pub fn chl_graphs(x: &Tensor, prototypes: &Tensor) -> Result<Vec<ChlGraph>> {
    let _guard = tch::no_grad_guard();
    let dist = squared_euclidean(x, prototypes);
    graphs_from_tensors(&chl_adjacency(&dist), &voronoi_counts(&dist))
}

/// CHL graphs from an adjacency `[r, k, k]` (0/1) and Voronoi counts `[r, k]`.
pub(crate) fn graphs_from_tensors(adjacency: &Tensor, counts: &Tensor) -> Result<Vec<ChlGraph>> {
    let size = adjacency.size();
    let (replicas, k) = (size[0], size[1] as usize);
    let adjacency = Vec::<f32>::try_from(adjacency.to_kind(Kind::Float).to_device(Device::Cpu).flatten(0, -1))?;
    let counts = Vec::<i64>::try_from(counts.to_device(Device::Cpu).flatten(0, -1))?;
    (0..replicas as usize)
        .map(|r| {
            let edges = adjacency[r * k * k..(r + 1) * k * k].iter().map(|&v| v > 0.0).collect();
            let voronoi = counts[r * k..(r + 1) * k].iter().map(|&c| c.max(0) as usize).collect();
            Ok(ChlGraph::from_parts(k, edges, voronoi)?)
        })
        .collect()
}
