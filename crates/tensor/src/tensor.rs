//! The `Tensor` type: a shape plus a shared, copy-on-write buffer of `f32`.

use std::fmt;
use std::mem::ManuallyDrop;
use std::sync::Arc;

use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

use crate::pool;
use crate::shape::Shape;

/// An n-dimensional array of `f32` in row-major order.
///
/// The buffer is reference counted: `clone`, [`Tensor::reshape`] and handing a
/// tensor to the autograd tape share it instead of copying. Writing through
/// [`Tensor::data_mut`] copies the buffer only if it is shared, so an optimizer
/// updates a parameter in place once the step's tape is gone.
#[derive(Clone)]
pub struct Tensor {
    shape: Shape,
    /// Dropped by hand in `Drop`, which recycles unshared buffers.
    data: ManuallyDrop<Arc<[f32]>>,
}

impl Tensor {
    /// Wraps an existing buffer.
    ///
    /// # Panics
    /// If `data.len()` differs from the number of elements of `shape`.
    pub fn from_vec(data: Vec<f32>, shape: impl Into<Shape>) -> Tensor {
        let shape = shape.into();
        assert_eq!(
            data.len(),
            shape.numel(),
            "from_vec: {} values cannot fill shape {shape:?} ({} elements)",
            data.len(),
            shape.numel()
        );
        Tensor::from_parts(shape, data.into())
    }

    /// A 1-D tensor holding a copy of `values`.
    pub fn from_slice(values: &[f32]) -> Tensor {
        Tensor::from_parts(Shape::new(&[values.len()]), values.into())
    }

    /// A rank-0 tensor holding one value.
    pub fn scalar(value: f32) -> Tensor {
        Tensor::full(Shape::SCALAR, value)
    }

    /// A tensor with every element equal to `value`.
    pub fn full(shape: impl Into<Shape>, value: f32) -> Tensor {
        Tensor::from_iter(shape, std::iter::repeat(value))
    }

