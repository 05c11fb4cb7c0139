//! Parameters: values that persist across training steps, outside any tape.

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::rc::Rc;

use descent_tensor::Tensor;

/// A trainable tensor and its gradient buffer.
///
/// `Param` is a cheap, shared handle (like a PyTorch `nn.Parameter`): the
/// model, the tape of the current step and the optimizer all hold the same
/// parameter. A forward pass puts it on a tape with [`crate::Tape::param`];
/// `backward` adds into its gradient; an optimizer reads the gradient and
/// updates the value in place (the tape shares the buffer only while it lives).
#[derive(Clone)]
pub struct Param(Rc<Slot>);

struct Slot {
    value: RefCell<Tensor>,
    grad: RefCell<Option<Tensor>>,
}

impl Param {
    /// A parameter with initial `value` and no gradient.
    pub fn new(value: Tensor) -> Param {
        Param(Rc::new(Slot {
            value: RefCell::new(value),
            grad: RefCell::new(None),
        }))
    }

    /// The current value (shares the buffer, no copy).
    pub fn value(&self) -> Tensor {
        self.0.value.borrow().clone()
    }

    /// Mutable access to the value, for optimizers and checkpoint loading.
    ///
    /// # Panics
    /// If the value is already borrowed.
    pub fn value_mut(&self) -> RefMut<'_, Tensor> {
        self.0.value.borrow_mut()
    }

    /// Replaces the value.
    ///
    /// # Panics
    /// If `value` has a different shape than the current value.
    pub fn set_value(&self, value: Tensor) {
        let mut current = self.0.value.borrow_mut();
        assert_eq!(
            current.shape(),
            value.shape(),
            "set_value: parameter has shape {:?}, new value has shape {:?}",
            current.shape(),
            value.shape()
        );
        *current = value;
    }

    /// The accumulated gradient, or `None` before the first backward pass and
    /// after [`Param::zero_grad`].
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.borrow().clone()
    }

    /// Borrows the gradient without cloning the handle.
    pub fn grad_ref(&self) -> Ref<'_, Option<Tensor>> {
        self.0.grad.borrow()
    }

    /// Mutable access to the gradient, for clipping.
    pub fn grad_mut(&self) -> RefMut<'_, Option<Tensor>> {
        self.0.grad.borrow_mut()
    }

    /// Clears the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        *self.0.grad.borrow_mut() = None;
    }

    /// Adds `grad` into the gradient buffer; gradients from several backward
    /// passes sum until [`Param::zero_grad`].
    pub fn accumulate_grad(&self, grad: Tensor) {
        let mut slot = self.0.grad.borrow_mut();
        match slot.as_mut() {
            None => *slot = Some(grad),
            Some(existing) => existing.add_assign(&grad),
        }
    }

    /// The shape of the value.
    pub fn shape(&self) -> descent_tensor::Shape {
        self.0.value.borrow().shape()
    }

    /// The number of scalar weights.
    pub fn numel(&self) -> usize {
        self.0.value.borrow().numel()
    }

    /// True when both handles refer to the same parameter.
    pub fn same_as(&self, other: &Param) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Param({:?})", self.0.value.borrow())
    }
}
