//! The checkpoint payload: a safetensors buffer holding the tensors as F32
//! and the scalars as rank-0 F64 values. The format was designed to be read
//! from untrusted bytes: every offset and size in its header is checked
//! against the bytes present before anything is read, so a lying length
//! costs an error, not an allocation.

use std::borrow::Cow;
use std::collections::BTreeMap;

use descent_tensor::{MAX_RANK, Tensor};
use safetensors::tensor::{Dtype, SafeTensors, View};

/// A tensor's elements as little-endian bytes, for the safetensors writer.
pub(crate) struct LittleEndian<'a> {
    dtype: Dtype,
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl<'a> LittleEndian<'a> {
    pub(crate) fn f32(tensor: &'a Tensor) -> LittleEndian<'a> {
        LittleEndian {
            dtype: Dtype::F32,
            shape: tensor.dims(),
            bytes: tensor.data().iter().flat_map(|x| x.to_le_bytes()).collect(),
        }
    }

    /// Counts stored as integers, as PyTorch stores them.
    pub(crate) fn i64(tensor: &'a Tensor) -> LittleEndian<'a> {
        LittleEndian {
            dtype: Dtype::I64,
            shape: tensor.dims(),
            bytes: tensor
                .data()
                .iter()
                .flat_map(|x| (x.round() as i64).to_le_bytes())
                .collect(),
        }
    }

    fn f64_scalar(value: f64) -> LittleEndian<'static> {
        LittleEndian {
            dtype: Dtype::F64,
            shape: &[],
            bytes: value.to_le_bytes().to_vec(),
        }
    }
}

impl View for LittleEndian<'_> {
    fn dtype(&self) -> Dtype {
        self.dtype
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

/// Encodes tensors and scalars; names are unique because both come from maps
/// and the dtype keeps the two apart.
///
/// # Panics
/// If a tensor and a scalar share a name.
pub(crate) fn encode(
    tensors: &BTreeMap<String, Tensor>,
    scalars: &BTreeMap<String, f64>,
) -> Vec<u8> {
    if let Some(name) = scalars.keys().find(|name| tensors.contains_key(*name)) {
        panic!("checkpoint: {name:?} names both a tensor and a scalar");
    }
    let views = tensors
        .iter()
        .map(|(name, t)| (name.as_str(), LittleEndian::f32(t)))
        .chain(
            scalars
                .iter()
                .map(|(name, &v)| (name.as_str(), LittleEndian::f64_scalar(v))),
        );
    safetensors::serialize(views, None)
        .expect("serializing in-memory tensors with unique names cannot fail")
}

/// Named tensors and named scalars, as a checkpoint holds them.
pub(crate) type Entries = (BTreeMap<String, Tensor>, BTreeMap<String, f64>);

/// Decodes what [`encode`] wrote.
///
/// # Errors
/// A message saying what is wrong with the bytes.
pub(crate) fn decode(bytes: &[u8]) -> Result<Entries, String> {
    let file = SafeTensors::deserialize(bytes).map_err(|e| format!("{e}"))?;
    let (mut tensors, mut scalars) = (BTreeMap::new(), BTreeMap::new());
    for (name, view) in file.iter() {
        match view.dtype() {
            Dtype::F32 => {
                let tensor = f32_tensor(name, view.shape(), view.data())?;
                tensors.insert(name.to_string(), tensor);
            }
            Dtype::F64 if view.shape().is_empty() => {
                let bytes = view.data().try_into().expect("a rank-0 F64 holds 8 bytes");
                scalars.insert(name.to_string(), f64::from_le_bytes(bytes));
            }
            dtype => {
                return Err(format!(
                    "entry {name:?} has dtype {dtype:?} and shape {:?}; checkpoints hold F32 tensors and F64 scalars",
                    view.shape()
                ));
            }
        }
    }
    Ok((tensors, scalars))
}

/// A tensor from F32 little-endian bytes whose length the safetensors
/// reader has already checked against the shape.
///
/// # Errors
/// If the rank is more than a [`Tensor`] supports, or the shape cannot be
/// a tensor's (see [`shape_fits`]).
pub(crate) fn f32_tensor(name: &str, shape: &[usize], bytes: &[u8]) -> Result<Tensor, String> {
    if shape.len() > MAX_RANK {
        return Err(format!(
            "tensor {name:?} has rank {} (shape {shape:?}); at most {MAX_RANK} is supported",
            shape.len()
        ));
    }
    if !shape_fits(shape) {
        return Err(too_many_elements(name, shape));
    }
    let values = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("chunks of 4 bytes")))
        .collect();
    Ok(Tensor::from_vec(values, shape))
}

/// Whether a [`Tensor`] can take `shape`: the product of its nonzero
/// dimensions must fit in `usize`, as `Shape::new` requires. A file's
/// byte-length check alone passes `[0, 2^40, 2^40]` (no bytes to read),
/// which `Shape::new` then refuses with a panic.
pub(crate) fn shape_fits(shape: &[usize]) -> bool {
    shape
        .iter()
        .try_fold(1usize, |product, &d| product.checked_mul(d.max(1)))
        .is_some()
}

/// The message for a stored tensor whose shape fails [`shape_fits`].
pub(crate) fn too_many_elements(name: &str, shape: &[usize]) -> String {
    format!("tensor {name:?} has shape {shape:?}, more elements than fit in usize")
}
