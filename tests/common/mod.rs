//! Models shared by the integration tests.

use descent::prelude::*;

/// The CNN flagship of `examples/cnn.rs` (PyTorch's `Sequential(Conv2d(1,
/// 16, 5, padding=2), ReLU(), MaxPool2d(2), Conv2d(16, 32, 5, padding=2),
/// ReLU(), MaxPool2d(2), Flatten(), Linear(1568, 128), ReLU(),
/// Linear(128, 10))`), its weights drawn from `seed`.
pub fn flagship_cnn(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Conv2d::new(1, 16, 5, &mut rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 5, &mut rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(1568, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng))
}
