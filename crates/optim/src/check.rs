//! Range checks for options, each naming the option and the value it got.
//! Updates compute in `f32`, so a value that overflows an `f32` (`1e300`)
//! is as invalid as an infinite one.

use crate::error::OptimError;

/// `valid`, and the value finite as an `f32`; `expected` says what is allowed.
pub(crate) fn holds(
    option: &'static str,
    value: f64,
    valid: bool,
    expected: &'static str,
) -> Result<(), OptimError> {
    if valid && (value as f32).is_finite() {
        Ok(())
    } else {
        Err(OptimError::InvalidOption {
            option,
            value,
            expected,
        })
    }
}

/// Finite and `>= 0`: learning rates, weight decays, `eps`.
pub(crate) fn non_negative(option: &'static str, value: f64) -> Result<(), OptimError> {
    holds(option, value, value >= 0.0, "finite and >= 0")
}

/// Finite and `> 0`.
pub(crate) fn positive(option: &'static str, value: f64) -> Result<(), OptimError> {
    holds(option, value, value > 0.0, "finite and > 0")
}

/// In `[0, 1)`: decay rates of running averages (Adam's betas).
pub(crate) fn fraction(option: &'static str, value: f64) -> Result<(), OptimError> {
    holds(option, value, (0.0..1.0).contains(&value), "in [0, 1)")
}

/// In `[0, 1]`: smoothing constants that may freeze an average (RMSprop's
/// alpha, Adadelta's rho).
pub(crate) fn unit_interval(option: &'static str, value: f64) -> Result<(), OptimError> {
    holds(option, value, (0.0..=1.0).contains(&value), "in [0, 1]")
}

/// A count or length of at least one step.
pub(crate) fn at_least_one(option: &'static str, value: usize) -> Result<(), OptimError> {
    holds(option, value as f64, value >= 1, ">= 1")
}

/// The learning rate of a group, as every rule and schedule has one.
pub(crate) fn lr(value: f64) -> Result<(), OptimError> {
    non_negative("lr", value)
}

/// Any value of a flag.
pub(crate) fn flag(_: &'static str, _: bool) -> Result<(), OptimError> {
    Ok(())
}

/// Adam's `betas`, each in `[0, 1)`.
pub(crate) fn betas(_: &'static str, (beta1, beta2): (f64, f64)) -> Result<(), OptimError> {
    fraction("beta1", beta1)?;
    fraction("beta2", beta2)
}
