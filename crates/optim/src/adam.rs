//! The Adam family: Adam and AdamW, Adamax, NAdam and RAdam, each following
//! PyTorch's single-tensor implementation (moment updates with `lerp` and
//! `addcmul`, bias corrections computed in f64).

use crate::rule::{ParamState, UpdateRule, check, check_adam_options, decayed, lerp};

/// Applies weight decay the way an Adam-family rule is configured: decoupled
/// (AdamW: `p *= 1 - lr wd`) or as L2 added to the gradient.
fn weight_decay(param: &mut f32, grad: f32, lr: f32, wd: f32, decoupled: bool) -> f32 {
    if decoupled {
        if wd != 0.0 {
            *param *= 1.0 - lr * wd;
        }
        grad
    } else {
        decayed(grad, *param, wd)
    }
}

/// Adam, and AdamW with decoupled weight decay ([`Adam::adamw`]).
/// Defaults are PyTorch's: lr 1e-3, betas (0.9, 0.999), eps 1e-8,
/// weight_decay 0 (0.01 for AdamW), amsgrad false.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the first and second moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay: L2 for Adam, decoupled for AdamW.
    pub weight_decay: f64,
    /// Use the running maximum of the second moment (AMSGrad).
    pub amsgrad: bool,
    /// Decoupled weight decay (AdamW).
    pub decoupled_weight_decay: bool,
}

impl Default for Adam {
    fn default() -> Adam {
        Adam {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
        }
    }
}

impl Adam {
    /// Adam with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Adam {
        Adam {
            lr,
            ..Adam::default()
        }
    }

    /// AdamW (`torch.optim.AdamW`): decoupled weight decay 0.01.
    pub fn adamw() -> Adam {
        Adam {
            weight_decay: 0.01,
            decoupled_weight_decay: true,
            ..Adam::default()
        }
    }
}

impl UpdateRule for Adam {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        if self.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        }
    }
    fn validate(&self) -> Result<(), String> {
        check_adam_options(self.lr, self.weight_decay, self.betas, self.eps)
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let t = state.step as i32;
        let (b1, b2) = self.betas;
        let (lr, wd) = (self.lr as f32, self.weight_decay as f32);
        if self.decoupled_weight_decay && wd != 0.0 {
            param.iter_mut().for_each(|p| *p *= 1.0 - lr * wd);
        }
        let constants = AdamConstants {
            step_size: (self.lr / (1.0 - b1.powi(t))) as f32,
            bias_correction2_sqrt: (1.0 - b2.powi(t)).sqrt() as f32,
            eps: self.eps as f32,
            l2: if self.decoupled_weight_decay { 0.0 } else { wd },
            w1: (1.0 - b1) as f32,
            b2: b2 as f32,
            w2: (1.0 - b2) as f32,
        };
        let [m, v, rest @ ..] = &mut state.buffers[..] else {
            unreachable!("Adam keeps exp_avg and exp_avg_sq")
        };
        let v_max: &mut [f32] = rest.first_mut().map_or(&mut [], |b| &mut b[..]);
        // One branch-free loop per configuration, so each one vectorizes.
        match (self.amsgrad, constants.l2 != 0.0, constants.w1 < 0.5) {
            (false, false, true) => {
                adam_pass::<false, false, true>(&constants, param, grad, m, v, v_max)
            }
            (false, false, false) => {
                adam_pass::<false, false, false>(&constants, param, grad, m, v, v_max)
            }
            (false, true, true) => {
                adam_pass::<false, true, true>(&constants, param, grad, m, v, v_max)
            }
            (false, true, false) => {
                adam_pass::<false, true, false>(&constants, param, grad, m, v, v_max)
            }
            (true, false, true) => {
                adam_pass::<true, false, true>(&constants, param, grad, m, v, v_max)
            }
            (true, false, false) => {
                adam_pass::<true, false, false>(&constants, param, grad, m, v, v_max)
            }
            (true, true, true) => {
                adam_pass::<true, true, true>(&constants, param, grad, m, v, v_max)
            }
            (true, true, false) => {
                adam_pass::<true, true, false>(&constants, param, grad, m, v, v_max)
            }
        }
    }
}

