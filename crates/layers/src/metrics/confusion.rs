//! The confusion matrix of a classifier and the per-class scores read off it.

use std::fmt;

/// Counts of (actual class, predicted class) pairs, with precision, recall
/// and F1 per class and macro-averaged, as scikit-learn's
/// `confusion_matrix` and `classification_report` compute them (a score
/// whose denominator is zero is 0, scikit-learn's `zero_division=0`).
///
/// ```
/// use descent_layers::ConfusionMatrix;
///
/// let m = ConfusionMatrix::from_labels(&[0, 1, 1, 2], &[0, 1, 2, 2], 3);
/// assert_eq!(m.count(2, 1), 1); // one actual 2 predicted as 1
/// assert_eq!(m.precision(1), 0.5);
/// assert_eq!(m.recall(2), 0.5);
/// assert_eq!(m.accuracy(), 0.75);
/// println!("{m}"); // the matrix as a table, then the per-class scores
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfusionMatrix {
    classes: usize,
    /// Row-major `[actual, predicted]` counts.
    counts: Vec<u64>,
}

impl ConfusionMatrix {
    /// An empty matrix for `classes` classes.
    pub fn new(classes: usize) -> ConfusionMatrix {
        ConfusionMatrix {
            classes,
            counts: vec![0; classes * classes],
        }
    }

    /// The matrix of `predicted` against `actual` labels.
    ///
    /// # Panics
    /// As [`ConfusionMatrix::add`], and if the two lists differ in length.
    pub fn from_labels(predicted: &[usize], actual: &[usize], classes: usize) -> ConfusionMatrix {
        let mut matrix = ConfusionMatrix::new(classes);
        matrix.add(predicted, actual);
        matrix
    }

    /// Counts more predictions.
    ///
    /// # Panics
    /// If the lists differ in length or a label is not below the number of classes.
    pub fn add(&mut self, predicted: &[usize], actual: &[usize]) {
        assert_eq!(
            predicted.len(),
            actual.len(),
            "ConfusionMatrix: {} predictions for {} labels",
            predicted.len(),
            actual.len()
        );
        for (&p, &a) in predicted.iter().zip(actual) {
            assert!(
                p < self.classes && a < self.classes,
                "ConfusionMatrix: label {} is out of range for {} classes",
                p.max(a),
                self.classes
            );
            self.counts[a * self.classes + p] += 1;
        }
    }

    /// The number of classes.
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// How often class `actual` was predicted as `predicted`.
    pub fn count(&self, actual: usize, predicted: usize) -> u64 {
        self.counts[actual * self.classes + predicted]
    }

    /// The number of samples of class `class` (its row sum).
    pub fn support(&self, class: usize) -> u64 {
        (0..self.classes).map(|p| self.count(class, p)).sum()
    }

    /// The number of samples predicted as `class` (its column sum).
    fn predicted(&self, class: usize) -> u64 {
        (0..self.classes).map(|a| self.count(a, class)).sum()
    }

    /// All samples counted.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The fraction of samples on the diagonal.
    pub fn accuracy(&self) -> f64 {
        let correct: u64 = (0..self.classes).map(|c| self.count(c, c)).sum();
        ratio(correct, self.total())
    }

    /// Of the samples predicted as `class`, the fraction that are.
    pub fn precision(&self, class: usize) -> f64 {
        ratio(self.count(class, class), self.predicted(class))
    }

    /// Of the samples of `class`, the fraction predicted as such.
    pub fn recall(&self, class: usize) -> f64 {
        ratio(self.count(class, class), self.support(class))
    }

