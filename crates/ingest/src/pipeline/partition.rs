//! Hive-style partition folders (`feature=chat/team=core/part-0.parquet`,
//! as Spark's `partitionBy`, pyarrow's and DuckDB's hive exports write
//! them): the value a folder names is each of its rows' field, which the
//! files themselves do not hold (hunt184: every call `(none)` by feature
//! and team, unsaid). A field a record carries itself wins; time
//! partitions (`day=`, `dt=`, `year=`…) are the records' own times.

use std::borrow::Cow;
use std::path::Path;

use tokenaudit_core::record::CallRecord;

/// The `key=value` folders of a file's path, percent-decoded as Hive
/// escapes them, without the time partitions.
pub(crate) fn pairs(path: &Path) -> Vec<(String, String)> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    dir.components()
        .filter_map(|c| {
            let part = c.as_os_str().to_str()?;
            let (key, value) = part.split_once('=')?;
            let named = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            let time = matches!(
                key.to_ascii_lowercase().as_str(),
                "day"
                    | "date"
                    | "dt"
                    | "ds"
                    | "year"
                    | "month"
                    | "hour"
                    | "minute"
                    | "y"
                    | "m"
                    | "d"
                    | "h"
            );
            // Hive's null partition: no value.
            let null = value == "__HIVE_DEFAULT_PARTITION__";
            (named && !time && !null && !value.is_empty())
                .then(|| (key.to_string(), crate::source::percent_decode(value)))
        })
        .collect()
}

/// Gives `r` the fields its partition folders name that it lacks; the
/// other keys are tags.
pub(crate) fn apply(r: &mut CallRecord<'_>, pairs: &[(String, String)]) {
    for (key, value) in pairs {
        let slot = match key.as_str() {
            "feature" | "use_case" => &mut r.feature,
            "team" | "team_id" => &mut r.team,
            "user" | "user_id" | "end_user" => &mut r.user,
            "route" | "endpoint" => &mut r.route,
            "session" | "session_id" => &mut r.session,
            "provider" => &mut r.provider,
            _ => {
                if !r.tags.iter().any(|(k, _)| k == key) {
                    r.tags
                        .push((Cow::Owned(key.clone()), Cow::Owned(value.clone())));
                }
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(Cow::Owned(value.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folders_give_fields_and_tags() {
        let p = pairs(Path::new(
            "exports/llm/feature=chat/team=core%2Fml/dt=2026-10-01/env=prod/part-0.parquet",
        ));
        assert_eq!(
            p,
            [
                ("feature".to_string(), "chat".to_string()),
                ("team".to_string(), "core/ml".to_string()),
                ("env".to_string(), "prod".to_string()),
            ]
        );
        assert!(pairs(Path::new("logs/a=b.jsonl")).is_empty());
        let mut r = CallRecord {
            feature: Some("own".into()),
            ..CallRecord::default()
        };
        apply(&mut r, &p);
        assert_eq!(r.feature.as_deref(), Some("own"));
        assert_eq!(r.team.as_deref(), Some("core/ml"));
        assert_eq!(r.tags, [(Cow::from("env"), Cow::from("prod"))]);
    }
}
