//! L-BFGS, PyTorch's `torch.optim.LBFGS`: a quasi-Newton method that builds
//! an inverse-Hessian estimate from the last `history_size` steps and
//! gradient changes. It evaluates the loss several times per step, so its
//! step takes a closure; it suits full-batch problems (linear and logistic
//! regression: scikit-learn's `LogisticRegression` uses it) rather than
//! mini-batches. The direction and history are kept in f64.

use std::collections::VecDeque;

use descent_autograd::Param;

use crate::builder::builder_methods;
use crate::check;
use crate::error::OptimError;
use crate::line_search::{Trial, dot, max_abs, strong_wolfe};

/// How L-BFGS chooses the step length along its direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LineSearch {
    /// A fixed step of `lr` (after a first step scaled down by the
    /// gradient's size), PyTorch's `line_search_fn=None`.
    None,
    /// A step satisfying the strong Wolfe conditions, found by cubic
    /// interpolation (`line_search_fn="strong_wolfe"`).
    StrongWolfe,
}

/// L-BFGS options. `Lbfgs::new(lr)` and `Lbfgs::default()` (lr 1) give
/// PyTorch's defaults: max_iter 20, max_eval max_iter * 5 / 4,
/// tolerance_grad 1e-7, tolerance_change 1e-9, history_size 100, no line
/// search.
#[derive(Clone, Debug, PartialEq)]
pub struct Lbfgs {
    lr: f64,
    /// Iterations per [`LbfgsOptim::step`].
    pub max_iter: usize,
    /// Loss evaluations per step; `None` for `max_iter * 5 / 4`.
    pub max_eval: Option<usize>,
    /// A step stops once every gradient element is this small.
    pub tolerance_grad: f64,
    /// A step stops once the loss or the parameters change less than this.
    pub tolerance_change: f64,
    /// Step and gradient-change pairs remembered.
    pub history_size: usize,
    /// How the step length is chosen.
    pub line_search: LineSearch,
}

impl Lbfgs {
    /// L-BFGS with learning rate `lr` and PyTorch's other defaults.
    pub fn new(lr: f64) -> Lbfgs {
        Lbfgs {
            lr,
            max_iter: 20,
            max_eval: None,
            tolerance_grad: 1e-7,
            tolerance_change: 1e-9,
            history_size: 100,
            line_search: LineSearch::None,
        }
    }

    /// The evaluations a step may spend: `max_eval`, else PyTorch's
    /// `max_iter * 5 / 4`.
    pub fn evaluation_budget(&self) -> usize {
        self.max_eval.unwrap_or(self.max_iter * 5 / 4)
    }

    fn validate(&self) -> Result<(), OptimError> {
        check::lr(self.lr)?;
        check::at_least_one("max_iter", self.max_iter)?;
        check::at_least_one("max_eval", self.evaluation_budget())?;
        check::non_negative("tolerance_grad", self.tolerance_grad)?;
        check::non_negative("tolerance_change", self.tolerance_change)?;
        check::at_least_one("history_size", self.history_size)
    }
}

impl Default for Lbfgs {
    fn default() -> Lbfgs {
        Lbfgs::new(1.0)
    }
}

builder_methods!(Lbfgs {
    max_iter: usize,
    max_eval: Option<usize>,
    tolerance_grad: f64,
    tolerance_change: f64,
    history_size: usize,
    line_search: LineSearch,
});

/// What L-BFGS carries from one step to the next (PyTorch keeps the same
/// in its state).
#[derive(Debug, Default)]
struct History {
    /// The last direction and step length.
    direction: Vec<f64>,
    t: f64,
    /// Gradient changes `y`, steps `s` and `1 / y.s`, oldest first.
    gradient_changes: VecDeque<Vec<f64>>,
    steps: VecDeque<Vec<f64>>,
    inverse_curvatures: VecDeque<f64>,
    /// The scale of the initial inverse-Hessian estimate, `y.s / y.y`.
    hessian_diagonal: f64,
    previous_grad: Vec<f64>,
    /// Iterations and loss evaluations over all steps.
    iterations: usize,
    evaluations: usize,
}

