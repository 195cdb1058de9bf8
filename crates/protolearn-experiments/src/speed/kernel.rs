//! The kernel-prototype CNN of paper 003 (Secs. 6.2, 7.3) on MNIST against its PyTorch twin:
//! two 3x3 kernel-prototype convolutions of 32 and 64 kernels, each with a softmax over the
//! kernel-prototypes (soft, or hard: one-hot winner forward, the softmax's gradient backward),
//! 2x2 max-pooling, a dense layer to 64 features, the softmax linear head, Adam 1e-3, batches
//! of 128; training seconds per epoch (evaluation outside the clock), test accuracy after.

use super::{idx_folder, mean, python, Comparison, Side, SpeedConfig};
use anyhow::{Context, Result};
use protolearn_data::mnist::load;
use protolearn_data::tensor::Dataset;
use protolearn_data::{IdxDataset, ImageLayout};
use protolearn_layers::autoencoder::{encode_chunked, AutoencoderConfig, CnnConfig, ConvLayer};
use protolearn_layers::kernel_prototype::KernelActivation;
use protolearn_train::classifier::Classifier;
use protolearn_train::lvq::{fit_softmax, LvqTrainConfig};
use protolearn_train::observer::Silent;
use protolearn_train::optim::{OptimizerConfig, OptimizerKind};
use serde::Deserialize;
use tch::{Device, Kind};

/// One PyTorch run, as the script prints it.
#[derive(Debug, Clone, Deserialize)]
struct TorchRun {
    version: String,
    seconds_per_epoch: f64,
    test_accuracy: f64,
}

/// One comparison per layer kind (soft, hard), runs alternating between the sides seed by seed.
pub(super) fn compare(config: &SpeedConfig) -> Result<Vec<Comparison>> {
    let data = load(IdxDataset::Mnist, &config.dirs, ImageLayout::Image)?;
    let train = Dataset::from_data(&data.train, Device::Cpu)?;
    let samples = config.kernel_samples.min(train.n_samples()) as i64;
    let train = Dataset::new(train.x.narrow(0, 0, samples), train.y.as_ref().map(|y| y.narrow(0, 0, samples)))?;
    let test = Dataset::from_data(&data.test, Device::Cpu)?;
    let folder = idx_folder(config, IdxDataset::Mnist)?;
    let epochs = config.kernel_epochs;
    let mut comparisons = Vec::new();
    for (name, hard) in [("soft", false), ("hard", true)] {
        let layer = ConvLayer::KernelPrototype { activation: KernelActivation::Softmax { sigma: 1.0 }, bias: false, hard };
        let backbone =
            AutoencoderConfig::Cnn(CnnConfig { channels: 1, height: 28, width: 28, filters: vec![32, 64], latent_dim: 64, layer });
        let (mut ours, mut theirs, mut torch_error) = (Vec::new(), Vec::new(), None);
        for seed in 0..config.kernel_seeds {
            println!("  kernel-prototype CNN ({name}): protolearn, {samples} samples x {epochs} epochs, seed {seed}");
            let optimizer = OptimizerConfig { kind: OptimizerKind::Adam, lr: 1e-3 };
            let run = fit_softmax(&train, None, Some(&backbone), 10, &LvqTrainConfig::new(optimizer, 128, epochs, seed), &mut Silent)?;
            let seconds: f64 = run.history.iter().map(|r| r.seconds).sum();
            let net = run.backbone.as_deref().context("the CNN")?;
            let y = test.y.as_ref().context("test labels")?;
            let predicted = tch::no_grad(|| run.head.predict(&encode_chunked(net, &test.x)?))?;
            let accuracy = predicted.eq_tensor(y).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]);
            ours.push((seconds / epochs as f64, accuracy));
            if torch_error.is_some() {
                continue;
            }
            println!("  kernel-prototype CNN ({name}): PyTorch, seed {seed}");
            let (epochs, seed, samples) = (epochs.to_string(), seed.to_string(), samples.to_string());
            let args = ["kernel", "--data", &folder, "--layer", name, "--epochs", &epochs, "--seed", &seed, "--samples", &samples];
            match python::<TorchRun>(config, &["torch"], args.map(str::to_owned).to_vec())? {
                Ok(rows) => theirs.extend(rows),
                Err(why) => torch_error = Some(why),
            }
        }
        let side = |tool: String, setting: &str, runs: &[(f64, f64)]| Side {
            tool,
            setting: setting.to_owned(),
            seconds: runs.iter().map(|r| r.0).collect(),
            quality: vec![("test accuracy (mean)".into(), mean(&runs.iter().map(|r| r.1).collect::<Vec<_>>()))],
        };
        let torch = match torch_error {
            Some(why) => Err(why),
            None => Ok(side(
                format!("PyTorch {}", theirs.first().map(|r| r.version.as_str()).unwrap_or("?")),
                "eager, the same network (`kernel` in the script)",
                &theirs.iter().map(|r| (r.seconds_per_epoch, r.test_accuracy)).collect::<Vec<_>>(),
            )),
        };
        comparisons.push(Comparison {
            task: format!("kernel-prototype CNN, {name}"),
            setup: format!(
                "Paper 003's kernel-prototype CNN (Secs. 6.2, 7.3) on the first {samples} MNIST training images: two 3x3 \
                 kernel-prototype convolutions (32 and 64 kernels, padding 1) with a softmax over the kernel-prototypes \
                 (sigma 1{}), each followed by 2x2 max-pooling, a dense layer to 64 features, a softmax linear head; \
                 Glorot-uniform kernels, Adam 1e-3, shuffled batches of 128, {epochs} epoch(s), seeds 0 to {} alternating \
                 between the sides. Seconds: training seconds per epoch (the test evaluation is outside the clock); test \
                 accuracy on the 10,000 test images after training.",
                if hard { "; hard: the one-hot winner forward, the softmax's gradient backward" } else { "" },
                config.kernel_seeds.saturating_sub(1)
            ),
            target: "at least 1.2x faster than the PyTorch twin".into(),
            ours: side(format!("protolearn {}", env!("CARGO_PKG_VERSION")), "trainer + fused CPU Adam", &ours),
            theirs: vec![torch],
        });
    }
    Ok(comparisons)
}
