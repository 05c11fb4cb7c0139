//! Every differentiable op against central finite differences, including
//! broadcasting, each reduction axis, both matmul operand orders and values
//! used more than once.

use descent_autograd::{UnaryOp, Var, gradcheck};
use descent_tensor::{Tensor, seeded_rng};

/// Random values in [-2, 2], at least 0.05 from zero and from each other's
/// kinks, so relu/abs/max/clamp are differentiable at every sample.
fn sample(shape: &[usize], seed: u64) -> Tensor {
    let t = Tensor::rand_uniform(shape, -2.0, 2.0, &mut seeded_rng(seed));
    t.map(|x| {
        if x.abs() < 0.05 {
            x + 0.1f32.copysign(x)
        } else {
            x
        }
    })
}

/// Values on the grid k/4 (`offset` 0) or k/4 + 1/8 (`offset` 1): two such
/// tensors never come within eps of a tie, where max and min have a kink.
fn on_grid(shape: &[usize], seed: u64, offset: u8) -> Tensor {
    sample(shape, seed).map(|x| (x * 4.0).round() / 4.0 + offset as f32 / 8.0)
}

/// Distinct values 0.1 apart in shuffled order: no two elements of a slice
/// tie, so max and min are differentiable everywhere within eps.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    use descent_tensor::rand::seq::SliceRandom;
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    values.shuffle(&mut seeded_rng(seed));
    Tensor::from_vec(values, shape)
}

fn positive(shape: &[usize], seed: u64) -> Tensor {
    Tensor::rand_uniform(shape, 0.5, 2.0, &mut seeded_rng(seed))
}

fn check(name: &str, inputs: &[Tensor], f: impl for<'t> Fn(&[Var<'t>]) -> Var<'t>) {
    if let Err(e) = gradcheck(inputs, f) {
        panic!("{name}: {e}");
    }
}

#[test]
fn binary_ops_with_broadcasting() {
    let shapes: [(&[usize], &[usize]); 4] = [
        (&[2, 3], &[2, 3]),
        (&[3, 1], &[1, 4]),
        (&[2, 3], &[3]),
        (&[2, 3], &[]),
    ];
    for (i, (sa, sb)) in shapes.into_iter().enumerate() {
        let (a, b) = (sample(sa, i as u64), sample(sb, 100 + i as u64));
        let (pa, pb) = (positive(sa, i as u64), positive(sb, 50 + i as u64));
        check("add", &[a.clone(), b.clone()], |v| v[0] + v[1]);
        check("sub", &[a.clone(), b.clone()], |v| v[0] - v[1]);
        check("mul", &[a.clone(), b.clone()], |v| v[0] * v[1]);
        check("div", &[a.clone(), pb.clone()], |v| v[0] / v[1]);
        check("pow", &[pa.clone(), b.clone()], |v| v[0].pow(v[1]));
        let (ga, gb) = (on_grid(sa, i as u64, 0), on_grid(sb, 100 + i as u64, 1));
        check("maximum", &[ga.clone(), gb.clone()], |v| v[0].maximum(v[1]));
        check("minimum", &[ga, gb], |v| v[0].minimum(v[1]));
    }
}

#[test]
fn scalar_variants() {
    let x = sample(&[2, 3], 1);
    check("x + s", &[x.clone()], |v| v[0] + 1.5);
    check("s - x", &[x.clone()], |v| 1.5 - v[0]);
    check("x * s", &[x.clone()], |v| v[0] * -3.0);
    check("x / s", &[x.clone()], |v| v[0] / 4.0);
    check("s / x", &[x.clone()], |v| 2.0 / v[0]);
    check("-x", &[x], |v| -v[0]);
}

#[test]
fn unary_ops() {
    let x = sample(&[3, 4], 2);
    let p = positive(&[3, 4], 3);
    check("exp", &[x.clone()], |v| v[0].exp());
    check("ln", &[p.clone()], |v| v[0].ln());
    check("sqrt", &[p.clone()], |v| v[0].sqrt());
    check("abs", &[x.clone()], |v| v[0].abs());
    check("tanh", &[x.clone()], |v| v[0].tanh());
    check("sigmoid", &[x.clone()], |v| v[0].sigmoid());
    check("relu", &[x.clone()], |v| v[0].relu());
    check("leaky_relu", &[x.clone()], |v| v[0].leaky_relu(0.1));
    check("elu", &[x.clone()], |v| v[0].elu(1.0));
    check("gelu", &[x.clone()], |v| v[0].gelu());
    check("softplus", &[x.clone()], |v| v[0].softplus());
    check("powf", &[p.clone()], |v| v[0].powf(1.7));
    check("square", &[x.clone()], |v| v[0].square());
    check("clamp", &[x], |v| v[0].clamp(-1.0, 1.0));
}

#[test]
fn a_user_defined_unary_op_is_checked_the_same_way() {
    struct Cube;
    impl UnaryOp for Cube {
        fn name(&self) -> &'static str {
            "cube"
        }
        fn value(&self, x: f32) -> f32 {
            x * x * x
        }
        fn derivative(&self, x: f32, _: f32) -> f32 {
            3.0 * x * x
        }
    }
    check("cube", &[sample(&[5], 4)], |v| v[0].unary(Cube));

    struct WrongCube;
    impl UnaryOp for WrongCube {
        fn name(&self) -> &'static str {
            "wrong_cube"
        }
        fn value(&self, x: f32) -> f32 {
            x * x * x
        }
        fn derivative(&self, x: f32, _: f32) -> f32 {
            2.0 * x * x
        }
    }
    assert!(gradcheck(&[sample(&[5], 4)], |v| v[0].unary(WrongCube)).is_err());
}

