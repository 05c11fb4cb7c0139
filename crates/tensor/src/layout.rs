//! Ops that move elements without arithmetic: permute, transpose, narrow,
//! concat and stack.

use crate::shape::{MAX_RANK, Shape};
use crate::tensor::Tensor;

impl Tensor {
    /// The axes in the order `axes` gives (PyTorch's `permute`): axis `i`
    /// of the result is axis `axes[i]` of `self`. Copies into row-major order.
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let images = Tensor::zeros([8, 28, 28, 3]); // NHWC
    /// assert_eq!(images.permute(&[0, 3, 1, 2]).dims(), &[8, 3, 28, 28]); // NCHW
    /// let m = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.permute(&[1, 0]).to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    /// ```
    ///
    /// # Panics
    /// If `axes` is not a permutation of the axes (negative ones count
    /// from the end).
    pub fn permute(&self, axes: &[isize]) -> Tensor {
        let order = permutation(self.shape(), axes);
        let shape = self.shape();
        let dims: Vec<usize> = order.iter().map(|&a| shape.dim(a)).collect();
        let (own, mut strides) = (shape.strides(), [0; MAX_RANK]);
        for (i, &a) in order.iter().enumerate() {
            strides[i] = own[a];
        }
        let out_shape = Shape::new(&dims);
        let x = self.data();
        Tensor::from_iter(out_shape, out_shape.offsets(strides).map(|i| x[i]))
    }

    /// Swaps two axes, copying into row-major order.
    ///
    /// # Panics
    /// If either axis is out of range.
    pub fn transpose(&self, axis_a: isize, axis_b: isize) -> Tensor {
        let shape = self.shape();
        let (a, b) = (
            shape.axis("transpose", axis_a),
            shape.axis("transpose", axis_b),
        );
        let mut axes: Vec<isize> = (0..shape.rank() as isize).collect();
        axes.swap(a, b);
        self.permute(&axes)
    }

    /// The transpose of a matrix (the last two axes swapped).
    ///
    /// # Panics
    /// If the tensor has fewer than two dimensions.
    pub fn t(&self) -> Tensor {
        assert!(
            self.rank() >= 2,
            "t: shape {:?} has fewer than 2 dimensions",
            self.shape()
        );
        self.transpose(-2, -1)
    }

    /// The slice `start..start + len` along `axis`.
    ///
    /// # Panics
    /// If the axis is out of range or the slice runs past the end.
    pub fn narrow(&self, axis: isize, start: usize, len: usize) -> Tensor {
        let axis = self.shape().axis("narrow", axis);
        let (_, n, inner) = self.shape().split_at_axis(axis);
        assert!(
            start.checked_add(len).is_some_and(|end| end <= n),
            "narrow: range {start}..{} is out of bounds for axis {axis} of shape {:?}",
            start.saturating_add(len),
            self.shape()
        );
        let x = self.data();
        let run = len * inner;
        Tensor::build_overwritten(self.shape().with_dim(axis, len), |out| {
            for (o, dst) in out.chunks_exact_mut(run.max(1)).enumerate() {
                let begin = (o * n + start) * inner;
                dst.copy_from_slice(&x[begin..begin + run]);
            }
        })
    }

    /// Joins tensors along an existing axis; all other dimensions must agree.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes disagree off `axis`.
    pub fn concat(parts: &[&Tensor], axis: isize) -> Tensor {
        assert!(!parts.is_empty(), "concat: no tensors given");
        let first = parts[0].shape();
        let axis = first.axis("concat", axis);
        for part in parts {
            assert!(
                part.rank() == first.rank()
                    && part.shape().with_dim(axis, 1) == first.with_dim(axis, 1),
                "concat: shapes {first:?} and {:?} differ off axis {axis}",
                part.shape()
            );
        }
        let total = parts
            .iter()
            .try_fold(0usize, |sum, p| sum.checked_add(p.shape().dim(axis)))
            .unwrap_or_else(|| panic!("concat: the sizes along axis {axis} overflow usize"));
        let (outer, _, inner) = first.split_at_axis(axis);
        Tensor::build_overwritten(first.with_dim(axis, total), |out| {
            let mut at = 0;
            for o in 0..outer {
                for p in parts {
                    let run = p.shape().dim(axis) * inner;
                    out[at..at + run].copy_from_slice(&p.data()[o * run..(o + 1) * run]);
                    at += run;
                }
            }
        })
    }

