//! Pooling: max pooling keeps where each maximum came from for its
//! backward pass; average and adaptive average pooling spread the gradient
//! evenly over each window.

use descent_tensor::{Pair, Pool2dOptions, Shape, Tensor};

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// Max pooling of a `[batch, channels, h, w]` value (PyTorch's
    /// `F.max_pool2d`); the gradient goes to the first maximum of each window.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::{Pool2dOptions, Tensor};
    ///
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::arange(0.0, 16.0, 1.0).reshape([1, 1, 4, 4]));
    /// let y = x.max_pool2d(Pool2dOptions::new(2));
    /// assert_eq!(y.value().to_vec(), vec![5.0, 7.0, 13.0, 15.0]);
    /// ```
    ///
    /// # Panics
    /// If the value is not 4-D, the window does not fit, or the padding is
    /// more than half the window.
    pub fn max_pool2d(self, options: Pool2dOptions) -> Var<'t> {
        let (value, indices) = self.with_value(|x| x.max_pool2d(options));
        self.tape.record(value, &[self], [indices], MaxPool2d)
    }

    /// Average pooling of a `[batch, channels, h, w]` value (PyTorch's
    /// `F.avg_pool2d`); `count_include_pad` (PyTorch's default: true)
    /// divides by the whole window, padding included.
    ///
    /// # Panics
    /// As [`Var::max_pool2d`].
    pub fn avg_pool2d(self, options: Pool2dOptions, count_include_pad: bool) -> Var<'t> {
        let value = self.with_value(|x| x.avg_pool2d(options, count_include_pad));
        let rule = AvgPool2d {
            options,
            count_include_pad,
        };
        self.tape.record(value, &[self], [], rule)
    }

    /// Adaptive average pooling to `output` `(h, w)` per channel (PyTorch's
    /// `F.adaptive_avg_pool2d`); an output of 1 is global average pooling.
    ///
    /// # Panics
    /// If the value is not 4-D or `output` has a zero side.
    pub fn adaptive_avg_pool2d(self, output: impl Into<Pair>) -> Var<'t> {
        let output = output.into();
        let value = self.with_value(|x| x.adaptive_avg_pool2d(output));
        self.tape.record(value, &[self], [], AdaptiveAvgPool2d)
    }
}

/// The backward rule of [`Var::max_pool2d`]; the argmax positions saved.
struct MaxPool2d;

impl Function for MaxPool2d {
    fn name(&self) -> &'static str {
        "max_pool2d"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let input: Shape = values.input(0).shape();
        grads.add(0, grad.max_pool2d_backward(values.saved(0), input));
    }
}

/// The backward rule of [`Var::avg_pool2d`].
struct AvgPool2d {
    options: Pool2dOptions,
    count_include_pad: bool,
}

impl Function for AvgPool2d {
    fn name(&self) -> &'static str {
        "avg_pool2d"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let input = values.input(0).shape();
        let dx = grad.avg_pool2d_backward(input, self.options, self.count_include_pad);
        grads.add(0, dx);
    }
}

/// The backward rule of [`Var::adaptive_avg_pool2d`].
struct AdaptiveAvgPool2d;

impl Function for AdaptiveAvgPool2d {
    fn name(&self) -> &'static str {
        "adaptive_avg_pool2d"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(
            0,
            grad.adaptive_avg_pool2d_backward(values.input(0).shape()),
        );
    }
}
