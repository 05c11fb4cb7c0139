//! Hinge losses, embeddings and model summaries.

use descent_autograd::{GradcheckConfig, Tape, gradcheck, gradcheck_params};
use descent_layers::*;
use descent_tensor::{Tensor, seeded_rng};

#[test]
fn hinge_losses_match_hand_computed_values_and_gradcheck() {
    let tape = Tape::new();
    let scores = tape.constant(Tensor::from([2.0, 0.5, -0.3, -2.0]));
    let labels = Tensor::from([1.0, 1.0, 1.0, -1.0]);
    // margins 1 - y s: -1, 0.5, 1.3, -1  ->  hinge 0, 0.5, 1.3, 0
    assert!((hinge_loss(scores, &labels, Reduction::Sum).item() - 1.8).abs() < 1e-6);
    assert!((hinge_loss(scores, &labels, Reduction::Mean).item() - 0.45).abs() < 1e-6);
    assert!(
        (squared_hinge_loss(scores, &labels, Reduction::Sum).item() - (0.25 + 1.69)).abs() < 1e-5
    );

    let s = Tensor::from([[1.7, 0.4], [-0.6, 2.2], [0.1, -1.4]]);
    let y = Tensor::from([[1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]);
    for reduction in [Reduction::Mean, Reduction::Sum] {
        gradcheck(std::slice::from_ref(&s), |v| {
            hinge_loss(v[0], &y, reduction)
        })
        .unwrap();
        gradcheck(std::slice::from_ref(&s), |v| {
            squared_hinge_loss(v[0], &y, reduction)
        })
        .unwrap();
    }
}

#[test]
#[should_panic(expected = "hinge_loss: target 0 at index 1 is not -1 or +1")]
fn hinge_loss_rejects_zero_one_labels() {
    let tape = Tape::new();
    hinge_loss(
        tape.constant(Tensor::zeros([2])),
        &Tensor::from([1.0, 0.0]),
        Reduction::Mean,
    );
}

#[test]
fn embedding_gradients_reach_only_the_looked_up_rows() {
    let embedding = Embedding::new(6, 3, &mut seeded_rng(0));
    let params = [embedding.weight().clone()];
    gradcheck_params(GradcheckConfig::default(), &params, |tape| {
        embedding.lookup(tape, &[4, 1, 4]).tanh()
    })
    .unwrap();

    let before = embedding.weight().value();
    let tape = Tape::new();
    embedding.lookup(&tape, &[1, 4, 4]).sum().backward();
    let grad = embedding.weight().grad().unwrap();
    for row in 0..6 {
        let row_grad = grad.narrow(0, row, 1).to_vec();
        let expected = match row {
            1 => 1.0,
            4 => 2.0,
            _ => 0.0,
        };
        assert_eq!(row_grad, vec![expected; 3], "row {row}");
    }
    // Plain SGD without weight decay leaves unseen rows bit-identical.
    let step = grad.mul_scalar(0.1);
    embedding
        .weight()
        .set_value(embedding.weight().value().sub(&step));
    let after = embedding.weight().value();
    for row in [0, 2, 3, 5] {
        assert!(
            after.narrow(0, row, 1).bit_eq(&before.narrow(0, row, 1)),
            "row {row} moved"
        );
    }
    assert!(!after.narrow(0, 4, 1).bit_eq(&before.narrow(0, 4, 1)));

    let as_module = embedding.forward(tape.constant(Tensor::from([5.0, 0.0])));
    assert_eq!(as_module.shape().dims(), &[2, 3]);
}

#[test]
#[should_panic(expected = "Embedding: index 6 is out of range for 6 rows")]
fn embedding_rejects_out_of_range_indices() {
    let tape = Tape::new();
    Embedding::new(6, 2, &mut seeded_rng(0)).lookup(&tape, &[6]);
}

#[test]
fn embedding_as_a_module_rejects_indices_that_are_not_whole_and_non_negative() {
    for (index, message) in [
        (-1.0, "Embedding: -1 is not a valid index"),
        (1.5, "Embedding: 1.5 is not a valid index"),
        (f32::NAN, "Embedding: NaN is not a valid index"),
    ] {
        let panic = std::panic::catch_unwind(|| {
            let tape = Tape::new();
            let embedding = Embedding::new(6, 2, &mut seeded_rng(0));
            embedding.forward(tape.constant(Tensor::from([0.0, index])));
        })
        .expect_err("a bad index is refused");
        let text = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(text.contains(message), "{text}");
    }
}

#[test]
fn summary_of_the_mnist_mlp_lists_its_layers_and_101770_parameters() {
    let mut rng = seeded_rng(0);
    let mlp = Sequential::new()
        .push(Dense::new(784, 128, &mut rng))
        .push(Activation::Relu)
        .push(Dense::new(128, 10, &mut rng));
    let s = summary(&mlp, [32, 784]);
    assert_eq!(s.total_parameters, 101_770);
    let rows: Vec<(&str, &str, Vec<usize>, usize)> = s
        .layers
        .iter()
        .map(|l| {
            (
                l.name.as_str(),
                l.description.as_str(),
                l.output_shape.dims().to_vec(),
                l.parameters,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("0", "Dense(784 -> 128)", vec![32, 128], 100_480),
            ("1", "Relu", vec![32, 128], 0),
            ("2", "Dense(128 -> 10)", vec![32, 10], 1_290),
        ]
    );
    let table = s.to_string();
    assert!(table.contains("Total params: 101,770"), "{table}");
    assert!(table.contains("0 (Dense(784 -> 128))"), "{table}");
    assert!(
        mlp.parameters().iter().all(|p| p.grad().is_none()),
        "summary must not record gradients"
    );
}