    /// A tensor of zeros.
    pub fn zeros(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 0.0)
    }

    /// A tensor of ones.
    pub fn ones(shape: impl Into<Shape>) -> Tensor {
        Tensor::full(shape, 1.0)
    }

    /// A zero tensor with the same shape as `self`.
    pub fn zeros_like(&self) -> Tensor {
        Tensor::zeros(self.shape)
    }

    /// `[start, start + step, ...]` up to but excluding `end`, like `torch.arange`.
    ///
    /// # Panics
    /// If `step` is zero or does not move `start` towards `end`.
    pub fn arange(start: f32, end: f32, step: f32) -> Tensor {
        assert!(
            step != 0.0 && (end - start) * step >= 0.0,
            "arange: step {step} never goes from {start} to {end}"
        );
        let len = ((f64::from(end) - f64::from(start)) / f64::from(step)).ceil();
        assert!(
            len < (isize::MAX as usize / size_of::<f32>()) as f64,
            "arange: {start} to {end} by {step} has more elements than fit in memory"
        );
        let len = len.max(0.0) as usize;
        let values: Vec<f32> = (0..len).map(|i| start + step * i as f32).collect();
        Tensor::from_vec(values, [len])
    }

    /// The `n x n` identity matrix.
    pub fn eye(n: usize) -> Tensor {
        Tensor::from_fn([n, n], |index| if index[0] == index[1] { 1.0 } else { 0.0 })
    }

    /// A tensor whose element at each multi-index is `f(index)`.
    pub fn from_fn(shape: impl Into<Shape>, mut f: impl FnMut(&[usize]) -> f32) -> Tensor {
        let shape = shape.into();
        let mut index = vec![0usize; shape.rank()];
        let mut values = Vec::with_capacity(shape.numel());
        for _ in 0..shape.numel() {
            values.push(f(&index));
            for axis in (0..shape.rank()).rev() {
                index[axis] += 1;
                if index[axis] < shape.dim(axis) {
                    break;
                }
                index[axis] = 0;
            }
        }
        Tensor::from_vec(values, shape)
    }

    /// Samples every element uniformly from `[low, high)`.
    ///
    /// # Panics
    /// If `low >= high` or either bound is not finite.
    pub fn rand_uniform<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        low: f32,
        high: f32,
        rng: &mut R,
    ) -> Tensor {
        let uniform = Uniform::new(low, high)
            .unwrap_or_else(|e| panic!("rand_uniform: invalid range [{low}, {high}): {e}"));
        Tensor::sample(shape.into(), &uniform, rng)
    }

    /// Samples every element from a normal distribution.
    ///
    /// # Panics
    /// If `std` is negative or not finite.
    pub fn rand_normal<R: Rng + ?Sized>(
        shape: impl Into<Shape>,
        mean: f32,
        std: f32,
        rng: &mut R,
    ) -> Tensor {
        let normal = Normal::new(mean, std)
            .unwrap_or_else(|e| panic!("rand_normal: invalid std {std}: {e}"));
        Tensor::sample(shape.into(), &normal, rng)
    }

    /// Samples every element from the standard normal distribution.
    pub fn randn<R: Rng + ?Sized>(shape: impl Into<Shape>, rng: &mut R) -> Tensor {
        Tensor::rand_normal(shape, 0.0, 1.0, rng)
    }

    fn sample<R: Rng + ?Sized>(shape: Shape, dist: &impl Distribution<f32>, rng: &mut R) -> Tensor {
        Tensor::from_parts(
            shape,
            (0..shape.numel()).map(|_| dist.sample(rng)).collect(),
        )
    }

    fn from_parts(shape: Shape, data: Arc<[f32]>) -> Tensor {
        Tensor {
            shape,
            data: ManuallyDrop::new(data),
        }
    }

    /// Builds a tensor by letting `fill` add into a zeroed buffer (for
    /// kernels that accumulate). With [`Tensor::build_overwritten`], the one
    /// place kernels get their output memory from.
    pub(crate) fn build(shape: Shape, fill: impl FnOnce(&mut [f32])) -> Tensor {
        Tensor::build_overwritten(shape, |out| {
            out.fill(0.0);
            fill(out)
        })
    }

    /// Builds a tensor whose every element `fill` writes: a recycled buffer
    /// is handed over with its stale values, saving the zero fill's pass.
    pub(crate) fn build_overwritten(shape: Shape, fill: impl FnOnce(&mut [f32])) -> Tensor {
        let mut data = pool::take(shape.numel())
            .unwrap_or_else(|| std::iter::repeat_n(0.0, shape.numel()).collect());
        fill(Arc::get_mut(&mut data).expect("fresh and pooled buffers are unique"));
        Tensor::from_parts(shape, data)
    }

    /// Builds a tensor whose elements `fill` writes through uninitialized
    /// memory, skipping the zero fill of [`Tensor::build`] (for GEMM outputs).
    ///
    /// # Safety
    /// `fill` must initialize every element of the slice it is given.
    pub(crate) unsafe fn build_uninit(
        shape: Shape,
        fill: impl FnOnce(&mut [std::mem::MaybeUninit<f32>]),
    ) -> Tensor {
        if let Some(mut recycled) = pool::take(shape.numel()) {
            let slice = Arc::get_mut(&mut recycled).expect("pooled buffers are unique");
            // SAFETY: an initialized f32 slice viewed as MaybeUninit<f32> (same
            // layout); `fill` only writes f32 values into it.
            fill(unsafe { &mut *(slice as *mut [f32] as *mut [std::mem::MaybeUninit<f32>]) });
            return Tensor::from_parts(shape, recycled);
        }
        let mut data = Arc::<[f32]>::new_uninit_slice(shape.numel());
        fill(Arc::get_mut(&mut data).expect("a fresh buffer is unique"));
        // SAFETY: the caller guarantees `fill` initialized every element.
        let data = unsafe { data.assume_init() };
        Tensor::from_parts(shape, data)
    }

    /// A tensor of `shape` filled, in row-major order, with the first
    /// `shape.numel()` values of `values`; the buffer may be a recycled one.
    ///
    /// # Panics
    /// If `values` yields fewer values than the shape holds.
    pub fn from_iter(shape: impl Into<Shape>, values: impl IntoIterator<Item = f32>) -> Tensor {
        let shape = shape.into();
        let mut values = values.into_iter();
        let mut data = pool::take(shape.numel())
            .unwrap_or_else(|| std::iter::repeat_n(0.0, shape.numel()).collect());
        for slot in Arc::get_mut(&mut data).expect("a fresh or pooled buffer is unique") {
            *slot = values
                .next()
                .unwrap_or_else(|| panic!("from_iter: too few values for shape {shape:?}"));
        }
        Tensor::from_parts(shape, data)
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        self.shape.dims()
    }

    /// The number of dimensions.
    pub fn rank(&self) -> usize {
        self.shape.rank()
    }

    /// The number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The elements in row-major order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable access to the elements; copies the buffer first if it is shared.
    pub fn data_mut(&mut self) -> &mut [f32] {
        if Arc::get_mut(&mut self.data).is_none() {
            let copy: Arc<[f32]> = self.data.iter().copied().collect();
            // The old buffer is shared: dropping this reference just counts down.
            drop(std::mem::replace(&mut *self.data, copy));
        }
        Arc::get_mut(&mut self.data).expect("buffer was just made unique")
    }

    /// The elements as a new `Vec`.
    pub fn to_vec(&self) -> Vec<f32> {
        self.data.to_vec()
    }

    /// The single value of a one-element tensor (any rank).
    ///
    /// # Panics
    /// If the tensor has more or fewer than one element.
    pub fn item(&self) -> f32 {
        assert_eq!(
            self.numel(),
            1,
            "item: tensor of shape {:?} has {} elements, not 1",
            self.shape,
            self.numel()
        );
        self.data[0]
    }

    /// The element at a multi-index.
    ///
    /// # Panics
    /// If the index has the wrong rank or is out of bounds.
    pub fn get(&self, index: &[usize]) -> f32 {
        self.data[self.shape.offset_of("get", index)]
    }

    /// The same buffer under another shape with as many elements: the one
    /// constructor of the view ops (`reshape`, `squeeze`, ...), which check
    /// the count first.
    pub(crate) fn view_as(&self, shape: Shape) -> Tensor {
        debug_assert_eq!(shape.numel(), self.numel());
        Tensor {
            shape,
            data: ManuallyDrop::new(Arc::clone(&self.data)),
        }
    }

    /// True when both tensors have the same shape and bit-identical elements.
    pub fn bit_eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape
            && self
                .data
                .iter()
                .zip(other.data.iter())
                .all(|(a, b)| a.to_bits() == b.to_bits())
    }

    /// True when shapes match and every pair of elements satisfies
    /// `|a - b| <= atol + rtol * |b|`.
    pub fn all_close(&self, other: &Tensor, rtol: f32, atol: f32) -> bool {
        self.shape == other.shape
            && self
                .data
                .iter()
                .zip(other.data.iter())
                .all(|(a, b)| (a - b).abs() <= atol + rtol * b.abs())
    }
}

