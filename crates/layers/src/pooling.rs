//! Pooling layers with PyTorch's names and defaults: `MaxPool2d`,
//! `AvgPool2d` and `AdaptiveAvgPool2d` over `[batch, channels, h, w]`.

use descent_autograd::Var;
use descent_tensor::{Pair, Pool2dOptions};

use crate::module::Module;

/// Max pooling, as PyTorch's `nn.MaxPool2d`: windows of `kernel_size`, a
/// stride equal to the window unless set, no padding unless set (padded
/// positions never win). Sizes are a single number or an `(h, w)` pair.
///
/// ```
/// use descent_layers::{MaxPool2d, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let y = MaxPool2d::new(2).forward(tape.constant(Tensor::zeros([8, 16, 28, 28])));
/// assert_eq!(y.shape().dims(), &[8, 16, 14, 14]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MaxPool2d {
    options: Pool2dOptions,
}

impl MaxPool2d {
    /// Windows of `kernel_size` with stride `kernel_size`.
    pub fn new(kernel_size: impl Into<Pair>) -> MaxPool2d {
        MaxPool2d {
            options: Pool2dOptions::new(kernel_size),
        }
    }

    /// The step between windows (default: the window size).
    pub fn stride(mut self, stride: impl Into<Pair>) -> MaxPool2d {
        self.options.stride = stride.into();
        self
    }

    /// Implicit negative infinity on both sides (default 0); at most half
    /// the window.
    pub fn padding(mut self, padding: impl Into<Pair>) -> MaxPool2d {
        self.options.padding = padding.into();
        self
    }
}

impl Module for MaxPool2d {
    /// # Panics
    /// If the input is not 4-D, smaller than the window, or the padding is
    /// more than half the window.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        input.max_pool2d(self.options)
    }

    fn describe(&self) -> String {
        describe_pool("MaxPool2d", self.options, "")
    }
}

/// Average pooling, as PyTorch's `nn.AvgPool2d`: like [`MaxPool2d`], with
/// zero padding counted in the average unless
/// [`AvgPool2d::count_include_pad`] is turned off.
#[derive(Clone, Copy, Debug)]
pub struct AvgPool2d {
    options: Pool2dOptions,
    count_include_pad: bool,
}

impl AvgPool2d {
    /// Windows of `kernel_size` with stride `kernel_size`.
    pub fn new(kernel_size: impl Into<Pair>) -> AvgPool2d {
        AvgPool2d {
            options: Pool2dOptions::new(kernel_size),
            count_include_pad: true,
        }
    }

    /// The step between windows (default: the window size).
    pub fn stride(mut self, stride: impl Into<Pair>) -> AvgPool2d {
        self.options.stride = stride.into();
        self
    }

    /// Implicit zeros on both sides (default 0); at most half the window.
    pub fn padding(mut self, padding: impl Into<Pair>) -> AvgPool2d {
        self.options.padding = padding.into();
        self
    }

    /// Whether padded zeros count in the average (default true).
    pub fn count_include_pad(mut self, include: bool) -> AvgPool2d {
        self.count_include_pad = include;
        self
    }
}

impl Module for AvgPool2d {
    /// # Panics
    /// As [`MaxPool2d`]'s.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        input.avg_pool2d(self.options, self.count_include_pad)
    }

    fn describe(&self) -> String {
        let extra = if self.count_include_pad {
            ""
        } else {
            ", count_include_pad=False"
        };
        describe_pool("AvgPool2d", self.options, extra)
    }
}

/// Average pooling to a fixed output size whatever the input's, as
/// PyTorch's `nn.AdaptiveAvgPool2d`; an output of 1 is global average
/// pooling.
///
/// ```
/// use descent_layers::{AdaptiveAvgPool2d, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::Tensor;
///
/// let tape = Tape::new();
/// let y = AdaptiveAvgPool2d::new(1).forward(tape.constant(Tensor::ones([2, 5, 7, 9])));
/// assert_eq!(y.shape().dims(), &[2, 5, 1, 1]);
/// assert_eq!(y.value().to_vec(), vec![1.0; 10]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct AdaptiveAvgPool2d {
    output_size: Pair,
}

impl AdaptiveAvgPool2d {
    /// Pools every channel to `output_size` (a number or an `(h, w)` pair).
    pub fn new(output_size: impl Into<Pair>) -> AdaptiveAvgPool2d {
        AdaptiveAvgPool2d {
            output_size: output_size.into(),
        }
    }
}

impl Module for AdaptiveAvgPool2d {
    /// # Panics
    /// If the input is not 4-D.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        input.adaptive_avg_pool2d(self.output_size)
    }

    fn describe(&self) -> String {
        format!("AdaptiveAvgPool2d(output_size={})", size(self.output_size))
    }
}

/// A size as PyTorch prints it: `2` for a square one, `(2, 3)` otherwise.
fn size(pair: Pair) -> String {
    if pair.h == pair.w {
        pair.h.to_string()
    } else {
        pair.to_string()
    }
}

fn describe_pool(name: &str, o: Pool2dOptions, extra: &str) -> String {
    format!(
        "{name}(kernel_size={}, stride={}, padding={}{extra})",
        size(o.kernel),
        size(o.stride),
        size(o.padding)
    )
}
