//! Options every rule shares (maximize, validation), coefficients rounded
//! the way PyTorch rounds them, and options switched on mid-training.

use std::panic::{AssertUnwindSafe, catch_unwind};

use descent_autograd::Param;
use descent_optim::*;
use descent_tensor::Tensor;

const THETA0: [f32; 3] = [1.0, -2.0, 0.5];

/// The gradient fed at step `t` (1-based), varied in sign and size.
fn gradient(t: usize) -> [f32; 3] {
    let t = t as f32;
    [0.3 - 0.1 * t, 0.5 / t, -0.2 * t * t + 0.4]
}

/// The parameter after each of `steps` steps of `rule`, fed `sign *
/// gradient(t)`.
fn trajectory(rule: impl UpdateRule, sign: f32, steps: usize) -> Vec<Tensor> {
    let p = Param::new(Tensor::from(THETA0));
    let mut opt = Optim::new([p.clone()], rule);
    (1..=steps)
        .map(|t| {
            p.accumulate_grad(Tensor::from(gradient(t).map(|g| sign * g)));
            opt.step();
            opt.zero_grad();
            p.value()
        })
        .collect()
}

/// PyTorch's optimizers start with `if maximize: g = -g`, before weight
/// decay: maximizing with gradients `g` is minimizing with `-g`, to the bit.
fn maximizing_negates_the_gradient<R: UpdateRule>(name: &str, rule: R, maximize: fn(R) -> R) {
    let maximizing = trajectory(maximize(rule.clone()), 1.0, 6);
    let negated = trajectory(rule, -1.0, 6);
    let moved = !maximizing[5].all_close(&Tensor::from(THETA0), 1e-4, 0.0);
    assert!(moved, "{name}: six steps moved nothing");
    for (t, (a, b)) in maximizing.iter().zip(&negated).enumerate() {
        assert!(a.bit_eq(b), "{name}: step {}: {a:?} vs {b:?}", t + 1);
    }
}

#[test]
fn every_optimizer_maximizes_by_negating_the_gradient_before_weight_decay() {
    let momentum = Sgd::new(0.1).momentum(Momentum::Nesterov(0.9));
    maximizing_negates_the_gradient("sgd", momentum.weight_decay(0.1), |r| r.maximize(true));
    maximizing_negates_the_gradient("adagrad", Adagrad::new(0.1).weight_decay(0.1), |r| {
        r.maximize(true)
    });
    let rmsprop = RmsProp::new(0.01).momentum(0.5).centered(true);
    maximizing_negates_the_gradient("rmsprop", rmsprop.weight_decay(0.1), |r| r.maximize(true));
    let adam = Adam::new(0.05).weight_decay(WeightDecay::L2(0.1));
    maximizing_negates_the_gradient("adam", adam.amsgrad(true), |r| r.maximize(true));
    maximizing_negates_the_gradient("adamw", AdamW::new(0.05), |r| r.maximize(true));
    maximizing_negates_the_gradient("adamax", Adamax::new(0.05).weight_decay(0.1), |r| {
        r.maximize(true)
    });
    let nadam = NAdam::new(0.05).weight_decay(WeightDecay::Decoupled(0.1));
    maximizing_negates_the_gradient("nadam", nadam, |r| r.maximize(true));
    let radam = RAdam::new(0.05).betas((0.9, 0.9));
    maximizing_negates_the_gradient("radam", radam.weight_decay(WeightDecay::L2(0.1)), |r| {
        r.maximize(true)
    });
    maximizing_negates_the_gradient("adadelta", Adadelta::new(0.5).weight_decay(0.1), |r| {
        r.maximize(true)
    });
}

/// One step of `rule` on a one-element parameter `p0` with gradient `g`;
/// returns the optimizer for its state.
fn one_step<R: UpdateRule>(rule: R, p0: f32, g: f32) -> (Optim<R>, Param) {
    let p = Param::new(Tensor::from([p0]));
    let mut opt = Optim::new([p.clone()], rule);
    p.accumulate_grad(Tensor::from([g]));
    opt.step();
    (opt, p)
}

/// `weight`, computed in f64 as PyTorch computes `1 - alpha` from Python
/// floats, against the same difference taken in f32: the two must differ
/// for a test of the rounding to mean anything.
fn rounded_once(one_minus: f64, alpha: f64) -> f32 {
    let from_f64 = (one_minus - alpha) as f32;
    let in_f32 = one_minus as f32 - alpha as f32;
    assert_ne!(from_f64, in_f32, "1 - {alpha} rounds the same both ways");
    from_f64
}

