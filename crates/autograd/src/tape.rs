//! The tape: a flat list of nodes in execution order, walked once in reverse.
//!
//! Recording an op appends a [`Node`] holding the op's output value, the ids
//! of its inputs and a [`Function`] that knows its backward rule. Execution
//! order is already a topological order, so [`Tape::backward`] needs no sort:
//! it visits nodes from last to first, hands each op the gradient of its
//! output, and lets the op add gradients to its inputs through [`InputGrads`],
//! the single place where broadcast gradients are summed back to an input's
//! shape and where gradients of a value used several times accumulate.

use std::cell::{Cell, RefCell};
use std::fmt;

use descent_tensor::{Shape, Tensor};

use crate::param::Param;

/// The backward rule of a recorded op.
///
/// Implement it (next to the forward function that records it) to add a
/// differentiable op of your own; see [`Tape::record`].
pub trait Function: 'static {
    /// A short name for error messages, e.g. `"matmul"`.
    fn name(&self) -> &'static str;

    /// Given the gradient of the loss with respect to this op's output, adds
    /// the gradient with respect to each input to `grads`.
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>);
}

/// Where a node's value came from.
enum Source {
    /// Data, or anything computed without gradient tracking.
    Constant,
    /// A parameter put on the tape; its gradient goes back to the parameter.
    Param(Param),
    /// A recorded op.
    Op(Box<dyn Function>),
}

struct Node {
    value: Tensor,
    source: Source,
    requires_grad: bool,
    inputs: Span,
    saved: Span,
}

/// An op's input: the node it reads, and, when that node is a parameter,
/// the parameter's version when the op read it.
#[derive(Clone, Copy)]
struct Edge {
    id: u32,
    version: u32,
}

/// A node's range in one of the tape's flat lists.
#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

impl Span {
    /// The span a list's next `len` entries will take.
    fn next(list_len: usize, len: usize) -> Span {
        Span {
            start: list_len as u32,
            len: len as u32,
        }
    }

    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..(self.start + self.len) as usize
    }
}

#[derive(Default)]
struct Nodes {
    nodes: Vec<Node>,
    /// The inputs of every node, back to back; a node owns a span of it.
    edges: Vec<Edge>,
    /// What ops keep for their backward rules, back to back; a node owns a
    /// span of it. Kept here rather than in each rule so recording an op
    /// allocates nothing and `OpValues::input` always means an input.
    saved: Vec<Tensor>,
}

impl Nodes {
    fn inputs(&self, node: &Node) -> &[Edge] {
        &self.edges[node.inputs.range()]
    }

    fn saved(&self, node: &Node) -> &[Tensor] {
        &self.saved[node.saved.range()]
    }
}

/// Where an [`Anomaly`] was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pass {
    /// A value put on the tape already held it: data (`"constant"`) or a
    /// parameter (`"parameter"`); `input_shapes` holds its own shape.
    Input,
    /// The op's output value.
    Forward,
    /// The gradient the op's backward rule gave one of its inputs.
    Backward,
}

/// The first op that produced NaN or infinity, found by
/// [`Tape::detect_anomalies`].
#[derive(Clone, Debug, PartialEq)]
pub struct Anomaly {
    /// The op's name, e.g. `"ln"`.
    pub op: &'static str,
    /// The op's position on the tape (0 is the first recorded value).
    pub position: usize,
    /// The shapes of the op's inputs.
    pub input_shapes: Vec<Shape>,
    /// Whether the value or a gradient went non-finite.
    pub pass: Pass,
}

impl fmt::Display for Anomaly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.pass {
            Pass::Input => {
                return write!(
                    f,
                    "a {} of shape {:?} (tape position {}) holds NaN or infinity",
                    self.op,
                    self.input_shapes.first().copied().unwrap_or(Shape::SCALAR),
                    self.position
                );
            }
            Pass::Forward => "output",
            Pass::Backward => "gradient",
        };
        write!(
            f,
            "{} (tape position {}, input shapes {:?}) produced a non-finite {what}",
            self.op, self.position, self.input_shapes
        )
    }
}

