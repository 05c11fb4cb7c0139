//! Checkpoints: named tensors and scalars (a model's parameters, and an
//! optimizer's and scheduler's state) in one file.
//!
//! Layout: 8 magic bytes `DESCENT\x01`, a little-endian `u32` format version,
//! a `u64` payload length, the payload's CRC-32, then the payload (bincode
//! through serde). Every field is checked on load, so a truncated, corrupt or
//! foreign file is an `Err`, never a panic or a huge allocation. Saving writes
//! a temporary file, syncs it and renames it over the old one, so a crash at
//! any moment leaves either the old or the new checkpoint.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use descent_tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::module::Module;

const MAGIC: &[u8; 8] = b"DESCENT\x01";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;
/// Where a module's parameters live in a checkpoint: `model.0.weight`, ...
const MODEL_PREFIX: &str = "model.";

/// Why a checkpoint could not be saved, read or applied.
#[derive(Debug, thiserror::Error)]
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
    /// Written by a newer version of the format.
    #[error(
        "checkpoint format version {0} is not supported (this build reads version {FORMAT_VERSION})"
    )]
    UnsupportedVersion(u32),
    /// The file ends early.
    #[error("checkpoint is truncated: expected {expected} bytes, found {found}")]
    Truncated {
        /// Bytes the header promises.
        expected: usize,
        /// Bytes present.
        found: usize,
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
    /// State for an optimizer or scheduler is missing or inconsistent.
    #[error("checkpoint state {0}")]
    State(String),
}

/// Named tensors and scalars, saved and loaded as one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    tensors: BTreeMap<String, Tensor>,
    scalars: BTreeMap<String, f64>,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    tensors: Vec<StoredTensor>,
    scalars: Vec<(String, f64)>,
}

#[derive(Serialize, Deserialize)]
struct StoredTensor {
    name: String,
    dims: Vec<u64>,
    data: Vec<f32>,
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// A checkpoint holding every parameter of `module`.
    pub fn from_module(module: &dyn Module) -> Checkpoint {
        let mut checkpoint = Checkpoint::new();
        checkpoint.insert_module(module);
        checkpoint
    }

    /// Adds (or replaces) every parameter of `module`.
    pub fn insert_module(&mut self, module: &dyn Module) {
        for (name, param) in module.named_parameters() {
            self.tensors
                .insert(format!("{MODEL_PREFIX}{name}"), param.value());
        }
    }

    /// Copies the saved parameters into `module`. Every name and shape is
    /// checked before anything is written, so on `Err` the module is unchanged.
    ///
    /// # Errors
    /// [`CheckpointError::MissingParameter`], [`CheckpointError::UnexpectedParameter`]
    /// or [`CheckpointError::ShapeMismatch`], naming the parameter.
    pub fn restore_module(&self, module: &dyn Module) -> Result<(), CheckpointError> {
        let params = module.named_parameters();
        for (name, param) in &params {
            let saved = self
                .tensors
                .get(&format!("{MODEL_PREFIX}{name}"))
                .ok_or_else(|| CheckpointError::MissingParameter(name.clone()))?;
            if saved.shape() != param.shape() {
                return Err(CheckpointError::ShapeMismatch {
                    name: name.clone(),
                    expected: param.shape().dims().to_vec(),
                    found: saved.dims().to_vec(),
                });
            }
        }
        for key in self.tensors.keys() {
            if let Some(name) = key.strip_prefix(MODEL_PREFIX)
                && !params.iter().any(|(n, _)| n == name)
            {
                return Err(CheckpointError::UnexpectedParameter(name.to_string()));
            }
        }
        for (name, param) in &params {
            param.set_value(self.tensors[&format!("{MODEL_PREFIX}{name}")].clone());
        }
        Ok(())
    }

    /// Adds a named tensor (optimizer buffers and the like).
    pub fn insert_tensor(&mut self, name: impl Into<String>, tensor: Tensor) {
        self.tensors.insert(name.into(), tensor);
    }

    /// A named tensor.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Adds a named scalar (step counts, learning rates).
    pub fn insert_scalar(&mut self, name: impl Into<String>, value: f64) {
        self.scalars.insert(name.into(), value);
    }

