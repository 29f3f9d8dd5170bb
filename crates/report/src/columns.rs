//! Aligned columns for terminal tables: each column as wide as its widest cell (the header
//! included), two spaces apart, counts right-aligned. Shared by the findings table and the
//! binary's other tables (`inspect`), so they all read alike.
//!
//! Cells must already be made safe for the terminal (`tokentrail_model::escape::terminal`):
//! widths are counted in characters of the text as shown.

/// The widths and alignment of a table's columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    widths: Vec<usize>,
    right: Vec<bool>,
}

impl Columns {
    /// Columns fitting `header` and every row; the columns numbered in `right` are
    /// right-aligned.
    pub fn fit<R: AsRef<[String]>>(header: &[&str], rows: &[R], right: &[usize]) -> Columns {
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in rows {
            for (i, cell) in row.as_ref().iter().enumerate() {
                let n = cell.chars().count();
                match widths.get_mut(i) {
                    Some(w) => *w = (*w).max(n),
                    None => widths.push(n),
                }
            }
        }
        let right = (0..widths.len()).map(|i| right.contains(&i)).collect();
        Columns { widths, right }
    }

    /// Each cell padded to its column's width (the last one too, for callers that colour it).
    pub fn pad<S: AsRef<str>>(&self, cells: &[S]) -> Vec<String> {
        cells
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                let cell = cell.as_ref();
                let width = self.widths.get(i).copied().unwrap_or(0);
                if self.right.get(i).copied().unwrap_or(false) {
                    format!("{cell:>width$}")
                } else {
                    format!("{cell:<width$}")
                }
            })
            .collect()
    }

    /// One line: the padded cells two spaces apart, trailing spaces removed.
    pub fn line<S: AsRef<str>>(&self, cells: &[S]) -> String {
        join(&self.pad(cells))
    }
}

/// Padded cells as one line, two spaces apart, trailing spaces removed.
pub fn join(padded: &[String]) -> String {
    padded.join("  ").trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_cell() {
        let rows = vec![
            vec!["a".to_string(), "12".to_string(), "x".to_string()],
            vec!["long name".to_string(), "3".to_string(), String::new()],
        ];
        let columns = Columns::fit(&["NAME", "N", "NOTE"], &rows, &[1]);
        assert_eq!(columns.line(&["NAME", "N", "NOTE"]), "NAME        N  NOTE");
        assert_eq!(columns.line(&rows[0]), "a          12  x");
        assert_eq!(columns.line(&rows[1]), "long name   3");
    }
}
