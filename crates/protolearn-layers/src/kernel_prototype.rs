//! The kernel-prototype convolution of paper 003 (Sec. 6.2): a convolution whose kernels are
//! prototypes and whose response is the squared distance between each receptive field and each
//! kernel, computed with two convolutions,
//! `x ⊛ k = (x^2) * 1 - 2 x * k + ||k||^2` (Eq. 24), with stride, padding, dilation and groups.
//! Optional bias `r^2 - x ⊛ k` (an n-ball of radius `r` per kernel), activations (ReLU: inside
//! the ball; softmax over the kernels; sigmoid), hard assignments in the forward pass with the
//! softmax / sigmoid gradients of width `sigma` in the backward pass (Sec. 7.3), an l1 penalty on
//! the biases, and pruning of kernel-prototypes that never win.

use crate::error::{expect_dims, Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// What follows the dissimilarities.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum KernelActivation {
    /// The dissimilarity stack itself (or `r^2 - d` with a bias).
    None,
    /// `max(0, r^2 - d)`: positive inside the n-ball (needs the bias).
    Relu,
    /// `softmax_k(-d / sigma)` over the kernel-prototypes (a soft assignment per position).
    Softmax {
        /// Width `sigma`.
        sigma: f64,
    },
    /// `sigmoid((r^2 - d) / sigma)` (needs the bias).
    Sigmoid {
        /// Width `sigma`.
        sigma: f64,
    },
}

/// Configuration of a kernel-prototype convolution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KernelPrototypeConfig {
    /// Input channels `C`.
    pub in_channels: i64,
    /// Kernel-prototypes `K` (output channels).
    pub prototypes: i64,
    /// Kernel height and width.
    pub kernel: [i64; 2],
    /// Stride.
    pub stride: [i64; 2],
    /// Zero padding.
    pub padding: [i64; 2],
    /// Dilation.
    pub dilation: [i64; 2],
    /// Groups (`C` and `K` divisible by it; each kernel sees `C / groups` channels).
    pub groups: i64,
    /// A learned radius `r_k` per kernel: the output is `r^2 - d`.
    pub bias: bool,
    /// The activation.
    pub activation: KernelActivation,
    /// Hard assignments in the forward pass (one-hot winner for softmax, `r^2 > d` for sigmoid)
    /// with the soft activation's gradient in the backward pass (Sec. 7.3).
    pub hard: bool,
}

impl KernelPrototypeConfig {
    /// Checks sizes, divisibility and that the activation has what it needs.
    pub fn validate(&self) -> Result<()> {
        let invalid = |field, expected: &str, found: String| Err(Error::InvalidConfig { field, expected: expected.into(), found });
        let positive = [
            self.in_channels,
            self.prototypes,
            self.kernel[0],
            self.kernel[1],
            self.stride[0],
            self.stride[1],
            self.dilation[0],
            self.dilation[1],
            self.groups,
        ];
        if let Some(v) = positive.iter().find(|&&v| v < 1) {
            return invalid("kernel-prototype sizes", "channels, prototypes, kernel, stride, dilation, groups >= 1", v.to_string());
        }
        if self.padding.iter().any(|&p| p < 0) {
            return invalid("padding", ">= 0", format!("{:?}", self.padding));
        }
        if self.in_channels % self.groups != 0 || self.prototypes % self.groups != 0 {
            return invalid("groups", "a divisor of in_channels and prototypes", self.groups.to_string());
        }
        match self.activation {
            KernelActivation::Relu | KernelActivation::Sigmoid { .. } if !self.bias => {
                invalid("bias", "true for a ReLU or sigmoid activation (the n-ball radius)", "false".into())
            }
            KernelActivation::Softmax { sigma } | KernelActivation::Sigmoid { sigma } if !(sigma.is_finite() && sigma > 0.0) => {
                invalid("sigma", "finite and > 0", sigma.to_string())
            }
            KernelActivation::None | KernelActivation::Relu if self.hard => {
                invalid("hard", "a softmax or sigmoid activation (their gradients are the surrogate)", "true".into())
            }
            _ => Ok(()),
        }
    }

    /// Builds the layer under `path`: kernels `U(-a, a)` (Glorot, from `rng`), radii 1.
    pub fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<KernelPrototypeConv> {
        self.validate()?;
        let per_group = self.in_channels / self.groups;
        let fan = per_group * self.kernel[0] * self.kernel[1];
        let limit = (6.0 / (fan + fan) as f64).sqrt() as f32;
        let count = self.prototypes * fan;
        let values: Vec<f32> = (0..count).map(|_| rng.random_range(-limit..limit)).collect();
        let start = Tensor::from_slice(&values).view([self.prototypes, per_group, self.kernel[0], self.kernel[1]]).to_device(path.device());
        let kernels = path.var_copy("kernels", &start);
        let radius = self.bias.then(|| path.var_copy("radius", &Tensor::ones([self.prototypes], (Kind::Float, path.device()))));
        Ok(KernelPrototypeConv { kernels, radius, config: *self })
    }
}

