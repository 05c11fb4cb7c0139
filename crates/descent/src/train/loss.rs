//! What a [`crate::train::Trainer`] minimizes: a built-in loss, or any
//! closure from a batch's model output to a scalar.

use std::fmt;
use std::sync::Arc;

use descent_autograd::Var;
use descent_data::Batch;
use descent_layers::{Reduction, bce_with_logits_loss, cross_entropy_loss, mse_loss};

use crate::train::metric::{Accuracy, BinaryAccuracy, Metric};

/// A loss as a closure: the model's output for a batch and the batch, to the
/// scalar to minimize.
type LossFn = dyn for<'t> Fn(Var<'t>, &Batch) -> Var<'t> + Send + Sync;

/// The objective of a [`crate::train::Trainer`] or [`crate::train::evaluate`].
///
/// ```
/// use descent::prelude::*;
///
/// // Focal loss (Lin et al. 2017) for class indices, as one user-defined closure.
/// let focal = Loss::custom(|logits, batch| {
///     let p = logits.softmax(-1);
///     let tape = logits.tape();
///     let one_hot = tape.constant(one_hot(batch.classes(), logits.shape().dim(1)));
///     let p_true = (p * one_hot).sum_axis(-1, false);
///     (-((1.0 - p_true).square() * p_true.ln())).mean()
/// });
/// # let _ = focal;
/// ```
#[derive(Clone)]
pub enum Loss {
    /// Softmax cross-entropy on logits against class indices; reports accuracy.
    CrossEntropy,
    /// Binary cross-entropy on logits against 0/1 targets; reports accuracy.
    BinaryCrossEntropyWithLogits,
    /// Mean squared error; reports no metric by default.
    MeanSquaredError,
    /// Any closure; reports no metric by default (add some with
    /// [`crate::train::Trainer::metric`]).
    Custom(Arc<LossFn>),
}

impl Loss {
    /// A loss computed by `f` from the model's output and the batch; it must
    /// return one value (reduce with `.mean()` or `.sum()`).
    pub fn custom(f: impl for<'t> Fn(Var<'t>, &Batch) -> Var<'t> + Send + Sync + 'static) -> Loss {
        Loss::Custom(Arc::new(f))
    }

    /// The mean loss of a batch's model outputs.
    ///
    /// # Panics
    /// As the loss does for mismatched shapes or labels.
    pub fn compute<'t>(&self, output: Var<'t>, batch: &Batch) -> Var<'t> {
        match self {
            Loss::CrossEntropy => cross_entropy_loss(output, batch.classes(), Reduction::Mean),
            Loss::BinaryCrossEntropyWithLogits => bce_with_logits_loss(
                output,
                &batch.values().reshape(output.shape()),
                Reduction::Mean,
            ),
            Loss::MeanSquaredError => mse_loss(
                output,
                &batch.values().reshape(output.shape()),
                Reduction::Mean,
            ),
            Loss::Custom(f) => f(output, batch),
        }
    }

    /// The metrics this loss reports unless told otherwise: accuracy for
    /// the classification losses.
    pub fn default_metrics(&self) -> Vec<Box<dyn Metric>> {
        match self {
            Loss::CrossEntropy => vec![Box::new(Accuracy::default())],
            Loss::BinaryCrossEntropyWithLogits => vec![Box::new(BinaryAccuracy::default())],
            Loss::MeanSquaredError | Loss::Custom(_) => Vec::new(),
        }
    }
}

impl fmt::Debug for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::CrossEntropy => f.write_str("CrossEntropy"),
            Loss::BinaryCrossEntropyWithLogits => f.write_str("BinaryCrossEntropyWithLogits"),
            Loss::MeanSquaredError => f.write_str("MeanSquaredError"),
            Loss::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}
