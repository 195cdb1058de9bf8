//! The DDCL model (paper 001): a backbone encoder, a Dual Competitive Layer on the transposed
//! features that outputs the prototypes, and the soft assignment of the features to them.

use super::soft::SoftQuantization;
use crate::autoencoder::{encode_chunked, AutoencoderConfig, Backbone};
use crate::competitive::{CompetitiveConfig, CompetitiveLayer, Dcl, LayerKind};
use crate::error::{expect_dims, Error, Result};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// The variable group of the DCL's weights (`nn::Path::set_group`), so that an optimizer can
/// give them their own learning rate; the backbone's are in group 0.
pub const DCL_GROUP: usize = 1;

/// Which features the DCL takes as its input `Z^T` (`L x N`, `N` fixed at construction).
///
/// Paper 001 only says that the prototypes are "native differentiable outputs of the network";
/// a DCL has a fixed number of inputs `N` (paper 000), and the two choices below are the two ways
/// to fix it for minibatch training. Both are measured in the paper-001 benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DclInput {
    /// The current minibatch (`N` = the batch size): each step's prototypes are combinations of
    /// *that batch's* features. At inference the prototypes come from a fixed reference batch
    /// of `N` training samples or from the running average of the training prototypes.
    Batch,
    /// A fixed reference set of `N` training samples drawn once from the seed, encoded by the
    /// current backbone at every step (with gradient): the prototypes are the same functions of
    /// the network at training and inference time, as paper 000's full-set DCL with the
    /// training set replaced by a fixed subset.
    Reference,
}

/// What the backbone's features go through before the DCL and the soft assignment.
///
/// Paper 001 trains the backbone on `L_q` alone, which is 0 when every sample maps to one point
/// (the trivial solution). [`FeatureNorm::Standardize`] is the mildest remedy we found that
/// rules it out: one scale factor gives the features of a set a fixed total variance, so they
/// cannot shrink (their geometry is otherwise kept), and the temperature acts at a fixed scale.
/// It is ours, not the paper's (which names none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FeatureNorm {
    /// The backbone's features as they are.
    #[default]
    None,
    /// `z <- (z - z̄) sqrt(L / ((1/n) sum_i ||z_i - z̄||^2))` over the set being encoded (the
    /// training batch; the whole set at evaluation): zero mean and total variance `L`, i.e. a
    /// mean variance of 1 per feature (the temperature is in units of it), with gradient through
    /// the statistics. Full-batch training sees the same statistics at both.
    Standardize,
}

/// Smallest mean variance per feature [`FeatureNorm::Standardize`] divides by (float32 epsilon): features
/// that have collapsed to one point stay finite instead of turning into NaN.
pub const MIN_FEATURE_VARIANCE: f64 = f32::EPSILON as f64;

impl FeatureNorm {
    /// Maps points `p` `[k, L]` of the normalised space of the raw features `z` `[n, L]` back to
    /// the raw feature space: `z̄ + s p` with `s = sqrt(total variance of z / L)` for
    /// [`FeatureNorm::Standardize`] (`p` unchanged for [`FeatureNorm::None`]). Nearest-prototype
    /// assignments are the same in both spaces (the map is a translation and one scale).
    pub fn to_raw(self, p: &Tensor, z: &Tensor) -> Tensor {
        match self {
            FeatureNorm::None => p.shallow_clone(),
            FeatureNorm::Standardize => {
                let per_feature = total_variance(z) / z.size().last().copied().unwrap_or(1) as f64;
                z.mean_dim(0, true, z.kind()) + p * per_feature.clamp_min(MIN_FEATURE_VARIANCE).sqrt()
            }
        }
    }

    /// The normalised features of `z` `[n, L]`.
    pub fn apply(self, z: &Tensor) -> Tensor {
        match self {
            FeatureNorm::None => z.shallow_clone(),
            FeatureNorm::Standardize => {
                let centred = z - z.mean_dim(0, true, z.kind());
                let per_feature = total_variance(&centred) / z.size().last().copied().unwrap_or(1) as f64;
                centred / per_feature.clamp_min(MIN_FEATURE_VARIANCE).sqrt()
            }
        }
    }
}

/// Total variance `(1/n) sum_i ||z_i - z̄||^2` of features `[n, L]` (`[]`, with gradient); `z` may
/// already be centred.
pub fn total_variance(z: &Tensor) -> Tensor {
    let kind = z.kind();
    (z - z.mean_dim(0, true, kind)).square().sum_dim_intlist(-1, false, kind).mean(kind)
}