    /// Stacks equally shaped tensors along a new axis.
    ///
    /// # Panics
    /// If `parts` is empty or the shapes differ.
    pub fn stack(parts: &[&Tensor], axis: isize) -> Tensor {
        assert!(!parts.is_empty(), "stack: no tensors given");
        let first = parts[0].shape();
        for part in parts {
            assert_eq!(
                part.shape(),
                first,
                "stack: shapes {first:?} and {:?} differ",
                part.shape()
            );
        }
        let axis = first.new_axis("stack", axis);
        let expanded = first.with_inserted_dim(axis, 1);
        let views: Vec<Tensor> = parts.iter().map(|p| p.reshape(expanded)).collect();
        let refs: Vec<&Tensor> = views.iter().collect();
        Tensor::concat(&refs, axis as isize)
    }
}

/// The axes `axes` names, resolved, after checking they are a permutation.
///
/// # Panics
/// If they are not, naming the shape.
pub(crate) fn permutation(shape: Shape, axes: &[isize]) -> Vec<usize> {
    assert_eq!(
        axes.len(),
        shape.rank(),
        "permute: {axes:?} does not order the {} axes of shape {shape:?}",
        shape.rank()
    );
    let order: Vec<usize> = axes.iter().map(|&a| shape.axis("permute", a)).collect();
    let mut seen = [false; MAX_RANK];
    for &a in &order {
        assert!(
            !std::mem::replace(&mut seen[a], true),
            "permute: {axes:?} names axis {a} twice"
        );
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_axes() {
        let x = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(x.t().to_vec(), vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let cube = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
        let swapped = cube.transpose(0, 2);
        assert_eq!(swapped.dims(), &[4, 3, 2]);
        assert_eq!(swapped.get(&[3, 1, 1]), cube.get(&[1, 1, 3]));
    }

    #[test]
    fn concat_stack_and_narrow_round_trip() {
        let a = Tensor::from([[1.0, 2.0], [3.0, 4.0]]);
        let b = Tensor::from([[5.0], [6.0]]);
        let c = Tensor::concat(&[&a, &b], 1);
        assert_eq!(c.to_vec(), vec![1.0, 2.0, 5.0, 3.0, 4.0, 6.0]);
        assert_eq!(c.narrow(1, 2, 1), b);
        let s = Tensor::stack(&[&a, &a], 0);
        assert_eq!(s.dims(), &[2, 2, 2]);
        let s1 = Tensor::stack(&[&a, &a], -1);
        assert_eq!(s1.to_vec(), vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn permute_moves_every_axis() {
        let x = Tensor::arange(0.0, 24.0, 1.0).reshape([2, 3, 4]);
        let p = x.permute(&[2, 0, 1]);
        assert_eq!(p.dims(), &[4, 2, 3]);
        for (i, j, k) in [(0, 0, 0), (3, 1, 2), (1, 0, 2), (2, 1, 0)] {
            assert_eq!(p.get(&[i, j, k]), x.get(&[j, k, i]));
        }
        assert_eq!(p.permute(&[1, 2, 0]), x, "the inverse permutation");
        assert_eq!(x.permute(&[-1, -2, -3]), x.transpose(0, 2));
        assert_eq!(Tensor::zeros([2, 0]).permute(&[1, 0]).dims(), &[0, 2]);
        assert_eq!(Tensor::scalar(1.5).permute(&[]).item(), 1.5);
    }

    #[test]
    #[should_panic(expected = "permute: [0, 0] names axis 0 twice")]
    fn permute_rejects_repeated_axes() {
        Tensor::zeros([2, 3]).permute(&[0, 0]);
    }

    #[test]
    #[should_panic(expected = "permute: [1, 0] does not order the 3 axes of shape [2, 3, 4]")]
    fn permute_names_every_axis() {
        Tensor::zeros([2, 3, 4]).permute(&[1, 0]);
    }

    #[test]
    #[should_panic(expected = "concat: shapes [2, 2] and [3, 1] differ off axis 1")]
    fn concat_checks_shapes() {
        Tensor::concat(&[&Tensor::zeros([2, 2]), &Tensor::zeros([3, 1])], 1);
    }
}
