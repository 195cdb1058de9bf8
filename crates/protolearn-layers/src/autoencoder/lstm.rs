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
            return Err(Error::InvalidConfig {
                field: "LSTM autoencoder sizes",
                expected: "every size >= 1".into(),
                found: bad.to_string(),
            });
        }
        let (enc, dec) = (path / "encoder", path / "decoder");
        let ins = std::iter::once(self.features).chain(self.hidden.iter().copied());
        let encoder =
            ins.zip(&self.hidden).enumerate().map(|(i, (a, &h))| LstmCell::new(&(&enc / i), a, h, rng)).collect::<Result<Vec<_>>>()?;
        let top = self.hidden[self.hidden.len() - 1];
        let to_code = Dense::new(&(&enc / "code"), top, self.latent_dim, rng)?;
        let widths: Vec<i64> = self.hidden.iter().rev().copied().collect();
        let step_input = self.latent_dim + if self.conditional { self.features } else { 0 };
        let dec_ins = std::iter::once(step_input).chain(widths.iter().copied());
        let decoder =
            dec_ins.zip(&widths).enumerate().map(|(i, (a, &h))| LstmCell::new(&(&dec / i), a, h, rng)).collect::<Result<Vec<_>>>()?;
        let state = &dec / "state";
        let initial =
            widths.iter().enumerate().map(|(i, &h)| Dense::new(&(&state / i), self.latent_dim, h, rng)).collect::<Result<Vec<_>>>()?;
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
    /// libtorch's second bias `b_hh`, held at 0 (one bias per gate, as Keras).
    no_bias: Tensor,
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
        let no_bias = Tensor::f_zeros([4 * hidden], (Kind::Float, path.device()))?;
        let forget = no_bias.f_zeros_like()?;
        let _ = forget.f_narrow(0, hidden, hidden)?.f_fill_(1.0)?;
        let bias = path.f_var_copy("bias", &forget)?;
        Ok(LstmCell { w_ih, w_hh, bias, no_bias, hidden })
    }

    /// The layer over a whole sequence from `state` (libtorch's fused LSTM; the input
    /// projections of all steps are one matrix product).
    ///
    /// # Shapes
    /// `x`: `[n, T, in]`, `state`: `([n, H], [n, H])` → `[n, T, H]` (the hidden state of every step).
    fn sequence(&self, x: &Tensor, state: &(Tensor, Tensor)) -> Result<Tensor> {
        let hx = [state.0.f_unsqueeze(0)?, state.1.f_unsqueeze(0)?]; // [1, n, H] each
        let params = [&self.w_ih, &self.w_hh, &self.bias, &self.no_bias];
        let (out, _, _) = x.f_lstm(&[&hx[0], &hx[1]], &params, true, 1, 0.0, false, false, true)?;
        Ok(out)
    }

    /// One step.
    ///
    /// # Shapes
    /// `x`: `[n, in]`, `state`: `([n, H], [n, H])` → `([n, H], [n, H])`.
    fn step(&self, x: &Tensor, state: &(Tensor, Tensor)) -> Result<(Tensor, Tensor)> {
        Ok(x.f_lstm_cell(&[&state.0, &state.1], &self.w_ih, &self.w_hh, Some(&self.bias), None)?)
    }

    /// Zero state `([n, H], [n, H])` like `like`'s kind and device.
    fn zero_state(&self, n: i64, like: &Tensor) -> Result<(Tensor, Tensor)> {
        let zeros = || Tensor::f_zeros([n, self.hidden], (like.kind(), like.device()));
        Ok((zeros()?, zeros()?))
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
    /// The code of a zero-filled batch: the top layer's hidden state at each sequence's last valid
    /// step (an LSTM is causal, so the padding after it changes nothing).
    ///
    /// # Shapes
    /// `padded.values`: `[n, T, D]` → `[n, L]`.
    fn encode_padded(&self, padded: &Padded) -> Result<Tensor> {
        let n = padded.values.size()[0];
        let top = self.encoder.iter().try_fold(padded.values.shallow_clone(), |h, cell| cell.sequence(&h, &cell.zero_state(n, &h)?))?; // [n, T, H]
        let width = top.size()[2];
        let last = (padded.lengths()? - 1).f_clamp_min(0)?; // [n]; an all-padding sample reads step 0
        let index = last.f_view([n, 1, 1])?.f_expand([n, 1, width], false)?; // [n, 1, H]
        let state = top.f_gather(1, &index, false)?.f_squeeze_dim(1)?; // [n, H]
        Ok(self.to_code.forward(&state))
    }

    /// Initial decoder states `(tanh(W_l z + b_l), 0)`, one per layer.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `([n, H_l], [n, H_l])` per layer.
    fn initial_states(&self, z: &Tensor) -> Result<Vec<(Tensor, Tensor)>> {
        let n = z.size()[0];
        self.initial.iter().zip(&self.decoder).map(|(init, cell)| Ok((init.forward(z).f_tanh()?, cell.zero_state(n, z)?.1))).collect()
    }

    /// Unrolls the decoder from codes `z` over `T` steps; outputs are in reverse time order.
    /// A conditioned decoder reads `teacher[:, t-1]` at step `t` (zeros at `t = 0`), or its own
    /// previous output when `teacher` is `None` (step by step, the free-running decoder of
    /// decoded prototypes).
    ///
    /// # Shapes
    /// `z`: `[n, L]`, `teacher`: `[n, T, D]` → `[n, T, D]`.
    fn unroll(&self, z: &Tensor, teacher: Option<&Tensor>) -> Result<Tensor> {
        let (n, steps, features) = (z.size()[0], self.config.steps, self.config.features);
        let codes = z.f_unsqueeze(1)?.f_expand([n, steps, z.size()[1]], false)?; // [n, T, L]
        let inputs = match (self.config.conditional, teacher) {
            (false, _) => codes,
            (true, Some(target)) => {
                let start = Tensor::f_zeros([n, 1, features], (z.kind(), z.device()))?;
                let previous = Tensor::f_cat(&[&start, &target.f_narrow(1, 0, steps - 1)?], 1)?; // [n, T, D]
                Tensor::f_cat(&[&codes, &previous], 2)? // [n, T, L + D]
            }
            (true, None) => return self.free_running(z),
        };
        let states = self.initial_states(z)?;
        let top = self.decoder.iter().zip(&states).try_fold(inputs, |h, (cell, state)| cell.sequence(&h, state))?; // [n, T, H_1]
        Ok(self.output.forward(&top))
    }

    /// The conditioned decoder fed its own previous output, step by step.
    ///
    /// # Shapes
    /// `z`: `[n, L]` → `[n, T, D]` in reverse time order.
    fn free_running(&self, z: &Tensor) -> Result<Tensor> {
        let mut states = self.initial_states(z)?;
        let mut previous = Tensor::f_zeros([z.size()[0], self.config.features], (z.kind(), z.device()))?; // [n, D]
        let mut outputs = Vec::with_capacity(self.config.steps as usize);
        for _ in 0..self.config.steps {
            let mut input = Tensor::f_cat(&[z, &previous], 1)?; // [n, L + D]
            for (cell, state) in self.decoder.iter().zip(states.iter_mut()) {
                *state = cell.step(&input, state)?;
                input = state.0.shallow_clone();
            }
            previous = self.output.forward(&input); // [n, D]
            outputs.push(previous.shallow_clone());
        }
        Ok(Tensor::f_stack(&outputs, 1)?)
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Float32 results of the fused sequence LSTM and of the step-by-step cell (the same
    /// arithmetic in a different order) agree to a few ulps of values of order 1.
    const SAME: f64 = 1e-5;

    #[test]
    fn free_running_decoder_matches_the_fused_one_fed_its_own_outputs() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let cfg = LstmConfig { steps: 7, features: 2, hidden: vec![5, 4], latent_dim: 3, conditional: true };
        let ae = cfg.build(&vs.root(), &mut ChaCha8Rng::seed_from_u64(1)).unwrap();
        let z = Tensor::from_slice(&[0.5f32, -1.0, 0.25, 2.0, 0.0, -0.5]).view([2, 3]);
        let free = ae.unroll(&z, None).unwrap(); // step by step, fed its own outputs
        let fused = ae.unroll(&z, Some(&free)).unwrap(); // fused, fed the same values
        let diff = (&free - &fused).abs().max().double_value(&[]);
        assert!(diff < SAME, "{diff}");
    }
}
