//! `ack`: the surgical edit that adds a `spec.drift.accept` entry (SPEC §9), with the same
//! machinery as the derived blocks: `spec.drift.accept` is appended to when it exists, else
//! `accept:` goes into `spec.drift`, else `drift:` into `spec` (after `update`). Every other
//! byte is kept and the edit is verified by re-parsing.

use platformctl_yaml_edit::{EditError, Editor, Value};

/// One entry to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptWrite {
    /// The change code.
    pub code: String,
    /// The change's field.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
    /// The last day (YYYY-MM-DD).
    pub until: String,
    /// The digest of the accepted observed value.
    pub observed: String,
}

/// The manifest `text` with `entry` added to `spec.drift.accept`.
pub fn add_accept(text: &str, entry: &AcceptWrite) -> Result<String, EditError> {
    let mut fields = vec![("code", Value::str(&entry.code))];
    if let Some(f) = &entry.field {
        fields.push(("field", Value::str(f)));
    }
    fields.push(("reason", Value::str(&entry.reason)));
    fields.push(("until", Value::str(&entry.until)));
    fields.push(("observed", Value::str(&entry.observed)));
    let item = Value::map(fields);
    let mut ed = Editor::new(text)?;
    if ed.has(&["spec", "drift"], "accept") {
        ed.append(&["spec", "drift", "accept"], &item)?;
    } else if ed.has(&["spec"], "drift") {
        ed.insert(
            &["spec", "drift"],
            "accept",
            &Value::List(vec![item]),
            &["accept"],
        )?;
    } else {
        ed.insert(
            &["spec"],
            "drift",
            &Value::map([("accept", Value::List(vec![item]))]),
            &["runtime", "source", "artifact", "update", "drift"],
        )?;
    }
    Ok(ed.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(code: &str) -> AcceptWrite {
        AcceptWrite {
            code: code.into(),
            field: Some("env.LOG_LEVEL".into()),
            reason: "debugging incident 42".into(),
            until: "2026-12-31".into(),
            observed: "sha256:0123456789abcdef".into(),
        }
    }

    #[test]
    fn first_then_second_entry_keep_every_other_byte() {
        let src = "# keep me\r\nspec:\r\n  runtime:\r\n    host: a   # the box\r\n  update:\r\n    policy: manual\r\n";
        let one = add_accept(src, &entry("CONFIG_ENV")).unwrap();
        assert_eq!(
            one,
            "# keep me\r\nspec:\r\n  runtime:\r\n    host: a   # the box\r\n  update:\r\n    policy: manual\r\n  drift:\r\n    accept:\r\n      - code: CONFIG_ENV\r\n        field: env.LOG_LEVEL\r\n        reason: debugging incident 42\r\n        until: 2026-12-31\r\n        observed: sha256:0123456789abcdef\r\n"
        );
        let two = add_accept(&one, &entry("CONFIG_PORTS")).unwrap();
        assert!(two.starts_with(&one[..one.len() - 2]), "{two}");
        assert!(two.ends_with("      - code: CONFIG_PORTS\r\n        field: env.LOG_LEVEL\r\n        reason: debugging incident 42\r\n        until: 2026-12-31\r\n        observed: sha256:0123456789abcdef\r\n"));
    }
}
