//! `descent-autograd`: reverse-mode automatic differentiation on a flat tape.
//!
//! - A [`Tape`] records one forward pass; values on it are [`Var`]s, cheap
//!   `Copy` handles with the tensor API (operators, activations, reductions,
//!   `matmul`, fused stable losses).
//! - A [`Param`] is a trainable tensor that lives across steps, outside any
//!   tape; [`Tape::param`] puts it on a tape, `backward` adds into its gradient.
//! - Each op's forward method and its [`Function`] (the backward rule) sit
//!   together in `ops/`; broadcast gradients are reduced in one place,
//!   [`InputGrads::add`].
//! - [`gradcheck`] compares any function's gradients with finite differences.
//!
//! Fitting `y = 2x + 1` by gradient descent:
//!
//! ```
//! use descent_autograd::{Param, Tape};
//! use descent_tensor::Tensor;
//!
//! let x = Tensor::from([[0.0], [1.0], [2.0], [3.0]]);
//! let y = Tensor::from([[1.0], [3.0], [5.0], [7.0]]);
//! let w = Param::new(Tensor::zeros([1, 1]));
//! let b = Param::new(Tensor::zeros([1]));
//! for _ in 0..500 {
//!     let tape = Tape::new();
//!     let prediction = tape.constant(x.clone()).matmul(tape.param(&w)) + tape.param(&b);
//!     let loss = (prediction - tape.constant(y.clone())).square().mean();
//!     loss.backward();
//!     for p in [&w, &b] {
//!         let grad = p.grad().unwrap();
//!         p.set_value(&p.value() - &(&grad * 0.1));
//!         p.zero_grad();
//!     }
//! }
//! assert!((w.value().item() - 2.0).abs() < 1e-3);
//! assert!((b.value().item() - 1.0).abs() < 1e-3);
//! ```

mod gradcheck;
mod ops;
mod param;
mod tape;

pub use gradcheck::{GradcheckConfig, GradcheckError, gradcheck, gradcheck_params, gradcheck_with};
pub use ops::{Activation, UnaryOp};
pub use param::Param;
/// The lock types behind [`Param::value_mut`] and [`Param::grad_ref`].
pub use parking_lot;
pub use tape::{Anomaly, Function, InputGrads, OpValues, Pass, Tape, Var};
