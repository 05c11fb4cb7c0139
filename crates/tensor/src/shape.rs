//! Shapes: up to [`MAX_RANK`] dimensions stored inline, so creating a tensor
//! never allocates for its shape, plus the NumPy broadcasting rule.

use std::fmt;
use std::ops::{Bound, Range, RangeBounds};

/// The largest number of dimensions a tensor may have.
pub const MAX_RANK: usize = 6;

/// The dimensions of a tensor, outermost first (row-major).
///
/// A `Shape` is `Copy` and converts from arrays, slices and vectors of `usize`,
/// so every constructor takes `impl Into<Shape>`: `Tensor::zeros([2, 3])`.
#[derive(Clone, Copy)]
pub struct Shape {
    dims: [usize; MAX_RANK],
    rank: u8,
}

impl Shape {
    /// The shape of a scalar (rank 0, one element).
    pub const SCALAR: Shape = Shape {
        dims: [0; MAX_RANK],
        rank: 0,
    };

    /// Builds a shape from a slice of dimensions.
    ///
    /// # Panics
    /// If `dims` has more than [`MAX_RANK`] entries, or the product of its
    /// nonzero dimensions overflows `usize` (every way of making a shape
    /// checks this, so element counts and strides never wrap around).
    pub fn new(dims: &[usize]) -> Shape {
        assert!(
            dims.len() <= MAX_RANK,
            "shape {dims:?} has rank {}, more than the supported {MAX_RANK}",
            dims.len()
        );
        let mut inline = [0; MAX_RANK];
        inline[..dims.len()].copy_from_slice(dims);
        Shape::checked(inline, dims.len())
    }

    /// The shape with the first `rank` of `dims`, after checking that the
    /// product of its nonzero dimensions fits in `usize`. Every way of making
    /// a shape goes through here, so element counts, strides and the
    /// `outer * size * inner` views of axis kernels never overflow (an
    /// overflowed count let a wrapped-around buffer length through to
    /// unchecked GEMM writes). Zero dimensions are skipped so that a shape
    /// with zero elements still has strides that fit.
    ///
    /// # Panics
    /// If that product overflows, naming the shape.
    fn checked(dims: [usize; MAX_RANK], rank: usize) -> Shape {
        let fits = dims[..rank]
            .iter()
            .try_fold(1usize, |product, &d| product.checked_mul(d.max(1)))
            .is_some();
        if !fits {
            too_many_elements(&dims[..rank]);
        }
        Shape {
            dims,
            rank: rank as u8,
        }
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.dims[..self.rank as usize]
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.rank as usize
    }

    /// The number of elements (1 for a scalar).
    pub fn numel(&self) -> usize {
        self.dims().iter().product()
    }

