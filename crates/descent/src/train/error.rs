//! Why training stopped with an error.

use std::fmt;

use descent_autograd::Anomaly;
use descent_io::CheckpointError;

/// Why [`crate::train::Trainer::fit`] stopped with an error. The best
/// checkpoint on disk, if any, is the last good one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrainError {
    /// The training loss became NaN or infinite.
    #[error(
        "loss became {value} at epoch {epoch}, batch {batch}; {}; stopping (the last good checkpoint is kept)",
        Cause(first_non_finite)
    )]
    NonFiniteLoss {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 1.
        batch: usize,
        /// The loss value.
        value: f32,
        /// The first value that went non-finite, found when the trainer runs
        /// with [`crate::train::Trainer::detect_anomalies`].
        first_non_finite: Option<Anomaly>,
    },
    /// A gradient became NaN or infinite while the loss stayed finite
    /// (reported with [`crate::train::Trainer::detect_anomalies`] only).
    #[error(
        "a gradient became non-finite at epoch {epoch}, batch {batch}: {first_non_finite}; stopping before the update (the last good checkpoint is kept)"
    )]
    NonFiniteGradient {
        /// The epoch, from 1.
        epoch: usize,
        /// The batch within the epoch, from 1.
        batch: usize,
        /// The op whose backward rule produced it.
        first_non_finite: Anomaly,
    },
    /// The validation loss is NaN or infinite while training is finite: the
    /// validation data probably holds NaN or infinity.
    #[error(
        "validation loss is {value} after epoch {epoch} while the training loss is finite; does the validation data hold NaN or infinity?"
    )]
    NonFiniteValidation {
        /// The epoch, from 1.
        epoch: usize,
        /// The validation loss.
        value: f64,
    },
    /// The loader gives no batch per epoch (e.g. `drop_last` with a batch
    /// size larger than the data set), so nothing would be trained.
    #[error(
        "the data loader gives no batches: {samples} samples in batches of {batch_size} with drop_last"
    )]
    NoBatches {
        /// Samples in the data set.
        samples: usize,
        /// The loader's batch size.
        batch_size: usize,
    },
    /// Saving the best checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

/// Formats where a non-finite loss came from, or how to find out.
struct Cause<'a>(&'a Option<Anomaly>);

impl fmt::Display for Cause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(anomaly) => write!(f, "the first non-finite value: {anomaly}"),
            None => {
                f.write_str("run with Trainer::detect_anomalies() to find the op that produced it")
            }
        }
    }
}
