//! The LSTM autoencoder of LSTM-DESOM (paper 004, Sec. 4.2, Fig. 5; after Srivastava et al.
//! 2015, paper 004 ref. [16]): a stack of LSTM layers reads the sequence, a linear projection of
//! the top layer's last hidden state is the code; a decoder stack, started from the code, unrolls
//! it over the sequence length and reconstructs the sequence in reverse order, optionally
//! conditioned on the previous target step (teacher forcing) or, when decoding a code alone, on
//! its own previous output.
//!
//! Sequences are `[n, T, D]`, shorter ones padded with NaN at the end (see [`Backbone`]'s
//! `reconstruction_loss`): the encoder's state is frozen at padded steps, so the code is the state
//! after each sequence's last valid step, and the loss averages over valid steps only.

use super::backbone::Backbone;
use super::params::{glorot, Dense};
use super::sequence::Padded;
use crate::error::{Error, Result};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tch::{nn, Kind, Tensor};

/// Sequence shape, layer widths and code size of the LSTM autoencoder (paper 004, Sec. 4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LstmConfig {
    /// Steps `T` of the (padded) sequences.
    pub steps: i64,
    /// Features `D` per step (1 for univariate series).
    pub features: i64,
    /// Hidden widths of the encoder's LSTM layers, input side first; the decoder mirrors them.
    pub hidden: Vec<i64>,
    /// Latent dimension `L` (a linear projection of the top layer's last hidden state).
    pub latent_dim: i64,
    /// Whether the decoder is fed the previous step of the reversed target (paper 004, Sec. 4.2:
    /// "may condition the decoder on the reversed input sequence"; Srivastava et al.'s
    /// conditioned decoder). When decoding a code alone (decoded prototypes) it is fed its own
    /// previous output instead.
    #[serde(default)]
    pub conditional: bool,
}

impl LstmConfig {
    /// Builds `path/encoder/{i}`, `path/encoder/code`, `path/decoder/state/{i}`,
    /// `path/decoder/{i}`, `path/decoder/output`.
    pub(crate) fn build(&self, path: &nn::Path, rng: &mut ChaCha8Rng) -> Result<LstmAutoencoder> {
        if self.hidden.is_empty() {
            return Err(Error::InvalidConfig { field: "hidden", expected: "at least one LSTM layer".into(), found: "[]".into() });
        }
        let sizes = [self.steps, self.features, self.latent_dim];
        if let Some(&bad) = sizes.iter().chain(&self.hidden).find(|&&v| v < 1) {
            return Err(Error::InvalidConfig { field: "LSTM autoencoder sizes", expected: "every size >= 1".into(), found: bad.to_string() });
        }
        let (enc, dec) = (path / "encoder", path / "decoder");
        let ins = std::iter::once(self.features).chain(self.hidden.iter().copied());
        let encoder = ins.zip(&self.hidden).enumerate().map(|(i, (a, &h))| LstmCell::new(&(&enc / i), a, h, rng)).collect::<Result<Vec<_>>>()?;
        let top = self.hidden[self.hidden.len() - 1];
        let to_code = Dense::new(&(&enc / "code"), top, self.latent_dim, rng)?;
        let widths: Vec<i64> = self.hidden.iter().rev().copied().collect();
        let step_input = self.latent_dim + if self.conditional { self.features } else { 0 };
        let dec_ins = std::iter::once(step_input).chain(widths.iter().copied());
        let decoder = dec_ins.zip(&widths).enumerate().map(|(i, (a, &h))| LstmCell::new(&(&dec / i), a, h, rng)).collect::<Result<Vec<_>>>()?;
        let state = &dec / "state";
        let initial = widths.iter().enumerate().map(|(i, &h)| Dense::new(&(&state / i), self.latent_dim, h, rng)).collect::<Result<Vec<_>>>()?;
        let output = Dense::new(&(&dec / "output"), self.hidden[0], self.features, rng)?;
        Ok(LstmAutoencoder { encoder, to_code, initial, decoder, output, config: self.clone() })
    }
}

/// One LSTM layer `(h_t, c_t) = LSTM(x_t, h_{t-1}, c_{t-1})` with gates in libtorch's order
/// `[input, forget, cell, output]`.
#[derive(Debug)]
struct LstmCell {
    w_ih: Tensor,
    w_hh: Tensor,
    bias: Tensor,
    hidden: i64,
}

impl LstmCell {
    /// `inputs -> hidden` under `path` (variables `w_ih` `[4H, in]`, `w_hh` `[4H, H]`, `bias`
    /// `[4H]`). Weights are Glorot-uniform like every other layer here (Keras draws the recurrent
    /// kernel orthogonal instead); the forget-gate bias is 1 (Keras' `unit_forget_bias`,
    /// Jozefowicz et al. 2015), the other biases 0.
    fn new(path: &nn::Path, inputs: i64, hidden: i64, rng: &mut ChaCha8Rng) -> Result<Self> {
        let w_ih = glorot(path, "w_ih", &[4 * hidden, inputs], inputs, 4 * hidden, rng)?;
        let w_hh = glorot(path, "w_hh", &[4 * hidden, hidden], hidden, 4 * hidden, rng)?;
        let forget = Tensor::f_zeros([4 * hidden], (Kind::Float, tch::Device::Cpu))?;
        let _ = forget.f_narrow(0, hidden, hidden)?.f_fill_(1.0)?;
        let bias = path.f_var_copy("bias", &forget)?;
        Ok(LstmCell { w_ih, w_hh, bias, hidden })
    }

