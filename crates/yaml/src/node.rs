//! The positioned tree.

pub use platformctl_diagnostics::Pos;

/// How a scalar was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// `value`
    Plain,
    /// `'value'`
    SingleQuoted,
    /// `"value"`
    DoubleQuoted,
    /// `|` block
    Literal,
    /// `>` block
    Folded,
}

/// A scalar: its text as written (after YAML unescaping) and its style.
#[derive(Clone, Debug, PartialEq)]
pub struct Scalar {
    /// The scalar's text.
    pub text: String,
    /// How it was written.
    pub style: Style,
    /// `Some("str")` etc. for core-schema tags (`!!str`), the full tag otherwise.
    pub tag: Option<Box<str>>,
}

/// A scalar resolved by the YAML 1.2 core schema.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScalarKind<'a> {
    /// `~`, `null`, or nothing at all.
    Null,
    /// `true` / `false` (any case form the core schema allows).
    Bool(bool),
    /// An integer as yaml.v3 reads it: decimal, `0x`, `0o`, `0b`, or octal with a leading `0`.
    Int(i64),
    /// A float, `.inf`, `.nan`.
    Float(f64),
    /// Anything else, and every quoted or block scalar.
    Str(&'a str),
}

impl Scalar {
    /// Resolves the scalar with the YAML 1.2 core schema, with integers as yaml.v3 (compose's
    /// parser) reads them (`0440` is octal 288). Quoted and block scalars, and scalars tagged
    /// `!!str`, are always strings.
    pub fn kind(&self) -> ScalarKind<'_> {
        let t = self.text.as_str();
        match self.tag.as_deref() {
            Some("str") => return ScalarKind::Str(t),
            Some("null") => return ScalarKind::Null,
            // The non-specific tag `! 12`: a string.
            Some("!") => return ScalarKind::Str(t),
            _ => {}
        }
        if self.style != Style::Plain {
            return ScalarKind::Str(t);
        }
        match t {
            "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
            "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
            "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
            ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
                return ScalarKind::Float(f64::INFINITY);
            }
            "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
            ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
            _ => {}
        }
        if let Some(i) = parse_int(t) {
            return ScalarKind::Int(i);
        }
        if is_core_float(t)
            && let Ok(f) = t.parse::<f64>()
        {
            return ScalarKind::Float(f);
        }
        ScalarKind::Str(t)
    }

    /// A short name of the resolved type, for messages ("a boolean", "a string").
    pub fn kind_name(&self) -> &'static str {
        match self.kind() {
            ScalarKind::Null => "null",
            ScalarKind::Bool(_) => "a boolean",
            ScalarKind::Int(_) => "an integer",
            ScalarKind::Float(_) => "a number",
            ScalarKind::Str(_) => "a string",
        }
    }
}

/// An integer as yaml.v3 (Docker Compose's parser) resolves it: underscores dropped, then Go's
/// `strconv.ParseInt(s, 0, 64)`: an optional sign, then `0x`/`0X` hex, `0o`/`0O` octal,
/// `0b`/`0B` binary, a leading `0` for octal (YAML 1.1's `0440` is 288, as compose reads a
/// file `mode`), or decimal.
fn parse_int(t: &str) -> Option<i64> {
    let owned;
    let t = if t.contains('_') {
        owned = t.replace('_', "");
        owned.as_str()
    } else {
        t
    };
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    i64::try_from(if neg { -magnitude } else { magnitude }).ok()
}

/// `[-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_core_float(t: &str) -> bool {
    let s = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
        }
    };
    mantissa_ok && exp_ok
}

/// The entries of a mapping, in document order (merged entries after the written ones).
pub type Map = Vec<(Node, Node)>;

/// A node's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A scalar (including null).
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping.
    Map(Map),
}

/// A YAML node and where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    /// Where the node starts.
    pub pos: Pos,
    /// Length in characters of the node's text when it is on one line (for a caret underline),
    /// otherwise 1.
    pub width: u32,
    /// The value.
    pub value: Value,
}

impl Node {
    /// The scalar, if this node is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.value {
            Value::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar that resolves to a string (quoted, or plain and not a bool,
    /// number or null).
    pub fn as_str(&self) -> Option<&str> {
        match self.as_scalar()?.kind() {
            ScalarKind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of any non-null scalar, whatever it resolves to (`8080`, `true`, `x`).
    pub fn scalar_text(&self) -> Option<&str> {
        let s = self.as_scalar()?;
        match s.kind() {
            ScalarKind::Null => None,
            _ => Some(&s.text),
        }
    }

    /// The boolean, if this is a `true`/`false` scalar.
    pub fn as_bool(&self) -> Option<bool> {
        match self.as_scalar()?.kind() {
            ScalarKind::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The integer, if this is an integer scalar.
    pub fn as_int(&self) -> Option<i64> {
        match self.as_scalar()?.kind() {
            ScalarKind::Int(i) => Some(i),
            _ => None,
        }
    }

    /// True for `~`, `null` and empty values.
    pub fn is_null(&self) -> bool {
        matches!(self.as_scalar().map(Scalar::kind), Some(ScalarKind::Null))
    }

    /// The entries, if this node is a mapping.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this node is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value node under a string key of a mapping.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_scalar().is_some_and(|s| s.text == key))
            .map(|(k, v)| (k, v))
    }

    /// What kind of node this is, for messages ("a mapping", "a list", "a string").
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Scalar(s) => s.kind_name(),
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}
