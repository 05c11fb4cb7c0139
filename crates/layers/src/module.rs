//! The `Module` trait: a forward pass plus a walk over named parameters and
//! buffers, which is all optimizers, checkpoints and summaries need from any
//! layer.

use std::fmt;

use descent_autograd::{Param, Var};

/// A layer or model: maps a value on a tape to a value on the same tape.
///
/// Implement [`Module::forward`] and, if the module has parameters or
/// sub-modules, [`Module::visit_params`]; everything else (parameter lists,
/// counts, checkpoints, optimizers) then works for it, including modules
/// defined outside this crate.
///
/// Modules are `Send + Sync`: a trained model can move to a worker thread,
/// or serve forward passes from many threads at once behind an `Arc`.
///
/// ```
/// use descent_autograd::{Param, Tape, Var};
/// use descent_layers::{Module, ParamVisitor};
/// use descent_tensor::Tensor;
///
/// /// y = a * x^2 + b, element-wise.
/// struct Quadratic { a: Param, b: Param }
///
/// impl Module for Quadratic {
///     fn forward<'t>(&self, x: Var<'t>) -> Var<'t> {
///         let tape = x.tape();
///         x.square() * tape.param(&self.a) + tape.param(&self.b)
///     }
///     fn visit_params(&self, v: &mut ParamVisitor<'_>) {
///         v.param("a", &self.a);
///         v.param("b", &self.b);
///     }
/// }
///
/// let m = Quadratic { a: Param::new(Tensor::from([2.0])), b: Param::new(Tensor::from([1.0])) };
/// let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["a", "b"]);
/// let tape = Tape::new();
/// assert_eq!(m.forward(tape.constant(Tensor::from([3.0]))).item(), 19.0);
/// ```
pub trait Module: Send + Sync {
    /// The forward pass.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t>;

    /// Reports every parameter and buffer (directly, or through sub-modules
    /// with [`ParamVisitor::module`]) in a fixed order. The default has none.
    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        let _ = visitor;
    }

    /// Switches between training and evaluation behaviour (dropout, batch
    /// norm), as PyTorch's `train()`/`eval()`; modules that contain others
    /// pass it on. The default does nothing: a layer that behaves the same
    /// in both modes keeps no flag. A forward pass on a
    /// [`descent_autograd::Tape::eval`] tape runs every layer in evaluation
    /// mode without touching this flag, which is how `evaluate` and
    /// `predict` stay safe to call from several threads at once.
    fn set_training(&self, training: bool) {
        let _ = training;
    }

    /// The mode [`Module::set_training`] last set (PyTorch's `training`);
    /// `true` for a module that keeps no flag.
    fn is_training(&self) -> bool {
        true
    }

    /// A short description for summaries, e.g. `Dense(784 -> 128)`.
    fn describe(&self) -> String {
        let full = std::any::type_name::<Self>();
        full.rsplit("::").next().unwrap_or(full).to_string()
    }

    /// Every parameter with its dotted name, like PyTorch's
    /// `named_parameters()`: `0.weight`, `0.bias`, `2.weight`, ...
    fn named_parameters(&self) -> Vec<(String, Param)> {
        named(self, |kind| kind == TensorKind::Parameter)
    }

    /// Every buffer (state that is saved but not trained, such as batch
    /// norm's running statistics) with its dotted name, like PyTorch's
    /// `named_buffers()`.
    fn named_buffers(&self) -> Vec<(String, Param)> {
        named(self, |kind| kind != TensorKind::Parameter)
    }

    /// Parameters and buffers together, in visiting order: what PyTorch's
    /// `state_dict()` holds, and what checkpoints and safetensors files save.
    fn state_dict(&self) -> Vec<(String, Param)> {
        named(self, |_| true)
    }

    /// Every parameter, in the order of [`Module::named_parameters`].
    fn parameters(&self) -> Vec<Param> {
        self.named_parameters()
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// The number of scalar weights.
    fn num_parameters(&self) -> usize {
        self.parameters().iter().map(Param::numel).sum()
    }

    /// Runs the forward pass recording one [`crate::LayerSummary`] per layer
    /// for [`crate::summary`]; containers override it to list their children.
    fn trace<'t>(
        &self,
        input: Var<'t>,
        name: &str,
        rows: &mut Vec<crate::LayerSummary>,
    ) -> Var<'t> {
        let output = self.forward(input);
        rows.push(crate::LayerSummary {
            name: if name.is_empty() {
                "0".into()
            } else {
                name.to_string()
            },
            description: self.describe(),
            output_shape: output.shape(),
            parameters: self.num_parameters(),
        });
        output
    }

    /// Clears the gradient of every parameter.
    fn zero_grad(&self) {
        for p in self.parameters() {
            p.zero_grad();
        }
    }
}

