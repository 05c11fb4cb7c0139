//! Optimizers with per-element adaptive step sizes: Adagrad, RMSprop and
//! Adadelta, as PyTorch implements them.

use crate::rule::{ParamState, UpdateRule, check, check_lr_and_decay, decayed, lerp};

/// Adagrad: steps scaled by the root of the summed squared gradients.
/// Defaults are PyTorch's: lr 0.01, lr_decay 0, weight_decay 0,
/// initial_accumulator_value 0, eps 1e-10.
#[derive(Clone, Debug, PartialEq)]
pub struct Adagrad {
    /// Learning rate.
    pub lr: f64,
    /// Learning-rate decay: the step uses `lr / (1 + (t - 1) lr_decay)`.
    pub lr_decay: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Starting value of the squared-gradient sum.
    pub initial_accumulator_value: f64,
    /// Added to the denominator.
    pub eps: f64,
}

impl Default for Adagrad {
    fn default() -> Adagrad {
        Adagrad {
            lr: 0.01,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
        }
    }
}

impl UpdateRule for Adagrad {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        &["sum"]
    }
    fn buffer_initial_value(&self, _: usize) -> f32 {
        self.initial_accumulator_value as f32
    }
    fn validate(&self) -> Result<(), String> {
        check_lr_and_decay(self.lr, self.weight_decay)?;
        check("lr_decay", self.lr_decay, self.lr_decay >= 0.0, ">= 0")?;
        check(
            "initial_accumulator_value",
            self.initial_accumulator_value,
            self.initial_accumulator_value >= 0.0,
            ">= 0",
        )?;
        check("eps", self.eps, self.eps >= 0.0, ">= 0")
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let clr = (self.lr / (1.0 + (state.step - 1) as f64 * self.lr_decay)) as f32;
        let (wd, eps) = (self.weight_decay as f32, self.eps as f32);
        let sum = &mut state.buffers[0];
        for ((p, &g), s) in param.iter_mut().zip(grad).zip(sum.iter_mut()) {
            let g = decayed(g, *p, wd);
            *s += g * g;
            *p += -clr * g / (s.sqrt() + eps);
        }
    }
}

/// RMSprop: steps scaled by a running root-mean-square of gradients.
/// Defaults are PyTorch's: lr 0.01, alpha 0.99, eps 1e-8, weight_decay 0,
/// momentum 0, centered false.
#[derive(Clone, Debug, PartialEq)]
pub struct RmsProp {
    /// Learning rate.
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average.
    pub alpha: f64,
    /// Added to the denominator.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
    /// Momentum factor.
    pub momentum: f64,
    /// Normalize by the estimated variance instead of the raw second moment.
    pub centered: bool,
}

impl Default for RmsProp {
    fn default() -> RmsProp {
        RmsProp {
            lr: 0.01,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl UpdateRule for RmsProp {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }
    fn validate(&self) -> Result<(), String> {
        check_lr_and_decay(self.lr, self.weight_decay)?;
        check("alpha", self.alpha, self.alpha >= 0.0, ">= 0")?;
        check("momentum", self.momentum, self.momentum >= 0.0, ">= 0")?;
        check("eps", self.eps, self.eps >= 0.0, ">= 0")
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let (lr, alpha, eps) = (self.lr as f32, self.alpha as f32, self.eps as f32);
        let (wd, mu) = (self.weight_decay as f32, self.momentum as f32);
        let mut buffers = state.buffers.iter_mut();
        let square_avg = buffers.next().expect("RMSprop keeps square_avg");
        let mut buffer = if mu > 0.0 { buffers.next() } else { None };
        let mut grad_avg = if self.centered { buffers.next() } else { None };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = decayed(g, *p, wd);
            let v = &mut square_avg[i];
            *v = *v * alpha + (1.0 - alpha) * g * g;
            let avg = match grad_avg.as_deref_mut() {
                Some(grad_avg) => {
                    let m = &mut grad_avg[i];
                    *m = lerp(*m, g, 1.0 - alpha);
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

/// Adadelta: unit-correct steps from running averages of squared gradients
/// and squared updates. Defaults are PyTorch's: lr 1.0, rho 0.9, eps 1e-6,
/// weight_decay 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Adadelta {
    /// Scales the computed step.
    pub lr: f64,
    /// Smoothing constant of both running averages.
    pub rho: f64,
    /// Added inside both square roots.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Default for Adadelta {
    fn default() -> Adadelta {
        Adadelta {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
        }
    }
}

impl UpdateRule for Adadelta {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        &["square_avg", "acc_delta"]
    }
    fn validate(&self) -> Result<(), String> {
        check_lr_and_decay(self.lr, self.weight_decay)?;
        check(
            "rho",
            self.rho,
            (0.0..=1.0).contains(&self.rho),
            "in [0, 1]",
        )?;
        check("eps", self.eps, self.eps >= 0.0, ">= 0")
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let (lr, rho, eps, wd) = (
            self.lr as f32,
            self.rho as f32,
            self.eps as f32,
            self.weight_decay as f32,
        );
        let [square_avg, acc_delta] = &mut state.buffers[..] else {
            unreachable!("Adadelta keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = decayed(g, *p, wd);
            let v = &mut square_avg[i];
            *v = *v * rho + (1.0 - rho) * g * g;
            let std = (*v + eps).sqrt();
            let u = &mut acc_delta[i];
            let delta = (*u + eps).sqrt() / std * g;
            *u = *u * rho + (1.0 - rho) * delta * delta;
            *p += -lr * delta;
        }
    }
}
