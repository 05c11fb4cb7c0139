//! Convolution layers with PyTorch's names, layouts, defaults and
//! initialization: `Conv2d` over `[batch, channels, h, w]` and `Conv1d` over
//! `[batch, channels, length]`.

use descent_autograd::{Param, Tape, Var};
use descent_tensor::{Conv1dOptions, Conv2dOptions, Pair};
use rand::Rng;

use crate::init::uniform;
use crate::module::{Module, ParamVisitor};

/// A convolution's weight and bias, drawn as PyTorch draws them: both
/// uniform in `+-1/sqrt(fan_in)` (Kaiming uniform with `a = sqrt(5)` for the
/// weight), `fan_in = in / groups * kernel elements`, weight first.
#[derive(Debug)]
struct ConvParams {
    weight: Param,
    /// Drawn even for a layer built without bias, so that switching the
    /// bias off changes neither the weight's draw nor the RNG's state after.
    bias: Param,
    has_bias: bool,
    in_channels: usize,
    groups: usize,
}

impl ConvParams {
    fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel: &[usize],
        rng: &mut R,
    ) -> ConvParams {
        let mut shape = vec![out_channels, in_channels];
        shape.extend_from_slice(kernel);
        let fan_in = in_channels * kernel.iter().product::<usize>();
        let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
        ConvParams {
            weight: Param::new(uniform(shape, bound, rng)),
            bias: Param::new(uniform([out_channels], bound, rng)),
            has_bias: true,
            in_channels,
            groups: 1,
        }
    }

    /// Splits the channels into `groups`. Each filter keeps its first
    /// `in / groups` input channels, and the weight and bias are scaled by
    /// `sqrt(groups)`: the fan-in shrank `groups`-fold, so the scaled draws
    /// are exactly uniform in the new `+-1/sqrt(fan_in)`.
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts, or the groups were
    /// already set; the message names `layer`.
    fn set_groups(&mut self, layer: &str, groups: usize) {
        let out_channels = self.out_channels();
        assert!(
            self.groups == 1,
            "{layer}: groups were already set to {}",
            self.groups
        );
        assert!(
            groups > 0
                && self.in_channels.is_multiple_of(groups)
                && out_channels.is_multiple_of(groups),
            "{layer}: {groups} groups do not divide {} input and {out_channels} output channels",
            self.in_channels
        );
        let scale = (groups as f32).sqrt();
        let kept = self.weight.value().narrow(1, 0, self.in_channels / groups);
        self.weight = Param::new(kept.mul_scalar(scale));
        self.bias = Param::new(self.bias.value().mul_scalar(scale));
        self.groups = groups;
    }

    fn out_channels(&self) -> usize {
        self.weight.shape().dim(0)
    }

    fn on<'t>(&self, tape: &'t Tape) -> (Var<'t>, Option<Var<'t>>) {
        let bias = self.has_bias.then(|| tape.param(&self.bias));
        (tape.param(&self.weight), bias)
    }

    fn visit(&self, visitor: &mut ParamVisitor<'_>) {
        visitor.param("weight", &self.weight);
        if self.has_bias {
            visitor.param("bias", &self.bias);
        }
    }

    fn bias(&self) -> Option<&Param> {
        self.has_bias.then_some(&self.bias)
    }

    /// PyTorch's description of the options that differ from the defaults,
    /// e.g. `, padding=(2, 2)`; the stride is always shown.
    fn describe_options(&self, stride: String, [padding, dilation]: [Option<String>; 2]) -> String {
        let mut text = format!(", stride={stride}");
        if let Some(padding) = padding {
            text += &format!(", padding={padding}");
        }
        if let Some(dilation) = dilation {
            text += &format!(", dilation={dilation}");
        }
        if self.groups != 1 {
            text += &format!(", groups={}", self.groups);
        }
        if !self.has_bias {
            text += ", bias=False";
        }
        text
    }
}

/// 2-D convolution over `[batch, in_channels, h, w]`, as PyTorch's
/// `nn.Conv2d`: weight `[out, in / groups, kh, kw]`, bias `[out]`, both
/// initialized as PyTorch does; stride 1, no padding, dilation 1, one group
/// and a bias unless the builder methods say otherwise. Sizes are a single
/// number or an `(h, w)` pair.
///
/// ```
/// use descent_layers::{Conv2d, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::{Tensor, seeded_rng};
///
/// let mut rng = seeded_rng(0);
/// let conv = Conv2d::new(3, 8, 3, &mut rng).stride(2).padding(1);
/// let tape = Tape::new();
/// let y = conv.forward(tape.constant(Tensor::zeros([4, 3, 32, 32])));
/// assert_eq!(y.shape().dims(), &[4, 8, 16, 16]);
/// assert_eq!(conv.num_parameters(), 8 * 3 * 3 * 3 + 8);
/// ```
#[derive(Debug)]
pub struct Conv2d {
    params: ConvParams,
    options: Conv2dOptions,
}

