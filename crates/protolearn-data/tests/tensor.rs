//! Tensor datasets and minibatch iterators (feature `tch`, CPU).
#![cfg(feature = "tch")]

use protolearn_data::tensor::{Dataset, LastBatch};
use protolearn_data::Data;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tch::{Device, Kind, Tensor};

fn data(n: usize) -> Data {
    let features = (0..n * 2).map(|v| v as f32).collect();
    let labels = (0..n as i64).map(|i| i % 3).collect();
    Data::new("t", features, vec![n, 2], Some(labels)).expect("test fixture")
}

fn ints(t: &Tensor) -> Vec<i64> {
    Vec::<i64>::try_from(t.shallow_clone()).expect("test fixture")
}

#[test]
fn from_data_keeps_shape_kind_and_values() {
    let image = Data::new("img", vec![0.5; 12], vec![3, 1, 2, 2], None).unwrap();
    let ds = Dataset::from_data(&image, Device::Cpu).unwrap();
    assert_eq!(ds.x.size(), vec![3, 1, 2, 2]);
    assert_eq!(ds.x.kind(), Kind::Float);
    assert!(ds.y.is_none());
    let ds = Dataset::from_data(&data(5), Device::Cpu).unwrap();
    assert_eq!(ds.y.as_ref().map(|y| (y.size(), y.kind())), Some((vec![5], Kind::Int64)));
    assert_eq!(ds.n_samples(), 5);
    assert!(Dataset::new(Tensor::zeros([4, 2], (Kind::Float, Device::Cpu)), Some(Tensor::zeros([3], (Kind::Int64, Device::Cpu)))).is_err());
}

#[test]
fn keep_covers_every_index_once_and_rows_match() {
    let ds = Dataset::from_data(&data(10), Device::Cpu).unwrap();
    let batches: Vec<_> = ds.shuffled_batches(4, LastBatch::Keep, &mut ChaCha8Rng::seed_from_u64(1)).unwrap().map(Result::unwrap).collect();
    assert_eq!(batches.iter().map(|b| b.x.size()[0]).collect::<Vec<_>>(), vec![4, 4, 2]);
    let mut seen: Vec<i64> = batches.iter().flat_map(|b| ints(&b.indices)).collect();
    assert_ne!(seen, (0..10).collect::<Vec<_>>(), "not shuffled");
    seen.sort_unstable();
    assert_eq!(seen, (0..10).collect::<Vec<_>>());
    for b in &batches {
        // Row i holds features (2i, 2i + 1) and label i mod 3.
        let x = Vec::<f32>::try_from(b.x.flatten(0, -1)).unwrap();
        for (k, i) in ints(&b.indices).into_iter().enumerate() {
            assert_eq!(x[2 * k], 2.0 * i as f32);
        }
        let y = ints(b.y.as_ref().unwrap());
        assert_eq!(y, ints(&b.indices).iter().map(|i| i % 3).collect::<Vec<_>>());
    }
}

#[test]
fn drop_skips_the_partial_batch_and_seed_fixes_order() {
    let ds = Dataset::from_data(&data(10), Device::Cpu).unwrap();
    let order = |seed| -> Vec<Vec<i64>> {
        ds.shuffled_batches(4, LastBatch::Drop, &mut ChaCha8Rng::seed_from_u64(seed)).unwrap().map(|b| ints(&b.unwrap().indices)).collect()
    };
    let a = order(3);
    assert_eq!(a.len(), 2);
    assert!(a.iter().all(|b| b.len() == 4));
    assert_eq!(a, order(3));
    assert_ne!(a, order(4));
    let seq: Vec<Vec<i64>> = ds.sequential_batches(3, LastBatch::Keep).unwrap().map(|b| ints(&b.unwrap().indices)).collect();
    assert_eq!(seq, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6, 7, 8], vec![9]]);
    assert_eq!(ds.sequential_batches(3, LastBatch::Drop).unwrap().len(), 3);
    assert!(ds.sequential_batches(0, LastBatch::Keep).is_err());
}

#[test]
fn random_batches_are_endless_distinct_and_seeded() {
    let ds = Dataset::from_data(&data(20), Device::Cpu).unwrap();
    let draw = |seed| -> Vec<Vec<i64>> {
        ds.random_batches(5, ChaCha8Rng::seed_from_u64(seed))
            .unwrap()
            .take(150) // crosses two index uploads
            .map(|b| ints(&b.unwrap().indices))
            .collect()
    };
    let a = draw(1);
    assert_eq!(a.len(), 150);
    for b in &a {
        let mut s = b.clone();
        s.sort_unstable();
        s.dedup();
        assert_eq!(s.len(), 5, "{b:?}");
        assert!(s.iter().all(|&i| (0..20).contains(&i)));
    }
    assert_eq!(a, draw(1));
    // Every sample shows up over 150 batches of 5 out of 20.
    let mut seen: Vec<i64> = a.concat();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 20);
    assert!(ds.random_batches(21, ChaCha8Rng::seed_from_u64(0)).is_err());
}