impl Drop for Tensor {
    /// Returns an unshared buffer to the per-thread pool for reuse.
    fn drop(&mut self) {
        // SAFETY: `data` is not used again after this.
        let data = unsafe { ManuallyDrop::take(&mut self.data) };
        pool::give(data);
    }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::display::debug_short(f, "Tensor", self.shape, &self.data)
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.data == other.data
    }
}

/// A 1-D tensor, like `torch.tensor([1.0, 2.0])`.
impl From<Vec<f32>> for Tensor {
    fn from(values: Vec<f32>) -> Tensor {
        let len = values.len();
        Tensor::from_vec(values, [len])
    }
}

/// A 1-D tensor holding a copy of the values.
impl From<&[f32]> for Tensor {
    fn from(values: &[f32]) -> Tensor {
        Tensor::from_slice(values)
    }
}

/// A rank-0 tensor, like `torch.tensor(2.0)`; lets a scalar stand where an
/// `impl Into<Tensor>` operand is taken (`x.gt(0.0)`).
impl From<f32> for Tensor {
    fn from(value: f32) -> Tensor {
        Tensor::scalar(value)
    }
}

/// Another handle on the same buffer (as `clone`), so a borrowed tensor
/// can stand where an `impl Into<Tensor>` operand is taken.
impl From<&Tensor> for Tensor {
    fn from(tensor: &Tensor) -> Tensor {
        tensor.clone()
    }
}

