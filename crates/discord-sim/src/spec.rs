//! Discord's OpenAPI document, and checks of routes and bodies against it.
//!
//! `spec/discord-openapi-v10.json` is Discord's own description of REST v10 (OpenAPI 3.1, MIT). [`Spec`]
//! parses it once and answers three questions the simulator (and its tests) ask on every request: is this
//! (method, path) a Discord route, which template does a concrete path match, and does a JSON body have
//! the shape Discord documents for it.
//!
//! The validator implements the subset of JSON Schema 2020-12 that the document uses (a unit test walks
//! the whole document and fails on any keyword outside that subset, so a newer document cannot silently
//! weaken the checks). Decisions worth knowing:
//!
//! * `oneOf` is checked as "at least one alternative matches", the same as `anyOf`. Discord uses `oneOf`
//!   loosely: message components are a `oneOf` of object schemas that do not pin their `type` to a
//!   constant and do not forbid additional properties, so a real action row satisfies several branches
//!   and strict "exactly one" would reject genuine Discord responses.
//! * `format`: `snowflake` requires a decimal digit string that fits in a `u64`; `date-time` requires a
//!   string that starts like an RFC 3339 timestamp (`YYYY-MM-DDTHH:MM`), the rest is not parsed. Every
//!   other format (`int32`, `int64`, `double`, `uri`, `uuid`, `nonce`, ...) is an annotation only.
//! * `pattern`: there is no regex engine here. The document's two patterns (the snowflake pattern and a
//!   hex colour) are recognised and checked by hand; an unknown pattern is ignored (and flagged by a test).
//! * `contentEncoding`, `title`, `description` and the `x-discord-*` extensions are annotations.
//! * Numbers compare exactly when both sides are integers; `1.0` counts as an integer, as in JSON Schema.
//!
//! [`Spec::get`] corrects three places where the document contradicts what Discord sends (see `ERRATA`):
//! string codes inside a 50035 `errors` tree, the optional `code` of a 429 body, and the open list of
//! guild features.
//!
//! `$ref`s are resolved by name in a map built once; validation walks the value, so recursive schemas
//! (`ErrorDetails` refers to itself) terminate with the value.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

use serde_json::{Map, Number, Value};

const DOCUMENT: &str = include_str!("../spec/discord-openapi-v10.json");
const SCHEMA_REF: &str = "#/components/schemas/";
const RESPONSE_REF: &str = "#/components/responses/";
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];
const SNOWFLAKE_PATTERN: &str = "^(0|[1-9][0-9]*)$";
const HEX_COLOR_PATTERN: &str = "^#(([0-9a-fA-F]{2}){3}|([0-9a-fA-F]){3})$";

/// A correction to the vendored document where it contradicts what Discord actually sends. Each applies
/// only while its target still looks as expected (`applies`), so a newer document is not patched blindly;
/// a unit test asserts that all of them apply to the vendored one.
struct Erratum {
    schema: &'static str,
    /// JSON pointer inside the component schema ("" for the whole schema).
    pointer: &'static str,
    applies: fn(&Value) -> bool,
    now: &'static str,
}

fn is_error_ref(value: &Value) -> bool {
    value.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/Error")
}

const ERRATA: &[Erratum] = &[
    // Field errors inside a 50035 body carry string codes ({"code": "BASE_TYPE_REQUIRED", "message":
    // "This field is required"}); the document reuses the top-level `Error`, whose code is an integer.
    // Both are accepted: what Discord sends, and what the document says.
    Erratum {
        schema: "InnerErrors",
        pointer: "/properties/_errors/items",
        applies: is_error_ref,
        now: r#"{"type": "object",
                 "properties": {"code": {"type": ["string", "integer"]}, "message": {"type": "string"}},
                 "required": ["code", "message"]}"#,
    },
    // Discord's rate-limit documentation makes `code` optional ("an error code for some limits"), and an
    // ordinary 429 body has none; the document builds the 429 body on `Error`, which requires it.
    Erratum {
        schema: "RatelimitedResponse",
        pointer: "/allOf/0",
        applies: is_error_ref,
        now: r#"{"type": "object", "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
                "required": ["message"]}"#,
    },
    // Real guilds list features the document's closed list lacks (THREADS_ENABLED, SOUNDBOARD, ...);
    // Discord's feature list is open, so any string is accepted (the arrays stay uniqueItems).
    Erratum {
        schema: "GuildFeatures",
        pointer: "",
        applies: |value| value.get("type") == Some(&Value::from("string")) && value.get("oneOf").is_some(),
        now: r#"{"type": "string"}"#,
    },
    // Discord's own documentation types a role's `permissions` as a string ("bitwise value of the
    // enabled/disabled permissions"), which is what Discord answers and what clients (twilight) send;
    // the document says integer. Both are accepted.
    Erratum {
        schema: "CreateRoleRequest",
        pointer: "/properties/permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    Erratum {
        schema: "UpdateRoleRequestPartial",
        pointer: "/properties/permissions",
        applies: is_nullable_integer,
        now: r#"{"type": ["integer", "string", "null"]}"#,
    },
    // An upload's attachment id only pairs the entry with its `files[n]` part; Discord's own upload
    // example writes it as a number (`"id": 0`), and clients (twilight) send numbers.
    Erratum {
        schema: "MessageAttachmentRequest",
        pointer: "/properties/id",
        applies: |value| value.get("$ref").and_then(Value::as_str) == Some("#/components/schemas/SnowflakeType"),
        now: r##"{"oneOf": [{"$ref": "#/components/schemas/SnowflakeType"}, {"type": "integer", "minimum": 0}]}"##,
    },
];

