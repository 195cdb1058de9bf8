//! Compiles the C++ shim over c10d (`cpp/c10d_shim.cpp`) against the installed libtorch's
//! headers and Gloo's headers (Debian's libgloo-dev, installed by `cargo xtask setup`), with the
//! C++ ABI of the installed torch, and adds the rpath of the shared libtorch build script.

#[path = "../../build/link_libtorch.rs"]
mod link_libtorch;

use std::path::PathBuf;

fn main() {
    link_libtorch::main();
    println!("cargo:rerun-if-changed=cpp/c10d_shim.cpp");
    for var in ["LIBTORCH", "PROTOLEARN_GLOO_INCLUDE", "LIBTORCH_CXX11_ABI"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let Some(libtorch) = std::env::var_os("LIBTORCH").map(PathBuf::from) else {
        panic!("LIBTORCH is not set: run `cargo xtask setup` (it installs libtorch into .libtorch/ and .cargo/config.toml points LIBTORCH there)");
    };
    let gloo = std::env::var_os("PROTOLEARN_GLOO_INCLUDE").map(PathBuf::from).unwrap_or_else(|| libtorch.join("../../gloo/include"));
    if !gloo.join("gloo/context.h").is_file() {
        panic!(
            "Gloo's headers are not in {} (libtorch ships Gloo's library but not its headers): run `cargo xtask setup`, \
             which installs them from Debian's libgloo-dev, or set PROTOLEARN_GLOO_INCLUDE",
            gloo.display()
        );
    }
    let abi = std::env::var("LIBTORCH_CXX11_ABI").unwrap_or_else(|_| "1".to_owned());
    cc::Build::new()
        .cpp(true)
        .std("c++17")
        .file("cpp/c10d_shim.cpp")
        .include(libtorch.join("include"))
        .include(libtorch.join("include/torch/csrc/api/include"))
        .include(&gloo)
        .define("USE_C10D_GLOO", None)
        .define("_GLIBCXX_USE_CXX11_ABI", abi.as_str())
        .warnings(false)
        .flag_if_supported("-w")
        .compile("protolearn_c10d");
}