#[test]
fn coefficients_are_computed_in_f64_and_rounded_once() {
    let g = 0.7f32;

    // RMSprop: square_avg = alpha * 0 + (1 - alpha) g^2, and centered
    // grad_avg = lerp(0, g, 1 - alpha) = (1 - alpha) g.
    let weight = rounded_once(1.0, 0.99);
    let (opt, _) = one_step(RmsProp::new(0.01).centered(true), 1.0, g);
    let state = opt.state(0, 0).unwrap();
    assert_eq!(state.square_avg[0], weight * g * g);
    assert_eq!(state.grad_avg.as_ref().unwrap()[0], weight * g);

    // Adadelta: square_avg = (1 - rho) g^2, then
    // delta = sqrt(0 + eps) / sqrt(square_avg + eps) * g and
    // acc_delta = (1 - rho) delta^2.
    let weight = rounded_once(1.0, 0.9);
    let (opt, _) = one_step(Adadelta::default(), 1.0, g);
    let state = opt.state(0, 0).unwrap();
    let square_avg = weight * g * g;
    assert_eq!(state.square_avg[0], square_avg);
    let delta = (0.0f32 + 1e-6).sqrt() / (square_avg + 1e-6).sqrt() * g;
    assert_eq!(state.acc_delta[0], weight * delta * delta);

    // SGD: the second step's buffer is mu b + (1 - dampening) g, with b = g.
    let keep = rounded_once(1.0, 0.99);
    let classic = Sgd::new(0.1).momentum(Momentum::Classic(0.9));
    let (mut opt, p) = one_step(classic.dampening(0.99), 1.0, g);
    opt.zero_grad();
    p.accumulate_grad(Tensor::from([g]));
    opt.step();
    let buffer = opt.state(0, 0).unwrap().momentum_buffer.as_ref().unwrap()[0];
    assert_eq!(buffer, g * 0.9 + keep * g);

    // AdamW: a zero gradient leaves only the decay, p (1 - lr wd), with
    // lr wd = 0.99 taken in f64 too.
    let factor = (1.0 - 0.9 * 1.1) as f32;
    assert_ne!(factor, 1.0 - 0.9f32 * 1.1f32);
    let adamw = Adam::new(0.9).weight_decay(WeightDecay::Decoupled(1.1));
    let (_, p) = one_step(adamw, 1.7, 0.0);
    assert_eq!(p.value().item(), 1.7 * factor);
}

/// `steps` of a per-element f64 reference update `update(t, theta, g,
/// state)` on THETA0 with `gradient(t)`.
fn reference<S: Default + Clone>(
    steps: usize,
    mut update: impl FnMut(usize, &mut f64, f64, &mut S),
) -> Vec<f64> {
    let mut theta = THETA0.map(f64::from);
    let mut states = vec![S::default(); 3];
    for t in 1..=steps {
        for i in 0..3 {
            update(t, &mut theta[i], gradient(t)[i] as f64, &mut states[i]);
        }
    }
    theta.to_vec()
}

/// 6 steps of `rule`, calling `change` on its options before step 3.
fn switched<R: UpdateRule>(rule: R, change: impl FnOnce(&mut R)) -> Vec<f64> {
    let p = Param::new(Tensor::from(THETA0));
    let mut opt = Optim::new([p.clone()], rule);
    let mut change = Some(change);
    for t in 1..=6 {
        if t == 3 {
            (change.take().unwrap())(opt.rule_mut(0));
        }
        p.accumulate_grad(Tensor::from(gradient(t)));
        opt.step();
        opt.zero_grad();
    }
    p.value().to_vec().into_iter().map(f64::from).collect()
}

fn assert_close(name: &str, got: &[f64], want: &[f64]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tolerance = 1e-6 + 2e-6 * w.abs();
        assert!(
            (g - w).abs() <= tolerance,
            "{name}: element {i}: {g} vs {w}"
        );
    }
}

#[derive(Clone, Default)]
struct Buffers {
    a: f64,
    b: f64,
    c: f64,
}

#[test]
fn options_switched_on_after_the_first_step_take_effect() {
    // SGD: momentum from step 3; the buffer starts as that step's gradient
    // (PyTorch's `if buf is None: buf = grad`). This panicked before.
    let got = switched(Sgd::new(0.1), |r| r.momentum = Momentum::Classic(0.9));
    let want = reference(6, |t, theta, g, s: &mut Buffers| {
        let step = match t {
            1 | 2 => g,
            3 => {
                s.a = g;
                s.a
            }
            _ => {
                s.a = 0.9 * s.a + g;
                s.a
            }
        };
        *theta -= 0.1 * step;
    });
    assert_close("sgd momentum from step 3", &got, &want);

    // RMSprop with momentum, centered from step 3: grad_avg starts at zero
    // then. Before, the momentum buffer was read as grad_avg.
    let rmsprop = RmsProp::new(0.01).alpha(0.9).momentum(0.5);
    let got = switched(rmsprop, |r| r.centered = true);
    let want = reference(6, |t, theta, g, s: &mut Buffers| {
        s.a = 0.9 * s.a + 0.1 * g * g;
        let mut v = s.a;
        if t >= 3 {
            s.b = 0.9 * s.b + 0.1 * g;
            v -= s.b * s.b;
        }
        s.c = 0.5 * s.c + g / (v.sqrt() + 1e-8);
        *theta -= 0.01 * s.c;
    });
    assert_close("rmsprop centered from step 3", &got, &want);

    // Adam with AMSGrad from step 3: the running maximum starts at zero.
    let got = switched(Adam::new(0.05), |r| r.amsgrad = true);
    let want = reference(6, |t, theta, g, s: &mut Buffers| {
        let (b1, b2, t) = (0.9f64, 0.999f64, t as i32);
        s.a = b1 * s.a + (1.0 - b1) * g;
        s.b = b2 * s.b + (1.0 - b2) * g * g;
        let second = if t >= 3 {
            s.c = s.c.max(s.b);
            s.c
        } else {
            s.b
        };
        let denom = (second / (1.0 - b2.powi(t))).sqrt() + 1e-8;
        *theta -= 0.05 / (1.0 - b1.powi(t)) * s.a / denom;
    });
    assert_close("adam amsgrad from step 3", &got, &want);
}

