//! The one error type of the data crate: what went wrong, and where.

use std::path::{Path, PathBuf};

/// Reads a whole file, naming it in the error.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// A data file that could not be read, or whose contents are not what the
/// reader expects. Every variant says where the problem is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A CSV cell, header or row is malformed.
    #[error("{source_name}, line {line}, column {column:?}: {message}")]
    Csv {
        /// The file name (or a description of in-memory text).
        source_name: String,
        /// The 1-based line number.
        line: usize,
        /// The column's header name.
        column: String,
        /// What is wrong.
        message: String,
    },
    /// A CSV table lacks a requested column.
    #[error("{source_name}: no column named {column:?} (columns are {available:?})")]
    MissingColumn {
        /// The file name.
        source_name: String,
        /// The requested column.
        column: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// An IDX file is truncated, corrupt or of another kind.
    #[error("{source_name}: {message}")]
    Idx {
        /// The file name.
        source_name: String,
        /// What is wrong.
        message: String,
    },
    /// Arguments that cannot describe a data set (e.g. an empty one).
    #[error("{0}")]
    Invalid(String),
}