    /// The size of dimension `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn dim(&self, axis: usize) -> usize {
        self.dims()[axis]
    }

    /// Row-major strides in elements.
    pub fn strides(&self) -> [usize; MAX_RANK] {
        let mut strides = [0; MAX_RANK];
        let mut step = 1;
        for axis in (0..self.rank()).rev() {
            strides[axis] = step;
            step *= self.dims[axis];
        }
        strides
    }

    /// The row-major offset of the element at a multi-index, for `op`.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds, naming `op`.
    pub(crate) fn offset_of(&self, op: &str, index: &[usize]) -> usize {
        assert_eq!(
            index.len(),
            self.rank(),
            "{op}: index {index:?} has rank {}, tensor has shape {self:?}",
            index.len()
        );
        let strides = self.strides();
        let mut offset = 0;
        for (axis, &i) in index.iter().enumerate() {
            assert!(
                i < self.dims[axis],
                "{op}: index {index:?} is out of bounds for shape {self:?}"
            );
            offset += i * strides[axis];
        }
        offset
    }

    /// The indices `range` covers along `axis` (any Rust range: `2..5`,
    /// `..`, `3..`, `..=4`), checked against its size for `op`.
    ///
    /// # Panics
    /// If the range is reversed or runs past the end, naming `op`.
    pub fn slice_range(
        &self,
        op: &str,
        axis: usize,
        range: impl RangeBounds<usize>,
    ) -> Range<usize> {
        let n = self.dim(axis);
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => n,
        };
        assert!(
            start <= end && end <= n,
            "{op}: range {start}..{end} is out of bounds for axis {axis} of shape {self:?}"
        );
        start..end
    }

    /// Resolves a possibly negative axis (`-1` is the last) for `op`.
    ///
    /// # Panics
    /// If the axis is out of range, naming `op` and the shape.
    pub fn axis(&self, op: &str, axis: isize) -> usize {
        let rank = self.rank() as isize;
        let resolved = if axis < 0 { axis + rank } else { axis };
        assert!(
            (0..rank).contains(&resolved),
            "{op}: axis {axis} is out of range for shape {self:?}"
        );
        resolved as usize
    }

    /// Resolves the position of a new axis for `op` (stacking): `0..=rank`,
    /// negative counting from the end (`-1` appends).
    ///
    /// # Panics
    /// If the position is out of range, naming `op`.
    pub fn new_axis(&self, op: &str, axis: isize) -> usize {
        let rank = self.rank() as isize + 1;
        let resolved = if axis < 0 { axis + rank } else { axis };
        assert!(
            (0..rank).contains(&resolved),
            "{op}: axis {axis} is out of range for a new axis of shape {self:?}"
        );
        resolved as usize
    }

    /// This shape with `axis` replaced by `size`.
    ///
    /// # Panics
    /// If the new shape's element count overflows `usize`.
    pub fn with_dim(&self, axis: usize, size: usize) -> Shape {
        let mut dims = self.dims;
        dims[axis] = size;
        Shape::checked(dims, self.rank())
    }

    /// This shape with `axis` removed.
    pub fn without_dim(&self, axis: usize) -> Shape {
        let mut dims = self.dims;
        dims.copy_within(axis + 1..self.rank(), axis);
        dims[self.rank() - 1] = 0;
        Shape {
            dims,
            rank: self.rank - 1,
        }
    }

    /// This shape with a new dimension of `size` inserted before `axis`.
    pub fn with_inserted_dim(&self, axis: usize, size: usize) -> Shape {
        let mut dims = self.dims().to_vec();
        dims.insert(axis, size);
        Shape::new(&dims)
    }

    /// Splits the shape around `axis` into `(outer, size, inner)` element counts:
    /// the view every axis-wise kernel works on.
    pub fn split_at_axis(&self, axis: usize) -> (usize, usize, usize) {
        let dims = self.dims();
        let outer = dims[..axis].iter().product();
        let inner = dims[axis + 1..].iter().product();
        (outer, dims[axis], inner)
    }

    /// The shape both operands broadcast to under NumPy's rules: dimensions are
    /// aligned from the right and each pair must be equal or contain a 1.
    ///
    /// # Panics
    /// If the shapes are incompatible; the message names `op` and both shapes.
    pub fn broadcast(op: &str, a: Shape, b: Shape) -> Shape {
        let rank = a.rank().max(b.rank());
        let mut dims = [0; MAX_RANK];
        // The element count is checked as in `Shape::checked`, but while
        // the dimensions are found: a multiply per dimension instead of a
        // second loop keeps broadcasting ops as cheap as before the check.
        let (mut count, mut overflow) = (1usize, false);
        for i in 0..rank {
            let da = a.dim_from_right(i);
            let db = b.dim_from_right(i);
            let d = match (da, db) {
                (x, y) if x == y => x,
                (1, y) => y,
                (x, 1) => x,
                _ => panic!("{op}: shapes {a:?} and {b:?} cannot be broadcast together"),
            };
            dims[rank - 1 - i] = d;
            let (product, wrapped) = count.overflowing_mul(d.max(1));
            count = product;
            overflow |= wrapped;
        }
        if overflow {
            too_many_elements(&dims[..rank]);
        }
        Shape {
            dims,
            rank: rank as u8,
        }
    }

    /// Strides for reading a tensor of this shape as if it had shape `target`
    /// (which it must broadcast to): broadcast dimensions get stride 0.
    pub fn broadcast_strides(&self, target: Shape) -> [usize; MAX_RANK] {
        let own = self.strides();
        let offset = target.rank() - self.rank();
        let mut strides = [0; MAX_RANK];
        for axis in 0..self.rank() {
            if self.dims[axis] != 1 {
                strides[axis + offset] = own[axis];
            }
        }
        strides
    }

    /// The offset, in an operand read with `strides` (see
    /// [`Shape::broadcast_strides`]), of the first element of row `row` of this
    /// shape, where a row is a run along the last dimension.
    pub fn row_offset(&self, strides: &[usize; MAX_RANK], row: usize) -> usize {
        let (mut rest, mut offset) = (row, 0);
        for axis in (0..self.rank().saturating_sub(1)).rev() {
            offset += (rest % self.dims[axis]) * strides[axis];
            rest /= self.dims[axis];
        }
        offset
    }

    /// The offsets, in a buffer read with `strides`, of this shape's elements
    /// in row-major order: with a permutation of another shape's strides it
    /// walks a transpose, with [`Shape::broadcast_strides`] a broadcast.
    pub(crate) fn offsets(&self, strides: [usize; MAX_RANK]) -> Offsets {
        Offsets {
            dims: self.dims,
            strides,
            rank: self.rank(),
            index: [0; MAX_RANK],
            offset: 0,
            remaining: self.numel(),
        }
    }

    fn dim_from_right(&self, i: usize) -> usize {
        if i < self.rank() {
            self.dims[self.rank() - 1 - i]
        } else {
            1
        }
    }
}

