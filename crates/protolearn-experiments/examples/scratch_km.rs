use protolearn_data::{DataDirs, IdxDataset, ImageLayout};
use protolearn_layers::init::PrototypeInit;
use protolearn_layers::kmeans::KMeansConfig;
use std::time::Instant;
use tch::Kind;
fn main() {
    tch::set_num_threads(2);
    let dirs = DataDirs::new(None);
    let data = protolearn_data::mnist::load(IdxDataset::FashionMnist, &dirs, ImageLayout::Flat).unwrap();
    let x = protolearn_data::tensor::Dataset::from_data(&data.train, tch::Device::Cpu).unwrap().x;
    println!("{:?} {:?}", x.size(), x.kind());
    let t = Instant::now();
    let init = PrototypeInit::KMeansPlusPlus.draw(&x.unsqueeze(0), 64, &[1]).unwrap();
    println!("init {:.2}s", t.elapsed().as_secs_f64());
    let c = init.squeeze_dim(0);
    let t = Instant::now();
    for _ in 0..5 {
        let _ = protolearn_layers::distance::squared_euclidean(&x, &c).min_dim(1, false);
    }
    println!("assign {:.1} ms", t.elapsed().as_secs_f64() * 200.0);
    let (_, a) = protolearn_layers::distance::squared_euclidean(&x, &c).min_dim(1, false);
    let t = Instant::now();
    for _ in 0..5 {
        let _ = tch::Tensor::zeros([64, 784], (Kind::Float, x.device())).index_add(0, &a, &x);
    }
    println!("index_add {:.1} ms", t.elapsed().as_secs_f64() * 200.0);
    let t = Instant::now();
    for _ in 0..5 {
        let _ = a.one_hot(64).to_kind(Kind::Float).tr().matmul(&x);
    }
    println!("onehot gemm {:.1} ms", t.elapsed().as_secs_f64() * 200.0);
    for seed in 0..2 {
        let t = Instant::now();
        let fit = KMeansConfig { k: 64, n_init: 1, max_iter: 300, tol: 1e-4, seed }.fit(&x).unwrap();
        println!(
            "fit seed {seed}: {:.2}s inertia {:.0} iterations {}",
            t.elapsed().as_secs_f64(),
            fit.inertia,
            fit.inertia_history.len() - 1
        );
    }
}
