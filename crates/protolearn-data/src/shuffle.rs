//! Seeded, platform-independent permutations (Fisher–Yates driven by the caller's RNG).

use rand::Rng;

/// Shuffles `items` in place with the Fisher–Yates algorithm.
///
/// Every draw is `rng.random_range(0..=i)` on `u64`, so the result depends only on the RNG
/// stream, not on the width of `usize`: the same seed gives the same order on every machine.
pub fn shuffle<T>(items: &mut [T], rng: &mut impl Rng) {
    for i in (1..items.len()).rev() {
        // usize -> u64 is lossless on every supported target; the draw is <= i, so back too.
        let j = rng.random_range(0..=i as u64) as usize;
        items.swap(i, j);
    }
}

/// A uniformly random permutation of `0..n`, see [`shuffle`].
pub fn permutation(n: usize, rng: &mut impl Rng) -> Vec<usize> {
    let mut p: Vec<usize> = (0..n).collect();
    shuffle(&mut p, rng);
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn permutation_is_a_permutation_and_seeded() {
        let a = permutation(100, &mut ChaCha8Rng::seed_from_u64(7));
        let b = permutation(100, &mut ChaCha8Rng::seed_from_u64(7));
        assert_eq!(a, b);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(a, sorted);
        assert_eq!(&a[..5], &[58, 77, 13, 82, 66], "pinned: rand/ChaCha8 stream changed");
    }
}
