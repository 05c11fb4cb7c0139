//! Normalization: batch norm (per channel, with the batch's statistics in
//! training or given ones in evaluation) and layer norm (per row over the
//! trailing dimensions), each with its optional weight and bias in the
//! same op.

use descent_tensor::{LayerGrads, LayerGradsWanted, Shape, Tensor};

use crate::ops::conv::inputs;
use crate::tape::{Function, InputGrads, OpValues, Var};

/// Which optional affine inputs a normalization op has, and where they sit
/// among its inputs (after the normalized value).
#[derive(Clone, Copy)]
struct Affine {
    weight: bool,
    bias: bool,
}

impl Affine {
    fn of(weight: Option<Var<'_>>, bias: Option<Var<'_>>) -> Affine {
        Affine {
            weight: weight.is_some(),
            bias: bias.is_some(),
        }
    }

    fn weight_input(self) -> Option<usize> {
        self.weight.then_some(1)
    }

    fn bias_input(self) -> Option<usize> {
        self.bias.then_some(1 + self.weight as usize)
    }

    /// The values of `[x, weight?, bias?]`, cloned handles (no copies).
    fn values(x: Var<'_>, weight: Option<Var<'_>>, bias: Option<Var<'_>>) -> [Option<Tensor>; 3] {
        [
            Some(x.value()),
            weight.map(|w| w.value()),
            bias.map(|b| b.value()),
        ]
    }

    fn wanted(self, grads: &InputGrads<'_>) -> LayerGradsWanted {
        LayerGradsWanted {
            input: grads.wanted(0),
            weight: self.weight_input().is_some_and(|i| grads.wanted(i)),
            bias: self.bias_input().is_some_and(|i| grads.wanted(i)),
        }
    }

    fn weight<'a>(self, values: &OpValues<'a>) -> Option<&'a Tensor> {
        self.weight_input().map(|i| values.input(i))
    }

    /// Hands the gradients to the inputs, the weight's and the bias's
    /// reshaped to their parameters' shapes.
    fn add(self, values: &OpValues<'_>, grads: &mut InputGrads<'_>, computed: LayerGrads) {
        if let Some(dx) = computed.input {
            grads.add(0, dx);
        }
        for (index, grad) in [
            (self.weight_input(), computed.weight),
            (self.bias_input(), computed.bias),
        ] {
            if let (Some(i), Some(grad)) = (index, grad) {
                grads.add(i, grad.reshape(values.input(i).shape()));
            }
        }
    }
}

impl<'t> Var<'t> {
    /// Batch normalization of a `[batch, channels, *]` value with the
    /// batch's own statistics, as PyTorch's `F.batch_norm` in training:
    /// every channel (axis 1) is normalized over the batch and all
    /// positions with the biased variance, then scaled by `weight` and
    /// shifted by `bias` (`[channels]` each, optional). Returns the output
    /// and the batch's mean and biased variance, from which a layer updates
    /// its running statistics.
    ///
    /// ```
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let tape = Tape::new();
    /// let x = tape.constant(Tensor::from([[1.0, 4.0], [3.0, 0.0]]));
    /// let (y, mean, var) = x.batch_norm(None, None, 0.0);
    /// assert_eq!(y.value().to_vec(), vec![-1.0, 1.0, 1.0, -1.0]);
    /// assert_eq!((mean.to_vec(), var.to_vec()), (vec![2.0, 2.0], vec![1.0, 4.0]));
    /// ```
    ///
    /// # Panics
    /// If the value has fewer than two dimensions, a channel has only one
    /// value (as PyTorch), or `weight` or `bias` is not `[channels]`.
    pub fn batch_norm(
        self,
        weight: Option<Var<'t>>,
        bias: Option<Var<'t>>,
        eps: f32,
    ) -> (Var<'t>, Tensor, Tensor) {
        let shape = self.shape();
        assert!(
            shape.rank() >= 2 && shape.numel() > shape.dim(1),
            "batch_norm: expected more than one value per channel when training, got input of \
             shape {shape:?}"
        );
        let [x, w, b] = Affine::values(self, weight, bias);
        let x = x.expect("the input is always present");
        let (mean, var) = x.channel_mean_var();
        let value = x.batch_norm(&mean, &var, w.as_ref(), b.as_ref(), eps);
        let rule = BatchNorm {
            eps,
            affine: Affine::of(weight, bias),
            batch_statistics: true,
        };
        let (inputs, len) = inputs(self, [weight, bias]);
        let saved = [mean.clone(), var.clone()];
        let y = self.tape.record(value, &inputs[..len], saved, rule);
        (y, mean, var)
    }