/// Zero for subnormal values. Weights that never get a gradient (MNIST's
/// blank border pixels) see their moments decay geometrically into the
/// subnormal range, where every operation takes a slow path: epochs of the
/// flagship MLP slowed from 0.035 to 0.055 s. Flushing cannot change the
/// update: `sqrt(v) < 1.1e-19` vanishes next to `eps`, and `m` contributes
/// about 1e-34 to a weight. PyTorch's CPU Adam does not flush, so only the
/// moment buffers, never the parameters, can differ from it.
#[inline]
fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE { 0.0 } else { x }
}

/// The per-step scalars of an Adam update.
struct AdamConstants {
    step_size: f32,
    bias_correction2_sqrt: f32,
    eps: f32,
    l2: f32,
    w1: f32,
    b2: f32,
    w2: f32,
}

/// The element loop of Adam for one configuration: AMSGrad or not, L2 weight
/// decay or not, and which of PyTorch's two `lerp` forms `1 - beta1` selects.
fn adam_pass<const AMSGRAD: bool, const L2: bool, const SMALL_WEIGHT: bool>(
    c: &AdamConstants,
    param: &mut [f32],
    grad: &[f32],
    m: &mut [f32],
    v: &mut [f32],
    v_max: &mut [f32],
) {
    let n = param.len();
    let (grad, m, v) = (&grad[..n], &mut m[..n], &mut v[..n]);
    for i in 0..n {
        let g = if L2 {
            grad[i] + c.l2 * param[i]
        } else {
            grad[i]
        };
        m[i] = flush_subnormal(if SMALL_WEIGHT {
            m[i] + c.w1 * (g - m[i])
        } else {
            g - (g - m[i]) * (1.0 - c.w1)
        });
        v[i] = flush_subnormal(v[i] * c.b2 + c.w2 * g * g);
        let second = if AMSGRAD {
            v_max[i] = v_max[i].max(v[i]);
            v_max[i]
        } else {
            v[i]
        };
        let denom = second.sqrt() / c.bias_correction2_sqrt + c.eps;
        param[i] += -c.step_size * m[i] / denom;
    }
}

/// Adamax: Adam with the infinity norm. Defaults are PyTorch's: lr 2e-3,
/// betas (0.9, 0.999), eps 1e-8, weight_decay 0.
#[derive(Clone, Debug, PartialEq)]
pub struct Adamax {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the first moment and the infinity norm.
    pub betas: (f64, f64),
    /// Added to `|grad|` in the infinity norm.
    pub eps: f64,
    /// L2 penalty added to the gradient.
    pub weight_decay: f64,
}

