//! DESOM through the public API on synthetic data: shapes, gradient paths, loss decrease, ConvDESOM.

use protolearn_layers::autoencoder::{AutoencoderConfig, ConvConfig, DenseConfig};
use protolearn_layers::desom::DesomConfig;
use protolearn_layers::som::SomConfig;
use protolearn_metrics::{Boundary, Grid, Lattice};
use protolearn_testkit::{assert_close, Tolerance};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// `per` samples uniform in `[-0.5, 0.5]^20` around each of 4 random centres in `[-3, 3]^20`.
fn blobs(per: usize, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let centres: Vec<Vec<f32>> = (0..4).map(|_| (0..20).map(|_| rng.random_range(-3.0..3.0)).collect()).collect();
    let x: Vec<f32> = centres
        .iter()
        .flat_map(|c| (0..per).map(|_| c.clone()).collect::<Vec<_>>())
        .flat_map(|c| c.into_iter().map(|v| v + rng.random_range(-0.5f32..0.5)).collect::<Vec<_>>())
        .collect();
    Tensor::from_slice(&x).view([-1, 20])
}

fn config(autoencoder: AutoencoderConfig) -> DesomConfig {
    let grid = Grid::new(3, 3, Lattice::Rectangular, Boundary::Bounded).expect("grid");
    DesomConfig {
        autoencoder,
        som: SomConfig { grid, init: Default::default(), neighbourhood: Default::default(), map_distance: Default::default() },
        gamma: 1e-2,
    }
}

fn dense(input_dim: i64) -> AutoencoderConfig {
    AutoencoderConfig::Dense(DenseConfig { input_dim, hidden: vec![16], latent_dim: 3 })
}

fn grad_norm(vs: &nn::VarStore, prefix: &str) -> f64 {
    vs.variables()
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(_, v)| {
            let g = v.grad();
            if g.defined() {
                g.abs().sum(Kind::Double).double_value(&[])
            } else {
                0.0
            }
        })
        .sum()
}

#[test]
fn som_term_trains_encoder_and_prototypes_but_not_decoder() {
    let x = blobs(10, 1);
    let vs = nn::VarStore::new(Device::Cpu);
    let desom = config(dense(20)).build(&vs.root(), &x, 0).expect("build");
    let loss = desom.loss(&x, 1.5).expect("loss");
    let expected = loss.reconstruction.double_value(&[]) + 1e-2 * loss.som.double_value(&[]);
    assert_close("L = L_R + γ L_SOM", loss.total.double_value(&[]), expected, Tolerance::F32_SUM);
    loss.som.backward();
    assert_eq!(grad_norm(&vs, "ae.decoder"), 0.0, "L_SOM does not reach W_d (paper 002, Sec. 3.4)");
    assert!(grad_norm(&vs, "ae.encoder") > 0.0);
    assert!(grad_norm(&vs, "som.weight") > 0.0);
}

#[test]
fn joint_training_lowers_both_terms_on_blobs() {
    let x = blobs(50, 2);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut desom = config(dense(20)).build(&vs.root(), &x, 3).expect("build");
    let mut opt = nn::Adam::default().build(&vs, 1e-2).expect("adam");
    let first = desom.loss(&x, 1.0).expect("loss");
    let (r0, s0) = (first.reconstruction.double_value(&[]), first.som.double_value(&[]));
    for _ in 0..200 {
        opt.backward_step(&desom.loss(&x, 1.0).expect("loss").total);
    }
    let last = desom.loss(&x, 1.0).expect("loss");
    assert!(last.reconstruction.double_value(&[]) < 0.5 * r0, "L_R at least halves");
    assert!(last.som.double_value(&[]) < s0, "L_SOM decreases");
    let bmus = desom.predict(&x).expect("predict");
    assert_eq!(bmus.size(), vec![200]);
    assert!(bmus.max().int64_value(&[]) < 9);
    assert_eq!(desom.decoded_prototypes().expect("decode").size(), vec![9, 20]);
    desom.reinit_prototypes(&x, 5).expect("reinit");
    let z = desom.encode_all(&x).expect("encode"); // [n, 3]
    let to_data = protolearn_layers::distance::squared_euclidean(&desom.som.weight, &z).amin(1, false); // [K]
                                                                                                        // Exactly 0 in exact arithmetic; the GEMM form ||z||^2 - 2 z.w + ||w||^2 in float32 leaves a
                                                                                                        // rounding residue of a few ulps of ||z||^2 (2.4e-7 seen here), whose sign depends on the
                                                                                                        // BLAS kernel the CPU picks.
    assert_close("distance of a re-drawn prototype to its encoded sample", to_data.max().double_value(&[]), 0.0, Tolerance::F32_SUM);
}

