//! Fused, numerically stable ops that losses are built from: log-softmax,
//! softmax, softmax cross-entropy from logits and binary cross-entropy from
//! logits. Each returns per-element values; losses choose the reduction.

use descent_tensor::{Tensor, sigmoid};

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// `x - logsumexp(x)` along `axis`: log-probabilities that stay finite for
    /// any logits.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn log_softmax(self, axis: isize) -> Var<'t> {
        let x = self.value();
        let axis = x.shape().axis("log_softmax", axis) as isize;
        let value = x.sub(&x.logsumexp_axis(axis, true));
        self.tape.record(value, &[self], [], LogSoftmax(axis))
    }

    /// `exp(x) / sum(exp(x))` along `axis`, shifted so it never overflows.
    ///
    /// # Panics
    /// If `axis` is out of range.
    pub fn softmax(self, axis: isize) -> Var<'t> {
        let x = self.value();
        let axis = x.shape().axis("softmax", axis) as isize;
        let value = x.sub(&x.logsumexp_axis(axis, true)).exp();
        self.tape.record(value, &[self], [], Softmax(axis))
    }

    /// Per-sample softmax cross-entropy of `[batch, classes]` logits against
    /// class indices: `logsumexp(x_i) - x_i[target_i]`, shape `[batch]`.
    /// Fused so that neither pass overflows, even for logits of +-1e4.
    ///
    /// # Panics
    /// If the logits are not 2-D, the number of targets differs from the batch
    /// size, or a target is not below the number of classes.
    pub fn softmax_cross_entropy(self, targets: &[usize]) -> Var<'t> {
        let logits = self.value();
        assert_eq!(
            logits.rank(),
            2,
            "cross_entropy: logits must be [batch, classes], got shape {:?}",
            logits.shape()
        );
        let (batch, classes) = (logits.dims()[0], logits.dims()[1]);
        assert_eq!(
            targets.len(),
            batch,
            "cross_entropy: {} targets for logits of shape {:?}",
            targets.len(),
            logits.shape()
        );
        if let Some((sample, &label)) = targets.iter().enumerate().find(|(_, t)| **t >= classes) {
            panic!(
                "cross_entropy: target {label} of sample {sample} is out of range for {classes} classes"
            );
        }
        let lse = logits.logsumexp_axis(1, true);
        let x = logits.data();
        let losses = Tensor::from_iter(
            [batch],
            (0..batch).map(|i| lse.data()[i] - x[i * classes + targets[i]]),
        );
        assert!(
            classes <= 1 << f32::MANTISSA_DIGITS,
            "cross_entropy: {classes} classes are more than f32 indexes exactly"
        );
        // The rule recomputes the probabilities from the logits and the
        // saved log-normalizer, so a forward pass without a tape never pays
        // for them. Class indices are exact in f32 below 2^24 (checked above).
        let targets = Tensor::from_iter([batch], targets.iter().map(|&t| t as f32));
        self.tape
            .record(losses, &[self], [lse, targets], SoftmaxCrossEntropy)
    }

    /// Element-wise binary cross-entropy of logits against targets in [0, 1]:
    /// `max(x, 0) - x t + ln(1 + e^-|x|)`, finite for any logit.
    ///
    /// # Panics
    /// If `targets` has a different shape than the logits.
    pub fn bce_with_logits(self, targets: &Tensor) -> Var<'t> {
        let x = self.value();
        assert_eq!(
            x.shape(),
            targets.shape(),
            "bce_with_logits: logits have shape {:?}, targets have shape {:?}",
            x.shape(),
            targets.shape()
        );
        let value = x.zip_map("bce_with_logits", targets, |x, t| {
            x.max(0.0) - x * t + (-x.abs()).exp().ln_1p()
        });
        self.tape
            .record(value, &[self], [targets.clone()], BceWithLogits)
    }
}

struct LogSoftmax(isize);

impl Function for LogSoftmax {
    fn name(&self) -> &'static str {
        "log_softmax"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let probs = values.output().exp();
        let total = grad.sum_axis(self.0, true);
        grads.add(0, grad.sub(&probs.mul(&total)));
    }
}

struct Softmax(isize);

impl Function for Softmax {
    fn name(&self) -> &'static str {
        "softmax"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let y = values.output();
        let dot = grad.mul(y).sum_axis(self.0, true);
        grads.add(0, y.mul(&grad.sub(&dot)));
    }
}

/// Input: the logits; saved: their logsumexp per row and the class indices.
struct SoftmaxCrossEntropy;

impl Function for SoftmaxCrossEntropy {
    fn name(&self) -> &'static str {
        "cross_entropy"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (lse, targets) = (values.saved(0), values.saved(1));
        let probs = values.input(0).sub(lse).exp();
        let classes = probs.dims()[1];
        let mut d = grad.reshape([grad.numel(), 1]).mul(&probs);
        let out = d.data_mut();
        for (i, (&t, &g)) in targets.data().iter().zip(grad.data()).enumerate() {
            out[i * classes + t as usize] -= g;
        }
        grads.add(0, d);
    }
}

/// Input: the logits; saved: the targets.
struct BceWithLogits;

impl Function for BceWithLogits {
    fn name(&self) -> &'static str {
        "bce_with_logits"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let d = grad.zip3_map(
            "bce_with_logits",
            values.input(0),
            values.saved(0),
            |g, x, t| g * (sigmoid(x) - t),
        );
        grads.add(0, d);
    }
}
