//! SCIM filters (RFC 7644 section 3.4.2.2) and attribute paths (section 3.5.2): parsed into a
//! [`Filter`] and evaluated over a resource as JSON. Lists narrow by an indexed equality first
//! ([`Filter::equality`]: `userName eq`, `externalId eq`, `emails.value eq`, `displayName eq`)
//! and evaluate the whole filter on what that finds. Names of attributes match whatever their
//! case; strings compare without case except `id` and `externalId`, which are case-exact.

use serde_json::Value;

use super::ScimError;

/// The longest filter, in bytes.
pub const MAX_FILTER_LEN: usize = 4096;
/// The most words, values and brackets a filter holds (its depth is less).
pub const MAX_FILTER_TOKENS: usize = 200;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains.
    Co,
    /// Starts with.
    Sw,
    /// Ends with.
    Ew,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
}

/// A parsed filter.
#[derive(Clone, Debug, PartialEq)]
pub enum Filter {
    /// `attr op value`.
    Compare(AttrPath, Op, Value),
    /// `attr pr`.
    Present(AttrPath),
    /// `a and b`.
    And(Box<Filter>, Box<Filter>),
    /// `a or b`.
    Or(Box<Filter>, Box<Filter>),
    /// `not (a)`.
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some value of a multi-valued attribute matches.
    Any(String, Box<Filter>),
}

/// `name.sub`, its schema URN dropped (`urn:...:User:userName` is `userName`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttrPath {
    /// The attribute.
    pub name: String,
    /// Its sub-attribute.
    pub sub: Option<String>,
}

impl AttrPath {
    fn parse(text: &str) -> Result<Self, ScimError> {
        let text = strip_urn(text);
        let (name, sub) = match text.split_once('.') {
            Some((name, sub)) => (name, Some(sub.to_string())),
            None => (text, None),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !valid(name) || sub.as_deref().is_some_and(|s| !valid(s)) {
            return Err(ScimError::bad(
                "invalidFilter",
                format!("{text:?} is not an attribute"),
            ));
        }
        Ok(Self {
            name: name.to_string(),
            sub,
        })
    }

    /// `name` or `name.sub`, as written.
    pub fn dotted(&self) -> String {
        match &self.sub {
            Some(sub) => format!("{}.{sub}", self.name),
            None => self.name.clone(),
        }
    }
}

/// Whether `text` starts with `urn:` (any case).
pub fn starts_with_urn(text: &str) -> bool {
    text.get(..4)
        .is_some_and(|head| head.eq_ignore_ascii_case("urn:"))
}

/// `text` without a leading schema URN (`urn:ietf:params:scim:schemas:core:2.0:User:name.x`
/// is `name.x`). A schema's URN alone (it ends in its version and name, `2.0:User`) names the
/// extension itself and stays whole.
pub fn strip_urn(text: &str) -> &str {
    if !starts_with_urn(text) {
        return text;
    }
    let mut parts = text.rsplit(':');
    let (last, before) = (
        parts.next().unwrap_or(text),
        parts.next().unwrap_or_default(),
    );
    let is_version = !before.is_empty() && before.chars().all(|c| c.is_ascii_digit() || c == '.');
    if is_version { text } else { last }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Str(String),
    Open,
    Close,
    OpenBracket,
    CloseBracket,
}

fn tokens(text: &str) -> Result<Vec<Token>, ScimError> {
    let bad = |m: &str| ScimError::bad("invalidFilter", m.to_string());
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                out.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                chars.next();
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(bad("a string is not closed")),
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some('n') => s.push('\n'),
                            Some('t') => s.push('\t'),
                            Some(other) => s.push(other),
                            None => return Err(bad("a string is not closed")),
                        },
                        Some(other) => s.push(other),
                    }
                }
                out.push(Token::Str(s));
            }
            _ => {
                let mut word = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
        }
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<Token>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.next();
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, ScimError> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.next();
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, ScimError> {
        let bad = |m: String| ScimError::bad("invalidFilter", m);
        if self.keyword("not") {
            self.next();
            if self.next() != Some(Token::Open) {
                return Err(bad("`not` must be followed by `(`".into()));
            }
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(bad("a `(` is not closed".into()));
            }
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::Close) {
                return Err(bad("a `(` is not closed".into()));
            }
            return Ok(inner);
        }
        let Some(Token::Word(attr)) = self.next() else {
            return Err(bad("an attribute was expected".into()));
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.next();
            let inner = self.or()?;
            if self.next() != Some(Token::CloseBracket) {
                return Err(bad("a `[` is not closed".into()));
            }
            let path = AttrPath::parse(&attr)?;
            // `emails[type eq "work"].value eq "x"`: a sub-attribute of the values it matches.
            if let Some(Token::Word(word)) = self.peek()
                && let Some(sub) = word.strip_prefix('.')
            {
                let sub = AttrPath::parse(sub)?;
                self.next();
                let compared = self.comparison(sub, &attr)?;
                return Ok(Filter::Any(
                    path.name,
                    Box::new(Filter::And(Box::new(inner), Box::new(compared))),
                ));
            }
            return Ok(Filter::Any(path.name, Box::new(inner)));
        }
        let path = AttrPath::parse(&attr)?;
        self.comparison(path, &attr)
    }

    /// `op value` (or `pr`) after the attribute `path`.
    fn comparison(&mut self, path: AttrPath, attr: &str) -> Result<Filter, ScimError> {
        let bad = |m: String| ScimError::bad("invalidFilter", m);
        let Some(Token::Word(op)) = self.next() else {
            return Err(bad(format!("an operator was expected after {attr}")));
        };
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => Op::Eq,
            "ne" => Op::Ne,
            "co" => Op::Co,
            "sw" => Op::Sw,
            "ew" => Op::Ew,
            "gt" => Op::Gt,
            "ge" => Op::Ge,
            "lt" => Op::Lt,
            "le" => Op::Le,
            other => return Err(bad(format!("unknown operator {other:?}"))),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.to_ascii_lowercase().as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                // A number, or a bare word as Entra sends it (`externalId eq jyoung`).
                _ => w
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::String(w), Value::Number),
            },
            _ => return Err(bad(format!("a value was expected after {attr} {op:?}"))),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

