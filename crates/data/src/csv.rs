//! A reader for numeric CSV tables with a header row, as scikit-learn ships
//! its small data sets: comma separated, '.' decimals, no quoting needed.

use std::path::Path;

use descent_tensor::Tensor;

use crate::error::{DataError, read_file};

const BYTE_ORDER_MARK: char = '\u{feff}';

/// A numeric table: column names and a `[rows, columns]` tensor of values.
#[derive(Clone, Debug)]
pub struct Table {
    /// Header names, in file order.
    pub columns: Vec<String>,
    /// The values, one row per data line.
    pub values: Tensor,
}

impl Table {
    /// Reads a CSV file: a header row of distinct column names, then rows of
    /// finite numbers, lines ended by LF, CRLF or CR.
    ///
    /// ```
    /// use descent_data::Table;
    ///
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tabular/iris.csv");
    /// let iris = Table::read_csv(path)?;
    /// assert_eq!(iris.values.dims(), &[150, 5]);
    /// let (features, species) = iris.features_and_target("species")?;
    /// assert_eq!((features.dims(), species.dims()), (&[150, 4][..], &[150, 1][..]));
    /// # Ok::<(), descent_data::DataError>(())
    /// ```
    ///
    /// # Errors
    /// [`DataError::Io`] if the file cannot be read; [`DataError::Csv`] naming
    /// the line and column of the first duplicate column name, or of the first
    /// empty, non-numeric, NaN, infinite or missing cell.
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
                    line: 1 + line_breaks(&bytes[..at]),
                    column: String::new(),
                    message: format!("byte {at} is not valid UTF-8 text; is this a CSV file?"),
                })
            }
        }
    }

    /// Parses CSV text; `source_name` appears in error messages. Lines may
    /// end in LF, CRLF or a lone CR; a leading UTF-8 byte-order mark is
    /// ignored; blank lines are skipped.
    ///
    /// ```
    /// use descent_data::Table;
    ///
    /// let table = Table::parse_csv("x,y\r\n1,2\r\n3,4\r\n", "inline")?;
    /// assert_eq!(table.columns, ["x", "y"]);
    /// assert_eq!(table.values.to_vec(), [1.0, 2.0, 3.0, 4.0]);
    /// let error = Table::parse_csv("x,y\n1,nan\n", "inline").unwrap_err();
    /// assert_eq!(error.to_string(), "inline, line 2, column \"y\": \"nan\" is not a finite number");
    /// # Ok::<(), descent_data::DataError>(())
    /// ```
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
        let text = text.strip_prefix(BYTE_ORDER_MARK).unwrap_or(text);
        let mut lines = lines(text)
            .enumerate()
            .map(|(index, line)| (index + 1, line))
            .filter(|(_, l)| !l.trim().is_empty());
        let Some((header_line, header)) = lines.next() else {
            return Err(error(
                1,
                "",
                "the file is empty; expected a header row".into(),
            ));
        };
        let columns: Vec<String> = header.split(',').map(|c| c.trim().to_string()).collect();
        for (index, name) in columns.iter().enumerate() {
            if let Some(first) = columns[..index].iter().position(|c| c == name) {
                return Err(error(
                    header_line,
                    name,
                    format!(
                        "duplicate column name: columns {} and {} are both named {name:?}",
                        first + 1,
                        index + 1
                    ),
                ));
            }
        }
        let mut values = Vec::new();
        let mut rows = 0;
        for (number, line) in lines {
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
                let value = parse_cell(cell.trim()).map_err(|m| error(number, column, m))?;
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

/// The lines of `text`, each ended by LF, CRLF or a lone CR (as old Mac
/// files and some spreadsheet exports have it).
fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\r', '\n']).unwrap_or(rest.len());
        let line = &rest[..end];
        let terminator = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + terminator..];
        Some(line)
    })
}

/// The number of line endings in `bytes`, counted as [`lines`] splits them.
fn line_breaks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

/// One cell's value; NaN and infinities are rejected, since a model trained
/// on them learns nothing and the cause is hard to trace afterwards.
fn parse_cell(cell: &str) -> Result<f32, String> {
    let value: f32 = cell
        .parse()
        .map_err(|_| format!("{cell:?} is not a number"))?;
    let lower = cell.to_ascii_lowercase();
    if value.is_finite() {
        Ok(value)
    } else if lower.contains("nan") || lower.contains("inf") {
        Err(format!("{cell:?} is not a finite number"))
    } else {
        Err(format!("{cell:?} is too large for a 32-bit float"))
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

    #[test]
    fn non_finite_cells_are_rejected_naming_line_and_column() {
        for (cell, problem) in [
            ("nan", "is not a finite number"),
            ("NaN", "is not a finite number"),
            ("inf", "is not a finite number"),
            ("-inf", "is not a finite number"),
            ("Infinity", "is not a finite number"),
            ("1e999", "is too large for a 32-bit float"),
            ("-4e38", "is too large for a 32-bit float"),
        ] {
            let err = Table::parse_csv(&format!("a,b\n1,2\n3,{cell}\n"), "m.csv").unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("m.csv, line 3, column \"b\": {cell:?} {problem}")
            );
        }
    }

    #[test]
    fn lf_crlf_and_lone_cr_line_endings_read_alike() {
        for text in [
            "a,b\n1,2\n3,4\n",
            "a,b\r\n1,2\r\n3,4\r\n",
            "a,b\r1,2\r3,4\r",
            "a,b\r1,2\n3,4",
        ] {
            let t = Table::parse_csv(text, "m").unwrap();
            assert_eq!(t.columns, vec!["a", "b"], "{text:?}");
            assert_eq!(t.values.to_vec(), vec![1.0, 2.0, 3.0, 4.0], "{text:?}");
        }
        let err = Table::parse_csv("a,b\r1,2\r\r3,x\r", "m").unwrap_err();
        assert!(
            err.to_string().starts_with("m, line 4, column \"b\""),
            "{err}"
        );
        let err = Table::parse_csv_bytes(b"a,b\r1,2\r\n3,\xff\r", "m").unwrap_err();
        assert!(err.to_string().starts_with("m, line 3,"), "{err}");
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_column_name() {
        let t = Table::parse_csv_bytes(b"\xef\xbb\xbfa,b\n1,2\n", "m").unwrap();
        assert_eq!(t.columns, vec!["a", "b"]);
        assert!(t.features_and_target("a").is_ok());
    }

    #[test]
    fn duplicate_column_names_are_rejected() {
        let err = Table::parse_csv("\nx,y,x\n1,2,3\n", "m").unwrap_err();
        assert_eq!(
            err.to_string(),
            "m, line 2, column \"x\": duplicate column name: columns 1 and 3 are both named \"x\""
        );
    }
}
