//! `IndexTensor`: an n-dimensional array of `usize` indices, so positions
//! never travel as `f32` (which is exact only below 2^24).

use std::fmt;

use crate::shape::Shape;
use crate::view::ReshapeSpec;

/// An n-dimensional array of indices in row-major order, the counterpart of
/// PyTorch's `int64` index tensors: what [`crate::Tensor::argmax_axis`] and
/// [`crate::Tensor::topk`] return, and what [`crate::Tensor::gather`] and
/// [`crate::Tensor::scatter_add`] take.
///
/// ```
/// use descent_tensor::IndexTensor;
///
/// let idx = IndexTensor::from([[0, 2], [1, 1]]);
/// assert_eq!(idx.dims(), &[2, 2]);
/// assert_eq!(idx.get(&[0, 1]), 2);
/// assert_eq!(idx.reshape([-1]).to_vec(), vec![0, 2, 1, 1]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IndexTensor {
    shape: Shape,
    data: Vec<usize>,
}

impl IndexTensor {
    /// Wraps indices in row-major order.
    ///
    /// # Panics
    /// If `data.len()` differs from the number of elements of `shape`.
    pub fn from_vec(data: Vec<usize>, shape: impl Into<Shape>) -> IndexTensor {
        let shape = shape.into();
        assert_eq!(
            data.len(),
            shape.numel(),
            "IndexTensor::from_vec: {} indices cannot fill shape {shape:?} ({} elements)",
            data.len(),
            shape.numel()
        );
        IndexTensor { shape, data }
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// The number of indices.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The indices in row-major order.
    pub fn data(&self) -> &[usize] {
        &self.data
    }

    /// The indices as a new `Vec`.
    pub fn to_vec(&self) -> Vec<usize> {
        self.data.clone()
    }

    /// The index at a multi-index position.
    ///
    /// # Panics
    /// If the position has the wrong rank or is out of bounds.
    pub fn get(&self, index: &[usize]) -> usize {
        self.data[self.shape.offset_of("IndexTensor::get", index)]
    }

    /// The single index of a one-element array (any rank).
    ///
    /// # Panics
    /// If there are more or fewer than one.
    pub fn item(&self) -> usize {
        assert_eq!(
            self.numel(),
            1,
            "item: index tensor of shape {:?} has {} elements, not 1",
            self.shape,
            self.numel()
        );
        self.data[0]
    }

    /// The same indices with another shape; one dimension may be `-1`.
    ///
    /// # Panics
    /// As [`crate::Tensor::reshape`].
    pub fn reshape(&self, shape: impl ReshapeSpec) -> IndexTensor {
        let shape = shape.resolve("reshape", self.numel());
        assert_eq!(
            shape.numel(),
            self.numel(),
            "reshape: cannot view shape {:?} as {shape:?}",
            self.shape
        );
        IndexTensor::from_vec(self.data.clone(), shape)
    }
}

/// A 1-D index tensor.
impl From<Vec<usize>> for IndexTensor {
    fn from(data: Vec<usize>) -> IndexTensor {
        let len = data.len();
        IndexTensor::from_vec(data, [len])
    }
}

/// A 1-D index tensor holding a copy of the indices.
impl From<&[usize]> for IndexTensor {
    fn from(data: &[usize]) -> IndexTensor {
        IndexTensor::from(data.to_vec())
    }
}

/// A 1-D index tensor.
impl<const N: usize> From<[usize; N]> for IndexTensor {
    fn from(data: [usize; N]) -> IndexTensor {
        IndexTensor::from(data.to_vec())
    }
}

/// A 2-D index tensor from its rows.
impl<const R: usize, const C: usize> From<[[usize; C]; R]> for IndexTensor {
    fn from(rows: [[usize; C]; R]) -> IndexTensor {
        IndexTensor::from_vec(rows.as_flattened().to_vec(), [R, C])
    }
}

impl fmt::Debug for IndexTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::display::debug_short(f, "IndexTensor", self.shape, &self.data)
    }
}
