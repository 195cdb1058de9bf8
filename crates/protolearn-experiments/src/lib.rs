//! The experiments of the source papers: specs (TOML under `benches/specs/`) → runs → results,
//! figures and a Markdown reproduction report. The `protolearn` binary drives them
//! (`protolearn bench-all`, usually through `cargo xtask bench-all`) and fits models on files of
//! your own (`protolearn fit`, `predict`, `inspect`; [`own_data`]).

pub mod compare;
pub mod context;
pub mod doctor;
pub mod experiments;
pub mod gpu_check;
pub mod overrides;
pub mod own_data;
pub mod progress;
pub mod pytorch;
pub mod report;
pub mod scale;
pub mod speed;
