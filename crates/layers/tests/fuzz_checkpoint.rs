//! Property tests: random bytes, truncations and single-byte mutations of a
//! valid checkpoint are errors, never panics; a header claiming a huge
//! payload is refused before anything is allocated for it. The payload
//! decoder is attacked directly too, since random bytes rarely get past the
//! checksum.

use descent_layers::{Checkpoint, CheckpointError, Dense, ModuleCheckpoint, Sequential};
use descent_tensor::seeded_rng;
use proptest::prelude::*;

fn valid(seed: u64, width: usize) -> Vec<u8> {
    let mut rng = seeded_rng(seed);
    let model = Sequential::new()
        .push(Dense::new(3, width, &mut rng))
        .push(Dense::new(width, 2, &mut rng));
    let mut checkpoint = Checkpoint::from_module(&model);
    checkpoint.insert_scalar("optimizer.groups", 1.0);
    checkpoint.to_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_errors(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        prop_assert!(Checkpoint::from_bytes(&bytes).is_err());
    }

    #[test]
    fn random_bytes_after_a_valid_header_are_errors(tail in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut bytes = valid(0, 2)[..24].to_vec();
        bytes.extend(tail);
        prop_assert!(Checkpoint::from_bytes(&bytes).is_err());
    }

    #[test]
    fn random_payloads_are_errors_not_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Checkpoint::from_payload(&bytes);
    }

    #[test]
    fn mutated_payloads_load_or_fail_cleanly(seed in 0u64..50, width in 1usize..6, at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut payload = valid(seed, width)[24..].to_vec();
        let i = at.index(payload.len());
        payload[i] ^= flip;
        if let Ok(checkpoint) = Checkpoint::from_payload(&payload) {
            // Whatever decodes must encode and decode back to the same bytes.
            let again = Checkpoint::from_bytes(&checkpoint.to_bytes()).unwrap();
            prop_assert_eq!(again.to_bytes(), checkpoint.to_bytes());
        }
    }

    #[test]
    fn truncations_are_errors(seed in 0u64..50, width in 1usize..6, cut in any::<prop::sample::Index>()) {
        let bytes = valid(seed, width);
        let len = cut.index(bytes.len());
        prop_assert!(Checkpoint::from_bytes(&bytes[..len]).is_err());
    }

    #[test]
    fn every_single_byte_mutation_is_an_error(seed in 0u64..50, width in 1usize..6, at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let mut bytes = valid(seed, width);
        let i = at.index(bytes.len());
        bytes[i] ^= flip;
        let result = Checkpoint::from_bytes(&bytes);
        prop_assert!(result.is_err(), "flipping byte {} by {:#x} still loaded", i, flip);
    }
}

#[test]
fn a_header_claiming_an_enormous_payload_is_refused() {
    let mut bytes = valid(0, 2);
    bytes[12..20].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let err = Checkpoint::from_bytes(&bytes).unwrap_err();
    assert!(matches!(err, CheckpointError::Truncated { .. }), "{err}");
}