    /// The harmonic mean of precision and recall.
    pub fn f1(&self, class: usize) -> f64 {
        let (p, r) = (self.precision(class), self.recall(class));
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// The unweighted mean of [`ConfusionMatrix::precision`] over classes.
    pub fn macro_precision(&self) -> f64 {
        self.macro_average(ConfusionMatrix::precision)
    }

    /// The unweighted mean of [`ConfusionMatrix::recall`] over classes.
    pub fn macro_recall(&self) -> f64 {
        self.macro_average(ConfusionMatrix::recall)
    }

    /// The unweighted mean of [`ConfusionMatrix::f1`] over classes.
    pub fn macro_f1(&self) -> f64 {
        self.macro_average(ConfusionMatrix::f1)
    }

    fn macro_average(&self, score: fn(&ConfusionMatrix, usize) -> f64) -> f64 {
        let sum: f64 = (0..self.classes).map(|c| score(self, c)).sum();
        sum / self.classes.max(1) as f64
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

impl fmt::Display for ConfusionMatrix {
    /// The matrix (rows: actual class, columns: predicted class), then
    /// precision, recall, F1 and support per class and their macro averages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .counts
            .iter()
            .map(|c| c.to_string().len())
            .max()
            .unwrap_or(1)
            .max(self.classes.saturating_sub(1).to_string().len())
            .max(3);
        write!(f, "{:>8} ", "actual")?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        writeln!(f, "  <- predicted")?;
        for a in 0..self.classes {
            write!(f, "{a:>8} ")?;
            for p in 0..self.classes {
                write!(f, " {:>width$}", self.count(a, p))?;
            }
            writeln!(f)?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>8}  {:>9}  {:>6}  {:>8}  {:>7}",
            "class", "precision", "recall", "f1-score", "support"
        )?;
        for c in 0..self.classes {
            writeln!(
                f,
                "{c:>8}  {:>9.4}  {:>6.4}  {:>8.4}  {:>7}",
                self.precision(c),
                self.recall(c),
                self.f1(c),
                self.support(c)
            )?;
        }
        write!(
            f,
            "{:>8}  {:>9.4}  {:>6.4}  {:>8.4}  {:>7}\n{:>8}  {:>9}  {:>6}  {:>8.4}  {:>7}",
            "macro",
            self.macro_precision(),
            self.macro_recall(),
            self.macro_f1(),
            self.total(),
            "accuracy",
            "",
            "",
            self.accuracy(),
            self.total()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scikit-learn 1.5: `classification_report([0,0,1,1,1,2], [0,1,1,1,2,2])`
    /// gives precision 1.0/0.6667/0.5, recall 0.5/0.6667/1.0, f1
    /// 0.6667/0.6667/0.6667, macro f1 0.6667, accuracy 0.6667.
    #[test]
    fn scores_match_scikit_learn() {
        let m = ConfusionMatrix::from_labels(&[0, 1, 1, 1, 2, 2], &[0, 0, 1, 1, 1, 2], 3);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-4;
        assert!(close(m.precision(0), 1.0) && close(m.recall(0), 0.5));
        assert!(close(m.precision(1), 2.0 / 3.0) && close(m.recall(1), 2.0 / 3.0));
        assert!(close(m.precision(2), 0.5) && close(m.recall(2), 1.0));
        assert!(close(m.f1(0), 2.0 / 3.0) && close(m.macro_f1(), 2.0 / 3.0));
        assert!(close(m.accuracy(), 4.0 / 6.0));
        assert_eq!((m.support(1), m.total()), (3, 6));
    }

    #[test]
    fn a_class_never_predicted_scores_zero_not_nan() {
        let m = ConfusionMatrix::from_labels(&[0, 0], &[0, 1], 2);
        assert_eq!((m.precision(1), m.recall(1), m.f1(1)), (0.0, 0.0, 0.0));
    }

    #[test]
    fn the_table_shows_counts_and_scores() {
        let m = ConfusionMatrix::from_labels(&[0, 1, 1], &[0, 1, 0], 2);
        let table = m.to_string();
        assert!(table.contains("<- predicted"), "{table}");
        assert!(table.contains("macro"), "{table}");
        assert_eq!(
            table.lines().nth(1).unwrap(),
            "       0    1   1",
            "{table}"
        );
    }
}
