//! Boolean masks: `Mask`, the comparisons that make one (`gt`, `ge`, `lt`,
//! `le`, `eq`, `ne`, with PyTorch's names) and the ops that use one
//! (`where_`, `masked_fill`). Masks broadcast like tensors.

use std::fmt;
use std::ops::{BitAnd, BitOr, Not};

use crate::shape::Shape;
use crate::tensor::Tensor;

/// An n-dimensional array of booleans in row-major order, the counterpart of
/// PyTorch's `bool` tensors: what comparisons return, and what
/// [`Tensor::where_`] and [`Tensor::masked_fill`] take. `!`, `&` and `|`
/// combine masks, broadcasting like tensors.
///
/// ```
/// use descent_tensor::Tensor;
///
/// let x = Tensor::from([-1.0, 0.5, 2.0]);
/// let inside = x.gt(0.0) & x.lt(1.0);
/// assert_eq!(inside.to_vec(), vec![false, true, false]);
/// assert_eq!(x.masked_fill(&!inside, 0.0).to_vec(), vec![0.0, 0.5, 0.0]);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    shape: Shape,
    data: Vec<bool>,
}

impl Mask {
    /// Wraps booleans in row-major order.
    ///
    /// # Panics
    /// If `data.len()` differs from the number of elements of `shape`.
    pub fn from_vec(data: Vec<bool>, shape: impl Into<Shape>) -> Mask {
        let shape = shape.into();
        assert_eq!(
            data.len(),
            shape.numel(),
            "Mask::from_vec: {} values cannot fill shape {shape:?} ({} elements)",
            data.len(),
            shape.numel()
        );
        Mask { shape, data }
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The values in row-major order.
    pub fn data(&self) -> &[bool] {
        &self.data
    }

    /// The values as a new `Vec`.
    pub fn to_vec(&self) -> Vec<bool> {
        self.data.clone()
    }

    /// The value at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    pub fn get(&self, index: &[usize]) -> bool {
        self.data[self.shape.offset_of("Mask::get", index)]
    }

    /// How many values are true (PyTorch's `count_nonzero`, or `mask.sum()`).
    pub fn count_nonzero(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }

    /// True when any value is true (false for an empty mask).
    pub fn any(&self) -> bool {
        self.data.iter().any(|&b| b)
    }

    /// True when every value is true (true for an empty mask).
    pub fn all(&self) -> bool {
        self.data.iter().all(|&b| b)
    }

    /// The mask as 1.0 (true) and 0.0 (false), like PyTorch's `mask.float()`.
    pub fn float(&self) -> Tensor {
        Tensor::from_iter(
            self.shape,
            self.data.iter().map(|&b| f32::from(u8::from(b))),
        )
    }

    /// Combines two masks element by element after broadcasting them.
    fn zip(&self, op: &str, other: &Mask, f: impl Fn(bool, bool) -> bool) -> Mask {
        let (shape, [a, b]) = broadcast_offsets(op, [self.shape, other.shape]);
        let data = a.zip(b).map(|(i, j)| f(self.data[i], other.data[j]));
        Mask::from_vec(data.collect(), shape)
    }
}

/// The broadcast shape of `shapes`, and for each operand the offsets it is
/// read at, element by element of that shape.
///
/// # Panics
/// If the shapes cannot be broadcast; the message names `op`.
fn broadcast_offsets<const N: usize>(
    op: &str,
    shapes: [Shape; N],
) -> (Shape, [crate::shape::Offsets; N]) {
    let out = shapes[1..]
        .iter()
        .fold(shapes[0], |acc, &s| Shape::broadcast(op, acc, s));
    (out, shapes.map(|s| out.offsets(s.broadcast_strides(out))))
}

impl Tensor {
    /// `self > other` element-wise, broadcasting; `other` is a tensor or a
    /// scalar (`x.gt(0.0)`). NaN compares false, as in PyTorch.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.0, 5.0], [3.0, 2.0]]);
    /// assert_eq!(x.gt(2.0).to_vec(), vec![false, true, true, false]);
    /// let row_max = Tensor::from([5.0, 3.0]).reshape([2, 1]);
    /// assert_eq!(x.eq(&row_max).count_nonzero(), 2);
    /// ```
    ///
    /// # Panics
    /// If the shapes cannot be broadcast; the message names both.
    pub fn gt(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("gt", &other.into(), |a, b| a > b)
    }

