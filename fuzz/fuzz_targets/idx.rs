//! Any bytes given to the IDX reader give `Ok` or an `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(array) = descent_data::parse_idx(bytes, "fuzz") {
        assert_eq!(array.dims.iter().product::<usize>(), array.data.len());
    }
});
