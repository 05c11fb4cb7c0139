//! Adamax: Adam with the infinity norm, as `torch.optim.Adamax`.

use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad, lerp};
use crate::state::param_state;

rule_options! {
    /// Adamax options. Defaults are PyTorch's: lr 2e-3, betas (0.9, 0.999),
    /// eps 1e-8, weight_decay 0, minimize.
    pub struct Adamax ["Adamax", lr 2e-3, momentum betas] {
        /// Decay rates of the first moment and the infinity norm.
        betas: (f64, f64) = (0.9, 0.999) => check::betas,
        /// Added to `|grad|` in the infinity norm.
        eps: f64 = 1e-8 => check::non_negative,
        /// L2 penalty added to the gradient.
        weight_decay: f64 = 0.0 => check::non_negative,
    }
}

param_state! {
    /// Adamax's state, with PyTorch's names.
    pub struct AdamaxState {
        /// The first moment estimate `m`.
        exp_avg: Vec<f32>,
        /// The exponentially weighted infinity norm `u`.
        exp_inf: Vec<f32>,
    }
}

impl UpdateRule for Adamax {
    type State = AdamaxState;

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut AdamaxState) {
        let (b1, b2) = self.betas;
        let clr = (lr / (1.0 - b1.powi(i32::try_from(step).unwrap_or(i32::MAX)))) as f32;
        let (w1, b2) = ((1.0 - b1) as f32, b2 as f32);
        let (eps, wd) = (self.eps as f32, self.weight_decay as f32);
        let (m, u) = (&mut state.exp_avg, &mut state.exp_inf);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, wd);
            m[i] = lerp(m[i], g, w1);
            u[i] = (u[i] * b2).max(g.abs() + eps);
            *p += -clr * m[i] / u[i];
        }
    }
}
