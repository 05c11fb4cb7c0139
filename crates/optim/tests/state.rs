//! Checkpoints: resuming follows the uninterrupted trajectory bit for bit,
//! state is keyed by parameter name, and state from another optimizer, other
//! options, other groups or with invalid values is refused with the
//! optimizer untouched. Also parameter groups and clipping.

use descent_autograd::{Param, Tape};
use descent_io::{Checkpoint, CheckpointError};
use descent_layers::{
    Activation, Dense, Module, ModuleCheckpoint, Reduction, Sequential, cross_entropy_loss,
};
use descent_optim::*;
use descent_tensor::{Tensor, seeded_rng};

fn model(seed: u64) -> Sequential {
    let mut rng = seeded_rng(seed);
    Sequential::new()
        .push(Dense::new(4, 6, &mut rng))
        .push(Activation::Tanh)
        .push(Dense::new(6, 3, &mut rng))
}

/// A step on mini-batch `t` of a fixed synthetic data set.
fn train_step(model: &Sequential, opt: &mut dyn Optimizer, t: usize) {
    let x = Tensor::randn([8, 4], &mut seeded_rng(1000 + t as u64));
    let labels: Vec<usize> = (0..8).map(|i| (i + t) % 3).collect();
    let tape = Tape::new();
    cross_entropy_loss(model.forward(tape.constant(x)), &labels, Reduction::Mean).backward();
    opt.step();
    opt.zero_grad();
}

fn params_of(model: &Sequential) -> Vec<Tensor> {
    model.parameters().iter().map(Param::value).collect()
}

