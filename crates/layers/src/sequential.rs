//! A chain of modules applied in order.

use descent_autograd::Var;

use crate::module::{Module, ParamVisitor};

/// Modules applied one after another; parameters are named by position
/// (`0.weight`, `2.bias`, ...) exactly as in PyTorch's `nn.Sequential`.
///
/// ```
/// use descent_layers::{Dense, Module, ReLU, Sequential};
/// use descent_tensor::seeded_rng;
///
/// let mut rng = seeded_rng(0);
/// let mlp = Sequential::new()
///     .push(Dense::new(784, 128, &mut rng))
///     .push(ReLU)
///     .push(Dense::new(128, 10, &mut rng));
/// assert_eq!(mlp.num_parameters(), 101_770);
/// ```
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// An empty chain.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a module.
    pub fn push(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// The modules, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }
}

impl Module for Sequential {
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        self.layers.iter().fold(input, |x, layer| layer.forward(x))
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
        for layer in &self.layers {
            layer.set_training(training);
        }
    }

    fn describe(&self) -> String {
        let inner: Vec<String> = self.layers.iter().map(|l| l.describe()).collect();
        format!("Sequential[{}]", inner.join(", "))
    }
}