/// The tape length at which debug builds warn that a tape is probably never
/// reset.
const LARGE_TAPE: usize = 1 << 20;

thread_local! {
    /// What a parameter node holds after `backward` released its value: one
    /// shared scalar, so releasing allocates nothing.
    static RELEASED: Tensor = Tensor::scalar(0.0);
}

/// A record of the operations of one forward pass.
///
/// Create one per training step (or reuse one with [`Tape::reset`]); values on
/// it are [`Var`]s. Dropping or resetting the tape frees the step's memory.
///
/// A tape keeps every value recorded on it until it is dropped or reset: one
/// tape used for many steps without [`Tape::reset`] grows by the size of
/// each step's activations (about 19 KB for a small MLP) every step, so a
/// long loop must create or reset its tape inside the loop. Debug builds
/// warn once on standard error when a tape passes a million values.
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_tensor::Tensor;
///
/// let w = Param::new(Tensor::from([2.0, -1.0]));
/// let tape = Tape::new();
/// let x = tape.constant(Tensor::from([3.0, 4.0]));
/// let loss = (tape.param(&w) * x).sum(); // 2*3 - 1*4
/// loss.backward();
/// assert_eq!(loss.item(), 2.0);
/// assert_eq!(w.grad().unwrap().to_vec(), vec![3.0, 4.0]);
/// ```
#[derive(Default)]
pub struct Tape {
    inner: RefCell<Nodes>,
    recording: Cell<bool>,
    detect_anomalies: Cell<bool>,
    anomaly: RefCell<Option<Anomaly>>,
    /// The per-node gradient slots of `backward`, kept between steps so a
    /// reused tape does not reallocate them.
    grads: RefCell<Vec<Option<Tensor>>>,
    /// Set while `backward` has released the parameter nodes' values.
    params_released: Cell<bool>,
    /// Set on an evaluation tape: layers behave as in evaluation mode.
    evaluating: bool,
}

impl Tape {
    /// An empty tape that records operations for `backward`.
    pub fn new() -> Tape {
        Tape {
            recording: Cell::new(true),
            ..Tape::default()
        }
    }

    /// Opt-in NaN/infinity detection, like PyTorch's `detect_anomaly`: every
    /// op's output (and, in `backward`, every gradient it produces) is
    /// checked, and the first non-finite one is kept in [`Tape::anomaly`].
    /// Costs one pass over each value, so it is off by default.
    pub fn detect_anomalies(&self, on: bool) {
        self.detect_anomalies.set(on);
    }

    /// The first op that produced NaN or infinity since anomaly detection
    /// was switched on (or since the last [`Tape::reset`]).
    pub fn anomaly(&self) -> Option<Anomaly> {
        self.anomaly.borrow().clone()
    }

    fn note_anomaly(
        &self,
        op: &'static str,
        position: usize,
        input_shapes: Vec<Shape>,
        pass: Pass,
    ) {
        let mut slot = self.anomaly.borrow_mut();
        if slot.is_none() {
            *slot = Some(Anomaly {
                op,
                position,
                input_shapes,
                pass,
            });
        }
    }

    /// An empty tape that records nothing, like PyTorch's `torch.no_grad()`:
    /// layers still follow their own training flag. `backward` on it panics.
    pub fn no_grad() -> Tape {
        let tape = Tape::new();
        tape.recording.set(false);
        tape
    }

    /// An empty tape for inference: records nothing, and every layer behaves
    /// as in evaluation mode (no dropout, batch norm with running
    /// statistics) whatever its own flag says, like PyTorch's
    /// `model.eval()` inside `torch.inference_mode()`. The mode travels with
    /// the forward pass instead of living in the model, so threads sharing
    /// one model can evaluate it at once while another trains it.
    ///
    /// ```
    /// use descent_autograd::Tape;
    ///
    /// let tape = Tape::eval();
    /// assert!(tape.is_evaluating() && !tape.is_recording());
    /// ```
    pub fn eval() -> Tape {
        Tape {
            evaluating: true,
            ..Tape::default()
        }
    }