/// 100 steps straight, against 50 steps, a checkpoint, and 50 more steps of
/// a fresh optimizer that lists the model's parameters in reverse order.
fn resume_is_exact<R: UpdateRule>(name: &str, make_rule: impl Fn() -> R) {
    let schedule = || CosineAnnealingLr {
        t_max: 100,
        eta_min: 1e-4,
    };

    let straight = model(1);
    let mut opt = Optim::new(straight.named_parameters(), make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    for t in 0..100 {
        train_step(&straight, &mut opt, t);
        scheduler.step(&mut opt);
    }

    let first = model(1);
    let mut opt = Optim::new(first.named_parameters(), make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    for t in 0..50 {
        train_step(&first, &mut opt, t);
        scheduler.step(&mut opt);
    }
    let mut checkpoint = Checkpoint::from_module(&first);
    opt.save_state(&mut checkpoint, "optimizer.");
    scheduler.save_state(&mut checkpoint, "scheduler.");
    let bytes = checkpoint.to_bytes();

    let resumed = model(2);
    let reversed = resumed.named_parameters().into_iter().rev();
    let mut opt = Optim::new(reversed, make_rule());
    let mut scheduler = Scheduler::new(schedule(), &mut opt);
    let checkpoint = Checkpoint::from_bytes(&bytes).unwrap();
    checkpoint.restore_module(&resumed).unwrap();
    opt.load_state(&checkpoint, "optimizer.").unwrap();
    scheduler.load_state(&checkpoint, "scheduler.").unwrap();
    for t in 50..100 {
        train_step(&resumed, &mut opt, t);
        scheduler.step(&mut opt);
    }
    for (a, b) in params_of(&straight).iter().zip(&params_of(&resumed)) {
        assert!(
            a.bit_eq(b),
            "{name}: resumed training diverged from the uninterrupted run"
        );
    }
}

#[test]
fn every_optimizer_resumes_bit_for_bit_with_its_parameters_reordered() {
    resume_is_exact("sgd", || {
        Sgd::new(0.1)
            .momentum(Momentum::Nesterov(0.9))
            .weight_decay(1e-3)
    });
    resume_is_exact("adagrad", Adagrad::default);
    resume_is_exact("rmsprop", || {
        RmsProp::default().momentum(0.5).centered(true)
    });
    resume_is_exact("adam", || Adam::default().amsgrad(true));
    resume_is_exact("adamw", || AdamW::new(1e-3));
    resume_is_exact("adamax", Adamax::default);
    resume_is_exact("nadam", NAdam::default);
    resume_is_exact("radam", RAdam::default);
    resume_is_exact("adadelta", Adadelta::default);
}

#[test]
fn state_is_saved_under_the_parameter_names_with_pytorchs_buffer_names() {
    let m = model(1);
    let mut opt = Optim::new(m.named_parameters(), Adam::default().amsgrad(true));
    train_step(&m, &mut opt, 0);
    let mut checkpoint = Checkpoint::new();
    opt.save_state(&mut checkpoint, "optimizer.");
    for buffer in ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] {
        let saved = checkpoint.tensor(&format!("optimizer.0.weight.{buffer}"));
        assert_eq!(saved.map(Tensor::shape), Some(m.parameters()[0].shape()));
    }
    assert_eq!(checkpoint.scalar("optimizer.2.bias.step"), Some(1.0));
    assert_eq!(checkpoint.scalar("optimizer.kind.Adam"), Some(1.0));

    // Bare parameters are named by their position.
    let mut opt = Optim::new(m.parameters(), Sgd::new(0.1));
    assert_eq!(opt.param_names(0), ["0", "1", "2", "3"]);
    train_step(&m, &mut opt, 0);
    let mut checkpoint = Checkpoint::new();
    opt.save_state(&mut checkpoint, "");
    assert_eq!(checkpoint.scalar("3.step"), Some(1.0));
}

/// An Adam optimizer over `m` after one step, and its saved state.
fn trained_adam(m: &Sequential) -> Checkpoint {
    let mut opt = Optim::new(m.named_parameters(), Adam::new(0.01));
    train_step(m, &mut opt, 0);
    let mut checkpoint = Checkpoint::new();
    opt.save_state(&mut checkpoint, "optimizer.");
    checkpoint
}

fn load_error<R: UpdateRule>(opt: &mut Optim<R>, checkpoint: &Checkpoint) -> String {
    let error = opt.load_state(checkpoint, "optimizer.").unwrap_err();
    assert!(matches!(error, CheckpointError::State(_)), "{error:?}");
    assert!(
        (0..opt.param_names(0).len()).all(|i| opt.state(0, i).is_none()),
        "a failed load changed the optimizer"
    );
    error.to_string()
}

#[test]
fn state_of_another_optimizer_or_other_options_is_refused() {
    let m = model(1);
    let checkpoint = trained_adam(&m);

    let mut sgd = Optim::new(m.named_parameters(), Sgd::new(0.5));
    let error = load_error(&mut sgd, &checkpoint);
    assert!(
        error.contains("saved by Adam, this optimizer is Sgd"),
        "{error}"
    );
    assert_eq!(sgd.lr(0), 0.5, "the learning rate was overwritten");

    let mut amsgrad = Optim::new(m.named_parameters(), Adam::new(0.01).amsgrad(true));
    let error = load_error(&mut amsgrad, &checkpoint);
    assert!(error.contains("amsgrad is 1"), "{error}");

    let mut other_eps = Optim::new(m.named_parameters(), Adam::new(0.01).eps(1e-6));
    let error = load_error(&mut other_eps, &checkpoint);
    assert!(
        error.contains("\"optimizer.group.0.option.eps\" is 1e-8, the optimizer's eps is 1e-6"),
        "{error}"
    );

    let params = m.named_parameters();
    let mut two_groups = Optim::new(params[..2].to_vec(), Adam::new(0.01));
    two_groups.add_param_group(params[2..].to_vec(), Adam::new(0.01));
    let error = load_error(&mut two_groups, &checkpoint);
    assert!(
        error.contains("has 1 parameter groups (\"optimizer.groups\"), the optimizer 2"),
        "{error}"
    );

    let mut classic = Optim::new(
        m.named_parameters(),
        Sgd::new(0.1).momentum(Momentum::Classic(0.9)),
    );
    train_step(&m, &mut classic, 0);
    let mut with_buffer = Checkpoint::new();
    classic.save_state(&mut with_buffer, "optimizer.");
    let mut nesterov = Optim::new(
        m.named_parameters(),
        Sgd::new(0.1).momentum(Momentum::Nesterov(0.9)),
    );
    let error = load_error(&mut nesterov, &with_buffer);
    assert!(error.contains("momentum.nesterov\" is 0"), "{error}");
}

#[test]
fn momentum_is_restored_with_its_buffer_like_the_learning_rate() {
    // Schedules cycle momentum, so checkpoints restore it, as PyTorch's
    // load_state_dict restores every hyper-parameter: SGD state saved with
    // momentum 0.9 turns momentum on in a plain SGD, buffer included.
    let straight = model(1);
    let momentum = || Sgd::new(0.1).momentum(Momentum::Classic(0.9));
    let mut opt = Optim::new(straight.named_parameters(), momentum());
    for t in 0..4 {
        train_step(&straight, &mut opt, t);
    }

    let first = model(1);
    let mut opt = Optim::new(first.named_parameters(), momentum());
    for t in 0..2 {
        train_step(&first, &mut opt, t);
    }
    let mut checkpoint = Checkpoint::new();
    opt.save_state(&mut checkpoint, "optimizer.");
    let mut plain = Optim::new(first.named_parameters(), Sgd::new(0.1));
    plain.load_state(&checkpoint, "optimizer.").unwrap();
    assert_eq!(plain.rule(0).momentum, Momentum::Classic(0.9));
    assert!(plain.state(0, 0).unwrap().momentum_buffer.is_some());
    for t in 2..4 {
        train_step(&first, &mut plain, t);
    }
    for (a, b) in params_of(&straight).iter().zip(&params_of(&first)) {
        assert!(a.bit_eq(b), "the restored momentum diverged");
    }
}

#[test]
fn state_saved_for_other_parameter_names_is_refused() {
    let m = model(1);
    let checkpoint = trained_adam(&m);
    let renamed = m
        .named_parameters()
        .into_iter()
        .map(|(name, p)| (format!("encoder.{name}"), p));
    let mut opt = Optim::new(renamed, Adam::new(0.01));
    let error = load_error(&mut opt, &checkpoint);
    assert!(
        error.contains("holds state for 4 parameters of group 0, but only 0"),
        "{error}"
    );
}

#[test]
fn invalid_values_in_a_checkpoint_are_refused() {
    let m = model(1);
    let good = trained_adam(&m);
    type Corruption = Box<dyn Fn(&mut Checkpoint)>;
    let cases: Vec<(&str, Corruption, &str)> = vec![
        (
            "lr NaN",
            Box::new(|c| c.insert_scalar("optimizer.group.0.lr", f64::NAN)),
            "invalid lr: NaN",
        ),
        (
            "lr -1",
            Box::new(|c| c.insert_scalar("optimizer.group.0.lr", -1.0)),
            "invalid lr: -1",
        ),
        (
            "lr inf",
            Box::new(|c| c.insert_scalar("optimizer.group.0.lr", f64::INFINITY)),
            "invalid lr: inf",
        ),
        (
            "beta1 1.5",
            Box::new(|c| c.insert_scalar("optimizer.group.0.momentum", 1.5)),
            "invalid beta1: 1.5",
        ),
        (
            "step 1e300",
            Box::new(|c| c.insert_scalar("optimizer.0.weight.step", 1e300)),
            "\"optimizer.0.weight.step\" is 1e300, not a whole number",
        ),
        (
            "step 2.5",
            Box::new(|c| c.insert_scalar("optimizer.0.weight.step", 2.5)),
            "is 2.5, not a whole number",
        ),
        (
            "step 0",
            Box::new(|c| c.insert_scalar("optimizer.0.weight.step", 0.0)),
            "is 0, not a whole number in [1, 2^53]",
        ),
        (
            "groups 1e300",
            Box::new(|c| c.insert_scalar("optimizer.groups", 1e300)),
            "\"optimizer.groups\" is 1e300",
        ),
        (
            "a NaN moment",
            Box::new(|c| {
                let mut t = c.tensor("optimizer.2.bias.exp_avg").unwrap().clone();
                t.data_mut()[1] = f32::NAN;
                c.insert_tensor("optimizer.2.bias.exp_avg", t);
            }),
            "\"optimizer.2.bias.exp_avg\" holds NaN",
        ),
        (
            "a moment of the wrong shape",
            Box::new(|c| c.insert_tensor("optimizer.2.bias.exp_avg_sq", Tensor::zeros([2]))),
            "has shape [2], the parameter [3]",
        ),
        (
            "a missing moment",
            Box::new(|c| {
                let mut copy = Checkpoint::new();
                for name in c.scalar_names() {
                    copy.insert_scalar(name, c.scalar(name).unwrap());
                }
                for name in c
                    .tensor_names()
                    .filter(|n| !n.ends_with("0.weight.exp_avg"))
                {
                    copy.insert_tensor(name, c.tensor(name).unwrap().clone());
                }
                *c = copy;
            }),
            "\"optimizer.0.weight.exp_avg\" is missing",
        ),
    ];
    for (what, corrupt, message) in cases {
        let mut checkpoint = good.clone();
        corrupt(&mut checkpoint);
        let mut opt = Optim::new(m.named_parameters(), Adam::new(0.01));
        let error = load_error(&mut opt, &checkpoint);
        assert!(error.contains(message), "{what}: {error}");
        assert_eq!(opt.lr(0), 0.01, "{what}: the learning rate changed");
    }
}

#[test]
fn scheduler_state_needs_as_many_groups_and_valid_values() {
    let m = model(1);
    let mut one = Optim::new(m.named_parameters(), Sgd::new(0.1));
    let mut scheduler = Scheduler::new(ExponentialLr { gamma: 0.9 }, &mut one);
    scheduler.step(&mut one);
    let mut checkpoint = Checkpoint::new();
    scheduler.save_state(&mut checkpoint, "scheduler.");

    let params = m.named_parameters();
    let mut two = Optim::new(params[..2].to_vec(), Sgd::new(0.1));
    two.add_param_group(params[2..].to_vec(), Sgd::new(0.2));
    let mut two_groups = Scheduler::new(ExponentialLr { gamma: 0.9 }, &mut two);
    let error = two_groups
        .load_state(&checkpoint, "scheduler.")
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("has 1 parameter groups (\"scheduler.groups\"), the optimizer 2"),
        "{error}"
    );
    assert_eq!(two_groups.steps(), 0);

    for (entry, value, message) in [
        ("scheduler.step", 1e300, "\"scheduler.step\" is 1e300"),
        ("scheduler.step", -1.0, "\"scheduler.step\" is -1"),
        ("scheduler.initial_lr.0", f64::NAN, "invalid lr: NaN"),
    ] {
        let mut corrupt = checkpoint.clone();
        corrupt.insert_scalar(entry, value);
        let mut fresh = Scheduler::new(ExponentialLr { gamma: 0.9 }, &mut one);
        let error = fresh.load_state(&corrupt, "scheduler.").unwrap_err();
        assert!(error.to_string().contains(message), "{error}");
        assert_eq!(fresh.steps(), 0);
    }
}

