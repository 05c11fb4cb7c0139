//! Weight decay for the rules that offer both of its forms.

use crate::check;
use crate::error::OptimError;
use crate::rule::flag;

/// How a rule of the Adam family applies weight decay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WeightDecay {
    /// An L2 penalty: `wd * param` added to the gradient (Adam's
    /// `weight_decay`).
    L2(f64),
    /// Decoupled from the gradient, `param *= 1 - lr wd` before the update
    /// (AdamW, and `decoupled_weight_decay=True`).
    Decoupled(f64),
}

impl WeightDecay {
    /// The factor `wd`.
    pub fn factor(self) -> f64 {
        match self {
            WeightDecay::L2(wd) | WeightDecay::Decoupled(wd) => wd,
        }
    }

    pub(crate) fn validate(self) -> Result<(), OptimError> {
        check::non_negative("weight_decay", self.factor())
    }

    /// The two options checkpoints record.
    pub(crate) fn options(self) -> [(&'static str, f64); 2] {
        [
            ("weight_decay", self.factor()),
            (
                "decoupled_weight_decay",
                flag(matches!(self, WeightDecay::Decoupled(_))),
            ),
        ]
    }

    /// The L2 factor to fold into gradients, 0 when decay is decoupled.
    pub(crate) fn l2(self) -> f32 {
        match self {
            WeightDecay::L2(wd) => wd as f32,
            WeightDecay::Decoupled(_) => 0.0,
        }
    }

    /// Multiplies the parameter by `1 - lr wd` when decay is decoupled; the
    /// factor is computed in f64 and rounded once, as PyTorch's
    /// `param.mul_(1 - lr * weight_decay)` does with Python floats.
    pub(crate) fn decouple(self, lr: f64, param: &mut [f32]) {
        if let WeightDecay::Decoupled(wd) = self {
            if wd != 0.0 {
                let factor = (1.0 - lr * wd) as f32;
                param.iter_mut().for_each(|p| *p *= factor);
            }
        }
    }
}