/// Configuration of a DDCL model (paper 001).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DdclConfig {
    /// The backbone: its encoder gives the features `z`, its decoder (if used) the optional
    /// reconstruction term.
    pub backbone: AutoencoderConfig,
    /// Number of prototypes `k` (paper 001: the number of classes, 10 on MNIST).
    pub n_prototypes: i64,
    /// Hidden widths of a deep DCL (tanh, paper 000, Sec. II-E); empty: the linear DCL.
    #[serde(default)]
    pub hidden: Vec<i64>,
    /// A bias on every DCL layer.
    #[serde(default)]
    pub bias: bool,
    /// Where the DCL's input comes from.
    pub dcl_input: DclInput,
    /// `N`: the batch size (with [`DclInput::Batch`]: every training batch must have exactly this
    /// size) or the reference-set size (with [`DclInput::Reference`]); at least `k`. When it
    /// equals the number of training samples, the DCL sees the whole set in its order (paper
    /// 000's DCL, the authors' `P = Z^T W + b`).
    pub dcl_size: i64,
    /// What the features go through before the DCL and the soft assignment.
    #[serde(default)]
    pub feature_norm: FeatureNorm,
}

impl DdclConfig {
    /// Checks `k >= 2`, `N >= k` and the DCL widths.
    pub fn validate(&self) -> Result<()> {
        self.competitive().validate()?;
        if self.dcl_size < self.n_prototypes {
            return Err(Error::InvalidConfig {
                field: "dcl_size",
                expected: format!("at least n_prototypes = {} (the DCL mixes N features into k prototypes)", self.n_prototypes),
                found: self.dcl_size.to_string(),
            });
        }
        Ok(())
    }

    fn competitive(&self) -> CompetitiveConfig {
        CompetitiveConfig {
            kind: LayerKind::Dcl,
            n_prototypes: self.n_prototypes,
            hidden: self.hidden.clone(),
            bias: self.bias,
            batch_size: Some(self.dcl_size),
            ..Default::default()
        }
    }

    /// Builds only the DCL (`N = dcl_size` inputs of `l` features, Glorot weights from `seed`)
    /// under `path/dcl`: the reduced frozen-encoder system of paper 001, whose features are fixed.
    pub fn build_dcl(&self, path: &nn::Path, l: i64, device: tch::Device, seed: u64) -> Result<Dcl> {
        self.validate()?;
        let shape = Tensor::zeros([1, self.dcl_size, l], (Kind::Float, device));
        match self.competitive().build(path, &shape, &[seed])? {
            CompetitiveLayer::Dcl(dcl) => Ok(dcl),
            CompetitiveLayer::Vcl(_) => unreachable!("a DCL config builds a DCL"),
        }
    }

    /// Builds the backbone under `path/ae` and the DCL under `path/dcl` from `seed`, and draws
    /// the reference set (`N` distinct rows of `x`, the training samples) from the same seed; with
    /// `N = n` the reference set is `x` in its order, so that a full-batch DCL's inference
    /// prototypes are its training prototypes.
    ///
    /// # Shapes
    /// `x`: `[n, ...input_shape]`, `n >= N`.
    pub fn build(&self, path: &nn::Path, x: &Tensor, seed: u64) -> Result<Ddcl> {
        self.validate()?;
        let backbone = self.backbone.build(&(path / "ae"), seed)?;
        backbone.check_input(x)?;
        let n = x.size()[0];
        if n < self.dcl_size {
            return Err(Error::InvalidConfig {
                field: "dcl_size",
                expected: format!("at most the {n} training samples"),
                found: self.dcl_size.to_string(),
            });
        }
        let reference = if n == self.dcl_size {
            x.shallow_clone()
        } else {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let rows: Vec<i64> =
                rand::seq::index::sample(&mut rng, n as usize, self.dcl_size as usize).into_iter().map(|i| i as i64).collect();
            x.index_select(0, &Tensor::from_slice(&rows).to_device(x.device()))
        };
        let l = backbone.latent_dim();
        let dcl = self.build_dcl(&path.set_group(DCL_GROUP), l, x.device(), seed)?;
        let running = (path / "ddcl").zeros_no_train("running_prototypes", &[self.n_prototypes, l]);
        Ok(Ddcl { backbone, dcl, input: self.dcl_input, norm: self.feature_norm, reference, running })
    }
}

/// A DDCL model: encoder `z = f(x)`, prototypes `P = DCL(Z_in^T)^T` (`[k, L]`), soft assignment
/// `q_ik = softmax_k(-||z_i - p_k||^2 / tau)` (paper 001).
#[derive(Debug)]
pub struct Ddcl {
    /// The backbone (encoder, optional decoder).
    pub backbone: Box<dyn Backbone>,
    /// The dual competitive layer with `N` inputs and `k` outputs.
    pub dcl: Dcl,
    input: DclInput,
    norm: FeatureNorm,
    reference: Tensor,
    running: Tensor,
}

