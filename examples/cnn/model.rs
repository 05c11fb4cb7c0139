//! The CNN flagship's model, shared with the tests and benchmarks that
//! train or time it.

use descent::prelude::*;

/// PyTorch's `Sequential(Conv2d(1, 16, 5, padding=2), ReLU(), MaxPool2d(2),
/// Conv2d(16, 32, 5, padding=2), ReLU(), MaxPool2d(2), Flatten(),
/// Linear(1568, 128), ReLU(), Linear(128, 10))`, with the same parameter
/// names (`0.weight`, `3.weight`, `7.weight`, `9.weight`).
pub fn cnn(rng: &mut impl descent::tensor::rand::Rng) -> Sequential {
    Sequential::new()
        .push(Conv2d::new(1, 16, 5, rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Conv2d::new(16, 32, 5, rng).padding(2))
        .push(Activation::Relu)
        .push(MaxPool2d::new(2))
        .push(Flatten::new())
        .push(Dense::new(32 * 7 * 7, 128, rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, rng))
}
