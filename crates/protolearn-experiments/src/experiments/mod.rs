//! The experiments run by bench-all, in order.

pub mod competitive;
pub mod datasets;
pub mod head_analysis;
pub mod heads;
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
pub mod results;
pub mod significance;

use crate::context::RunContext;
use crate::report::Section;

/// An experiment: a name for `--only` and the function that runs it.
pub struct Experiment {
    /// Name used by `--only` and as the output subfolder.
    pub name: &'static str,
    /// Whether `bench-all --preset quick` runs it without `--only` (the default run: under 30
    /// minutes on 2 CPU cores); the others' quick presets run with `--only` (README).
    pub in_default_quick: bool,
    /// Runs it.
    pub run: fn(&RunContext) -> anyhow::Result<Section>,
}

/// Every experiment, in the order bench-all runs them.
pub const ALL: &[Experiment] = &[
    Experiment { name: "datasets", in_default_quick: true, run: datasets::run },
    Experiment { name: "paper000_synthetic", in_default_quick: true, run: paper000_synthetic::run },
    Experiment { name: "paper000_madelon", in_default_quick: true, run: paper000_madelon::run },
    Experiment { name: "paper002_desom", in_default_quick: true, run: paper002_desom::run },
    Experiment { name: "paper002_sweeps", in_default_quick: false, run: paper002_sweeps::run },
    Experiment { name: "paper004_table1", in_default_quick: false, run: paper004_table1::run },
    Experiment { name: "paper001_ddcl", in_default_quick: false, run: paper001_ddcl::run },
    Experiment { name: "paper003_lvq", in_default_quick: false, run: paper003_lvq::run },
    Experiment { name: "paper003_kernel", in_default_quick: false, run: paper003_kernel::run },
    Experiment { name: "paper003_relevance", in_default_quick: true, run: paper003_relevance::run },
    Experiment { name: "paper003_reject", in_default_quick: true, run: paper003_reject::run },
    Experiment { name: "paper003_toy", in_default_quick: true, run: paper003_toy::run },
    Experiment { name: "paper004_sequences", in_default_quick: true, run: paper004_sequences::run },
];
