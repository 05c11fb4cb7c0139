//! Why a file could not be saved, read or applied: one error type per kind
//! of file.

use std::path::PathBuf;

use crate::checkpoint::FORMAT_VERSION;
use crate::safetensors::Dtype;

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

/// Why a safetensors weights file could not be saved, read or applied to a
/// model.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes are not a safetensors file: truncated, corrupt or of
    /// another kind.
    #[error("not a valid safetensors file: {0}")]
    Invalid(String),
    /// A tensor is stored with an element type descent does not read.
    #[error("tensor {name:?} is stored as {dtype}; descent reads F32 tensors and I64 counts")]
    UnsupportedDtype {
        /// The tensor.
        name: String,
        /// Its element type as the file names it (`BF16`, `F16`, ...).
        dtype: String,
    },
    /// A tensor has more dimensions than a [`descent_tensor::Tensor`] holds.
    #[error(
        "tensor {name:?} has shape {shape:?}; at most {max} dimensions are supported",
        max = descent_tensor::MAX_RANK
    )]
    UnsupportedRank {
        /// The tensor.
        name: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// The file's tensors do not match the model's: every difference found,
    /// not just the first.
    #[error("the file does not fit the model: {}", list(.0))]
    DoesNotFit(Vec<Mismatch>),
}

fn list(mismatches: &[Mismatch]) -> String {
    let items: Vec<String> = mismatches.iter().map(Mismatch::to_string).collect();
    items.join("; ")
}

/// One difference between a model's tensors and a weights file's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Mismatch {
    /// The model has a tensor the file lacks.
    #[error("{0:?} is missing from the file")]
    Missing(String),
    /// The file has a tensor the model lacks.
    #[error("{0:?} is in the file but not in the model")]
    Unexpected(String),
    /// The shapes differ.
    #[error("{name:?} has shape {model:?} in the model but {file:?} in the file")]
    Shape {
        /// The tensor.
        name: String,
        /// Its shape in the model.
        model: Vec<usize>,
        /// Its shape in the file.
        file: Vec<usize>,
    },
    /// The element types differ (a count stored as F32, a weight as I64).
    #[error("{name:?} should be stored as {model} but the file holds {file}")]
    Dtype {
        /// The tensor.
        name: String,
        /// The element type the model's tensor is saved as.
        model: Dtype,
        /// The element type in the file.
        file: Dtype,
    },
}

/// Why a NumPy `.npy` file could not be saved or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NpyError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The bytes do not start with the `.npy` magic string.
    #[error("not a NumPy .npy file (the file does not start with \\x93NUMPY)")]
    NotNpy,
    /// A format version other than 1.0, 2.0 or 3.0.
    #[error(".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)")]
    UnsupportedVersion {
        /// The major version byte.
        major: u8,
        /// The minor version byte.
        minor: u8,
    },
    /// The file ends early.
    #[error(".npy file is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present.
        found: u64,
    },
    /// The header is not the dict NumPy writes.
    #[error(".npy header is invalid: {0}")]
    InvalidHeader(String),
    /// Elements of a type other than little-endian float32 or float64.
    #[error(
        ".npy elements of dtype {0:?} are not supported; save float32 ('<f4') or float64 ('<f8')"
    )]
    UnsupportedDtype(String),
    /// The elements are stored column-major.
    #[error(
        ".npy array is in Fortran (column-major) order; save it in C order (np.ascontiguousarray)"
    )]
    FortranOrder,
    /// More dimensions than a [`descent_tensor::Tensor`] holds.
    #[error(
        ".npy array has shape {0:?}; at most {max} dimensions are supported",
        max = descent_tensor::MAX_RANK
    )]
    UnsupportedShape(Vec<usize>),
    /// Bytes after the last element.
    #[error(".npy file has {0} unexpected bytes after the data")]
    TrailingBytes(usize),
}

impl CheckpointError {
    /// The error of a file that could not be read or written.
    pub(crate) fn io(path: PathBuf, source: std::io::Error) -> CheckpointError {
        CheckpointError::Io { path, source }
    }
}

impl SafetensorsError {
    /// The error of a file that could not be read or written.
    pub(crate) fn io(path: PathBuf, source: std::io::Error) -> SafetensorsError {
        SafetensorsError::Io { path, source }
    }
}

impl NpyError {
    /// The error of a file that could not be read or written.
    pub(crate) fn io(path: PathBuf, source: std::io::Error) -> NpyError {
        NpyError::Io { path, source }
    }
}
