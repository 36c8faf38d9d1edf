//! The validator: the subset of JSON Schema 2020-12 that the simulators' documents use.

use std::cmp::Ordering;

use serde_json::{Map, Number, Value};

use crate::spec::{RequestBody, ResponseBody, SCHEMA_REF, Spec};

/// Schema levels one validation may descend; only a `$ref` cycle that consumes no value reaches it.
const MAX_DEPTH: usize = 512;

/// Keywords the validator checks.
const HANDLED: &[&str] = &[
    "$ref",
    "type",
    "const",
    "enum",
    "format",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "items",
    "minItems",
    "maxItems",
    "uniqueItems",
    "properties",
    "required",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "allOf",
    "anyOf",
    "oneOf",
];

/// Keywords that carry no constraint; so do all `x-...` extensions.
const ANNOTATIONS: &[&str] = &[
    "title",
    "description",
    "default",
    "example",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "contentEncoding",
    "contentMediaType",
];

/// One problem found by the validator. `expected` is set when the value itself is of the wrong kind at
/// `pointer` (type, `const` or `enum` mismatch), which is how `oneOf` picks the most relevant branch.
#[derive(Debug)]
struct Issue {
    pointer: String,
    message: String,
    expected: Option<Expected>,
}

#[derive(Debug)]
struct Expected {
    what: String,
    /// What was found instead: the JSON type, or the value itself for a const/enum mismatch.
    got: String,
    /// `got` renders the value (const/enum mismatch), not only its type.
    by_value: bool,
}

impl Issue {
    fn render(&self) -> String {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        format!("{pointer}: {}", self.message)
    }
}

impl Spec {
    /// Validates a request body against the operation's `application/json` request schema.
    /// `Value::Null` stands for an absent body. An operation without a JSON schema accepts only an absent
    /// body or `{}`. An absent body for a required JSON body is checked as `{}`: it passes when the
    /// schema requires nothing (Discord's document marks every request body required, even where
    /// Discord accepts none, such as a `PUT` ban).
    pub fn validate_request(&self, method: &str, template: &str, body: &Value) -> Result<(), Vec<String>> {
        let operation = self.operation(method, template).ok_or_else(|| vec![unknown_operation(method, template)])?;
        let empty = match body {
            Value::Null => true,
            Value::Object(map) => map.is_empty(),
            _ => false,
        };
        match &operation.request {
            RequestBody::None | RequestBody::Other if empty => Ok(()),
            RequestBody::None => Err(vec![format!("{method} {template} takes no request body")]),
            RequestBody::Other => Err(vec![format!("{method} {template} takes no JSON body (only multipart/form)")]),
            RequestBody::Json { required: false, .. } if body.is_null() => Ok(()),
            RequestBody::Json { schema, .. } if body.is_null() => {
                self.check_root(schema, &Value::Object(Map::new())).map_err(|mut errors| {
                    errors.insert(0, format!("{method} {template}: an absent body, checked as {{}}, does not fit:"));
                    errors
                })
            }
            RequestBody::Json { schema, .. } => self.check_root(schema, body),
        }
    }

    /// Validates a response body for `status` against the operation's response: the exact status, else
    /// its range (`4XX`), else `default`. A response without content (every 204) must have no body
    /// (`Value::Null`); a non-JSON response (an image) is not checked.
    pub fn validate_response(
        &self,
        method: &str,
        template: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), Vec<String>> {
        let operation = self.operation(method, template).ok_or_else(|| vec![unknown_operation(method, template)])?;
        let response = operation
            .response(status)
            .ok_or_else(|| vec![format!("{method} {template} documents no {status} response")])?;
        if status == 204 && !body.is_null() {
            return Err(vec![format!("a 204 response has no body, got {}", kind(body))]);
        }
        match &response.body {
            ResponseBody::Empty if body.is_null() => Ok(()),
            ResponseBody::Empty => {
                Err(vec![format!("{method} {template} documents no body for {status}, got {}", kind(body))])
            }
            ResponseBody::Json(schema) => self.check_root(schema, body),
            ResponseBody::Other => Ok(()),
        }
    }

