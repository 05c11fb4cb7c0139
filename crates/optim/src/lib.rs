//! `descent-optim`: optimizers and learning-rate schedulers over any set of
//! parameters, with PyTorch's update rules and defaults.
//!
//! Schedules ([`Schedule`]) are closed-form functions of the step; a
//! [`Scheduler`] applies one to any optimizer, and its whole state is a step
//! count, so resuming from a checkpoint is exact.
//!
//! An optimizer is an [`UpdateRule`] (SGD, Adam, ...) wrapped in [`Optim`],
//! which holds parameter groups and per-parameter state. Any `Vec<Param>`
//! works: two hand-made tensors, `model.parameters()` of any module, or
//! several groups with different options.
//!
//! ```
//! use descent_autograd::{Param, Tape};
//! use descent_optim::{Optim, Optimizer, Sgd};
//! use descent_tensor::Tensor;
//!
//! // Minimize (w - 3)^2 with SGD + Nesterov momentum.
//! let w = Param::new(Tensor::from([0.0]));
//! let mut opt = Optim::new([w.clone()], Sgd::new(0.1).momentum(0.9).nesterov(true));
//! for _ in 0..100 {
//!     let tape = Tape::new();
//!     (tape.param(&w) - 3.0).square().sum().backward();
//!     opt.step();
//!     opt.zero_grad();
//! }
//! assert!((w.value().item() - 3.0).abs() < 1e-3);
//! ```

mod adam;
mod adaptive;
mod clip;
mod optimizer;
mod rule;
mod schedule;
mod scheduler;
mod sgd;

pub use adam::{Adam, Adamax, NAdam, RAdam};
pub use adaptive::{Adadelta, Adagrad, RmsProp};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use optimizer::{Optim, Optimizer};
pub use rule::{ParamState, UpdateRule};
pub use schedule::{
    Chain, CosineAnnealingLr, CosineAnnealingWarmRestarts, CyclicLr, CyclicMode, ExponentialLr,
    InverseTimeDecay, LambdaLr, LinearLr, MultiStepLr, OneCycleLr, Schedule, StepLr,
};
pub use scheduler::{LrScheduler, PlateauMode, PlateauOptions, ReduceLrOnPlateau, Scheduler};
pub use sgd::Sgd;
