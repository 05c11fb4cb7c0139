//! Line charts of training curves, written as SVG with `plotters` (no
//! system fonts needed: text stays text in the SVG). Axes get readable
//! ticks (several labelled decades on log axes, whole epochs on epoch
//! axes), the legend sits beside the plot rather than over the curves, and
//! nine series get nine distinguishable colours.

mod axis;
mod ticks;

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::plot::axis::Axis;

/// One named curve of `(x, y)` points.
#[derive(Clone, Debug)]
pub struct Series<'a> {
    /// The legend entry.
    pub name: &'a str,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// How an axis maps values to positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    /// Evenly spaced values.
    Linear,
    /// Evenly spaced decades: for losses spanning several orders of
    /// magnitude, or runs of very different lengths on one x axis.
    Log,
}

/// A chart: a title, axis labels, scales and its curves.
///
/// ```
/// use descent::plot::{Chart, write_svg};
///
/// let chart = Chart::new("training loss", "epoch", "loss")
///     .log_y()
///     .series("SGD", vec![(1.0, 2.3), (2.0, 0.9), (3.0, 0.4)])
///     .series("Adam", vec![(1.0, 1.1), (2.0, 0.3)]);
/// let path = std::env::temp_dir().join(format!("doc-chart-{}.svg", std::process::id()));
/// write_svg(&path, &[chart])?;
/// # std::fs::remove_file(path).unwrap();
/// # Ok::<(), String>(())
/// ```
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x axis label. An axis labelled `epoch` gets whole-number ticks.
    pub x_label: &'a str,
    /// The y axis label.
    pub y_label: &'a str,
    /// The x axis' scale.
    pub x_scale: Scale,
    /// The y axis' scale.
    pub y_scale: Scale,
    /// The curves.
    pub series: Vec<Series<'a>>,
}

impl<'a> Chart<'a> {
    /// An empty chart with linear axes.
    pub fn new(title: &'a str, x_label: &'a str, y_label: &'a str) -> Chart<'a> {
        Chart {
            title,
            x_label,
            y_label,
            x_scale: Scale::Linear,
            y_scale: Scale::Linear,
            series: Vec::new(),
        }
    }

    /// With a logarithmic x axis.
    pub fn log_x(mut self) -> Chart<'a> {
        self.x_scale = Scale::Log;
        self
    }

    /// With a logarithmic y axis.
    pub fn log_y(mut self) -> Chart<'a> {
        self.y_scale = Scale::Log;
        self
    }

    /// With one more curve.
    pub fn series(mut self, name: &'a str, points: Vec<(f64, f64)>) -> Chart<'a> {
        self.series.push(Series { name, points });
        self
    }
}

/// Nine colours told apart at a glance, also by most colour-blind readers
/// (Tableau's palette without its grey and olive, plus black).
const COLORS: [RGBColor; 9] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
];

const CHART_WIDTH: u32 = 520;
const HEIGHT: u32 = 400;
/// Pixels per character of legend text at the legend's font size.
const LEGEND_CHAR_WIDTH: u32 = 7;

/// Writes `charts` side by side into one SVG file, each with its legend on
/// its right.
///
/// # Errors
/// A message if the file cannot be written or a chart has no finite points.
pub fn write_svg(path: impl AsRef<Path>, charts: &[Chart<'_>]) -> Result<(), String> {
    let widths: Vec<u32> = charts
        .iter()
        .map(|c| CHART_WIDTH + legend_width(c))
        .collect();
    let total = widths.iter().sum::<u32>().max(CHART_WIDTH);
    let root = SVGBackend::new(path.as_ref(), (total, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut rest = root;
    for (chart, width) in charts.iter().zip(&widths) {
        let (area, right) = rest.split_horizontally(*width);
        let (plot, legend) = area.split_horizontally(CHART_WIDTH);
        draw(&plot, chart).map_err(|e| format!("{}: {e}", chart.title))?;
        draw_legend(&legend, chart).map_err(|e| e.to_string())?;
        rest = right;
    }
    rest.present().map_err(|e| e.to_string())
}

fn legend_width(chart: &Chart<'_>) -> u32 {
    let longest = chart.series.iter().map(|s| s.name.chars().count()).max();
    longest.map_or(0, |chars| 40 + chars as u32 * LEGEND_CHAR_WIDTH)
}

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn draw_legend(
    area: &Area<'_>,
    chart: &Chart<'_>,
) -> Result<(), DrawingAreaErrorKind<std::io::Error>> {
    for (i, series) in chart.series.iter().enumerate() {
        let y = 50 + 20 * i as i32;
        let color = COLORS[i % COLORS.len()];
        area.draw(&PathElement::new(
            vec![(4, y), (26, y)],
            color.stroke_width(3),
        ))?;
        area.draw(&Text::new(series.name, (32, y - 7), ("sans-serif", 13)))?;
    }
    Ok(())
}

/// The smallest and largest of `values`, widened when they are equal.
fn bounds(values: impl Iterator<Item = f64>, scale: Scale) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    match (hi > lo, scale) {
        (true, _) => (lo, hi),
        (false, Scale::Linear) => (lo - 0.5, hi + 0.5),
        (false, Scale::Log) => (lo / 2.0, hi * 2.0),
    }
}

fn draw(area: &Area<'_>, chart: &Chart<'_>) -> Result<(), String> {
    let plottable = |&(x, y): &(f64, f64)| {
        let fits = |v: f64, scale| v.is_finite() && (scale == Scale::Linear || v > 0.0);
        fits(x, chart.x_scale) && fits(y, chart.y_scale)
    };
    let points: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().copied().filter(plottable))
        .collect();
    if points.is_empty() {
        return Err("no finite points to plot".into());
    }
    let (x0, x1) = bounds(points.iter().map(|p| p.0), chart.x_scale);
    let (y0, y1) = bounds(points.iter().map(|p| p.1), chart.y_scale);
    let whole_x = chart.x_label == "epoch" && points.iter().all(|p| p.0.fract() == 0.0);
    let mut ctx = ChartBuilder::on(area)
        .caption(chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(
            Axis::new(x0, x1, chart.x_scale, whole_x),
            Axis::new(y0, y1, chart.y_scale, false),
        )
        .map_err(|e| e.to_string())?;
    ctx.configure_mesh()
        .x_desc(chart.x_label)
        .y_desc(chart.y_label)
        .x_label_formatter(&|v| ticks::label(*v))
        .y_label_formatter(&|v| ticks::label(*v))
        .draw()
        .map_err(|e| e.to_string())?;
    for (i, series) in chart.series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let line = series.points.iter().copied().filter(plottable);
        ctx.draw_series(LineSeries::new(line, color.stroke_width(2)))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
