//! A chain of modules applied in order.

use std::any::Any;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use descent_autograd::{Activation, Var};

use crate::dense::Dense;
use crate::module::{Module, ParamVisitor};
use crate::pooling::MaxPool2d;

/// Modules applied one after another; parameters are named by position
/// (`0.weight`, `2.bias`, ...) exactly as in PyTorch's `nn.Sequential`.
///
/// A [`Dense`] layer directly followed by an [`Activation`] runs as one
/// fused op (bias and activation in one pass over the product), and a
/// `Dense` built [`Dense::with_activation`] takes two positions, the layer's
/// and the activation's: either way the names and the values are those of
/// PyTorch's `Linear, ReLU` pair. A ReLU directly followed by a
/// [`MaxPool2d`] runs after the pooling instead: the two commute, values
/// and gradients alike (the gradient reaches the same positions, up to
/// the sign of a zero), and the activation then touches a quarter of the
/// values, as in a CNN's `Conv2d, ReLU, MaxPool2d`.
///
/// ```
/// use descent_layers::{Activation, Dense, Module, Sequential};
/// use descent_tensor::seeded_rng;
///
/// let mut rng = seeded_rng(0);
/// let mlp = Sequential::new()
///     .push(Dense::new(784, 128, &mut rng))
///     .push(Activation::Relu)
///     .push(Dense::new(128, 10, &mut rng));
/// assert_eq!(mlp.num_parameters(), 101_770);
/// assert_eq!(mlp.named_parameters()[2].0, "2.weight");
/// ```
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
    /// How `forward` runs the layers: one step per layer, except that a
    /// plain `Dense` and the activation after it share one fused step, and
    /// so do a ReLU and the max pooling after it.
    plan: Vec<Step>,
    /// The mode last set, as PyTorch's `training` attribute.
    training: AtomicBool,
}

impl Default for Sequential {
    fn default() -> Sequential {
        Sequential {
            layers: Vec::new(),
            plan: Vec::new(),
            training: AtomicBool::new(true),
        }
    }
}

/// One step of [`Sequential::forward`].
enum Step {
    /// Runs the layer at this position.
    Layer(usize),
    /// A plain `Dense` layer, kept as its concrete type so the activation
    /// pushed after it can be fused into it.
    Dense(Dense),
    /// A `Dense` layer and the activation after it, as one op.
    Fused(Dense),
    /// A ReLU on its own, kept apart so a max pooling pushed after it can
    /// run first.
    Relu,
    /// A ReLU and the max pooling after it, run pooling first.
    PoolThenRelu(MaxPool2d),
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module. A `Dense` with a fused activation is appended as
    /// the layer and then the activation, as PyTorch would hold them.
    pub fn push(mut self, layer: impl Module + 'static) -> Sequential {
        let any: &dyn Any = &layer;
        if let Some(dense) = any.downcast_ref::<Dense>() {
            let plain = dense.share_with_activation(None);
            self.plan
                .push(Step::Dense(plain.share_with_activation(None)));
            self.layers.push(Box::new(plain));
            return match dense.activation() {
                Some(activation) => self.push(activation),
                None => self,
            };
        }
        if let Some(&activation) = any.downcast_ref::<Activation>() {
            if let Some(Step::Dense(dense)) = self.plan.last() {
                let fused = dense.share_with_activation(Some(activation));
                *self.plan.last_mut().expect("checked above") = Step::Fused(fused);
                self.layers.push(Box::new(activation));
                return self;
            }
            if activation == Activation::Relu {
                self.plan.push(Step::Relu);
                self.layers.push(Box::new(activation));
                return self;
            }
        }
        if let Some(&pool) = any.downcast_ref::<MaxPool2d>()
            && let Some(last @ Step::Relu) = self.plan.last_mut()
        {
            *last = Step::PoolThenRelu(pool);
            self.layers.push(Box::new(pool));
            return self;
        }
        self.plan.push(Step::Layer(self.layers.len()));
        self.layers.push(Box::new(layer));
        self
    }

    /// The modules, in order (a fused `Dense` and its activation are two).
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// The number of modules.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// True when the chain has no modules.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        self.plan.iter().fold(input, |x, step| match step {
            Step::Layer(i) => self.layers[*i].forward(x),
            Step::Dense(dense) | Step::Fused(dense) => dense.forward(x),
            Step::Relu => x.activation(Activation::Relu),
            Step::PoolThenRelu(pool) => pool.forward(x).activation(Activation::Relu),
        })
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        for (i, layer) in self.layers.iter().enumerate() {
            visitor.module(&i.to_string(), layer.as_ref());
        }
    }

    fn trace<'t>(
        &self,
        input: Var<'t>,
        name: &str,
        rows: &mut Vec<crate::LayerSummary>,
    ) -> Var<'t> {
        self.layers.iter().enumerate().fold(input, |x, (i, layer)| {
            let child = if name.is_empty() {
                i.to_string()
            } else {
                format!("{name}.{i}")
            };
            layer.trace(x, &child, rows)
        })
    }

    fn set_training(&self, training: bool) {
        self.training.store(training, Ordering::Relaxed);
        for layer in &self.layers {
            layer.set_training(training);
        }
    }

    fn is_training(&self) -> bool {
        self.training.load(Ordering::Relaxed)
    }

    fn describe(&self) -> String {
        let inner: Vec<String> = self.layers.iter().map(|l| l.describe()).collect();
        format!("Sequential[{}]", inner.join(", "))
    }
}

impl fmt::Debug for Sequential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}
