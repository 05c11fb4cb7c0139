//! Element-wise unary ops as value/derivative pairs. One generic [`Function`]
//! serves them all: the backward pass multiplies the incoming gradient by
//! `derivative(x, y)`, which may use the input `x` or the output `y`,
//! whichever is cheaper (exp, sigmoid, tanh and sqrt use `y`).
//! A new activation costs one small `impl UnaryOp`.

use descent_tensor::parallel::TRANSCENDENTAL_COST;
use descent_tensor::{Tensor, sigmoid};

use crate::tape::{Function, InputGrads, OpValues, Var};

/// An element-wise function and its derivative.
///
/// Implement it to add an activation of your own, then apply it with
/// [`Var::unary`]; `descent_autograd::gradcheck` verifies the derivative.
pub trait UnaryOp: Sync + 'static {
    /// A short name for error messages.
    fn name(&self) -> &'static str;
    /// The value of the function at `x`.
    fn value(&self, x: f32) -> f32;
    /// The derivative at input `x`, where `y` is the function's value there.
    fn derivative(&self, x: f32, y: f32) -> f32;

    /// The cost of one evaluation in cheap operations (an add is 1; exp,
    /// tanh and the like are `descent_tensor::parallel::TRANSCENDENTAL_COST`);
    /// it decides when the op is split across threads.
    fn cost(&self) -> usize {
        1
    }
}

struct Unary<U>(U);

impl<U: UnaryOp> Function for Unary<U> {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn backward(&self, values: &OpValues<'_>, grad: &Tensor, grads: &mut InputGrads<'_>) {
        let (x, y) = (values.input(0), values.output());
        let op = &self.0;
        grads.add(
            0,
            grad.zip3_map(op.name(), x, y, |g, x, y| g * op.derivative(x, y)),
        );
    }
}

impl<'t> Var<'t> {
    /// Applies an element-wise [`UnaryOp`].
    pub fn unary(self, op: impl UnaryOp) -> Var<'t> {
        let value = self.with_value(|x| x.map_weighted(op.cost(), |v| op.value(v)));
        self.tape.record(value, &[self], [], Unary(op))
    }

    /// `x + s` for a scalar `s`.
    pub fn add_scalar(self, s: f32) -> Var<'t> {
        self.unary(Affine {
            scale: 1.0,
            shift: s,
        })
    }
    /// `x * s` for a scalar `s`.
    pub fn mul_scalar(self, s: f32) -> Var<'t> {
        self.unary(Affine {
            scale: s,
            shift: 0.0,
        })
    }
    /// `s / x` for a scalar `s`.
    pub fn rdiv_scalar(self, s: f32) -> Var<'t> {
        self.unary(Reciprocal(s))
    }
    /// `e^x`.
    pub fn exp(self) -> Var<'t> {
        self.unary(Exp)
    }
    /// Natural logarithm.
    pub fn ln(self) -> Var<'t> {
        self.unary(Ln)
    }
    /// Natural logarithm, under PyTorch's name (the same op as [`Var::ln`]).
    pub fn log(self) -> Var<'t> {
        self.ln()
    }
    /// `ln(1 + x)`, accurate for `x` near 0.
    pub fn log1p(self) -> Var<'t> {
        self.unary(Log1p)
    }
    /// `e^x - 1`, accurate for `x` near 0.
    pub fn expm1(self) -> Var<'t> {
        self.unary(Expm1)
    }
    /// -1, 0 or 1 by the sign of `x` (NaN stays NaN); its gradient is 0,
    /// as in PyTorch.
    pub fn sign(self) -> Var<'t> {
        self.unary(Sign)
    }
    /// Square root.
    pub fn sqrt(self) -> Var<'t> {
        self.unary(Sqrt)
    }
    /// `|x|`; the derivative at 0 is 0, as in PyTorch.
    pub fn abs(self) -> Var<'t> {
        self.unary(Abs)
    }
    /// Hyperbolic tangent.
    pub fn tanh(self) -> Var<'t> {
        self.unary(Tanh)
    }
    /// Logistic sigmoid, stable for large `|x|`.
    pub fn sigmoid(self) -> Var<'t> {
        self.unary(Sigmoid)
    }
    /// `max(x, 0)`; the derivative at 0 is 0, as in PyTorch.
    pub fn relu(self) -> Var<'t> {
        self.unary(Relu)
    }
    /// `x` for positive `x`, else `slope * x`.
    pub fn leaky_relu(self, slope: f32) -> Var<'t> {
        self.unary(LeakyRelu(slope))
    }
    /// `x` for positive `x`, else `alpha * (e^x - 1)`.
    pub fn elu(self, alpha: f32) -> Var<'t> {
        self.unary(Elu(alpha))
    }
    /// GELU with the exact erf form, `x * Phi(x)`, as PyTorch's default.
    pub fn gelu(self) -> Var<'t> {
        self.unary(Gelu)
    }
    /// `ln(1 + e^x)`, computed without overflow.
    pub fn softplus(self) -> Var<'t> {
        self.unary(Softplus)
    }
    /// `x ^ p` for a scalar exponent.
    pub fn powf(self, p: f32) -> Var<'t> {
        self.unary(Powf(p))
    }
    /// `x * x`.
    pub fn square(self) -> Var<'t> {
        self.unary(Powf(2.0))
    }
    /// Limits values to `[min, max]` with `torch.clamp`'s semantics (NaN
    /// propagates; `min > max` gives `max`); the gradient flows only where
    /// `min <= x <= max`.
    pub fn clamp(self, min: f32, max: f32) -> Var<'t> {
        self.unary(Clamp { min, max })
    }
}

