//! The document: its routes and operations, parsed once.

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::options::{Check, Options};

pub(crate) const SCHEMA_REF: &str = "#/components/schemas/";
const RESPONSE_REF: &str = "#/components/responses/";
const REQUEST_BODY_REF: &str = "#/components/requestBodies/";
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "patch", "head", "options", "trace"];

/// An OpenAPI 3.0 or 3.1 document, parsed once: its routes, its operations and its component schemas,
/// with a validator for bodies. See the crate documentation.
pub struct Spec {
    pub(crate) schemas: HashMap<String, Value>,
    pub(crate) routes: Vec<Route>,
    by_template: HashMap<String, usize>,
    prefixes: Vec<String>,
    pub(crate) patterns: HashMap<String, Check>,
    pub(crate) formats: HashMap<String, Check>,
    /// Each erratum of the options, described, and whether it applied.
    errata: Vec<(String, bool)>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec").field("schemas", &self.schemas.len()).field("routes", &self.routes.len()).finish()
    }
}

#[derive(Debug)]
pub(crate) struct Route {
    pub(crate) template: String,
    segments: Vec<Segment>,
    pub(crate) operations: Vec<Operation>,
}

impl Route {
    fn operation(&self, method: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.method.eq_ignore_ascii_case(method))
    }

    /// The parameters when every segment matches, in template order.
    fn matches<'t, 'p>(&'t self, segments: &[&'p str]) -> Option<Vec<(&'t str, &'p str)>> {
        if self.segments.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (template, actual) in self.segments.iter().zip(segments) {
            match template {
                Segment::Literal(literal) if literal == actual => {}
                Segment::Literal(_) => return None,
                Segment::Param { name, prefix, suffix } => {
                    let value = actual.strip_prefix(prefix.as_str())?.strip_suffix(suffix.as_str())?;
                    if value.is_empty() {
                        return None;
                    }
                    params.push((name.as_str(), value));
                }
            }
        }
        Some(params)
    }

    /// At the first position where the two differ in how specific they are, the more specific wins: a
    /// literal beats a parameter with literal text around it (`{id}:accept`), which beats a bare one.
    fn beats(&self, other: &Route) -> bool {
        self.segments
            .iter()
            .zip(&other.segments)
            .map(|(a, b)| a.specificity().cmp(&b.specificity()))
            .find(|ordering| ordering.is_ne())
            .is_some_and(std::cmp::Ordering::is_gt)
    }
}

#[derive(Debug)]
enum Segment {
    Literal(String),
    /// `{name}`, possibly with literal text before or after it in the same segment (`{id}:accept`).
    Param {
        name: String,
        prefix: String,
        suffix: String,
    },
}

impl Segment {
    fn parse(segment: &str, template: &str) -> Result<Segment, String> {
        let Some(open) = segment.find('{') else { return Ok(Segment::Literal(segment.to_owned())) };
        let close =
            segment[open..].find('}').map(|i| open + i).ok_or_else(|| format!("path {template}: unclosed {{"))?;
        let (prefix, name, suffix) = (&segment[..open], &segment[open + 1..close], &segment[close + 1..]);
        if name.is_empty() || suffix.contains(['{', '}']) || prefix.contains('}') {
            return Err(format!("path {template}: a segment holds one named parameter at most, got {segment}"));
        }
        Ok(Segment::Param { name: name.to_owned(), prefix: prefix.to_owned(), suffix: suffix.to_owned() })
    }

    fn specificity(&self) -> (u8, usize) {
        match self {
            Segment::Literal(_) => (2, 0),
            Segment::Param { prefix, suffix, .. } if prefix.is_empty() && suffix.is_empty() => (0, 0),
            Segment::Param { prefix, suffix, .. } => (1, prefix.len() + suffix.len()),
        }
    }
}

/// One operation of the document: a method on a path template, with what the simulators need of it.
/// Its request and response bodies are checked through [`Spec::validate_request`] and
/// [`Spec::validate_response`].
#[derive(Debug)]
pub struct Operation {
    /// Upper case.
    method: String,
    id: Option<String>,
    /// The operation's `x-...` members, as written.
    extensions: Map<String, Value>,
    /// The URLs of the operation's own `servers`, if it has any.
    servers: Vec<String>,
    pub(crate) request: RequestBody,
    /// Status key as written in the document ("200", "4XX", "default") and what it carries.
    pub(crate) responses: Vec<(String, Response)>,
}

impl Operation {
    /// The method, upper case.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The `operationId`, if the document gives one.
    pub fn operation_id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// A specification extension of the operation (`x-roblox-rate-limits`, ...), as written.
    pub fn extension(&self, name: &str) -> Option<&Value> {
        self.extensions.get(name)
    }

