//! Each schedule's first 50 values against PyTorch's recursive (chainable)
//! update rules, iterated here, or against hand-computed landmarks.

use std::f64::consts::PI;

use descent_autograd::Param;
use descent_optim::*;
use descent_tensor::Tensor;

const LR0: f64 = 0.1;

/// The first 50 rates an optimizer sees when driven by `schedule`.
fn driven<S: Schedule>(schedule: S) -> Vec<f64> {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(LR0)).unwrap();
    let mut scheduler = Scheduler::new(schedule, &mut opt).unwrap();
    let mut lrs = vec![opt.lr(0)];
    for _ in 1..50 {
        scheduler.step(&mut opt);
        lrs.push(opt.lr(0));
    }
    lrs
}

/// Iterates a recursive rule `next(t, previous)` from `first`.
fn recursive(first: f64, next: impl Fn(usize, f64) -> f64) -> Vec<f64> {
    let mut lrs = vec![first];
    for t in 1..50 {
        lrs.push(next(t, lrs[t - 1]));
    }
    lrs
}

fn assert_close(name: &str, got: &[f64], want: &[f64]) {
    for (t, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-7,
            "{name}: step {t}: schedule gives {g}, reference {w}"
        );
    }
}

fn cosine_recursive(t_max: usize, eta_min: f64) -> impl Fn(usize, f64) -> f64 {
    let t_max = t_max as f64;
    move |t, lr| {
        let t = t as f64;
        if ((t - 1.0 - t_max) % (2.0 * t_max)) == 0.0 {
            lr + (LR0 - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
        } else {
            (1.0 + (PI * t / t_max).cos()) / (1.0 + (PI * (t - 1.0) / t_max).cos()) * (lr - eta_min)
                + eta_min
        }
    }
}

#[test]
fn step_multistep_and_exponential() {
    let step = recursive(LR0, |t, lr| if t % 7 == 0 { lr * 0.5 } else { lr });
    assert_close(
        "StepLR",
        &driven(StepLr {
            step_size: 7,
            gamma: 0.5,
        }),
        &step,
    );
    let milestones = vec![5, 12, 30];
    let multi = recursive(LR0, |t, lr| {
        if [5, 12, 30].contains(&t) {
            lr * 0.3
        } else {
            lr
        }
    });
    assert_close(
        "MultiStepLR",
        &driven(MultiStepLr {
            milestones,
            gamma: 0.3,
        }),
        &multi,
    );
    let exponential = recursive(LR0, |_, lr| lr * 0.95);
    assert_close(
        "ExponentialLR",
        &driven(ExponentialLr { gamma: 0.95 }),
        &exponential,
    );
}

#[test]
fn inverse_time_decay_follows_keras() {
    let smooth = driven(InverseTimeDecay {
        decay_rate: 0.5,
        decay_steps: 10.0,
        staircase: false,
    });
    let stairs = driven(InverseTimeDecay {
        decay_rate: 0.5,
        decay_steps: 10.0,
        staircase: true,
    });
    for t in 0..50 {
        assert!((smooth[t] - LR0 / (1.0 + 0.5 * t as f64 / 10.0)).abs() < 1e-12);
        assert!((stairs[t] - LR0 / (1.0 + 0.5 * (t / 10) as f64)).abs() < 1e-12);
    }
    assert!((smooth[10] - LR0 / 1.5).abs() < 1e-12);
}

#[test]
fn cosine_annealing_matches_pytorchs_recursion_past_t_max() {
    let reference = recursive(LR0, cosine_recursive(20, 0.001));
    assert_close(
        "CosineAnnealingLR",
        &driven(CosineAnnealingLr {
            t_max: 20,
            eta_min: 0.001,
        }),
        &reference,
    );
    assert!((reference[20] - 0.001).abs() < 1e-12);
}

#[test]
fn warm_restarts_match_pytorchs_counter() {
    for t_mult in [1, 2] {
        let (mut t_cur, mut t_i) = (0usize, 5usize);
        let mut reference = vec![LR0];
        for _ in 1..50 {
            t_cur += 1;
            if t_cur >= t_i {
                t_cur -= t_i;
                t_i *= t_mult;
            }
            reference
                .push(0.01 + (LR0 - 0.01) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0);
        }
        let schedule = CosineAnnealingWarmRestarts {
            t_0: 5,
            t_mult,
            eta_min: 0.01,
        };
        assert_close("CosineAnnealingWarmRestarts", &driven(schedule), &reference);
    }
}

fn linear_recursive(start: f64, end: f64, total: usize) -> impl Fn(usize, f64) -> f64 {
    move |t, lr| {
        if t > total {
            lr
        } else {
            lr * (1.0 + (end - start) / (total as f64 * start + (t as f64 - 1.0) * (end - start)))
        }
    }
}

#[test]
fn linear_warmup_and_chained_warmup_then_cosine() {
    let warmup = LinearLr {
        start_factor: 0.1,
        end_factor: 1.0,
        total_iters: 10,
    };
    let reference = recursive(LR0 * 0.1, linear_recursive(0.1, 1.0, 10));
    assert_close("LinearLR", &driven(warmup.clone()), &reference);
    assert!((reference[10] - LR0).abs() < 1e-12);

    let chain = Chain::new(
        vec![
            Box::new(warmup),
            Box::new(CosineAnnealingLr {
                t_max: 30,
                eta_min: 0.0,
            }),
        ],
        vec![10],
    );
    let cosine = recursive(LR0, cosine_recursive(30, 0.0));
    let mut expected = reference[..10].to_vec();
    expected.extend_from_slice(&cosine[..40]);
    assert_close("warm-up then cosine", &driven(chain), &expected);
}

#[test]
fn cyclical_schedules_hit_their_landmarks() {
    let cyclic = |mode| driven(CyclicLr::new(0.01, 0.1).step_size_up(5).mode(mode));
    let triangular = cyclic(CyclicMode::Triangular);
    for (t, want) in [
        (0, 0.01),
        (5, 0.1),
        (10, 0.01),
        (15, 0.1),
        (2, 0.01 + 0.09 * 0.4),
        (7, 0.01 + 0.09 * 0.6),
    ] {
        assert!(
            (triangular[t] - want).abs() < 1e-12,
            "triangular step {t}: {}",
            triangular[t]
        );
    }
    let halving = cyclic(CyclicMode::Triangular2);
    assert!(
        (halving[5] - 0.1).abs() < 1e-12
            && (halving[15] - 0.055).abs() < 1e-12
            && (halving[25] - 0.0325).abs() < 1e-12
    );
    let exp_range = cyclic(CyclicMode::ExpRange { gamma: 0.99 });
    assert!((exp_range[15] - (0.01 + 0.09 * 0.99f64.powi(15))).abs() < 1e-12);

    // All 50 values against PyTorch's CyclicLR.get_lr, with a 3-up/7-down cycle.
    for mode in [
        CyclicMode::Triangular,
        CyclicMode::Triangular2,
        CyclicMode::ExpRange { gamma: 0.97 },
    ] {
        let (up, down, base, max) = (3.0, 7.0, 0.01, 0.1);
        let reference: Vec<f64> = (0..50)
            .map(|t| {
                let t = t as f64;
                let cycle = (1.0 + t / (up + down)).floor();
                let x = 1.0 + t / (up + down) - cycle;
                let ratio = up / (up + down);
                let scale_factor = if x <= ratio {
                    x / ratio
                } else {
                    (x - 1.0) / (ratio - 1.0)
                };
                let scale = match mode {
                    CyclicMode::Triangular => 1.0,
                    CyclicMode::Triangular2 => 1.0 / 2f64.powf(cycle - 1.0),
                    CyclicMode::ExpRange { gamma } => gamma.powf(t),
                };
                base + (max - base) * scale_factor * scale
            })
            .collect();
        let schedule = CyclicLr::new(base, max)
            .step_size_up(3)
            .step_size_down(Some(7))
            .mode(mode);
        assert_close(&format!("CyclicLR {mode:?}"), &driven(schedule), &reference);
    }
}

#[test]
fn one_cycle_rises_to_max_then_anneals_to_the_floor() {
    let lrs = driven(OneCycleLr::new(1.0, 50));
    assert!((lrs[0] - 1.0 / 25.0).abs() < 1e-12);
    assert!(
        (lrs[14] - 1.0).abs() < 1e-12,
        "peak at step pct_start * total - 1 = 14: {}",
        lrs[14]
    );
    assert!((lrs[49] - 1.0 / 25.0 / 1e4).abs() < 1e-12);
    let midway_up = 1.0 / 25.0 + (1.0 - 1.0 / 25.0) * (1.0 - (PI * 7.0 / 14.0).cos()) / 2.0;
    assert!((lrs[7] - midway_up).abs() < 1e-12);
    assert!(lrs[..15].windows(2).all(|w| w[0] < w[1]) && lrs[14..].windows(2).all(|w| w[0] > w[1]));

    // All 50 values against PyTorch's OneCycleLR.get_lr (two phases, cosine).
    let (max_lr, total, pct) = (0.8, 60usize, 0.25);
    let initial = max_lr / 25.0;
    let min_lr = initial / 1e4;
    let phases = [
        (pct * total as f64 - 1.0, initial, max_lr),
        (total as f64 - 1.0, max_lr, min_lr),
    ];
    let anneal = |start: f64, end: f64, p: f64| end + (start - end) / 2.0 * ((PI * p).cos() + 1.0);
    let reference: Vec<f64> = (0..50)
        .map(|t| {
            let mut start_step = 0.0;
            for (i, &(end_step, from, to)) in phases.iter().enumerate() {
                if t as f64 <= end_step || i == phases.len() - 1 {
                    return anneal(from, to, (t as f64 - start_step) / (end_step - start_step));
                }
                start_step = end_step;
            }
            unreachable!()
        })
        .collect();
    let schedule = OneCycleLr {
        pct_start: pct,
        ..OneCycleLr::new(max_lr, total)
    };
    assert_close("OneCycleLR", &driven(schedule), &reference);
}

#[test]
fn lambda_schedule_scales_the_initial_rate() {
    let lrs = driven(LambdaLr(|t| 1.0 / (t as f64 + 1.0)));
    assert!((lrs[9] - LR0 / 10.0).abs() < 1e-15);
}

#[test]
fn reduce_on_plateau_waits_for_patience_then_cools_down() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(1.0)).unwrap();
    let options = PlateauOptions {
        patience: 2,
        cooldown: 1,
        factor: 0.5,
        ..PlateauOptions::default()
    };
    let mut plateau = ReduceLrOnPlateau::new(options).unwrap();
    let metrics = [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5];
    let mut lrs = Vec::new();
    for m in metrics {
        plateau.step(m, &mut opt);
        lrs.push(opt.lr(0));
    }
    // Bad steps at calls 3, 4, 5: the third exceeds patience 2, then one
    // cooldown call, then three more bad calls before the next reduction.
    assert_eq!(lrs, vec![1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let mut max_mode = ReduceLrOnPlateau::new(PlateauOptions {
        mode: PlateauMode::Max,
        patience: 0,
        ..PlateauOptions::default()
    })
    .unwrap();
    max_mode.step(0.8, &mut opt);
    max_mode.step(0.7, &mut opt);
    assert_eq!(opt.lr(0), 0.05);
}
