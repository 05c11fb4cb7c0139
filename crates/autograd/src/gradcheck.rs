//! Gradient checking against central finite differences: the test every op
//! (yours included) should pass.

use std::fmt;

use descent_tensor::{Tensor, seeded_rng};

use crate::param::Param;
use crate::tape::{Tape, Var};

/// Step size and tolerances for [`gradcheck_with`].
#[derive(Clone, Copy, Debug)]
pub struct GradcheckConfig {
    /// The finite-difference step. f32 arithmetic favours a larger step than
    /// f64 would: 1e-2 balances truncation against rounding error.
    pub eps: f32,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance, scaled by the numeric derivative's magnitude.
    pub rtol: f64,
    /// Seed of the random projection that turns a tensor output into a scalar.
    pub seed: u64,
}

impl Default for GradcheckConfig {
    fn default() -> GradcheckConfig {
        GradcheckConfig {
            eps: 1e-2,
            atol: 1e-3,
            rtol: 1e-2,
            seed: 0,
        }
    }
}

/// The first element whose analytic and numeric derivatives disagree.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// Which input.
    pub input: usize,
    /// The flat index of the element within that input.
    pub index: usize,
    /// The derivative from `backward`.
    pub analytic: f64,
    /// The derivative from central differences.
    pub numeric: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "gradient of input {} at element {}: backward gives {:.6e}, finite differences give {:.6e}",
            self.input, self.index, self.analytic, self.numeric
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the gradients `backward` computes for `f` at `inputs` against
/// central finite differences, with the default [`GradcheckConfig`].
///
/// `f` maps values on a tape to a result of any shape; the check projects the
/// result onto fixed random weights, so every output element is tested.
///
/// ```
/// use descent_autograd::gradcheck;
/// use descent_tensor::Tensor;
///
/// let x = Tensor::from([[0.5, -1.0], [2.0, 0.25]]);
/// gradcheck(&[x], |v| (v[0] * v[0]).tanh()).unwrap();
/// ```
pub fn gradcheck<F>(inputs: &[Tensor], f: F) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&[Var<'t>]) -> Var<'t>,
{
    gradcheck_with(GradcheckConfig::default(), inputs, f)
}

/// [`gradcheck`] with an explicit step size and tolerances.
pub fn gradcheck_with<F>(
    config: GradcheckConfig,
    inputs: &[Tensor],
    f: F,
) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&[Var<'t>]) -> Var<'t>,
{
    let params: Vec<Param> = inputs.iter().cloned().map(Param::new).collect();
    gradcheck_params(config, &params, |tape| {
        let vars: Vec<Var<'_>> = params.iter().map(|p| tape.param(p)).collect();
        f(&vars)
    })
}

/// Checks the gradients of `params` for a computation that `forward` builds on
/// the tape it is given (reading the parameters with [`Tape::param`]): the
/// general form behind [`gradcheck`], used to check whole layers. Parameter
/// values are restored afterwards; their gradients are left cleared.
pub fn gradcheck_params<F>(
    config: GradcheckConfig,
    params: &[Param],
    forward: F,
) -> Result<(), GradcheckError>
where
    F: for<'t> Fn(&'t Tape) -> Var<'t>,
{
    let evaluate = || -> Tensor {
        let tape = Tape::no_grad();
        forward(&tape).value()
    };
    let output = evaluate();
    let weights = Tensor::randn(output.shape(), &mut seeded_rng(config.seed));
    let project = |out: &Tensor| -> f64 {
        out.data()
            .iter()
            .zip(weights.data())
            .map(|(&o, &w)| o as f64 * w as f64)
            .sum()
    };

    for p in params {
        p.zero_grad();
    }
    {
        let tape = Tape::new();
        let projected = (forward(&tape) * tape.constant(weights.clone())).sum();
        projected.backward();
    }

    for (input, param) in params.iter().enumerate() {
        let original = param.value();
        let analytic = param.grad().unwrap_or_else(|| original.zeros_like());
        param.zero_grad();
        let at = |index: usize, x: f32| {
            let mut shifted = original.clone();
            shifted.data_mut()[index] = x;
            param.set_value(shifted);
            project(&evaluate())
        };
        for index in 0..original.numel() {
            let x = original.data()[index];
            let (up, down) = (x + config.eps, x - config.eps);
            let numeric = (at(index, up) - at(index, down)) / (up as f64 - down as f64);
            let got = analytic.data()[index] as f64;
            let within = (got - numeric).abs() <= config.atol + config.rtol * numeric.abs();
            if !within {
                param.set_value(original);
                return Err(GradcheckError {
                    input,
                    index,
                    analytic: got,
                    numeric,
                });
            }
        }
        param.set_value(original);
    }
    Ok(())
}
