//! `descent-layers`: modules, layers, losses, metrics, checkpoints and
//! safetensors weights files.
//!
//! ```
//! use descent_autograd::Tape;
//! use descent_layers::{Activation, Dense, Module, Reduction, Sequential, cross_entropy_loss};
//! use descent_tensor::{Tensor, seeded_rng};
//!
//! let mut rng = seeded_rng(0);
//! let model = Sequential::new()
//!     .push(Dense::new(4, 8, &mut rng))
//!     .push(Activation::Relu)
//!     .push(Dense::new(8, 3, &mut rng));
//! let tape = Tape::new();
//! let x = tape.constant(Tensor::randn([5, 4], &mut rng));
//! let loss = cross_entropy_loss(model.forward(x), &[0, 2, 1, 1, 0], Reduction::Mean);
//! loss.backward();
//! assert!(model.parameters().iter().all(|p| p.grad().is_some()));
//! ```

mod activation;
mod checkpoint;
mod conv;
mod dense;
mod dropout;
mod embedding;
mod flatten;
mod init;
mod loss;
mod metrics;
mod module;
mod norm;
mod pooling;
mod sequential;
mod summary;
mod weights;

pub use activation::{Identity, LogSoftmax, Softmax};
pub use checkpoint::{ModuleCheckpoint, load_module, save_module};
pub use conv::{Conv1d, Conv2d};
pub use dense::Dense;
pub use descent_autograd::Activation;
pub use descent_io::{Checkpoint, CheckpointError, SafetensorsError, Weights};
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use flatten::Flatten;
pub use init::Init;
pub use loss::{
    Reduction, bce_loss, bce_with_logits_loss, cross_entropy_loss, hinge_loss, huber_loss, l1_loss,
    mse_loss, nll_loss, squared_hinge_loss,
};
pub use metrics::{
    ConfusionMatrix, accuracy, binary_accuracy, mean_absolute_error, mean_squared_error,
    predicted_classes, r2_score,
};
pub use module::{Module, ParamVisitor, TensorKind, gradcheck_module};
pub use norm::{BatchNorm1d, BatchNorm2d, LayerNorm};
pub use pooling::{AdaptiveAvgPool2d, AvgPool2d, MaxPool2d};
pub use sequential::Sequential;
pub use summary::{LayerSummary, Summary, summary};
pub use weights::{ModuleWeights, load_safetensors, save_safetensors};