    /// The URLs of the operation's own `servers` (empty when it uses the document's).
    pub fn servers(&self) -> impl Iterator<Item = &str> + '_ {
        self.servers.iter().map(String::as_str)
    }

    /// The response documented for `status`: the exact status, else its range (`4XX`), else `default`.
    pub(crate) fn response(&self, status: u16) -> Option<&Response> {
        let exact = status.to_string();
        let range = format!("{}XX", status / 100);
        [exact.as_str(), range.as_str(), "default"]
            .iter()
            .find_map(|key| self.responses.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
            .map(|(_, response)| response)
    }

    /// Whether the document describes an answer with this status (exactly, by range or by `default`).
    pub fn documents_status(&self, status: u16) -> bool {
        self.response(status).is_some()
    }

    /// The `description` of the response documented for `status` (exact, range, then `default`).
    pub fn response_description(&self, status: u16) -> Option<&str> {
        self.response(status).and_then(|response| response.description.as_deref())
    }
}

#[derive(Debug)]
pub(crate) enum RequestBody {
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
pub(crate) struct Response {
    description: Option<String>,
    pub(crate) body: ResponseBody,
}

#[derive(Debug)]
pub(crate) enum ResponseBody {
    /// No content (e.g. 204).
    Empty,
    Json(Value),
    /// Content that is not JSON (an image, CSV); nothing to check.
    Other,
}

/// A concrete path matched to a route: its template and its path parameters (as they appear in the
/// path, not percent-decoded), in template order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'s, 'p> {
    /// The template, as the document writes it.
    pub template: &'s str,
    /// `(name, value)` for each parameter of the template.
    pub params: Vec<(&'s str, &'p str)>,
}

impl<'s, 'p> RouteMatch<'s, 'p> {
    /// A parameter's value by name.
    pub fn param(&self, name: &str) -> Option<&'p str> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, value)| *value)
    }
}

impl Spec {
    /// Parses an OpenAPI 3.0 or 3.1 document (`paths` and `components` are read; both may be absent),
    /// applying the errata of `options` first. An erratum that does not apply is skipped and reported by
    /// [`Spec::skipped_errata`]; a document that is not JSON, or whose paths cannot be read, is an error.
    pub fn from_json(text: &str, options: &Options) -> Result<Spec, String> {
        let mut document: Value = serde_json::from_str(text).map_err(|error| format!("not JSON: {error}"))?;
        let mut errata = Vec::with_capacity(options.errata.len());
        for erratum in &options.errata {
            let target = document.pointer_mut(&erratum.document_pointer());
            let applied = match (target, serde_json::from_str::<Value>(erratum.now)) {
                (Some(target), Ok(replacement)) if (erratum.applies)(target) => {
                    *target = replacement;
                    true
                }
                _ => false,
            };
            errata.push((erratum.target.to_string(), applied));
        }

        let mut components = document.get_mut("components").map(Value::take).unwrap_or(Value::Null);
        let schemas: HashMap<String, Value> = match components.get_mut("schemas").map(Value::take) {
            Some(Value::Object(map)) => map.into_iter().collect(),
            _ => HashMap::new(),
        };
        let mut shared = Shared::default();
        for (kind, map) in [("responses", &mut shared.responses), ("requestBodies", &mut shared.request_bodies)] {
            if let Some(Value::Object(found)) = components.get_mut(kind).map(Value::take) {
                *map = found;
            }
        }
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
                    let method = method.to_ascii_uppercase();
                    let operation = parse_operation(method.clone(), operation, &shared)
                        .map_err(|error| format!("{method} {template}: {error}"))?;
                    operations.push(operation);
                }
            }
            let segments = template
                .strip_prefix('/')
                .ok_or_else(|| format!("path {template} does not start with /"))?
                .split('/')
                .map(|segment| Segment::parse(segment, &template))
                .collect::<Result<_, _>>()?;
            by_template.insert(template.clone(), routes.len());
            routes.push(Route { template, segments, operations });
        }
        let mut prefixes = options.prefixes.clone();
        prefixes.sort_by_key(|prefix| std::cmp::Reverse(prefix.len()));
        Ok(Spec {
            schemas,
            routes,
            by_template,
            prefixes,
            patterns: options.patterns.iter().cloned().collect(),
            formats: options.formats.iter().cloned().collect(),
            errata,
        })
    }

    /// The errata that applied, as `Schema` or `METHOD template`, in the order of the options.
    pub fn applied_errata(&self) -> Vec<&str> {
        self.errata.iter().filter(|(_, applied)| *applied).map(|(name, _)| name.as_str()).collect()
    }

    /// The errata that did not apply (their target is missing or no longer reads as expected).
    pub fn skipped_errata(&self) -> Vec<&str> {
        self.errata.iter().filter(|(_, applied)| !*applied).map(|(name, _)| name.as_str()).collect()
    }

    /// Every documented operation as (upper-case METHOD, path template).
    pub fn routes(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.routes
            .iter()
            .flat_map(|route| route.operations.iter().map(|op| (op.method.as_str(), route.template.as_str())))
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

    /// The operation of this method (any case) on this path template, as the document spells it.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Operation> {
        self.by_template.get(template).and_then(|&index| self.routes[index].operation(method))
    }

    /// The template a concrete path such as `/guilds/123/bans/456` matches for this method. See
    /// [`Spec::match_path`].
    pub fn route_for(&self, method: &str, path: &str) -> Option<&str> {
        self.match_path(method, path).map(|matched| matched.template)
    }

    /// The route a concrete path matches for this method, with its parameters. A literal segment beats
    /// a parameter (`/users/@me` wins over `/users/{user_id}`), and a parameter with literal text in its
    /// segment beats a bare one (`/users/{id}:generateThumbnail` wins over `/users/{id}` for
    /// `/users/1:generateThumbnail`); a parameter matches any non-empty text. A query string, a fragment
    /// and a configured prefix ([`Options::strip_prefix`]) are ignored; a trailing slash is not (it makes
    /// an empty last segment, which matches nothing).
    pub fn match_path<'s, 'p>(&'s self, method: &str, path: &'p str) -> Option<RouteMatch<'s, 'p>> {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        let segments: Vec<&str> = self.strip_prefix(path).strip_prefix('/')?.split('/').collect();
        let mut best: Option<(&Route, Vec<(&str, &str)>)> = None;
        for route in &self.routes {
            if route.operation(method).is_none() {
                continue;
            }
            if let Some(params) = route.matches(&segments) {
                best = match best {
                    Some(current) if !route.beats(current.0) => Some(current),
                    _ => Some((route, params)),
                };
            }
        }
        best.map(|(route, params)| RouteMatch { template: route.template.as_str(), params })
    }

    /// `path` without the longest configured prefix it starts with (at a segment boundary).
    fn strip_prefix<'p>(&self, path: &'p str) -> &'p str {
        self.prefixes
            .iter()
            .find_map(|prefix| {
                path.strip_prefix(prefix.as_str()).filter(|rest| rest.is_empty() || rest.starts_with('/'))
            })
            .unwrap_or(path)
    }
}

