//! The checkpoint payload decoder on its own: random bytes rarely pass the
//! checksum that guards it in `Checkpoint::from_bytes`, so this target feeds
//! the decoder directly. `Ok` or an `Err`, never a panic or a huge
//! allocation; whatever decodes saves and loads back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(checkpoint) = descent_layers::Checkpoint::from_payload(bytes) {
        let saved = checkpoint.to_bytes();
        let again = descent_layers::Checkpoint::from_bytes(&saved).expect("a saved checkpoint loads");
        assert_eq!(again.to_bytes(), saved);
    }
});
