//! Every differentiable op against central finite differences, including
//! broadcasting, each reduction axis, both matmul operand orders and values
//! used more than once.

use descent_autograd::{UnaryOp, Var, gradcheck};
use descent_tensor::{IndexTensor, Mask, Tensor, seeded_rng};

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

fn check(name: &str, inputs: &[&Tensor], f: impl for<'t> Fn(&[Var<'t>]) -> Var<'t>) {
    let inputs: Vec<Tensor> = inputs.iter().map(|&t| t.clone()).collect();
    if let Err(e) = gradcheck(&inputs, f) {
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
        check("add", &[&a, &b], |v| v[0] + v[1]);
        check("sub", &[&a, &b], |v| v[0] - v[1]);
        check("mul", &[&a, &b], |v| v[0] * v[1]);
        check("div", &[&a, &pb], |v| v[0] / v[1]);
        check("pow", &[&pa, &b], |v| v[0].pow(v[1]));
        let (ga, gb) = (on_grid(sa, i as u64, 0), on_grid(sb, 100 + i as u64, 1));
        check("maximum", &[&ga, &gb], |v| v[0].maximum(v[1]));
        check("minimum", &[&ga, &gb], |v| v[0].minimum(v[1]));
    }
}

#[test]
fn scalar_variants() {
    let x = sample(&[2, 3], 1);
    check("x + s", &[&x], |v| v[0] + 1.5);
    check("s - x", &[&x], |v| 1.5 - v[0]);
    check("x * s", &[&x], |v| v[0] * -3.0);
    check("x / s", &[&x], |v| v[0] / 4.0);
    check("s / x", &[&x], |v| 2.0 / v[0]);
    check("-x", &[&x], |v| -v[0]);
    check("&x op s", &[&x], |v| (&v[0] * 2.0 - 1.0) / 3.0 + 0.5);
    check("s op &x", &[&x], |v| {
        2.0 * &v[0] + (1.0 - &v[0]) + 4.0 / &v[0]
    });
}

#[test]
// The references are the point: each `&Var` form must compile and record.
#[allow(clippy::op_ref)]
fn operators_with_tensors_and_references() {
    let shapes: [(&[usize], &[usize]); 2] = [(&[2, 3], &[2, 3]), (&[2, 3], &[3])];
    for (i, (sa, sb)) in shapes.into_iter().enumerate() {
        let x = sample(sa, 20 + i as u64);
        let t = sample(sb, 30 + i as u64);
        let p = positive(sb, 40 + i as u64);
        check("Var + Tensor", &[&x], |v| v[0] + &t + t.clone());
        check("Tensor - Var", &[&x], |v| &t - v[0] - &v[0]);
        check("Var * Tensor", &[&x], |v| &v[0] * &t * t.clone());
        check("Tensor * Var", &[&x], |v| t.clone() * v[0]);
        check("Var / Tensor", &[&x], |v| v[0] / &p);
        check("Tensor / Var", &[&p], |v| &t / v[0]);
        let y = sample(sa, 50 + i as u64);
        check("&Var op &Var", &[&x, &y], |v| &v[0] * &v[1] - v[0] / &v[0]);
    }
}

