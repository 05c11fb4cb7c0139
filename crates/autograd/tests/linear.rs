//! The fused linear op, `act(x W^T + b)`: the same bits as the three ops it
//! replaces, forward and backward, and gradients that match finite
//! differences for every activation, with and without bias, on 2-D and 3-D
//! inputs.

use descent_autograd::{Activation, Param, Tape, Var, gradcheck};
use descent_tensor::{Tensor, seeded_rng};

const ACTIVATIONS: [Activation; 7] = [
    Activation::Relu,
    Activation::LeakyRelu(0.1),
    Activation::Elu(0.5),
    Activation::Sigmoid,
    Activation::Tanh,
    Activation::Gelu,
    Activation::Softplus,
];

/// The activation as its own recorded op.
fn unfused(x: Var<'_>, activation: Activation) -> Var<'_> {
    match activation {
        Activation::Relu => x.relu(),
        Activation::LeakyRelu(slope) => x.leaky_relu(slope),
        Activation::Elu(alpha) => x.elu(alpha),
        Activation::Sigmoid => x.sigmoid(),
        Activation::Tanh => x.tanh(),
        Activation::Gelu => x.gelu(),
        Activation::Softplus => x.softplus(),
    }
}

fn random(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, &mut seeded_rng(seed))
}

#[test]
fn fused_and_unfused_layers_give_the_same_bits() {
    let x = random(&[16, 24], 1);
    for (i, activation) in [None].into_iter().chain(ACTIVATIONS.map(Some)).enumerate() {
        for with_bias in [true, false] {
            let w = Param::new(random(&[12, 24], 2 + i as u64));
            let b = Param::new(random(&[12], 20 + i as u64));
            let run = |fused: bool| {
                let tape = Tape::new();
                let input = tape.constant(x.clone());
                let (weight, bias) = (tape.param(&w), with_bias.then(|| tape.param(&b)));
                let out = if fused {
                    match activation {
                        Some(a) => input.linear_activation(weight, bias, a),
                        None => input.linear(weight, bias),
                    }
                } else {
                    let product = input.matmul_t(weight);
                    let pre = bias.map_or(product, |bias| product + bias);
                    activation.map_or(pre, |a| unfused(pre, a))
                };
                // Weighted so every output element gets a different gradient.
                let weights = tape.constant(random(&[16, 12], 99));
                (out * weights).sum().backward();
                let grads = (w.grad().unwrap(), b.grad());
                w.zero_grad();
                b.zero_grad();
                (out.value(), grads)
            };
            let (fused, (fused_dw, fused_db)) = run(true);
            let (plain, (plain_dw, plain_db)) = run(false);
            let name = format!("{activation:?}, bias {with_bias}");
            assert!(fused.bit_eq(&plain), "{name}: values differ");
            assert!(
                fused_dw.bit_eq(&plain_dw),
                "{name}: weight gradients differ"
            );
            match (fused_db, plain_db) {
                (Some(f), Some(p)) => assert!(f.bit_eq(&p), "{name}: bias gradients differ"),
                (None, None) => assert!(!with_bias),
                _ => panic!("{name}: only one path gave the bias a gradient"),
            }
        }
    }
}

#[test]
fn gradients_match_finite_differences() {
    for (seed, activation) in ACTIVATIONS.into_iter().enumerate() {
        let seed = seed as u64 * 10;
        let inputs = [
            random(&[5, 4], seed),
            random(&[3, 4], seed + 1),
            random(&[3], seed + 2),
        ];
        let result = gradcheck(&inputs, |v| {
            v[0].linear_activation(v[1], Some(v[2]), activation)
        });
        result.unwrap_or_else(|e| panic!("{activation:?}: {e}"));
        let sequence = [random(&[2, 3, 4], seed + 3), random(&[3, 4], seed + 4)];
        let result = gradcheck(&sequence, |v| {
            v[0].linear_activation(v[1], None, activation)
        });
        result.unwrap_or_else(|e| panic!("{activation:?} on [2, 3, 4]: {e}"));
    }
    let plain = [random(&[5, 4], 7), random(&[3, 4], 8), random(&[3], 9)];
    gradcheck(&plain, |v| v[0].linear(v[1], Some(v[2]))).unwrap();
}

#[test]
#[should_panic(expected = "linear: bias of shape [4] for a weight of shape [3, 5]")]
fn a_bias_of_the_wrong_length_names_both_shapes() {
    let tape = Tape::new();
    let x = tape.constant(Tensor::zeros([2, 5]));
    let w = tape.constant(Tensor::zeros([3, 5]));
    x.linear(w, Some(tape.constant(Tensor::zeros([4]))));
}
