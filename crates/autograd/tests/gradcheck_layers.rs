//! The convolution, pooling and normalization ops against central finite
//! differences: stride, padding, dilation, groups, odd sizes and batch 1.

use descent_autograd::{Activation, Tape, Var, gradcheck};
use descent_tensor::{Conv1dOptions, Conv2dOptions, Pair, Pool2dOptions, Tensor, seeded_rng};

fn randn(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, &mut seeded_rng(seed))
}

/// Distinct values 0.1 apart in shuffled order: no window of a max pooling
/// holds a tie, so the maximum does not move within the check's step.
fn distinct(shape: &[usize], seed: u64) -> Tensor {
    use descent_tensor::rand::seq::SliceRandom;
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    values.shuffle(&mut seeded_rng(seed));
    Tensor::from_vec(values, shape)
}

fn check(name: &str, inputs: &[Tensor], f: impl for<'t> Fn(&[Var<'t>]) -> Var<'t>) {
    if let Err(e) = gradcheck(inputs, f) {
        panic!("{name}: {e}");
    }
}

fn conv(
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    groups: usize,
) -> Conv2dOptions {
    Conv2dOptions {
        stride: stride.into(),
        padding: padding.into(),
        dilation: dilation.into(),
        groups,
    }
}

#[test]
fn conv2d_in_every_configuration() {
    // (input, weight, options)
    let cases: [([usize; 4], [usize; 4], Conv2dOptions); 6] = [
        ([2, 3, 5, 6], [4, 3, 3, 3], conv((1, 1), (1, 1), (1, 1), 1)),
        ([1, 2, 7, 5], [3, 2, 3, 2], conv((2, 3), (1, 0), (1, 1), 1)),
        ([2, 4, 7, 7], [4, 2, 3, 3], conv((1, 1), (2, 1), (2, 3), 2)),
        ([1, 3, 5, 5], [3, 1, 2, 2], conv((2, 2), (1, 1), (1, 1), 3)),
        ([3, 3, 3, 4], [2, 3, 1, 1], conv((1, 1), (0, 0), (1, 1), 1)),
        ([1, 1, 4, 4], [2, 1, 4, 4], conv((1, 1), (0, 0), (1, 1), 1)),
    ];
    for (i, (xs, ws, options)) in cases.into_iter().enumerate() {
        let seed = 10 * i as u64;
        let (x, w, b) = (
            randn(&xs, seed),
            randn(&ws, seed + 1),
            randn(&[ws[0]], seed + 2),
        );
        check(
            &format!("conv2d case {i}"),
            &[x.clone(), w.clone(), b],
            |v| v[0].conv2d(v[1], Some(v[2]), options),
        );
        check(&format!("conv2d case {i} without bias"), &[x, w], |v| {
            v[0].conv2d(v[1], None, options)
        });
    }
}

#[test]
fn conv2d_with_a_fused_activation() {
    let (x, w, b) = (
        randn(&[2, 2, 5, 4], 1),
        randn(&[3, 2, 3, 3], 2),
        randn(&[3], 3),
    );
    let options = conv((2, 1), (1, 1), (1, 1), 1);
    for activation in [Activation::Tanh, Activation::Gelu, Activation::Sigmoid] {
        check(
            &format!("conv2d + {activation:?}"),
            &[x.clone(), w.clone(), b.clone()],
            |v| v[0].conv2d_activation(v[1], Some(v[2]), options, activation),
        );
    }
}

#[test]
fn a_fused_activation_gives_the_values_and_gradients_of_the_two_ops() {
    let (x, w, b) = (
        randn(&[3, 2, 6, 5], 4),
        randn(&[4, 2, 3, 3], 5),
        randn(&[4], 6),
    );
    let options = conv((1, 1), (1, 1), (1, 1), 1);
    let run = |fused: bool| {
        let params = [&x, &w, &b].map(|t| descent_autograd::Param::new(t.clone()));
        let tape = Tape::new();
        let [xv, wv, bv] = [0, 1, 2].map(|i| tape.param(&params[i]));
        let y = if fused {
            xv.conv2d_activation(wv, Some(bv), options, Activation::Relu)
        } else {
            xv.conv2d(wv, Some(bv), options).relu()
        };
        let weights = tape.constant(randn(y.shape().dims(), 7));
        (y * weights).sum().backward();
        let grads = params.map(|p| p.grad().unwrap());
        (y.value(), grads)
    };
    let (fused, fused_grads) = run(true);
    let (plain, plain_grads) = run(false);
    assert!(fused.bit_eq(&plain));
    for (a, b) in fused_grads.iter().zip(&plain_grads) {
        assert!(a.bit_eq(b));
    }
}

