//! Indexing ops: `slice`, `select`, `index_select`, `gather`, `scatter_add`
//! and `topk`, whose gradients scatter the incoming gradient back to the
//! positions read; plus `argmax`/`argmin`, which read positions and carry
//! no gradient.

use std::ops::RangeBounds;

use descent_tensor::{IndexTensor, Tensor};

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// The entries `range` along `axis` (`x.slice(1, 2..5)` for PyTorch's
    /// `x[:, 2:5]`); the gradient flows back to those entries.
    ///
    /// ```
    /// use descent_autograd::{Param, Tape};
    /// use descent_tensor::Tensor;
    ///
    /// let w = Param::new(Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]));
    /// let tape = Tape::new();
    /// tape.param(&w).slice(1, 1..).sum().backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![0.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range, or the range is reversed or runs past
    /// the end.
    pub fn slice(self, axis: isize, range: impl RangeBounds<usize>) -> Var<'t> {
        let shape = self.shape();
        let range = shape.slice_range("slice", shape.axis("slice", axis), range);
        self.narrow(axis, range.start, range.len())
    }

    /// The entry `index` along `axis`, with that axis removed (`x.select(1,
    /// 2)` for PyTorch's `x[:, 2]`).
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from([[1.0, 2.0], [3.0, 4.0]]));
    /// assert_eq!(x.select(1, 1).value().to_vec(), vec![2.0, 4.0]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range or `index` is not below its size.
    pub fn select(self, axis: isize, index: usize) -> Var<'t> {
        let shape = self.shape();
        let resolved = shape.axis("select", axis);
        assert!(
            index < shape.dim(resolved),
            "select: index {index} is out of bounds for axis {resolved} of shape {shape:?}"
        );
        self.narrow(axis, index, 1)
            .reshape(shape.without_dim(resolved))
    }

    /// The entries at `indices` along `axis`, in order (PyTorch's
    /// `index_select`); repeated indices are allowed and their gradients
    /// add up.
    ///
    /// ```
    /// use descent_autograd::{Param, Tape};
    /// use descent_tensor::Tensor;
    ///
    /// let table = Param::new(Tensor::from([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]));
    /// let tape = Tape::new();
    /// let rows = tape.param(&table).index_select(0, &[2, 2, 0]);
    /// assert_eq!(rows.value().to_vec(), vec![5.0, 6.0, 5.0, 6.0, 1.0, 2.0]);
    /// rows.sum().backward();
    /// assert_eq!(table.grad().unwrap().to_vec(), vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]);
    /// ```
    ///
    /// # Panics
    /// If the axis is out of range or an index is not below its size.
    pub fn index_select(self, axis: isize, indices: &[usize]) -> Var<'t> {
        let value = self.with_value(|x| x.index_select(axis, indices));
        let axis = self.shape().axis("index_select", axis);
        let rule = IndexSelect {
            axis,
            indices: indices.to_vec(),
        };
        self.tape.record(value, &[self], [], rule)
    }

    /// Picks, at each position of `index`, the entry along `axis` that the
    /// index names (PyTorch's `gather`): for a matrix and `axis` 1,
    /// `out[i][j] = self[i][index[i][j]]`.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::{IndexTensor, Tensor};
    ///
    /// let tape = Tape::new();
    /// let log_probs = tape.constant(Tensor::from([[-0.1, -2.0], [-1.5, -0.3]]));
    /// let picked = log_probs.gather(1, &IndexTensor::from([[0], [1]]));
    /// assert_eq!(picked.value().to_vec(), vec![-0.1, -0.3]);
    /// ```
    ///
    /// # Panics
    /// As [`Tensor::gather`].
    pub fn gather(self, axis: isize, index: &IndexTensor) -> Var<'t> {
        let value = self.with_value(|x| x.gather(axis, index));
        let axis = self.shape().axis("gather", axis);
        let rule = Gather {
            axis,
            index: index.clone(),
        };
        self.tape.record(value, &[self], [], rule)
    }

    /// This value with each entry of `src` added at the position along
    /// `axis` that `index` names for it (PyTorch's `scatter_add`); `index`
    /// and `src` have the same shape.
    ///
    /// # Panics
    /// As [`Tensor::scatter_add`].
    pub fn scatter_add(self, axis: isize, index: &IndexTensor, src: Var<'t>) -> Var<'t> {
        let value = self.with_values(src, |x, s| x.scatter_add(axis, index, s));
        let axis = self.shape().axis("scatter_add", axis);
        let rule = ScatterAdd {
            axis,
            index: index.clone(),
        };
        self.tape.record(value, &[self, src], [], rule)
    }

    /// The `k` largest entries along `axis`, largest first, and their
    /// positions (PyTorch's `topk(k, dim)`); the gradient flows to the
    /// entries picked.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let tape = Tape::new();
    /// let scores = tape.constant(Tensor::from([0.2, 0.9, 0.5]));
    /// let (best, at) = scores.topk(2, 0);
    /// assert_eq!(best.value().to_vec(), vec![0.9, 0.5]);
    /// assert_eq!(at.to_vec(), vec![1, 2]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range or `k` is larger than its size.
    pub fn topk(self, k: usize, axis: isize) -> (Var<'t>, IndexTensor) {
        let (value, index) = self.with_value(|x| x.topk(k, axis));
        let axis = self.shape().axis("topk", axis);
        let rule = Gather {
            axis,
            index: index.clone(),
        };
        (self.tape.record(value, &[self], [], rule), index)
    }

    /// The flat position of the largest element (see [`Tensor::argmax`]);
    /// positions carry no gradient.
    ///
    /// # Panics
    /// If the value is empty.
    pub fn argmax(self) -> usize {
        self.with_value(Tensor::argmax)
    }

    /// The flat position of the smallest element (see [`Tensor::argmin`]).
    ///
    /// # Panics
    /// If the value is empty.
    pub fn argmin(self) -> usize {
        self.with_value(Tensor::argmin)
    }

    /// The position of the largest entry along `axis`, as PyTorch's
    /// `argmax(dim, keepdim)`: `logits.argmax_axis(1, false)` gives each
    /// row's predicted class.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn argmax_axis(self, axis: isize, keepdim: bool) -> IndexTensor {
        self.with_value(|x| x.argmax_axis(axis, keepdim))
    }

    /// The position of the smallest entry along `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn argmin_axis(self, axis: isize, keepdim: bool) -> IndexTensor {
        self.with_value(|x| x.argmin_axis(axis, keepdim))
    }
}

/// Input: the source; the gradient lands on the entries at `indices`.
struct IndexSelect {
    axis: usize,
    indices: Vec<usize>,
}

impl Function for IndexSelect {
    fn name(&self) -> &'static str {
        "index_select"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let zeros = values.input(0).zeros_like();
        grads.add(0, zeros.index_add(self.axis as isize, &self.indices, grad));
    }
}

/// The rule of `gather` and `topk`: the gradient goes back to the positions
/// read.
struct Gather {
    axis: usize,
    index: IndexTensor,
}

impl Function for Gather {
    fn name(&self) -> &'static str {
        "gather"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let zeros = values.input(0).zeros_like();
        grads.add(0, zeros.scatter_add(self.axis as isize, &self.index, grad));
    }
}

/// Inputs: the tensor added into and the source added.
struct ScatterAdd {
    axis: usize,
    index: IndexTensor,
}

impl Function for ScatterAdd {
    fn name(&self) -> &'static str {
        "scatter_add"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        if grads.wanted(1) {
            grads.add(1, grad.gather(self.axis as isize, &self.index));
        }
        grads.add(0, grad.clone());
    }
}