impl KernelPrototypeConfig {
    /// The layer on a caller's kernel-prototypes `[K, C / groups, kh, kw]` (and radii `[K]`
    /// with a bias), shared, not copied: gradients flow into them (parameters that live
    /// elsewhere, e.g. in a PyTorch module).
    pub fn layer_on(&self, kernels: &Tensor, radius: Option<&Tensor>) -> Result<KernelPrototypeConv> {
        self.validate()?;
        let want = [self.prototypes, self.in_channels / self.groups, self.kernel[0], self.kernel[1]];
        if kernels.size() != want {
            return Err(Error::Shape { what: "kernel-prototypes", expected: format!("{want:?}"), got: kernels.size() });
        }
        match (self.bias, radius) {
            (true, Some(r)) if r.size() == [self.prototypes] => {}
            (false, None) => {}
            (_, r) => {
                return Err(Error::Shape {
                    what: "kernel-prototype radii",
                    expected: if self.bias {
                        format!("[{}] (the config has a bias)", self.prototypes)
                    } else {
                        "none (the config has no bias)".into()
                    },
                    got: r.map(Tensor::size).unwrap_or_default(),
                })
            }
        }
        Ok(KernelPrototypeConv { kernels: kernels.shallow_clone(), radius: radius.map(Tensor::shallow_clone), config: *self })
    }
}

/// A built kernel-prototype convolution.
#[derive(Debug)]
pub struct KernelPrototypeConv {
    /// Kernel-prototypes `[K, C / groups, kh, kw]`.
    pub kernels: Tensor,
    /// Radii `r_k` `[K]` (with a bias).
    pub radius: Option<Tensor>,
    config: KernelPrototypeConfig,
}

impl KernelPrototypeConv {
    /// The configuration.
    pub fn config(&self) -> &KernelPrototypeConfig {
        &self.config
    }

