//! Line charts of training curves, written as SVG with `plotters` (no
//! system fonts needed: text stays text in the SVG).

use std::path::Path;

use plotters::prelude::*;

/// One named curve of `(x, y)` points.
pub struct Series<'a> {
    /// The legend entry.
    pub name: &'a str,
    /// The points, in x order.
    pub points: Vec<(f64, f64)>,
}

/// A chart: a title, axis labels and its curves.
pub struct Chart<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x axis label.
    pub x_label: &'a str,
    /// The y axis label.
    pub y_label: &'a str,
    /// Plot y on a logarithmic scale (for losses spanning decades).
    pub log_y: bool,
    /// The curves.
    pub series: Vec<Series<'a>>,
}

const COLORS: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Writes `charts` side by side into one SVG file.
///
/// # Errors
/// A message if the file cannot be written or a chart has no finite points.
pub fn write_svg(path: impl AsRef<Path>, charts: &[Chart<'_>]) -> Result<(), String> {
    let width = 520 * charts.len().max(1) as u32;
    let root = SVGBackend::new(path.as_ref(), (width, 400)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    for (area, chart) in root
        .split_evenly((1, charts.len().max(1)))
        .iter()
        .zip(charts)
    {
        draw(area, chart).map_err(|e| format!("{}: {e}", chart.title))?;
    }
    root.present().map_err(|e| e.to_string())
}

fn draw(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &Chart<'_>,
) -> Result<(), String> {
    let finite =
        |&&(x, y): &&(f64, f64)| x.is_finite() && y.is_finite() && (!chart.log_y || y > 0.0);
    let points: Vec<(f64, f64)> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().filter(finite).copied())
        .collect();
    if points.is_empty() {
        return Err("no finite points to plot".into());
    }
    let bounds = |values: Vec<f64>| {
        let (lo, hi) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        if hi > lo {
            (lo, hi)
        } else {
            (lo - 0.5, hi + 0.5)
        }
    };
    let (x0, x1) = bounds(points.iter().map(|p| p.0).collect());
    let (y0, y1) = bounds(points.iter().map(|p| p.1).collect());
    let mut builder = ChartBuilder::on(area);
    builder
        .caption(chart.title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(35)
        .y_label_area_size(55);
    macro_rules! plot_on {
        ($ctx:expr) => {{
            let mut ctx = $ctx.map_err(|e| e.to_string())?;
            ctx.configure_mesh()
                .x_desc(chart.x_label)
                .y_desc(chart.y_label)
                .draw()
                .map_err(|e| e.to_string())?;
            for (i, series) in chart.series.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                ctx.draw_series(LineSeries::new(
                    series.points.iter().filter(finite).copied(),
                    color.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(series.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
            }
            ctx.configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|e| e.to_string())?;
        }};
    }
    if chart.log_y {
        plot_on!(builder.build_cartesian_2d(x0..x1, (y0..y1).log_scale()));
    } else {
        plot_on!(builder.build_cartesian_2d(x0..x1, y0..y1));
    }
    Ok(())
}
