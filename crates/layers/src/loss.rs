//! Losses with PyTorch's names, formulas and reductions. Targets are data
//! (`&Tensor`, or class indices for the classification losses). Every loss
//! refuses an empty input by name rather than return NaN.

use descent_autograd::{UnaryOp, Var};
use descent_tensor::{IndexTensor, Shape, Tensor};

/// How per-element losses are combined, as PyTorch's `reduction=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// The mean over all elements (PyTorch's default).
    #[default]
    Mean,
    /// The sum over all elements.
    Sum,
    /// No reduction: one loss per element.
    None,
}

impl Reduction {
    fn apply<'t>(self, losses: Var<'t>) -> Var<'t> {
        match self {
            Reduction::Mean => losses.mean(),
            Reduction::Sum => losses.sum(),
            Reduction::None => losses,
        }
    }
}

/// Checks that the prediction and target shapes agree and hold something.
fn check_shapes(op: &str, prediction: &Var<'_>, target: &Tensor) {
    assert_eq!(
        prediction.shape(),
        target.shape(),
        "{op}: prediction has shape {:?}, target has shape {:?}",
        prediction.shape(),
        target.shape()
    );
    check_not_empty(op, "prediction", prediction.shape());
}

/// A loss over nothing has no meaning (its mean would be NaN), and an empty
/// batch is almost always a bug upstream, so it is refused by name.
///
/// # Panics
/// If `shape` has no elements, naming the loss and what was empty.
fn check_not_empty(op: &str, what: &str, shape: Shape) {
    assert!(
        shape.numel() > 0,
        "{op}: no elements; {what} of shape {shape:?} (an empty batch?)"
    );
}

/// Mean squared error, `(prediction - target)^2`.
///
/// ```
/// use descent_autograd::Tape;
/// use descent_layers::{Reduction, mse_loss};
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let prediction = tape.constant(Tensor::from([1.0, 2.0]));
/// let loss = mse_loss(prediction, &Tensor::from([0.0, 4.0]), Reduction::Mean);
/// assert_eq!(loss.item(), 2.5); // (1 + 4) / 2
/// ```
///
/// # Panics
/// If the shapes differ (the message names both) or hold no elements.
pub fn mse_loss<'t>(prediction: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("mse_loss", &prediction, target);
    let diff = prediction - prediction.tape().constant(target.clone());
    reduction.apply(diff.square())
}

/// Mean absolute error, `|prediction - target|`.
///
/// # Panics
/// If the shapes differ or hold no elements.
pub fn l1_loss<'t>(prediction: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("l1_loss", &prediction, target);
    let diff = prediction - prediction.tape().constant(target.clone());
    reduction.apply(diff.abs())
}

/// Huber loss: `0.5 d^2` where `|d| < delta`, else `delta (|d| - 0.5 delta)`
/// (PyTorch's `HuberLoss`, default `delta = 1`).
///
/// ```
/// use descent_autograd::Tape;
/// use descent_layers::{Reduction, huber_loss};
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let prediction = tape.constant(Tensor::from([0.5, 3.0]));
/// let loss = huber_loss(prediction, &Tensor::from([0.0, 0.0]), 1.0, Reduction::None);
/// assert_eq!(loss.value().to_vec(), vec![0.125, 2.5]); // quadratic, then linear
/// ```
///
/// # Panics
/// If the shapes differ or hold no elements, or `delta` is not positive.
pub fn huber_loss<'t>(
    prediction: Var<'t>,
    target: &Tensor,
    delta: f32,
    reduction: Reduction,
) -> Var<'t> {
    check_shapes("huber_loss", &prediction, target);
    assert!(delta > 0.0, "huber_loss: delta {delta} is not positive");
    let diff = prediction - prediction.tape().constant(target.clone());
    reduction.apply(diff.unary(Huber(delta)))
}

struct Huber(f32);

impl UnaryOp for Huber {
    fn name(&self) -> &'static str {
        "huber_loss"
    }
    fn value(&self, d: f32) -> f32 {
        if d.abs() < self.0 {
            0.5 * d * d
        } else {
            self.0 * (d.abs() - 0.5 * self.0)
        }
    }
    fn derivative(&self, d: f32, _: f32) -> f32 {
        d.clamp(-self.0, self.0)
    }
}

/// Binary cross-entropy on probabilities in (0, 1):
/// `-(t ln p + (1 - t) ln(1 - p))`, with each log clamped at -100 as PyTorch
/// does, so p = 0 or 1 gives a large finite loss. Prefer
/// [`bce_with_logits_loss`], which is exact for any logit.
///
/// # Panics
/// If the shapes differ or hold no elements.
pub fn bce_loss<'t>(probabilities: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("bce_loss", &probabilities, target);
    let tape = probabilities.tape();
    let t = tape.constant(target.clone());
    let one_minus_t = tape.constant(target.map(|v| 1.0 - v));
    let log_p = probabilities.unary(ClampedLn);
    let log_not_p = (1.0 - probabilities).unary(ClampedLn);
    reduction.apply(-(t * log_p + one_minus_t * log_not_p))
}

/// `max(ln x, -100)`, the clamped log of PyTorch's `BCELoss`.
struct ClampedLn;

impl UnaryOp for ClampedLn {
    fn name(&self) -> &'static str {
        "bce_loss"
    }
    fn value(&self, x: f32) -> f32 {
        x.ln().max(-100.0)
    }
    fn derivative(&self, x: f32, y: f32) -> f32 {
        if y > -100.0 { 1.0 / x } else { 0.0 }
    }
}

