//! Categorical feature columns of a CSV file: the categories of each (learned from the file, or
//! fixed by a fitted model so that new data is encoded the same way) and their one-hot codes.

use std::collections::HashMap;

use crate::csv::ColumnRef;

/// A column read as categories and one-hot encoded: one feature per category, named
/// `column=category`, 1 for the row's category and 0 for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Categorical {
    /// The column, by header name or 0-based index.
    pub column: ColumnRef,
    /// The categories in the order of their features; `None`: the distinct values of the file,
    /// sorted (numerically when every value is an integer, else lexicographically).
    pub categories: Option<Vec<String>>,
}

impl Categorical {
    /// A column whose categories are learned from the file.
    pub fn learned(column: ColumnRef) -> Self {
        Categorical { column, categories: None }
    }
}

/// What a cell whose value is not among a column's fixed categories does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownCategory {
    /// Fail, naming the value, the column, the line and the known categories.
    #[default]
    Error,
    /// Encode it as all zeros (no category).
    Ignore,
}

/// How one categorical column was encoded: what a model stores to encode new data the same way.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CategoryEncoding {
    /// The column's header name (its 0-based index as text without a header).
    pub column: String,
    /// The categories, in the order of their one-hot features.
    pub categories: Vec<String>,
}

impl CategoryEncoding {
    /// The feature names of the one-hot code: `column=category`.
    pub fn feature_names(&self) -> impl Iterator<Item = String> + '_ {
        self.categories.iter().map(move |c| format!("{}={c}", self.column))
    }
}

/// One categorical cell as read: a category's id, a value outside fixed categories, or missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// The id of the category (in order of first appearance for learned columns, the fixed
    /// order otherwise).
    Id(usize),
    /// Not among the fixed categories, with [`UnknownCategory::Ignore`].
    Unknown,
    /// A missing cell.
    Missing,
}

/// The categories of one column while the file is read.
#[derive(Debug, Clone)]
pub(crate) struct Categories {
    /// Values in id order.
    values: Vec<String>,
    index: HashMap<String, usize>,
    /// Whether the values are fixed (unknown values are not added).
    fixed: bool,
}

impl Categories {
    /// Categories to learn (`None`) or fixed ones.
    pub(crate) fn new(fixed: Option<&[String]>) -> Self {
        let values: Vec<String> = fixed.map(<[String]>::to_vec).unwrap_or_default();
        let index = values.iter().enumerate().map(|(i, v)| (v.clone(), i)).collect();
        Categories { values, index, fixed: fixed.is_some() }
    }

    /// The id of `value`, adding it to learned categories; `None` for a value outside fixed ones.
    pub(crate) fn id(&mut self, value: &str) -> Option<usize> {
        if let Some(&id) = self.index.get(value) {
            return Some(id);
        }
        if self.fixed {
            return None;
        }
        self.values.push(value.to_owned());
        self.index.insert(value.to_owned(), self.values.len() - 1);
        Some(self.values.len() - 1)
    }

    /// The known values, for error messages.
    pub(crate) fn values(&self) -> &[String] {
        &self.values
    }

    /// The final categories in feature order (learned ones sorted by [`sorted_values`]) and the
    /// feature position of every id.
    pub(crate) fn finish(self) -> (Vec<String>, Vec<usize>) {
        if self.fixed {
            let position = (0..self.values.len()).collect();
            return (self.values, position);
        }
        let sorted = sorted_values(self.values.iter().map(String::as_str));
        let rank: HashMap<&str, usize> = sorted.iter().enumerate().map(|(i, v)| (v.as_str(), i)).collect();
        let position = self.values.iter().map(|v| rank[v.as_str()]).collect();
        (sorted, position)
    }
}

/// Distinct values sorted numerically when every one is an integer, else lexicographically (the
/// order of class labels and learned categories, like scikit-learn's encoders).
pub(crate) fn sorted_values<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut distinct: Vec<&str> = values.collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    if distinct.iter().all(|c| c.parse::<i64>().is_ok()) {
        distinct.sort_by_key(|c| c.parse::<i64>().unwrap_or_default());
    }
    distinct.into_iter().map(str::to_owned).collect()
}

/// Appends the one-hot code of `code` (`width` features, feature `position[id]` set) to `row`:
/// zeros for an unknown value, `NaN` everywhere for a missing cell.
pub(crate) fn push_one_hot(row: &mut Vec<f32>, code: Code, position: &[usize], width: usize) {
    let start = row.len();
    match code {
        Code::Missing => row.resize(start + width, f32::NAN),
        Code::Unknown => row.resize(start + width, 0.0),
        Code::Id(id) => {
            row.resize(start + width, 0.0);
            row[start + position[id]] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learned_categories_are_sorted_and_fixed_ones_kept() {
        let mut learned = Categories::new(None);
        let ids: Vec<_> = ["red", "blue", "red", "green"].iter().map(|v| learned.id(v)).collect();
        assert_eq!(ids, vec![Some(0), Some(1), Some(0), Some(2)]);
        let (categories, position) = learned.finish();
        assert_eq!(categories, vec!["blue", "green", "red"]);
        assert_eq!(position, vec![2, 0, 1]);
        let mut fixed = Categories::new(Some(&["s".to_owned(), "m".to_owned()]));
        assert_eq!((fixed.id("m"), fixed.id("xl")), (Some(1), None));
        assert_eq!(fixed.finish().0, vec!["s", "m"]);
        assert_eq!(sorted_values(["10", "9", "-1"].into_iter()), vec!["-1", "9", "10"]);
    }

    #[test]
    fn one_hot_codes_unknown_and_missing_cells() {
        let mut row = vec![7.0];
        push_one_hot(&mut row, Code::Id(1), &[2, 0, 1], 3);
        push_one_hot(&mut row, Code::Unknown, &[], 2);
        assert_eq!(row, vec![7.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
        push_one_hot(&mut row, Code::Missing, &[], 2);
        assert!(row[6..].iter().all(|v| v.is_nan()));
    }
}
