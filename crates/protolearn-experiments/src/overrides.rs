//! `--set EXPERIMENT.PATH=VALUE`: changes one field of an experiment's TOML spec for a run
//! (e.g. `--set paper002_desom.full.seeds=[0]`), applied before the spec is parsed, so the
//! spec's own validation (`deny_unknown_fields`, types) checks the result.

use serde::de::DeserializeOwned;
use std::str::FromStr;

/// Why a `--set` option or the spec it applies to was rejected.
#[derive(Debug, thiserror::Error)]
pub enum OverrideError {
    /// The option is not `EXPERIMENT.PATH=VALUE`.
    #[error("--set {0}: expected EXPERIMENT.KEY[.KEY...]=TOML_VALUE, e.g. paper002_desom.full.seeds=[0]")]
    Syntax(String),
    /// The value is not a TOML value.
    #[error("--set {option}: the value is not TOML ({reason})")]
    Value {
        /// The option as given.
        option: String,
        /// The TOML parser's message.
        reason: String,
    },
    /// A key on the path does not exist in the spec (only existing fields can be set).
    #[error("--set {option}: spec {experiment} has no field `{path}`")]
    UnknownField {
        /// The option as given.
        option: String,
        /// The experiment.
        experiment: String,
        /// The dotted path up to the missing key.
        path: String,
    },
    /// The spec, with the overrides applied, does not parse.
    #[error("spec {experiment}: {reason}")]
    Spec {
        /// The experiment.
        experiment: String,
        /// The TOML / serde message (line, field, expected vs found).
        reason: String,
    },
}

/// One `--set` option.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    option: String,
    experiment: String,
    path: Vec<String>,
    value: toml::Value,
}

impl FromStr for Override {
    type Err = OverrideError;

    fn from_str(option: &str) -> Result<Self, Self::Err> {
        let syntax = || OverrideError::Syntax(option.to_owned());
        let (lhs, rhs) = option.split_once('=').ok_or_else(syntax)?;
        let mut keys = lhs.trim().split('.').map(str::to_owned);
        let experiment = keys.next().filter(|e| !e.is_empty()).ok_or_else(syntax)?;
        let path: Vec<String> = keys.collect();
        if path.is_empty() || path.iter().any(String::is_empty) {
            return Err(syntax());
        }
        // A bare value parses as the right-hand side of a one-key document.
        let doc: toml::Table = toml::from_str(&format!("v = {}", rhs.trim()))
            .map_err(|e| OverrideError::Value { option: option.to_owned(), reason: e.message().to_owned() })?;
        let value = doc.get("v").cloned().ok_or_else(syntax)?;
        Ok(Override { option: option.to_owned(), experiment, path, value })
    }
}

impl Override {
    /// The experiment it targets.
    pub fn experiment(&self) -> &str {
        &self.experiment
    }

    /// Replaces the field at the path in `table` (it must exist).
    fn apply(&self, table: &mut toml::Table) -> Result<(), OverrideError> {
        let missing = |depth: usize| OverrideError::UnknownField {
            option: self.option.clone(),
            experiment: self.experiment.clone(),
            path: self.path[..=depth].join("."),
        };
        let (last, parents) = self.path.split_last().ok_or_else(|| OverrideError::Syntax(self.option.clone()))?;
        let mut node = table;
        for (depth, key) in parents.iter().enumerate() {
            node = node.get_mut(key).and_then(toml::Value::as_table_mut).ok_or_else(|| missing(depth))?;
        }
        let slot = node.get_mut(last).ok_or_else(|| missing(parents.len()))?;
        *slot = self.value.clone();
        Ok(())
    }
}

/// Parses the spec `text` of `experiment` with the overrides that target it applied; returns
/// the spec and the resolved TOML (to be saved beside the results).
pub fn resolve<T: DeserializeOwned>(experiment: &str, text: &str, overrides: &[Override]) -> Result<(T, String), OverrideError> {
    let spec_error = |reason: String| OverrideError::Spec { experiment: experiment.to_owned(), reason };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| spec_error(e.to_string()))?;
    let mine: Vec<&Override> = overrides.iter().filter(|o| o.experiment == experiment).collect();
    for o in &mine {
        o.apply(&mut table)?;
    }
    if mine.is_empty() {
        let spec = toml::from_str(text).map_err(|e| spec_error(e.to_string()))?;
        return Ok((spec, text.to_owned()));
    }
    let resolved = toml::to_string(&table).map_err(|e| spec_error(e.to_string()))?;
    let spec = toml::from_str(&resolved).map_err(|e| spec_error(e.to_string()))?;
    let note: String = mine.iter().map(|o| format!("# --set {}\n", o.option)).collect();
    Ok((spec, format!("# Resolved spec of this run: the shipped spec with\n{note}\n{resolved}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Spec {
        k: usize,
        full: Preset,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Preset {
        seeds: Vec<u64>,
        models: Vec<String>,
    }

    const TEXT: &str = "k = 3\n[full]\nseeds = [0, 1, 2]\nmodels = [\"a\", \"b\"]\n";

    fn set(s: &str) -> Override {
        s.parse().unwrap()
    }

    #[test]
    fn overrides_replace_fields_of_their_experiment_only() {
        let o = [set("exp.full.seeds=[7]"), set("exp.k = 5"), set("other.k=9"), set("exp.full.models=['b']")];
        let (spec, resolved): (Spec, String) = resolve("exp", TEXT, &o).unwrap();
        assert_eq!(spec, Spec { k: 5, full: Preset { seeds: vec![7], models: vec!["b".into()] } });
        assert!(resolved.contains("--set exp.full.seeds=[7]"));
        let (plain, text): (Spec, String) = resolve("exp", TEXT, &o[2..3]).unwrap();
        assert_eq!((plain.k, text.as_str()), (3, TEXT));
    }

    #[test]
    fn bad_options_are_typed_errors() {
        assert!(matches!("exp.k".parse::<Override>(), Err(OverrideError::Syntax(_))));
        assert!(matches!("exp=3".parse::<Override>(), Err(OverrideError::Syntax(_))));
        assert!(matches!("exp..k=3".parse::<Override>(), Err(OverrideError::Syntax(_))));
        assert!(matches!("exp.k=[1,".parse::<Override>(), Err(OverrideError::Value { .. })));
        let unknown = resolve::<Spec>("exp", TEXT, &[set("exp.full.epochs=3")]);
        assert!(matches!(unknown, Err(OverrideError::UnknownField { ref path, .. }) if path == "full.epochs"));
        let wrong_type = resolve::<Spec>("exp", TEXT, &[set("exp.k='many'")]);
        assert!(matches!(wrong_type, Err(OverrideError::Spec { .. })));
    }
}
