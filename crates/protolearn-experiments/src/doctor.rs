//! `protolearn doctor`: libtorch as seen from a binary linked against it.

/// Whether `libtorch_cuda.so` is mapped into this process (i.e. kept linked).
fn cuda_library_loaded() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|maps| maps.contains("libtorch_cuda.so"))
}

/// Prints the libtorch view of the machine; returns whether everything needed is there.
pub fn run() -> bool {
    let cuda_linked = cuda_library_loaded();
    println!("libtorch_cuda    {}", if cuda_linked { "linked and loaded" } else { "NOT loaded (CPU only)" });
    println!("CUDA available   {}", tch::Cuda::is_available());
    println!("CUDA devices     {}", tch::Cuda::device_count());
    println!("cuDNN            {}", tch::Cuda::cudnn_is_available());
    println!("MKL              {}", tch::utils::has_mkl());
    println!("OpenMP           {}", tch::utils::has_openmp());
    println!("threads          {}", tch::get_num_threads());
    println!("device (auto)    {:?}", tch::Device::cuda_if_available());
    let probe = tch::Tensor::from_slice(&[1.0f32, 2.0, 3.0]).sum(tch::Kind::Float).double_value(&[]);
    let works = (probe - 6.0).abs() < 1e-6;
    println!("tensor probe     {}", if works { "ok (1+2+3 = 6)" } else { "FAILED" });
    works
}
