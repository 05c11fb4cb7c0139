//! Gradient clipping, applied between `backward` and `step`.

use descent_autograd::Param;

/// Scales all gradients together so their global L2 norm is at most
/// `max_norm` (PyTorch's `clip_grad_norm_`, with its 1e-6 guard); returns the
/// norm before clipping. The norm is accumulated in f64.
///
/// # Panics
/// If `max_norm` is negative or NaN.
pub fn clip_grad_norm(params: &[Param], max_norm: f64) -> f64 {
    assert!(
        max_norm >= 0.0,
        "clip_grad_norm: invalid max_norm {max_norm} (must be >= 0)"
    );
    let total: f64 = params
        .iter()
        .filter_map(|p| p.grad())
        .map(|g| {
            g.data()
                .iter()
                .map(|&x| (x as f64) * (x as f64))
                .sum::<f64>()
        })
        .sum::<f64>()
        .sqrt();
    let coefficient = (max_norm / (total + 1e-6)).min(1.0) as f32;
    if coefficient < 1.0 {
        for p in params {
            if let Some(g) = p.grad_mut().as_mut() {
                g.data_mut().iter_mut().for_each(|x| *x *= coefficient);
            }
        }
    }
    total
}

/// Clamps every gradient element to `[-clip_value, clip_value]`.
///
/// # Panics
/// If `clip_value` is negative or NaN.
pub fn clip_grad_value(params: &[Param], clip_value: f32) {
    assert!(
        clip_value >= 0.0,
        "clip_grad_value: invalid clip_value {clip_value} (must be >= 0)"
    );
    for p in params {
        if let Some(g) = p.grad_mut().as_mut() {
            g.data_mut()
                .iter_mut()
                .for_each(|x| *x = x.clamp(-clip_value, clip_value));
        }
    }
}
