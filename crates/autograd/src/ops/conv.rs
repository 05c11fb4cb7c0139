//! Convolutions. The 2-D op runs im2col plus GEMM in the tensor crate,
//! optionally with an activation fused in (applied to each image while its
//! output is in cache, and undone image by image in the backward pass); the
//! 1-D op is the 2-D one on images one row high.

use descent_tensor::{Conv1dOptions, Conv2dOptions, LayerGradsWanted, Tensor};

use crate::UnaryOp;
use crate::ops::activation::{Activation, with_unary_op};
use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// 2-D convolution (PyTorch's `F.conv2d`) of a `[batch, in, h, w]`
    /// value with a `[out, in / groups, kh, kw]` weight and an optional
    /// `[out]` bias.
    ///
    /// ```
    /// use descent_autograd::{Param, Tape};
    /// use descent_tensor::{Conv2dOptions, Tensor};
    ///
    /// let w = Param::new(Tensor::ones([1, 1, 2, 2]));
    /// let tape = Tape::new();
    /// let image = tape.constant(Tensor::arange(0.0, 9.0, 1.0).reshape([1, 1, 3, 3]));
    /// let y = image.conv2d(tape.param(&w), None, Conv2dOptions::default());
    /// assert_eq!(y.value().to_vec(), vec![8.0, 12.0, 20.0, 24.0]);
    /// y.sum().backward();
    /// // Each tap sees four of the nine pixels: 0+1+3+4, 1+2+4+5, ...
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![8.0, 12.0, 20.0, 24.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes or options do not fit together; the message names the
    /// input's and the weight's shapes.
    pub fn conv2d(self, weight: Var<'t>, bias: Option<Var<'t>>, options: Conv2dOptions) -> Var<'t> {
        let value = self.with_conv_values(weight, bias, |x, w, b| x.conv2d(w, b, options));
        let (inputs, len) = inputs(self, [Some(weight), bias]);
        self.tape.record(value, &inputs[..len], [], Conv2d(options))
    }

    /// [`Var::conv2d`] followed by `activation`, as one op: what a
    /// convolution layer followed by an activation layer runs in a
    /// `Sequential`. Same values as the two ops, one buffer less per pass.
    ///
    /// # Panics
    /// As [`Var::conv2d`].
    pub fn conv2d_activation(
        self,
        weight: Var<'t>,
        bias: Option<Var<'t>>,
        options: Conv2dOptions,
        activation: Activation,
    ) -> Var<'t> {
        with_unary_op!(activation, op => {
            let (pre, value) = self.with_conv_values(weight, bias, |x, w, b| {
                x.conv2d_then_map(w, b, options, |v| op.value(v))
            });
            let (inputs, len) = inputs(self, [Some(weight), bias]);
            let rule = Conv2dActivation { options, op };
            self.tape.record(value, &inputs[..len], [pre], rule)
        })
    }

    /// 1-D convolution (PyTorch's `F.conv1d`) of a `[batch, in, length]`
    /// value with a `[out, in / groups, k]` weight and an optional `[out]`
    /// bias: the 2-D convolution of one-row images.
    ///
    /// # Panics
    /// If the value or the weight is not 3-D, or as [`Var::conv2d`].
    pub fn conv1d(self, weight: Var<'t>, bias: Option<Var<'t>>, options: Conv1dOptions) -> Var<'t> {
        let (x, w) = (self.shape(), weight.shape());
        assert!(
            x.rank() == 3 && w.rank() == 3,
            "conv1d: input of shape {x:?} and weight of shape {w:?}: both must be 3-D (input \
             [batch, channels, length], weight [out, in / groups, k])"
        );
        let image = self.reshape([x.dim(0), x.dim(1), 1, x.dim(2)]);
        let kernel = weight.reshape([w.dim(0), w.dim(1), 1, w.dim(2)]);
        let y = image.conv2d(kernel, bias, options.as_2d());
        let out = y.shape();
        y.reshape([out.dim(0), out.dim(1), out.dim(3)])
    }

    /// Calls `f` with the values of the input, the weight and the bias.
    fn with_conv_values<R>(
        self,
        weight: Var<'t>,
        bias: Option<Var<'t>>,
        f: impl FnOnce(&Tensor, &Tensor, Option<&Tensor>) -> R,
    ) -> R {
        match bias {
            Some(b) => self
                .tape
                .with_values([self.id, weight.id, b.id], |[x, w, b]| f(x, w, Some(b))),
            None => self.with_values(weight, |x, w| f(x, w, None)),
        }
    }
}

/// `x` followed by the present `optional` inputs, as an array and the
/// number of its entries in use (no allocation on the per-op path).
pub(crate) fn inputs<'t>(x: Var<'t>, optional: [Option<Var<'t>>; 2]) -> ([Var<'t>; 3], usize) {
    let mut all = [x; 3];
    let mut len = 1;
    for v in optional.into_iter().flatten() {
        all[len] = v;
        len += 1;
    }
    (all, len)
}

/// Which of a convolution's inputs need gradients.
fn wanted(values: &OpValues<'_>, grads: &InputGrads<'_>) -> LayerGradsWanted {
    LayerGradsWanted {
        input: grads.wanted(0),
        weight: grads.wanted(1),
        bias: values.len() > 2 && grads.wanted(2),
    }
}

/// Hands a convolution's gradients to its inputs.
fn add_grads(grads: &mut InputGrads<'_>, computed: descent_tensor::LayerGrads) {
    let parts = [computed.input, computed.weight, computed.bias];
    for (i, grad) in parts.into_iter().enumerate() {
        if let Some(grad) = grad {
            grads.add(i, grad);
        }
    }
}

/// The backward rule of [`Var::conv2d`]; inputs `[x, w]` or `[x, w, b]`.
struct Conv2d(Conv2dOptions);

impl Function for Conv2d {
    fn name(&self) -> &'static str {
        "conv2d"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (x, w) = (values.input(0), values.input(1));
        let computed = x.conv2d_backward(w, grad, self.0, wanted(values, grads));
        add_grads(grads, computed);
    }
}

/// The backward rule of [`Var::conv2d_activation`]; inputs as [`Conv2d`],
/// the convolution's output before the activation saved.
struct Conv2dActivation<U> {
    options: Conv2dOptions,
    op: U,
}

impl<U: UnaryOp> Function for Conv2dActivation<U> {
    fn name(&self) -> &'static str {
        "conv2d"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (x, w) = (values.input(0), values.input(1));
        let activation = (values.saved(0), values.output());
        let op = &self.op;
        let computed = x.conv2d_backward_through(
            w,
            grad,
            activation,
            self.options,
            wanted(values, grads),
            |g, x, y| g * op.derivative(x, y),
        );
        add_grads(grads, computed);
    }
}