    /// `self >= other` element-wise, broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn ge(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("ge", &other.into(), |a, b| a >= b)
    }

    /// `self < other` element-wise, broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn lt(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("lt", &other.into(), |a, b| a < b)
    }

    /// `self <= other` element-wise, broadcasting.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn le(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("le", &other.into(), |a, b| a <= b)
    }

    /// `self == other` element-wise, broadcasting (`==` on two tensors
    /// instead compares them whole).
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn eq(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("eq", &other.into(), |a, b| a == b)
    }

    /// `self != other` element-wise, broadcasting; NaN differs from
    /// everything, itself included.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn ne(&self, other: impl Into<Tensor>) -> Mask {
        self.compare("ne", &other.into(), |a, b| a != b)
    }

    /// True where the element is NaN, like `torch.isnan`.
    pub fn isnan(&self) -> Mask {
        Mask::from_vec(
            self.data().iter().map(|x| x.is_nan()).collect(),
            self.shape(),
        )
    }

    fn compare(&self, op: &str, other: &Tensor, f: impl Fn(f32, f32) -> bool) -> Mask {
        let (shape, [a, b]) = broadcast_offsets(op, [self.shape(), other.shape()]);
        let (x, y) = (self.data(), other.data());
        Mask::from_vec(a.zip(b).map(|(i, j)| f(x[i], y[j])).collect(), shape)
    }

    /// `a` where `mask` is true, else `b`, broadcasting all three (PyTorch's
    /// `torch.where(condition, input, other)`); `a` and `b` are tensors or
    /// scalars.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([-2.0, 0.5, 3.0]);
    /// let leaky = Tensor::where_(&x.gt(0.0), &x, x.mul_scalar(0.1));
    /// assert_eq!(leaky.to_vec(), vec![-0.2, 0.5, 3.0]);
    /// assert_eq!(Tensor::where_(&x.lt(1.0), 1.0, 0.0).to_vec(), vec![1.0, 1.0, 0.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes cannot be broadcast together; the message names them.
    pub fn where_(mask: &Mask, a: impl Into<Tensor>, b: impl Into<Tensor>) -> Tensor {
        let (a, b) = (a.into(), b.into());
        let (shape, [m, ia, ib]) =
            broadcast_offsets("where_", [mask.shape(), a.shape(), b.shape()]);
        let (x, y) = (a.data(), b.data());
        let values = m
            .zip(ia.zip(ib))
            .map(|(k, (i, j))| if mask.data[k] { x[i] } else { y[j] });
        Tensor::from_iter(shape, values)
    }

    /// This tensor with `value` wherever `mask` is true (PyTorch's
    /// `masked_fill`); the mask broadcasts to this tensor's shape.
    ///
    /// # Panics
    /// If the mask does not broadcast to this tensor's shape.
    pub fn masked_fill(&self, mask: &Mask, value: f32) -> Tensor {
        check_mask_fits("masked_fill", mask, self.shape());
        Tensor::where_(mask, value, self)
    }
}

/// Checks that `mask` broadcasts to `shape` itself (not to a larger shape).
///
/// # Panics
/// If it does not, naming `op` and both shapes.
pub(crate) fn check_mask_fits(op: &str, mask: &Mask, shape: Shape) {
    let fits = mask.shape.rank() <= shape.rank()
        && (0..mask.shape.rank()).all(|i| {
            let m = mask.shape.dim(mask.shape.rank() - 1 - i);
            m == 1 || m == shape.dim(shape.rank() - 1 - i)
        });
    assert!(
        fits,
        "{op}: a mask of shape {:?} does not broadcast to shape {shape:?}",
        mask.shape
    );
}

impl Not for &Mask {
    type Output = Mask;
    /// The element-wise negation.
    fn not(self) -> Mask {
        Mask::from_vec(self.data.iter().map(|&b| !b).collect(), self.shape)
    }
}

impl Not for Mask {
    type Output = Mask;
    /// The element-wise negation.
    fn not(self) -> Mask {
        !&self
    }
}