    /// True on a tape made by [`Tape::eval`]: layers with a training mode
    /// (dropout, batch norm) behave as in evaluation mode.
    pub fn is_evaluating(&self) -> bool {
        self.evaluating
    }

    /// Runs `f` without recording gradients on this tape, then restores the
    /// previous mode, also when `f` panics.
    pub fn without_grad<T>(&self, f: impl FnOnce() -> T) -> T {
        /// Puts the recording flag back when dropped, even during unwinding.
        struct Restore<'a>(&'a Cell<bool>, bool);
        impl Drop for Restore<'_> {
            fn drop(&mut self) {
                self.0.set(self.1);
            }
        }
        let _restore = Restore(&self.recording, self.recording.replace(false));
        f()
    }

    /// True when ops on this tape are recorded for `backward`.
    pub fn is_recording(&self) -> bool {
        self.recording.get()
    }

    /// Clears every node, keeping the allocated capacity for the next step.
    pub fn reset(&mut self) {
        let inner = self.inner.get_mut();
        inner.nodes.clear();
        inner.edges.clear();
        inner.saved.clear();
        *self.anomaly.get_mut() = None;
        self.params_released.set(false);
    }

    /// The number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.inner.borrow().nodes.len()
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts data on the tape; no gradient flows to it.
    pub fn constant(&self, value: Tensor) -> Var<'_> {
        self.check_input("constant", &value);
        self.push(value, Source::Constant, false, &[], [])
    }

    /// With anomaly detection on, notes a non-finite value put on the tape.
    fn check_input(&self, what: &'static str, value: &Tensor) {
        if self.detect_anomalies.get() && !value.is_finite() {
            let position = self.len();
            self.note_anomaly(what, position, vec![value.shape()], Pass::Input);
        }
    }

    /// Puts a parameter on the tape; `backward` adds its gradient to the
    /// parameter's gradient buffer. The value is shared, not copied.
    pub fn param(&self, param: &Param) -> Var<'_> {
        let value = param.value();
        self.check_input("parameter", &value);
        if self.is_recording() {
            self.push(value, Source::Param(param.clone()), true, &[], [])
        } else {
            self.push(value, Source::Constant, false, &[], [])
        }
    }

    /// Appends the result of an op: its output `value`, its `inputs`, the
    /// tensors its backward rule needs beyond its inputs and output (`saved`,
    /// read back with [`OpValues::saved`]; `[]` for none) and the `function`
    /// holding the rule. Ops whose inputs need no gradient (or any op while
    /// not recording) are stored as constants, and their saved tensors dropped.
    ///
    /// # Panics
    /// If an input belongs to another tape.
    pub fn record<'t, const N: usize>(
        &'t self,
        value: Tensor,
        inputs: &[Var<'t>],
        saved: [Tensor; N],
        function: impl Function,
    ) -> Var<'t> {
        for input in inputs {
            assert!(
                std::ptr::eq(input.tape, self),
                "{}: an input belongs to another tape",
                function.name()
            );
        }
        if self.detect_anomalies.get() && !value.is_finite() {
            let inner = self.inner.borrow();
            let shapes = inputs
                .iter()
                .map(|v| inner.nodes[v.id].value.shape())
                .collect();
            let position = inner.nodes.len();
            drop(inner);
            self.note_anomaly(function.name(), position, shapes, Pass::Forward);
        }
        let requires_grad = self.is_recording() && {
            let inner = self.inner.borrow();
            inputs.iter().any(|v| inner.nodes[v.id].requires_grad)
        };
        if requires_grad {
            self.push(value, Source::Op(Box::new(function)), true, inputs, saved)
        } else {
            self.push(value, Source::Constant, false, &[], [])
        }
    }

    fn push<const N: usize>(
        &self,
        value: Tensor,
        source: Source,
        requires_grad: bool,
        inputs: &[Var<'_>],
        saved: [Tensor; N],
    ) -> Var<'_> {
        let mut inner = self.inner.borrow_mut();
        let input_span = Span::next(inner.edges.len(), inputs.len());
        for input in inputs {
            let version = match &inner.nodes[input.id].source {
                Source::Param(param) => param.version(),
                _ => 0,
            };
            inner.edges.push(Edge {
                id: input.id as u32,
                version,
            });
        }
        let saved_span = Span::next(inner.saved.len(), N);
        inner.saved.extend(saved);
        let id = inner.nodes.len();
        if cfg!(debug_assertions) && id == LARGE_TAPE {
            eprintln!(
                "descent: a tape holds {LARGE_TAPE} values; is it reset (or created anew) every step?"
            );
        }
        inner.nodes.push(Node {
            value,
            source,
            requires_grad,
            inputs: input_span,
            saved: saved_span,
        });
        Var { tape: self, id }
    }

    /// Back-propagates from the one-element value `root`: every parameter that
    /// `root` depends on receives `d root / d param`, added to its gradient.
    ///
    /// # Panics
    /// If `root` has more than one element, or the tape is not recording.
    pub fn backward(&self, root: Var<'_>) {
        assert!(
            std::ptr::eq(root.tape, self),
            "backward: the value belongs to another tape"
        );
        self.restore_param_values();
        let inner = self.inner.borrow();
        let root_value = &inner.nodes[root.id].value;
        assert_eq!(
            root_value.numel(),
            1,
            "backward: output has shape {:?}; reduce it to one value first (e.g. .sum() or .mean())",
            root_value.shape()
        );
        assert!(
            inner.nodes[root.id].requires_grad || self.is_recording(),
            "backward: this tape does not record gradients (created with Tape::no_grad)"
        );
        let mut grads = std::mem::take(&mut *self.grads.borrow_mut());
        grads.resize(root.id + 1, None);
        grads[root.id] = Some(Tensor::ones(root_value.shape()));
        for id in (0..=root.id).rev() {
            let Some(grad) = grads[id].take() else {
                continue;
            };
            let node = &inner.nodes[id];
            match &node.source {
                Source::Constant => {}
                Source::Param(param) => param.accumulate_grad(grad),
                Source::Op(function) => {
                    let inputs = inner.inputs(node);
                    check_param_versions(&inner.nodes, function.name(), inputs);
                    let values = OpValues {
                        nodes: &inner.nodes,
                        inputs,
                        saved: inner.saved(node),
                        output: &node.value,
                    };
                    let mut input_grads = InputGrads {
                        nodes: &inner.nodes,
                        inputs,
                        grads: &mut grads[..id],
                    };
                    function.backward(&values, &grad, &mut input_grads);
                    if self.detect_anomalies.get() {
                        self.check_gradients(&inner, function.name(), id, inputs, &grads);
                    }
                }
            }
        }
        grads.clear();
        *self.grads.borrow_mut() = grads;
        drop(inner);
        self.release_param_values();
    }

    /// Records an anomaly if the gradients op `id` gave its inputs hold NaN
    /// or infinity.
    fn check_gradients(
        &self,
        inner: &Nodes,
        op: &'static str,
        id: usize,
        inputs: &[Edge],
        grads: &[Option<Tensor>],
    ) {
        let non_finite = inputs.iter().any(|e| {
            grads[e.id as usize]
                .as_ref()
                .is_some_and(|g| !g.is_finite())
        });
        if non_finite {
            let shapes = inputs
                .iter()
                .map(|e| inner.nodes[e.id as usize].value.shape())
                .collect();
            self.note_anomaly(op, id, shapes, Pass::Backward);
        }
    }

    /// Drops the tape's references to parameter values once `backward` is
    /// done with them (as PyTorch frees saved tensors), so the optimizer
    /// updates each parameter in place instead of copying a shared buffer.
    /// [`Var::value`] on a parameter then reads the parameter itself.
    fn release_param_values(&self) {
        self.params_released.set(true);
        let placeholder = RELEASED.with(Tensor::clone);
        for node in &mut self.inner.borrow_mut().nodes {
            if matches!(node.source, Source::Param(_)) {
                node.value = placeholder.clone();
            }
        }
    }

    /// Gives parameter nodes their values back for a second `backward`.
    fn restore_param_values(&self) {
        self.params_released.set(false);
        for node in &mut self.inner.borrow_mut().nodes {
            if let Source::Param(param) = &node.source {
                node.value = param.value();
            }
        }
    }

    pub(crate) fn value(&self, id: usize) -> Tensor {
        let inner = self.inner.borrow();
        match &inner.nodes[id].source {
            Source::Param(param) => param.value(),
            _ => inner.nodes[id].value.clone(),
        }
    }

    /// Calls `f` with the values of nodes `ids`, borrowed rather than
    /// cloned: forward rules read their inputs this way, which saves two
    /// atomic reference-count updates per input of every recorded op.
    /// `f` must not record on this tape.
    pub(crate) fn with_values<const N: usize, R>(
        &self,
        ids: [usize; N],
        f: impl FnOnce([&Tensor; N]) -> R,
    ) -> R {
        if self.params_released.get() {
            let values = ids.map(|id| self.value(id));
            return f(values.each_ref());
        }
        let inner = self.inner.borrow();
        f(ids.map(|id| &inner.nodes[id].value))
    }

    pub(crate) fn requires_grad(&self, id: usize) -> bool {
        self.inner.borrow().nodes[id].requires_grad
    }
}

