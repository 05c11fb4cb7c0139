//! Why a checkpoint could not be saved, read or applied.

use std::path::PathBuf;

use crate::checkpoint::FORMAT_VERSION;

/// Why a checkpoint could not be saved, read or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes do not start with the checkpoint magic number.
    #[error("not a descent checkpoint (the file does not start with the magic bytes)")]
    NotACheckpoint,
    /// Written by another version of the format.
    #[error(
        "checkpoint format version {0} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u32),
    /// The file ends early.
    #[error("checkpoint is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The contents fail the checksum or do not decode.
    #[error("checkpoint is corrupt: {0}")]
    Corrupt(String),
    /// The model has a parameter the checkpoint lacks.
    #[error("checkpoint has no parameter {0:?}")]
    MissingParameter(String),
    /// The checkpoint has a parameter the model lacks.
    #[error("checkpoint parameter {0:?} does not exist in the model")]
    UnexpectedParameter(String),
    /// A parameter's shape differs between model and checkpoint.
    #[error(
        "parameter {name:?} has shape {expected:?} in the model but {found:?} in the checkpoint"
    )]
    ShapeMismatch {
        /// The parameter.
        name: String,
        /// Its shape in the model.
        expected: Vec<usize>,
        /// Its shape in the checkpoint.
        found: Vec<usize>,
    },
    /// State for an optimizer or scheduler is missing, inconsistent, or
    /// written by a different optimizer or scheduler.
    #[error("checkpoint state {0}")]
    State(String),
}
