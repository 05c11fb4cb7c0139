//! Weight initializations, all seedable through the RNG passed in.

use descent_tensor::Tensor;
use rand::Rng;

/// How a weight matrix `[fan_out, fan_in]` is initialized.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// PyTorch's `nn.Linear` default: uniform in `+-1/sqrt(fan_in)`
    /// (Kaiming uniform with `a = sqrt(5)`).
    PyTorchDefault,
    /// Glorot/Xavier uniform: `+-sqrt(6 / (fan_in + fan_out))`.
    XavierUniform,
    /// Glorot/Xavier normal: std `sqrt(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// He/Kaiming uniform for ReLU: `+-sqrt(6 / fan_in)`.
    KaimingUniform,
    /// He/Kaiming normal for ReLU: std `sqrt(2 / fan_in)`.
    KaimingNormal,
    /// All zeros.
    Zeros,
}

impl Init {
    /// A `[fan_out, fan_in]` weight drawn from this initialization.
    pub fn weight<R: Rng + ?Sized>(self, fan_in: usize, fan_out: usize, rng: &mut R) -> Tensor {
        let shape = [fan_out, fan_in];
        if fan_in == 0 || fan_out == 0 {
            // Nothing to draw, and the bounds below would divide by zero.
            return Tensor::zeros(shape);
        }
        let (fi, fo) = (fan_in as f32, fan_out as f32);
        match self {
            Init::PyTorchDefault => uniform(shape, 1.0 / fi.sqrt(), rng),
            Init::XavierUniform => uniform(shape, (6.0 / (fi + fo)).sqrt(), rng),
            Init::XavierNormal => Tensor::rand_normal(shape, 0.0, (2.0 / (fi + fo)).sqrt(), rng),
            Init::KaimingUniform => uniform(shape, (6.0 / fi).sqrt(), rng),
            Init::KaimingNormal => Tensor::rand_normal(shape, 0.0, (2.0 / fi).sqrt(), rng),
            Init::Zeros => Tensor::zeros(shape),
        }
    }
}

/// Uniform in `[-bound, bound)`; zeros for a bound of 0.
pub(crate) fn uniform<R: Rng + ?Sized>(
    shape: impl Into<descent_tensor::Shape>,
    bound: f32,
    rng: &mut R,
) -> Tensor {
    if bound == 0.0 {
        return Tensor::zeros(shape);
    }
    Tensor::rand_uniform(shape, -bound, bound, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use descent_tensor::seeded_rng;

    #[test]
    fn initializations_have_the_documented_spread() {
        let mut rng = seeded_rng(0);
        let (fan_in, fan_out) = (400, 300);
        let std = |t: &Tensor| t.var().item().sqrt();
        let kaiming = Init::KaimingNormal.weight(fan_in, fan_out, &mut rng);
        assert!((std(&kaiming) - (2.0f32 / 400.0).sqrt()).abs() < 0.002);
        let xavier = Init::XavierUniform.weight(fan_in, fan_out, &mut rng);
        let bound = (6.0f32 / 700.0).sqrt();
        assert!(xavier.data().iter().all(|x| x.abs() <= bound));
        assert!((std(&xavier) - bound / 3f32.sqrt()).abs() < 0.002);
        let default = Init::PyTorchDefault.weight(fan_in, fan_out, &mut rng);
        assert!(default.data().iter().all(|x| x.abs() <= 0.05));
        assert_eq!(default.dims(), &[300, 400]);
    }
}