    /// One step.
    ///
    /// # Shapes
    /// `x`: `[n, in]`, `state`: `([n, H], [n, H])` → `([n, H], [n, H])`.
    fn step(&self, x: &Tensor, state: &(Tensor, Tensor)) -> Result<(Tensor, Tensor)> {
        Ok(x.f_lstm_cell(&[&state.0, &state.1], &self.w_ih, &self.w_hh, Some(&self.bias), None)?)
    }
}

/// The LSTM autoencoder (see [`LstmConfig`] and the module docs).
#[derive(Debug)]
pub struct LstmAutoencoder {
    encoder: Vec<LstmCell>,
    to_code: Dense,
    /// Initial decoder hidden states `h_0 = tanh(W z + b)`, one per decoder layer.
    initial: Vec<Dense>,
    decoder: Vec<LstmCell>,
    output: Dense,
    config: LstmConfig,
}

impl LstmAutoencoder {
    /// The code of a zero-filled batch: the encoder's state is updated only at valid steps.
    ///
    /// # Shapes
    /// `padded.values`: `[n, T, D]` → `[n, L]`.
    fn encode_padded(&self, padded: &Padded) -> Result<Tensor> {
        let n = padded.values.size()[0];
        let zeros = |h: i64| Tensor::f_zeros([n, h], (padded.values.kind(), padded.values.device()));
        let mut states = self.encoder.iter().map(|c| Ok((zeros(c.hidden)?, zeros(c.hidden)?))).collect::<Result<Vec<_>>>()?;
        for t in 0..self.config.steps {
            let keep = padded.valid.f_select(1, t)?.f_unsqueeze(1)?; // [n, 1] bool
            let mut input = padded.values.f_select(1, t)?; // [n, D]
            for (cell, state) in self.encoder.iter().zip(states.iter_mut()) {
                let (h, c) = cell.step(&input, state)?; // [n, H] each
                let h = h.f_where_self(&keep, &state.0)?;
                let c = c.f_where_self(&keep, &state.1)?;
                input = h.shallow_clone();
                *state = (h, c);
            }
        }
        let top = &states[states.len() - 1].0; // [n, H_top]
        Ok(self.to_code.forward(top))
    }

    /// Unrolls the decoder from codes `z` over `T` steps; outputs are in reverse time order.
    /// A conditioned decoder reads `teacher[:, t-1]` at step `t` (zeros at `t = 0`), or its own
    /// previous output when `teacher` is `None`.
    ///
    /// # Shapes
    /// `z`: `[n, L]`, `teacher`: `[n, T, D]` → `[n, T, D]`.
    fn unroll(&self, z: &Tensor, teacher: Option<&Tensor>) -> Result<Tensor> {
        let n = z.size()[0];
        let mut states = self
            .initial
            .iter()
            .zip(&self.decoder)
            .map(|(init, cell)| Ok((init.forward(z).f_tanh()?, Tensor::f_zeros([n, cell.hidden], (z.kind(), z.device()))?)))
            .collect::<Result<Vec<_>>>()?;
        let mut previous = Tensor::f_zeros([n, self.config.features], (z.kind(), z.device()))?; // [n, D]
        let mut outputs = Vec::with_capacity(self.config.steps as usize);
        for t in 0..self.config.steps {
            let mut input = if self.config.conditional { Tensor::f_cat(&[z, &previous], 1)? } else { z.shallow_clone() };
            for (cell, state) in self.decoder.iter().zip(states.iter_mut()) {
                *state = cell.step(&input, state)?;
                input = state.0.shallow_clone();
            }
            let y = self.output.forward(&input); // [n, D]
            previous = match teacher {
                Some(target) => target.f_select(1, t)?,
                None => y.shallow_clone(),
            };
            outputs.push(y);
        }
        Ok(Tensor::f_stack(&outputs, 1)?) // [n, T, D]
    }
}

impl Backbone for LstmAutoencoder {
    /// `[T, D]`.
    fn input_shape(&self) -> Vec<i64> {
        vec![self.config.steps, self.config.features]
    }

    /// `L`.
    fn latent_dim(&self) -> i64 {
        self.config.latent_dim
    }

    /// `z = W h_T + b`, `h_T` the top layer's hidden state after the last valid step.
    ///
    /// # Shapes
    /// `x`: `[n, T, D]` (NaN after a sequence's end) → `[n, L]`.
    fn encode(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        self.encode_padded(&Padded::new(x)?)
    }

    /// `x̃ = g(z)` over the full `T` steps, in forward time order (a code does not know its
    /// sequence's length, so decoded prototypes span `T` steps).
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, T, D]`.
    fn decode(&self, z: &Tensor) -> Result<Tensor> {
        self.check_code(z)?;
        Ok(self.unroll(z, None)?.f_flip([1])?)
    }

    fn has_decoder(&self) -> bool {
        true
    }

    /// Encodes and reconstructs each sequence reversed within its own length.
    ///
    /// # Shapes
    /// `x`: `[n, T, D]` → `[n, T, D]` in forward order (values at padded steps are arbitrary).
    fn reconstruct(&self, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        let padded = Padded::new(x)?;
        let z = self.encode_padded(&padded)?;
        let reversed = self.unroll(&z, self.config.conditional.then_some(&padded.reversed()?))?; // [n, T, D] reversed
        // reversing within each length is its own inverse
        Padded { values: reversed, valid: padded.valid }.reversed()
    }

    /// `L_R`: masked mean squared error between the decoder's outputs and each sequence reversed
    /// within its length (the decoder is fed that target when `conditional`).
    fn reconstruction_loss(&self, z: &Tensor, x: &Tensor) -> Result<Tensor> {
        self.check_input(x)?;
        self.check_code(z)?;
        let padded = Padded::new(x)?;
        let target = padded.reversed()?; // [n, T, D]
        let output = self.unroll(z, self.config.conditional.then_some(&target))?; // [n, T, D]
        padded.masked_mse(&output, &target)
    }
}