    /// A named scalar.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        self.scalars.get(name).copied()
    }

    /// A named scalar that must be present, for state loaders.
    ///
    /// # Errors
    /// [`CheckpointError::State`] naming the missing entry.
    pub fn require_scalar(&self, name: &str) -> Result<f64, CheckpointError> {
        self.scalar(name)
            .ok_or_else(|| CheckpointError::State(format!("{name:?} is missing")))
    }

    /// The names of all tensors, sorted.
    pub fn tensor_names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// The file contents: header, checksum and payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let payload = Payload {
            tensors: self
                .tensors
                .iter()
                .map(|(name, t)| StoredTensor {
                    name: name.clone(),
                    dims: t.dims().iter().map(|&d| d as u64).collect(),
                    data: t.to_vec(),
                })
                .collect(),
            scalars: self.scalars.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        };
        let body = bincode::serde::encode_to_vec(&payload, bincode::config::standard())
            .expect("encoding plain numbers and strings into memory cannot fail");
        let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Parses file contents.
    ///
    /// # Errors
    /// [`CheckpointError::NotACheckpoint`], [`CheckpointError::UnsupportedVersion`],
    /// [`CheckpointError::Truncated`] or [`CheckpointError::Corrupt`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let magic_len = bytes.len().min(MAGIC.len());
        if bytes[..magic_len] != MAGIC[..magic_len] {
            return Err(CheckpointError::NotACheckpoint);
        }
        let truncated = |expected| CheckpointError::Truncated {
            expected,
            found: bytes.len(),
        };
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(CheckpointError::UnsupportedVersion(version));
        }
        let body_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let checksum = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let body = &bytes[HEADER_LEN..];
        if (body.len() as u64) < body_len {
            return Err(truncated(HEADER_LEN.saturating_add(body_len as usize)));
        }
        if body.len() as u64 > body_len {
            return Err(CheckpointError::Corrupt(format!(
                "{} unexpected bytes after the payload",
                body.len() as u64 - body_len
            )));
        }
        if crc32fast::hash(body) != checksum {
            return Err(CheckpointError::Corrupt("checksum mismatch".into()));
        }
        let (payload, used): (Payload, usize) =
            bincode::serde::decode_from_slice(body, bincode::config::standard())
                .map_err(|e| CheckpointError::Corrupt(e.to_string()))?;
        if used != body.len() {
            return Err(CheckpointError::Corrupt(
                "payload has trailing bytes".into(),
            ));
        }
        let mut checkpoint = Checkpoint::new();
        for stored in payload.tensors {
            let dims: Vec<usize> = stored.dims.iter().map(|&d| d as usize).collect();
            let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
            if dims.len() > descent_tensor::MAX_RANK || count != Some(stored.data.len()) {
                return Err(CheckpointError::Corrupt(format!(
                    "tensor {:?} has shape {dims:?} but {} values",
                    stored.name,
                    stored.data.len()
                )));
            }
            checkpoint
                .tensors
                .insert(stored.name, Tensor::from_vec(stored.data, dims));
        }
        checkpoint.scalars.extend(payload.scalars);
        Ok(checkpoint)
    }

    /// Writes the checkpoint atomically: to `path.tmp`, synced to disk, then
    /// renamed over `path`.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] if any step fails; `path` is then untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        let path = path.as_ref();
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |source| CheckpointError::Io { path: p, source }
        };
        let written = File::create(&temporary)
            .and_then(|mut file| {
                file.write_all(&self.to_bytes())?;
                file.sync_all()
            })
            .map_err(io(&temporary));
        if let Err(e) = written {
            let _ = fs::remove_file(&temporary);
            return Err(e);
        }
        fs::rename(&temporary, path).map_err(io(path))?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Persist the rename itself; not every platform can open a directory.
            if let Ok(dir) = File::open(dir) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }

    /// Reads a checkpoint file.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] if it cannot be read, else as [`Checkpoint::from_bytes`].
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, CheckpointError> {
        let path = path.as_ref();
        let bytes = fs::read(path).map_err(|source| CheckpointError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Checkpoint::from_bytes(&bytes)
    }
}

/// Saves a module's parameters to `path` atomically.
///
/// # Errors
/// As [`Checkpoint::save`].
pub fn save_module(module: &dyn Module, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::from_module(module).save(path)
}

/// Loads parameters saved by [`save_module`] into `module`.
///
/// # Errors
/// As [`Checkpoint::load`] and [`Checkpoint::restore_module`].
pub fn load_module(module: &dyn Module, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
    Checkpoint::load(path)?.restore_module(module)
}
