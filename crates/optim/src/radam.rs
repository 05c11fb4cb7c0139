//! RAdam: Adam with a rectified adaptive learning rate, plain momentum SGD
//! while the variance estimate is unreliable, as `torch.optim.RAdam`.

use crate::adam::Moments;
use crate::check;
use crate::options::rule_options;
use crate::rule::{UpdateRule, effective_grad};
use crate::state::param_state;
use crate::weight_decay::WeightDecay;

rule_options! {
    /// RAdam options. Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999),
    /// eps 1e-8, L2 weight decay 0, minimize.
    pub struct RAdam ["RAdam", lr 1e-3, momentum betas] {
        /// Decay rates of the moment estimates.
        betas: (f64, f64) = (0.9, 0.999) => check::betas,
        /// Added to the denominator.
        eps: f64 = 1e-8 => check::non_negative,
        /// Weight decay, L2 or decoupled (PyTorch's `decoupled_weight_decay`).
        weight_decay: WeightDecay = WeightDecay::L2(0.0) => WeightDecay::check,
    }
}

param_state! {
    /// RAdam's state, with PyTorch's names.
    pub struct RAdamState {
        /// The first moment estimate `m`.
        exp_avg: Vec<f32>,
        /// The second moment estimate `v`.
        exp_avg_sq: Vec<f32>,
    }
}

impl UpdateRule for RAdam {
    type State = RAdamState;

    fn update(&self, lr: f64, step: u64, param: &mut [f32], grad: &[f32], state: &mut RAdamState) {
        let t = step as f64;
        let (b1, b2) = self.betas;
        let bias_correction1 = (1.0 - b1.powf(t)) as f32;
        let bias_correction2 = 1.0 - b2.powf(t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / bias_correction2;
        let rectified = (rho_t > 5.0).then(|| {
            let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
                / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt();
            (rect as f32, bias_correction2.sqrt() as f32)
        });
        let (l2, eps, moments) = (
            self.weight_decay.l2(),
            self.eps as f32,
            Moments::new(self.betas),
        );
        self.weight_decay.decouple(lr, param);
        let lr = lr as f32;
        let (m, v) = (&mut state.exp_avg, &mut state.exp_avg_sq);
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = effective_grad(g, *p, self.maximize, l2);
            moments.update(g, &mut m[i], &mut v[i]);
            let corrected = m[i] / bias_correction1;
            let step = match rectified {
                Some((rect, bc2_sqrt)) => corrected * lr * (bc2_sqrt / (v[i].sqrt() + eps)) * rect,
                None => corrected * lr,
            };
            *p += -step;
        }
    }
}