impl Conv2d {
    /// A convolution from `in_channels` to `out_channels` with a square or
    /// `(kh, kw)` kernel, with PyTorch's defaults and initialization.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel_size: impl Into<Pair>,
        rng: &mut R,
    ) -> Conv2d {
        let kernel = kernel_size.into();
        Conv2d {
            params: ConvParams::new(in_channels, out_channels, &[kernel.h, kernel.w], rng),
            options: Conv2dOptions::default(),
        }
    }

    /// The step between output positions (default 1).
    pub fn stride(mut self, stride: impl Into<Pair>) -> Conv2d {
        self.options.stride = stride.into();
        self
    }

    /// Zeros added on both sides of each spatial dimension (default 0).
    pub fn padding(mut self, padding: impl Into<Pair>) -> Conv2d {
        self.options.padding = padding.into();
        self
    }

    /// The spacing between kernel taps (default 1).
    pub fn dilation(mut self, dilation: impl Into<Pair>) -> Conv2d {
        self.options.dilation = dilation.into();
        self
    }

    /// Splits the channels into `groups` convolved separately (default 1);
    /// the weight becomes `[out, in / groups, kh, kw]`, initialized for
    /// its smaller fan-in.
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts, or is set twice.
    pub fn groups(mut self, groups: usize) -> Conv2d {
        self.params.set_groups("Conv2d", groups);
        self.options.groups = groups;
        self
    }

    /// With or without a bias (default with).
    pub fn bias(mut self, bias: bool) -> Conv2d {
        self.params.has_bias = bias;
        self
    }

    /// The weight, `[out, in / groups, kh, kw]`.
    pub fn weight_param(&self) -> &Param {
        &self.params.weight
    }

    /// The bias, `[out]`, if the layer has one.
    pub fn bias_param(&self) -> Option<&Param> {
        self.params.bias()
    }

    /// Stride, padding, dilation and groups.
    pub fn options(&self) -> Conv2dOptions {
        self.options
    }
}

impl Module for Conv2d {
    /// # Panics
    /// If the input is not `[batch, in_channels, h, w]` or smaller than the
    /// (dilated) kernel after padding.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let (weight, bias) = self.params.on(input.tape());
        input.conv2d(weight, bias, self.options)
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        self.params.visit(visitor);
    }

    fn describe(&self) -> String {
        let w = self.params.weight.shape();
        let o = self.options;
        let padding = (o.padding != Pair::from(0)).then(|| o.padding.to_string());
        let dilation = (o.dilation != Pair::from(1)).then(|| o.dilation.to_string());
        format!(
            "Conv2d({}, {}, kernel_size={}{})",
            self.params.in_channels,
            w.dim(0),
            Pair::from((w.dim(2), w.dim(3))),
            self.params
                .describe_options(o.stride.to_string(), [padding, dilation])
        )
    }
}

/// 1-D convolution over `[batch, in_channels, length]`, as PyTorch's
/// `nn.Conv1d`: weight `[out, in / groups, k]`, bias `[out]`, with the same
/// defaults and initialization as [`Conv2d`], and run by the same kernels.
///
/// ```
/// use descent_layers::{Conv1d, Module};
/// use descent_autograd::Tape;
/// use descent_tensor::{Tensor, seeded_rng};
///
/// let conv = Conv1d::new(4, 6, 5, &mut seeded_rng(0)).padding(2).groups(2);
/// let tape = Tape::new();
/// let y = conv.forward(tape.constant(Tensor::zeros([3, 4, 20])));
/// assert_eq!(y.shape().dims(), &[3, 6, 20]);
/// assert_eq!(conv.weight_param().shape().dims(), &[6, 2, 5]);
/// ```
#[derive(Debug)]
pub struct Conv1d {
    params: ConvParams,
    options: Conv1dOptions,
}

impl Conv1d {
    /// A convolution from `in_channels` to `out_channels` with a kernel of
    /// `kernel_size` taps, with PyTorch's defaults and initialization.
    pub fn new<R: Rng + ?Sized>(
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        rng: &mut R,
    ) -> Conv1d {
        Conv1d {
            params: ConvParams::new(in_channels, out_channels, &[kernel_size], rng),
            options: Conv1dOptions::default(),
        }
    }

    /// The step between output positions (default 1).
    pub fn stride(mut self, stride: usize) -> Conv1d {
        self.options.stride = stride;
        self
    }

    /// Zeros added at both ends (default 0).
    pub fn padding(mut self, padding: usize) -> Conv1d {
        self.options.padding = padding;
        self
    }

    /// The spacing between kernel taps (default 1).
    pub fn dilation(mut self, dilation: usize) -> Conv1d {
        self.options.dilation = dilation;
        self
    }

    /// Splits the channels into `groups` convolved separately (default 1).
    ///
    /// # Panics
    /// If `groups` does not divide both channel counts, or is set twice.
    pub fn groups(mut self, groups: usize) -> Conv1d {
        self.params.set_groups("Conv1d", groups);
        self.options.groups = groups;
        self
    }

    /// With or without a bias (default with).
    pub fn bias(mut self, bias: bool) -> Conv1d {
        self.params.has_bias = bias;
        self
    }

    /// The weight, `[out, in / groups, k]`.
    pub fn weight_param(&self) -> &Param {
        &self.params.weight
    }

    /// The bias, `[out]`, if the layer has one.
    pub fn bias_param(&self) -> Option<&Param> {
        self.params.bias()
    }
}

impl Module for Conv1d {
    /// # Panics
    /// If the input is not `[batch, in_channels, length]` or shorter than
    /// the (dilated) kernel after padding.
    fn forward<'t>(&self, input: Var<'t>) -> Var<'t> {
        let (weight, bias) = self.params.on(input.tape());
        input.conv1d(weight, bias, self.options)
    }

    fn visit_params(&self, visitor: &mut ParamVisitor<'_>) {
        self.params.visit(visitor);
    }

    fn describe(&self) -> String {
        let w = self.params.weight.shape();
        let o = self.options;
        let padding = (o.padding != 0).then(|| format!("({},)", o.padding));
        let dilation = (o.dilation != 1).then(|| format!("({},)", o.dilation));
        format!(
            "Conv1d({}, {}, kernel_size=({},){})",
            self.params.in_channels,
            w.dim(0),
            w.dim(2),
            self.params
                .describe_options(format!("({},)", o.stride), [padding, dilation])
        )
    }
}
