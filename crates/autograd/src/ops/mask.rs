//! Ops steered by a boolean [`Mask`]: `where_` and `masked_fill`, whose
//! gradients flow only through the entries each one took; plus the
//! comparisons that make masks from values, which carry no gradient.

use descent_tensor::{Mask, Tensor};

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> Var<'t> {
    /// `a` where `mask` is true, else `b`, broadcasting all three (PyTorch's
    /// `torch.where(condition, input, other)`); each input's gradient is
    /// the incoming one where it was taken, 0 elsewhere.
    ///
    /// ```
    /// use descent_autograd::{Param, Tape, Var};
    /// use descent_tensor::Tensor;
    ///
    /// let w = Param::new(Tensor::from([-2.0, 3.0]));
    /// let tape = Tape::new();
    /// let x = tape.param(&w);
    /// let leaky = Var::where_(&x.gt(0.0), x, x * 0.1);
    /// assert_eq!(leaky.value().to_vec(), vec![-0.2, 3.0]);
    /// leaky.sum().backward();
    /// assert_eq!(w.grad().unwrap().to_vec(), vec![0.1, 1.0]);
    /// ```
    ///
    /// # Panics
    /// If the shapes cannot be broadcast together, or `a` and `b` belong
    /// to different tapes.
    pub fn where_(mask: &Mask, a: Var<'t>, b: Var<'t>) -> Var<'t> {
        let value = a.with_values(b, |x, y| Tensor::where_(mask, x, y));
        a.tape.record(value, &[a, b], [], Where(mask.clone()))
    }

    /// This value with `value` wherever `mask` is true (PyTorch's
    /// `masked_fill`); no gradient flows to the filled entries.
    ///
    /// # Panics
    /// If the mask does not broadcast to this value's shape.
    pub fn masked_fill(self, mask: &Mask, value: f32) -> Var<'t> {
        let out = self.with_value(|x| x.masked_fill(mask, value));
        self.tape.record(out, &[self], [], MaskedFill(mask.clone()))
    }
}

macro_rules! comparison {
    ($($name:ident),*) => {
        impl<'t> Var<'t> {$(
            /// The comparison of [`Tensor`]'s method of this name on the
            /// value: a [`Mask`], which carries no gradient.
            ///
            /// # Panics
            /// If the shapes cannot be broadcast.
            pub fn $name(self, other: impl Into<Tensor>) -> Mask {
                self.with_value(|x| x.$name(other))
            }
        )*}
    };
}

comparison!(gt, ge, lt, le, eq, ne);

/// Inputs: the two branches; the mask chose between them.
struct Where(Mask);

impl Function for Where {
    fn name(&self) -> &'static str {
        "where_"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        if grads.wanted(0) {
            grads.add(0, Tensor::where_(&self.0, grad, 0.0));
        }
        if grads.wanted(1) {
            grads.add(1, Tensor::where_(&self.0, 0.0, grad));
        }
    }
}

/// Input: the value filled; the mask marks the entries replaced.
struct MaskedFill(Mask);

impl Function for MaskedFill {
    fn name(&self) -> &'static str {
        "masked_fill"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.masked_fill(&self.0, 0.0));
    }
}
