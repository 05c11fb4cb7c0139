//! RMSprop: steps scaled by a running root-mean-square of gradients, as
//! `torch.optim.RMSprop`.

use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad, lerp};
use crate::state::param_state;

rule_options! {
    /// RMSprop options. Defaults are PyTorch's: lr 0.01, alpha 0.99, eps 1e-8,
    /// weight_decay 0, momentum 0, not centered, minimize.
    pub struct RmsProp ["RmsProp", lr 0.01, momentum momentum] {
        /// Smoothing constant of the squared-gradient average.
        alpha: f64 = 0.99 => check::unit_interval,
        /// Added to the denominator.
        eps: f64 = 1e-8 => check::non_negative,
        /// L2 penalty added to the gradient.
        weight_decay: f64 = 0.0 => check::non_negative,
        /// Momentum factor (0: none).
        momentum: f64 = 0.0 => check::non_negative,
        /// Normalize by the estimated variance instead of the raw second
        /// moment.
        centered: bool = false => check::flag,
    }
}

param_state! {
    /// RMSprop's state, with PyTorch's names. The buffers an option needs are
    /// created when the option is first used, so options may change at any
    /// time.
    pub struct RmsPropState {
        /// The running average of squared gradients.
        square_avg: Vec<f32>,
        /// The momentum buffer, once momentum is on.
        momentum_buffer: Option<Vec<f32>>,
        /// The running average of gradients, once `centered` is on.
        grad_avg: Option<Vec<f32>>,
    }
}

impl UpdateRule for RmsProp {
    type State = RmsPropState;

    fn update(&self, lr: f64, _: u64, param: &mut [f32], grad: &[f32], state: &mut RmsPropState) {
        let n = param.len();
        let (lr, alpha, eps) = (lr as f32, self.alpha as f32, self.eps as f32);
        // `1 - alpha` in f64, as PyTorch computes it with Python floats.
        let weight = (1.0 - self.alpha) as f32;
        let (wd, mu) = (self.weight_decay as f32, self.momentum as f32);
        let square_avg = &mut state.square_avg;
        let mut buffer = (mu > 0.0).then(|| {
            state
                .momentum_buffer
                .get_or_insert_with(|| vec![0.0; n])
                .as_mut_slice()
        });
        let mut grad_avg = self.centered.then(|| {
            state
                .grad_avg
                .get_or_insert_with(|| vec![0.0; n])
                .as_mut_slice()
        });
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, wd);
            let v = &mut square_avg[i];
            *v = *v * alpha + weight * g * g;
            let avg = match grad_avg.as_deref_mut() {
                Some(grad_avg) => {
                    let m = &mut grad_avg[i];
                    *m = lerp(*m, g, weight);
                    (*v + -1.0 * *m * *m).sqrt() + eps
                }
                None => v.sqrt() + eps,
            };
            if let Some(buffer) = buffer.as_deref_mut() {
                let b = &mut buffer[i];
                *b = *b * mu + g / avg;
                *p += -lr * *b;
            } else {
                *p += -lr * g / avg;
            }
        }
    }
}
