//! Empty batches and zero-width layers: shapes with a zero work wherever
//! they make sense (sums of nothing are 0), and losses over nothing refuse
//! by name instead of returning NaN or failing deep inside a kernel.

use descent_autograd::{Tape, Var};
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};

#[test]
fn a_layer_with_no_outputs_runs_forward_and_backward() {
    let layer = Dense::new(10, 0, &mut seeded_rng(0));
    let tape = Tape::new();
    let out = layer.forward(tape.constant(Tensor::ones([4, 10])));
    assert_eq!(out.shape().dims(), &[4, 0]);
    let total = out.sum();
    assert_eq!(total.item(), 0.0);
    total.backward();
    assert_eq!(layer.weight().grad().unwrap().dims(), &[0, 10]);
    assert_eq!(layer.bias().unwrap().grad().unwrap().dims(), &[0]);
}

#[test]
fn a_layer_with_no_inputs_outputs_its_bias() {
    let layer =
        Dense::new(0, 3, &mut seeded_rng(0)).with_activation(descent_autograd::Activation::Tanh);
    let tape = Tape::new();
    let out = layer.forward(tape.constant(Tensor::zeros([2, 0])));
    // PyTorch initializes the bias of a layer without inputs to zeros.
    assert_eq!(out.value(), Tensor::zeros([2, 3]));
    out.sum().backward();
    assert_eq!(layer.bias().unwrap().grad().unwrap().to_vec(), vec![2.0; 3]);
}

#[test]
fn an_empty_batch_passes_through_a_model() {
    let mut rng = seeded_rng(1);
    let model = Sequential::new()
        .push(Dense::new(3, 4, &mut rng))
        .push(descent_autograd::Activation::Tanh)
        .push(Dense::new(4, 2, &mut rng));
    let tape = Tape::new();
    let out = model.forward(tape.constant(Tensor::zeros([0, 3])));
    assert_eq!(out.shape().dims(), &[0, 2]);
    let total = out.sum();
    assert_eq!(total.item(), 0.0);
    total.backward();
    for (name, p) in model.named_parameters() {
        let grad = p.grad().unwrap();
        assert!(grad.data().iter().all(|&g| g == 0.0), "{name}: {grad:?}");
    }
    assert_eq!(out.log_softmax(1).shape().dims(), &[0, 2]);
}

fn empty_prediction(tape: &Tape) -> Var<'_> {
    tape.constant(Tensor::zeros([0, 3]))
}

#[test]
#[should_panic(expected = "mse_loss: no elements; prediction of shape [0, 3]")]
fn mse_loss_over_nothing_names_the_loss() {
    let tape = Tape::new();
    mse_loss(
        empty_prediction(&tape),
        &Tensor::zeros([0, 3]),
        Reduction::Mean,
    );
}

#[test]
#[should_panic(expected = "bce_with_logits_loss: no elements")]
fn bce_with_logits_loss_over_nothing_names_the_loss() {
    let tape = Tape::new();
    bce_with_logits_loss(
        empty_prediction(&tape),
        &Tensor::zeros([0, 3]),
        Reduction::Sum,
    );
}

#[test]
#[should_panic(expected = "cross_entropy_loss: no elements; logits of shape [0, 10]")]
fn cross_entropy_over_no_rows_names_the_loss() {
    let tape = Tape::new();
    cross_entropy_loss(tape.constant(Tensor::zeros([0, 10])), &[], Reduction::Mean);
}

#[test]
#[should_panic(expected = "nll_loss: no elements; input of shape [0, 10]")]
fn nll_loss_over_no_rows_names_the_loss() {
    let tape = Tape::new();
    nll_loss(tape.constant(Tensor::zeros([0, 10])), &[], Reduction::None);
}

#[test]
fn every_loss_refuses_an_empty_batch() {
    type Loss = for<'t> fn(&'t Tape, &Tensor) -> Var<'t>;
    let losses: [(&str, Loss); 7] = [
        ("l1_loss", |t, e| {
            l1_loss(t.constant(e.clone()), e, Reduction::Mean)
        }),
        ("huber_loss", |t, e| {
            huber_loss(t.constant(e.clone()), e, 1.0, Reduction::Mean)
        }),
        ("bce_loss", |t, e| {
            bce_loss(t.constant(e.clone()), e, Reduction::Mean)
        }),
        ("hinge_loss", |t, e| {
            hinge_loss(t.constant(e.clone()), e, Reduction::Mean)
        }),
        ("squared_hinge_loss", |t, e| {
            squared_hinge_loss(t.constant(e.clone()), e, Reduction::Mean)
        }),
        ("mse_loss", |t, e| {
            mse_loss(t.constant(e.clone()), e, Reduction::None)
        }),
        ("cross_entropy_loss", |t, e| {
            cross_entropy_loss(t.constant(e.clone()), &[], Reduction::Sum)
        }),
    ];
    let empty = Tensor::zeros([0, 1]);
    for (name, loss) in losses {
        let result = std::panic::catch_unwind(|| {
            loss(&Tape::new(), &empty);
        });
        let message = result.expect_err(name);
        let text = message.downcast_ref::<String>().map_or("", String::as_str);
        assert!(
            text.starts_with(&format!("{name}: no elements")),
            "{name}: {text}"
        );
    }
}
