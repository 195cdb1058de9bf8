//! Build script shared by the crates that link libtorch (layers, train, experiments).
//!
//! torch-sys tells the linker where libtorch is, but two things are left to us:
//! 1. an rpath to `$LIBTORCH/lib`, so tests and binaries started by plain `cargo test` /
//!    `cargo run` find `libtorch_cpu.so` without `LD_LIBRARY_PATH` (new dtags: a
//!    `LD_LIBRARY_PATH` set by the user still wins, e.g. on a GPU machine with its own torch);
//! 2. `libtorch_cuda.so` kept as a needed library: no Rust symbol refers to it, so the linker's
//!    `--as-needed` drops it and `tch::Cuda::is_available()` then reports false on a GPU machine.

use std::path::PathBuf;

/// Emits the rpath and the libtorch_cuda link arguments (see the file header).
pub fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    // protolearn-data links libtorch only with its optional `tch` feature.
    if std::env::var("CARGO_PKG_NAME").as_deref() == Ok("protolearn-data") && std::env::var_os("CARGO_FEATURE_TCH").is_none() {
        return;
    }
    println!("cargo:rerun-if-changed=../../build/link_libtorch.rs");
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        return;
    };
    let lib = libtorch.join("lib");
    if !lib.is_dir() {
        return;
    }
    println!("cargo:rustc-link-arg=-Wl,--enable-new-dtags");
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").is_file() {
        println!("cargo:rustc-link-arg=-L{}", lib.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