/// Components that operations may refer to.
#[derive(Debug, Default)]
struct Shared {
    responses: Map<String, Value>,
    request_bodies: Map<String, Value>,
}

fn resolve<'a>(value: &'a Value, prefix: &str, shared: &'a Map<String, Value>) -> Result<&'a Value, String> {
    match value.get("$ref").and_then(Value::as_str) {
        None => Ok(value),
        Some(reference) => reference
            .strip_prefix(prefix)
            .and_then(|name| shared.get(name))
            .ok_or_else(|| format!("unresolvable $ref {reference}")),
    }
}

fn parse_operation(method: String, mut operation: Value, shared: &Shared) -> Result<Operation, String> {
    let request = match operation.get("requestBody") {
        None => RequestBody::None,
        Some(body) => {
            let body = resolve(body, REQUEST_BODY_REF, &shared.request_bodies)?;
            let required = body.get("required").and_then(Value::as_bool).unwrap_or(false);
            match body.get("content").and_then(Value::as_object) {
                None => RequestBody::None,
                Some(content) if content.is_empty() => RequestBody::None,
                Some(content) => match content.get("application/json").and_then(|c| c.get("schema")) {
                    Some(schema) => RequestBody::Json { schema: schema.clone(), required },
                    None => RequestBody::Other,
                },
            }
        }
    };
    let mut responses = Vec::new();
    if let Some(Value::Object(entries)) = operation.get_mut("responses").map(Value::take) {
        for (status, response) in entries {
            let response = resolve(&response, RESPONSE_REF, &shared.responses)?;
            let description = response.get("description").and_then(Value::as_str).map(str::to_owned);
            responses.push((status, Response { description, body: response_body(response) }));
        }
    }
    let id = operation.get("operationId").and_then(Value::as_str).map(str::to_owned);
    let servers = operation
        .get("servers")
        .and_then(Value::as_array)
        .map(|servers| servers.iter().filter_map(|s| s.get("url")?.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let extensions = match operation {
        Value::Object(map) => map.into_iter().filter(|(key, _)| key.starts_with("x-")).collect(),
        _ => return Err("the operation is not an object".to_owned()),
    };
    Ok(Operation { method, id, extensions, servers, request, responses })
}

fn response_body(response: &Value) -> ResponseBody {
    match response.get("content").and_then(Value::as_object) {
        None => ResponseBody::Empty,
        Some(content) if content.is_empty() => ResponseBody::Empty,
        Some(content) => match content.get("application/json").and_then(|c| c.get("schema")) {
            Some(schema) => ResponseBody::Json(schema.clone()),
            None => ResponseBody::Other,
        },
    }
}