impl Filter {
    /// Parses `text`; 400 `invalidFilter` when it is not a filter.
    pub fn parse(text: &str) -> Result<Self, ScimError> {
        // Bounded, so that parsing, matching and dropping (each recursive) stay shallow.
        if text.len() > MAX_FILTER_LEN {
            return Err(ScimError::bad(
                "invalidFilter",
                format!("a filter is at most {MAX_FILTER_LEN} bytes"),
            ));
        }
        let tokens = tokens(text)?;
        if tokens.len() > MAX_FILTER_TOKENS {
            return Err(ScimError::bad(
                "invalidFilter",
                format!("a filter has at most {MAX_FILTER_TOKENS} words, values and brackets"),
            ));
        }
        let mut parser = Parser { tokens, at: 0 };
        let filter = parser.or()?;
        if parser.at != parser.tokens.len() {
            return Err(ScimError::bad(
                "invalidFilter",
                "the filter has more after its end",
            ));
        }
        Ok(filter)
    }

    /// `(attribute, value)` when the filter is, or is `and`-ed with, a string equality on an
    /// attribute a list can narrow by in SQL.
    pub fn equality(&self) -> Option<(String, String)> {
        match self {
            Self::Compare(path, Op::Eq, Value::String(value)) => {
                Some((path.dotted().to_ascii_lowercase(), value.clone()))
            }
            Self::And(a, b) => a.equality().or_else(|| b.equality()),
            _ => None,
        }
    }

    /// Whether `resource` matches.
    pub fn matches(&self, resource: &Value) -> bool {
        match self {
            Self::And(a, b) => a.matches(resource) && b.matches(resource),
            Self::Or(a, b) => a.matches(resource) || b.matches(resource),
            Self::Not(a) => !a.matches(resource),
            Self::Present(path) => values_at(resource, path)
                .iter()
                .any(|v| !v.is_null() && *v != &Value::String(String::new())),
            Self::Compare(path, op, wanted) => {
                let exact = is_case_exact(path);
                let found = values_at(resource, path);
                if *op == Op::Ne {
                    return !found.iter().any(|v| compare(v, Op::Eq, wanted, exact));
                }
                found.iter().any(|v| compare(v, *op, wanted, exact))
            }
            Self::Any(name, inner) => match get_ci(resource, name) {
                Some(Value::Array(items)) => items.iter().any(|item| inner.matches(item)),
                Some(item @ Value::Object(_)) => inner.matches(item),
                _ => false,
            },
        }
    }
}

fn is_case_exact(path: &AttrPath) -> bool {
    path.sub.is_none()
        && (path.name.eq_ignore_ascii_case("id") || path.name.eq_ignore_ascii_case("externalId"))
}

/// The member of `object` named `name`, whatever its case.
pub fn get_ci<'a>(object: &'a Value, name: &str) -> Option<&'a Value> {
    object
        .as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Every value at `path` in `resource` (a multi-valued attribute gives each of its values; a
/// sub-attribute of one, each value's).
fn values_at<'a>(resource: &'a Value, path: &AttrPath) -> Vec<&'a Value> {
    let Some(top) = get_ci(resource, &path.name) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match top {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    match &path.sub {
        None => items
            .into_iter()
            .map(|item| match item {
                // `emails eq "x"` compares each value's `value`.
                Value::Object(_) => get_ci(item, "value").unwrap_or(item),
                other => other,
            })
            .collect(),
        Some(sub) => items
            .into_iter()
            .filter_map(|item| get_ci(item, sub))
            .collect(),
    }
}

fn compare(found: &Value, op: Op, wanted: &Value, exact: bool) -> bool {
    match (found, wanted) {
        (Value::String(a), Value::String(b)) => {
            let (a, b) = if exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                Op::Eq => a == b,
                Op::Ne => a != b,
                Op::Co => a.contains(&b),
                Op::Sw => a.starts_with(&b),
                Op::Ew => a.ends_with(&b),
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
            }
        }
        (Value::Bool(a), Value::Bool(b)) => match op {
            Op::Eq => a == b,
            Op::Ne => a != b,
            _ => false,
        },
        // Entra sends booleans as strings.
        (Value::Bool(a), Value::String(b)) | (Value::String(b), Value::Bool(a)) => {
            matches!(op, Op::Eq) && b.eq_ignore_ascii_case(if *a { "true" } else { "false" })
        }
        (Value::Number(a), Value::Number(b)) => {
            let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
            match op {
                Op::Eq => (a - b).abs() < f64::EPSILON,
                Op::Ne => (a - b).abs() >= f64::EPSILON,
                Op::Gt => a > b,
                Op::Ge => a >= b,
                Op::Lt => a < b,
                Op::Le => a <= b,
                _ => false,
            }
        }
        (Value::Null, Value::Null) => op == Op::Eq,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