/// Refuses to back-propagate through an op whose parameter input was
/// written (by an optimizer step, `set_value`, a checkpoint load) after the
/// op read it: the rule would pair the new weights with the old
/// activations and return a wrong gradient, as PyTorch's version counter
/// guards against.
///
/// # Panics
/// If such an input exists, naming the op and the parameter's shape.
fn check_param_versions(nodes: &[Node], op: &str, inputs: &[Edge]) {
    for edge in inputs {
        if let Source::Param(param) = &nodes[edge.id as usize].source
            && param.version() != edge.version
        {
            panic!(
                "backward: the parameter of shape {:?} that {op} used was modified after the \
                 forward pass (by an optimizer step, set_value or a checkpoint load); \
                 run the forward pass again before calling backward",
                param.shape()
            );
        }
    }
}

/// The values an op's backward rule may read: its inputs, what it saved
/// when it was recorded, and its output.
pub struct OpValues<'a> {
    nodes: &'a [Node],
    inputs: &'a [Edge],
    saved: &'a [Tensor],
    output: &'a Tensor,
}

impl<'a> OpValues<'a> {
    /// The value of input `i`.
    pub fn input(&self, i: usize) -> &'a Tensor {
        &self.nodes[self.inputs[i].id as usize].value
    }

    /// Saved tensor `i`, in the order given to [`Tape::record`].
    pub fn saved(&self, i: usize) -> &'a Tensor {
        &self.saved[i]
    }

    /// The op's output value.
    pub fn output(&self) -> &'a Tensor {
        self.output
    }

    /// The number of inputs.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }

    /// True when the op has no inputs.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

