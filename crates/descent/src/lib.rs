//! `descent`: a small reverse-mode autodiff framework for training neural
//! networks on a CPU.
//!
//! This facade re-exports the workspace's crates; `use descent::prelude::*`
//! brings in what a training script needs.
//!
//! ```
//! use descent::prelude::*;
//!
//! let w = Param::new(Tensor::from([[0.5], [-0.5]]));
//! let tape = Tape::new();
//! let x = tape.constant(Tensor::from([[1.0, 2.0]]));
//! let loss = x.matmul(tape.param(&w)).square().mean();
//! loss.backward();
//! assert_eq!(w.grad().unwrap().to_vec(), vec![-1.0, -2.0]);
//! ```

pub use descent_autograd as autograd;
pub use descent_data as data;
pub use descent_io as io;
pub use descent_layers as layers;
pub use descent_optim as optim;
pub use descent_tensor as tensor;

pub mod plot;
pub mod train;

/// The types a training script uses, in one import.
pub mod prelude {
    pub use crate::train::{Evaluation, Every, History, Loss, Trainer, evaluate};
    pub use descent_autograd::{Activation, Param, Tape, Var, gradcheck};
    pub use descent_data::{
        Batch, DataError, DataLoader, Dataset, MinMaxScaler, Mnist, Split, Standardizer, Table,
        one_hot, train_test_split,
    };
    pub use descent_io::{Checkpoint, CheckpointError};
    pub use descent_layers::{
        AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Flatten, LayerNorm,
        MaxPool2d,
    };
    pub use descent_layers::{
        Dense, Dropout, Embedding, Identity, Init, LogSoftmax, Module, ModuleCheckpoint,
        ParamVisitor, Reduction, Sequential, Softmax, Summary, TensorKind, accuracy, bce_loss,
        bce_with_logits_loss, binary_accuracy, cross_entropy_loss, gradcheck_module, hinge_loss,
        huber_loss, l1_loss, load_module, mse_loss, nll_loss, save_module, squared_hinge_loss,
        summary,
    };
    pub use descent_optim::{
        Adadelta, Adagrad, Adam, Adamax, Chain, CosineAnnealingLr, CosineAnnealingWarmRestarts,
        CyclicLr, CyclicMode, ExponentialLr, InverseTimeDecay, LambdaLr, LinearLr, LrScheduler,
        MultiStepLr, NAdam, OneCycleLr, Optim, Optimizer, PlateauMode, PlateauOptions, RAdam,
        ReduceLrOnPlateau, RmsProp, Schedule, Scheduler, Sgd, StepLr, UpdateRule, clip_grad_norm,
        clip_grad_value,
    };
    pub use descent_tensor::{Conv1dOptions, Conv2dOptions, Pair, Pool2dOptions};
    pub use descent_tensor::{Shape, Tensor, seeded_rng};
}

/// Compiles and runs every Rust snippet of the workspace README as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeSnippets;