fn is_nullable_integer(value: &Value) -> bool {
    value.get("type") == Some(&serde_json::json!(["integer", "null"]))
}

/// Schema levels one validation may descend; only a `$ref` cycle that consumes no value reaches it.
const MAX_DEPTH: usize = 512;

/// Discord's OpenAPI document, parsed once. See the module documentation.
pub struct Spec {
    schemas: HashMap<String, Value>,
    routes: Vec<Route>,
    by_template: HashMap<String, usize>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec").field("schemas", &self.schemas.len()).field("routes", &self.routes.len()).finish()
    }
}

#[derive(Debug)]
struct Route {
    template: String,
    segments: Vec<Segment>,
    /// Upper-case method and its operation.
    operations: Vec<(String, Operation)>,
}

impl Route {
    fn operation(&self, method: &str) -> Option<&Operation> {
        self.operations.iter().find(|(m, _)| m.eq_ignore_ascii_case(method)).map(|(_, op)| op)
    }

    fn matches(&self, segments: &[&str]) -> bool {
        self.segments.len() == segments.len()
            && self.segments.iter().zip(segments).all(|(template, actual)| match template {
                Segment::Literal(literal) => literal == actual,
                Segment::Param => !actual.is_empty(),
            })
    }

    /// At the first position where one has a literal and the other a parameter, the literal wins.
    fn beats(&self, other: &Route) -> bool {
        self.segments
            .iter()
            .zip(&other.segments)
            .find_map(|(a, b)| match (a, b) {
                (Segment::Literal(_), Segment::Param) => Some(true),
                (Segment::Param, Segment::Literal(_)) => Some(false),
                _ => None,
            })
            .unwrap_or(false)
    }
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    Param,
}

#[derive(Debug)]
struct Operation {
    request: RequestBody,
    /// Status key as written in the document ("200", "4XX", "default") and what it carries.
    responses: Vec<(String, ResponseBody)>,
}

#[derive(Debug)]
enum RequestBody {
    /// The operation documents no request body.
    None,
    Json {
        schema: Value,
        required: bool,
    },
    /// Only non-JSON bodies (multipart, form) are documented.
    Other,
}

#[derive(Debug)]
enum ResponseBody {
    /// No content (e.g. 204).
    Empty,
    Json(Value),
    /// Content that is not JSON (an image, CSV); nothing to check.
    Other,
}

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
    /// The vendored document, parsed on first use, with the corrections in `ERRATA` applied.
    pub fn get() -> &'static Spec {
        static SPEC: OnceLock<Spec> = OnceLock::new();
        SPEC.get_or_init(|| {
            let mut spec = Spec::from_json(DOCUMENT)
                .unwrap_or_else(|error| panic!("the vendored Discord OpenAPI document is unusable: {error}"));
            spec.apply_errata();
            spec
        })
    }

    /// Applies each erratum whose target still reads as expected; returns the names of those applied.
    fn apply_errata(&mut self) -> Vec<&'static str> {
        let mut applied = Vec::new();
        for erratum in ERRATA {
            let target = self.schemas.get_mut(erratum.schema).and_then(|schema| schema.pointer_mut(erratum.pointer));
            if let Some(target) = target
                && (erratum.applies)(target)
                && let Ok(replacement) = serde_json::from_str::<Value>(erratum.now)
            {
                *target = replacement;
                applied.push(erratum.schema);
            }
        }
        applied
    }

    /// Parses an OpenAPI 3.1 document (`paths` and `components` are read; both may be absent).
    pub fn from_json(text: &str) -> Result<Spec, String> {
        let mut document: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
        let mut components = document.get_mut("components").map(Value::take).unwrap_or(Value::Null);
        let schemas: HashMap<String, Value> = match components.get_mut("schemas").map(Value::take) {
            Some(Value::Object(map)) => map.into_iter().collect(),
            _ => HashMap::new(),
        };
        let shared_responses = match components.get_mut("responses").map(Value::take) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        };
        let paths = match document.get_mut("paths").map(Value::take) {
            Some(Value::Object(map)) => map,
            None => Map::new(),
            Some(_) => return Err("`paths` is not an object".to_owned()),
        };

        let mut routes = Vec::with_capacity(paths.len());
        let mut by_template = HashMap::with_capacity(paths.len());
        for (template, item) in paths {
            let Value::Object(item) = item else {
                return Err(format!("path item {template} is not an object"));
            };
            let mut operations = Vec::new();
            for (method, operation) in item {
                if METHODS.contains(&method.as_str()) {
                    let operation = parse_operation(operation, &shared_responses)
                        .map_err(|error| format!("{} {template}: {error}", method.to_ascii_uppercase()))?;
                    operations.push((method.to_ascii_uppercase(), operation));
                }
            }
            let segments = template
                .strip_prefix('/')
                .ok_or_else(|| format!("path {template} does not start with /"))?
                .split('/')
                .map(|segment| match segment.starts_with('{') && segment.ends_with('}') {
                    true => Segment::Param,
                    false => Segment::Literal(segment.to_owned()),
                })
                .collect();
            by_template.insert(template.clone(), routes.len());
            routes.push(Route { template, segments, operations });
        }
        Ok(Spec { schemas, routes, by_template })
    }

    /// Every documented operation as (upper-case METHOD, path template).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.routes
            .iter()
            .flat_map(|route| route.operations.iter().map(|(method, _)| (method.as_str(), route.template.as_str())))
    }

    /// Names of the component schemas (`#/components/schemas/<name>`).
    pub fn schema_names(&self) -> impl Iterator<Item = &str> + '_ {
        self.schemas.keys().map(String::as_str)
    }

    /// Does the document define this method (any case) on this path template, e.g.
    /// `("GET", "/guilds/{guild_id}/bans/{user_id}")`?
    pub fn has_route(&self, method: &str, template: &str) -> bool {
        self.operation(method, template).is_some()
    }

    /// The template a concrete path such as `/guilds/123/bans/456` matches for this method. A literal
    /// segment beats a parameter (`/users/@me` wins over `/users/{user_id}`); a parameter matches any
    /// non-empty segment. A query string, a fragment and an `/api` or `/api/v10` prefix are ignored; a
    /// trailing slash is not (it makes an empty last segment, which matches nothing).
    pub fn route_for(&self, method: &str, path: &str) -> Option<&str> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segments: Vec<&str> = strip_api_prefix(path).strip_prefix('/')?.split('/').collect();
        let mut best: Option<&Route> = None;
        for route in &self.routes {
            if route.matches(&segments) && route.operation(method).is_some() {
                best = match best {
                    Some(current) if !route.beats(current) => Some(current),
                    _ => Some(route),
                };
            }
        }
        best.map(|route| route.template.as_str())
    }

    /// Validates a request body against the operation's `application/json` request schema.
    /// `Value::Null` stands for an absent body. An operation without a JSON schema accepts only an absent
    /// body or `{}`. The document marks every request body required, even where Discord accepts none (a
    /// `PUT` ban), so an absent body is checked as `{}`: it passes when the schema requires nothing.
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
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        let response = [exact.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|key| operation.responses.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, response)| response)
            .ok_or_else(|| vec![format!("{method} {template} documents no {status} response")])?;
        if status == 204 && !body.is_null() {
            return Err(vec![format!("a 204 response has no body, got {}", kind(body))]);
        }
        match response {
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

    fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.by_template.get(template).and_then(|&index| self.routes[index].operation(method))
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
            Value::String(text) => check_string(schema, text, pointer, out),
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

    /// `anyOf` and (deliberately, see the module documentation) `oneOf`: at least one branch must match.
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
}

