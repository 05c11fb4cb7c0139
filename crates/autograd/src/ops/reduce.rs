//! Reductions over all elements or one axis. Each rule broadcasts the
//! gradient back over the reduced axis.

use descent_tensor::{Shape, Tensor};

use crate::tape::{Function, InputGrads, OpValues, Var};

/// Which elements a reduction combined: all of them, or one axis.
#[derive(Clone, Copy)]
enum Over {
    All,
    Axis(usize),
}

impl Over {
    fn resolve(shape: Shape, op: &str, axis: Option<isize>) -> Over {
        match axis {
            None => Over::All,
            Some(a) => Over::Axis(shape.axis(op, a)),
        }
    }

    /// The input's shape with the reduced dimensions kept at size 1, so the
    /// output's gradient broadcasts back over them.
    fn kept_shape(self, input: Shape) -> Shape {
        match self {
            Over::All => Shape::new(&[1; descent_tensor::MAX_RANK][..input.rank()]),
            Over::Axis(axis) => input.with_dim(axis, 1),
        }
    }

    fn count(self, input: Shape) -> usize {
        match self {
            Over::All => input.numel(),
            Over::Axis(axis) => input.dim(axis),
        }
    }

    /// A value with the reduced dimensions kept, broadcast back to the input.
    fn expand(self, reduced: &Tensor, input: Shape) -> Tensor {
        reduced.reshape(self.kept_shape(input)).broadcast_to(input)
    }
}

impl<'t> Var<'t> {
    /// The sum of all elements, as a scalar (0 for an empty value).
    pub fn sum(self) -> Var<'t> {
        self.reduce(None, false, Kind::Sum)
    }

    /// The mean of all elements, as a scalar (NaN for an empty value).
    pub fn mean(self) -> Var<'t> {
        self.reduce(None, false, Kind::Mean)
    }

    /// The largest element, as a scalar; ties split the gradient evenly.
    ///
    /// # Panics
    /// If the value is empty.
    pub fn max(self) -> Var<'t> {
        self.reduce(None, false, Kind::Max)
    }

    /// The smallest element, as a scalar; ties split the gradient evenly.
    ///
    /// # Panics
    /// If the value is empty.
    pub fn min(self) -> Var<'t> {
        self.reduce(None, false, Kind::Min)
    }

    /// `ln(sum(exp(x)))` over all elements, without overflow.
    pub fn logsumexp(self) -> Var<'t> {
        self.reduce(None, false, Kind::LogSumExp)
    }

    /// Sum over `axis` (negative counts from the end), PyTorch's
    /// `sum(dim, keepdim)`: `keepdim` keeps the axis with size 1.
    ///
    /// ```
    /// use descent_autograd::{Param, Tape};
    /// use descent_tensor::Tensor;
    ///
    /// let w = Param::new(Tensor::from([[1.0, 2.0], [3.0, 4.0]]));
    /// let tape = Tape::new();
    /// let row_sums = tape.param(&w).sum_axis(1, true); // [[3], [7]]
    /// (row_sums * row_sums).sum().backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 6.0, 14.0, 14.0]);
    /// ```
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn sum_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::Sum)
    }

    /// Mean over `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn mean_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::Mean)
    }

    /// Maximum over `axis`; ties split the gradient evenly.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn max_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::Max)
    }

    /// Minimum over `axis`; ties split the gradient evenly.
    ///
    /// # Panics
    /// If `axis` is out of range or has size 0.
    pub fn min_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::Min)
    }

    /// `ln(sum(exp(x)))` over `axis`, without overflow.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn logsumexp_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::LogSumExp)
    }

    /// The unbiased variance of all elements (divides by `n - 1`, PyTorch's
    /// default), as a scalar.
    pub fn var(self) -> Var<'t> {
        self.reduce(None, false, Kind::Var { correction: 1 })
    }

    /// The unbiased standard deviation of all elements, as a scalar.
    pub fn std(self) -> Var<'t> {
        self.var().sqrt()
    }

    /// Unbiased variance over `axis` (divides by `n - 1`, like `torch.var`).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn var_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.var_axis_corrected(axis, 1, keepdim)
    }

    /// Variance over `axis` divided by `n - correction` (PyTorch's
    /// `correction`; 0 gives the population variance).
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn var_axis_corrected(self, axis: isize, correction: usize, keepdim: bool) -> Var<'t> {
        self.reduce(Some(axis), keepdim, Kind::Var { correction })
    }

    /// Unbiased standard deviation over `axis`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn std_axis(self, axis: isize, keepdim: bool) -> Var<'t> {
        self.var_axis(axis, keepdim).sqrt()
    }

    /// Standard deviation over `axis` with PyTorch's `correction`.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn std_axis_corrected(self, axis: isize, correction: usize, keepdim: bool) -> Var<'t> {
        self.var_axis_corrected(axis, correction, keepdim).sqrt()
    }

    fn reduce(self, axis: Option<isize>, keepdim: bool, kind: Kind) -> Var<'t> {
        let over = Over::resolve(self.shape(), kind.name(), axis);
        let value = self.with_value(|x| match (over, kind) {
            (Over::All, Kind::Sum) => x.sum(),
            (Over::All, Kind::Mean) => x.mean(),
            (Over::All, Kind::Max) => x.max(),
            (Over::All, Kind::Min) => x.min(),
            (Over::All, Kind::LogSumExp) => x.logsumexp(),
            (Over::All, Kind::Var { correction }) => {
                x.reshape([-1]).var_axis_corrected(0, correction, false)
            }
            (Over::Axis(a), Kind::Sum) => x.sum_axis(a as isize, keepdim),
            (Over::Axis(a), Kind::Mean) => x.mean_axis(a as isize, keepdim),
            (Over::Axis(a), Kind::Max) => x.max_axis(a as isize, keepdim),
            (Over::Axis(a), Kind::Min) => x.min_axis(a as isize, keepdim),
            (Over::Axis(a), Kind::LogSumExp) => x.logsumexp_axis(a as isize, keepdim),
            (Over::Axis(a), Kind::Var { correction }) => {
                x.var_axis_corrected(a as isize, correction, keepdim)
            }
        });
        self.tape
            .record(value, &[self], [], Reduction { kind, over })
    }
}