#[test]
fn plateau_state_needs_the_same_modes_and_a_real_best_metric() {
    let mut opt = Optim::new([Param::new(Tensor::zeros([1]))], Sgd::new(1.0));
    let mut plateau = ReduceLrOnPlateau::new(PlateauOptions::default());
    plateau.step(0.5, &mut opt);
    let mut checkpoint = Checkpoint::new();
    plateau.save_state(&mut checkpoint, "plateau.");

    let mut fresh = ReduceLrOnPlateau::new(PlateauOptions::default());
    fresh.load_state(&checkpoint, "plateau.").unwrap();

    let mut max_mode = ReduceLrOnPlateau::new(PlateauOptions {
        mode: PlateauMode::Max,
        ..PlateauOptions::default()
    });
    let error = max_mode.load_state(&checkpoint, "plateau.").unwrap_err();
    assert!(error.to_string().contains("other modes"), "{error}");

    for (entry, value) in [
        ("plateau.best", f64::NAN),
        ("plateau.best", f64::NEG_INFINITY),
        ("plateau.bad_steps", 1e300),
    ] {
        let mut corrupt = checkpoint.clone();
        corrupt.insert_scalar(entry, value);
        let error = fresh.load_state(&corrupt, "plateau.").unwrap_err();
        assert!(error.to_string().contains(entry), "{error}");
    }
}

