//! `descent`: a small reverse-mode autodiff framework for training neural
//! networks on a CPU: tensors, a tape you can read in one sitting, layers,
//! every gradient-descent variant, learning-rate schedules and a training
//! loop. `use descent::prelude::*` brings in what a training script needs;
//! the crates behind it are re-exported as [`tensor`], [`autograd`],
//! [`layers`], [`optim`], [`data`] and [`io`], so a custom op, layer or
//! optimizer needs no other dependency. With the `distributed` feature,
//! `descent::distributed` trains data-parallel across processes and
//! machines, on MPI.
//!
//! # A tour
//!
//! **Tensors** are f32, n-dimensional and row-major, with NumPy broadcasting.
//!
//! ```
//! use descent::prelude::*;
//!
//! let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
//! let y = &x * 2.0 + Tensor::from([10.0, 20.0]); // [2, 2] + [2] broadcasts
//! assert_eq!(y.to_vec(), vec![12.0, 24.0, 16.0, 28.0]);
//! assert_eq!(y.slice(0, 1..2).to_vec(), vec![16.0, 28.0]); // row 1, as y[1:2]
//! println!("{y}"); // tensor([[12., 24.], [16., 28.]]), as PyTorch prints it
//! ```
//!
//! **The tape** records a forward pass; `backward` walks it once in reverse
//! and adds each [`autograd::Param`]'s gradient to it.
//!
//! ```
//! use descent::prelude::*;
//!
//! let w = Param::new(Tensor::from([[0.5], [-0.5]]));
//! let tape = Tape::new();
//! let x = tape.constant(Tensor::from([[1.0, 2.0]]));
//! let loss = x.matmul(tape.param(&w)).square().mean(); // (0.5 - 1.0)^2
//! loss.backward();
//! assert_eq!(loss.item(), 0.25);
//! assert_eq!(w.grad().unwrap().to_vec(), vec![-1.0, -2.0]);
//! ```
//!
//! **A module** maps a value on a tape to another and names its parameters
//! as PyTorch does.
//!
//! ```
//! use descent::prelude::*;
//!
//! let mut rng = seeded_rng(0);
//! let model = Sequential::new()
//!     .push(Dense::new(784, 128, &mut rng))
//!     .push(Activation::Relu)
//!     .push(Dense::new(128, 10, &mut rng));
//! assert_eq!(model.named_parameters()[2].0, "2.weight");
//! let tape = Tape::eval(); // inference: no gradients, dropout off
//! let logits = model.forward(tape.constant(Tensor::zeros([32, 784])));
//! assert_eq!(logits.shape().dims(), &[32, 10]);
//! ```
//!
//! **An optimizer** updates any set of parameters with PyTorch's formulas.
//!
//! ```
//! use descent::prelude::*;
//!
//! let w = Param::new(Tensor::from([4.0]));
//! let mut opt = Optim::new([w.clone()], Adam::new(0.1));
//! for _ in 0..200 {
//!     let tape = Tape::new();
//!     (tape.param(&w) - 1.0).square().sum().backward(); // minimize (w - 1)^2
//!     opt.step();
//!     opt.zero_grad();
//! }
//! assert!((w.value().item() - 1.0).abs() < 1e-2);
//! ```
//!
//! **The trainer** runs the loop: batches, progress, validation, schedules,
//! early stopping and checkpoints.
//!
//! ```
//! use descent::prelude::*;
//!
//! let mut rng = seeded_rng(0);
//! let x = Tensor::randn([64, 2], &mut rng);
//! let labels: Vec<usize> = x.data().chunks(2).map(|r| (r[0] > r[1]) as usize).collect();
//! let data = Dataset::classification(x, &labels)?;
//! let model = Dense::new(2, 2, &mut rng);
//! let mut opt = Optim::new(model.parameters(), Adam::new(0.05));
//! let mut loader = DataLoader::new(data.clone(), 16)?.shuffle(0);
//! let history = Trainer::new(&model, &mut opt, Loss::CrossEntropy)
//!     .epochs(20)
//!     .quiet()
//!     .fit(&mut loader, Some(&data))
//!     .unwrap();
//! assert!(history.last().unwrap().validation.as_ref().unwrap().accuracy().unwrap() > 0.9);
//! # Ok::<(), DataError>(())
//! ```

pub use descent_autograd as autograd;
pub use descent_data as data;
#[cfg(feature = "distributed")]
pub use descent_distributed as distributed;
pub use descent_io as io;
pub use descent_layers as layers;
pub use descent_optim as optim;
pub use descent_tensor as tensor;

pub mod plot;
pub mod train;

/// The types a training script uses, in one import.
pub mod prelude {
    pub use crate::train::{
        Accuracy, BinaryAccuracy, EpochStats, Evaluation, Every, History, Loss, MacroF1, Metric,
        RSquared, TrainError, Trainer, evaluate, metric_fn, predict, predict_classes,
    };
    pub use descent_autograd::{Activation, Param, Tape, Var, gradcheck};
    pub use descent_data::{
        Batch, DataError, DataLoader, Dataset, MinMaxScaler, Mnist, Split, Standardizer, Table,
        Targets, k_fold, k_fold_stratified, one_hot, train_test_split, train_test_split_stratified,
    };
    pub use descent_io::{
        Checkpoint, CheckpointError, NpyError, SafetensorsError, Weights, load_npy, save_npy,
    };
    pub use descent_layers::{
        AdaptiveAvgPool2d, AvgPool2d, BatchNorm1d, BatchNorm2d, ConfusionMatrix, Conv1d, Conv2d,
        Dense, Dropout, Embedding, Flatten, Identity, Init, LayerNorm, LogSoftmax, MaxPool2d,
        Module, ModuleCheckpoint, ModuleWeights, ParamVisitor, Reduction, Sequential, Softmax,
        Summary, TensorKind, accuracy, bce_loss, bce_with_logits_loss, binary_accuracy,
        cross_entropy_loss, gradcheck_module, hinge_loss, huber_loss, l1_loss, load_module,
        load_safetensors, mean_absolute_error, mean_squared_error, mse_loss, nll_loss,
        predicted_classes, r2_score, save_module, save_safetensors, squared_hinge_loss, summary,
    };
    pub use descent_optim::{
        Adadelta, Adagrad, Adam, AdamW, Adamax, AnnealStrategy, Chain, CosineAnnealingLr,
        CosineAnnealingWarmRestarts, CyclicLr, CyclicMode, ExponentialLr, InverseTimeDecay,
        LambdaLr, Lbfgs, LbfgsOptim, LineSearch, LinearLr, LrScheduler, Momentum, MultiStepLr,
        NAdam, OneCycleLr, Optim, OptimError, Optimizer, PlateauMode, PlateauOptions, RAdam,
        ReduceLrOnPlateau, RmsProp, RuleOptions, Schedule, Scheduler, Sgd, StepLr, ThresholdMode,
        UpdateRule, WeightDecay, clip_grad_norm, clip_grad_value,
    };
    pub use descent_tensor::{Conv1dOptions, Conv2dOptions, Pair, Pool2dOptions};
    pub use descent_tensor::{IndexTensor, Mask, Shape, Tensor, seeded_rng};
}

/// Compiles and runs every Rust snippet of the workspace README as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeSnippets;