#[test]
fn reductions_over_everything_and_each_axis() {
    let x = distinct(&[2, 3, 4], 5);
    check("sum", &[x.clone()], |v| v[0].sum());
    check("mean", &[x.clone()], |v| v[0].mean());
    check("max", &[x.clone()], |v| v[0].max());
    check("min", &[x.clone()], |v| v[0].min());
    check("logsumexp", &[x.clone()], |v| v[0].logsumexp());
    for axis in [0, 1, 2, -1] {
        for keepdim in [false, true] {
            check("sum_axis", &[x.clone()], |v| v[0].sum_axis(axis, keepdim));
            check("mean_axis", &[x.clone()], |v| v[0].mean_axis(axis, keepdim));
            check("max_axis", &[x.clone()], |v| v[0].max_axis(axis, keepdim));
            check("min_axis", &[x.clone()], |v| v[0].min_axis(axis, keepdim));
            check("logsumexp_axis", &[x.clone()], |v| {
                v[0].logsumexp_axis(axis, keepdim)
            });
            check("var_axis", &[x.clone()], |v| v[0].var_axis(axis, keepdim));
        }
    }
}

#[test]
fn matmul_in_both_operand_orders_and_transposes() {
    let a = sample(&[3, 4], 6);
    let b = sample(&[4, 5], 7);
    check("a @ b", &[a.clone(), b.clone()], |v| v[0].matmul(v[1]));
    check("b^T @ a^T", &[a.clone(), b.clone()], |v| {
        v[1].t().matmul(v[0].t())
    });
    let bt = sample(&[5, 4], 8);
    check("a @ bt^T", &[a.clone(), bt.clone()], |v| {
        v[0].matmul_t(v[1])
    });
    let at = sample(&[4, 3], 9);
    check("at^T @ b", &[at, b.clone()], |v| v[0].t_matmul(v[1]));
    let batch_a = sample(&[2, 3, 4], 10);
    let batch_b = sample(&[2, 4, 2], 11);
    check("batched", &[batch_a.clone(), batch_b], |v| {
        v[0].matmul(v[1])
    });
    check("batched x shared", &[batch_a, b], |v| v[0].matmul(v[1]));
}

#[test]
fn layout_ops() {
    let x = sample(&[2, 3, 4], 12);
    check("reshape", &[x.clone()], |v| v[0].reshape([6, 4]));
    check("transpose", &[x.clone()], |v| v[0].transpose(0, 2));
    check("narrow", &[x.clone()], |v| v[0].narrow(1, 1, 2));
    let y = sample(&[2, 2, 4], 13);
    check("concat", &[x.clone(), y], |v| Var::concat(&[v[0], v[1]], 1));
    check("stack", &[x.clone(), x.clone()], |v| {
        Var::stack(&[v[0], v[1]], -1)
    });
    check("index_select", &[x], |v| v[0].index_select(&[1, 0, 1]));
}

#[test]
fn a_value_used_twice_accumulates_both_paths() {
    let x = sample(&[3], 14);
    check("x * x + x", &[x.clone()], |v| v[0] * v[0] + v[0]);
    check("shared subexpression", &[x], |v| {
        let h = v[0].tanh();
        h * h.exp() - h
    });
}

#[test]
fn fused_softmax_ops() {
    let logits = sample(&[4, 5], 15);
    check("log_softmax", &[logits.clone()], |v| v[0].log_softmax(-1));
    check("log_softmax axis 0", &[logits.clone()], |v| {
        v[0].log_softmax(0)
    });
    check("softmax", &[logits.clone()], |v| v[0].softmax(1));
    check("cross_entropy", &[logits.clone()], |v| {
        v[0].softmax_cross_entropy(&[0, 4, 2, 2])
    });
    let targets = Tensor::from([[1.0, 0.0, 0.3, 1.0, 0.0]; 4]);
    check("bce_with_logits", &[logits], |v| {
        v[0].bce_with_logits(&targets)
    });
}

#[test]
fn fused_losses_stay_finite_and_correct_at_extreme_logits() {
    let extreme = Tensor::from([[80.0, -80.0, 0.0], [-80.0, 80.0, 1.0]]);
    check("cross_entropy +-80", &[extreme.clone()], |v| {
        v[0].softmax_cross_entropy(&[1, 1])
    });
    check("log_softmax +-80", &[extreme.clone()], |v| {
        v[0].log_softmax(1)
    });
    let targets = Tensor::from([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    check("bce_with_logits +-80", &[extreme.clone()], |v| {
        v[0].bce_with_logits(&targets)
    });

    let tape = descent_autograd::Tape::new();
    let x = tape.constant(extreme);
    let ce = x.softmax_cross_entropy(&[1, 1]).value();
    assert!(ce.is_finite(), "cross-entropy overflowed: {ce:?}");
    assert!(
        (ce.data()[0] - 160.0).abs() < 1e-3,
        "loss of a confidently wrong sample: {ce:?}"
    );
    let bce = x.bce_with_logits(&targets).value();
    assert!(bce.is_finite(), "bce overflowed: {bce:?}");
    assert!((bce.data()[1] - 80.0).abs() < 1e-3);
}