#[test]
fn parameter_groups_have_their_own_options_and_learning_rates() {
    let m = model(3);
    let (biases, weights): (Vec<_>, Vec<_>) = m
        .named_parameters()
        .into_iter()
        .partition(|(n, _)| n.ends_with("bias"));
    let strip = |v: &[(String, Param)]| v.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>();
    let mut opt = Optim::new(weights.clone(), Sgd::new(0.1).weight_decay(0.5));
    opt.add_param_group(biases.clone(), Sgd::new(0.2));
    assert_eq!((opt.num_groups(), opt.lr(0), opt.lr(1)), (2, 0.1, 0.2));
    opt.set_lr(1, 0.05);
    assert_eq!(opt.lr(1), 0.05);

    let (biases, weights) = (strip(&biases), strip(&weights));
    let bias_before = biases[0].value();
    let weight_before = weights[0].value();
    for p in weights.iter().chain(&biases) {
        p.accumulate_grad(p.value().zeros_like());
    }
    opt.step();
    assert!(
        biases[0].value().bit_eq(&bias_before),
        "no weight decay on biases"
    );
    let expected = weight_before.mul_scalar(1.0 - 0.1 * 0.5);
    assert!(
        weights[0].value().all_close(&expected, 1e-6, 1e-7),
        "weight decay on weights"
    );
}

