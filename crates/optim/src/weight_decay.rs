//! Weight decay for the rules that offer both of its forms.

use crate::check;
use crate::error::OptimError;
use crate::options::OptionValue;

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

    /// Checks the factor.
    pub(crate) fn check(name: &'static str, decay: WeightDecay) -> Result<(), OptimError> {
        check::non_negative(name, decay.factor())
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
        if let WeightDecay::Decoupled(wd) = self
            && wd != 0.0
        {
            let factor = (1.0 - lr * wd) as f32;
            param.iter_mut().for_each(|p| *p *= factor);
        }
    }
}

/// Recorded as the factor and `{name}.decoupled`.
impl OptionValue for WeightDecay {
    fn record(&self, name: &str, out: &mut Vec<(String, f64)>) {
        self.factor().record(name, out);
        matches!(self, WeightDecay::Decoupled(_)).record(&format!("{name}.decoupled"), out);
    }
}
