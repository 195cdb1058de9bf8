//! Paper 003, experiment 3 of its issue (Secs. 6.2, 7.3): the small CNN with plain convolutions
//! against the same CNN built from kernel-prototype convolutions, soft and hard, on MNIST and
//! Fashion-MNIST, with their accuracy under FGSM / PGD. The models differ only in their
//! backbone, so this is [`super::paper003_lvq::run_spec`] with its own spec.

use super::paper003_lvq::run_spec;
use crate::context::RunContext;
use crate::report::Section;
use anyhow::Result;

/// The spec shipped with the project.
pub const SPEC: &str = include_str!("../../../../benches/specs/paper003_kernel.toml");

/// Runs the experiment and returns its report section.
pub fn run(ctx: &RunContext) -> Result<Section> {
    run_spec(ctx, "paper003_kernel", SPEC, "Paper 003: kernel-prototype convolutions vs plain convolutions (MNIST, Fashion-MNIST)")
}
