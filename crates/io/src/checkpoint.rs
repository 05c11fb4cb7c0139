//! Checkpoints: named tensors and scalars (a model's parameters, and an
//! optimizer's and a scheduler's state) in one file.
//!
//! Layout: 8 magic bytes `DESCENT\x01`, a little-endian `u32` format version,
//! a `u64` payload length, the payload's CRC-32, then the payload (see
//! `codec.rs`). Every field is checked on load, so a truncated, corrupt or
//! foreign file is an `Err`, never a panic or a huge allocation. Saving goes
//! through [`crate::write_atomically`], so a crash at any moment leaves either the
//! old or the new checkpoint.

use std::collections::BTreeMap;
use std::path::Path;

use descent_tensor::Tensor;

use crate::atomic::{read_file, save_file};
use crate::codec;
use crate::error::CheckpointError;

const MAGIC: &[u8; 8] = b"DESCENT\x01";
/// Version 2 holds a safetensors payload; version 1 (bincode) is no longer read.
pub(crate) const FORMAT_VERSION: u32 = 2;
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Named tensors and scalars, saved and loaded as one file.
///
/// ```
/// use descent_io::Checkpoint;
/// use descent_tensor::Tensor;
///
/// let path = std::env::temp_dir().join(format!("doc-{}.ckpt", std::process::id()));
/// let mut checkpoint = Checkpoint::new();
/// checkpoint.insert_tensor("w", Tensor::from([1.0, 2.0]));
/// checkpoint.insert_scalar("step", 3.0);
/// checkpoint.save(&path)?;
/// let loaded = Checkpoint::load(&path)?;
/// assert_eq!(loaded.tensor("w"), Some(&Tensor::from([1.0, 2.0])));
/// assert_eq!(loaded.scalar("step"), Some(3.0));
/// # std::fs::remove_file(path).unwrap();
/// # Ok::<(), descent_io::CheckpointError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checkpoint {
    tensors: BTreeMap<String, Tensor>,
    scalars: BTreeMap<String, f64>,
}

impl Checkpoint {
    /// An empty checkpoint.
    pub fn new() -> Checkpoint {
        Checkpoint::default()
    }

    /// Adds (or replaces) a named tensor.
    pub fn insert_tensor(&mut self, name: impl Into<String>, tensor: Tensor) {
        self.tensors.insert(name.into(), tensor);
    }

    /// A named tensor.
    pub fn tensor(&self, name: &str) -> Option<&Tensor> {
        self.tensors.get(name)
    }

    /// Adds (or replaces) a named scalar (step counts, learning rates).
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

    /// The names of all scalars, sorted.
    pub fn scalar_names(&self) -> impl Iterator<Item = &str> {
        self.scalars.keys().map(String::as_str)
    }

    /// The file contents: header, checksum and payload.
    ///
    /// # Panics
    /// If a tensor and a scalar share a name.
    pub fn to_bytes(&self) -> Vec<u8> {
        let body = codec::encode(&self.tensors, &self.scalars);
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
            found: bytes.len() as u64,
        };
        if bytes.len() < HEADER_LEN {
            return Err(truncated(HEADER_LEN as u64));
        }
        let version = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes"));
        if version != FORMAT_VERSION {
            return Err(CheckpointError::UnsupportedVersion(version));
        }
        let body_len = u64::from_le_bytes(bytes[12..20].try_into().expect("8 bytes"));
        let checksum = u32::from_le_bytes(bytes[20..24].try_into().expect("4 bytes"));
        let body = &bytes[HEADER_LEN..];
        if (body.len() as u64) < body_len {
            return Err(truncated((HEADER_LEN as u64).saturating_add(body_len)));
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
        Checkpoint::from_payload(body)
    }

    /// Decodes a payload alone, without the header and checksum that
    /// [`Checkpoint::from_bytes`] checks first: the decoder fuzz and
    /// property tests attack directly, since random bytes rarely pass a
    /// checksum.
    ///
    /// # Errors
    /// [`CheckpointError::Corrupt`] saying what is wrong.
    pub fn from_payload(payload: &[u8]) -> Result<Checkpoint, CheckpointError> {
        let (tensors, scalars) = codec::decode(payload).map_err(CheckpointError::Corrupt)?;
        Ok(Checkpoint { tensors, scalars })
    }

    /// Writes the checkpoint atomically (see [`crate::write_atomically`]).
    ///
    /// # Errors
    /// [`CheckpointError::Io`] if any step fails; `path` is then untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), CheckpointError> {
        save_file(path.as_ref(), &self.to_bytes(), CheckpointError::io)
    }

    /// Reads a checkpoint file.
    ///
    /// # Errors
    /// [`CheckpointError::Io`] if it cannot be read, else as [`Checkpoint::from_bytes`].
    pub fn load(path: impl AsRef<Path>) -> Result<Checkpoint, CheckpointError> {
        Checkpoint::from_bytes(&read_file(path.as_ref(), CheckpointError::io)?)
    }
}
