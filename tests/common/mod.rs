//! Models shared by the integration tests.

use descent::prelude::*;

#[path = "../../examples/cnn/model.rs"]
mod cnn_model;

/// The CNN flagship of `examples/cnn/model.rs`, its weights drawn from
/// `seed`.
pub fn flagship_cnn(seed: u64) -> Sequential {
    cnn_model::cnn(&mut seeded_rng(seed))
}
