//! The dissimilarities of the LVQ heads (paper 003, Secs. 2 and 4): squared Euclidean, the
//! Omega dissimilarity of GMLVQ (global or one matrix per prototype), the relevance vector of
//! GRLVQ, and the projection and nonlinear projection distances. All of them are computed with
//! the one distance kernel on transformed inputs, so they are clamped at zero.

use crate::distance::squared_euclidean;
use crate::error::{expect_dims, Error, Result};
use crate::missing::{observed_differences, observed_mask, squared_euclidean_masked, squared_euclidean_observed, zero_missing, Components};
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// The nonlinearity `phi` of the nonlinear projection distance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Activation {
    /// `max(0, u)`.
    Relu,
    /// `tanh(u)`.
    Tanh,
    /// `1 / (1 + e^-u)`.
    Sigmoid,
}

impl Activation {
    fn apply(self, u: &Tensor) -> Tensor {
        match self {
            Activation::Relu => u.relu(),
            Activation::Tanh => u.tanh(),
            Activation::Sigmoid => u.sigmoid(),
        }
    }
}

/// Which dissimilarity `d(x, w)` a head uses (paper 003, Eqs. 6, 11, 14, 15).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum DissimilarityConfig {
    /// `||x - w||^2` (GLVQ, RSLVQ).
    SquaredEuclidean,
    /// `(x - w)^T Omega^T Omega (x - w)`, `Omega` `[dim, d]` learned (GMLVQ, Eq. 6). With
    /// `trace_normalize`, `Omega` is divided by `sqrt(tr(Omega^T Omega))`, so that
    /// `Lambda = Omega^T Omega` has trace 1 (Sec. 8, "feature importance").
    Omega {
        /// Rows of `Omega` (`d` for a full-rank metric).
        dim: i64,
        /// Normalise `tr(Lambda) = 1`.
        trace_normalize: bool,
    },
    /// One `Omega_k` per prototype: `(x - w_k)^T Omega_k^T Omega_k (x - w_k)` (local GMLVQ).
    LocalOmega {
        /// Rows of each `Omega_k`.
        dim: i64,
        /// Normalise every `tr(Lambda_k) = 1`.
        trace_normalize: bool,
    },
    /// `sum_j lambda_j (x_j - w_j)^2` with `lambda_j >= 0`, `sum_j lambda_j = 1` (GRLVQ):
    /// `lambda = r^2 / ||r||^2` of a learned vector `r`.
    Relevance,
    /// `||Omega x - w||^2`: prototypes live in the `dim`-dimensional projection (Eq. 14, a
    /// fully connected layer followed by a Euclidean head).
    Projection {
        /// Size of the projection (and of the prototypes).
        dim: i64,
    },
    /// `||phi(Omega x - b) - w||^2` (Eq. 15).
    NonlinearProjection {
        /// Size of the projection.
        dim: i64,
        /// The nonlinearity `phi`.
        activation: Activation,
    },
}

/// A built dissimilarity with its learned parameters.
#[derive(Debug)]
pub enum Dissimilarity {
    /// `||x - w||^2`.
    SquaredEuclidean,
    /// Global `Omega` `[m, d]`.
    Omega {
        /// `[m, d]`.
        omega: Tensor,
        /// Trace normalisation.
        normalize: bool,
    },
    /// `Omega_k` `[k, m, d]`.
    LocalOmega {
        /// `[k, m, d]`.
        omega: Tensor,
        /// Trace normalisation.
        normalize: bool,
    },
    /// Relevance vector `r` `[d]`.
    Relevance {
        /// `[d]`; `lambda = r^2 / ||r||^2`.
        raw: Tensor,
    },
    /// Projection `Omega` `[m, d]`, optional bias and nonlinearity.
    Projection {
        /// `[m, d]`.
        omega: Tensor,
        /// `[m]` (nonlinear projection only).
        bias: Option<Tensor>,
        /// `phi` (nonlinear projection only).
        activation: Option<Activation>,
    },
}

/// `Omega / sqrt(tr(Omega^T Omega))` over the last two dimensions (a zero matrix stays zero).
fn trace_normalized(omega: &Tensor) -> Tensor {
    let norm = omega.square().sum_dim_intlist([-2i64, -1].as_slice(), true, omega.kind()).sqrt().clamp_min(f64::from(f32::MIN_POSITIVE));
    omega / norm
}