/// The L-BFGS optimizer over one group of parameters.
///
/// ```
/// use descent_autograd::{Param, Tape};
/// use descent_optim::{Lbfgs, LbfgsOptim, LineSearch, OptimError};
/// use descent_tensor::Tensor;
///
/// // Minimize (x - 1)^2 + 10 (y + 2)^2.
/// let w = Param::new(Tensor::from([0.0, 0.0]));
/// let mut opt = LbfgsOptim::new([w.clone()], Lbfgs::new(1.0).line_search(LineSearch::StrongWolfe));
/// opt.step(|| {
///     let tape = Tape::new();
///     let offset = tape.param(&w) - tape.constant(Tensor::from([1.0, -2.0]));
///     let loss = (offset.square() * tape.constant(Tensor::from([1.0, 10.0]))).sum();
///     loss.backward();
///     loss.item()
/// });
/// let solution = w.value().to_vec();
/// assert!((solution[0] - 1.0).abs() < 1e-4 && (solution[1] + 2.0).abs() < 1e-4);
/// # Ok::<(), OptimError>(())
/// ```
#[derive(Debug)]
pub struct LbfgsOptim {
    options: Lbfgs,
    params: Vec<Param>,
    history: History,
}

impl LbfgsOptim {
    /// L-BFGS over `params`.
    ///
    /// # Panics
    /// On what [`LbfgsOptim::try_new`] returns as an error.
    pub fn new(params: impl IntoIterator<Item = Param>, options: Lbfgs) -> LbfgsOptim {
        LbfgsOptim::try_new(params, options).unwrap_or_else(|e| panic!("L-BFGS: {e}"))
    }

    /// [`LbfgsOptim::new`] for options that come from outside the program.
    ///
    /// # Errors
    /// [`OptimError::InvalidOption`] naming an invalid option.
    pub fn try_new(
        params: impl IntoIterator<Item = Param>,
        options: Lbfgs,
    ) -> Result<LbfgsOptim, OptimError> {
        options.validate()?;
        Ok(LbfgsOptim {
            options,
            params: params.into_iter().collect(),
            history: History::default(),
        })
    }

    /// The options.
    pub fn options(&self) -> &Lbfgs {
        &self.options
    }

    /// The learning rate.
    pub fn lr(&self) -> f64 {
        self.options.lr
    }

    /// Sets the learning rate.
    ///
    /// # Panics
    /// If `lr` is negative, not finite or overflows an `f32`.
    pub fn set_lr(&mut self, lr: f64) {
        if let Err(error) = check::lr(lr) {
            panic!("Lbfgs: {error}");
        }
        self.options.lr = lr;
    }

    /// The parameters.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    /// Iterations taken over all steps (PyTorch's `n_iter`).
    pub fn iterations(&self) -> usize {
        self.history.iterations
    }

    /// Loss evaluations over all steps (PyTorch's `func_evals`).
    pub fn evaluations(&self) -> usize {
        self.history.evaluations
    }

    /// Runs up to `max_iter` iterations. `loss` computes the loss and its
    /// gradients (forward and backward) and returns the loss; gradients are
    /// cleared before each call. Returns the loss before the step, as
    /// PyTorch does.
    pub fn step(&mut self, mut loss: impl FnMut() -> f32) -> f32 {
        let o = self.options.clone();
        let start_loss = self.evaluate(&mut loss);
        let mut current_loss = start_loss as f64;
        let mut grad = self.flat_grad();
        let mut evaluations = 1;
        self.history.evaluations += 1;
        if max_abs(&grad) <= o.tolerance_grad {
            return start_loss;
        }
        for iteration in 1..=o.max_iter {
            self.history.iterations += 1;
            self.update_direction(&grad);
            let previous_loss = current_loss;
            self.history.previous_grad.clone_from(&grad);
            let h = &mut self.history;
            h.t = if h.iterations == 1 {
                (1.0 / grad.iter().map(|g| g.abs()).sum::<f64>()).min(1.0) * o.lr
            } else {
                o.lr
            };
            let slope = dot(&grad, &h.direction);
            if slope > -o.tolerance_change {
                break;
            }
            let mut spent = 0;
            match o.line_search {
                LineSearch::StrongWolfe => {
                    let start = Trial {
                        t: 0.0,
                        loss: current_loss,
                        grad: grad.clone(),
                        slope,
                    };
                    let (accepted, spent_searching) = self.search_line(&mut loss, start);
                    (current_loss, grad) = (accepted.loss, accepted.grad);
                    spent = spent_searching;
                }
                LineSearch::None => {
                    let origin = self.values();
                    let h = &self.history;
                    self.move_along(&origin, h.t, &h.direction);
                    // The last iteration leaves the evaluation to the next step.
                    if iteration != o.max_iter {
                        current_loss = self.evaluate(&mut loss) as f64;
                        grad = self.flat_grad();
                        spent = 1;
                    }
                }
            }
            evaluations += spent;
            self.history.evaluations += spent;
            let h = &self.history;
            let converged = max_abs(&grad) <= o.tolerance_grad;
            let stalled = max_abs(&h.direction) * h.t.abs() <= o.tolerance_change
                || (current_loss - previous_loss).abs() < o.tolerance_change;
            if iteration == o.max_iter
                || evaluations >= o.evaluation_budget()
                || converged
                || stalled
            {
                break;
            }
        }
        start_loss
    }

