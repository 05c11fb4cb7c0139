//! Where an axis gets its labelled ticks, and how they are written: "nice"
//! steps (1, 2 or 5 times a power of ten) on linear axes, every decade (with
//! 2 and 5 in between when there are few) on logarithmic ones.

/// About this many labelled ticks on a linear axis.
const TARGET_TICKS: f64 = 6.0;

/// Tick positions covering `[lo, hi]` on a linear axis; whole numbers only
/// when `integer` (epoch counts).
pub(crate) fn linear(lo: f64, hi: f64, integer: bool) -> Vec<f64> {
    let raw_step = (hi - lo) / TARGET_TICKS;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|&s| s >= raw_step)
        .unwrap_or(10.0 * magnitude);
    if integer {
        step = step.max(1.0).round();
    }
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// Tick positions covering `[lo, hi]` (both positive) on a log axis: the
/// powers of ten, plus 2x and 5x them when fewer than three decades show,
/// and every multiple when less than one does.
pub(crate) fn logarithmic(lo: f64, hi: f64) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let decades = (hi / lo).log10();
    let multiples: &[f64] = match decades {
        d if d < 1.0 => &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
        d if d < 3.0 => &[1.0, 2.0, 5.0],
        _ => &[1.0],
    };
    (first..=last)
        .flat_map(|e| multiples.iter().map(move |m| m * 10f64.powi(e)))
        .filter(|&t| t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9))
        .collect()
}

/// A tick label: as short as the value allows (`20`, `0.5`, `1e-4`, `2e5`).
pub(crate) fn label(value: f64) -> String {
    if value == 0.0 {
        return "0".into();
    }
    let magnitude = value.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        let formatted = format!("{value:.0e}");
        return formatted.replace("e0", "").replace("e-0", "e-");
    }
    let text = format!("{value:.4}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice_numbers() {
        assert_eq!(linear(0.0, 200.0, true), [0.0, 50.0, 100.0, 150.0, 200.0]);
        assert_eq!(linear(1.0, 5.0, true), [1.0, 2.0, 3.0, 4.0, 5.0]);
        let labels: Vec<String> = linear(0.05, 0.95, false).into_iter().map(label).collect();
        assert_eq!(labels, ["0.2", "0.4", "0.6", "0.8"]);
    }

    #[test]
    fn epoch_ticks_stay_whole_on_short_runs() {
        assert_eq!(linear(1.0, 2.0, true), [1.0, 2.0]);
    }

    #[test]
    fn log_ticks_label_several_decades() {
        assert_eq!(
            logarithmic(0.02, 3.0),
            [0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0]
        );
        assert_eq!(logarithmic(1e-4, 10.0), [1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0]);
        assert_eq!(
            logarithmic(2500.0, 9000.0),
            [3000.0, 4000.0, 5000.0, 6000.0, 7000.0, 8000.0, 9000.0]
        );
    }

    #[test]
    fn labels_are_short() {
        let labels: Vec<String> = [20.0, 0.5, 1e-4, 2e5, 0.0, 1.25].map(label).to_vec();
        assert_eq!(labels, ["20", "0.5", "1e-4", "2e5", "0", "1.25"]);
    }
}