/// `sqrt(lambda) = |r| / ||r||` of GRLVQ's relevance vector `r`.
fn relevance_scale(raw: &Tensor) -> Tensor {
    raw.abs() / raw.square().sum(raw.kind()).sqrt().clamp_min(f64::from(f32::MIN_POSITIVE))
}

/// `eye(m, d)`, the starting `Omega` (GMLVQ starts from the Euclidean metric), scaled to trace 1
/// when normalised.
fn identity_like(m: i64, d: i64, device: tch::Device) -> Tensor {
    Tensor::eye_m(m, d, (Kind::Float, device))
}

impl DissimilarityConfig {
    /// The dimension of the prototypes for inputs of dimension `d`.
    pub fn prototype_dim(&self, d: i64) -> i64 {
        match *self {
            DissimilarityConfig::Projection { dim } | DissimilarityConfig::NonlinearProjection { dim, .. } => dim,
            _ => d,
        }
    }

    /// Builds the parameters under `path` for inputs of dimension `d` and `k` prototypes:
    /// `Omega` starts at `eye(dim, d)` (the Euclidean metric restricted to `dim` features), the
    /// relevances uniform, a nonlinear projection's bias at zero.
    pub fn build(&self, path: &nn::Path, d: i64, k: i64) -> Result<Dissimilarity> {
        let check = |dim: i64| {
            if dim < 1 {
                Err(Error::InvalidConfig { field: "dissimilarity.dim", expected: "at least 1".into(), found: dim.to_string() })
            } else {
                Ok(())
            }
        };
        let device = path.device();
        Ok(match *self {
            DissimilarityConfig::SquaredEuclidean => Dissimilarity::SquaredEuclidean,
            DissimilarityConfig::Omega { dim, trace_normalize } => {
                check(dim)?;
                Dissimilarity::Omega { omega: path.var_copy("omega", &identity_like(dim, d, device)), normalize: trace_normalize }
            }
            DissimilarityConfig::LocalOmega { dim, trace_normalize } => {
                check(dim)?;
                let start = identity_like(dim, d, device).unsqueeze(0).repeat([k, 1, 1]);
                Dissimilarity::LocalOmega { omega: path.var_copy("omega", &start), normalize: trace_normalize }
            }
            DissimilarityConfig::Relevance => {
                Dissimilarity::Relevance { raw: path.var_copy("relevance", &Tensor::ones([d], (Kind::Float, device))) }
            }
            DissimilarityConfig::Projection { dim } => {
                check(dim)?;
                Dissimilarity::Projection { omega: path.var_copy("omega", &identity_like(dim, d, device)), bias: None, activation: None }
            }
            DissimilarityConfig::NonlinearProjection { dim, activation } => {
                check(dim)?;
                Dissimilarity::Projection {
                    omega: path.var_copy("omega", &identity_like(dim, d, device)),
                    bias: Some(path.zeros("bias", &[dim])),
                    activation: Some(activation),
                }
            }
        })
    }
}

impl Dissimilarity {
    /// The map applied to the inputs before the Euclidean kernel of a projection head (`x` as is
    /// otherwise): `phi(x Omega^T - b)` or `x Omega^T`.
    ///
    /// # Shapes
    /// `x`: `[n, d]` → `[n, m]` (projection) or `[n, d]`.
    pub fn project(&self, x: &Tensor) -> Tensor {
        match self {
            Dissimilarity::Projection { omega, bias, activation } => {
                let u = x.matmul(&omega.tr());
                let u = match bias {
                    Some(b) => u - b,
                    None => u,
                };
                match activation {
                    Some(a) => a.apply(&u),
                    None => u,
                }
            }
            _ => x.shallow_clone(),
        }
    }

    /// `d(x_i, w_k)` for every sample and prototype, clamped at 0.
    ///
    /// # Shapes
    /// `x`: `[n, d]`, `w`: `[k, d']` (`d' = d`, or the projection size) → `[n, k]`.
    pub fn distances(&self, x: &Tensor, w: &Tensor) -> Result<Tensor> {
        expect_dims(x, 2, "LVQ input", "[n, d]")?;
        expect_dims(w, 2, "LVQ prototypes", "[k, d]")?;
        Ok(self.distances_unchecked(x, w, Components::All))
    }

