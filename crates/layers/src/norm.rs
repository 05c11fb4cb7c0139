//! Normalization layers with PyTorch's names, buffers and defaults:
//! `BatchNorm1d`, `BatchNorm2d` and `LayerNorm`.

use std::sync::atomic::{AtomicBool, Ordering};

use descent_autograd::{Param, Var};
use descent_tensor::{Shape, Tensor};

use crate::module::{Module, ParamVisitor, TensorKind};

/// What `BatchNorm1d` and `BatchNorm2d` share: the affine parameters, the
/// running statistics (buffers, saved with the model) and the mode.
#[derive(Debug)]
struct BatchNorm {
    /// `BatchNorm1d` or `BatchNorm2d`, for messages.
    name: &'static str,
    /// The input ranks the layer accepts.
    ranks: &'static [usize],
    weight: Option<Param>,
    bias: Option<Param>,
    running_mean: Param,
    running_var: Param,
    /// A scalar count, PyTorch's `num_batches_tracked`.
    num_batches_tracked: Param,
    eps: f32,
    momentum: f32,
    training: AtomicBool,
}

impl BatchNorm {
    fn new(name: &'static str, ranks: &'static [usize], features: usize) -> BatchNorm {
        BatchNorm {
            name,
            ranks,
            weight: Some(Param::new(Tensor::ones([features]))),
            bias: Some(Param::new(Tensor::zeros([features]))),
            running_mean: Param::new(Tensor::zeros([features])),
            running_var: Param::new(Tensor::ones([features])),
            num_batches_tracked: Param::new(Tensor::scalar(0.0)),
            eps: 1e-5,
            momentum: 0.1,
            training: AtomicBool::new(true),
        }
    }

    fn features(&self) -> usize {
        self.running_mean.numel()
    }

    fn set_affine(&mut self, affine: bool) {
        let features = self.features();
        self.weight = affine.then(|| Param::new(Tensor::ones([features])));
        self.bias = affine.then(|| Param::new(Tensor::zeros([features])));
    }

