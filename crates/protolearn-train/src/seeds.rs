//! The seeds of a run's parts (model, batch order, a third stream such as k-means or a head),
//! derived from the one seed a user gives: `ChaCha8Rng::seed_from_u64(seed)`, three draws.

use crate::error::{Error, Result};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tch::{nn, Kind, Tensor};

/// Three seeds drawn in order from `ChaCha8Rng::seed_from_u64(seed)`; each family names them
/// (DESOM: model, batch order, prototype re-draw; DDCL: model, batch order, k-means).
pub fn derived_seeds(seed: u64) -> [u64; 3] {
    let mut seeds = ChaCha8Rng::seed_from_u64(seed);
    [seeds.next_u64(), seeds.next_u64(), seeds.next_u64()]
}

/// The position of an objective's random stream kept in a variable without gradient (an int64
/// word position), so that the trainer's checkpoint holds it: written at every log point, read
/// back once before the stream's next draw of a run. A fresh run's variable holds 0 and leaves
/// the stream where it is (its draws before training are replayed by construction); a resumed
/// run's holds the checkpoint's position.
#[derive(Debug)]
pub struct StreamPosition {
    variable: Tensor,
    restored: bool,
}

impl StreamPosition {
    /// The variable `name` under `path`.
    pub fn new(path: &nn::Path, name: &str) -> Self {
        StreamPosition { variable: path.add(name, Tensor::zeros([], (Kind::Int64, path.device())), false), restored: false }
    }

    /// Moves `rng` to the saved position, once per run.
    pub fn restore(&mut self, rng: &mut ChaCha8Rng) {
        if !self.restored {
            let saved = self.variable.int64_value(&[]);
            if saved != 0 {
                rng.set_word_pos(u128::try_from(saved).unwrap_or(0));
            }
            self.restored = true;
        }
    }

    /// Writes `rng`'s position into the variable (before a checkpoint).
    pub fn keep(&mut self, rng: &ChaCha8Rng) -> Result<()> {
        let position = i64::try_from(rng.get_word_pos()).map_err(|_| Error::InvalidConfig {
            field: "random stream".into(),
            expected: "a word position below 2^63".into(),
            found: rng.get_word_pos().to_string(),
        })?;
        let _guard = tch::no_grad_guard();
        _ = self.variable.f_fill_(position)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_distinct_reproducible_seeds() {
        let s = derived_seeds(7);
        assert_eq!(s, derived_seeds(7));
        assert!(s[0] != s[1] && s[1] != s[2] && s[0] != s[2]);
        assert_ne!(s, derived_seeds(8));
    }

    #[test]
    fn a_kept_stream_position_continues_the_stream_in_a_new_run() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let mut position = StreamPosition::new(&vs.root(), "pos");
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let _ = (rng.next_u64(), rng.next_u64(), rng.next_u32());
        position.keep(&rng).unwrap();
        let next = rng.next_u64();
        // A new run: a fresh stream and the variable as a checkpoint restores it.
        let mut again = ChaCha8Rng::seed_from_u64(3);
        let mut restored = StreamPosition { variable: position.variable.shallow_clone(), restored: false };
        restored.restore(&mut again);
        assert_eq!(again.next_u64(), next);
        // A fresh run's 0 leaves the stream as it is.
        let mut fresh = ChaCha8Rng::seed_from_u64(3);
        let first = fresh.clone().next_u64();
        StreamPosition::new(&vs.root(), "other").restore(&mut fresh);
        assert_eq!(fresh.next_u64(), first);
    }
}
