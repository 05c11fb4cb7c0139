//! Keras-style model summaries: each layer's name, output shape and
//! parameter count for a given input shape, and the total.

use std::fmt;

use descent_autograd::Tape;
use descent_tensor::{Shape, Tensor};

use crate::module::Module;

/// One row of a [`Summary`].
#[derive(Clone, Debug, PartialEq)]
pub struct LayerSummary {
    /// The layer's position, e.g. `0` or `2.1` inside nested containers.
    pub name: String,
    /// The layer's [`Module::describe`].
    pub description: String,
    /// The shape the layer produced.
    pub output_shape: Shape,
    /// The layer's own parameter count (its sub-layers' included).
    pub parameters: usize,
}

/// A model's layers with output shapes and parameter counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// The layers in order; containers list their children instead of themselves.
    pub layers: Vec<LayerSummary>,
    /// All parameters of the model.
    pub total_parameters: usize,
}

/// Runs `model` once on zeros of `input_shape` (without recording a tape)
/// and tabulates every layer.
///
/// ```
/// use descent_layers::{Activation, Dense, Sequential, summary};
/// use descent_tensor::seeded_rng;
///
/// let mut rng = seeded_rng(0);
/// let mlp = Sequential::new().push(Dense::new(784, 128, &mut rng)).push(Activation::Relu).push(Dense::new(128, 10, &mut rng));
/// let s = summary(&mlp, [1, 784]);
/// assert_eq!(s.total_parameters, 101_770);
/// println!("{s}");
/// ```
pub fn summary(model: &dyn Module, input_shape: impl Into<Shape>) -> Summary {
    let tape = Tape::no_grad();
    let mut layers = Vec::new();
    model.trace(tape.constant(Tensor::zeros(input_shape)), "", &mut layers);
    Summary {
        layers,
        total_parameters: model.num_parameters(),
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<[String; 3]> = self
            .layers
            .iter()
            .map(|l| {
                [
                    format!("{} ({})", l.name, l.description),
                    format!("{:?}", l.output_shape),
                    group_thousands(l.parameters),
                ]
            })
            .collect();
        let header = [
            "Layer (type)".to_string(),
            "Output shape".into(),
            "Param #".into(),
        ];
        let widths: Vec<usize> = (0..3)
            .map(|c| {
                rows.iter()
                    .chain([&header])
                    .map(|r| r[c].len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let rule = "-".repeat(widths.iter().sum::<usize>() + 4);
        let line = |f: &mut fmt::Formatter<'_>, r: &[String; 3]| {
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:>w2$}",
                r[0],
                r[1],
                r[2],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2]
            )
        };
        line(f, &header)?;
        writeln!(f, "{rule}")?;
        for row in &rows {
            line(f, row)?;
        }
        writeln!(f, "{rule}")?;
        write!(
            f,
            "Total params: {}",
            group_thousands(self.total_parameters)
        )
    }
}

fn group_thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
