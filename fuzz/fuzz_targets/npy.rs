//! Any bytes given to the .npy reader give `Ok` or an `Err`, never a panic
//! or a huge allocation; whatever loads saves and loads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(tensor) = descent_io::decode_npy(bytes) {
        let saved = descent_io::encode_npy(&tensor);
        let again = descent_io::decode_npy(&saved).expect("a saved .npy loads");
        assert_eq!(descent_io::encode_npy(&again), saved);
    }
});
