//! `descent-optim`: optimizers and learning-rate schedulers over any set of
//! parameters, with PyTorch's update rules, defaults and names.
//!
//! An optimizer is an [`UpdateRule`] (SGD, Adam, ...: [`RuleOptions`], a
//! typed per-parameter [`ParamState`], and the update) wrapped in [`Optim`], which holds
//! parameter groups, each with its learning rate, and every parameter's
//! state. Any parameters work: two hand-made tensors, `model.parameters()`
//! of any module, or `model.named_parameters()`, whose names key the saved
//! state so that it survives a reordering of the model's parameters.
//!
//! Schedules ([`Schedule`]) are closed-form functions of the step; a
//! [`Scheduler`] applies one to any optimizer, and its whole state is a step
//! count, so resuming from a checkpoint is exact. [`LbfgsOptim`] is the
//! full-batch quasi-Newton method, with a closure-based step.
//!
//! ```
//! use descent_autograd::{Param, Tape};
//! use descent_optim::{Momentum, Optim, OptimError, Optimizer, Sgd};
//! use descent_tensor::Tensor;
//!
//! // Minimize (w - 3)^2 with SGD + Nesterov momentum.
//! let w = Param::new(Tensor::from([0.0]));
//! let mut opt = Optim::new([w.clone()], Sgd::new(0.1).momentum(Momentum::Nesterov(0.9)));
//! for _ in 0..100 {
//!     let tape = Tape::new();
//!     (tape.param(&w) - 3.0).square().sum().backward();
//!     opt.step();
//!     opt.zero_grad();
//! }
//! assert!((w.value().item() - 3.0).abs() < 1e-3);
//! # Ok::<(), OptimError>(())
//! ```

mod builder;
mod check;

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod clip;
mod cyclic;
mod error;
mod lbfgs;
mod line_search;
mod nadam;
mod optim;
mod optimizer;
mod options;
mod plateau;
mod radam;
mod rmsprop;
mod rule;
mod schedule;
mod scheduler;
mod sgd;
mod state;
mod weight_decay;
mod wide;

pub use adadelta::{Adadelta, AdadeltaState};
pub use adagrad::{Adagrad, AdagradState};
pub use adam::{Adam, AdamState, AdamW};
pub use adamax::{Adamax, AdamaxState};
pub use clip::{clip_grad_norm, clip_grad_value};
pub use cyclic::{AnnealStrategy, CyclicLr, CyclicMode, OneCycleLr};
pub use error::OptimError;
pub use lbfgs::{Lbfgs, LbfgsOptim, LineSearch};
pub use nadam::{NAdam, NAdamState};
pub use optim::{IntoNamedParam, Optim};
pub use optimizer::Optimizer;
pub use options::RuleOptions;
pub use plateau::{PlateauMode, PlateauOptions, ReduceLrOnPlateau, ThresholdMode};
pub use radam::{RAdam, RAdamState};
pub use rmsprop::{RmsProp, RmsPropState};
pub use rule::UpdateRule;
pub use schedule::{
    Chain, CosineAnnealingLr, CosineAnnealingWarmRestarts, ExponentialLr, InverseTimeDecay,
    LambdaLr, LinearLr, MultiStepLr, Schedule, StepLr,
};
pub use scheduler::{LrScheduler, Scheduler};
pub use sgd::{Momentum, Sgd, SgdState};
pub use state::{ParamState, StateReader, StateWriter};
pub use weight_decay::WeightDecay;