macro_rules! logic_operator {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait<&Mask> for &Mask {
            type Output = Mask;
            /// The element-wise combination, broadcasting.
            fn $method(self, rhs: &Mask) -> Mask {
                self.zip(stringify!($method), rhs, |a, b| a $op b)
            }
        }
        impl $trait<Mask> for Mask {
            type Output = Mask;
            /// The element-wise combination, broadcasting.
            fn $method(self, rhs: Mask) -> Mask {
                (&self).$method(&rhs)
            }
        }
    };
}

logic_operator!(BitAnd, bitand, &);
logic_operator!(BitOr, bitor, |);

/// A 1-D mask.
impl From<Vec<bool>> for Mask {
    fn from(data: Vec<bool>) -> Mask {
        let len = data.len();
        Mask::from_vec(data, [len])
    }
}

/// A 1-D mask.
impl<const N: usize> From<[bool; N]> for Mask {
    fn from(data: [bool; N]) -> Mask {
        Mask::from(data.to_vec())
    }
}

impl fmt::Debug for Mask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::display::debug_short(f, "Mask", self.shape, &self.data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_broadcast_and_treat_nan_as_pytorch() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, f32::NAN, 0.0]]);
        let col = Tensor::from([[2.0], [0.0]]);
        assert_eq!(
            x.gt(&col).to_vec(),
            [false, false, true, true, false, false]
        );
        assert_eq!(x.ge(&col).to_vec(), [false, true, true, true, false, true]);
        assert_eq!(x.lt(2.0).to_vec(), [true, false, false, false, false, true]);
        assert_eq!(x.le(2.0).to_vec(), [true, true, false, false, false, true]);
        assert_eq!(
            x.eq(2.0).to_vec(),
            [false, true, false, false, false, false]
        );
        assert_eq!(x.ne(2.0).to_vec(), [true, false, true, true, true, true]);
        assert_eq!(x.isnan().count_nonzero(), 1);
        assert_eq!(x.gt(Tensor::zeros([3])).dims(), &[2, 3]);
    }

    #[test]
    #[should_panic(expected = "gt: shapes [2, 3] and [2] cannot be broadcast together")]
    fn comparisons_name_the_op_and_shapes() {
        Tensor::zeros([2, 3]).gt(Tensor::zeros([2]));
    }

    #[test]
    fn where_broadcasts_mask_and_both_branches() {
        let mask = Mask::from_vec(vec![true, false], [2, 1]);
        let a = Tensor::from([1.0, 2.0, 3.0]);
        let out = Tensor::where_(&mask, &a, -1.0);
        assert_eq!(out.dims(), &[2, 3]);
        assert_eq!(out.to_vec(), vec![1.0, 2.0, 3.0, -1.0, -1.0, -1.0]);
        let empty = Tensor::where_(&Mask::from_vec(vec![], [0, 3]), &a, 0.0);
        assert_eq!(empty.dims(), &[0, 3]);
    }

    #[test]
    fn masked_fill_broadcasts_the_mask_to_the_tensor() {
        let x = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let first_column = Mask::from([true, false]);
        assert_eq!(
            x.masked_fill(&first_column, 0.0).to_vec(),
            vec![0.0, 2.0, 0.0, 4.0]
        );
        let filled = x.masked_fill(&x.gt(2.5), f32::NEG_INFINITY);
        assert_eq!(filled.get(&[1, 1]), f32::NEG_INFINITY);
        assert_eq!(filled.get(&[0, 1]), 2.0);
    }

    #[test]
    #[should_panic(
        expected = "masked_fill: a mask of shape [2, 2] does not broadcast to shape [2]"
    )]
    fn masked_fill_keeps_the_tensor_shape() {
        Tensor::zeros([2]).masked_fill(&Mask::from_vec(vec![true; 4], [2, 2]), 1.0);
    }

    #[test]
    fn masks_combine_and_count() {
        let a = Mask::from([true, true, false]);
        let b = Mask::from([true, false, false]);
        assert_eq!((&a & &b).to_vec(), [true, false, false]);
        assert_eq!((a.clone() | b.clone()).to_vec(), [true, true, false]);
        assert_eq!((!&a).to_vec(), [false, false, true]);
        assert_eq!(a.count_nonzero(), 2);
        assert!(a.any() && !a.all() && Mask::from(Vec::new()).all());
        assert_eq!(b.float().to_vec(), vec![1.0, 0.0, 0.0]);
        let column = Mask::from_vec(vec![true, false], [2, 1]);
        assert_eq!((&column & &a).dims(), &[2, 3]);
    }
}