impl Ddcl {
    /// Where the DCL's input comes from.
    pub fn dcl_input(&self) -> DclInput {
        self.input
    }

    /// What the features go through before the DCL and the soft assignment.
    pub fn feature_norm(&self) -> FeatureNorm {
        self.norm
    }

    /// The features `FeatureNorm::apply(f(x))` `[n, L]` of a batch `x` (with gradient).
    pub fn features(&self, x: &Tensor) -> Result<Tensor> {
        Ok(self.norm.apply(&self.backbone.encode(x)?))
    }

    /// The features of a whole set `x` without gradient, encoded in chunks and normalised over
    /// the set.
    pub fn features_of_set(&self, x: &Tensor) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        Ok(self.norm.apply(&encode_chunked(self.backbone.as_ref(), x)?))
    }

    /// Prototypes `p` `[k, L]` of the normalised space of the set `x` `[n, ...input_shape]` in the
    /// backbone's raw feature space ([`FeatureNorm::to_raw`]), without gradient: what a saved model
    /// compares `f(x)` of new samples with.
    pub fn raw_prototypes(&self, p: &Tensor, x: &Tensor) -> Result<Tensor> {
        if self.norm == FeatureNorm::None {
            return Ok(p.shallow_clone());
        }
        let _guard = tch::no_grad_guard();
        Ok(self.norm.to_raw(p, &encode_chunked(self.backbone.as_ref(), x)?))
    }

    /// The reference samples `[N, ...input_shape]` (the DCL input of [`DclInput::Reference`], and
    /// the inference batch of [`DclInput::Batch`]).
    pub fn reference(&self) -> &Tensor {
        &self.reference
    }

    /// Number of prototypes `k`.
    pub fn n_prototypes(&self) -> i64 {
        self.running.size()[0]
    }

    /// The DCL's input for a training batch with features `z` `[B, L]`: `z` itself
    /// ([`DclInput::Batch`], `B = N` checked) or the encoded reference set (with gradient).
    pub fn dcl_features(&self, z: &Tensor) -> Result<Tensor> {
        match self.input {
            DclInput::Batch => {
                let b = expect_dims(z, 2, "DDCL batch features", "[N, L]")?[0];
                if b != self.dcl.n_inputs() {
                    return Err(Error::Shape {
                        what: "DDCL batch",
                        expected: format!("[{}, L] (the DCL's batch size; drop the last, smaller batch)", self.dcl.n_inputs()),
                        got: z.size(),
                    });
                }
                Ok(z.shallow_clone())
            }
            DclInput::Reference => self.features(&self.reference),
        }
    }

    /// The prototypes `P [k, L]` the DCL outputs for its input features `[N, L]` (with gradient).
    pub fn prototypes_from(&self, features: &Tensor) -> Result<Tensor> {
        self.dcl.prototypes_of(features)
    }

    /// Sets the linear DCL so that its prototypes for the encoded reference samples are `p`
    /// `[k, L]` (e.g. k-means centroids of the pretrained features; see
    /// [`crate::competitive::Dcl::match_prototypes`]).
    pub fn match_prototypes(&self, p: &Tensor) -> Result<()> {
        self.dcl.match_prototypes(&self.features_of_set(&self.reference)?, p)
    }

    /// The inference prototypes from the reference samples, without gradient.
    pub fn reference_prototypes(&self) -> Result<Tensor> {
        let _guard = tch::no_grad_guard();
        self.prototypes_from(&self.features_of_set(&self.reference)?)
    }

    /// The running average of the training prototypes (`[k, L]`; zeros before the first update).
    pub fn running_prototypes(&self) -> &Tensor {
        &self.running
    }

    /// `running <- m running + (1 - m) p` without gradient (`running <- p` when `first`).
    pub fn update_running(&self, p: &Tensor, momentum: f64, first: bool) -> Result<()> {
        let _guard = tch::no_grad_guard();
        let next = if first { p.detach() } else { &self.running * momentum + p.detach() * (1.0 - momentum) };
        self.running.shallow_clone().f_copy_(&next)?;
        Ok(())
    }

    /// The soft quantization terms of a batch `x` `[B, ...input_shape]` against prototypes `p`
    /// at temperature `tau`, with the features `z` `[B, L]`.
    pub fn quantize(&self, z: &Tensor, p: &Tensor, tau: f64) -> Result<SoftQuantization> {
        SoftQuantization::new(z, p, tau)
    }

    /// The nearest prototype of each feature row `[n, L]` (`[n]` int64).
    pub fn assign(z: &Tensor, p: &Tensor) -> Tensor {
        crate::distance::argmin(&crate::distance::squared_euclidean(z, p), -1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autoencoder::DenseConfig;
    use tch::Device;

    fn config(input: DclInput, size: i64) -> DdclConfig {
        DdclConfig {
            backbone: AutoencoderConfig::Dense(DenseConfig { input_dim: 4, hidden: vec![6], latent_dim: 3 }),
            n_prototypes: 3,
            hidden: vec![],
            bias: false,
            dcl_input: input,
            dcl_size: size,
            feature_norm: FeatureNorm::None,
        }
    }

    fn data() -> Tensor {
        Tensor::arange(40, (Kind::Float, Device::Cpu)).view([10, 4]) / 40.0
    }

    #[test]
    fn batch_and_reference_inputs_give_k_prototypes() {
        let x = data();
        for input in [DclInput::Batch, DclInput::Reference] {
            let vs = nn::VarStore::new(Device::Cpu);
            let model = config(input, 5).build(&vs.root(), &x, 3).unwrap();
            assert_eq!(model.reference().size(), vec![5, 4]);
            let z = model.backbone.encode(&x.narrow(0, 0, 5)).unwrap();
            let p = model.prototypes_from(&model.dcl_features(&z).unwrap()).unwrap();
            assert_eq!(p.size(), vec![3, 3]);
            assert_eq!(model.reference_prototypes().unwrap().size(), vec![3, 3]);
            let wrong = model.backbone.encode(&x.narrow(0, 0, 4)).unwrap();
            assert_eq!(model.dcl_features(&wrong).is_err(), input == DclInput::Batch, "{input:?}");
        }
    }

    #[test]
    fn a_reference_set_of_every_sample_keeps_their_order() {
        let x = data();
        let vs = nn::VarStore::new(Device::Cpu);
        let model = config(DclInput::Batch, 10).build(&vs.root(), &x, 5).unwrap();
        assert!(model.reference().equal(&x), "N = n: the whole set in its order");
        let z = model.features(&x).unwrap();
        let trained = model.prototypes_from(&model.dcl_features(&z).unwrap()).unwrap();
        assert!(trained.allclose(&model.reference_prototypes().unwrap(), 1e-6, 1e-6, false), "inference = training prototypes");
    }

    #[test]
    fn standardized_features_have_zero_mean_and_unit_variance_per_feature() {
        let z = Tensor::from_slice(&[1.0f64, 2.0, 3.0, 6.0, 5.0, 10.0]).view([3, 2]) * 1e-3;
        let s = FeatureNorm::Standardize.apply(&z);
        assert!(s.mean_dim(0, false, Kind::Double).abs().max().double_value(&[]) < 1e-12);
        assert!((total_variance(&s).double_value(&[]) - 2.0).abs() < 1e-12, "total variance L = 2");
        assert!(FeatureNorm::None.apply(&z).equal(&z));
        // Back to the raw space: the points themselves, and the same nearest prototypes.
        assert!(FeatureNorm::Standardize.to_raw(&s, &z).allclose(&z, 1e-12, 1e-15, false));
        let p = Tensor::from_slice(&[-1.0f64, -1.0, 1.0, 1.0]).view([2, 2]);
        let raw = FeatureNorm::Standardize.to_raw(&p, &z);
        let nearest = |a: &Tensor, b: &Tensor| crate::distance::argmin(&crate::distance::squared_euclidean(a, b), -1);
        assert!(nearest(&s, &p).equal(&nearest(&z, &raw)));
        // Collapsed features (one point) stay finite.
        let collapsed = FeatureNorm::Standardize.apply(&Tensor::ones([4, 2], (Kind::Float, Device::Cpu)));
        assert_eq!(collapsed.isfinite().all().int64_value(&[]), 1);
        assert_eq!(collapsed.abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn running_average_follows_the_prototypes() {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = config(DclInput::Reference, 5).build(&vs.root(), &data(), 0).unwrap();
        let ones = Tensor::ones([3, 3], (Kind::Float, Device::Cpu));
        model.update_running(&ones, 0.9, true).unwrap();
        model.update_running(&(&ones * 3.0), 0.9, false).unwrap();
        assert!((model.running_prototypes().double_value(&[1, 2]) - 1.2).abs() < 1e-6);
        assert_eq!(vs.trainable_variables().len(), 9, "8 AE tensors (4 layers) + 1 DCL weight; the running average is not trained");
        assert_eq!(vs.variables().len(), 10);
    }

    #[test]
    fn bad_configs_are_clear_errors() {
        let x = data();
        let vs = nn::VarStore::new(Device::Cpu);
        for (cfg, field) in [
            (DdclConfig { n_prototypes: 0, ..config(DclInput::Batch, 5) }, "n_prototypes"),
            (config(DclInput::Batch, 2), "dcl_size"),
            (config(DclInput::Reference, 11), "dcl_size"),
        ] {
            let err = cfg.build(&vs.root(), &x, 0).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }
}