/// The error `Optim::try_new` gives for `rule`.
fn refused(rule: impl UpdateRule) -> OptimError {
    let p = Param::new(Tensor::zeros([1]));
    Optim::try_new([p], rule).expect_err("the options were accepted")
}

#[test]
fn invalid_options_are_refused_naming_the_option_and_value() {
    let cases = [
        (
            refused(Sgd::new(-0.1)),
            "invalid lr: -0.1 (must be finite and >= 0)",
        ),
        (refused(Adam::new(f64::NAN)), "invalid lr: NaN"),
        (refused(Sgd::new(f64::INFINITY)), "invalid lr: inf"),
        (refused(Sgd::new(1e300)), "invalid lr: 1e300"),
        (
            refused(Sgd::new(0.1).weight_decay(-1.0)),
            "invalid weight_decay: -1",
        ),
        (
            refused(Adam::new(0.1).weight_decay(WeightDecay::L2(f64::INFINITY))),
            "invalid weight_decay: inf",
        ),
        (
            refused(Adam::new(0.1).eps(f64::INFINITY)),
            "invalid eps: inf",
        ),
        (
            refused(RmsProp::new(0.1).alpha(2.0)),
            "invalid alpha: 2 (must be in [0, 1])",
        ),
        (
            refused(Adam::new(0.1).betas((0.9, 1.0))),
            "invalid beta2: 1 (must be in [0, 1))",
        ),
        (refused(Adadelta::new(0.1).rho(1.5)), "invalid rho: 1.5"),
        (
            refused(Adagrad::new(0.1).lr_decay(f64::NAN)),
            "invalid lr_decay: NaN",
        ),
        (
            refused(NAdam::new(0.1).momentum_decay(-1.0)),
            "invalid momentum_decay: -1",
        ),
        (
            refused(
                Sgd::new(0.1)
                    .momentum(Momentum::Nesterov(0.9))
                    .dampening(0.1),
            ),
            "invalid dampening: 0.1 (must be 0 with Nesterov momentum)",
        ),
        (
            refused(Sgd::new(0.1).momentum(Momentum::Nesterov(0.0))),
            "invalid Nesterov momentum: 0 (must be finite and > 0)",
        ),
    ];
    for (error, message) in cases {
        assert!(
            matches!(error, OptimError::InvalidOption { .. }),
            "{error:?}"
        );
        assert!(
            error.to_string().contains(message),
            "expected {message:?}, got {error}"
        );
    }
    assert_eq!(
        refused(Adam::new(0.1).eps(-1.0)),
        OptimError::InvalidOption {
            option: "eps",
            value: -1.0,
            expected: "finite and >= 0",
        }
    );
}

/// The message of the panic `f` raises.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("no panic");
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn values_set_after_construction_are_checked() {
    let p = Param::new(Tensor::zeros([1]));
    let mut adam = Optim::new([p.clone()], Adam::new(0.1));
    let message = panic_message(|| adam.set_lr(0, f64::INFINITY));
    assert!(message.contains("invalid lr: inf"), "{message}");
    let message = panic_message(|| adam.set_lr(0, 1e300));
    assert!(message.contains("invalid lr: 1e300"), "{message}");
    let message = panic_message(|| adam.set_momentum(0, 1.0));
    assert!(message.contains("invalid beta1: 1"), "{message}");
    assert_eq!((adam.lr(0), adam.momentum(0)), (0.1, Some(0.9)));

    adam.rule_mut(0).eps = f64::INFINITY;
    p.accumulate_grad(Tensor::from([1.0]));
    let message = panic_message(|| adam.step());
    assert!(message.contains("group 0: invalid eps: inf"), "{message}");

    let mut adagrad = Optim::new([Param::new(Tensor::zeros([1]))], Adagrad::default());
    let message = panic_message(|| adagrad.set_momentum(0, 0.9));
    assert!(
        message.contains("Adagrad has neither momentum nor beta1"),
        "{message}"
    );
}