    /// Batch normalization with given per-channel statistics (a layer's
    /// running mean and variance, in evaluation), as PyTorch's
    /// `F.batch_norm` with `training=False`: the statistics are constants.
    ///
    /// # Panics
    /// If the value has fewer than two dimensions or a per-channel tensor
    /// is not `[channels]`.
    pub fn batch_norm_with_stats(
        self,
        mean: &Tensor,
        var: &Tensor,
        weight: Option<Var<'t>>,
        bias: Option<Var<'t>>,
        eps: f32,
    ) -> Var<'t> {
        let [x, w, b] = Affine::values(self, weight, bias);
        let x = x.expect("the input is always present");
        let value = x.batch_norm(mean, var, w.as_ref(), b.as_ref(), eps);
        let rule = BatchNorm {
            eps,
            affine: Affine::of(weight, bias),
            batch_statistics: false,
        };
        let (inputs, len) = inputs(self, [weight, bias]);
        let saved = [mean.clone(), var.clone()];
        self.tape.record(value, &inputs[..len], saved, rule)
    }

    /// Layer normalization over the trailing dimensions given by
    /// `normalized_shape`, as PyTorch's `F.layer_norm`: each group of
    /// trailing values is normalized with its own mean and biased variance,
    /// then scaled by `weight` and shifted by `bias` (each of
    /// `normalized_shape`, optional).
    ///
    /// # Panics
    /// If the value's trailing dimensions differ from `normalized_shape`,
    /// or `weight` or `bias` does not have that shape.
    pub fn layer_norm(
        self,
        normalized_shape: impl Into<Shape>,
        weight: Option<Var<'t>>,
        bias: Option<Var<'t>>,
        eps: f32,
    ) -> Var<'t> {
        let (shape, normalized) = (self.shape(), normalized_shape.into());
        let trailing = shape.rank().checked_sub(normalized.rank());
        assert!(
            normalized.rank() > 0
                && trailing.is_some_and(|t| shape.dims()[t..] == *normalized.dims()),
            "layer_norm: normalized shape {normalized:?} is not the end of input shape {shape:?}"
        );
        for p in weight.iter().chain(&bias) {
            assert!(
                p.shape() == normalized,
                "layer_norm: weight or bias of shape {:?} for normalized shape {normalized:?}",
                p.shape()
            );
        }
        let [x, w, b] = Affine::values(self, weight, bias);
        let x = x.expect("the input is always present");
        let (value, mean, inv_std) = x.layer_norm(normalized.numel(), w.as_ref(), b.as_ref(), eps);
        let rule = LayerNorm(Affine::of(weight, bias));
        let (inputs, len) = inputs(self, [weight, bias]);
        self.tape
            .record(value, &inputs[..len], [mean, inv_std], rule)
    }
}

/// The backward rule of the batch norms; inputs `[x, weight?, bias?]`, the
/// mean and variance used saved.
struct BatchNorm {
    eps: f32,
    affine: Affine,
    /// The statistics are the batch's own, so gradients flow through them.
    batch_statistics: bool,
}

impl Function for BatchNorm {
    fn name(&self) -> &'static str {
        "batch_norm"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let computed = values.input(0).batch_norm_backward(
            grad,
            (values.saved(0), values.saved(1)),
            self.affine.weight(values),
            self.eps,
            self.batch_statistics,
            self.affine.wanted(grads),
        );
        self.affine.add(values, grads, computed);
    }
}

/// The backward rule of [`Var::layer_norm`]; inputs `[x, weight?, bias?]`,
/// each row's mean and `1 / std` saved.
struct LayerNorm(Affine);

impl Function for LayerNorm {
    fn name(&self) -> &'static str {
        "layer_norm"
    }

    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let computed = values.input(0).layer_norm_backward(
            grad,
            (values.saved(0), values.saved(1)),
            self.0.weight(values),
            self.0.wanted(grads),
        );
        self.0.add(values, grads, computed);
    }
}