/// The kind (type, const or enum) mismatch reported for the value at `pointer`, if any.
fn kind_mismatch_at<'a>(issues: &'a [Issue], pointer: &str) -> Option<&'a Expected> {
    issues.iter().filter(|issue| issue.pointer == pointer).find_map(|issue| issue.expected.as_ref())
}

fn parse_operation(mut operation: Value, shared_responses: &Map<String, Value>) -> Result<Operation, String> {
    let request = match operation.get_mut("requestBody") {
        None => RequestBody::None,
        Some(body) => {
            if body.get("$ref").is_some() {
                return Err("a $ref request body is not supported".to_owned());
            }
            let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
            match body.get_mut("content").and_then(Value::as_object_mut) {
                None => RequestBody::None,
                Some(content) if content.is_empty() => RequestBody::None,
                Some(content) => match content.get_mut("application/json").and_then(|c| c.get_mut("schema")) {
                    Some(schema) => RequestBody::Json { schema: schema.take(), required },
                    None => RequestBody::Other,
                },
            }
        }
    };
    let mut responses = Vec::new();
    if let Some(Value::Object(entries)) = operation.get_mut("responses").map(Value::take) {
        for (status, mut response) in entries {
            let body = match response.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let shared = reference
                        .strip_prefix(RESPONSE_REF)
                        .and_then(|name| shared_responses.get(name))
                        .ok_or_else(|| format!("unresolvable response $ref {reference}"))?;
                    response_body(&mut shared.clone())
                }
                None => response_body(&mut response),
            };
            responses.push((status, body));
        }
    }
    Ok(Operation { request, responses })
}

fn response_body(response: &mut Value) -> ResponseBody {
    match response.get_mut("content").and_then(Value::as_object_mut) {
        None => ResponseBody::Empty,
        Some(content) if content.is_empty() => ResponseBody::Empty,
        Some(content) => match content.get_mut("application/json").and_then(|c| c.get_mut("schema")) {
            Some(schema) => ResponseBody::Json(schema.take()),
            None => ResponseBody::Other,
        },
    }
}

fn strip_api_prefix(path: &str) -> &str {
    let Some(rest) = path.strip_prefix("/api") else { return path };
    if rest.is_empty() || rest.starts_with('/') {
        if let Some(version) = rest.strip_prefix("/v") {
            let digits = version.len() - version.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 && (version.len() == digits || version[digits..].starts_with('/')) {
                return &version[digits..];
            }
        }
        return rest;
    }
    path
}