impl Default for Adamax {
    fn default() -> Adamax {
        Adamax {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}

impl UpdateRule for Adamax {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_inf"]
    }
    fn validate(&self) -> Result<(), String> {
        check_adam_options(self.lr, self.weight_decay, self.betas, self.eps)
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let (b1, b2) = self.betas;
        let clr = (self.lr / (1.0 - b1.powi(state.step as i32))) as f32;
        let (w1, b2, eps, wd) = (
            (1.0 - b1) as f32,
            b2 as f32,
            self.eps as f32,
            self.weight_decay as f32,
        );
        let [m, u] = &mut state.buffers[..] else {
            unreachable!("Adamax keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = decayed(g, *p, wd);
            m[i] = lerp(m[i], g, w1);
            u[i] = (u[i] * b2).max(g.abs() + eps);
            *p += -clr * m[i] / u[i];
        }
    }
}

/// NAdam: Adam with Nesterov momentum and momentum decay. Defaults are
/// PyTorch's: lr 2e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0,
/// momentum_decay 4e-3, decoupled_weight_decay false.
#[derive(Clone, Debug, PartialEq)]
pub struct NAdam {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay (L2, or decoupled when `decoupled_weight_decay`).
    pub weight_decay: f64,
    /// The momentum decay `psi`.
    pub momentum_decay: f64,
    /// Decoupled weight decay, as AdamW.
    pub decoupled_weight_decay: bool,
}

impl Default for NAdam {
    fn default() -> NAdam {
        NAdam {
            lr: 2e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
        }
    }
}

impl UpdateRule for NAdam {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
    fn scalars(&self) -> &'static [(&'static str, f64)] {
        &[("mu_product", 1.0)]
    }
    fn validate(&self) -> Result<(), String> {
        check_adam_options(self.lr, self.weight_decay, self.betas, self.eps)?;
        check(
            "momentum_decay",
            self.momentum_decay,
            self.momentum_decay >= 0.0,
            ">= 0",
        )
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let t = state.step as f64;
        let (b1, b2) = self.betas;
        let bias_correction2 = (1.0 - b2.powf(t)) as f32;
        let mu = b1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        // PyTorch keeps mu_product as an f32 tensor.
        let mu_product = (state.scalars[0] as f32 * mu as f32) as f64;
        state.scalars[0] = mu_product;
        let mu_product_next = mu_product * mu_next;
        let grad_step = (-self.lr * (1.0 - mu) / (1.0 - mu_product)) as f32;
        let avg_step = ((-self.lr * mu_next) / (1.0 - mu_product_next)) as f32;
        let (lr, wd, eps) = (self.lr as f32, self.weight_decay as f32, self.eps as f32);
        let (w1, b2, w2) = ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32);
        let [m, v] = &mut state.buffers[..] else {
            unreachable!("NAdam keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = weight_decay(p, g, lr, wd, self.decoupled_weight_decay);
            m[i] = lerp(m[i], g, w1);
            v[i] = v[i] * b2 + w2 * g * g;
            let denom = (v[i] / bias_correction2).sqrt() + eps;
            *p += grad_step * g / denom;
            *p += avg_step * m[i] / denom;
        }
    }
}

/// RAdam: Adam with a rectified adaptive learning rate, plain momentum SGD
/// while the variance estimate is unreliable. Defaults are PyTorch's:
/// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0.
#[derive(Clone, Debug, PartialEq)]
pub struct RAdam {
    /// Learning rate.
    pub lr: f64,
    /// Decay rates of the moment estimates.
    pub betas: (f64, f64),
    /// Added to the denominator.
    pub eps: f64,
    /// Weight decay (L2, or decoupled when `decoupled_weight_decay`).
    pub weight_decay: f64,
    /// Decoupled weight decay, as AdamW.
    pub decoupled_weight_decay: bool,
}

impl Default for RAdam {
    fn default() -> RAdam {
        RAdam {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
        }
    }
}

impl UpdateRule for RAdam {
    fn lr(&self) -> f64 {
        self.lr
    }
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
    }
    fn buffers(&self) -> &'static [&'static str] {
        &["exp_avg", "exp_avg_sq"]
    }
    fn validate(&self) -> Result<(), String> {
        check_adam_options(self.lr, self.weight_decay, self.betas, self.eps)
    }
    fn update(&self, param: &mut [f32], grad: &[f32], state: &mut ParamState) {
        let t = state.step as f64;
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
        let (lr, wd, eps) = (self.lr as f32, self.weight_decay as f32, self.eps as f32);
        let (w1, b2, w2) = ((1.0 - b1) as f32, b2 as f32, (1.0 - b2) as f32);
        let [m, v] = &mut state.buffers[..] else {
            unreachable!("RAdam keeps two buffers")
        };
        for (i, (p, &g)) in param.iter_mut().zip(grad).enumerate() {
            let g = weight_decay(p, g, lr, wd, self.decoupled_weight_decay);
            m[i] = lerp(m[i], g, w1);
            v[i] = v[i] * b2 + w2 * g * g;
            let corrected = m[i] / bias_correction1;
            let step = match rectified {
                Some((rect, bc2_sqrt)) => corrected * lr * (bc2_sqrt / (v[i].sqrt() + eps)) * rect,
                None => corrected * lr,
            };
            *p += -step;
        }
    }
}
