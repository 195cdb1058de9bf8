//! Fuzz target: the IDX decoder (gzip detection, decompression, header and size checks) must never panic.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use protolearn_data::idx::decode_idx;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = decode_idx(data.to_vec(), Path::new("fuzz")) {
        // A successful parse is self-consistent and re-encodes to the same bytes.
        let n: usize = array.dims.iter().product();
        assert_eq!(n, array.data.len());
        let encoded = array.encode().map(|bytes| decode_idx(bytes, Path::new("re")).ok());
        assert_eq!(encoded.ok().flatten().as_ref(), Some(&array));
    }
});