/// Receives the gradients an op's backward rule computes for its inputs.
pub struct InputGrads<'a> {
    nodes: &'a [Node],
    inputs: &'a [Edge],
    grads: &'a mut [Option<Tensor>],
}

impl InputGrads<'_> {
    /// True when input `i` needs a gradient; rules skip work for the others
    /// (a matmul whose left operand is data computes only the weight gradient).
    pub fn wanted(&self, i: usize) -> bool {
        self.nodes[self.inputs[i].id as usize].requires_grad
    }

    /// Adds `grad` to input `i`'s gradient. A gradient with the broadcast
    /// shape of the op's output is first summed back to the input's shape.
    ///
    /// # Panics
    /// If `grad` cannot be reduced to the input's shape.
    pub fn add(&mut self, i: usize, grad: Tensor) {
        if !self.wanted(i) {
            return;
        }
        let id = self.inputs[i].id as usize;
        let shape: Shape = self.nodes[id].value.shape();
        let grad = if grad.shape() == shape {
            grad
        } else {
            grad.sum_to(shape)
        };
        match &mut self.grads[id] {
            slot @ None => *slot = Some(grad),
            Some(existing) => existing.add_assign(&grad),
        }
    }
}

/// A value on a [`Tape`]: a cheap `Copy` handle used like a tensor.
///
/// Arithmetic operators, activations, reductions and products on `Var`s are
/// recorded on the tape for [`Var::backward`]. The operators take a `Var`
/// or `&Var`, a [`Tensor`] or `&Tensor` (put on the tape as a constant) or
/// an `f32`, on either side:
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_tensor::Tensor;
///
/// let w = Param::new(Tensor::from([1.0, -2.0]));
/// let x = Tensor::from([3.0, 4.0]);
/// let tape = Tape::new();
/// let y = 2.0 * tape.param(&w) * &x - 1.0;
/// assert_eq!(y.value().to_vec(), vec![5.0, -17.0]);
/// y.sum().backward();
/// assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 8.0]);
/// ```
#[derive(Clone, Copy)]
pub struct Var<'t> {
    pub(crate) tape: &'t Tape,
    pub(crate) id: usize,
}

