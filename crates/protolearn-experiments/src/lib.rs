//! protolearn-experiments
