//! The sequence backbones of paper 004, Sec. 4 (LSTM autoencoder, temporal convolutional
//! autoencoder): shapes, causality of the temporal convolutions, NaN padding that changes neither
//! the code nor the loss, and a gradient reaching every parameter.

use protolearn_layers::autoencoder::{AutoencoderConfig, Backbone, LstmConfig, TemporalAutoencoder, TemporalConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Device, Kind, Tensor};

/// Two float32 computations of the same value through different batch layouts (a batched GEMM
/// over 1 or 3 rows) agree to a few ulps of values of order 1.
const SAME: f64 = 1e-5;

/// Random values `[n, t, d]` in `(-1, 1)` from `seed`.
fn series(n: usize, t: usize, d: usize, seed: u64) -> Tensor {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let v: Vec<f32> = (0..n * t * d).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_slice(&v).view([n as i64, t as i64, d as i64])
}

/// `x` with steps `len..` of sample `i` set to NaN.
fn pad(x: &Tensor, i: i64, len: i64) -> Tensor {
    let y = x.copy();
    let steps = x.size()[1];
    let _ = y.get(i).narrow(0, len, steps - len).fill_(f64::NAN);
    y
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

fn lstm(steps: i64, conditional: bool) -> LstmConfig {
    LstmConfig { steps, features: 2, hidden: vec![6, 5], latent_dim: 3, conditional }
}

fn temporal(steps: i64) -> TemporalConfig {
    TemporalConfig { steps, features: 2, filters: vec![4, 5, 6], kernel_size: 3, pool: 2, latent_dim: 3 }
}

fn build(cfg: AutoencoderConfig, seed: u64) -> (nn::VarStore, Box<dyn Backbone>) {
    let vs = nn::VarStore::new(Device::Cpu);
    let b = cfg.build(&vs.root(), seed).expect("build");
    (vs, b)
}

#[test]
fn shapes_and_config_checks() {
    for cfg in [AutoencoderConfig::Lstm(lstm(9, true)), AutoencoderConfig::Lstm(lstm(9, false)), AutoencoderConfig::Temporal(temporal(9))] {
        let (_vs, b) = build(cfg.clone(), 0);
        assert_eq!(b.input_shape(), vec![9, 2]);
        assert_eq!(cfg.input_shape(), vec![9, 2]);
        let x = series(4, 9, 2, 1);
        let z = b.encode(&x).unwrap();
        assert_eq!(z.size(), vec![4, 3]);
        assert_eq!(b.decode(&z).unwrap().size(), vec![4, 9, 2]);
        assert_eq!(b.reconstruct(&x).unwrap().size(), vec![4, 9, 2]);
        assert!(b.encode(&series(4, 8, 2, 1)).is_err(), "wrong length");
        assert!(b.encode(&x.view([4, 18])).is_err(), "flat input");
    }
    let bad = [
        AutoencoderConfig::Lstm(LstmConfig { hidden: vec![], ..lstm(9, false) }),
        AutoencoderConfig::Lstm(LstmConfig { features: 0, ..lstm(9, false) }),
        AutoencoderConfig::Temporal(TemporalConfig { filters: vec![], ..temporal(9) }),
        AutoencoderConfig::Temporal(TemporalConfig { pool: 10, ..temporal(9) }),
        // 6 filters x ceil(9 / 2) = 30 pooled features cannot give a code of 31
        AutoencoderConfig::Temporal(TemporalConfig { latent_dim: 31, ..temporal(9) }),
    ];
    for cfg in bad {
        let vs = nn::VarStore::new(Device::Cpu);
        assert!(cfg.build(&vs.root(), 0).is_err(), "{cfg:?}");
    }
    assert_eq!(temporal(9).bottleneck_features(), 30);
    assert_eq!(temporal(9).receptive_field(), 1 + 2 * 7);
}

#[test]
fn temporal_features_are_causal() {
    let cfg = temporal(20);
    let vs = nn::VarStore::new(Device::Cpu);
    let concrete = TemporalAutoencoder::new(&cfg, &vs.root(), 3).expect("temporal");
    let x = series(2, 20, 2, 5);
    let before = concrete.causal_features(&x).unwrap(); // [2, 6, 20]
    for t0 in [0i64, 7, 18] {
        let changed = x.copy();
        let _ = changed.narrow(1, t0 + 1, 19 - t0).fill_(3.0);
        let after = concrete.causal_features(&changed).unwrap();
        assert_eq!(max_diff(&before.narrow(2, 0, t0 + 1), &after.narrow(2, 0, t0 + 1)), 0.0, "steps <= {t0} read a later input");
        assert!(max_diff(&before.narrow(2, t0 + 1, 1), &after.narrow(2, t0 + 1, 1)) > 0.0, "step {} ignores its own input", t0 + 1);
    }
    // and a change at step t0 reaches at most receptive_field - 1 steps later
    let r = cfg.receptive_field();
    let changed = x.copy();
    let _ = changed.narrow(1, 0, 1).fill_(3.0);
    let after = concrete.causal_features(&changed).unwrap();
    assert_eq!(max_diff(&before.narrow(2, r, 20 - r), &after.narrow(2, r, 20 - r)), 0.0);
}

#[test]
fn lstm_padding_changes_neither_code_nor_loss() {
    for conditional in [false, true] {
        // the LSTM's weights do not depend on T: the same seed gives the same network for 8 and 5 steps
        let (_a, long) = build(AutoencoderConfig::Lstm(lstm(8, conditional)), 7);
        let (_b, short) = build(AutoencoderConfig::Lstm(lstm(5, conditional)), 7);
        let x = series(3, 8, 2, 11);
        let padded = pad(&x, 1, 5); // sample 1 ends after 5 steps
        let alone = x.narrow(0, 1, 1).narrow(1, 0, 5); // [1, 5, 2]
        let z_batch = long.encode(&padded).unwrap();
        let z_alone = short.encode(&alone).unwrap();
        assert!(max_diff(&z_batch.narrow(0, 1, 1), &z_alone) < SAME, "code of the padded sample");
        assert!(z_batch.isfinite().all().int64_value(&[]) == 1);
        let one = padded.narrow(0, 1, 1);
        let loss_padded = long.reconstruction_loss(&long.encode(&one).unwrap(), &one).unwrap().double_value(&[]);
        let loss_alone = short.reconstruction_loss(&z_alone, &alone).unwrap().double_value(&[]);
        assert!((loss_padded - loss_alone).abs() < SAME, "conditional {conditional}: {loss_padded} vs {loss_alone}");
        // the reconstruction of the padded sample matches the short network's on its 5 steps
        let r_long = long.reconstruct(&one).unwrap().narrow(1, 0, 5);
        let r_short = short.reconstruct(&alone).unwrap();
        assert!(max_diff(&r_long, &r_short) < SAME);
    }
}

#[test]
fn temporal_loss_ignores_padded_steps() {
    let (_vs, b) = build(AutoencoderConfig::Temporal(temporal(10)), 2);
    let x = pad(&series(2, 10, 2, 4), 0, 6);
    let z = b.encode(&x).unwrap();
    assert!(z.isfinite().all().int64_value(&[]) == 1, "NaN padding leaked into the code");
    let loss = b.reconstruction_loss(&z, &x).unwrap().double_value(&[]);
    // by hand: sample 0 on its 6 valid steps, sample 1 on all 10
    let y = b.decode(&z).unwrap();
    let err = |i: i64, len: i64| (y.get(i).narrow(0, 0, len) - x.get(i).narrow(0, 0, len)).square().sum(Kind::Double).double_value(&[]);
    let by_hand = (err(0, 6) + err(1, 10)) / (16.0 * 2.0);
    assert!((loss - by_hand).abs() < SAME * by_hand.max(1.0), "{loss} vs {by_hand}");
    // a different padded sample with the same valid steps gives the same code
    let other = x.copy();
    let _ = other.get(1).fill_(0.5);
    assert!(max_diff(&b.encode(&other).unwrap().get(0), &z.get(0)) < SAME);
}

#[test]
fn gradients_reach_every_parameter() {
    let configs =
        [AutoencoderConfig::Lstm(lstm(6, true)), AutoencoderConfig::Lstm(lstm(6, false)), AutoencoderConfig::Temporal(temporal(6))];
    for cfg in configs {
        let (vs, b) = build(cfg.clone(), 9);
        let x = pad(&series(4, 6, 2, 3), 2, 4);
        let z = b.encode(&x).unwrap();
        // L_R plus a term on the code, as DESOM's loss L_R + γ L_SOM
        let loss = b.reconstruction_loss(&z, &x).unwrap() + z.square().mean(Kind::Float);
        loss.backward();
        for (name, var) in vs.variables() {
            let grad = var.grad();
            assert!(grad.defined(), "{cfg:?}: no gradient for {name}");
            assert!(grad.isfinite().all().int64_value(&[]) == 1, "{name}: non-finite gradient");
            assert!(grad.abs().sum(Kind::Float).double_value(&[]) > 0.0, "{name}: zero gradient");
        }
    }
}