/// # Panics
/// Always: a shape with more elements than `usize` counts could never be
/// allocated, so asking for one is a programmer error.
#[cold]
fn too_many_elements(dims: &[usize]) -> ! {
    panic!("shape {dims:?} has more elements than fit in usize")
}

/// The iterator of [`Shape::offsets`]: an odometer over the multi-index
/// that moves the offset by one stride per step, so each element costs O(1)
/// on average.
pub(crate) struct Offsets {
    dims: [usize; MAX_RANK],
    strides: [usize; MAX_RANK],
    rank: usize,
    index: [usize; MAX_RANK],
    offset: usize,
    remaining: usize,
}

impl Iterator for Offsets {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let current = self.offset;
        for axis in (0..self.rank).rev() {
            self.index[axis] += 1;
            self.offset += self.strides[axis];
            if self.index[axis] < self.dims[axis] {
                break;
            }
            self.offset -= self.strides[axis] * self.dims[axis];
            self.index[axis] = 0;
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Offsets {}

// Compares the live dimensions one by one: a slice or array comparison
// calls memcmp, which showed up at 11% of the tape's per-op cost.
impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        self.rank == other.rank && (0..self.rank as usize).all(|i| self.dims[i] == other.dims[i])
    }
}

impl Eq for Shape {}

impl std::hash::Hash for Shape {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.dims().hash(state);
    }
}

impl fmt::Debug for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.dims())
    }
}

impl From<&[usize]> for Shape {
    fn from(dims: &[usize]) -> Shape {
        Shape::new(dims)
    }
}

