//! Element-wise binary ops with broadcasting (`+ - * /` are the `std::ops`
//! operators). Each rule returns the gradient
//! at the broadcast output shape; [`crate::InputGrads::add`] sums it back to
//! each input's shape.

use std::ops;

use descent_tensor::Tensor;

use crate::tape::{Function, InputGrads, OpValues, Var};

impl<'t> ops::Add for Var<'t> {
    type Output = Var<'t>;
    /// `self + other` with broadcasting; panics naming both shapes if they
    /// cannot be broadcast.
    fn add(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::add),
            &[self, other],
            [],
            Add,
        )
    }
}

impl<'t> ops::Sub for Var<'t> {
    type Output = Var<'t>;
    /// `self - other` with broadcasting.
    fn sub(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::sub),
            &[self, other],
            [],
            Sub,
        )
    }
}

impl<'t> ops::Mul for Var<'t> {
    type Output = Var<'t>;
    /// `self * other` element-wise, with broadcasting.
    fn mul(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::mul),
            &[self, other],
            [],
            Mul,
        )
    }
}

impl<'t> ops::Div for Var<'t> {
    type Output = Var<'t>;
    /// `self / other` element-wise, with broadcasting.
    fn div(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::div),
            &[self, other],
            [],
            Div,
        )
    }
}

impl<'t> Var<'t> {
    /// `self ^ other` element-wise, with broadcasting. The gradient with respect
    /// to the exponent uses `ln(self)`, so keep `self` positive where it matters.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn pow(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::pow),
            &[self, other],
            [],
            Pow,
        )
    }

    /// Element-wise maximum, with broadcasting; ties split the gradient evenly.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn maximum(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::maximum),
            &[self, other],
            [],
            Extremum("maximum"),
        )
    }

    /// Element-wise minimum, with broadcasting; ties split the gradient evenly.
    ///
    /// # Panics
    /// If the shapes cannot be broadcast.
    pub fn minimum(self, other: Var<'t>) -> Var<'t> {
        self.tape.record(
            self.with_values(other, Tensor::minimum),
            &[self, other],
            [],
            Extremum("minimum"),
        )
    }
}

struct Add;

impl Function for Add {
    fn name(&self) -> &'static str {
        "add"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.clone());
        grads.add(1, grad.clone());
    }
}

struct Sub;

impl Function for Sub {
    fn name(&self) -> &'static str {
        "sub"
    }
    fn backward(&self, _: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        grads.add(0, grad.clone());
        if grads.wanted(1) {
            grads.add(1, grad.neg());
        }
    }
}

struct Mul;

impl Function for Mul {
    fn name(&self) -> &'static str {
        "mul"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        if grads.wanted(0) {
            grads.add(0, grad.mul(values.input(1)));
        }
        if grads.wanted(1) {
            grads.add(1, grad.mul(values.input(0)));
        }
    }
}

struct Div;

impl Function for Div {
    fn name(&self) -> &'static str {
        "div"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let b = values.input(1);
        if grads.wanted(0) {
            grads.add(0, grad.div(b));
        }
        if grads.wanted(1) {
            // d(a/b)/db = -(a/b)/b = -out/b
            let out_over_b = values.output().div(b);
            grads.add(1, grad.mul(&out_over_b).neg());
        }
    }
}

struct Pow;

impl Function for Pow {
    fn name(&self) -> &'static str {
        "pow"
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (base, exponent, out) = (values.input(0), values.input(1), values.output());
        if grads.wanted(0) {
            let d = exponent.mul(&base.pow(&exponent.sub_scalar(1.0)));
            grads.add(0, grad.mul(&d));
        }
        if grads.wanted(1) {
            grads.add(1, grad.mul(&out.mul(&base.ln())));
        }
    }
}

/// Maximum or minimum: the gradient goes to whichever input the output came
/// from, split evenly between the two on a tie.
struct Extremum(&'static str);

impl Function for Extremum {
    fn name(&self) -> &'static str {
        self.0
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (a, b, out) = (values.input(0), values.input(1), values.output());
        let (a_hits, b_hits) = (a.eq(out).float(), b.eq(out).float());
        let ties = a_hits.add(&b_hits).maximum_scalar(1.0);
        if grads.wanted(0) {
            grads.add(0, a_hits.div(&ties).mul(grad));
        }
        if grads.wanted(1) {
            grads.add(1, b_hits.div(&ties).mul(grad));
        }
    }
}
