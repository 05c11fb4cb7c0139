//! `descent-io`: tensors in files.
//!
//! - [`Checkpoint`]: named tensors and scalars (a model's parameters plus an
//!   optimizer's and a scheduler's state) in one checksummed file, written
//!   atomically: what resuming training needs.
//! - [`Weights`]: named tensors in a safetensors file, the format PyTorch
//!   and Hugging Face exchange weights in.
//! - [`save_npy`] and [`load_npy`]: one tensor as a NumPy `.npy` file.
//! - [`write_atomically`]: the crash-safe write every saver here uses.
//!
//! This crate knows tensors, not modules or optimizers: `descent-layers`
//! puts a module's parameters into a checkpoint or a weights file,
//! `descent-optim` its state into a checkpoint.
//!
//! ```
//! use descent_io::Checkpoint;
//! use descent_tensor::Tensor;
//!
//! let mut checkpoint = Checkpoint::new();
//! checkpoint.insert_tensor("model.0.weight", Tensor::from([[1.0, 2.0]]));
//! checkpoint.insert_scalar("optimizer.step", 10.0);
//! let bytes = checkpoint.to_bytes();
//! assert_eq!(Checkpoint::from_bytes(&bytes)?, checkpoint);
//! # Ok::<(), descent_io::CheckpointError>(())
//! ```

mod atomic;
mod checkpoint;
mod codec;
mod error;
mod npy;
mod safetensors;

pub use atomic::write_atomically;
pub use checkpoint::Checkpoint;
pub use error::{CheckpointError, Mismatch, NpyError, SafetensorsError};
pub use npy::{decode_npy, encode_npy, load_npy, save_npy};
pub use safetensors::{Dtype, Weights};