impl<'t> std::ops::Neg for Var<'t> {
    type Output = Var<'t>;
    fn neg(self) -> Var<'t> {
        self.unary(Affine {
            scale: -1.0,
            shift: 0.0,
        })
    }
}

struct Affine {
    scale: f32,
    shift: f32,
}
impl UnaryOp for Affine {
    fn name(&self) -> &'static str {
        "affine"
    }
    fn value(&self, x: f32) -> f32 {
        x * self.scale + self.shift
    }
    fn derivative(&self, _: f32, _: f32) -> f32 {
        self.scale
    }
}

struct Reciprocal(f32);
impl UnaryOp for Reciprocal {
    fn name(&self) -> &'static str {
        "rdiv_scalar"
    }
    fn value(&self, x: f32) -> f32 {
        self.0 / x
    }
    fn derivative(&self, x: f32, y: f32) -> f32 {
        -y / x
    }
}

struct Exp;
impl UnaryOp for Exp {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "exp"
    }
    fn value(&self, x: f32) -> f32 {
        x.exp()
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        y
    }
}

struct Ln;
impl UnaryOp for Ln {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "ln"
    }
    fn value(&self, x: f32) -> f32 {
        x.ln()
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        1.0 / x
    }
}

struct Log1p;
impl UnaryOp for Log1p {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "log1p"
    }
    fn value(&self, x: f32) -> f32 {
        x.ln_1p()
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        1.0 / (1.0 + x)
    }
}

struct Expm1;
impl UnaryOp for Expm1 {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "expm1"
    }
    fn value(&self, x: f32) -> f32 {
        x.exp_m1()
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        y + 1.0
    }
}

struct Sign;
impl UnaryOp for Sign {
    fn name(&self) -> &'static str {
        "sign"
    }
    fn value(&self, x: f32) -> f32 {
        descent_tensor::sign(x)
    }
    fn derivative(&self, _: f32, _: f32) -> f32 {
        0.0
    }
}

struct Sqrt;
impl UnaryOp for Sqrt {
    fn name(&self) -> &'static str {
        "sqrt"
    }
    fn value(&self, x: f32) -> f32 {
        x.sqrt()
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        0.5 / y
    }
}

struct Abs;
impl UnaryOp for Abs {
    fn name(&self) -> &'static str {
        "abs"
    }
    fn value(&self, x: f32) -> f32 {
        x.abs()
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x > 0.0 {
            1.0
        } else if x < 0.0 {
            -1.0
        } else {
            0.0
        }
    }
}

