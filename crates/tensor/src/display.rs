//! PyTorch's print format (`torch/_tensor_str.py`, default options): nested
//! brackets aligned under each other, 4 decimals, a common width for every
//! element, scientific notation when magnitudes differ by more than 1000x,
//! and only the first and last 3 entries of each dimension past 1000
//! elements. Shared by [`Tensor`], [`IndexTensor`] and [`Mask`].

use std::fmt;

use crate::index_tensor::IndexTensor;
use crate::mask::Mask;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// More elements than this are summarized (PyTorch's `threshold`).
const THRESHOLD: usize = 1000;
/// Entries kept at each end of a summarized dimension (`edgeitems`).
const EDGE_ITEMS: usize = 3;
/// The line width PyTorch wraps vectors at (`linewidth`).
const LINE_WIDTH: usize = 80;
/// `tensor(`, the prefix every line's indentation accounts for.
const PREFIX: &str = "tensor(";

impl fmt::Display for Tensor {
    /// Prints as PyTorch does:
    ///
    /// ```
    /// use descent_tensor::Tensor;
    ///
    /// let x = Tensor::from([[1.5, -2.0], [3.0, 4.25]]);
    /// assert_eq!(
    ///     x.to_string(),
    ///     "tensor([[ 1.5000, -2.0000],\n        [ 3.0000,  4.2500]])"
    /// );
    /// assert_eq!(Tensor::from([1.0, 2.0]).to_string(), "tensor([1., 2.])");
    /// assert_eq!(Tensor::scalar(0.5).to_string(), "tensor(0.5000)");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data();
        write_tensor(f, self.shape(), None, |shown| {
            let format = FloatFormat::new(shown.iter().map(|&i| data[i]));
            (format.width, Box::new(move |i| format.format(data[i])))
        })
    }
}

impl fmt::Display for IndexTensor {
    /// Prints as PyTorch prints an `int64` tensor: `tensor([2, 0, 1])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data();
        write_tensor(f, self.shape(), Some("torch.int64"), |shown| {
            let width = shown.iter().map(|&i| data[i].to_string().len()).max();
            (width.unwrap_or(1), Box::new(|i| data[i].to_string()))
        })
    }
}

impl fmt::Display for Mask {
    /// Prints as PyTorch prints a `bool` tensor: `tensor([ True, False])`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let data = self.data();
        let word = |b: bool| if b { "True" } else { "False" };
        write_tensor(f, self.shape(), Some("torch.bool"), |shown| {
            let width = shown.iter().map(|&i| word(data[i]).len()).max();
            (width.unwrap_or(1), Box::new(move |i| word(data[i]).into()))
        })
    }
}

/// The short `Debug` form of an array: its type, shape and first 16
/// elements, one line whatever its size.
pub(crate) fn debug_short<T: fmt::Debug>(
    f: &mut fmt::Formatter<'_>,
    name: &str,
    shape: Shape,
    data: &[T],
) -> fmt::Result {
    const SHOWN: usize = 16;
    write!(f, "{name}{shape:?} {:?}", &data[..data.len().min(SHOWN)])?;
    if data.len() > SHOWN {
        write!(f, " ... ({} more)", data.len() - SHOWN)?;
    }
    Ok(())
}

/// The text of one element at a flat offset, before padding.
type Element<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// Writes `tensor(...)` for an array of `shape`. `formatter` receives the
/// offsets of the elements that will be shown (all of them, or the edges
/// of a summarized array) and returns the common width and the text of one
/// element. An empty array whose type is not the default `float32` names
/// it, as PyTorch does, since no element shows it.
fn write_tensor<'a>(
    f: &mut fmt::Formatter<'_>,
    shape: Shape,
    empty_dtype: Option<&str>,
    formatter: impl FnOnce(&[usize]) -> (usize, Element<'a>),
) -> fmt::Result {
    f.write_str(PREFIX)?;
    if shape.numel() == 0 {
        f.write_str("[]")?;
        if shape.rank() != 1 {
            let dims: Vec<String> = shape.dims().iter().map(usize::to_string).collect();
            write!(f, ", size=({})", dims.join(", "))?;
        }
        if let Some(dtype) = empty_dtype {
            write!(f, ", dtype={dtype}")?;
        }
        return f.write_str(")");
    }
    let summarize = shape.numel() > THRESHOLD;
    let mut shown = Vec::new();
    Walk { shape, summarize }.collect_shown(0, 0, &mut shown);
    let (width, element) = formatter(&shown);
    let padded = |i: usize| format!("{:>width$}", element(i));
    let mut out = String::new();
    let walk = Walk { shape, summarize };
    walk.render(0, 0, PREFIX.len(), (width, &padded), &mut out);
    f.write_str(&out)?;
    f.write_str(")")
}