    fn conv(&self, x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Tensor {
        let c = &self.config;
        x.conv2d(weight, bias, c.stride, c.padding, c.dilation, c.groups)
    }

    /// The dissimilarity stack `d = (x^2) * 1 - 2 x * k + ||k||^2` `[n, K, H', W']`, clamped at 0.
    pub fn distances(&self, x: &Tensor) -> Result<Tensor> {
        self.scaled_distances(x, 1.0)
    }

    /// `s · d` for a scale `s != 0`, clamped at 0 on the side of its sign, in two convolutions
    /// and one pass over the output: `s · ||k||^2 - 2 s x * k` is one convolution whose bias is
    /// `s · ||k||^2`, and `s · ||x̃||^2` of every receptive field is a convolution of `x^2` with
    /// a constant kernel of one output channel per group (shared by that group's kernels), so
    /// that an activation's `1 / sigma` and sign cost no pass of their own.
    fn scaled_distances(&self, x: &Tensor, scale: f64) -> Result<Tensor> {
        let size = expect_dims(x, 4, "kernel-prototype input", "[n, C, H, W]")?;
        if size[1] != self.config.in_channels {
            return Err(Error::Shape {
                what: "kernel-prototype input",
                expected: format!("[n, {}, H, W]", self.config.in_channels),
                got: size,
            });
        }
        let c = &self.config;
        let constant = Tensor::full([c.groups, c.in_channels / c.groups, c.kernel[0], c.kernel[1]], scale, (x.kind(), x.device()));
        let patch_norms = self.conv(&x.square(), &constant, None); // [n, groups, H', W']
        let patch_norms =
            if c.groups == 1 { patch_norms } else { patch_norms.repeat_interleave_self_int(c.prototypes / c.groups, 1, None) };
        let norms = self.kernels.square().sum_dim_intlist([1i64, 2, 3].as_slice(), false, self.kernels.kind()) * scale; // [K]
        let cross = self.conv(x, &(&self.kernels * (-2.0 * scale)), Some(&norms)); // s ||k||^2 - 2 s x * k
        let d = cross + patch_norms;
        Ok(if scale > 0.0 { d.clamp_min(0.0) } else { d.clamp_max(0.0) })
    }

    /// `s · (r^2 - d)` (the margin to the n-ball, scaled), from [`Self::scaled_distances`].
    fn scaled_margin(&self, x: &Tensor, scale: f64) -> Result<Tensor> {
        let negative = self.scaled_distances(x, -scale)?;
        Ok(match &self.radius {
            Some(r) => negative + r.square().view([1, -1, 1, 1]) * scale,
            None => negative,
        })
    }

    /// The layer's output: the dissimilarities, `r^2 - d` with a bias, then the activation; with
    /// `hard`, the forward values are the hard assignment and the gradient the soft one's
    /// (`soft + (hard - soft).detach()`).
    pub fn output(&self, x: &Tensor) -> Result<Tensor> {
        let straight_through = |soft: Tensor, hard: Tensor| &soft + (hard - &soft).detach();
        Ok(match self.config.activation {
            KernelActivation::None if self.radius.is_none() => self.distances(x)?,
            KernelActivation::None => self.scaled_margin(x, 1.0)?,
            KernelActivation::Relu => self.scaled_margin(x, 1.0)?.relu(),
            KernelActivation::Softmax { sigma } => {
                let logits = self.scaled_distances(x, -1.0 / sigma)?; // -d / sigma
                let soft = logits.softmax(1, logits.kind());
                if self.config.hard {
                    let winners = logits.max_dim(1, true).1; // the nearest kernel (first on ties)
                    let hard = Tensor::zeros_like(&soft).scatter_value(1, &winners, 1.0);
                    straight_through(soft, hard)
                } else {
                    soft
                }
            }
            KernelActivation::Sigmoid { sigma } => {
                let margin = self.scaled_margin(x, 1.0 / sigma)?;
                let soft = margin.sigmoid();
                if self.config.hard {
                    let hard = margin.gt(0.0).to_kind(margin.kind());
                    straight_through(soft, hard)
                } else {
                    soft
                }
            }
        })
    }

    /// The l1 penalty `sum_k |r_k|` on the radii (0 without a bias).
    pub fn bias_l1(&self) -> Tensor {
        match &self.radius {
            Some(r) => r.abs().sum(Kind::Float),
            None => Tensor::zeros([], (Kind::Float, self.kernels.device())),
        }
    }

    /// How often each kernel-prototype is the nearest one at some position of `x` (`[K]`).
    pub fn win_counts(&self, x: &Tensor) -> Result<Vec<i64>> {
        let _guard = tch::no_grad_guard();
        let winners = crate::distance::argmin(&self.distances(x)?, 1).flatten(0, -1);
        Ok(Vec::<i64>::try_from(winners.bincount(None::<Tensor>, self.config.prototypes).to_device(tch::Device::Cpu))?)
    }

    /// A copy under `path` that keeps only the kernel-prototypes that win at least once on `x`
    /// (groups must be 1: pruning changes the channel count of a group).
    pub fn pruned(&self, path: &nn::Path, x: &Tensor) -> Result<KernelPrototypeConv> {
        if self.config.groups != 1 {
            return Err(Error::InvalidConfig { field: "groups", expected: "1 to prune".into(), found: self.config.groups.to_string() });
        }
        let keep: Vec<i64> = self.win_counts(x)?.iter().enumerate().filter(|(_, &c)| c > 0).map(|(k, _)| k as i64).collect();
        let index = Tensor::from_slice(&keep).to_device(self.kernels.device());
        let _guard = tch::no_grad_guard();
        let kernels = path.var_copy("kernels", &self.kernels.index_select(0, &index));
        let radius = self.radius.as_ref().map(|r| path.var_copy("radius", &r.index_select(0, &index)));
        Ok(KernelPrototypeConv { kernels, radius, config: KernelPrototypeConfig { prototypes: keep.len() as i64, ..self.config } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use tch::Device;

    fn config(groups: i64, stride: i64, padding: i64, dilation: i64) -> KernelPrototypeConfig {
        KernelPrototypeConfig {
            in_channels: 2,
            prototypes: 4,
            kernel: [2, 3],
            stride: [stride, stride],
            padding: [padding, padding],
            dilation: [dilation, dilation],
            groups,
            bias: false,
            activation: KernelActivation::None,
            hard: false,
        }
    }

    fn input() -> Tensor {
        let v: Vec<f32> = (0..2 * 2 * 6 * 7).map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0).collect();
        Tensor::from_slice(&v).view([2, 2, 6, 7])
    }

    /// Distances by explicit patches: `im2col`, then `||patch - k||^2` per group.
    fn unfolded(layer: &KernelPrototypeConv, x: &Tensor) -> Tensor {
        let c = layer.config();
        let (n, g) = (x.size()[0], c.groups);
        let cols = x.im2col(c.kernel, c.dilation, c.padding, c.stride); // [n, C*kh*kw, L]
        let per = c.in_channels / g * c.kernel[0] * c.kernel[1];
        let kpg = c.prototypes / g;
        let parts: Vec<Tensor> = (0..g)
            .map(|j| {
                let patches = cols.narrow(1, j * per, per).transpose(1, 2); // [n, L, per]
                let k = layer.kernels.narrow(0, j * kpg, kpg).reshape([kpg, per]); // [kpg, per]
                (patches.unsqueeze(2) - k.view([1, 1, kpg, per])).square().sum_dim_intlist(-1, false, Kind::Float)
                // [n, L, kpg]
            })
            .collect();
        Tensor::cat(&parts, 2).transpose(1, 2).reshape([n, c.prototypes, -1])
    }

    #[test]
    fn equals_explicit_patch_distances_with_stride_padding_dilation_groups() {
        let x = input();
        for (groups, stride, padding, dilation) in [(1, 1, 0, 1), (1, 2, 1, 1), (2, 1, 2, 2), (2, 2, 0, 1), (1, 1, 1, 2)] {
            let vs = nn::VarStore::new(Device::Cpu);
            let layer = config(groups, stride, padding, dilation).build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(0)).unwrap();
            let d = layer.distances(&x).unwrap();
            let (h, w) = (d.size()[2], d.size()[3]);
            let expected = unfolded(&layer, &x).view([2, 4, h, w]);
            // Float32 expansion vs direct differences of terms ~10: 1e-4 absolute.
            assert!(d.allclose(&expected, 1e-4, 1e-4, false), "groups {groups} stride {stride} padding {padding} dilation {dilation}");
        }
    }

    #[test]
    fn hard_assignments_carry_the_soft_gradients() {
        let x = input();
        for activation in [KernelActivation::Softmax { sigma: 2.0 }, KernelActivation::Sigmoid { sigma: 2.0 }] {
            let soft_cfg = KernelPrototypeConfig { bias: true, activation, ..config(1, 1, 0, 1) };
            let vs = nn::VarStore::new(Device::Cpu);
            let soft = soft_cfg.build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
            let hard = KernelPrototypeConv {
                kernels: soft.kernels.shallow_clone(),
                radius: soft.radius.as_ref().map(Tensor::shallow_clone),
                config: KernelPrototypeConfig { hard: true, ..soft_cfg },
            };
            let weights = Tensor::arange(4, (Kind::Float, Device::Cpu)).view([1, 4, 1, 1]);
            let grad = |layer: &KernelPrototypeConv| {
                let out = layer.output(&x).unwrap();
                Tensor::run_backward(&[(out * &weights).sum(Kind::Float)], &[&soft.kernels], false, false).pop().unwrap()
            };
            assert!(grad(&soft).allclose(&grad(&hard), 1e-6, 1e-6, false), "{activation:?}: same gradients");
            let values = hard.output(&x).unwrap();
            let binary = values.eq(0.0).logical_or(&values.eq(1.0)).all().int64_value(&[]) == 1;
            assert!(binary, "{activation:?}: hard forward values are 0/1");
            if let KernelActivation::Softmax { .. } = activation {
                assert!(values.sum_dim_intlist(1, false, Kind::Float).eq(1.0).all().int64_value(&[]) == 1, "one winner per position");
            }
        }
    }

    #[test]
    fn pruning_keeps_the_winners_and_bad_configs_are_errors() {
        let x = input();
        let vs = nn::VarStore::new(Device::Cpu);
        let layer = config(1, 1, 0, 1).build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(2)).unwrap();
        let _ = tch::no_grad(|| layer.kernels.get(3).fill_(100.0)); // far from every patch
        let counts = layer.win_counts(&x).unwrap();
        assert_eq!(counts[3], 0);
        let pruned = layer.pruned(&(vs.root() / "pruned"), &x).unwrap();
        assert_eq!(pruned.kernels.size()[0], counts.iter().filter(|&&c| c > 0).count() as i64);
        assert!(config(3, 1, 0, 1).validate().is_err(), "groups must divide the channels");
        assert!(
            KernelPrototypeConfig { activation: KernelActivation::Relu, ..config(1, 1, 0, 1) }.validate().is_err(),
            "ReLU needs the radius"
        );
        assert!(KernelPrototypeConfig { hard: true, ..config(1, 1, 0, 1) }.validate().is_err());
        assert!(layer.distances(&x.narrow(1, 0, 1)).is_err(), "wrong channel count");
    }
}