    /// Validates any value against a component schema, e.g. `validate_schema("ErrorResponse", &v)`.
    pub fn validate_schema(&self, name: &str, value: &Value) -> Result<(), Vec<String>> {
        let schema = self.schemas.get(name).ok_or_else(|| vec![format!("no component schema named {name}")])?;
        self.check_root(schema, value)
    }

    /// Validates any value against a schema given here, which may refer to the document's component
    /// schemas (`{"$ref": "#/components/schemas/..."}`): for shapes the document leaves out.
    pub fn validate(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        self.check_root(schema, value)
    }

    /// Everything in the document's schemas that this validator would not check as written: keywords
    /// outside its subset (annotations and `x-...` extensions aside), `$ref`s that do not resolve,
    /// `pattern`s without a check in the options, and OpenAPI 3.0's boolean `exclusiveMinimum`/`Maximum`.
    /// A simulator's test asserts this is empty, so a newer document cannot silently weaken the checks.
    pub fn unsupported_features(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, schema) in &self.schemas {
            self.walk(schema, name, &mut problems);
        }
        for route in &self.routes {
            for operation in &route.operations {
                let method = operation.method();
                if let RequestBody::Json { schema, .. } = &operation.request {
                    self.walk(schema, &format!("{method} {} request", route.template), &mut problems);
                }
                for (status, response) in &operation.responses {
                    if let ResponseBody::Json(schema) = &response.body {
                        self.walk(schema, &format!("{method} {} {status}", route.template), &mut problems);
                    }
                }
            }
        }
        problems.sort();
        problems
    }

    fn walk(&self, schema: &Value, at: &str, problems: &mut Vec<String>) {
        let Value::Object(schema) = schema else { return };
        for (keyword, value) in schema {
            let known = HANDLED.contains(&keyword.as_str())
                || ANNOTATIONS.contains(&keyword.as_str())
                || keyword.starts_with("x-");
            if !known {
                problems.push(format!("{at}: unsupported keyword {keyword}"));
            }
            match (keyword.as_str(), value) {
                ("$ref", Value::String(r))
                    if !r.strip_prefix(SCHEMA_REF).is_some_and(|n| self.schemas.contains_key(n)) =>
                {
                    problems.push(format!("{at}: unresolvable $ref {r}"))
                }
                ("pattern", Value::String(p)) if !self.patterns.contains_key(p) => {
                    problems.push(format!("{at}: unknown pattern {p}"))
                }
                ("exclusiveMinimum" | "exclusiveMaximum", value) if !value.is_number() => {
                    problems.push(format!("{at}: {keyword} must be a number, got {}", kind(value)))
                }
                ("properties", Value::Object(properties)) => {
                    for (name, property) in properties {
                        self.walk(property, &format!("{at}/properties/{name}"), problems);
                    }
                }
                ("items" | "additionalProperties", sub) => self.walk(sub, &format!("{at}/{keyword}"), problems),
                ("allOf" | "anyOf" | "oneOf", Value::Array(branches)) => {
                    for (i, branch) in branches.iter().enumerate() {
                        self.walk(branch, &format!("{at}/{keyword}/{i}"), problems);
                    }
                }
                _ => {}
            }
        }
    }

    fn check_root(&self, schema: &Value, value: &Value) -> Result<(), Vec<String>> {
        let mut issues = Vec::new();
        self.check(schema, value, &mut String::new(), 0, &mut issues);
        match issues.is_empty() {
            true => Ok(()),
            false => Err(issues.iter().map(Issue::render).collect()),
        }
    }

    /// Checks `value` (found at `pointer`) against `schema`, appending what is wrong to `out`.
    fn check(&self, schema: &Value, value: &Value, pointer: &mut String, depth: usize, out: &mut Vec<Issue>) {
        let schema = match schema {
            Value::Object(schema) => schema,
            Value::Bool(false) => return out.push(issue(pointer, "no value is allowed here".to_owned())),
            _ => return,
        };
        if depth > MAX_DEPTH {
            return out.push(issue(pointer, "schema nesting too deep (a $ref cycle?)".to_owned()));
        }
        if let Some(reference) = schema.get("$ref") {
            match reference.as_str().and_then(|r| r.strip_prefix(SCHEMA_REF)).and_then(|n| self.schemas.get(n)) {
                Some(target) => self.check(target, value, pointer, depth + 1, out),
                None => out.push(issue(pointer, format!("unresolvable $ref {reference}"))),
            }
        }
        if let Some(types) = schema.get("type")
            && !type_matches(types, value)
        {
            let what = match types {
                Value::Array(types) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
                other => other.as_str().unwrap_or("?").to_owned(),
            };
            return out.push(mismatch(pointer, what, false, value));
        }
        if let Some(constant) = schema.get("const")
            && !json_eq(constant, value)
        {
            return out.push(mismatch(pointer, render(constant), true, value));
        }
        if let Some(Value::Array(options)) = schema.get("enum")
            && !options.iter().any(|option| json_eq(option, value))
        {
            let what = match options.as_slice() {
                [only] => render(only),
                _ => format!("one of {}", options.iter().map(render).collect::<Vec<_>>().join(", ")),
            };
            return out.push(mismatch(pointer, what, true, value));
        }
        match value {
            Value::String(text) => self.check_string(schema, text, pointer, out),
            Value::Number(number) => check_number(schema, number, pointer, out),
            Value::Array(items) => self.check_array(schema, items, pointer, depth, out),
            Value::Object(map) => self.check_object(schema, map, pointer, depth, out),
            Value::Null | Value::Bool(_) => {}
        }
        if let Some(Value::Array(branches)) = schema.get("allOf") {
            for branch in branches {
                self.check(branch, value, pointer, depth + 1, out);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = schema.get(keyword) {
                self.check_alternatives(branches, value, pointer, depth, out);
            }
        }
    }

    /// `anyOf` and (deliberately, see the crate documentation) `oneOf`: at least one branch must match.
    /// When none does: if every branch rejects the kind of the value (or of one nested value, such as a
    /// `type` discriminator), say everything that was expected there; otherwise report the branch that
    /// got furthest into the value.
    fn check_alternatives(
        &self,
        branches: &[Value],
        value: &Value,
        pointer: &mut String,
        depth: usize,
        out: &mut Vec<Issue>,
    ) {
        if branches.is_empty() {
            return;
        }
        let mut attempts = Vec::with_capacity(branches.len());
        for branch in branches {
            let mut issues = Vec::new();
            self.check(branch, value, pointer, depth + 1, &mut issues);
            if issues.is_empty() {
                return;
            }
            attempts.push(issues);
        }
        let at_root = |issues: &[Issue]| kind_mismatch_at(issues, pointer).is_some();
        if attempts.iter().all(|issues| at_root(issues)) {
            let expected = attempts.iter().filter_map(|issues| kind_mismatch_at(issues, pointer));
            return out.push(combine(pointer, expected));
        }
        // Every branch rejects the kind of one and the same nested value (a discriminating `type` field):
        // say which values would have done there.
        let first = attempts[0].iter().find(|issue| issue.expected.is_some()).map(|issue| issue.pointer.clone());
        if let Some(at) = first
            && attempts.iter().all(|issues| kind_mismatch_at(issues, &at).is_some())
        {
            let expected = attempts.iter().filter_map(|issues| kind_mismatch_at(issues, &at));
            return out.push(combine(&at, expected));
        }
        // Otherwise report the branch that got furthest into the value: its shallowest issue is deepest,
        // then it has the fewest kind mismatches, then the fewest issues.
        let shallowest = |issues: &Vec<Issue>| issues.iter().map(|i| i.pointer.matches('/').count()).min();
        let kind_mismatches = |issues: &Vec<Issue>| issues.iter().filter(|i| i.expected.is_some()).count();
        if let Some(best) = attempts
            .into_iter()
            .filter(|issues| !at_root(issues))
            .min_by_key(|issues| (std::cmp::Reverse(shallowest(issues)), kind_mismatches(issues), issues.len()))
        {
            out.extend(best);
        }
    }

    fn check_array(
        &self,
        schema: &Map<String, Value>,
        items: &[Value],
        pointer: &mut String,
        depth: usize,
        out: &mut Vec<Issue>,
    ) {
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
            && (items.len() as u64) < min
        {
            out.push(issue(pointer, format!("expected at least {min} items, got {}", items.len())));
        }
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
            && items.len() as u64 > max
        {
            out.push(issue(pointer, format!("expected at most {max} items, got {}", items.len())));
        }
        if schema.get("uniqueItems") == Some(&Value::Bool(true)) {
            let duplicate =
                (0..items.len()).find_map(|j| (0..j).find(|&i| json_eq(&items[i], &items[j])).map(|i| (i, j)));
            if let Some((i, j)) = duplicate {
                out.push(issue(pointer, format!("items must be unique, but {i} and {j} are equal")));
            }
        }
        if let Some(item_schema) = schema.get("items") {
            for (index, item) in items.iter().enumerate() {
                let length = pointer.len();
                pointer.push('/');
                pointer.push_str(&index.to_string());
                self.check(item_schema, item, pointer, depth + 1, out);
                pointer.truncate(length);
            }
        }
    }

    fn check_object(
        &self,
        schema: &Map<String, Value>,
        map: &Map<String, Value>,
        pointer: &mut String,
        depth: usize,
        out: &mut Vec<Issue>,
    ) {
        if let Some(Value::Array(required)) = schema.get("required") {
            for name in required.iter().filter_map(Value::as_str) {
                if !map.contains_key(name) {
                    out.push(issue(pointer, format!("missing required property \"{name}\"")));
                }
            }
        }
        if let Some(min) = schema.get("minProperties").and_then(Value::as_u64)
            && (map.len() as u64) < min
        {
            out.push(issue(pointer, format!("expected at least {min} properties, got {}", map.len())));
        }
        if let Some(max) = schema.get("maxProperties").and_then(Value::as_u64)
            && map.len() as u64 > max
        {
            out.push(issue(pointer, format!("expected at most {max} properties, got {}", map.len())));
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (key, property) in map {
            let declared = properties.and_then(|properties| properties.get(key));
            let property_schema = match (declared, additional) {
                (Some(declared), _) => declared,
                (None, Some(Value::Bool(false))) => {
                    out.push(issue(pointer, format!("unexpected property \"{key}\"")));
                    continue;
                }
                (None, Some(additional)) => additional,
                (None, None) => continue,
            };
            let length = pointer.len();
            push_token(pointer, key);
            self.check(property_schema, property, pointer, depth + 1, out);
            pointer.truncate(length);
        }
    }

    fn check_string(&self, schema: &Map<String, Value>, text: &str, pointer: &str, out: &mut Vec<Issue>) {
        let needs_length = schema.contains_key("minLength") || schema.contains_key("maxLength");
        let length = if needs_length { text.chars().count() as u64 } else { 0 };
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
            && length < min
        {
            out.push(issue(pointer, format!("expected at least {min} characters, got {length}")));
        }
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64)
            && length > max
        {
            out.push(issue(pointer, format!("expected at most {max} characters, got {length}")));
        }
        let format = schema.get("format").and_then(Value::as_str);
        let format_ok = match format.and_then(|name| Some((name, self.formats.get(name)?))) {
            Some((name, check)) if !check(text) => {
                out.push(issue(pointer, format!("expected a {name} string, got {}", render_str(text))));
                false
            }
            _ => true,
        };
        // A value of the wrong format is reported once, not again by a pattern that says the same.
        if let (true, Some(pattern)) = (format_ok, schema.get("pattern").and_then(Value::as_str))
            && self.patterns.get(pattern).is_some_and(|matches| !matches(text))
        {
            out.push(issue(pointer, format!("{} does not match the pattern {pattern}", render_str(text))));
        }
    }
}

