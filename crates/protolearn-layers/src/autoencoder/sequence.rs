//! Padded sequence batches `[n, T, D]` shared by the sequence backbones (paper 004, Sec. 4):
//! steps after a sequence's end are NaN in every feature (the `.ts` reader's padding), so one
//! tensor carries both the values and the mask, and no `Backbone` method needs a lengths argument.

use crate::error::Result;
use tch::{Kind, Tensor};

/// A padded batch split into zero-filled values and the mask of valid steps.
#[derive(Debug)]
pub(crate) struct Padded {
    /// The values with padding replaced by 0, `[n, T, D]`.
    pub values: Tensor,
    /// `true` at valid steps, `[n, T]`.
    pub valid: Tensor,
}

impl Padded {
    /// Splits `x` `[n, T, D]`: a step is padding when any of its features is NaN.
    pub(crate) fn new(x: &Tensor) -> Result<Padded> {
        let missing = x.f_isnan()?; // [n, T, D]
        let valid = missing.f_any_dims(Some([2].as_slice()), false)?.f_logical_not()?; // [n, T]
        let values = x.f_masked_fill(&missing, 0.0)?; // [n, T, D]
        Ok(Padded { values, valid })
    }

    /// Valid steps of each sequence (padding sits at the end), `[n]` int64.
    pub(crate) fn lengths(&self) -> Result<Tensor> {
        Ok(self.valid.f_sum_dim_intlist(Some([1].as_slice()), false, Kind::Int64)?)
    }

    /// Each sequence reversed within its own length, padding left at the end:
    /// `y[i, t] = x[i, len_i - 1 - t]` for `t < len_i`, `y[i, t] = x[i, t]` after
    /// (the target order of Srivastava et al.'s LSTM autoencoder, paper 004 ref. [16]).
    ///
    /// # Shapes
    /// `[n, T, D]` (the zero-filled values).
    pub(crate) fn reversed(&self) -> Result<Tensor> {
        let size = self.values.size();
        let steps = Tensor::f_arange(size[1], (Kind::Int64, self.values.device()))?.f_unsqueeze(0)?; // [1, T]
        let lengths = self.lengths()?.f_unsqueeze(1)?; // [n, 1]
        let mirrored = (&lengths - 1 - &steps).f_where_self(&steps.f_lt_tensor(&lengths)?, &steps)?; // [n, T]
        let index = mirrored.f_unsqueeze(2)?.f_expand(size.as_slice(), false)?; // [n, T, D]
        Ok(self.values.f_gather(1, &index, false)?)
    }

    /// `L_R = sum_{i,t valid} ||y_it - x_it||^2 / (D · #valid steps)`: the mean squared error
    /// over valid entries (equal to the plain mean when nothing is padded; 0 for an all-padding
    /// batch instead of NaN).
    ///
    /// # Shapes
    /// `reconstruction`, `target`: `[n, T, D]` → `[]`.
    pub(crate) fn masked_mse(&self, reconstruction: &Tensor, target: &Tensor) -> Result<Tensor> {
        let features = reconstruction.size()[2] as f64;
        let weight = self.valid.f_unsqueeze(2)?.f_to_kind(reconstruction.kind())?; // [n, T, 1]
        let squared = (reconstruction - target).f_square()?.f_mul(&weight)?; // [n, T, D]
        let count = weight.f_sum(Kind::Float)?.f_clamp_min(1.0)? * features; // []
        Ok(squared.f_sum(reconstruction.kind())?.f_div(&count)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_reverses_and_masks() {
        let nan = f32::NAN;
        // two sequences of 4 steps, 1 feature: lengths 4 and 2
        let x = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0, nan, nan]).view([2, 4, 1]);
        let p = Padded::new(&x).unwrap();
        assert_eq!(Vec::<i64>::try_from(p.lengths().unwrap()).unwrap(), vec![4, 2]);
        let r = Vec::<f32>::try_from(p.reversed().unwrap().flatten(0, -1)).unwrap();
        assert_eq!(r, vec![4.0, 3.0, 2.0, 1.0, 6.0, 5.0, 0.0, 0.0]);
        // errors only at padded steps do not count; the mean runs over the 6 valid steps
        let y = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 6.0, 5.0, 6.0, 100.0, -7.0]).view([2, 4, 1]);
        let loss = p.masked_mse(&y, &p.values).unwrap().double_value(&[]);
        assert!((loss - 4.0 / 6.0).abs() < 1e-6, "{loss}");
    }
}
