//! Parameters: values that persist across training steps, outside any tape.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use descent_tensor::{Shape, Tensor};
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A trainable tensor and its gradient buffer.
///
/// `Param` is a cheap, shared handle (like a PyTorch `nn.Parameter`): the
/// model, the tape of the current step and the optimizer all hold the same
/// parameter. A forward pass puts it on a tape with [`crate::Tape::param`];
/// `backward` adds into its gradient; an optimizer reads the gradient and
/// updates the value in place (the tape shares the buffer only while it lives).
///
/// `Param` is `Send + Sync`: the value and the gradient each sit behind a
/// read-write lock (one uncontended atomic operation to take), so a model can
/// move to another thread, or serve forward passes from many threads at once.
///
/// ```
/// use descent_autograd::Param;
/// use descent_tensor::Tensor;
///
/// let w = Param::new(Tensor::from([1.0, 2.0]));
/// let shared = w.clone(); // the same parameter, not a copy
/// std::thread::spawn(move || shared.set_value(Tensor::from([3.0, 4.0])))
///     .join()
///     .unwrap();
/// assert_eq!(w.value().to_vec(), vec![3.0, 4.0]);
/// ```
#[derive(Clone)]
pub struct Param(Arc<Slot>);

struct Slot {
    value: RwLock<Tensor>,
    grad: RwLock<Option<Tensor>>,
    /// Counts writes to the value, as PyTorch's version counter: the tape
    /// refuses to back-propagate through an op whose parameter changed
    /// after the op was recorded.
    version: AtomicU32,
}

impl Param {
    /// A parameter with initial `value` and no gradient.
    pub fn new(value: Tensor) -> Param {
        Param(Arc::new(Slot {
            value: RwLock::new(value),
            grad: RwLock::new(None),
            version: AtomicU32::new(0),
        }))
    }

    /// The current value (shares the buffer, no copy).
    pub fn value(&self) -> Tensor {
        self.0.value.read().clone()
    }

    /// Mutable access to the value, for optimizers and checkpoint loading.
    /// Counts as a write to the parameter: a tape recorded before it can no
    /// longer back-propagate through this parameter.
    pub fn value_mut(&self) -> RwLockWriteGuard<'_, Tensor> {
        let guard = self.0.value.write();
        self.0.version.fetch_add(1, Ordering::Relaxed);
        guard
    }

    /// Replaces the value.
    ///
    /// # Panics
    /// If `value` has a different shape than the current value.
    pub fn set_value(&self, value: Tensor) {
        let mut current = self.value_mut();
        assert_eq!(
            current.shape(),
            value.shape(),
            "set_value: parameter has shape {:?}, new value has shape {:?}",
            current.shape(),
            value.shape()
        );
        *current = value;
    }

    /// How many times the value has been written (see [`Param::value_mut`]).
    pub fn version(&self) -> u32 {
        self.0.version.load(Ordering::Relaxed)
    }

    /// The accumulated gradient, or `None` before the first backward pass and
    /// after [`Param::zero_grad`].
    pub fn grad(&self) -> Option<Tensor> {
        self.0.grad.read().clone()
    }

    /// Borrows the gradient without cloning the handle.
    pub fn grad_ref(&self) -> RwLockReadGuard<'_, Option<Tensor>> {
        self.0.grad.read()
    }

    /// Mutable access to the gradient, for clipping.
    pub fn grad_mut(&self) -> RwLockWriteGuard<'_, Option<Tensor>> {
        self.0.grad.write()
    }

    /// Clears the gradient (PyTorch's `zero_grad(set_to_none=True)`).
    pub fn zero_grad(&self) {
        *self.0.grad.write() = None;
    }

    /// Adds `grad` into the gradient buffer; gradients from several backward
    /// passes sum until [`Param::zero_grad`].
    ///
    /// # Panics
    /// If `grad` has a different shape than the parameter.
    pub fn accumulate_grad(&self, grad: Tensor) {
        let shape = self.shape();
        assert_eq!(
            grad.shape(),
            shape,
            "accumulate_grad: gradient of shape {:?} for a parameter of shape {shape:?}",
            grad.shape()
        );
        let mut slot = self.0.grad.write();
        match slot.as_mut() {
            None => *slot = Some(grad),
            Some(existing) => existing.add_assign(&grad),
        }
    }

    /// The shape of the value.
    pub fn shape(&self) -> Shape {
        self.0.value.read().shape()
    }

    /// The number of scalar weights.
    pub fn numel(&self) -> usize {
        self.0.value.read().numel()
    }

    /// True when both handles refer to the same parameter.
    pub fn same_as(&self, other: &Param) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Param({:?})", self.0.value.read())
    }
}
