//! An edit checks itself: re-parse, and the only change in meaning is the intended one.

use platformctl_yaml::{Limits, Node, ScalarKind, Value as YValue, parse as yparse};

use crate::{EditError, Value};

pub(crate) fn parse(src: &str) -> Result<Node, EditError> {
    match yparse(src, &Limits::default()) {
        Ok(Some(n)) => Ok(n),
        Ok(None) => Err(EditError::Parse("an empty document".into())),
        Err(e) => Err(EditError::Parse(e.to_string())),
    }
}

/// `new` is the document `a` was parsed from with `entries` added to the mapping at `path`,
/// and nothing else. Returns `new` parsed.
pub(crate) fn inserted(
    a: &Node,
    new: &str,
    path: &[&str],
    entries: &[(&str, &Value)],
) -> Result<Node, String> {
    let b = parse(new).map_err(|e| format!("the result does not parse: {e}"))?;
    walk(a, &b, path, &mut |a, b| {
        let (YValue::Map(am), YValue::Map(bm)) = (&a.value, &b.value) else {
            return Err("the target is no longer a mapping".into());
        };
        for (key, value) in entries {
            let Some(added) = b.get(key) else {
                return Err(format!("`{key}` is not in the result"));
            };
            if !matches_value(added, value) {
                return Err(format!("`{key}` does not read back as written"));
            }
        }
        let rest: Vec<&(Node, Node)> = bm
            .iter()
            .filter(|(k, _)| {
                k.as_scalar()
                    .is_none_or(|s| !entries.iter().any(|(key, _)| s.text == *key))
            })
            .collect();
        if rest.len() != am.len()
            || !am
                .iter()
                .zip(rest)
                .all(|((ak, av), (bk, bv))| same(ak, bk) && same(av, bv))
        {
            return Err("other entries changed".into());
        }
        Ok(())
    })?;
    Ok(b)
}

/// `new` is the document `a` was parsed from with `item` appended to the list at `path`, and
/// nothing else. Returns `new` parsed.
pub(crate) fn appended(a: &Node, new: &str, path: &[&str], item: &Value) -> Result<Node, String> {
    let b = parse(new).map_err(|e| format!("the result does not parse: {e}"))?;
    walk(a, &b, path, &mut |a, b| {
        let (YValue::Seq(x), YValue::Seq(y)) = (&a.value, &b.value) else {
            return Err("the target is no longer a list".into());
        };
        if y.len() != x.len() + 1 || !x.iter().zip(y).all(|(p, q)| same(p, q)) {
            return Err("the list's other items changed".into());
        }
        match y.last() {
            Some(last) if matches_value(last, item) => Ok(()),
            _ => Err("the new item does not read back as written".into()),
        }
    })?;
    Ok(b)
}

/// `new` is `old` with the scalar at `path` replaced by `value`, and nothing else.
pub(crate) fn replaced(a: &Node, new: &str, path: &[&str], value: &str) -> Result<Node, String> {
    let b = parse(new).map_err(|e| format!("the result does not parse: {e}"))?;
    walk(a, &b, path, &mut |_, b| {
        if matches_value(b, &Value::Str(value.to_string())) {
            Ok(())
        } else {
            Err("the new value does not read back as written".into())
        }
    })?;
    Ok(b)
}

/// Compares `a` and `b` everywhere except at `path`, where `at` decides.
fn walk(
    a: &Node,
    b: &Node,
    path: &[&str],
    at: &mut dyn FnMut(&Node, &Node) -> Result<(), String>,
) -> Result<(), String> {
    let Some((seg, rest)) = path.split_first() else {
        return at(a, b);
    };
    let (YValue::Map(am), YValue::Map(bm)) = (&a.value, &b.value) else {
        return Err("the structure changed".into());
    };
    if am.len() != bm.len() {
        return Err("a mapping on the path changed size".into());
    }
    for ((ak, av), (bk, bv)) in am.iter().zip(bm) {
        if !same(ak, bk) {
            return Err("keys on the path changed".into());
        }
        if ak.as_scalar().is_some_and(|s| s.text == *seg) {
            walk(av, bv, rest, at)?;
        } else if !same(av, bv) {
            return Err(format!(
                "`{}` changed",
                ak.as_scalar().map_or("?", |s| s.text.as_str())
            ));
        }
    }
    Ok(())
}

/// Same meaning, wherever written.
pub(crate) fn same(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (YValue::Scalar(x), YValue::Scalar(y)) => {
            x.text == y.text && x.tag == y.tag && kind_eq(x.kind(), y.kind())
        }
        (YValue::Seq(x), YValue::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (YValue::Map(x), YValue::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((pk, pv), (qk, qv))| same(pk, qk) && same(pv, qv))
        }
        _ => false,
    }
}

fn kind_eq(a: ScalarKind<'_>, b: ScalarKind<'_>) -> bool {
    match (a, b) {
        (ScalarKind::Float(x), ScalarKind::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (x, y) => x == y,
    }
}

fn matches_value(n: &Node, v: &Value) -> bool {
    match (v, &n.value) {
        (Value::Str(s), _) => n.as_str() == Some(s.as_str()),
        (Value::Map(m), YValue::Map(nm)) => {
            m.len() == nm.len()
                && m.iter().zip(nm).all(|((k, v), (nk, nv))| {
                    nk.as_str() == Some(k.as_str()) && matches_value(nv, v)
                })
        }
        (Value::List(l), YValue::Seq(items)) => {
            l.len() == items.len() && l.iter().zip(items).all(|(v, n)| matches_value(n, v))
        }
        _ => false,
    }
}