#[test]
fn a_parameter_given_twice_or_a_name_used_twice_is_refused() {
    let p = Param::new(Tensor::zeros([1]));
    let mut opt = Optim::new([p.clone()], Sgd::new(0.1));
    assert_eq!(
        opt.try_add_param_group([p.clone()], Sgd::new(0.1)).err(),
        Some(OptimError::DuplicateParameter("1".into()))
    );
    let q = Param::new(Tensor::zeros([1]));
    let named = [("w", p), ("w", q)];
    assert_eq!(
        Optim::try_new(named, Sgd::new(0.1)).err(),
        Some(OptimError::DuplicateName("w".into()))
    );
}

#[test]
fn clipping_by_norm_and_by_value() {
    let a = Param::new(Tensor::zeros([2]));
    let b = Param::new(Tensor::zeros([1]));
    a.accumulate_grad(Tensor::from([3.0, 0.0]));
    b.accumulate_grad(Tensor::from([4.0]));
    let norm = clip_grad_norm(&[a.clone(), b.clone()], 1.0);
    assert_eq!(norm, 5.0);
    let clipped: Vec<f32> = a
        .grad()
        .unwrap()
        .to_vec()
        .into_iter()
        .chain(b.grad().unwrap().to_vec())
        .collect();
    for (got, want) in clipped.iter().zip([0.6, 0.0, 0.8]) {
        assert!((got - want).abs() < 1e-6, "{clipped:?}");
    }
    let after = clip_grad_norm(&[a.clone(), b.clone()], 10.0);
    assert!((after - 1.0).abs() < 1e-6, "norm after clipping {after}");
    clip_grad_value(std::slice::from_ref(&a), 0.5);
    assert_eq!(a.grad().unwrap().to_vec(), vec![0.5, 0.0]);
}
