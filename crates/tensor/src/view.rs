//! Ops that give the same buffer another shape without copying: `reshape`
//! (with one dimension inferred from `-1`), `flatten`, `squeeze` and
//! `unsqueeze`.

use crate::shape::{MAX_RANK, Shape};
use crate::tensor::Tensor;

/// A target shape for `reshape`: unsigned dimensions (`[2, 3]`, a
/// [`Shape`], a slice or `Vec` of `usize`), or signed ones (`[-1, 28]`, as
/// `isize` or `i32`) where one `-1` stands for the size that makes the
/// element count match, as in PyTorch.
///
/// Integer literals with no other type to go by are `i32` in Rust, so both
/// `reshape([2, 3])` and `reshape([-1, 3])` compile; `reshape([n, 3])` with
/// `n: usize` uses the unsigned form.
pub trait ReshapeSpec {
    /// The shape this spec asks for, for a tensor of `numel` elements.
    ///
    /// # Panics
    /// If the spec holds more than one `-1`, another negative size, or a
    /// `-1` whose size cannot be inferred; the message names `op`.
    fn resolve(self, op: &str, numel: usize) -> Shape;
}

impl ReshapeSpec for Shape {
    fn resolve(self, _: &str, _: usize) -> Shape {
        self
    }
}

impl ReshapeSpec for &Shape {
    fn resolve(self, _: &str, _: usize) -> Shape {
        *self
    }
}

macro_rules! unsigned_spec {
    ($($t:ty),*) => {$(
        impl ReshapeSpec for $t {
            fn resolve(self, _: &str, _: usize) -> Shape {
                Shape::from(self)
            }
        }
    )*};
}

unsigned_spec!(&[usize], Vec<usize>, &Vec<usize>);

impl<const N: usize> ReshapeSpec for [usize; N] {
    fn resolve(self, _: &str, _: usize) -> Shape {
        Shape::from(self)
    }
}

macro_rules! signed_spec {
    ($($t:ty),*) => {$(
        impl<const N: usize> ReshapeSpec for [$t; N] {
            fn resolve(self, op: &str, numel: usize) -> Shape {
                infer_shape(op, self.map(|d| d as i64).as_slice(), numel)
            }
        }
        impl ReshapeSpec for &[$t] {
            fn resolve(self, op: &str, numel: usize) -> Shape {
                let dims: Vec<i64> = self.iter().map(|&d| d as i64).collect();
                infer_shape(op, &dims, numel)
            }
        }
    )*};
}

signed_spec!(isize, i32);

/// The shape `dims` asks for, with a `-1` replaced by what makes the
/// element count `numel`.
fn infer_shape(op: &str, dims: &[i64], numel: usize) -> Shape {
    assert!(
        dims.len() <= MAX_RANK,
        "{op}: shape {dims:?} has rank {}, more than the supported {MAX_RANK}",
        dims.len()
    );
    let mut inferred = None;
    let mut resolved = [0usize; MAX_RANK];
    let mut known = 1usize;
    for (axis, &d) in dims.iter().enumerate() {
        match d {
            -1 if inferred.is_none() => inferred = Some(axis),
            -1 => panic!("{op}: shape {dims:?} has more than one -1 to infer"),
            d if d < 0 => panic!("{op}: shape {dims:?} has the invalid size {d}"),
            d => {
                let d = usize::try_from(d).expect("a non-negative i64 fits in usize");
                resolved[axis] = d;
                known = known.checked_mul(d).unwrap_or_else(|| {
                    panic!("{op}: shape {dims:?} has more elements than fit in usize")
                });
            }
        }
    }
    if let Some(axis) = inferred {
        assert!(
            known != 0 && numel.is_multiple_of(known),
            "{op}: cannot infer the -1 of shape {dims:?} for {numel} elements"
        );
        resolved[axis] = numel / known;
    }
    Shape::new(&resolved[..dims.len()])
}

impl Tensor {
    /// The same elements viewed with another shape, sharing the buffer
    /// (PyTorch's `reshape`); one dimension may be `-1`, inferred from the
    /// others.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::arange(0.0, 6.0, 1.0);
    /// assert_eq!(x.reshape([2, 3]).dims(), &[2, 3]);
    /// assert_eq!(x.reshape([-1, 2]).dims(), &[3, 2]);
    /// let rows: usize = 3;
    /// assert_eq!(x.reshape([rows, 2]).get(&[2, 1]), 5.0);
    /// ```
    ///
    /// # Panics
    /// If the element counts differ or the `-1` cannot be inferred.
    pub fn reshape(&self, shape: impl ReshapeSpec) -> Tensor {
        let shape = shape.resolve("reshape", self.numel());
        assert_eq!(
            shape.numel(),
            self.numel(),
            "reshape: cannot view shape {:?} as {shape:?}",
            self.shape()
        );
        self.view_as(shape)
    }

    /// Merges axes `start..=end` into one (PyTorch's `flatten(start_dim,
    /// end_dim)`; `flatten(0, -1)` gives a vector, `flatten(1, -1)` a
    /// batch of vectors). A scalar becomes a one-element vector.
    ///
    /// # Panics
    /// If an axis is out of range or `start` comes after `end`.
    pub fn flatten(&self, start: isize, end: isize) -> Tensor {
        self.view_as(flattened_shape(self.shape(), start, end))
    }