    /// Whether the dissimilarity compares inputs and prototypes component by component, so that
    /// it can leave missing input components out ([`Components::Observed`]); a projection head
    /// maps every input component into each of its own and cannot.
    pub fn compares_components(&self) -> bool {
        !matches!(self, Dissimilarity::Projection { .. })
    }

    /// [`Dissimilarity::distances`] without the shape checks (for `nn::Module::forward`), over
    /// `components` of `x`: with [`Components::Observed`], the difference `x - w` has its missing
    /// components zeroed and is rescaled by `sqrt(d / d_i)` before the metric
    /// ([`crate::missing::observed_differences`]; for the Euclidean and relevance metrics, the
    /// same in three GEMMs by [`squared_euclidean_observed`]). Projection heads ignore
    /// `components` (see [`Dissimilarity::compares_components`]).
    pub(crate) fn distances_unchecked(&self, x: &Tensor, w: &Tensor, components: Components) -> Tensor {
        if components == Components::Observed {
            match self {
                Dissimilarity::SquaredEuclidean => return squared_euclidean_observed(x, w),
                Dissimilarity::Relevance { raw } => {
                    let scale = relevance_scale(raw);
                    return squared_euclidean_masked(&(zero_missing(x) * &scale), &observed_mask(x), &(w * &scale));
                }
                Dissimilarity::Omega { omega, normalize } => {
                    let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() }; // [m, d]
                    let diff = observed_differences(x, w).matmul(&omega.tr()); // [n, k, m]
                    return diff.square().sum_dim_intlist(-1, false, Kind::Float);
                }
                Dissimilarity::LocalOmega { omega, normalize } => {
                    let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() }; // [k, m, d]
                    let diff = Tensor::einsum("nkd,kmd->nkm", &[observed_differences(x, w), omega], None::<i64>);
                    return diff.square().sum_dim_intlist(-1, false, Kind::Float);
                }
                Dissimilarity::Projection { .. } => {}
            }
        }
        match self {
            Dissimilarity::SquaredEuclidean => squared_euclidean(x, w),
            Dissimilarity::Omega { omega, normalize } => {
                let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() };
                squared_euclidean(&x.matmul(&omega.tr()), &w.matmul(&omega.tr()))
            }
            Dissimilarity::LocalOmega { omega, normalize } => {
                let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() }; // [k, m, d]
                let xo = x.unsqueeze(0).matmul(&omega.transpose(-2, -1)); // [k, n, m]
                let wo = w.unsqueeze(1).matmul(&omega.transpose(-2, -1)); // [k, 1, m]
                (xo - wo).square().sum_dim_intlist(-1, false, x.kind()).transpose(0, 1)
                // [n, k]
            }
            Dissimilarity::Relevance { raw } => {
                let scale = relevance_scale(raw);
                squared_euclidean(&(x * &scale), &(w * &scale))
            }
            Dissimilarity::Projection { .. } => squared_euclidean(&self.project(x), w),
        }
    }

    /// The relevance matrix `Lambda = Omega^T Omega` `[d, d]` (trace-normalised when the head
    /// normalises; `diag(lambda)` for GRLVQ; `[k, d, d]` for local GMLVQ), for figures and
    /// feature selection. `None` for Euclidean and projection heads.
    pub fn relevance_matrix(&self) -> Option<Tensor> {
        let _guard = tch::no_grad_guard();
        match self {
            Dissimilarity::Omega { omega, normalize } | Dissimilarity::LocalOmega { omega, normalize } => {
                let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() };
                Some(omega.transpose(-2, -1).matmul(&omega))
            }
            Dissimilarity::Relevance { raw } => {
                let lambda = raw.square() / raw.square().sum(Kind::Float).clamp_min(f64::from(f32::MIN_POSITIVE));
                Some(lambda.diag(0))
            }
            _ => None,
        }
    }

    /// The eigenvalue regulariser of GMLVQ (Schneider et al.): `-ln det(Omega Omega^T)` (summed
    /// over prototypes for local GMLVQ), which keeps `Lambda` from collapsing to rank one; add
    /// it with a small weight. `None` for dissimilarities without `Omega`.
    pub fn eigenvalue_penalty(&self) -> Option<Tensor> {
        match self {
            Dissimilarity::Omega { omega, normalize } | Dissimilarity::LocalOmega { omega, normalize } => {
                let omega = if *normalize { trace_normalized(omega) } else { omega.shallow_clone() };
                let gram = omega.matmul(&omega.transpose(-2, -1)); // [.., m, m]
                Some(-gram.logdet().sum(Kind::Float))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn data() -> (Tensor, Tensor) {
        let x = Tensor::from_slice(&[0.0f32, 1.0, 2.0, -1.0, 0.5, 3.0, 1.5, 1.5, -2.0]).view([3, 3]);
        let w = Tensor::from_slice(&[1.0f32, 0.0, 0.0, -1.0, 2.0, 1.0]).view([2, 3]);
        (x, w)
    }

    fn direct(x: &Tensor, w: &Tensor, lambda: &Tensor) -> Tensor {
        let diff = x.unsqueeze(1) - w.unsqueeze(0); // [n, k, d]
        (diff.matmul(lambda) * &diff).sum_dim_intlist(-1, false, Kind::Float)
    }

    #[test]
    fn omega_is_the_quadratic_form_and_identity_omega_is_euclidean() {
        let (x, w) = data();
        let vs = nn::VarStore::new(Device::Cpu);
        let plain = DissimilarityConfig::Omega { dim: 3, trace_normalize: false }.build(&vs.root(), 3, 2).unwrap();
        assert!(plain.distances(&x, &w).unwrap().allclose(&squared_euclidean(&x, &w), 1e-5, 1e-5, false), "Omega = I");
        let Dissimilarity::Omega { omega, .. } = &plain else { unreachable!() };
        tch::no_grad(|| omega.shallow_clone().copy_(&Tensor::from_slice(&[1.0f32, 2.0, 0.0, 0.0, 1.0, -1.0, 3.0, 0.0, 1.0]).view([3, 3])));
        let lambda = omega.tr().matmul(omega);
        assert!(plain.distances(&x, &w).unwrap().allclose(&direct(&x, &w, &lambda), 1e-4, 1e-4, false));
        let normalized = Dissimilarity::Omega { omega: omega.shallow_clone(), normalize: true };
        let l = normalized.relevance_matrix().unwrap();
        assert!((l.trace().double_value(&[]) - 1.0).abs() < 1e-6, "trace normalisation");
        let expected = direct(&x, &w, &lambda) / lambda.trace();
        assert!(normalized.distances(&x, &w).unwrap().allclose(&expected, 1e-4, 1e-4, false));
        assert!(normalized.eigenvalue_penalty().unwrap().isfinite().int64_value(&[]) == 1);
    }

    #[test]
    fn local_relevance_and_projection_match_their_formulas() {
        let (x, w) = data();
        let vs = nn::VarStore::new(Device::Cpu);
        let local = DissimilarityConfig::LocalOmega { dim: 3, trace_normalize: false }.build(&(vs.root() / "local"), 3, 2).unwrap();
        assert!(local.distances(&x, &w).unwrap().allclose(&squared_euclidean(&x, &w), 1e-5, 1e-5, false));
        let Dissimilarity::LocalOmega { omega, .. } = &local else { unreachable!() };
        tch::no_grad(|| omega.get(1).copy_(&(Tensor::eye(3, (Kind::Float, Device::Cpu)) * 2.0)));
        let d = local.distances(&x, &w).unwrap();
        assert!(d.select(1, 1).allclose(&(squared_euclidean(&x, &w).select(1, 1) * 4.0), 1e-5, 1e-5, false), "Omega_2 = 2 I");
        let relevance = DissimilarityConfig::Relevance.build(&(vs.root() / "rel"), 3, 2).unwrap();
        assert!(relevance.distances(&x, &w).unwrap().allclose(&(squared_euclidean(&x, &w) / 3.0), 1e-5, 1e-5, false), "lambda = 1/3");
        let projection =
            DissimilarityConfig::NonlinearProjection { dim: 2, activation: Activation::Relu }.build(&(vs.root() / "p"), 3, 2).unwrap();
        let wp = Tensor::from_slice(&[1.0f32, 0.0, 0.0, 1.0]).view([2, 2]);
        let expected = squared_euclidean(&x.narrow(1, 0, 2).relu(), &wp);
        assert!(projection.distances(&x, &wp).unwrap().allclose(&expected, 1e-5, 1e-5, false));
        assert_eq!(DissimilarityConfig::Projection { dim: 2 }.prototype_dim(3), 2);
        assert!(DissimilarityConfig::Projection { dim: 0 }.build(&(vs.root() / "bad"), 3, 2).is_err());
    }
}