#[test]
fn unary_ops() {
    let x = sample(&[3, 4], 2);
    let p = positive(&[3, 4], 3);
    check("exp", &[&x], |v| v[0].exp());
    check("ln", &[&p], |v| v[0].ln());
    check("log", &[&p], |v| v[0].log());
    check("log1p", &[&p], |v| v[0].log1p());
    check("expm1", &[&x], |v| v[0].expm1());
    check("sign", &[&x], |v| v[0].sign() * v[0]);
    check("sqrt", &[&p], |v| v[0].sqrt());
    check("abs", &[&x], |v| v[0].abs());
    check("tanh", &[&x], |v| v[0].tanh());
    check("sigmoid", &[&x], |v| v[0].sigmoid());
    check("relu", &[&x], |v| v[0].relu());
    check("leaky_relu", &[&x], |v| v[0].leaky_relu(0.1));
    check("elu", &[&x], |v| v[0].elu(1.0));
    check("gelu", &[&x], |v| v[0].gelu());
    check("softplus", &[&x], |v| v[0].softplus());
    check("powf", &[&p], |v| v[0].powf(1.7));
    check("square", &[&x], |v| v[0].square());
    check("clamp", &[&x], |v| v[0].clamp(-1.0, 1.0));
    check("clamp with min > max", &[&x], |v| v[0].clamp(1.0, -1.0));
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
    check("cube", &[&sample(&[5], 4)], |v| v[0].unary(Cube));

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
    check("sum", &[&x], |v| v[0].sum());
    check("mean", &[&x], |v| v[0].mean());
    check("max", &[&x], |v| v[0].max());
    check("min", &[&x], |v| v[0].min());
    check("logsumexp", &[&x], |v| v[0].logsumexp());
    check("var", &[&x], |v| v[0].var());
    check("std", &[&x], |v| v[0].std());
    for axis in [0, 1, 2, -1] {
        for keepdim in [false, true] {
            check("sum_axis", &[&x], |v| v[0].sum_axis(axis, keepdim));
            check("mean_axis", &[&x], |v| v[0].mean_axis(axis, keepdim));
            check("max_axis", &[&x], |v| v[0].max_axis(axis, keepdim));
            check("min_axis", &[&x], |v| v[0].min_axis(axis, keepdim));
            check("logsumexp_axis", &[&x], |v| {
                v[0].logsumexp_axis(axis, keepdim)
            });
            check("var_axis", &[&x], |v| v[0].var_axis(axis, keepdim));
            check("var_axis_corrected", &[&x], |v| {
                v[0].var_axis_corrected(axis, 0, keepdim)
            });
            check("std_axis", &[&x], |v| v[0].std_axis(axis, keepdim));
            check("std_axis_corrected", &[&x], |v| {
                v[0].std_axis_corrected(axis, 0, keepdim)
            });
        }
    }
}

#[test]
fn matmul_in_both_operand_orders_and_transposes() {
    let a = sample(&[3, 4], 6);
    let b = sample(&[4, 5], 7);
    check("a @ b", &[&a, &b], |v| v[0].matmul(v[1]));
    check("b^T @ a^T", &[&a, &b], |v| v[1].t().matmul(v[0].t()));
    let bt = sample(&[5, 4], 8);
    check("a @ bt^T", &[&a, &bt], |v| v[0].matmul_t(v[1]));
    let at = sample(&[4, 3], 9);
    check("at^T @ b", &[&at, &b], |v| v[0].t_matmul(v[1]));
    let batch_a = sample(&[2, 3, 4], 10);
    let batch_b = sample(&[2, 4, 2], 11);
    check("batched", &[&batch_a, &batch_b], |v| v[0].matmul(v[1]));
    check("batched x shared", &[&batch_a, &b], |v| v[0].matmul(v[1]));
}

#[test]
fn layout_ops() {
    let x = sample(&[2, 3, 4], 12);
    check("reshape", &[&x], |v| v[0].reshape([6, 4]));
    check("reshape -1", &[&x], |v| v[0].reshape([-1, 8]));
    check("flatten", &[&x], |v| v[0].flatten(1, -1));
    check("squeeze", &[&x], |v| {
        v[0].unsqueeze(1).squeeze(1).unsqueeze(-1)
    });
    check("permute", &[&x], |v| v[0].permute(&[2, 0, 1]));
    check("permute negative", &[&x], |v| v[0].permute(&[-2, -1, 0]));
    check("transpose", &[&x], |v| v[0].transpose(0, 2));
    check("narrow", &[&x], |v| v[0].narrow(1, 1, 2));
    let y = sample(&[2, 2, 4], 13);
    check("concat", &[&x, &y], |v| Var::concat(&[v[0], v[1]], 1));
    check("stack", &[&x, &x], |v| Var::stack(&[v[0], v[1]], -1));
}

