//! Weights files in the safetensors format, as PyTorch, Hugging Face and
//! most other libraries exchange them: named tensors, row-major, little
//! endian, with an optional string-to-string `__metadata__` map.
//!
//! descent stores F32 tensors, and counts (batch norm's
//! `num_batches_tracked`, a `torch.int64` scalar in PyTorch) as I64. The
//! `safetensors` crate checks every offset and size in the header against
//! the bytes present before anything is read, so a lying header costs an
//! error, not an allocation.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use ::safetensors::SafeTensorError;
use ::safetensors::tensor::{Dtype as FileDtype, SafeTensors};
use descent_tensor::{MAX_RANK, Tensor};

use crate::atomic::{read_file, save_file};
use crate::codec::{self, LittleEndian};
use crate::error::SafetensorsError;

/// How a tensor's elements are stored in a weights file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dtype {
    /// 32-bit floats: parameters and running statistics.
    F32,
    /// 64-bit integers: counts.
    I64,
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "F32",
            Dtype::I64 => "I64",
        })
    }
}

/// Named tensors and metadata, saved and loaded as one safetensors file.
///
/// ```
/// use descent_io::{Dtype, Weights};
/// use descent_tensor::Tensor;
///
/// let mut weights = Weights::new();
/// weights.insert("0.weight", Tensor::from([[1.0, 2.0]]), Dtype::F32);
/// weights.insert("1.num_batches_tracked", Tensor::scalar(7.0), Dtype::I64);
/// weights.insert_metadata("format", "pt");
/// let loaded = Weights::from_bytes(&weights.to_bytes())?;
/// assert_eq!(loaded, weights);
/// assert_eq!(loaded.get("1.num_batches_tracked"), Some((Dtype::I64, &Tensor::scalar(7.0))));
/// # Ok::<(), descent_io::SafetensorsError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Weights {
    tensors: BTreeMap<String, (Dtype, Tensor)>,
    metadata: BTreeMap<String, String>,
}

impl Weights {
    /// No tensors, no metadata.
    pub fn new() -> Weights {
        Weights::default()
    }

    /// Adds (or replaces) a named tensor, to be stored as `dtype`; I64
    /// values are rounded to the nearest integer.
    pub fn insert(&mut self, name: impl Into<String>, tensor: Tensor, dtype: Dtype) {
        self.tensors.insert(name.into(), (dtype, tensor));
    }

    /// A named tensor and how it is stored.
    pub fn get(&self, name: &str) -> Option<(Dtype, &Tensor)> {
        self.tensors.get(name).map(|(dtype, t)| (*dtype, t))
    }

    /// The names of all tensors, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }

    /// Adds (or replaces) an entry of the `__metadata__` map.
    pub fn insert_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.metadata.insert(key.into(), value.into());
    }

    /// The `__metadata__` map; empty if the file has none.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// The file contents.
    pub fn to_bytes(&self) -> Vec<u8> {
        let views = self.tensors.iter().map(|(name, (dtype, tensor))| {
            let view = match dtype {
                Dtype::F32 => LittleEndian::f32(tensor),
                Dtype::I64 => LittleEndian::i64(tensor),
            };
            (name.as_str(), view)
        });
        let metadata = (!self.metadata.is_empty()).then(|| {
            self.metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>()
        });
        ::safetensors::serialize(views, metadata)
            .expect("serializing in-memory tensors with unique names cannot fail")
    }

    /// Parses file contents.
    ///
    /// # Errors
    /// [`SafetensorsError::Invalid`] for bytes that are not a safetensors
    /// file (or a tensor whose shape no tensor can have),
    /// [`SafetensorsError::UnsupportedDtype`] or
    /// [`SafetensorsError::UnsupportedRank`] for a tensor descent cannot hold.
    pub fn from_bytes(bytes: &[u8]) -> Result<Weights, SafetensorsError> {
        let (header_len, header) =
            SafeTensors::read_metadata(bytes).map_err(|e| invalid(e, bytes.len()))?;
        // `read_metadata` has checked that the tensors' byte ranges tile the
        // data exactly and match their shapes and dtypes.
        let data = &bytes[8 + header_len..];
        let mut entries: Vec<_> = header.tensors().into_iter().collect();
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut weights = Weights::new();
        for (name, info) in entries {
            let (start, end) = info.data_offsets;
            let (shape, elements) = (&info.shape, &data[start..end]);
            if shape.len() > MAX_RANK {
                return Err(SafetensorsError::UnsupportedRank {
                    name: name.to_string(),
                    shape: shape.to_vec(),
                });
            }
            if !codec::shape_fits(shape) {
                return Err(SafetensorsError::Invalid(codec::too_many_elements(
                    &name, shape,
                )));
            }
            let (dtype, values) = match info.dtype {
                FileDtype::F32 => (Dtype::F32, decode(elements, f32::from_le_bytes)),
                FileDtype::I64 => (
                    Dtype::I64,
                    decode(elements, |b| i64::from_le_bytes(b) as f32),
                ),
                other => {
                    return Err(SafetensorsError::UnsupportedDtype {
                        name: name.to_string(),
                        dtype: other.to_string(),
                    });
                }
            };
            weights.insert(name, Tensor::from_vec(values, shape.as_slice()), dtype);
        }
        if let Some(metadata) = header.metadata() {
            weights.metadata = metadata
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
        }
        Ok(weights)
    }

    /// Writes the file atomically (see [`crate::write_atomically`]).
    ///
    /// # Errors
    /// [`SafetensorsError::Io`] if any step fails; `path` is then untouched.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), SafetensorsError> {
        save_file(path.as_ref(), &self.to_bytes(), SafetensorsError::io)
    }

    /// Reads a safetensors file.
    ///
    /// # Errors
    /// [`SafetensorsError::Io`] if it cannot be read, else as [`Weights::from_bytes`].
    pub fn load(path: impl AsRef<Path>) -> Result<Weights, SafetensorsError> {
        Weights::from_bytes(&read_file(path.as_ref(), SafetensorsError::io)?)
    }
}

/// Elements of `N` little-endian bytes each, whose count the safetensors
/// reader has already checked against the shape.
fn decode<const N: usize>(bytes: &[u8], element: impl Fn([u8; N]) -> f32) -> Vec<f32> {
    bytes
        .chunks_exact(N)
        .map(|b| element(b.try_into().expect("chunks of N bytes")))
        .collect()
}

/// The reader's error, said in terms of the file where its own words are
/// vague.
fn invalid(error: SafeTensorError, file_len: usize) -> SafetensorsError {
    SafetensorsError::Invalid(match error {
        SafeTensorError::HeaderTooSmall => {
            format!("{file_len} bytes cannot hold the 8-byte header length")
        }
        SafeTensorError::InvalidHeaderLength => {
            format!("the header length runs past the end of the {file_len}-byte file")
        }
        SafeTensorError::MetadataIncompleteBuffer => format!(
            "the tensors' byte ranges do not end where the {file_len}-byte file ends (truncated or extended)"
        ),
        other => other.to_string(),
    })
}