    /// Normalizes with the batch's statistics in training (and folds them
    /// into the running estimates), with the running estimates otherwise.
    ///
    /// # Panics
    /// If the input's rank or channel count is wrong, or training sees one
    /// value per channel.
    fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
        let shape = x.shape();
        assert!(
            self.ranks.contains(&shape.rank()) && shape.dim(1) == self.features(),
            "{}: expected input of rank {} with {} channels on axis 1, got shape {shape:?}",
            self.name,
            self.ranks
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" or "),
            self.features()
        );
        let tape = x.tape();
        let weight = self.weight.as_ref().map(|w| tape.param(w));
        let bias = self.bias.as_ref().map(|b| tape.param(b));
        if !self.is_training() || tape.is_evaluating() {
            let (mean, var) = (self.running_mean.value(), self.running_var.value());
            return x.batch_norm_with_stats(&mean, &var, weight, bias, self.eps);
        }
        let (y, mean, var) = x.batch_norm(weight, bias, self.eps);
        self.track(&mean, &var, shape);
        y
    }

    /// Moves the running estimates towards the batch's statistics, PyTorch's
    /// `running = (1 - momentum) running + momentum batch`, with the unbiased
    /// variance. All three buffers are written under their locks, held
    /// together (always taken in this order), so concurrent training
    /// passes cannot interleave their updates.
    fn track(&self, mean: &Tensor, var: &Tensor, shape: Shape) {
        let count = (shape.numel() / self.features()) as f32;
        let unbiased = count / (count - 1.0);
        let m = self.momentum;
        let mut running_mean = self.running_mean.value_mut();
        let mut running_var = self.running_var.value_mut();
        let mut batches = self.num_batches_tracked.value_mut();
        for (r, &b) in running_mean.data_mut().iter_mut().zip(mean.data()) {
            *r = (1.0 - m) * *r + m * b;
        }
        for (r, &b) in running_var.data_mut().iter_mut().zip(var.data()) {
            *r = (1.0 - m) * *r + m * b * unbiased;
        }
        batches.data_mut()[0] += 1.0;
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        if let (Some(weight), Some(bias)) = (&self.weight, &self.bias) {
            visitor.param("weight", weight);
            visitor.param("bias", bias);
        }
        visitor.buffer("running_mean", &self.running_mean, TensorKind::Buffer);
        visitor.buffer("running_var", &self.running_var, TensorKind::Buffer);
        visitor.buffer(
            "num_batches_tracked",
            &self.num_batches_tracked,
            TensorKind::CountBuffer,
        );
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    fn describe(&self) -> String {
        format!(
            "{}({}, eps={:e}, momentum={}, affine={})",
            self.name,
            self.features(),
            self.eps,
            self.momentum,
            if self.weight.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}

/// Defines a batch-norm layer type around [`BatchNorm`].
macro_rules! batch_norm_layer {
    ($(#[$doc:meta])* $name:ident, $ranks:expr) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name(BatchNorm);

        impl $name {
            /// Normalizes `num_features` channels, with a weight of ones, a
            /// bias of zeros, running mean 0 and variance 1, eps `1e-5`
            /// and momentum 0.1, starting in training mode.
            pub fn new(num_features: usize) -> $name {
                $name(BatchNorm::new(stringify!($name), $ranks, num_features))
            }

            /// The constant added to the variance (default `1e-5`).
            pub fn eps(mut self, eps: f32) -> $name {
                self.0.eps = eps;
                self
            }

            /// The weight of a batch's statistics in the running estimates
            /// (default 0.1).
            pub fn momentum(mut self, momentum: f32) -> $name {
                self.0.momentum = momentum;
                self
            }

            /// With or without the learned per-channel weight and bias
            /// (default with).
            pub fn affine(mut self, affine: bool) -> $name {
                self.0.set_affine(affine);
                self
            }

            /// The running mean, `[num_features]`.
            pub fn running_mean(&self) -> Tensor {
                self.0.running_mean.value()
            }

            /// The running (unbiased) variance, `[num_features]`.
            pub fn running_var(&self) -> Tensor {
                self.0.running_var.value()
            }

            /// How many training batches the running estimates have seen.
            pub fn num_batches_tracked(&self) -> usize {
                self.0.num_batches_tracked.value().item() as usize
            }
        }

        impl Module for $name {
            fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
                self.0.forward(input)
            }

            fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
                self.0.visit_params(visitor);
            }

            fn set_training(&self, training: bool) {
                self.0.training.store(training, Ordering::Relaxed);
            }

            fn is_training(&self) -> bool {
                self.0.is_training()
            }

            fn describe(&self) -> String {
                self.0.describe()
            }
        }
    };
}

batch_norm_layer!(
    /// Batch normalization over `[batch, features]` or
    /// `[batch, features, length]`, as PyTorch's `nn.BatchNorm1d`: in
    /// training each feature is normalized with the batch's mean and biased
    /// variance and the running estimates move towards them (unbiased
    /// variance, momentum 0.1); in evaluation mode, or on a `Tape::eval`
    /// tape, the running estimates normalize. Parameters `weight`, `bias`;
    /// buffers `running_mean`, `running_var`, `num_batches_tracked`.
    ///
    /// ```
    /// use descent_layers::{BatchNorm1d, Module};
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let bn = BatchNorm1d::new(2);
    /// let tape = Tape::new();
    /// let y = bn.forward(tape.constant(Tensor::from([[1.0, 10.0], [3.0, 30.0]])));
    /// assert!(y.value().all_close(&Tensor::from([[-1.0, -1.0], [1.0, 1.0]]), 1e-4, 1e-4));
    /// // running = 0.9 * initial + 0.1 * batch (unbiased variance: 2 and 200)
    /// assert!(bn.running_mean().all_close(&Tensor::from([0.2, 2.0]), 1e-6, 1e-6));
    /// assert!(bn.running_var().all_close(&Tensor::from([1.1, 20.9]), 1e-5, 1e-5));
    /// let names: Vec<String> = bn.state_dict().into_iter().map(|(n, _)| n).collect();
    /// assert_eq!(names, ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]);
    /// ```
    BatchNorm1d,
    &[2, 3]
);

batch_norm_layer!(
    /// Batch normalization over `[batch, channels, h, w]`, as PyTorch's
    /// `nn.BatchNorm2d`: each channel normalized over the batch and every
    /// position; otherwise as [`BatchNorm1d`].
    ///
    /// ```
    /// use descent_layers::{BatchNorm2d, Module};
    /// use descent_autograd::Tape;
    /// use descent_tensor::Tensor;
    ///
    /// let bn = BatchNorm2d::new(3);
    /// let tape = Tape::eval(); // evaluation: the running estimates, 0 and 1
    /// let x = Tensor::ones([2, 3, 4, 4]);
    /// let y = bn.forward(tape.constant(x.clone())).value();
    /// assert!(y.all_close(&x, 1e-4, 1e-4));
    /// assert_eq!(bn.num_batches_tracked(), 0);
    /// ```
    BatchNorm2d,
    &[4]
);

/// Layer normalization over the trailing dimensions `normalized_shape`, as
/// PyTorch's `nn.LayerNorm`: each group of trailing values is normalized
/// with its own mean and biased variance (eps `1e-5`), then scaled and
/// shifted element-wise by a learned `weight` (ones) and `bias` (zeros) of
/// `normalized_shape`, unless `elementwise_affine` is turned off. The same
/// in training and evaluation.
///
/// ```
/// use descent_layers::{LayerNorm, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::Tensor;
///
/// let ln = LayerNorm::new([4]);
/// let tape = Tape::new();
/// let y = ln.forward(tape.constant(Tensor::from([[1.0, 2.0, 3.0, 4.0]]))).value();
/// let s = 1.25f32.sqrt();
/// assert!(y.all_close(&Tensor::from([[-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]]), 1e-4, 1e-4));
/// assert_eq!(ln.num_parameters(), 8);
/// ```
#[derive(Debug)]
pub struct LayerNorm {
    normalized_shape: Shape,
    weight: Option<Param>,
    bias: Option<Param>,
    eps: f32,
}

impl LayerNorm {
    /// Normalizes over trailing dimensions of `normalized_shape`.
    pub fn new(normalized_shape: impl Into<Shape>) -> LayerNorm {
        let shape = normalized_shape.into();
        LayerNorm {
            normalized_shape: shape,
            weight: Some(Param::new(Tensor::ones(shape))),
            bias: Some(Param::new(Tensor::zeros(shape))),
            eps: 1e-5,
        }
    }

    /// The constant added to the variance (default `1e-5`).
    pub fn eps(mut self, eps: f32) -> LayerNorm {
        self.eps = eps;
        self
    }

    /// With or without the learned element-wise weight and bias (default
    /// with).
    pub fn elementwise_affine(mut self, affine: bool) -> LayerNorm {
        let shape = self.normalized_shape;
        self.weight = affine.then(|| Param::new(Tensor::ones(shape)));
        self.bias = affine.then(|| Param::new(Tensor::zeros(shape)));
        self
    }
}

impl Module for LayerNorm {
    /// # Panics
    /// If the input's trailing dimensions are not `normalized_shape`.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let tape = input.tape();
        let weight = self.weight.as_ref().map(|w| tape.param(w));
        let bias = self.bias.as_ref().map(|b| tape.param(b));
        input.layer_norm(self.normalized_shape, weight, bias, self.eps)
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        if let (Some(weight), Some(bias)) = (&self.weight, &self.bias) {
            visitor.param("weight", weight);
            visitor.param("bias", bias);
        }
    }

    fn describe(&self) -> String {
        let dims = self.normalized_shape.dims();
        let shape = match dims {
            [one] => format!("({one},)"),
            _ => format!("{dims:?}").replace('[', "(").replace(']', ")"),
        };
        format!(
            "LayerNorm({shape}, eps={:e}, elementwise_affine={})",
            self.eps,
            if self.weight.is_some() {
                "True"
            } else {
                "False"
            }
        )
    }
}