#[test]
fn indexing_ops() {
    let x = sample(&[2, 3, 4], 16);
    check("slice", &[&x], |v| v[0].slice(2, 1..3));
    check("slice open", &[&x], |v| v[0].slice(-2, 1..));
    check("slice inclusive", &[&x], |v| v[0].slice(0, ..=0));
    check("select", &[&x], |v| v[0].select(1, 2));
    check("select last axis", &[&x], |v| v[0].select(-1, 0));
    for axis in [0, 1, 2, -1] {
        check("index_select", &[&x], |v| {
            v[0].index_select(axis, &[1, 0, 1])
        });
    }
    let rows = IndexTensor::from_vec(vec![3, 0, 0, 1, 2, 2, 1, 3, 0, 0, 3, 3], [2, 3, 2]);
    check("gather", &[&x], |v| v[0].gather(2, &rows));
    let planes = IndexTensor::from_vec(vec![1, 0, 1, 1, 0, 0, 1, 0], [2, 1, 4]);
    check("gather axis 0", &[&x], |v| v[0].gather(0, &planes));
    let src = sample(&[2, 3, 2], 17);
    check("scatter_add", &[&x, &src], |v| {
        v[0].scatter_add(2, &rows, v[1])
    });
    let d = distinct(&[3, 5], 18);
    check("topk", &[&d], |v| v[0].topk(3, 1).0);
    check("topk axis 0", &[&d], |v| v[0].topk(2, 0).0);
}

#[test]
fn mask_ops() {
    let a = sample(&[2, 3], 19);
    let b = sample(&[3], 20);
    let mask = Mask::from_vec(vec![true, false], [2, 1]);
    check("where_", &[&a, &b], |v| Var::where_(&mask, v[0], v[1]));
    let by_value = a.gt(0.0);
    check("where_ by value", &[&a, &b], |v| {
        Var::where_(&by_value, v[1], v[0])
    });
    check("masked_fill", &[&a], |v| v[0].masked_fill(&by_value, -1.0));
    let row = Mask::from([false, true, false]);
    check("masked_fill broadcast", &[&a], |v| {
        v[0].masked_fill(&row, 0.0)
    });
}

#[test]
fn a_value_used_twice_accumulates_both_paths() {
    let x = sample(&[3], 14);
    check("x * x + x", &[&x], |v| v[0] * v[0] + v[0]);
    check("shared subexpression", &[&x], |v| {
        let h = v[0].tanh();
        h * h.exp() - h
    });
}

#[test]
fn fused_softmax_ops() {
    let logits = sample(&[4, 5], 15);
    check("log_softmax", &[&logits], |v| v[0].log_softmax(-1));
    check("log_softmax axis 0", &[&logits], |v| v[0].log_softmax(0));
    check("softmax", &[&logits], |v| v[0].softmax(1));
    check("cross_entropy", &[&logits], |v| {
        v[0].softmax_cross_entropy(&[0, 4, 2, 2])
    });
    let targets = Tensor::from([[1.0, 0.0, 0.3, 1.0, 0.0]; 4]);
    check("bce_with_logits", &[&logits], |v| {
        v[0].bce_with_logits(&targets)
    });
}

#[test]
fn fused_losses_stay_finite_and_correct_at_extreme_logits() {
    let extreme = Tensor::from([[80.0, -80.0, 0.0], [-80.0, 80.0, 1.0]]);
    check("cross_entropy +-80", &[&extreme], |v| {
        v[0].softmax_cross_entropy(&[1, 1])
    });
    check("log_softmax +-80", &[&extreme], |v| v[0].log_softmax(1));
    let targets = Tensor::from([[1.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    check("bce_with_logits +-80", &[&extreme], |v| {
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
