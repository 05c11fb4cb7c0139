//! Values with a zero in their shape run forward and backward through every
//! kind of op without a kernel tripping over rows of length 0.

use descent_autograd::{Param, Tape};
use descent_tensor::{IndexTensor, Tensor};

#[test]
fn empty_batches_run_forward_and_backward() {
    let w = Param::new(Tensor::ones([3, 4]));
    let b = Param::new(Tensor::ones([4]));
    let tape = Tape::new();
    let x = tape.constant(Tensor::zeros([0, 3]));
    let h = (x.matmul(tape.param(&w)) + tape.param(&b)).tanh();
    assert_eq!(h.shape().dims(), &[0, 4]);
    let losses = h.softmax_cross_entropy(&[]);
    assert_eq!(losses.shape().dims(), &[0]);
    let total = losses.sum() + h.log_softmax(1).sum() + h.sum_axis(0, false).sum();
    assert_eq!(total.item(), 0.0);
    total.backward();
    assert_eq!(w.grad().unwrap(), Tensor::zeros([3, 4]));
    assert_eq!(b.grad().unwrap(), Tensor::zeros([4]));
}

#[test]
fn zero_width_values_run_forward_and_backward() {
    let w = Param::new(Tensor::ones([2, 0]));
    let tape = Tape::new();
    let x = tape.param(&w);
    let y = (x * 2.0 + tape.constant(Tensor::zeros([1, 0]))).exp();
    let picked = y
        .index_select(0, &[1, 1])
        .gather(1, &IndexTensor::from_vec(vec![], [2, 0]))
        .slice(1, ..)
        .reshape([2, 0]);
    let total = picked.sum() + y.sum_axis(1, false).sum_axis(0, false);
    total.backward();
    assert_eq!(w.grad().unwrap().dims(), &[2, 0]);
}