fn unknown_operation(method: &str, template: &str) -> String {
    format!("{method} {template} is not an operation in Discord's OpenAPI document")
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

fn check_string(schema: &Map<String, Value>, text: &str, pointer: &str, out: &mut Vec<Issue>) {
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
    let format_ok = match schema.get("format").and_then(Value::as_str) {
        Some("snowflake") if !is_snowflake(text) => {
            out.push(issue(pointer, format!("expected a snowflake (a decimal u64 string), got {}", render_str(text))));
            false
        }
        Some("date-time") if !looks_like_date_time(text) => {
            out.push(issue(pointer, format!("expected an RFC 3339 date-time, got {}", render_str(text))));
            false
        }
        _ => true,
    };
    if let (true, Some(pattern)) = (format_ok, schema.get("pattern").and_then(Value::as_str))
        && known_pattern(pattern).is_some_and(|matches| !matches(text))
    {
        out.push(issue(pointer, format!("{} does not match the pattern {pattern}", render_str(text))));
    }
}

fn render_str(text: &str) -> String {
    render(&Value::String(text.to_owned()))
}

/// The document's regular expressions, checked by hand; `None` for a pattern this module does not know.
fn known_pattern(pattern: &str) -> Option<fn(&str) -> bool> {
    match pattern {
        SNOWFLAKE_PATTERN => {
            Some(|text| text == "0" || (text.starts_with(|c: char| matches!(c, '1'..='9')) && all_digits(text)))
        }
        HEX_COLOR_PATTERN => Some(|text| {
            text.strip_prefix('#')
                .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
        }),
        _ => None,
    }
}

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

fn is_snowflake(text: &str) -> bool {
    all_digits(text) && text.parse::<u64>().is_ok()
}

/// `YYYY-MM-DDTHH:MM` at the start (`T`, `t` or a space between date and time); the rest is not parsed.
fn looks_like_date_time(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| bytes.get(range).is_some_and(|b| b.iter().all(u8::is_ascii_digit));
    digits(0..4)
        && bytes.get(4) == Some(&b'-')
        && digits(5..7)
        && bytes.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(bytes.get(10), Some(b'T' | b't' | b' '))
        && digits(11..13)
        && bytes.get(13) == Some(&b':')
        && digits(14..16)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    /// A spec whose component schemas are `schemas` and which has no paths.
    fn spec_with(schemas: Value) -> Spec {
        let document = json!({ "openapi": "3.1.0", "components": { "schemas": schemas } });
        Spec::from_json(&document.to_string()).unwrap()
    }

    /// Validates `value` against the anonymous schema `schema` (component `T` of a fresh spec).
    fn check(schema: Value, value: Value) -> Result<(), Vec<String>> {
        spec_with(json!({ "T": schema })).validate_schema("T", &value)
    }

    fn errors(schema: Value, value: Value) -> Vec<String> {
        check(schema, value).unwrap_err()
    }

    #[test]
    fn type_single_array_and_nullable() {
        assert!(check(json!({"type": "string"}), json!("a")).is_ok());
        assert_eq!(errors(json!({"type": "string"}), json!(1)), ["/: expected string, got integer"]);
        assert!(check(json!({"type": ["string", "null"]}), json!(null)).is_ok());
        assert!(check(json!({"type": ["string", "null"]}), json!("x")).is_ok());
        assert_eq!(
            errors(json!({"type": ["string", "null"]}), json!(true)),
            ["/: expected string or null, got boolean"]
        );
        assert!(check(json!({"type": "null"}), json!(null)).is_ok());
        assert!(check(json!({"type": "boolean"}), json!(false)).is_ok());
        assert!(check(json!({"type": "object"}), json!([])).is_err());
        assert!(check(json!({"type": "array"}), json!({})).is_err());
    }

    #[test]
    fn integer_and_number() {
        assert!(check(json!({"type": "integer"}), json!(7)).is_ok());
        assert!(check(json!({"type": "integer"}), json!(7.0)).is_ok());
        assert!(check(json!({"type": "integer"}), json!(u64::MAX)).is_ok());
        assert_eq!(errors(json!({"type": "integer"}), json!(7.5)), ["/: expected integer, got number"]);
        assert!(check(json!({"type": "number"}), json!(7.5)).is_ok());
        assert!(check(json!({"type": "number"}), json!(7)).is_ok());
        assert!(check(json!({"type": "number"}), json!("7")).is_err());
    }

    #[test]
    fn properties_required_and_pointers() {
        let schema = json!({
            "type": "object",
            "properties": { "roles": { "type": "array", "items": { "type": "string" } }, "a/b~": { "type": "string" } },
            "required": ["id"]
        });
        let mut found = errors(schema.clone(), json!({"roles": ["1", 2], "a/b~": 3}));
        found.sort();
        assert_eq!(
            found,
            [
                "/: missing required property \"id\"",
                "/a~1b~0: expected string, got integer",
                "/roles/1: expected string, got integer"
            ]
        );
        assert!(check(schema, json!({"id": 1, "roles": [], "extra": true})).is_ok());
    }

    #[test]
    fn additional_properties_false_and_schema() {
        let closed = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false});
        assert!(check(closed.clone(), json!({"a": 1})).is_ok());
        assert_eq!(errors(closed, json!({"a": 1, "b": 2})), ["/: unexpected property \"b\""]);
        let map = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}});
        assert!(check(map.clone(), json!({"a": "declared, not checked", "x": 1})).is_ok());
        assert_eq!(errors(map, json!({"x": "1"})), ["/x: expected integer, got string"]);
    }

    #[test]
    fn array_keywords() {
        let schema =
            json!({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 3, "uniqueItems": true});
        assert!(check(schema.clone(), json!([1, 2, 3])).is_ok());
        assert_eq!(errors(schema.clone(), json!([])), ["/: expected at least 1 items, got 0"]);
        assert_eq!(errors(schema.clone(), json!([1, 2, 3, 4])), ["/: expected at most 3 items, got 4"]);
        assert_eq!(errors(schema.clone(), json!([1, 2, 1.0])), ["/: items must be unique, but 0 and 2 are equal"]);
        assert_eq!(errors(schema, json!([1, "2"])), ["/1: expected integer, got string"]);
        assert!(check(json!({"uniqueItems": true}), json!([{"a": [1]}, {"a": [2]}])).is_ok());
        assert!(check(json!({"uniqueItems": true}), json!([{"a": [1]}, {"a": [1]}])).is_err());
    }

    #[test]
    fn object_size_keywords() {
        assert!(check(json!({"maxProperties": 1}), json!({"a": 1})).is_ok());
        assert_eq!(
            errors(json!({"maxProperties": 1}), json!({"a": 1, "b": 2})),
            ["/: expected at most 1 properties, got 2"]
        );
        assert_eq!(errors(json!({"minProperties": 1}), json!({})), ["/: expected at least 1 properties, got 0"]);
        assert!(check(json!({"minProperties": 1}), json!("not an object")).is_ok());
    }

    #[test]
    fn enum_and_const() {
        assert!(check(json!({"enum": ["a", 2]}), json!(2.0)).is_ok());
        assert_eq!(errors(json!({"enum": ["a", 2]}), json!("b")), ["/: expected one of \"a\", 2, got \"b\""]);
        assert!(check(json!({"const": {"k": [1]}}), json!({"k": [1]})).is_ok());
        assert_eq!(errors(json!({"const": 3}), json!(4)), ["/: expected 3, got 4"]);
    }

    #[test]
    fn string_lengths_count_characters() {
        let schema = json!({"type": "string", "minLength": 2, "maxLength": 3});
        assert!(check(schema.clone(), json!("ééé")).is_ok(), "6 bytes, 3 characters");
        assert_eq!(errors(schema.clone(), json!("é")), ["/: expected at least 2 characters, got 1"]);
        assert_eq!(errors(schema, json!("abcd")), ["/: expected at most 3 characters, got 4"]);
        assert!(check(json!({"maxLength": 1}), json!(12345)).is_ok(), "applies to strings only");
    }

    #[test]
    fn numeric_bounds_are_exact_for_integers() {
        let int53 = json!({"type": "integer", "minimum": -9007199254740991_i64, "maximum": 9007199254740991_i64});
        assert!(check(int53.clone(), json!(9007199254740991_i64)).is_ok());
        assert_eq!(
            errors(int53, json!(9007199254740992_i64)),
            ["/: expected a number at most 9007199254740991, got 9007199254740992"]
        );
        assert!(check(json!({"minimum": 0, "maximum": 7}), json!(6.5)).is_ok());
        assert!(check(json!({"minimum": 0}), json!(-0.5)).is_err());
        assert!(check(json!({"exclusiveMaximum": 7}), json!(7)).is_err());
        assert!(check(json!({"exclusiveMinimum": 0}), json!(1)).is_ok());
    }

    #[test]
    fn formats_snowflake_and_date_time() {
        let snowflake = json!({"type": "string", "format": "snowflake"});
        assert!(check(snowflake.clone(), json!("175928847299117063")).is_ok());
        assert!(check(snowflake.clone(), json!("18446744073709551615")).is_ok());
        assert!(check(snowflake.clone(), json!("18446744073709551616")).is_err(), "beyond u64");
        assert_eq!(
            errors(snowflake.clone(), json!("12a")),
            ["/: expected a snowflake (a decimal u64 string), got \"12a\""]
        );
        assert!(check(snowflake, json!(175928847299117063_u64)).is_err(), "a number is not a snowflake");
        let date_time = json!({"type": "string", "format": "date-time"});
        assert!(check(date_time.clone(), json!("2024-05-01T12:30:00.123000+00:00")).is_ok());
        assert!(check(date_time.clone(), json!("2024-05-01 12:30:00Z")).is_ok());
        assert!(check(date_time.clone(), json!("May 1st")).is_err());
        assert!(check(date_time, json!("2024-05-01")).is_err());
        for ignored in ["uri", "int64", "int32", "uuid", "nonce", "double"] {
            assert!(check(json!({"format": ignored}), json!("anything")).is_ok(), "{ignored}");
        }
    }

    #[test]
    fn known_patterns_are_checked() {
        let snowflake = json!({"type": "string", "pattern": SNOWFLAKE_PATTERN});
        assert!(check(snowflake.clone(), json!("0")).is_ok());
        assert!(check(snowflake.clone(), json!("10")).is_ok());
        assert_eq!(
            errors(snowflake, json!("01")),
            [format!("/: \"01\" does not match the pattern {SNOWFLAKE_PATTERN}")]
        );
        let color = json!({"type": "string", "pattern": HEX_COLOR_PATTERN});
        assert!(check(color.clone(), json!("#fFa")).is_ok());
        assert!(check(color.clone(), json!("#00ff00")).is_ok());
        assert!(check(color.clone(), json!("#00ff0")).is_err());
        assert!(check(color, json!("00ff00")).is_err());
        assert!(check(json!({"pattern": "^x$"}), json!("unknown patterns are ignored")).is_ok());
        // The snowflake format and pattern together report one problem, not two.
        let both = json!({"type": "string", "format": "snowflake", "pattern": SNOWFLAKE_PATTERN});
        assert_eq!(errors(both, json!("x")).len(), 1);
    }

    #[test]
    fn refs_resolve_and_recurse_with_the_value() {
        let spec = spec_with(json!({
            "Id": {"type": "string", "format": "snowflake"},
            "User": {"type": "object", "properties": {"id": {"$ref": "#/components/schemas/Id"}}, "required": ["id"]},
            "Tree": {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Tree"}},
            "Broken": {"$ref": "#/components/schemas/Missing"},
            "Loop": {"$ref": "#/components/schemas/Loop"},
        }));
        assert!(spec.validate_schema("User", &json!({"id": "1"})).is_ok());
        assert_eq!(spec.validate_schema("User", &json!({"id": 1})).unwrap_err(), ["/id: expected string, got integer"]);
        assert!(spec.validate_schema("Tree", &json!({"a": {"b": {"c": {}}}})).is_ok());
        assert_eq!(
            spec.validate_schema("Tree", &json!({"a": {"b": 1}})).unwrap_err(),
            ["/a/b: expected object, got integer"]
        );
        assert!(spec.validate_schema("Broken", &json!(1)).unwrap_err()[0].contains("unresolvable $ref"));
        assert!(spec.validate_schema("Loop", &json!(1)).unwrap_err()[0].contains("too deep"));
        assert!(spec.validate_schema("Nope", &json!(1)).is_err());
    }

    #[test]
    fn one_of_needs_at_least_one_branch() {
        // Overlapping branches both match: accepted (oneOf is checked as anyOf on purpose).
        let loose = json!({"oneOf": [{"type": "object"}, {"type": "object", "required": ["a"]}]});
        assert!(check(loose, json!({"a": 1})).is_ok());
        // Integer enums written as const branches.
        let channel_type = json!({"type": "integer", "oneOf": [{"const": 0}, {"const": 2}]});
        assert!(check(channel_type.clone(), json!(2)).is_ok());
        assert_eq!(errors(channel_type.clone(), json!(5)), ["/: expected 0 or 2, got 5"]);
        assert_eq!(errors(channel_type, json!("0")), ["/: expected integer, got string"]);
        let any = json!({"anyOf": [{"type": "string"}, {"type": "integer"}]});
        assert!(check(any.clone(), json!(3)).is_ok());
        assert_eq!(errors(any, json!([])), ["/: expected string or integer, got array"]);
    }

    #[test]
    fn nullable_one_of_reports_the_branch_that_fits_the_value() {
        let spec = spec_with(json!({
            "Emoji": {"type": "object", "properties": {"id": {"type": "string"}}, "required": ["id"]},
            "T": {
                "type": "object",
                "properties": {"emoji": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/Emoji"}]}}
            },
        }));
        assert!(spec.validate_schema("T", &json!({"emoji": null})).is_ok());
        assert!(spec.validate_schema("T", &json!({"emoji": {"id": "1"}})).is_ok());
        assert_eq!(
            spec.validate_schema("T", &json!({"emoji": {"id": 1}})).unwrap_err(),
            ["/emoji/id: expected string, got integer"]
        );
        assert_eq!(
            spec.validate_schema("T", &json!({"emoji": 1})).unwrap_err(),
            ["/emoji: expected null or object, got integer"]
        );
    }

    #[test]
    fn failed_alternatives_report_the_most_useful_problem() {
        let spec = spec_with(json!({
            "Block": {
                "type": "object",
                "properties": {"type": {"enum": [1]}, "metadata": {"type": "object"}},
                "required": ["type"]
            },
            "Flag": {
                "type": "object",
                "properties": {"type": {"enum": [2]}, "metadata": {"type": "object", "required": ["channel_id"]}},
                "required": ["type", "metadata"]
            },
            "Action": {"oneOf": [{"$ref": "#/components/schemas/Block"}, {"$ref": "#/components/schemas/Flag"}]},
            "Details": {"oneOf": [
                {"type": "object", "additionalProperties": {"$ref": "#/components/schemas/Details"}},
                {
                    "type": "object",
                    "properties": {"_errors": {"type": "array", "items": {"type": "string"}}},
                    "required": ["_errors"],
                    "additionalProperties": false
                }
            ]},
        }));
        // Every branch rejects the discriminator: list what it could have been.
        assert_eq!(spec.validate_schema("Action", &json!({"type": 9})).unwrap_err(), ["/type: expected 1 or 2, got 9"]);
        // The branch whose discriminator fits explains what else is wrong.
        assert_eq!(
            spec.validate_schema("Action", &json!({"type": 2, "metadata": {}})).unwrap_err(),
            ["/metadata: missing required property \"channel_id\""]
        );
        // Recursive unions: the branch that got deepest into the value wins.
        assert_eq!(
            spec.validate_schema("Details", &json!({"a": {"_errors": [1]}})).unwrap_err(),
            ["/a/_errors/0: expected string, got integer"]
        );
    }

    #[test]
    fn all_of_applies_every_branch() {
        let schema =
            json!({"allOf": [{"required": ["a"]}, {"properties": {"b": {"type": "boolean"}}, "required": ["b"]}]});
        assert!(check(schema.clone(), json!({"a": 1, "b": true})).is_ok());
        assert_eq!(
            errors(schema, json!({"b": 1})),
            ["/: missing required property \"a\"", "/b: expected boolean, got integer"]
        );
    }

    #[test]
    fn boolean_schemas() {
        assert!(check(json!({"properties": {"a": true}}), json!({"a": 1})).is_ok());
        assert_eq!(errors(json!({"properties": {"a": false}}), json!({"a": 1})), ["/a: no value is allowed here"]);
    }

    #[test]
    fn has_route_on_real_entries() {
        let spec = Spec::get();
        assert!(spec.has_route("PUT", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(spec.has_route("get", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(spec.has_route("DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}"));
        assert!(spec.has_route("GET", "/users/@me"));
        assert!(!spec.has_route("PUT", "/guilds/{guild_id}/nope"));
        assert!(!spec.has_route("POST", "/guilds/{guild_id}/bans/{user_id}"));
        assert!(!spec.has_route("GET", "/guilds/{id}/bans/{user_id}"), "templates match by their exact spelling");
        assert!(spec.routes().count() > 200);
        assert!(spec.routes().any(|route| route == ("PATCH", "/guilds/{guild_id}/members/@me")));
    }

    #[test]
    fn route_for_prefers_literal_segments() {
        let spec = Spec::get();
        assert_eq!(spec.route_for("GET", "/users/@me"), Some("/users/@me"));
        assert_eq!(spec.route_for("GET", "/users/80351110224678912"), Some("/users/{user_id}"));
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2"), Some("/guilds/{guild_id}/bans/{user_id}"));
        assert_eq!(spec.route_for("PATCH", "/guilds/1/members/@me"), Some("/guilds/{guild_id}/members/@me"));
        assert_eq!(spec.route_for("GET", "/guilds/1/members/search"), Some("/guilds/{guild_id}/members/search"));
        // Only PATCH is documented on members/@me, so a GET falls back to the parameter.
        assert_eq!(spec.route_for("GET", "/guilds/1/members/@me"), Some("/guilds/{guild_id}/members/{user_id}"));
        assert_eq!(spec.route_for("GET", "/guilds/templates/abc"), Some("/guilds/templates/{code}"));
        assert_eq!(
            spec.route_for("GET", "/guilds/1/roles/member-counts"),
            Some("/guilds/{guild_id}/roles/member-counts")
        );
        assert_eq!(
            spec.route_for("PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me"),
            Some("/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me")
        );
        assert_eq!(
            spec.route_for("DELETE", "/channels/1/messages/2/reactions/%F0%9F%91%8D/3"),
            Some("/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/{user_id}")
        );
        assert_eq!(
            spec.route_for("GET", "/webhooks/1/tok/messages/@original"),
            Some("/webhooks/{webhook_id}/{webhook_token}/messages/@original")
        );
    }

    #[test]
    fn route_for_edges() {
        let spec = Spec::get();
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2/extra"), None, "trailing segments");
        assert_eq!(spec.route_for("GET", "/guilds/1/bans/2/"), None, "trailing slash");
        assert_eq!(spec.route_for("GET", "/guilds//bans/2"), None, "empty parameter");
        assert_eq!(spec.route_for("GET", "/guilds/1/nope"), None);
        assert_eq!(spec.route_for("POST", "/guilds/1/bans/2"), None, "method not documented");
        assert_eq!(spec.route_for("GET", "guilds/1"), None);
        assert_eq!(spec.route_for("GET", "/guilds/1/members?limit=1000&after=0"), Some("/guilds/{guild_id}/members"));
        assert_eq!(spec.route_for("GET", "/api/v10/guilds/1"), Some("/guilds/{guild_id}"));
        assert_eq!(spec.route_for("get", "/api/guilds/1"), Some("/guilds/{guild_id}"));
        assert_eq!(strip_api_prefix("/apiary"), "/apiary");
        assert_eq!(strip_api_prefix("/api/v10"), "");
        assert_eq!(strip_api_prefix("/api/vx/guilds"), "/vx/guilds");
    }

    #[test]
    fn request_bodies() {
        let spec = Spec::get();
        let ban = "/guilds/{guild_id}/bans/{user_id}";
        assert!(spec.validate_request("PUT", ban, &json!({"delete_message_seconds": 86400})).is_ok());
        assert!(spec.validate_request("PUT", ban, &Value::Null).is_ok(), "absent body checked as {{}}");
        assert_eq!(
            spec.validate_request("PUT", ban, &json!({"delete_message_seconds": 604801})).unwrap_err(),
            ["/delete_message_seconds: expected a number at most 604800, got 604801"]
        );
        let role = "/guilds/{guild_id}/members/{user_id}/roles/{role_id}";
        assert!(spec.validate_request("PUT", role, &Value::Null).is_ok());
        assert!(spec.validate_request("PUT", role, &json!({})).is_ok());
        assert!(spec.validate_request("PUT", role, &json!({"x": 1})).is_err());
        assert!(spec.validate_request("POST", "/guilds/{guild_id}/stickers", &json!({"name": "x"})).is_err());
        assert!(spec.validate_request("PUT", "/guilds/{guild_id}/nope", &Value::Null).is_err());
        // A request schema that is an array: an absent body is not an empty array.
        let positions = "/guilds/{guild_id}/roles";
        assert!(spec.validate_request("PATCH", positions, &json!([{"id": "1", "position": 2}])).is_ok());
        assert!(spec.validate_request("PATCH", positions, &Value::Null).is_err());
    }

    #[test]
    fn response_bodies() {
        let spec = Spec::get();
        let ban = "/guilds/{guild_id}/bans/{user_id}";
        assert!(spec.validate_response("PUT", ban, 204, &Value::Null).is_ok());
        assert!(spec.validate_response("PUT", ban, 204, &json!({})).is_err());
        assert!(spec.validate_response("PUT", ban, 200, &Value::Null).is_err(), "no 200 documented");
        let error = json!({"message": "Unknown Ban", "code": 10026});
        assert!(spec.validate_response("GET", ban, 404, &error).is_ok(), "4XX range");
        assert!(spec.validate_response("GET", ban, 404, &json!({"message": "Unknown Ban"})).is_err());
        let limited = json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false, "code": 0});
        assert!(spec.validate_response("GET", ban, 429, &limited).is_ok());
        assert!(spec.validate_response("GET", ban, 429, &error).is_err(), "429 is exact, not 4XX");
        assert!(spec.validate_response("GET", ban, 500, &error).is_err(), "no 5XX or default documented");
        assert!(spec.validate_response("GET", "/guilds/{guild_id}/widget.png", 200, &Value::Null).is_ok());
    }

    #[test]
    fn every_erratum_applies_to_the_vendored_document() {
        let mut spec = Spec::from_json(DOCUMENT).unwrap();
        let raw_429 = json!({"message": "You are being rate limited.", "retry_after": 1.5, "global": false});
        assert!(spec.validate_schema("RatelimitedResponse", &raw_429).is_err(), "the document requires code");
        assert_eq!(
            spec.apply_errata(),
            [
                "InnerErrors",
                "RatelimitedResponse",
                "GuildFeatures",
                "CreateRoleRequest",
                "UpdateRoleRequestPartial",
                "MessageAttachmentRequest"
            ]
        );
        assert!(spec.validate_schema("RatelimitedResponse", &raw_429).is_ok());
        assert!(spec.apply_errata().is_empty(), "applying twice changes nothing");
        let field_error = json!({"_errors": [{"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}]});
        assert!(Spec::get().validate_schema("InnerErrors", &field_error).is_ok());
        assert!(Spec::get().validate_schema("GuildFeatures", &json!("THREADS_ENABLED")).is_ok());
        assert!(Spec::get().validate_schema("GuildFeatures", &json!(1)).is_err());
    }

    /// Every keyword in the document's schemas is one this module handles or deliberately ignores, every
    /// `$ref` resolves and every `pattern` is known: a newer document cannot silently weaken the checks.
    #[test]
    fn the_document_uses_only_supported_schema_features() {
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
        const ANNOTATIONS: &[&str] = &[
            "title",
            "description",
            "default",
            "example",
            "examples",
            "deprecated",
            "contentEncoding",
            "x-discord-union",
        ];
        fn walk(spec: &Spec, schema: &Value, at: &str, problems: &mut Vec<String>) {
            let Value::Object(schema) = schema else { return };
            for (keyword, value) in schema {
                if !HANDLED.contains(&keyword.as_str()) && !ANNOTATIONS.contains(&keyword.as_str()) {
                    problems.push(format!("{at}: unsupported keyword {keyword}"));
                }
                match (keyword.as_str(), value) {
                    ("$ref", Value::String(r))
                        if !r.strip_prefix(SCHEMA_REF).is_some_and(|n| spec.schemas.contains_key(n)) =>
                    {
                        problems.push(format!("{at}: unresolvable $ref {r}"))
                    }
                    ("pattern", Value::String(p)) if known_pattern(p).is_none() => {
                        problems.push(format!("{at}: unknown pattern {p}"))
                    }
                    ("properties", Value::Object(properties)) => {
                        for (name, property) in properties {
                            walk(spec, property, &format!("{at}/properties/{name}"), problems);
                        }
                    }
                    ("items" | "additionalProperties", sub) => walk(spec, sub, &format!("{at}/{keyword}"), problems),
                    ("allOf" | "anyOf" | "oneOf", Value::Array(branches)) => {
                        for (i, branch) in branches.iter().enumerate() {
                            walk(spec, branch, &format!("{at}/{keyword}/{i}"), problems);
                        }
                    }
                    _ => {}
                }
            }
        }
        let spec = Spec::get();
        let mut problems = Vec::new();
        for (name, schema) in &spec.schemas {
            walk(spec, schema, name, &mut problems);
        }
        for route in &spec.routes {
            for (method, operation) in &route.operations {
                if let RequestBody::Json { schema, .. } = &operation.request {
                    walk(spec, schema, &format!("{method} {} request", route.template), &mut problems);
                }
                for (status, response) in &operation.responses {
                    if let ResponseBody::Json(schema) = response {
                        walk(spec, schema, &format!("{method} {} {status}", route.template), &mut problems);
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{problems:#?}");
        assert!(spec.schemas.len() > 500, "{}", spec.schemas.len());
    }
}