impl<'t> Var<'t> {
    /// The tape this value lives on.
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// The value (shares the buffer, no copy).
    pub fn value(&self) -> Tensor {
        self.tape.value(self.id)
    }

    /// The shape of the value.
    pub fn shape(&self) -> Shape {
        self.with_value(Tensor::shape)
    }

    /// Calls `f` with the value, borrowed from the tape; see [`Tape::with_values`].
    pub(crate) fn with_value<R>(self, f: impl FnOnce(&Tensor) -> R) -> R {
        self.tape.with_values([self.id], |[x]| f(x))
    }

    /// Calls `f` with this value and `other`'s, borrowed from the tape.
    pub(crate) fn with_values<R>(self, other: Var<'t>, f: impl FnOnce(&Tensor, &Tensor) -> R) -> R {
        self.tape.with_values([self.id, other.id], |[x, y]| f(x, y))
    }

    /// The single value of a one-element result, e.g. a loss.
    ///
    /// # Panics
    /// If the value has more than one element.
    pub fn item(&self) -> f32 {
        self.value().item()
    }

    /// True when gradients flow through this value to some parameter.
    pub fn requires_grad(&self) -> bool {
        self.tape.requires_grad(self.id)
    }

    /// Back-propagates from this one-element value; see [`Tape::backward`].
    pub fn backward(&self) {
        self.tape.backward(*self)
    }

    /// The same value with no gradient path to its inputs.
    pub fn detach(&self) -> Var<'t> {
        self.tape.constant(self.value())
    }
}

impl fmt::Debug for Var<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Var#{}({:?})", self.id, self.value())
    }
}

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tape")
            .field("values", &self.len())
            .field("recording", &self.is_recording())
            .field("evaluating", &self.evaluating)
            .field("detect_anomalies", &self.detect_anomalies.get())
            .finish()
    }
}

impl fmt::Debug for OpValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpValues")
            .field("inputs", &self.inputs.len())
            .field("saved", &self.saved.len())
            .field("output_shape", &self.output.shape())
            .finish()
    }
}

impl fmt::Debug for InputGrads<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InputGrads")
            .field("inputs", &self.inputs.len())
            .finish()
    }
}
