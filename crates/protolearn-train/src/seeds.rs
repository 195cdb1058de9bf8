//! The seeds of a run's parts (model, batch order, a third stream such as k-means or a head),
//! derived from the one seed a user gives: `ChaCha8Rng::seed_from_u64(seed)`, three draws.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Three seeds drawn in order from `ChaCha8Rng::seed_from_u64(seed)`; each family names them
/// (DESOM: model, batch order, prototype re-draw; DDCL: model, batch order, k-means).
pub fn derived_seeds(seed: u64) -> [u64; 3] {
    let mut seeds = ChaCha8Rng::seed_from_u64(seed);
    [seeds.next_u64(), seeds.next_u64(), seeds.next_u64()]
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
}