#[test]
fn conv_desom_shapes_and_rejects_wrong_input() {
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let pixels: Vec<f32> = (0..6 * 28 * 28).map(|_| rng.random::<f32>()).collect();
    let x = Tensor::from_slice(&pixels).view([6, 1, 28, 28]);
    let conv = ConvConfig { filters: vec![2, 4, 4, 4], latent_dim: 3, ..ConvConfig::default() };
    let vs = nn::VarStore::new(Device::Cpu);
    let desom = config(AutoencoderConfig::Conv(conv)).build(&vs.root(), &x, 0).expect("build");
    assert!(desom.loss(&x, 1.0).expect("loss").total.double_value(&[]).is_finite());
    assert_eq!(desom.predict(&x).expect("predict").size(), vec![6]);
    assert_eq!(desom.decoded_prototypes().expect("decode").size(), vec![9, 1, 28, 28]);
    assert!(desom.loss(&x.view([6, 784]), 1.0).is_err(), "flat input to a conv AE");
}

#[test]
fn config_round_trips_with_paper_defaults() {
    let cfg = config(AutoencoderConfig::default());
    let text = toml::to_string(&cfg).expect("serialise");
    assert_eq!(toml::from_str::<DesomConfig>(&text).expect("parse"), cfg);
    let minimal = "[autoencoder]\nkind = \"dense\"\ninput_dim = 784\nhidden = [500, 500, 2000]\nlatent_dim = 10\n\
                   [som.grid]\nrows = 8\ncols = 8\nlattice = \"rectangular\"\n";
    let parsed: DesomConfig = toml::from_str(minimal).expect("parse");
    assert_eq!(parsed.gamma, 1e-3, "paper 002, Table 2");
    assert_eq!(parsed.autoencoder, AutoencoderConfig::default());
    assert!(toml::from_str::<DesomConfig>(&format!("bogus = 1\n{minimal}")).is_err());
    let bad = DesomConfig { gamma: -1.0, ..cfg };
    let vs = nn::VarStore::new(Device::Cpu);
    assert!(bad.build(&vs.root(), &Tensor::zeros([2, 784], (Kind::Float, Device::Cpu)), 0).is_err());
}

#[test]
fn bf16_losses_stay_float32_near_the_float32_ones_and_train_the_float32_weights() {
    use protolearn_layers::precision::Precision;
    let x = blobs(10, 4);
    let vs = nn::VarStore::new(Device::Cpu);
    let desom = config(dense(20)).build(&vs.root(), &x, 0).expect("build").with_precision(Precision::Bf16);
    let mixed = desom.loss(&x, 1.5).expect("bf16 loss");
    let full = Precision::Fp32.run(|| config(dense(20)).build(&nn::VarStore::new(Device::Cpu).root(), &x, 0).expect("build").loss(&x, 1.5));
    let full = full.expect("fp32 loss");
    assert_eq!(mixed.total.kind(), Kind::Float, "losses are float32");
    // bfloat16 keeps 8 significant bits: a few products deep, the loss moves by about 1%.
    let (m, f) = (mixed.total.double_value(&[]), full.total.double_value(&[]));
    assert!((m - f).abs() <= 0.03 * f.abs(), "bf16 {m} vs fp32 {f}");
    assert!(m != f, "the products did run in bfloat16");
    mixed.total.backward();
    assert!(grad_norm(&vs, "ae.encoder") > 0.0 && grad_norm(&vs, "ae.decoder") > 0.0);
    assert!(vs.variables().values().all(|v| v.kind() == Kind::Float && (!v.grad().defined() || v.grad().kind() == Kind::Float)));
    assert_eq!(Precision::current(), Precision::Fp32, "the scope ended with the loss");
}
