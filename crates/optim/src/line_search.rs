//! The strong-Wolfe line search of PyTorch's L-BFGS (ported there from
//! Torch's `lswolfe.lua`, itself after minFunc), with its cubic
//! interpolation: bracket a step satisfying the strong Wolfe conditions,
//! then zoom into the bracket.

/// Sufficient decrease: `f(t) <= f(0) + C1 t f'(0)`.
const C1: f64 = 1e-4;
/// Curvature: `|f'(t)| <= -C2 f'(0)`.
const C2: f64 = 0.9;
/// Trials after the first that one search may spend.
const MAX_ITERATIONS: usize = 25;

/// A trial step: its length, the loss there, the gradient there and the
/// derivative along the search direction.
#[derive(Clone)]
pub(crate) struct Trial {
    pub t: f64,
    pub loss: f64,
    pub grad: Vec<f64>,
    pub slope: f64,
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

pub(crate) fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The minimizer of the cubic through `(x1, f1)` and `(x2, f2)` with slopes
/// `g1` and `g2`, clamped to `bounds` (by default the interval between the
/// points); their midpoint when the cubic has no minimum.
pub(crate) fn cubic_interpolate(
    (x1, f1, g1): (f64, f64, f64),
    (x2, f2, g2): (f64, f64, f64),
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (low, high) = bounds.unwrap_or(if x1 <= x2 { (x1, x2) } else { (x2, x1) });
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square < 0.0 {
        return (low + high) / 2.0;
    }
    let d2 = d2_square.sqrt();
    let min_pos = if x1 <= x2 {
        x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
    } else {
        x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
    };
    min_pos.max(low).min(high)
}

/// Searches along `direction` from the point `start` (step 0) with first
/// trial step `t`; `evaluate(t)` returns the loss and gradient at step `t`.
/// Returns the accepted trial and the number of evaluations spent.
pub(crate) fn strong_wolfe(
    mut evaluate: impl FnMut(f64) -> (f64, Vec<f64>),
    direction: &[f64],
    start: Trial,
    t: f64,
    tolerance_change: f64,
) -> (Trial, usize) {
    let direction_size = max_abs(direction);
    let (f0, slope0) = (start.loss, start.slope);
    let mut trial_at = |t: f64| {
        let (loss, grad) = evaluate(t);
        let slope = dot(&grad, direction);
        Trial {
            t,
            loss,
            grad,
            slope,
        }
    };
    let mut new = trial_at(t);
    let mut iterations = 0;
    let mut previous = start.clone();
    let mut done = false;
    // Bracketing: grow the step until an interval holds an acceptable one.
    let mut bracket = loop {
        if iterations == MAX_ITERATIONS {
            break vec![start, new];
        }
        if new.loss > f0 + C1 * new.t * slope0 || (iterations > 1 && new.loss >= previous.loss) {
            break vec![previous, new];
        }
        if new.slope.abs() <= -C2 * slope0 {
            done = true;
            break vec![new];
        }
        if new.slope >= 0.0 {
            break vec![previous, new];
        }
        let (min_step, max_step) = (new.t + 0.01 * (new.t - previous.t), new.t * 10.0);
        let t = cubic_interpolate(
            (previous.t, previous.loss, previous.slope),
            (new.t, new.loss, new.slope),
            Some((min_step, max_step)),
        );
        previous = std::mem::replace(&mut new, trial_at(t));
        iterations += 1;
    };
    // Zooming: shrink the bracket around an acceptable step.
    let mut insufficient_progress = false;
    let (mut low, mut high) = ends_by_loss(&bracket);
    while !done && iterations < MAX_ITERATIONS {
        let (a, b) = (&bracket[0], &bracket[1]);
        if (b.t - a.t).abs() * direction_size < tolerance_change {
            break;
        }
        let mut t = cubic_interpolate((a.t, a.loss, a.slope), (b.t, b.loss, b.slope), None);
        let (lo, hi) = (a.t.min(b.t), a.t.max(b.t));
        // Keep trials a tenth of the bracket away from its ends, unless the
        // last trial made progress.
        let margin = 0.1 * (hi - lo);
        if (hi - t).min(t - lo) < margin {
            if insufficient_progress || t >= hi || t <= lo {
                t = if (t - hi).abs() < (t - lo).abs() {
                    hi - margin
                } else {
                    lo + margin
                };
                insufficient_progress = false;
            } else {
                insufficient_progress = true;
            }
        } else {
            insufficient_progress = false;
        }
        let new = trial_at(t);
        iterations += 1;
        if new.loss > f0 + C1 * new.t * slope0 || new.loss >= bracket[low].loss {
            bracket[high] = new;
            (low, high) = ends_by_loss(&bracket);
        } else {
            if new.slope.abs() <= -C2 * slope0 {
                done = true;
            } else if new.slope * (bracket[high].t - bracket[low].t) >= 0.0 {
                bracket[high] = bracket[low].clone();
            }
            bracket[low] = new;
        }
    }
    (bracket.swap_remove(low), iterations + 1)
}

/// The indices of the bracket's lower and higher ends by loss.
fn ends_by_loss(bracket: &[Trial]) -> (usize, usize) {
    if bracket[0].loss <= bracket[bracket.len() - 1].loss {
        (0, 1)
    } else {
        (1, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cubic_interpolation_finds_a_cubics_minimum() {
        // f(x) = x^3 - 3x, f'(x) = 3x^2 - 3: the local minimum is at 1.
        let f = |x: f64| (x * x * x - 3.0 * x, 3.0 * x * x - 3.0);
        let ((f0, g0), (f2, g2)) = (f(0.0), f(2.0));
        let t = cubic_interpolate((0.0, f0, g0), (2.0, f2, g2), None);
        assert!((t - 1.0).abs() < 1e-12, "{t}");
        // In either order, and clamped to bounds.
        let t = cubic_interpolate((2.0, f2, g2), (0.0, f0, g0), None);
        assert!((t - 1.0).abs() < 1e-12, "{t}");
        assert_eq!(
            cubic_interpolate((0.0, f0, g0), (2.0, f2, g2), Some((1.5, 3.0))),
            1.5
        );
        // Without a real minimizer (d1^2 < g1 g2): the middle of the bounds.
        assert_eq!(
            cubic_interpolate((0.0, 0.0, 1.0), (1.0, 0.9, 1.0), None),
            0.5
        );
    }

    #[test]
    fn the_accepted_step_satisfies_the_strong_wolfe_conditions() {
        // Along d = 1 from 0: f(t) = (t - 3)^2 + sin(2t), f(0) = 9, f'(0) = -6 + 2.
        let f = |t: f64| {
            (
                (t - 3.0).powi(2) + (2.0 * t).sin(),
                2.0 * (t - 3.0) + 2.0 * (2.0 * t).cos(),
            )
        };
        for first_trial in [0.1, 1.0, 10.0] {
            let (f0, g0) = f(0.0);
            let start = Trial {
                t: 0.0,
                loss: f0,
                grad: vec![g0],
                slope: g0,
            };
            let (accepted, evals) = strong_wolfe(
                |t| {
                    let (loss, grad) = f(t);
                    (loss, vec![grad])
                },
                &[1.0],
                start,
                first_trial,
                1e-9,
            );
            let t = accepted.t;
            assert!(
                accepted.loss <= f0 + C1 * t * g0,
                "sufficient decrease at {t}"
            );
            assert!(accepted.slope.abs() <= -C2 * g0, "curvature at {t}");
            assert_eq!(accepted.loss, f(t).0);
            assert!(evals <= MAX_ITERATIONS + 1);
        }
    }
}
