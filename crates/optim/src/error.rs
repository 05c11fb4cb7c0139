//! Why an optimizer or a schedule refuses its options or its parameters.

/// Why an optimizer or a schedule refuses its options or its parameters.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum OptimError {
    /// An option lies outside its range, is not finite, or does not fit an
    /// `f32` (the type the updates compute in).
    #[error("invalid {option}: {} (must be {expected})", shown(*.value))]
    InvalidOption {
        /// The option, as its field is named.
        option: &'static str,
        /// The value given.
        value: f64,
        /// The values allowed.
        expected: &'static str,
    },
    /// The same parameter was handed to the optimizer twice.
    #[error("parameter {0:?} is given to the optimizer more than once")]
    DuplicateParameter(String),
    /// Two parameters share a name, so their saved state would collide.
    #[error("two parameters are named {0:?}")]
    DuplicateName(String),
    /// A schedule cycles momentum but a group's rule has none to cycle.
    #[error(
        "the schedule cycles momentum, but the rule of group {group} has neither momentum nor beta1 (turn cycle_momentum off)"
    )]
    NoMomentum {
        /// The group whose rule has no momentum.
        group: usize,
    },
}

/// A number as messages show it: whole numbers plainly, others in Rust's
/// shortest form (`1e-8`, `1e300`, `NaN`).
pub(crate) fn shown(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value}")
    } else {
        format!("{value:?}")
    }
}
