//! Any bytes given to the checkpoint loader give `Ok` or an `Err`, never a
//! panic; whatever loads also saves and loads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(checkpoint) = descent_layers::Checkpoint::from_bytes(bytes) {
        // Compared as bytes: a checkpoint may hold NaN, which is not equal to itself.
        let saved = checkpoint.to_bytes();
        let again = descent_layers::Checkpoint::from_bytes(&saved).expect("a saved checkpoint loads");
        assert_eq!(again.to_bytes(), saved);
    }
});