/// The kind (type, const or enum) mismatch reported for the value at `pointer`, if any.
fn kind_mismatch_at<'a>(issues: &'a [Issue], pointer: &str) -> Option<&'a Expected> {
    issues.iter().filter(|issue| issue.pointer == pointer).find_map(|issue| issue.expected.as_ref())
}

fn unknown_operation(method: &str, template: &str) -> String {
    format!("{method} {template} is not an operation of the OpenAPI document")
}

fn issue(pointer: &str, message: String) -> Issue {
    Issue { pointer: pointer.to_owned(), message, expected: None }
}

fn mismatch(pointer: &str, what: String, by_value: bool, value: &Value) -> Issue {
    let got = match by_value {
        true => render(value),
        false => kind(value).to_owned(),
    };
    Issue {
        pointer: pointer.to_owned(),
        message: format!("expected {what}, got {got}"),
        expected: Some(Expected { what, got, by_value }),
    }
}

/// One mismatch at `pointer` listing every alternative that was expected there.
fn combine<'a>(pointer: &str, expected: impl Iterator<Item = &'a Expected>) -> Issue {
    let mut whats: Vec<&str> = Vec::new();
    let (mut got, mut by_value) = ("", false);
    for e in expected {
        // A value rendering ("9") says more than its type ("integer").
        if got.is_empty() || (e.by_value && !by_value) {
            (got, by_value) = (&e.got, e.by_value);
        }
        if !whats.contains(&e.what.as_str()) {
            whats.push(&e.what);
        }
    }
    let what = whats.join(" or ");
    let message = format!("expected {what}, got {got}");
    Issue { pointer: pointer.to_owned(), message, expected: Some(Expected { what, got: got.to_owned(), by_value }) }
}

