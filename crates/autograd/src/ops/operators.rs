//! The arithmetic operators on [`Var`]s beyond `Var op Var` (in
//! `binary.rs`): `&Var` on either side, a [`Tensor`] on either side (it
//! becomes a constant on the var's tape), and an `f32` on either side.
//!
//! ```
//! use descent_autograd::{Param, Tape};
//! use descent_tensor::Tensor;
//!
//! let w = Param::new(Tensor::from([1.0, 2.0]));
//! let target = Tensor::from([0.0, 4.0]);
//! let tape = Tape::new();
//! let x = tape.param(&w);
//! let loss = ((&x - &target) * (x - &target) / 2.0).sum(); // Var op Tensor
//! let shifted = 1.0 - &target + x; // f32 op Tensor, then Tensor op Var
//! loss.backward();
//! assert_eq!(w.grad().unwrap().to_vec(), vec![1.0, -2.0]);
//! assert_eq!(shifted.value().to_vec(), vec![2.0, -1.0]);
//! ```

use std::ops::{Add, Div, Mul, Neg, Sub};

use descent_tensor::Tensor;

use crate::tape::Var;

/// Every operator form of `$trait` but `Var op Var`, each delegating to
/// it; a tensor operand is put on the var's tape as a constant.
macro_rules! var_operator {
    ($trait:ident, $method:ident) => {
        impl<'t> $trait<&Var<'t>> for &Var<'t> {
            type Output = Var<'t>;
            /// As `Var op Var`.
            fn $method(self, rhs: &Var<'t>) -> Var<'t> {
                (*self).$method(*rhs)
            }
        }
        impl<'t> $trait<&Var<'t>> for Var<'t> {
            type Output = Var<'t>;
            /// As `Var op Var`.
            fn $method(self, rhs: &Var<'t>) -> Var<'t> {
                self.$method(*rhs)
            }
        }
        impl<'t> $trait<Var<'t>> for &Var<'t> {
            type Output = Var<'t>;
            /// As `Var op Var`.
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                (*self).$method(rhs)
            }
        }
        impl<'t> $trait<Tensor> for Var<'t> {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on this value's tape.
            fn $method(self, rhs: Tensor) -> Var<'t> {
                self.$method(self.tape.constant(rhs))
            }
        }
        impl<'t> $trait<&Tensor> for Var<'t> {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on this value's tape.
            fn $method(self, rhs: &Tensor) -> Var<'t> {
                self.$method(rhs.clone())
            }
        }
        impl<'t> $trait<Tensor> for &Var<'t> {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on this value's tape.
            fn $method(self, rhs: Tensor) -> Var<'t> {
                (*self).$method(rhs)
            }
        }
        impl<'t> $trait<&Tensor> for &Var<'t> {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on this value's tape.
            fn $method(self, rhs: &Tensor) -> Var<'t> {
                (*self).$method(rhs.clone())
            }
        }
        impl<'t> $trait<Var<'t>> for Tensor {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on the value's tape.
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                rhs.tape.constant(self).$method(rhs)
            }
        }
        impl<'t> $trait<Var<'t>> for &Tensor {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on the value's tape.
            fn $method(self, rhs: Var<'t>) -> Var<'t> {
                self.clone().$method(rhs)
            }
        }
        impl<'t> $trait<&Var<'t>> for Tensor {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on the value's tape.
            fn $method(self, rhs: &Var<'t>) -> Var<'t> {
                self.$method(*rhs)
            }
        }
        impl<'t> $trait<&Var<'t>> for &Tensor {
            type Output = Var<'t>;
            /// The op with the tensor as a constant on the value's tape.
            fn $method(self, rhs: &Var<'t>) -> Var<'t> {
                self.clone().$method(*rhs)
            }
        }
        impl<'t> $trait<f32> for &Var<'t> {
            type Output = Var<'t>;
            /// As `Var op f32`.
            fn $method(self, rhs: f32) -> Var<'t> {
                (*self).$method(rhs)
            }
        }
        impl<'t> $trait<&Var<'t>> for f32 {
            type Output = Var<'t>;
            /// As `f32 op Var`.
            fn $method(self, rhs: &Var<'t>) -> Var<'t> {
                self.$method(*rhs)
            }
        }
    };
}

var_operator!(Add, add);
var_operator!(Sub, sub);
var_operator!(Mul, mul);
var_operator!(Div, div);

impl<'t> Add<f32> for Var<'t> {
    type Output = Var<'t>;
    /// `x + s` element-wise.
    fn add(self, rhs: f32) -> Var<'t> {
        self.add_scalar(rhs)
    }
}

impl<'t> Sub<f32> for Var<'t> {
    type Output = Var<'t>;
    /// `x - s` element-wise.
    fn sub(self, rhs: f32) -> Var<'t> {
        self.add_scalar(-rhs)
    }
}

impl<'t> Mul<f32> for Var<'t> {
    type Output = Var<'t>;
    /// `x * s` element-wise.
    fn mul(self, rhs: f32) -> Var<'t> {
        self.mul_scalar(rhs)
    }
}

impl<'t> Div<f32> for Var<'t> {
    type Output = Var<'t>;
    /// `x / s` element-wise.
    fn div(self, rhs: f32) -> Var<'t> {
        self.mul_scalar(1.0 / rhs)
    }
}

impl<'t> Add<Var<'t>> for f32 {
    type Output = Var<'t>;
    /// `s + x` element-wise.
    fn add(self, rhs: Var<'t>) -> Var<'t> {
        rhs.add_scalar(self)
    }
}

impl<'t> Sub<Var<'t>> for f32 {
    type Output = Var<'t>;
    /// `s - x` element-wise.
    fn sub(self, rhs: Var<'t>) -> Var<'t> {
        (-rhs).add_scalar(self)
    }
}

impl<'t> Mul<Var<'t>> for f32 {
    type Output = Var<'t>;
    /// `s * x` element-wise.
    fn mul(self, rhs: Var<'t>) -> Var<'t> {
        rhs.mul_scalar(self)
    }
}

impl<'t> Div<Var<'t>> for f32 {
    type Output = Var<'t>;
    /// `s / x` element-wise.
    fn div(self, rhs: Var<'t>) -> Var<'t> {
        rhs.rdiv_scalar(self)
    }
}

impl<'t> Neg for &Var<'t> {
    type Output = Var<'t>;
    /// Element-wise negation.
    fn neg(self) -> Var<'t> {
        -*self
    }
}