/// A recursive walk over the dimensions of a row-major array.
struct Walk {
    shape: Shape,
    summarize: bool,
}

impl Walk {
    /// The positions shown along `axis`: all, or the edges with `None`
    /// standing for the elided middle.
    fn positions(&self, axis: usize) -> Vec<Option<usize>> {
        let n = self.shape.dim(axis);
        if self.summarize && n > 2 * EDGE_ITEMS {
            let head = (0..EDGE_ITEMS).map(Some);
            let tail = (n - EDGE_ITEMS..n).map(Some);
            head.chain([None]).chain(tail).collect()
        } else {
            (0..n).map(Some).collect()
        }
    }

    fn collect_shown(&self, axis: usize, offset: usize, shown: &mut Vec<usize>) {
        if axis == self.shape.rank() {
            shown.push(offset);
            return;
        }
        let stride = self.shape.strides()[axis];
        for i in self.positions(axis).into_iter().flatten() {
            self.collect_shown(axis + 1, offset + i * stride, shown);
        }
    }

    /// Appends the text of the sub-array at `offset` from `axis` on, whose
    /// opening bracket sits at column `indent`; `element` gives the padded
    /// text of an element, `width` wide.
    fn render(
        &self,
        axis: usize,
        offset: usize,
        indent: usize,
        (width, element): (usize, &dyn Fn(usize) -> String),
        out: &mut String,
    ) {
        let rank = self.shape.rank();
        if axis == rank {
            out.push_str(&element(offset));
            return;
        }
        let stride = self.shape.strides()[axis];
        let positions = self.positions(axis);
        out.push('[');
        if axis + 1 == rank {
            let items: Vec<String> = positions
                .iter()
                .map(|p| p.map_or_else(|| " ...".to_string(), |i| element(offset + i * stride)))
                .collect();
            let per_line = (LINE_WIDTH.saturating_sub(indent) / (width + 2)).max(1);
            let separator = format!(",\n{}", " ".repeat(indent + 1));
            let lines: Vec<String> = items.chunks(per_line).map(|l| l.join(", ")).collect();
            out.push_str(&lines.join(&separator));
        } else {
            let separator = format!(
                ",{}{}",
                "\n".repeat(rank - axis - 1),
                " ".repeat(indent + 1)
            );
            for (k, p) in positions.iter().enumerate() {
                if k > 0 {
                    out.push_str(&separator);
                }
                match p {
                    Some(i) => {
                        let at = offset + i * stride;
                        self.render(axis + 1, at, indent + 1, (width, element), out)
                    }
                    None => out.push_str("..."),
                }
            }
        }
        out.push(']');
    }
}

/// PyTorch's float formatter: integers as `3.`, else 4 decimals, or
/// scientific notation when the nonzero finite magnitudes span more than
/// 1000x, exceed 1e8 or (for non-integers) fall below 1e-4.
struct FloatFormat {
    mode: Mode,
    width: usize,
}

#[derive(Clone, Copy)]
enum Mode {
    Integer,
    Fixed,
    Scientific,
}

