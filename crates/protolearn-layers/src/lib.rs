//! protolearn-layers
