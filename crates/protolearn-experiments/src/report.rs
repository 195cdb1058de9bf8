//! The reproduction report: Markdown sections, tables and number formatting.

use std::fmt::Write as _;

/// One experiment's part of the report.
#[derive(Debug, Clone)]
pub struct Section {
    /// Heading.
    pub title: String,
    /// Markdown body.
    pub body: String,
}

/// A Markdown table built row by row.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with the given column names.
    pub fn new<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Self {
        Table { header: header.into_iter().map(Into::into).collect(), rows: Vec::new() }
    }

    /// Appends a row (missing cells are left empty).
    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) {
        self.rows.push(cells.into_iter().map(Into::into).collect());
    }

    /// The table as Markdown.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
        out.push_str(&line(&self.header));
        out.push_str(&line(&vec!["---".to_owned(); self.header.len()]));
        for row in &self.rows {
            let mut cells = row.clone();
            cells.resize(self.header.len(), String::new());
            out.push_str(&line(&cells));
        }
        out
    }

    /// The table as aligned plain text for the terminal.
    pub fn plain(&self) -> String {
        let widths: Vec<usize> = (0..self.header.len())
            .map(|c| self.rows.iter().filter_map(|r| r.get(c)).chain([&self.header[c]]).map(|s| s.chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in std::iter::once(&self.header).chain(&self.rows) {
            for (c, w) in widths.iter().enumerate() {
                let cell = row.get(c).map(String::as_str).unwrap_or("");
                let _ = write!(out, "{cell:<w$}  ");
            }
            out.push('\n');
        }
        out
    }
}

/// `mean ± std` (sample std) with `digits` decimals; `n/a` for no values.
pub fn mean_std(values: &[f64], digits: usize) -> String {
    match (protolearn_metrics::mean(values), protolearn_metrics::std_dev(values)) {
        (Ok(m), Ok(s)) => format!("{m:.digits$} ± {s:.digits$}"),
        (Ok(m), Err(_)) => format!("{m:.digits$}"),
        _ => "n/a".to_owned(),
    }
}

/// Joins sections into one Markdown document with a preamble.
pub fn document(title: &str, preamble: &str, sections: &[Section]) -> String {
    let mut out = format!("# {title}\n\n{preamble}\n");
    for s in sections {
        let _ = write!(out, "\n## {}\n\n{}\n", s.title, s.body.trim_end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_render_markdown_and_plain() {
        let mut t = Table::new(["a", "bb"]);
        t.row(["1", "22"]);
        t.row(["333"]);
        assert_eq!(t.markdown(), "| a | bb |\n| --- | --- |\n| 1 | 22 |\n| 333 |  |\n");
        assert!(t.plain().starts_with("a    bb  \n"));
    }

    #[test]
    fn mean_std_formats_and_handles_short_input() {
        assert_eq!(mean_std(&[1.0, 3.0], 2), "2.00 ± 1.41");
        assert_eq!(mean_std(&[2.0], 1), "2.0");
        assert_eq!(mean_std(&[], 1), "n/a");
    }
}