impl From<&Vec<usize>> for Shape {
    fn from(dims: &Vec<usize>) -> Shape {
        Shape::new(dims)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(dims: Vec<usize>) -> Shape {
        Shape::new(&dims)
    }
}

impl<const N: usize> From<[usize; N]> for Shape {
    fn from(dims: [usize; N]) -> Shape {
        Shape::new(&dims)
    }
}

impl From<&Shape> for Shape {
    fn from(shape: &Shape) -> Shape {
        *shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcast_follows_numpy() {
        let s = |d: &[usize]| Shape::new(d);
        assert_eq!(Shape::broadcast("t", s(&[3, 1]), s(&[1, 4])), s(&[3, 4]));
        assert_eq!(Shape::broadcast("t", s(&[2, 3]), s(&[3])), s(&[2, 3]));
        assert_eq!(Shape::broadcast("t", s(&[]), s(&[5, 2])), s(&[5, 2]));
        assert_eq!(
            Shape::broadcast("t", s(&[4, 1, 2]), s(&[3, 1])),
            s(&[4, 3, 2])
        );
    }

    #[test]
    #[should_panic(expected = "add: shapes [2, 3] and [4] cannot be broadcast together")]
    fn incompatible_broadcast_names_op_and_shapes() {
        Shape::broadcast("add", Shape::new(&[2, 3]), Shape::new(&[4]));
    }

    #[test]
    fn broadcast_strides_zero_repeated_dims() {
        let s = Shape::new(&[3, 1]);
        let strides = s.broadcast_strides(Shape::new(&[2, 3, 4]));
        assert_eq!(&strides[..3], &[0, 1, 0]);
    }

    #[test]
    fn equality_ignores_unused_slots() {
        let dropped = Shape::new(&[2, 3, 4]).without_dim(0);
        assert_eq!(dropped, Shape::new(&[3, 4]));
        assert_eq!(Shape::new(&[5]).without_dim(0), Shape::SCALAR);
    }

    #[test]
    #[should_panic(expected = "shape [9223372036854775809, 2] has more elements than fit in usize")]
    fn shapes_whose_element_count_overflows_are_rejected() {
        Shape::new(&[(1 << 63) + 1, 2]);
    }

    #[test]
    #[should_panic(expected = "shape [4294967296, 4294967296] has more elements than fit in usize")]
    fn broadcasting_to_an_overflowing_shape_is_rejected() {
        Shape::broadcast("add", Shape::new(&[1 << 32, 1]), Shape::new(&[1 << 32]));
    }

    #[test]
    #[should_panic(expected = "shape [4294967296, 4294967296] has more elements than fit in usize")]
    fn replacing_a_dimension_is_checked() {
        Shape::new(&[1 << 32, 1]).with_dim(1, 1 << 32);
    }

    #[test]
    fn zero_dimensions_do_not_hide_an_overflow_of_the_others() {
        assert_eq!(Shape::new(&[0, 1 << 40]).numel(), 0);
        let overflow = std::panic::catch_unwind(|| Shape::new(&[0, 1 << 40, 1 << 40]));
        assert!(overflow.is_err(), "its strides would overflow");
    }

    #[test]
    fn offsets_walk_strided_and_broadcast_reads() {
        let s = Shape::new(&[2, 3]);
        let mut transposed = [0; MAX_RANK];
        transposed[..2].copy_from_slice(&[1, 2]);
        let walk: Vec<usize> = s.offsets(transposed).collect();
        assert_eq!(walk, vec![0, 2, 4, 1, 3, 5]);
        let column = Shape::new(&[2, 1]).broadcast_strides(s);
        assert_eq!(
            s.offsets(column).collect::<Vec<_>>(),
            vec![0, 0, 0, 1, 1, 1]
        );
        assert_eq!(Shape::new(&[2, 0]).offsets(s.strides()).count(), 0);
        assert_eq!(
            Shape::SCALAR.offsets(s.strides()).collect::<Vec<_>>(),
            vec![0]
        );
    }

    #[test]
    fn negative_axis_counts_from_the_end() {
        let s = Shape::new(&[2, 3, 4]);
        assert_eq!(s.axis("sum", -1), 2);
        assert_eq!(s.axis("sum", 0), 0);
        assert_eq!(s.split_at_axis(1), (2, 3, 4));
    }
}