/// Appends `/key` to a JSON pointer, escaping `~` and `/` as RFC 6901 says.
fn push_token(pointer: &mut String, key: &str) {
    pointer.push('/');
    for c in key.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if is_integer(number) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A short rendering of a value for messages.
fn render(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

fn render_str(text: &str) -> String {
    render(&Value::String(text.to_owned()))
}

fn is_integer(number: &Number) -> bool {
    number.is_i64() || number.is_u64() || number.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0)
}

fn type_matches(types: &Value, value: &Value) -> bool {
    let one = |name: &str| match name {
        "integer" => matches!(value, Value::Number(number) if is_integer(number)),
        "number" => value.is_number(),
        other => kind(value) == other,
    };
    match types {
        Value::String(name) => one(name),
        Value::Array(names) => names.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn as_i128(number: &Number) -> Option<i128> {
    number.as_i64().map(i128::from).or_else(|| number.as_u64().map(i128::from))
}

fn compare(a: &Number, b: &Number) -> Option<Ordering> {
    match (as_i128(a), as_i128(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

/// JSON equality with numbers compared by value (`1 == 1.0`), as JSON Schema's `const`/`enum` require.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(a), Value::Number(b)) => compare(a, b) == Some(Ordering::Equal),
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(a, b)| json_eq(a, b)),
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len() && a.iter().all(|(key, a)| b.get(key).is_some_and(|b| json_eq(a, b)))
        }
        _ => a == b,
    }
}

fn check_number(schema: &Map<String, Value>, number: &Number, pointer: &str, out: &mut Vec<Issue>) {
    let bounds = [
        ("minimum", "at least", &[Ordering::Less][..]),
        ("maximum", "at most", &[Ordering::Greater][..]),
        ("exclusiveMinimum", "more than", &[Ordering::Less, Ordering::Equal][..]),
        ("exclusiveMaximum", "less than", &[Ordering::Greater, Ordering::Equal][..]),
    ];
    for (keyword, phrase, failing) in bounds {
        if let Some(Value::Number(bound)) = schema.get(keyword)
            && compare(number, bound).is_some_and(|ordering| failing.contains(&ordering))
        {
            out.push(issue(pointer, format!("expected a number {phrase} {bound}, got {number}")));
        }
    }
}