    /// Moves to the step along the direction that the strong-Wolfe search
    /// accepts, starting from `start` (step 0) with the trial step `t`;
    /// returns that step's trial and the evaluations spent.
    fn search_line(&mut self, loss: &mut impl FnMut() -> f32, start: Trial) -> (Trial, usize) {
        let origin = self.values();
        let direction = std::mem::take(&mut self.history.direction);
        let evaluate = |t| {
            self.move_along(&origin, t, &direction);
            let loss_at = self.evaluate(loss) as f64;
            (loss_at, self.flat_grad())
        };
        let (accepted, spent) = strong_wolfe(
            evaluate,
            &direction,
            start,
            self.history.t,
            self.options.tolerance_change,
        );
        self.move_along(&origin, accepted.t, &direction);
        (self.history.direction, self.history.t) = (direction, accepted.t);
        (accepted, spent)
    }

    /// The new search direction: the negative gradient on the first
    /// iteration, afterwards the two-loop recursion over the history, which
    /// first takes in the last step if it kept the curvature positive.
    fn update_direction(&mut self, grad: &[f64]) {
        let h = &mut self.history;
        if h.iterations == 1 {
            h.direction = grad.iter().map(|g| -g).collect();
            h.gradient_changes.clear();
            h.steps.clear();
            h.inverse_curvatures.clear();
            h.hessian_diagonal = 1.0;
            return;
        }
        let y: Vec<f64> = grad
            .iter()
            .zip(&h.previous_grad)
            .map(|(g, p)| g - p)
            .collect();
        let s: Vec<f64> = h.direction.iter().map(|d| d * h.t).collect();
        let ys = dot(&y, &s);
        if ys > 1e-10 {
            if h.steps.len() == self.options.history_size {
                h.gradient_changes.pop_front();
                h.steps.pop_front();
                h.inverse_curvatures.pop_front();
            }
            h.hessian_diagonal = ys / dot(&y, &y);
            h.gradient_changes.push_back(y);
            h.steps.push_back(s);
            h.inverse_curvatures.push_back(1.0 / ys);
        }
        let mut q: Vec<f64> = grad.iter().map(|g| -g).collect();
        let mut alphas = vec![0.0; h.steps.len()];
        for i in (0..h.steps.len()).rev() {
            alphas[i] = dot(&h.steps[i], &q) * h.inverse_curvatures[i];
            axpy(-alphas[i], &h.gradient_changes[i], &mut q);
        }
        q.iter_mut().for_each(|x| *x *= h.hessian_diagonal);
        for (i, alpha) in alphas.iter().enumerate() {
            let beta = dot(&h.gradient_changes[i], &q) * h.inverse_curvatures[i];
            axpy(alpha - beta, &h.steps[i], &mut q);
        }
        h.direction = q;
    }

    /// Clears the gradients and evaluates the loss.
    fn evaluate(&self, loss: &mut impl FnMut() -> f32) -> f32 {
        for p in &self.params {
            p.zero_grad();
        }
        loss()
    }

    /// Every gradient in one vector, zeros for parameters without one.
    fn flat_grad(&self) -> Vec<f64> {
        let mut flat = Vec::new();
        for p in &self.params {
            match p.grad_ref().as_ref() {
                Some(g) => flat.extend(g.data().iter().map(|&x| x as f64)),
                None => flat.extend(std::iter::repeat_n(0.0, p.numel())),
            }
        }
        flat
    }

    /// Every parameter value in one vector.
    fn values(&self) -> Vec<f32> {
        let mut flat = Vec::new();
        for p in &self.params {
            flat.extend_from_slice(p.value().data());
        }
        flat
    }