impl FloatFormat {
    fn new(values: impl Iterator<Item = f32>) -> FloatFormat {
        let finite: Vec<f64> = values
            .filter(|v| v.is_finite() && *v != 0.0)
            .map(f64::from)
            .collect();
        let mut format = FloatFormat {
            mode: Mode::Integer,
            width: 1,
        };
        if finite.is_empty() {
            return format;
        }
        let (min, max) = finite.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v.abs()), hi.max(v.abs()))
        });
        let integers = finite.iter().all(|v| v.ceil() == *v);
        let wide = max / min > 1000.0 || max > 1.0e8;
        format.mode = match (integers, wide || (!integers && min < 1.0e-4)) {
            (_, true) => Mode::Scientific,
            (true, false) => Mode::Integer,
            (false, false) => Mode::Fixed,
        };
        format.width = finite
            .iter()
            .map(|&v| format.text(v).len())
            .max()
            .unwrap_or(1);
        format
    }

    /// The unpadded text of `value`.
    fn text(&self, value: f64) -> String {
        if value.is_nan() {
            return "nan".into();
        }
        if value.is_infinite() {
            return if value > 0.0 { "inf" } else { "-inf" }.into();
        }
        match self.mode {
            Mode::Integer => format!("{value:.0}."),
            Mode::Fixed => format!("{value:.4}"),
            Mode::Scientific => {
                // Rust writes `1.2346e4`; Python writes `1.2346e+04`.
                let text = format!("{value:.4e}");
                let (mantissa, exponent) = text.split_once('e').expect("{:e} has an exponent");
                let exponent: i32 = exponent.parse().expect("{:e} exponent is an integer");
                let sign = if exponent < 0 { '-' } else { '+' };
                format!("{mantissa}e{sign}{:02}", exponent.abs())
            }
        }
    }

    fn format(&self, value: f32) -> String {
        self.text(f64::from(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_align_under_the_prefix() {
        let x = Tensor::from([[1.0, 2.5], [-3.0, 4.0]]);
        assert_eq!(
            x.to_string(),
            "tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])"
        );
        let cube = Tensor::arange(0.0, 8.0, 1.0).reshape([2, 2, 2]);
        assert_eq!(
            cube.to_string(),
            "tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])"
        );
    }

    #[test]
    fn number_formats_follow_pytorch() {
        let show = |v: &[f32]| Tensor::from_slice(v).to_string();
        assert_eq!(show(&[0.0, 0.0]), "tensor([0., 0.])");
        assert_eq!(show(&[1.0, -20.0]), "tensor([  1., -20.])");
        assert_eq!(show(&[0.1, 1.0]), "tensor([0.1000, 1.0000])");
        assert_eq!(show(&[1e-5, 1.0]), "tensor([1.0000e-05, 1.0000e+00])");
        assert_eq!(show(&[1.0, 2e9]), "tensor([1.0000e+00, 2.0000e+09])");
        assert_eq!(
            show(&[f32::NAN, 1.5, f32::NEG_INFINITY]),
            "tensor([   nan, 1.5000,   -inf])"
        );
        assert_eq!(show(&[f32::INFINITY, 2.0]), "tensor([inf, 2.])");
        assert_eq!(Tensor::scalar(-3.0).to_string(), "tensor(-3.)");
    }

    #[test]
    fn empty_tensors_name_their_shape() {
        assert_eq!(Tensor::zeros([0]).to_string(), "tensor([])");
        assert_eq!(Tensor::zeros([2, 0]).to_string(), "tensor([], size=(2, 0))");
        assert_eq!(
            IndexTensor::from(Vec::new()).to_string(),
            "tensor([], dtype=torch.int64)"
        );
    }

    #[test]
    fn long_vectors_wrap_at_80_columns() {
        let x = Tensor::arange(0.0, 30.0, 1.0).add_scalar(0.5);
        let expected = "tensor([ 0.5000,  1.5000,  2.5000,  3.5000,  4.5000,  5.5000,  6.5000,  7.5000,\n         8.5000,  9.5000, 10.5000, 11.5000, 12.5000, 13.5000, 14.5000, 15.5000,\n        16.5000, 17.5000, 18.5000, 19.5000, 20.5000, 21.5000, 22.5000, 23.5000,\n        24.5000, 25.5000, 26.5000, 27.5000, 28.5000, 29.5000])";
        assert_eq!(x.to_string(), expected);
    }

    #[test]
    fn large_tensors_show_three_entries_at_each_end() {
        let v = Tensor::arange(1000.0, 3000.0, 1.0);
        assert_eq!(
            v.to_string(),
            "tensor([1000., 1001., 1002.,  ..., 2997., 2998., 2999.])"
        );
        let m = v.reshape([40, 50]);
        let expected = "tensor([[1000., 1001., 1002.,  ..., 1047., 1048., 1049.],\n        [1050., 1051., 1052.,  ..., 1097., 1098., 1099.],\n        [1100., 1101., 1102.,  ..., 1147., 1148., 1149.],\n        ...,\n        [2850., 2851., 2852.,  ..., 2897., 2898., 2899.],\n        [2900., 2901., 2902.,  ..., 2947., 2948., 2949.],\n        [2950., 2951., 2952.,  ..., 2997., 2998., 2999.]])";
        assert_eq!(m.to_string(), expected);
        // Magnitudes 1 to 1999 span more than 1000x: scientific, and the
        // wider elements wrap the line, as PyTorch prints `arange(2000.)`.
        assert_eq!(
            Tensor::arange(0.0, 2000.0, 1.0).to_string(),
            "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03])"
        );
    }

    #[test]
    fn indices_and_masks_print_as_integer_and_bool_tensors() {
        assert_eq!(
            IndexTensor::from([[2, 10], [0, 1]]).to_string(),
            "tensor([[ 2, 10],\n        [ 0,  1]])"
        );
        assert_eq!(
            Mask::from([true, false]).to_string(),
            "tensor([ True, False])"
        );
        assert_eq!(Mask::from([true]).to_string(), "tensor([True])");
    }
}