#[derive(Clone, Copy)]
enum Kind {
    Sum,
    Mean,
    Max,
    Min,
    LogSumExp,
    /// Divided by `n - correction`.
    Var {
        correction: usize,
    },
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sum => "sum",
            Kind::Mean => "mean",
            Kind::Max => "max",
            Kind::Min => "min",
            Kind::LogSumExp => "logsumexp",
            Kind::Var { .. } => "var",
        }
    }
}

struct Reduction {
    kind: Kind,
    over: Over,
}

impl Function for Reduction {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let x = values.input(0);
        let shape = x.shape();
        let over = self.over;
        let n = over.count(shape) as f32;
        let g = over.expand(grad, shape);
        let y = || over.expand(values.output(), shape);
        let local = match self.kind {
            Kind::Sum => g,
            Kind::Mean => g.div_scalar(n),
            Kind::Max | Kind::Min => {
                let hits = x.eq(y()).float();
                let ties = over.expand(&hits_per_slot(&hits, over), shape);
                g.mul(&hits).div(&ties)
            }
            Kind::LogSumExp => g.mul(&x.sub(&y()).exp()),
            Kind::Var { correction } => {
                let mean = match over {
                    Over::All => x.mean(),
                    Over::Axis(a) => x.mean_axis(a as isize, true),
                };
                let scale = 2.0 / (n - correction as f32).max(0.0);
                g.mul(&x.sub(&mean)).mul_scalar(scale)
            }
        };
        grads.add(0, local);
    }
}

fn hits_per_slot(hits: &Tensor, over: Over) -> Tensor {
    match over {
        Over::All => hits.sum(),
        Over::Axis(a) => hits.sum_axis(a as isize, true),
    }
}