/// A 1-D tensor, like `torch.tensor([1.0, 2.0])`.
impl<const N: usize> From<[f32; N]> for Tensor {
    fn from(values: [f32; N]) -> Tensor {
        Tensor::from_slice(&values)
    }
}

/// A matrix from its rows.
impl<const R: usize, const C: usize> From<[[f32; C]; R]> for Tensor {
    fn from(rows: [[f32; C]; R]) -> Tensor {
        Tensor::from_vec(rows.as_flattened().to_vec(), [R, C])
    }
}

/// A 3-D tensor from its matrices.
impl<const D: usize, const R: usize, const C: usize> From<[[[f32; C]; R]; D]> for Tensor {
    fn from(blocks: [[[f32; C]; R]; D]) -> Tensor {
        Tensor::from_vec(blocks.as_flattened().as_flattened().to_vec(), [D, R, C])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn constructors_fill_the_documented_values() {
        assert_eq!(Tensor::arange(0.0, 5.0, 2.0).to_vec(), vec![0.0, 2.0, 4.0]);
        assert_eq!(Tensor::eye(2).to_vec(), vec![1.0, 0.0, 0.0, 1.0]);
        assert_eq!(Tensor::full([2], 3.5).to_vec(), vec![3.5, 3.5]);
        let t = Tensor::from([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
        assert_eq!(t.dims(), &[2, 3]);
        assert_eq!(t.get(&[1, 2]), 6.0);
        assert_eq!(Tensor::scalar(2.0).item(), 2.0);
    }

    #[test]
    #[should_panic(expected = "from_vec: 5 values cannot fill shape [2, 3] (6 elements)")]
    fn from_vec_checks_length() {
        Tensor::from_vec(vec![0.0; 5], [2, 3]);
    }

    #[test]
    #[should_panic(expected = "arange: 0 to inf by 1 has more elements than fit in memory")]
    fn arange_rejects_endless_ranges() {
        Tensor::arange(0.0, f32::INFINITY, 1.0);
    }

    #[test]
    fn one_dimensional_tensors_convert_from_vectors_and_slices() {
        let from_vec = Tensor::from(vec![1.0, 2.0]);
        let from_slice = Tensor::from(&[1.0, 2.0][..]);
        assert_eq!(from_vec, from_slice);
        assert_eq!(from_vec.dims(), &[2]);
        assert_eq!(Tensor::from(2.5).dims(), &[] as &[usize]);
    }

    #[test]
    fn debug_is_one_short_line() {
        let text = format!("{:?}", Tensor::zeros([100, 100]));
        assert_eq!(text.lines().count(), 1);
        assert!(text.starts_with("Tensor[100, 100] [0.0, 0.0"));
        assert!(text.ends_with("... (9984 more)"));
    }

    #[test]
    fn seeded_random_is_reproducible() {
        let a = Tensor::randn([4, 4], &mut StdRng::seed_from_u64(7));
        let b = Tensor::randn([4, 4], &mut StdRng::seed_from_u64(7));
        assert!(a.bit_eq(&b));
        let u = Tensor::rand_uniform([1000], -0.5, 0.5, &mut StdRng::seed_from_u64(1));
        assert!(u.data().iter().all(|&x| (-0.5..0.5).contains(&x)));
    }

    #[test]
    fn writes_to_a_shared_buffer_copy_it_first() {
        let a = Tensor::zeros([3]);
        let mut b = a.clone();
        b.data_mut()[0] = 1.0;
        assert_eq!(a.to_vec(), vec![0.0, 0.0, 0.0]);
        assert_eq!(b.to_vec(), vec![1.0, 0.0, 0.0]);
    }
}