pub(crate) struct Tanh;
impl UnaryOp for Tanh {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "tanh"
    }
    fn value(&self, x: f32) -> f32 {
        x.tanh()
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        1.0 - y * y
    }
}

pub(crate) struct Sigmoid;
impl UnaryOp for Sigmoid {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "sigmoid"
    }
    fn value(&self, x: f32) -> f32 {
        sigmoid(x)
    }
    fn derivative(&self, _: f32, y: f32) -> f32 {
        y * (1.0 - y)
    }
}

pub(crate) struct Relu;
impl UnaryOp for Relu {
    fn name(&self) -> &'static str {
        "relu"
    }
    fn value(&self, x: f32) -> f32 {
        // NaN passes through, as in PyTorch: a NaN input must not turn
        // into a silently dead unit.
        if x > 0.0 || x.is_nan() { x } else { 0.0 }
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x > 0.0 { 1.0 } else { 0.0 }
    }
}

pub(crate) struct LeakyRelu(pub(crate) f32);
impl UnaryOp for LeakyRelu {
    fn name(&self) -> &'static str {
        "leaky_relu"
    }
    fn value(&self, x: f32) -> f32 {
        if x > 0.0 { x } else { self.0 * x }
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x > 0.0 { 1.0 } else { self.0 }
    }
}

pub(crate) struct Elu(pub(crate) f32);
impl UnaryOp for Elu {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "elu"
    }
    fn value(&self, x: f32) -> f32 {
        if x > 0.0 { x } else { self.0 * x.exp_m1() }
    }
    fn derivative(&self, x: f32, y: f32) -> f32 {
        if x > 0.0 { 1.0 } else { y + self.0 }
    }
}

pub(crate) struct Gelu;
impl UnaryOp for Gelu {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "gelu"
    }
    fn value(&self, x: f32) -> f32 {
        x * normal_cdf(x)
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        let density = (-0.5 * x * x).exp() / (2.0 * std::f32::consts::PI).sqrt();
        normal_cdf(x) + x * density
    }
}

/// The standard normal CDF, `0.5 * (1 + erf(x / sqrt 2))`.
fn normal_cdf(x: f32) -> f32 {
    0.5 * (1.0 + erf(x as f64 / std::f64::consts::SQRT_2) as f32)
}

/// The error function, from the Chebyshev fit of `erfc` in Numerical Recipes
/// (fractional error below 1.2e-7, ample for f32).
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let tau = t
        * (-x * x - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { 1.0 - tau } else { tau - 1.0 }
}

pub(crate) struct Softplus;
impl UnaryOp for Softplus {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "softplus"
    }
    fn value(&self, x: f32) -> f32 {
        x.max(0.0) + (-x.abs()).exp().ln_1p()
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        sigmoid(x)
    }
}

struct Powf(f32);
impl UnaryOp for Powf {
    fn cost(&self) -> usize {
        TRANSCENDENTAL_COST
    }
    fn name(&self) -> &'static str {
        "powf"
    }
    fn value(&self, x: f32) -> f32 {
        if self.0 == 2.0 { x * x } else { x.powf(self.0) }
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if self.0 == 2.0 {
            2.0 * x
        } else {
            self.0 * x.powf(self.0 - 1.0)
        }
    }
}

struct Clamp {
    min: f32,
    max: f32,
}
impl UnaryOp for Clamp {
    fn name(&self) -> &'static str {
        "clamp"
    }
    fn value(&self, x: f32) -> f32 {
        descent_tensor::clamp(x, self.min, self.max)
    }
    fn derivative(&self, x: f32, _: f32) -> f32 {
        if x >= self.min && x <= self.max {
            1.0
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_reference_values() {
        for (x, expected) in [
            (0.0, 0.0),
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (-2.0, -0.995_322_265),
        ] {
            assert!((erf(x) - expected).abs() < 2e-7, "erf({x}) = {}", erf(x));
        }
    }
}
