//! The tape's contract: gradients accumulate until zeroed, no_grad and detach
//! cut the graph, a reset tape reuses its memory, and misuse panics clearly.

use descent_autograd::{Param, Tape};
use descent_tensor::Tensor;

#[test]
fn gradients_accumulate_across_backward_calls_until_zeroed() {
    let w = Param::new(Tensor::from([1.0, 2.0]));
    for _ in 0..2 {
        let tape = Tape::new();
        (tape.param(&w) * 3.0).sum().backward();
    }
    assert_eq!(w.grad().unwrap().to_vec(), vec![6.0, 6.0]);
    w.zero_grad();
    assert!(w.grad().is_none());
}

#[test]
fn a_parameter_put_on_the_tape_twice_gets_both_gradients() {
    let w = Param::new(Tensor::from([3.0]));
    let tape = Tape::new();
    let (a, b) = (tape.param(&w), tape.param(&w));
    (a * b).sum().backward(); // d(w^2)/dw = 2w
    assert_eq!(w.grad().unwrap().to_vec(), vec![6.0]);
}

#[test]
fn ops_after_backward_read_the_parameters_current_values() {
    let w = Param::new(Tensor::from([2.0, -1.0]));
    let tape = Tape::new();
    let x = tape.param(&w);
    (x * x).sum().backward();
    w.set_value(Tensor::from([5.0, 7.0]));
    assert_eq!((x + x).value().to_vec(), vec![10.0, 14.0]);
    assert_eq!(x.sum().item(), 12.0);
    (x * 3.0).sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![7.0, 1.0]);
}

#[test]
fn detach_and_no_grad_record_nothing() {
    let w = Param::new(Tensor::from([2.0]));
    let tape = Tape::new();
    let x = tape.param(&w);
    let y = (x * x.detach()).sum(); // only the first factor carries gradient
    y.backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![2.0]);

    let eval = Tape::no_grad();
    let z = eval.param(&w) * 5.0;
    assert!(!z.requires_grad());
    assert_eq!(z.item(), 10.0);

    let scoped = tape.without_grad(|| (tape.param(&w) * 2.0).requires_grad());
    assert!(!scoped);
    assert!(tape.is_recording());
}

#[test]
fn only_wanted_gradients_are_computed() {
    let w = Param::new(Tensor::ones([3, 2]));
    let tape = Tape::new();
    let data = tape.constant(Tensor::ones([4, 3]));
    let out = data.matmul(tape.param(&w));
    assert!(out.requires_grad());
    assert!(!data.requires_grad());
    out.sum().backward();
    assert_eq!(w.grad().unwrap().to_vec(), vec![4.0; 6]);
}

#[test]
fn optimizer_updates_happen_in_place_once_the_tape_is_gone() {
    let w = Param::new(Tensor::from([1.0, 1.0]));
    let before = w.value().data().as_ptr();
    {
        let tape = Tape::new();
        tape.param(&w).sum().backward();
    }
    w.value_mut().data_mut()[0] = 5.0;
    assert_eq!(w.value().data().as_ptr(), before, "the buffer was copied");
    assert_eq!(w.value().to_vec(), vec![5.0, 1.0]);
}

#[test]
fn a_reset_tape_does_not_grow_over_many_steps() {
    let w = Param::new(Tensor::from([0.5]));
    let mut tape = Tape::new();
    let mut lengths = Vec::new();
    for _ in 0..1000 {
        tape.reset();
        let loss = (tape.param(&w) * 2.0 - 1.0).square().sum();
        loss.backward();
        w.zero_grad();
        lengths.push(tape.len());
    }
    assert!(lengths.iter().all(|&n| n == lengths[0]));
}

#[test]
#[should_panic(expected = "backward: output has shape [2]; reduce it to one value first")]
fn backward_on_a_vector_explains_what_to_do() {
    let w = Param::new(Tensor::from([1.0, 2.0]));
    let tape = Tape::new();
    tape.param(&w).exp().backward();
}