/// What a tensor reported to a [`ParamVisitor`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorKind {
    /// Trained by optimizers.
    Parameter,
    /// Saved with the model but not trained (running statistics).
    Buffer,
    /// A buffer holding a count (batch norm's `num_batches_tracked`): an
    /// integer in PyTorch's files.
    CountBuffer,
}

/// The named tensors of `module` whose kind passes `keep`.
fn named<M: Module + ?Sized>(
    module: &M,
    keep: impl Fn(TensorKind) -> bool,
) -> Vec<(String, Param)> {
    let mut out = Vec::new();
    module.visit_params(&mut ParamVisitor::new(&mut |name, p, kind| {
        if keep(kind) {
            out.push((name.to_string(), p.clone()))
        }
    }));
    out
}

/// Walks a module's parameters and buffers, building each one's dotted name.
pub struct ParamVisitor<'a> {
    prefix: String,
    visit: &'a mut dyn FnMut(&str, &Param, TensorKind),
}

impl<'a> ParamVisitor<'a> {
    /// A visitor calling `visit(name, tensor, kind)` for every parameter and buffer.
    pub fn new(visit: &'a mut dyn FnMut(&str, &Param, TensorKind)) -> ParamVisitor<'a> {
        ParamVisitor {
            prefix: String::new(),
            visit,
        }
    }

    /// Reports a parameter of the current module.
    pub fn param(&mut self, name: &str, param: &Param) {
        self.report(name, param, TensorKind::Parameter);
    }

    /// Reports a buffer of the current module: saved and loaded with the
    /// model, never given to an optimizer.
    pub fn buffer(&mut self, name: &str, buffer: &Param, kind: TensorKind) {
        self.report(name, buffer, kind);
    }

    fn report(&mut self, name: &str, tensor: &Param, kind: TensorKind) {
        let start = self.prefix.len();
        self.prefix.push_str(name);
        (self.visit)(&self.prefix, tensor, kind);
        self.prefix.truncate(start);
    }

    /// Visits a sub-module's parameters under `name.`.
    pub fn module(&mut self, name: &str, module: &dyn Module) {
        let start = self.prefix.len();
        self.prefix.push_str(name);
        self.prefix.push('.');
        module.visit_params(self);
        self.prefix.truncate(start);
    }
}

/// Checks a module's gradients, for every parameter and for the input,
/// against central finite differences at `input`: the test to write for a
/// custom layer. Returns which tensor disagreed first: index 0 is the input,
/// then the parameters in [`Module::named_parameters`] order.
///
/// # Errors
/// The first element whose analytic and numeric derivatives disagree.
pub fn gradcheck_module(
    module: &dyn Module,
    input: &descent_tensor::Tensor,
) -> Result<(), descent_autograd::GradcheckError> {
    let input = Param::new(input.clone());
    let mut params = vec![input.clone()];
    params.extend(module.parameters());
    descent_autograd::gradcheck_params(Default::default(), &params, |tape| {
        module.forward(tape.param(&input))
    })
}

impl fmt::Debug for ParamVisitor<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ParamVisitor")
            .field("prefix", &self.prefix)
            .finish()
    }
}