    /// Removes `axis` if its size is 1; otherwise the same tensor (as
    /// PyTorch's `squeeze(dim)`).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn squeeze(&self, axis: isize) -> Tensor {
        self.view_as(squeezed_shape(self.shape(), axis))
    }

    /// Inserts an axis of size 1 before `axis` (`-1` appends one), as
    /// PyTorch's `unsqueeze`.
    ///
    /// # Panics
    /// If `axis` is outside `-(rank + 1)..=rank`.
    pub fn unsqueeze(&self, axis: isize) -> Tensor {
        let shape = self.shape();
        self.view_as(shape.with_inserted_dim(shape.new_axis("unsqueeze", axis), 1))
    }
}

/// The shape of [`Tensor::flatten`].
pub(crate) fn flattened_shape(shape: Shape, start: isize, end: isize) -> Shape {
    if shape.rank() == 0 {
        // PyTorch flattens a scalar as a one-element vector (axes 0 and -1).
        return flattened_shape(Shape::new(&[1]), start, end);
    }
    let (first, last) = (shape.axis("flatten", start), shape.axis("flatten", end));
    assert!(
        first <= last,
        "flatten: start axis {start} comes after end axis {end} for shape {shape:?}"
    );
    let dims = shape.dims();
    let merged = dims[first..=last].iter().product();
    let mut out: Vec<usize> = dims[..first].to_vec();
    out.push(merged);
    out.extend_from_slice(&dims[last + 1..]);
    Shape::new(&out)
}

/// The shape of [`Tensor::squeeze`].
pub(crate) fn squeezed_shape(shape: Shape, axis: isize) -> Shape {
    let axis = shape.axis("squeeze", axis);
    if shape.dim(axis) == 1 {
        shape.without_dim(axis)
    } else {
        shape
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reshape_infers_one_dimension() {
        let x = Tensor::arange(0.0, 24.0, 1.0);
        assert_eq!(x.reshape([2, -1, 4]).dims(), &[2, 3, 4]);
        assert_eq!(x.reshape([-1]).dims(), &[24]);
        let signed: [isize; 2] = [-1, 6];
        assert_eq!(x.reshape(signed).dims(), &[4, 6]);
        assert_eq!(x.reshape(&[3, -1][..]).dims(), &[3, 8]);
        assert_eq!(x.reshape(vec![4usize, 6]).dims(), &[4, 6]);
        assert_eq!(Tensor::zeros([0, 5]).reshape([-1, 5]).dims(), &[0, 5]);
    }

    #[test]
    #[should_panic(expected = "reshape: cannot infer the -1 of shape [-1, 5] for 24 elements")]
    fn reshape_rejects_a_size_that_does_not_divide() {
        Tensor::zeros([24]).reshape([-1, 5]);
    }

    #[test]
    #[should_panic(expected = "reshape: shape [-1, -1] has more than one -1 to infer")]
    fn reshape_infers_at_most_one_dimension() {
        Tensor::zeros([4]).reshape([-1, -1]);
    }

    #[test]
    #[should_panic(expected = "reshape: cannot infer the -1 of shape [0, -1] for 0 elements")]
    fn reshape_cannot_infer_next_to_a_zero() {
        Tensor::zeros([0]).reshape([0, -1]);
    }

    #[test]
    #[should_panic(expected = "reshape: shape [-3, 2] has the invalid size -3")]
    fn reshape_rejects_other_negative_sizes() {
        Tensor::zeros([6]).reshape([-3, 2]);
    }

    #[test]
    #[should_panic(expected = "reshape: cannot view shape [6] as [4, 2]")]
    fn reshape_checks_the_count() {
        Tensor::zeros([6]).reshape([4, 2]);
    }

    #[test]
    #[should_panic(expected = "has more elements than fit in usize")]
    fn reshape_checks_for_overflow() {
        Tensor::zeros([4]).reshape([1isize << 62, 1 << 62, 0, -1]);
    }

    #[test]
    fn flatten_squeeze_and_unsqueeze_follow_pytorch() {
        let x = Tensor::zeros([2, 3, 4, 5]);
        assert_eq!(x.flatten(1, -1).dims(), &[2, 60]);
        assert_eq!(x.flatten(0, -1).dims(), &[120]);
        assert_eq!(x.flatten(1, 2).dims(), &[2, 12, 5]);
        assert_eq!(x.flatten(2, 2).dims(), &[2, 3, 4, 5]);
        assert_eq!(Tensor::scalar(1.0).flatten(0, -1).dims(), &[1]);
        let col = Tensor::zeros([3, 1]);
        assert_eq!(col.squeeze(1).dims(), &[3]);
        assert_eq!(col.squeeze(0).dims(), &[3, 1], "size 3 is kept");
        assert_eq!(col.squeeze(-1).unsqueeze(0).dims(), &[1, 3]);
        assert_eq!(col.unsqueeze(-1).dims(), &[3, 1, 1]);
        assert_eq!(Tensor::scalar(2.0).unsqueeze(0).to_vec(), vec![2.0]);
    }

    #[test]
    #[should_panic(expected = "flatten: start axis 2 comes after end axis 1 for shape [2, 3, 4]")]
    fn flatten_checks_axis_order() {
        Tensor::zeros([2, 3, 4]).flatten(2, 1);
    }
}
