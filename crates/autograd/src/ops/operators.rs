//! `+ - * /` between [`Var`]s and `f32` scalars, on either side.

use std::ops::{Add, Div, Mul, Sub};

use crate::tape::Var;

impl<'t> Add<f32> for Var<'t> {
    type Output = Var<'t>;
    fn add(self, rhs: f32) -> Var<'t> {
        self.add_scalar(rhs)
    }
}

impl<'t> Sub<f32> for Var<'t> {
    type Output = Var<'t>;
    fn sub(self, rhs: f32) -> Var<'t> {
        self.add_scalar(-rhs)
    }
}

impl<'t> Mul<f32> for Var<'t> {
    type Output = Var<'t>;
    fn mul(self, rhs: f32) -> Var<'t> {
        self.mul_scalar(rhs)
    }
}

impl<'t> Div<f32> for Var<'t> {
    type Output = Var<'t>;
    fn div(self, rhs: f32) -> Var<'t> {
        self.mul_scalar(1.0 / rhs)
    }
}

impl<'t> Add<Var<'t>> for f32 {
    type Output = Var<'t>;
    fn add(self, rhs: Var<'t>) -> Var<'t> {
        rhs.add_scalar(self)
    }
}

impl<'t> Sub<Var<'t>> for f32 {
    type Output = Var<'t>;
    fn sub(self, rhs: Var<'t>) -> Var<'t> {
        (-rhs).add_scalar(self)
    }
}

impl<'t> Mul<Var<'t>> for f32 {
    type Output = Var<'t>;
    fn mul(self, rhs: Var<'t>) -> Var<'t> {
        rhs.mul_scalar(self)
    }
}

impl<'t> Div<Var<'t>> for f32 {
    type Output = Var<'t>;
    fn div(self, rhs: Var<'t>) -> Var<'t> {
        rhs.rdiv_scalar(self)
    }
}
