//! A reader for numeric CSV tables with a header row, as scikit-learn ships
//! its small data sets: comma separated, '.' decimals, no quoting needed.

use std::path::Path;

use descent_tensor::Tensor;

use crate::error::{DataError, read_file};

/// A numeric table: column names and a `[rows, columns]` tensor of values.
#[derive(Clone, Debug)]
pub struct Table {
    /// Header names, in file order.
    pub columns: Vec<String>,
    /// The values, one row per data line.
    pub values: Tensor,
}

impl Table {
    /// Reads a CSV file.
    ///
    /// # Errors
    /// [`DataError::Io`] if the file cannot be read; [`DataError::Csv`] naming
    /// the line and column of the first empty, non-numeric or missing cell.
    pub fn read_csv(path: impl AsRef<Path>) -> Result<Table, DataError> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Table::parse_csv_bytes(&bytes, &path.display().to_string())
    }

    /// Parses CSV from raw bytes, which must be UTF-8.
    ///
    /// # Errors
    /// As [`Table::parse_csv`], and [`DataError::Csv`] naming the line of the
    /// first byte that is not UTF-8.
    pub fn parse_csv_bytes(bytes: &[u8], source_name: &str) -> Result<Table, DataError> {
        match std::str::from_utf8(bytes) {
            Ok(text) => Table::parse_csv(text, source_name),
            Err(e) => {
                let at = e.valid_up_to();
                Err(DataError::Csv {
                    source_name: source_name.to_string(),
                    line: 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count(),
                    column: String::new(),
                    message: format!("byte {at} is not valid UTF-8 text; is this a CSV file?"),
                })
            }
        }
    }

    /// Parses CSV text; `source_name` appears in error messages.
    ///
    /// # Errors
    /// As [`Table::read_csv`].
    pub fn parse_csv(text: &str, source_name: &str) -> Result<Table, DataError> {
        let error = |line: usize, column: &str, message: String| DataError::Csv {
            source_name: source_name.to_string(),
            line,
            column: column.to_string(),
            message,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((_, header)) = lines.next() else {
            return Err(error(
                1,
                "",
                "the file is empty; expected a header row".into(),
            ));
        };
        let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
        let mut values = Vec::new();
        let mut rows = 0;
        for (index, line) in lines {
            let number = index + 1;
            let cells: Vec<&str> = line.split(',').collect();
            if cells.len() != columns.len() {
                let last = columns
                    .get(cells.len())
                    .or(columns.last())
                    .cloned()
                    .unwrap_or_default();
                return Err(error(
                    number,
                    &last,
                    format!(
                        "{} cells, but the header has {} columns",
                        cells.len(),
                        columns.len()
                    ),
                ));
            }
            for (cell, column) in cells.iter().zip(&columns) {
                let cell = cell.trim();
                let value: f32 = cell
                    .parse()
                    .map_err(|_| error(number, column, format!("{cell:?} is not a number")))?;
                values.push(value);
            }
            rows += 1;
        }
        let width = columns.len();
        Ok(Table {
            columns,
            values: Tensor::from_vec(values, [rows, width]),
        })
    }

    /// The number of data rows.
    pub fn rows(&self) -> usize {
        self.values.dims()[0]
    }

    /// Splits the table into features (every other column, `[rows, n - 1]`)
    /// and the named target column (`[rows, 1]`).
    ///
    /// # Errors
    /// [`DataError::MissingColumn`] if no column has that name.
    pub fn features_and_target(&self, target: &str) -> Result<(Tensor, Tensor), DataError> {
        let column = self
            .columns
            .iter()
            .position(|c| c == target)
            .ok_or_else(|| DataError::MissingColumn {
                source_name: "table".into(),
                column: target.into(),
                available: self.columns.clone(),
            })?;
        let width = self.columns.len();
        let before = self.values.narrow(1, 0, column);
        let after = self.values.narrow(1, column + 1, width - column - 1);
        let features = Tensor::concat(&[&before, &after], 1);
        Ok((features, self.values.narrow(1, column, 1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_header_and_values() {
        let t = Table::parse_csv("a,b,y\n1,2,3\n4.5,-6,7e1\n", "mem").unwrap();
        assert_eq!(t.columns, vec!["a", "b", "y"]);
        assert_eq!(t.values.dims(), &[2, 3]);
        let (x, y) = t.features_and_target("b").unwrap();
        assert_eq!(x.to_vec(), vec![1.0, 3.0, 4.5, 70.0]);
        assert_eq!(y.to_vec(), vec![2.0, -6.0]);
    }

    #[test]
    fn non_numeric_cell_names_line_and_column() {
        let err = Table::parse_csv("a,b\n1,2\n3,x\n", "mem.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "mem.csv, line 3, column \"b\": \"x\" is not a number"
        );
    }

    #[test]
    fn ragged_rows_and_empty_files_are_errors() {
        let err = Table::parse_csv("a,b\n1\n", "m").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(
            err.to_string()
                .contains("1 cells, but the header has 2 columns"),
            "{err}"
        );
        assert!(Table::parse_csv("", "m").is_err());
        let missing = Table::parse_csv("a\n1\n", "m")
            .unwrap()
            .features_and_target("y");
        assert!(
            missing
                .unwrap_err()
                .to_string()
                .contains("no column named \"y\"")
        );
    }
}