/// Binary cross-entropy on logits (the logistic loss), computed stably:
/// finite and exact for logits of any size.
///
/// ```
/// use descent_autograd::Tape;
/// use descent_layers::{Reduction, bce_with_logits_loss};
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let logits = tape.constant(Tensor::from([0.0, 1000.0]));
/// let loss = bce_with_logits_loss(logits, &Tensor::from([1.0, 1.0]), Reduction::None);
/// assert_eq!(loss.value().to_vec(), vec![2f32.ln(), 0.0]); // no overflow at 1000
/// ```
///
/// # Panics
/// If the shapes differ or hold no elements.
pub fn bce_with_logits_loss<'t>(logits: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("bce_with_logits_loss", &logits, target);
    reduction.apply(logits.bce_with_logits(target))
}

/// Softmax cross-entropy of `[batch, classes]` logits against class indices
/// (PyTorch's `CrossEntropyLoss`), fused and stable.
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_layers::{Reduction, cross_entropy_loss};
/// use descent_tensor::Tensor;
///
/// let logits = Param::new(Tensor::from([[2.0, 0.0], [0.0, 0.0]]));
/// let tape = Tape::new();
/// let loss = cross_entropy_loss(tape.param(&logits), &[0, 1], Reduction::Mean);
/// loss.backward();
/// let expected = ((1.0 + (-2f32).exp()).ln() + 2f32.ln()) / 2.0;
/// assert!((loss.item() - expected).abs() < 1e-6);
/// // The gradient is (softmax - one_hot) / batch.
/// assert!((logits.grad().unwrap().get(&[1, 1]) + 0.25).abs() < 1e-6);
/// ```
///
/// # Panics
/// If the logits hold no elements, the number of targets differs from the
/// batch size or a target is not below the number of classes; the message
/// names the offending value.
pub fn cross_entropy_loss<'t>(logits: Var<'t>, targets: &[usize], reduction: Reduction) -> Var<'t> {
    check_not_empty("cross_entropy_loss", "logits", logits.shape());
    reduction.apply(logits.softmax_cross_entropy(targets))
}

/// Negative log-likelihood of `[batch, classes]` log-probabilities against
/// class indices: `-log_probs[i, target_i]` (PyTorch's `NLLLoss`).
///
/// # Panics
/// If the input is not 2-D or holds no elements, the number of targets
/// differs from the batch size, or a target is not below the number of
/// classes.
pub fn nll_loss<'t>(log_probs: Var<'t>, targets: &[usize], reduction: Reduction) -> Var<'t> {
    let shape = log_probs.shape();
    assert_eq!(
        shape.rank(),
        2,
        "nll_loss: input must be [batch, classes], got shape {shape:?}"
    );
    check_not_empty("nll_loss", "input", shape);
    let (batch, classes) = (shape.dim(0), shape.dim(1));
    assert_eq!(
        targets.len(),
        batch,
        "nll_loss: {} targets for input of shape {shape:?}",
        targets.len()
    );
    if let Some((i, t)) = targets.iter().enumerate().find(|&(_, &t)| t >= classes) {
        panic!("nll_loss: target {t} of sample {i} is out of range for {classes} classes");
    }
    let picks = IndexTensor::from_vec(targets.to_vec(), [batch, 1]);
    let picked = log_probs.gather(1, &picks).reshape([batch]);
    reduction.apply(-picked)
}

/// Checks that every target is -1 or +1, naming the first that is not.
fn check_signs(op: &str, target: &Tensor) {
    if let Some((i, t)) = target
        .data()
        .iter()
        .enumerate()
        .find(|(_, t)| t.abs() != 1.0)
    {
        panic!("{op}: target {t} at index {i} is not -1 or +1");
    }
}

/// Hinge loss for labels in {-1, +1}: `max(0, 1 - y * score)`, the loss of
/// a soft-margin linear SVM (PyTorch's `HingeEmbeddingLoss` differs; this is
/// the classic SVM form).
///
/// ```
/// use descent_autograd::Tape;
/// use descent_layers::{Reduction, hinge_loss};
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let scores = tape.constant(Tensor::from([2.0, 0.5, -1.0]));
/// let loss = hinge_loss(scores, &Tensor::from([1.0, 1.0, 1.0]), Reduction::None);
/// assert_eq!(loss.value().to_vec(), vec![0.0, 0.5, 2.0]);
/// ```
///
/// # Panics
/// If the shapes differ or hold no elements, or a target is not -1 or +1.
pub fn hinge_loss<'t>(scores: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("hinge_loss", &scores, target);
    check_signs("hinge_loss", target);
    let margin = 1.0 - scores * scores.tape().constant(target.clone());
    reduction.apply(margin.relu())
}

/// Squared hinge loss for labels in {-1, +1}: `max(0, 1 - y * score)^2`,
/// differentiable everywhere.
///
/// # Panics
/// If the shapes differ or hold no elements, or a target is not -1 or +1.
pub fn squared_hinge_loss<'t>(scores: Var<'t>, target: &Tensor, reduction: Reduction) -> Var<'t> {
    check_shapes("squared_hinge_loss", &scores, target);
    check_signs("squared_hinge_loss", target);
    let margin = 1.0 - scores * scores.tape().constant(target.clone());
    reduction.apply(margin.relu().square())
}