#[test]
fn conv1d_runs_on_the_2d_machinery() {
    let options = Conv1dOptions {
        stride: 2,
        padding: 1,
        dilation: 2,
        groups: 2,
    };
    let (x, w, b) = (randn(&[2, 4, 9], 1), randn(&[6, 2, 3], 2), randn(&[6], 3));
    check("conv1d", &[x.clone(), w.clone(), b], |v| {
        v[0].conv1d(v[1], Some(v[2]), options)
    });
    // Against the definition: y[n, o, t] = sum over (c, k) of
    // w[o, c, k] x[n, group(o) * 2 + c, 2 t + 2 k - 1].
    let tape = Tape::new();
    let y = tape
        .constant(x.clone())
        .conv1d(tape.constant(w.clone()), None, options)
        .value();
    assert_eq!(y.dims(), &[2, 6, 4]);
    let expected = Tensor::from_fn([2, 6, 4], |i| {
        let (n, o, t) = (i[0], i[1], i[2]);
        let mut sum = 0.0;
        for c in 0..2 {
            for k in 0..3 {
                let at = (2 * t + 2 * k) as isize - 1;
                if (0..9).contains(&at) {
                    sum += w.get(&[o, c, k]) * x.get(&[n, o / 3 * 2 + c, at as usize]);
                }
            }
        }
        sum
    });
    assert!(y.all_close(&expected, 1e-5, 1e-5));
}

#[test]
fn poolings_in_every_configuration() {
    let x = distinct(&[2, 3, 7, 6], 1);
    let pools = [
        Pool2dOptions::new(2),
        Pool2dOptions::new((3, 2)),
        Pool2dOptions {
            kernel: Pair::from(3),
            stride: Pair::from((2, 1)),
            padding: Pair::from(1),
        },
    ];
    for (i, options) in pools.into_iter().enumerate() {
        check(&format!("max_pool2d {i}"), std::slice::from_ref(&x), |v| {
            v[0].max_pool2d(options)
        });
        for include in [true, false] {
            check(
                &format!("avg_pool2d {i} {include}"),
                std::slice::from_ref(&x),
                |v| v[0].avg_pool2d(options, include),
            );
        }
    }
    let single = distinct(&[1, 2, 5, 5], 2);
    for output in [(1, 1), (2, 3), (5, 5), (3, 2)] {
        check(
            &format!("adaptive_avg_pool2d {output:?}"),
            std::slice::from_ref(&single),
            |v| v[0].adaptive_avg_pool2d(output),
        );
    }
}

#[test]
fn batch_norm_with_batch_and_given_statistics() {
    for (i, shape) in [[4, 3, 1, 1], [2, 3, 4, 5], [1, 2, 3, 3]]
        .into_iter()
        .enumerate()
    {
        let seed = 10 * i as u64;
        let x = randn(&shape, seed).mul_scalar(2.0).add_scalar(0.5);
        let (w, b) = (randn(&[shape[1]], seed + 1), randn(&[shape[1]], seed + 2));
        check(
            &format!("batch_norm {shape:?}"),
            &[x.clone(), w.clone(), b.clone()],
            |v| v[0].batch_norm(Some(v[1]), Some(v[2]), 1e-5).0,
        );
        check(
            &format!("batch_norm {shape:?} without affine"),
            std::slice::from_ref(&x),
            |v| v[0].batch_norm(None, None, 1e-5).0,
        );
        let (mean, var) = (
            randn(&[shape[1]], seed + 3),
            randn(&[shape[1]], seed + 4).abs(),
        );
        check(
            &format!("batch_norm_with_stats {shape:?}"),
            &[x, w, b],
            |v| v[0].batch_norm_with_stats(&mean, &var, Some(v[1]), Some(v[2]), 1e-5),
        );
    }
    let matrix = randn(&[5, 4], 9);
    check("batch_norm of a matrix", &[matrix, randn(&[4], 10)], |v| {
        v[0].batch_norm(Some(v[1]), None, 1e-3).0
    });
}

#[test]
#[should_panic(expected = "batch_norm: expected more than one value per channel when training")]
fn batch_norm_refuses_one_value_per_channel_in_training() {
    let tape = Tape::new();
    let _ = tape
        .constant(Tensor::zeros([1, 3]))
        .batch_norm(None, None, 1e-5);
}

#[test]
fn layer_norm_over_one_and_two_trailing_dimensions() {
    let x = randn(&[3, 2, 5], 1).mul_scalar(1.5).add_scalar(-0.5);
    check(
        "layer_norm [5]",
        &[x.clone(), randn(&[5], 2), randn(&[5], 3)],
        |v| v[0].layer_norm([5], Some(v[1]), Some(v[2]), 1e-5),
    );
    check(
        "layer_norm [2, 5]",
        &[x.clone(), randn(&[2, 5], 4), randn(&[2, 5], 5)],
        |v| v[0].layer_norm([2, 5], Some(v[1]), Some(v[2]), 1e-5),
    );
    check("layer_norm without affine", &[x], |v| {
        v[0].layer_norm([5], None, None, 1e-5)
    });
}

#[test]
#[should_panic(expected = "layer_norm: normalized shape [4] is not the end of input shape [3, 5]")]
fn layer_norm_checks_the_normalized_shape() {
    let tape = Tape::new();
    tape.constant(Tensor::zeros([3, 5]))
        .layer_norm([4], None, None, 1e-5);
}
