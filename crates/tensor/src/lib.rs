//! `descent-tensor`: f32 n-dimensional tensors for the `descent` framework.
//!
//! A [`Tensor`] is a [`Shape`] plus a row-major buffer. Binary ops broadcast
//! like NumPy, reductions work over all elements or one axis, and
//! [`Tensor::matmul`] runs on the `gemm` crate or `matrixmultiply`
//! ([`matmul::Backend`]). This crate knows nothing of gradients; the
//! `descent-autograd` crate builds on it.
//!
//! ```
//! use descent_tensor::Tensor;
//!
//! let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
//! let bias = Tensor::from([10.0, 20.0]);
//! let y = &x.matmul(&Tensor::eye(2)) + &bias; // [2, 2] + [2] broadcasts
//! assert_eq!(y.to_vec(), vec![11.0, 22.0, 13.0, 24.0]);
//! assert_eq!(y.sum_axis(0, false).to_vec(), vec![24.0, 46.0]);
//! ```
//!
//! The operators take tensors by value or by reference, and scalars on
//! either side; `Display` prints as PyTorch does:
//!
//! ```
//! use descent_tensor::Tensor;
//!
//! let t = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
//! let u = 2.0 * &t - 1.0;
//! let v = &u / &t + t;
//! assert_eq!(v.to_string(), "tensor([[2.0000, 3.5000],\n        [4.6667, 5.7500]])");
//! ```
//!
//! Positions travel as `usize` in an [`IndexTensor`] (what `argmax_axis`
//! and `topk` return, what `gather` takes), and comparisons (`gt`, `eq`,
//! ...) return a boolean [`Mask`] for `where_` and `masked_fill`.
//!
//! Large element-wise ops, reductions and products run on rayon's pool; the
//! result is bit-identical whatever the number of threads.

mod conv;
mod display;
mod elementwise;
mod index;
mod index_tensor;
mod layout;
mod mask;
pub mod matmul;
mod normalization;
pub mod parallel;
mod pool;
mod pooling;
mod reduce;
mod shape;
mod tensor;
mod view;

pub use conv::{Conv1dOptions, Conv2dOptions, LayerGrads, LayerGradsWanted, Pair};
pub use elementwise::{clamp, sigmoid, sign};
pub use index_tensor::IndexTensor;
pub use mask::Mask;
pub use pooling::Pool2dOptions;
pub use rand;
pub use shape::{MAX_RANK, Shape};
pub use tensor::Tensor;
pub use view::ReshapeSpec;

/// A reproducible random number generator from a seed: the one to pass to
/// [`Tensor::randn`] and the other random constructors.
pub fn seeded_rng(seed: u64) -> rand::rngs::StdRng {
    rand::SeedableRng::seed_from_u64(seed)
}
