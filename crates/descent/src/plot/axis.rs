//! A plot axis over f64 values, linear or logarithmic, whose labelled ticks
//! are chosen by `ticks.rs` rather than by plotters' defaults (which label
//! one or two points of a log axis and print epochs as `20.0`).

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, KeyPointWeight, Ranged};

use crate::plot::Scale;
use crate::plot::ticks;

/// An axis from `lo` to `hi` with its tick positions.
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    scale: Scale,
    ticks: Vec<f64>,
}

impl Axis {
    /// An axis covering `[lo, hi]`; `whole` asks for whole-number ticks.
    pub(crate) fn new(lo: f64, hi: f64, scale: Scale, whole: bool) -> Axis {
        let ticks = match scale {
            Scale::Linear => ticks::linear(lo, hi, whole),
            Scale::Log => ticks::logarithmic(lo, hi),
        };
        Axis {
            lo,
            hi,
            scale,
            ticks,
        }
    }

    /// Where `value` lies between the ends, from 0 to 1.
    fn fraction(&self, value: f64) -> f64 {
        let position = |v: f64| match self.scale {
            Scale::Linear => v,
            Scale::Log => v.ln(),
        };
        (position(value) - position(self.lo)) / (position(self.hi) - position(self.lo))
    }
}

impl Ranged for Axis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = (limit.1 - limit.0) as f64;
        limit.0 + (self.fraction(*value) * span).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // Only the labelled ticks get grid lines: no light mesh to clutter.
        match hint.weight() {
            KeyPointWeight::Bold => self.ticks.clone(),
            KeyPointWeight::Any => Vec::new(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}