    /// Sets the parameters to `origin + t direction`.
    fn move_along(&self, origin: &[f32], t: f64, direction: &[f64]) {
        let mut offset = 0;
        for p in &self.params {
            let mut value = p.value_mut();
            let data = value.data_mut();
            let n = data.len();
            let moved = origin[offset..offset + n]
                .iter()
                .zip(&direction[offset..offset + n]);
            for (v, (&o, &d)) in data.iter_mut().zip(moved) {
                *v = (o as f64 + t * d) as f32;
            }
            offset += n;
        }
    }
}

/// `y += a x`.
fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    y.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_autograd::Tape;
    use descent_tensor::{Tensor, seeded_rng};

    /// `sum_i w_i (x_i - c_i)^2` with w = [1, 4, 0.5], c = [1, -2, 3].
    fn weighted_squares(x: &Param) -> f32 {
        let tape = Tape::new();
        let offset = tape.param(x) - tape.constant(Tensor::from([1.0, -2.0, 3.0]));
        let loss = (offset.square() * tape.constant(Tensor::from([1.0, 4.0, 0.5]))).sum();
        loss.backward();
        loss.item()
    }

    fn gradient_of_weighted_squares(x: &[f64]) -> Vec<f64> {
        let (w, c) = ([1.0, 4.0, 0.5], [1.0, -2.0, 3.0]);
        (0..3).map(|i| 2.0 * w[i] * (x[i] - c[i])).collect()
    }

    #[test]
    fn two_iterations_without_line_search_match_a_hand_trace() {
        let x = Param::new(Tensor::from([0.0, 0.0, 0.0]));
        let options = Lbfgs::new(0.5).max_iter(2).max_eval(Some(10));
        let mut opt = LbfgsOptim::new([x.clone()], options);
        let loss = opt.step(|| weighted_squares(&x));

        // Iteration 1: d = -g0, t = min(1, 1 / |g0|_1) lr, x1 = x0 + t d.
        let x0 = [0.0; 3];
        let g0 = gradient_of_weighted_squares(&x0);
        let t1 = (1.0 / g0.iter().map(|g| g.abs()).sum::<f64>()).min(1.0) * 0.5;
        let x1: Vec<f64> = (0..3).map(|i| x0[i] - t1 * g0[i]).collect();
        // Iteration 2: with s = t1 d, y = g1 - g0, rho = 1 / y.s and
        // H = y.s / y.y, the two-loop recursion over one pair gives
        // d = H (q - a y) + (a - b) s with q = -g1, a = rho s.q and
        // b = rho y.H(q - a y); then x2 = x1 + lr d.
        let g1 = gradient_of_weighted_squares(&x1);
        let s: Vec<f64> = g0.iter().map(|g| -t1 * g).collect();
        let y: Vec<f64> = (0..3).map(|i| g1[i] - g0[i]).collect();
        let rho = 1.0 / dot(&y, &s);
        let h = dot(&y, &s) / dot(&y, &y);
        let q: Vec<f64> = g1.iter().map(|g| -g).collect();
        let a = rho * dot(&s, &q);
        let r: Vec<f64> = (0..3).map(|i| h * (q[i] - a * y[i])).collect();
        let b = rho * dot(&y, &r);
        let x2: Vec<f64> = (0..3)
            .map(|i| x1[i] + 0.5 * (r[i] + (a - b) * s[i]))
            .collect();

        let got = x.value().to_vec();
        for i in 0..3 {
            assert!((got[i] as f64 - x2[i]).abs() < 1e-5, "{got:?} vs {x2:?}");
        }
        assert_eq!(loss, 1.0 + 16.0 + 4.5, "the loss before the step");
        // One evaluation at the start and one after the first iteration; the
        // last iteration leaves its evaluation to the next step.
        assert_eq!((opt.iterations(), opt.evaluations()), (2, 2));
    }

    /// `(x - x*) A (x - x*)^T / 2` for a seeded positive definite `A`.
    struct Quadratic {
        a: Tensor,
        minimum: Tensor,
    }

    impl Quadratic {
        fn new(n: usize) -> Quadratic {
            let mut rng = seeded_rng(3);
            let m = Tensor::randn([n, n], &mut rng);
            let a = m.matmul(&m.t()).add(&Tensor::eye(n));
            let minimum = Tensor::randn([1, n], &mut rng);
            Quadratic { a, minimum }
        }

        fn loss(&self, x: &Param) -> f32 {
            let tape = Tape::new();
            let e = tape.param(x) - tape.constant(self.minimum.clone());
            let loss = (e.matmul(tape.constant(self.a.clone())) * e).sum() * 0.5;
            loss.backward();
            loss.item()
        }
    }

    /// BFGS with exact line searches minimizes a quadratic in n iterations
    /// (it is then conjugate gradients); PyTorch's strong-Wolfe search
    /// accepts the unit step once the curvature is learnt instead of
    /// minimizing along the line, which costs a few more iterations but
    /// one evaluation each.
    #[test]
    fn converges_on_a_quadratic_in_about_as_many_iterations_as_dimensions() {
        let n = 8;
        let quadratic = Quadratic::new(n);
        let x = Param::new(Tensor::zeros([1, n]));
        let options = Lbfgs::default()
            .line_search(LineSearch::StrongWolfe)
            .tolerance_grad(1e-4);
        let mut opt = LbfgsOptim::new([x.clone()], options);
        opt.step(|| quadratic.loss(&x));
        assert!(
            x.value().all_close(&quadratic.minimum, 1e-4, 1e-4),
            "{:?} vs {:?}",
            x.value(),
            quadratic.minimum
        );
        let (iterations, evaluations) = (opt.iterations(), opt.evaluations());
        assert!(
            iterations <= 2 * n && evaluations <= iterations + 2,
            "{iterations} iterations and {evaluations} evaluations for {n} dimensions"
        );
    }

    fn rosenbrock(x: &Param) -> f32 {
        let tape = Tape::new();
        let v = tape.param(x);
        let (a, b) = (v.narrow(1, 0, 1), v.narrow(1, 1, 1));
        let loss = ((1.0 - a).square() + (b - a.square()).square() * 100.0).sum();
        loss.backward();
        loss.item()
    }

    #[test]
    fn reaches_the_minimum_of_rosenbrock() {
        for line_search in [LineSearch::StrongWolfe, LineSearch::None] {
            let x = Param::new(Tensor::from([[-1.5, 2.0]]));
            let options = Lbfgs::default().line_search(line_search);
            let mut opt = LbfgsOptim::new([x.clone()], options);
            for _ in 0..20 {
                opt.step(|| rosenbrock(&x));
            }
            let point = x.value().to_vec();
            assert!(
                (point[0] - 1.0).abs() < 1e-3 && (point[1] - 1.0).abs() < 1e-3,
                "{line_search:?}: ended at {point:?} after {} evaluations",
                opt.evaluations()
            );
        }
    }

    #[test]
    fn a_step_at_the_minimum_evaluates_once_and_moves_nothing() {
        let x = Param::new(Tensor::from([1.0, -2.0, 3.0]));
        let mut opt = LbfgsOptim::new([x.clone()], Lbfgs::default());
        assert_eq!(opt.step(|| weighted_squares(&x)), 0.0);
        assert_eq!((opt.iterations(), opt.evaluations()), (0, 1));
        assert_eq!(x.value().to_vec(), vec![1.0, -2.0, 3.0]);
    }

    #[test]
    fn the_history_keeps_the_last_history_size_pairs() {
        let quadratic = Quadratic::new(6);
        let x = Param::new(Tensor::zeros([1, 6]));
        let options = Lbfgs::default().history_size(2).max_iter(6);
        let mut opt = LbfgsOptim::new([x.clone()], options);
        opt.step(|| quadratic.loss(&x));
        assert_eq!(opt.iterations(), 6);
        assert_eq!(opt.history.steps.len(), 2);
        assert_eq!(opt.history.gradient_changes.len(), 2);
    }

    #[test]
    fn options_have_pytorchs_defaults_and_are_checked() {
        let defaults = Lbfgs::default();
        assert_eq!(
            (
                defaults.lr,
                defaults.max_iter,
                defaults.evaluation_budget(),
                defaults.tolerance_grad,
                defaults.tolerance_change,
                defaults.history_size,
                defaults.line_search
            ),
            (1.0, 20, 25, 1e-7, 1e-9, 100, LineSearch::None)
        );
        assert_eq!(Lbfgs::new(1.0).max_iter(8).evaluation_budget(), 10);
        assert_eq!(Lbfgs::new(1.0).max_eval(Some(3)).evaluation_budget(), 3);
        let refused = |options: Lbfgs| LbfgsOptim::try_new([], options).err().unwrap().to_string();
        assert!(refused(Lbfgs::new(f64::INFINITY)).contains("invalid lr: inf"));
        assert!(refused(Lbfgs::new(1.0).history_size(0)).contains("invalid history_size: 0"));
        assert!(refused(Lbfgs::new(1.0).max_iter(0)).contains("invalid max_iter: 0"));
    }
}
