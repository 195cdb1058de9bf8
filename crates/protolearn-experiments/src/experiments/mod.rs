//! The experiments run by bench-all, in order.

pub mod competitive;
pub mod datasets;
pub mod head_analysis;
pub mod image_sets;
pub mod paper000_madelon;
pub mod paper000_synthetic;
pub mod paper001_ddcl;
pub mod paper002_desom;
pub mod paper002_sweeps;
pub mod paper003_kernel;
pub mod paper003_lvq;
pub mod paper003_reject;
pub mod paper003_relevance;
pub mod paper003_toy;
pub mod paper004_sequences;
pub mod paper004_table1;
pub mod significance;

use crate::context::RunContext;
use crate::report::Section;

/// An experiment: a name for `--only` and the function that runs it.
pub struct Experiment {
    /// Name used by `--only` and as the output subfolder.
    pub name: &'static str,
    /// Runs it.
    pub run: fn(&RunContext) -> anyhow::Result<Section>,
}

/// Every experiment, in the order bench-all runs them.
pub const ALL: &[Experiment] = &[
    Experiment { name: "datasets", run: datasets::run },
    Experiment { name: "paper000_synthetic", run: paper000_synthetic::run },
    Experiment { name: "paper000_madelon", run: paper000_madelon::run },
    Experiment { name: "paper002_desom", run: paper002_desom::run },
    Experiment { name: "paper002_sweeps", run: paper002_sweeps::run },
    Experiment { name: "paper004_table1", run: paper004_table1::run },
    Experiment { name: "paper001_ddcl", run: paper001_ddcl::run },
    Experiment { name: "paper003_lvq", run: paper003_lvq::run },
    Experiment { name: "paper003_kernel", run: paper003_kernel::run },
    Experiment { name: "paper003_relevance", run: paper003_relevance::run },
    Experiment { name: "paper003_reject", run: paper003_reject::run },
    Experiment { name: "paper003_toy", run: paper003_toy::run },
    Experiment { name: "paper004_sequences", run: paper004_sequences::run },
];