#[test]
#[should_panic(expected = "backward: this tape does not record gradients")]
fn backward_on_a_no_grad_tape_panics() {
    let w = Param::new(Tensor::from([1.0]));
    let tape = Tape::no_grad();
    tape.param(&w).sum().backward();
}

#[test]
#[should_panic(expected = "add: shapes [2, 3] and [2] cannot be broadcast together")]
fn shape_errors_name_the_op_and_both_shapes() {
    let tape = Tape::new();
    let _ = tape.constant(Tensor::zeros([2, 3])) + tape.constant(Tensor::zeros([2]));
}

#[test]
#[should_panic(expected = "cross_entropy: target 10 of sample 1 is out of range for 10 classes")]
fn class_labels_out_of_range_are_rejected() {
    let tape = Tape::new();
    tape.constant(Tensor::zeros([2, 10]))
        .softmax_cross_entropy(&[3, 10]);
}

#[test]
#[should_panic(expected = "mul: an input belongs to another tape")]
fn mixing_tapes_panics() {
    let (a, b) = (Tape::new(), Tape::new());
    let _ = a.constant(Tensor::ones([1])) * b.constant(Tensor::ones([1]));
}

#[test]
fn anomaly_detection_names_the_first_non_finite_op() {
    use descent_autograd::Pass;
    let w = Param::new(Tensor::from([[1.0, -1.0]]));
    let mut tape = Tape::new();
    tape.detect_anomalies(true);
    let x = tape.param(&w) * 2.0; // position 1: finite
    let y = x.ln(); // position 2: ln(-2) is NaN
    let _ = (y * 3.0).sum(); // NaN propagates, but the first op is kept
    let anomaly = tape.anomaly().expect("the NaN was noticed");
    assert_eq!(
        (anomaly.op, anomaly.position, anomaly.pass),
        ("ln", 2, Pass::Forward)
    );
    assert_eq!(anomaly.input_shapes[0].dims(), &[1, 2]);
    assert_eq!(
        anomaly.to_string(),
        "ln (tape position 2, input shapes [[1, 2]]) produced a non-finite output"
    );

    tape.reset();
    assert!(tape.anomaly().is_none(), "reset clears the record");
    let z = Param::new(Tensor::from([0.0, 4.0]));
    let root = tape.param(&z).sqrt().sum(); // finite forward, infinite gradient at 0
    root.backward();
    let anomaly = tape.anomaly().expect("the infinite gradient was noticed");
    assert_eq!((anomaly.op, anomaly.pass), ("sqrt", Pass::Backward));

    let quiet = Tape::new();
    let _ = quiet.param(&w).ln();
    assert!(quiet.anomaly().is_none(), "detection is opt-in");
}

#[test]
#[should_panic(expected = "backward: the parameter of shape [2] that mul used was modified")]
fn backward_after_the_parameters_changed_is_refused() {
    let w = Param::new(Tensor::from([2.0, -1.0]));
    let tape = Tape::new();
    let x = tape.param(&w);
    let loss = (x * x).sum();
    loss.backward();
    w.value_mut().data_mut()[0] -= 0.1; // what an optimizer step does
    loss.backward();
}

#[test]
fn without_grad_restores_recording_after_a_panic() {
    let tape = Tape::new();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tape.without_grad(|| panic!("user code failed"))
    }));
    assert!(caught.is_err());
    assert!(tape.is_recording());
}

#[test]
fn parameters_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Param>();
}

#[test]
fn activations_propagate_nan_as_pytorch_does() {
    use descent_autograd::Activation;
    let tape = Tape::new();
    let x = tape.constant(Tensor::from([f32::NAN, -1.0, 2.0]));
    for activation in [
        Activation::Relu,
        Activation::LeakyRelu(0.1),
        Activation::Elu(1.0),
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Softplus,
    ] {
        let y = x.activation(activation).value();
        assert!(
            y.data()[0].is_nan(),
            "{} turned NaN into {}",
            activation.name(),
            y.data()[0]
        );
    }
    assert!(x.clamp(-1.0, 1.0).value().data()[0].is_nan());
    assert!(Tensor::from([f32::NAN]).relu().data()[0].is_nan());
}
