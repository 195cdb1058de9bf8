//! protolearn-train
