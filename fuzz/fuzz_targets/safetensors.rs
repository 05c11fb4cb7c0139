//! Any bytes given to the safetensors reader give `Ok` or an `Err`, never a
//! panic or a huge allocation; whatever loads saves and loads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(weights) = descent_io::Weights::from_bytes(bytes) {
        let saved = weights.to_bytes();
        let again = descent_io::Weights::from_bytes(&saved).expect("saved weights load");
        assert_eq!(again.to_bytes(), saved);
    }
});
