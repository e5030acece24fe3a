//! Fixture subgraphs: a real GraphQL server per subgraph SDL, answering from static JSON data.
//!
//! Data file (`<subgraph>.json`, optional):
//! ```json
//! { "Query": { "rootField": <value> }, "Mutation": { ... },
//!   "entities": { "User": [ {"id": "u1", "name": "Ann"} ] } }
//! ```
//! Root fields answer with the stored value (arguments are ignored unless a custom resolver
//! says otherwise); object fields answer with the parent's value under the field name.
//! `_entities` finds, for each representation, the stored entity of that `__typename` whose
//! fields equal the representation's; the representation's own fields fill the rest (that is
//! how `@requires` inputs reach custom resolvers). A type with no stored list answers with the
//! representation itself. Custom resolvers compute what static data cannot.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apollo_compiler::executable::ExecutableDocument;
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::Schema;
use axum::extract::State;
use axum::routing::post;

/// A field call a custom resolver may answer.
pub struct FieldCall<'a> {
    pub type_name: &'a str,
    pub field: &'a str,
    pub parent: &'a JsonMap,
    pub args: &'a JsonMap,
}

/// `None`: use the static data. `Some(Err)`: a field error with that message.
pub type Resolver = Arc<dyn Fn(&FieldCall<'_>) -> Option<Result<JsonValue, String>> + Send + Sync>;

/// How the server misbehaves, for failure tests.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Behaviour {
    Normal,
    InvalidJson,
    Status(u16),
    Delay(Duration),
    /// Answers as usual with every occurrence of the first text replaced by the second (a
    /// subgraph whose answers disagree with the supergraph).
    Replace(&'static str, &'static str),
}

pub struct FixtureSubgraph {
    pub name: String,
    schema: Valid<Schema>,
    sdl: String,
    data: JsonMap,
    resolver: Option<Resolver>,
    pub behaviour: Mutex<Behaviour>,
    /// Every request body received, for assertions on what the router sent.
    pub requests: Mutex<Vec<JsonValue>>,
    pub request_count: AtomicUsize,
    /// The headers of every request received.
    pub headers: Mutex<Vec<http::HeaderMap>>,
    /// While closed, requests are received (and counted) but not answered.
    gate: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// When set, answers are computed once per distinct request body and then replayed, so
    /// that a benchmark measures the router rather than the fixture's executor.
    memo: Option<Mutex<HashMap<axum::body::Bytes, axum::body::Bytes>>>,
}

const FEDERATION_DEFINITIONS: &str = r#"
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA
directive @key(fields: FieldSet!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requires(fields: FieldSet!) on FIELD_DEFINITION
directive @provides(fields: FieldSet!) on FIELD_DEFINITION
directive @external(reason: String) on OBJECT | FIELD_DEFINITION
directive @shareable repeatable on OBJECT | FIELD_DEFINITION
directive @extends on OBJECT | INTERFACE
directive @override(from: String!, label: String) on FIELD_DEFINITION
directive @inaccessible on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @tag(name: String!) repeatable on FIELD_DEFINITION | OBJECT | INTERFACE | UNION | ARGUMENT_DEFINITION | SCALAR | ENUM | ENUM_VALUE | INPUT_OBJECT | INPUT_FIELD_DEFINITION
directive @interfaceObject on OBJECT
directive @composeDirective(name: String!) repeatable on SCHEMA
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
scalar FieldSet
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
scalar _Any
type _Service { sdl: String }
"#;

impl FixtureSubgraph {
    pub fn new(name: &str, sdl: &str, data: JsonValue, resolver: Option<Resolver>) -> Self {
        let schema = executable_schema(sdl);
        let data = match data {
            JsonValue::Object(map) => map,
            _ => JsonMap::new(),
        };
        Self {
            name: name.to_string(),
            schema,
            sdl: sdl.to_string(),
            data,
            resolver,
            behaviour: Mutex::new(Behaviour::Normal),
            requests: Mutex::new(Vec::new()),
            request_count: AtomicUsize::new(0),
            headers: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
            memo: None,
        }
    }

    /// Replays the answer to a request body seen before (static data never changes).
    pub fn memoized(mut self) -> Self {
        self.memo = Some(Mutex::new(HashMap::new()));
        self
    }

    pub fn set_behaviour(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    /// Holds every request from now on until the returned gate opens (or is dropped).
    pub fn close_gate(&self) -> Gate {
        let (open, receiver) = tokio::sync::watch::channel(false);
        *self.gate.lock().unwrap() = Some(receiver);
        Gate(open)
    }

    pub fn requests(&self) -> usize {
        self.request_count.load(Ordering::SeqCst)
    }

    /// Answers one GraphQL request body.
    pub fn execute(&self, body: &JsonValue) -> JsonValue {
        let query = body.get("query").and_then(JsonValue::as_str).unwrap_or("");
        let empty = JsonMap::new();
        let variables = body
            .get("variables")
            .and_then(JsonValue::as_object)
            .unwrap_or(&empty);
        let document = match ExecutableDocument::parse_and_validate(
            &self.schema,
            query,
            "q.graphql",
        ) {
            Ok(doc) => doc,
            Err(e) => {
                return serde_json_bytes::json!({
                    "errors": [{"message": format!("invalid subgraph query {query}: {}", e.errors)}]
                })
            }
        };
        let operation = match document.operations.get(None) {
            Ok(op) => op,
            Err(e) => {
                return serde_json_bytes::json!({"errors": [{"message": e.message().to_string()}]})
            }
        };
        let root_name = operation.object_type().to_string();
        let root_data = self
            .data
            .get(root_name.as_str())
            .and_then(JsonValue::as_object)
            .cloned()
            .unwrap_or_default();
        let root = Obj {
            fixture: self,
            type_name: root_name,
            map: root_data,
        };
        let result = Execution::new(&self.schema, &document)
            .operation(operation)
            .raw_variable_values(variables)
            .execute_sync(&root);
        match result {
            Ok(response) => serde_json_bytes::to_value(response).unwrap(),
            Err(e) => serde_json_bytes::json!({"errors": [{"message": e.message().to_string()}]}),
        }
    }

    /// Completes a reference to a stored entity (say `{"__typename": "Product", "upc": "p1"}`)
    /// with the stored entity's other fields.
    fn link(&self, mut map: JsonMap, type_name: &str) -> JsonMap {
        let has_store = self
            .data
            .get("entities")
            .and_then(|e| e.get(type_name))
            .is_some();
        if !has_store {
            return map;
        }
        if !map.contains_key("__typename") {
            map.insert("__typename", JsonValue::from(type_name));
        }
        if let JsonValue::Object(stored) = self.find_entity(&map) {
            for (k, v) in stored {
                if !map.contains_key(k.as_str()) {
                    map.insert(k, v);
                }
            }
        }
        map
    }

    fn find_entity(&self, representation: &JsonMap) -> JsonValue {
        let Some(typename) = representation.get("__typename").and_then(JsonValue::as_str) else {
            return JsonValue::Null;
        };
        let stored = self
            .data
            .get("entities")
            .and_then(|e| e.get(typename))
            .and_then(JsonValue::as_array);
        let Some(stored) = stored else {
            return JsonValue::Object(representation.clone());
        };
        let found = stored
            .iter()
            .filter_map(JsonValue::as_object)
            .find(|entity| {
                let mut compared = 0;
                let all_equal = representation.iter().all(|(k, v)| {
                    if k.as_str() == "__typename" {
                        return true;
                    }
                    match entity.get(k.as_str()) {
                        Some(stored_value) => {
                            compared += 1;
                            stored_value == v
                        }
                        None => true,
                    }
                });
                all_equal && compared > 0
            });
        match found {
            Some(entity) => {
                let mut merged = representation.clone();
                for (k, v) in entity {
                    merged.insert(k.clone(), v.clone());
                }
                JsonValue::Object(merged)
            }
            None => JsonValue::Null,
        }
    }
}

/// The subgraph SDL plus federation definitions, `_Entity`, `_entities` and `_service`.
fn executable_schema(sdl: &str) -> Valid<Schema> {
    let base = Schema::builder()
        .adopt_orphan_extensions()
        .ignore_builtin_redefinitions()
        .parse(FEDERATION_DEFINITIONS, "federation.graphql")
        .parse(sdl, "subgraph.graphql")
        .build()
        .unwrap_or_else(|e| e.partial);
    let entities: Vec<String> = base
        .types
        .iter()
        .filter(|(_, ty)| matches!(ty, ExtendedType::Object(_)) && ty.directives().has("key"))
        .map(|(name, _)| name.to_string())
        .collect();
    let query_type = base
        .schema_definition
        .query
        .as_ref()
        .map(|q| q.name.to_string())
        .unwrap_or_else(|| "Query".to_string());
    let mut extra = String::new();
    if !base.types.contains_key(query_type.as_str()) {
        extra.push_str(&format!("type {query_type}\n"));
    }
    if entities.is_empty() {
        extra.push_str(&format!(
            "extend type {query_type} {{ _service: _Service! }}\n"
        ));
    } else {
        extra.push_str(&format!(
            "union _Entity = {}\nextend type {query_type} {{ _entities(representations: [_Any!]!): [_Entity]! _service: _Service! }}\n",
            entities.join(" | ")
        ));
    }
    let schema = Schema::builder()
        .adopt_orphan_extensions()
        .ignore_builtin_redefinitions()
        .parse(FEDERATION_DEFINITIONS, "federation.graphql")
        .parse(sdl, "subgraph.graphql")
        .parse(extra, "entities.graphql")
        .build()
        .unwrap_or_else(|e| e.partial);
    Valid::assume_valid(schema)
}

struct Obj<'f> {
    fixture: &'f FixtureSubgraph,
    type_name: String,
    map: JsonMap,
}

impl ObjectValue for Obj<'_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let field = info.field_name();
        let ty = &info.field_definition().ty;
        if field == "_service" {
            let mut map = JsonMap::new();
            map.insert("sdl", JsonValue::from(self.fixture.sdl.as_str()));
            return Ok(self.object(map, "_Service"));
        }
        if field == "_entities" {
            let representations = info
                .arguments()
                .get("representations")
                .and_then(JsonValue::as_array)
                .cloned()
                .unwrap_or_default();
            let found: Vec<JsonValue> = representations
                .iter()
                .map(|r| {
                    r.as_object()
                        .map_or(JsonValue::Null, |r| self.fixture.find_entity(r))
                })
                .collect();
            return Ok(self.resolve(JsonValue::Array(found), ty, info.schema()));
        }
        if let Some(resolver) = &self.fixture.resolver {
            let call = FieldCall {
                type_name: &self.type_name,
                field,
                parent: &self.map,
                args: info.arguments(),
            };
            match resolver(&call) {
                Some(Ok(value)) => return Ok(self.resolve(value, ty, info.schema())),
                Some(Err(message)) => return Err(FieldError { message }),
                None => {}
            }
        }
        let value = self.map.get(field).cloned().unwrap_or(JsonValue::Null);
        Ok(self.resolve(value, ty, info.schema()))
    }
}

impl<'f> Obj<'f> {
    fn object<'a>(&'a self, map: JsonMap, type_name: &str) -> ResolvedValue<'a> {
        ResolvedValue::object(Obj {
            fixture: self.fixture,
            type_name: type_name.to_string(),
            map,
        })
    }

    fn resolve<'a>(&'a self, value: JsonValue, ty: &Type, schema: &Schema) -> ResolvedValue<'a> {
        match value {
            JsonValue::Null => ResolvedValue::null(),
            JsonValue::Array(items) if ty.is_list() => {
                let item_type = ty.item_type().clone();
                let resolved: Vec<ResolvedValue<'a>> = items
                    .into_iter()
                    .map(|item| self.resolve(item, &item_type, schema))
                    .collect();
                ResolvedValue::list(resolved)
            }
            JsonValue::Object(map)
                if !schema
                    .types
                    .get(ty.inner_named_type())
                    .is_some_and(|t| t.is_leaf()) =>
            {
                let named = ty.inner_named_type().to_string();
                let type_name = if schema.get_object(&named).is_some() {
                    named
                } else {
                    map.get("__typename")
                        .and_then(JsonValue::as_str)
                        .map(str::to_string)
                        .unwrap_or(named)
                };
                let map = self.fixture.link(map, &type_name);
                self.object(map, &type_name)
            }
            leaf => ResolvedValue::Leaf(leaf),
        }
    }
}

/// Opens a fixture's gate: held requests are answered, new ones pass.
pub struct Gate(tokio::sync::watch::Sender<bool>);

impl Gate {
    pub fn open(self) {
        let _ = self.0.send(true);
    }
}

/// Serves a fixture subgraph on a random local port; returns its URL.
pub async fn serve(fixture: Arc<FixtureSubgraph>) -> String {
    serve_on(fixture, 0).await
}

/// Serves a fixture subgraph over TLS with `tls` on a random local port; returns its
/// `https://localhost:<port>/graphql` URL.
pub async fn serve_tls(fixture: Arc<FixtureSubgraph>, tls: rustls::ServerConfig) -> String {
    use tower::ServiceExt;
    let app = axum::Router::new()
        .route("/", post(handle))
        .route("/graphql", post(handle))
        .with_state(fixture);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!(
        "https://localhost:{}/graphql",
        listener.local_addr().unwrap().port()
    );
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(stream) = acceptor.accept(stream).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request: http::Request<_>| {
                    app.clone().oneshot(request.map(axum::body::Body::new))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    url
}

/// Serves a fixture subgraph on a given local port (0: any free port); returns its URL.
pub async fn serve_on(fixture: Arc<FixtureSubgraph>, port: u16) -> String {
    let app = axum::Router::new()
        .route("/", post(handle))
        .route("/graphql", post(handle))
        .with_state(fixture);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
        .await
        .unwrap();
    let url = format!("http://{}/graphql", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn handle(
    State(fixture): State<Arc<FixtureSubgraph>>,
    headers: http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    fixture.request_count.fetch_add(1, Ordering::SeqCst);
    if let Some(memo) = &fixture.memo {
        let cached = memo.lock().unwrap().get(&body).cloned();
        let answer = match cached {
            Some(answer) => answer,
            None => {
                let request: JsonValue = serde_json::from_slice(&body).unwrap_or(JsonValue::Null);
                fixture.requests.lock().unwrap().push(request.clone());
                let answer = axum::body::Bytes::from(
                    serde_json::to_vec(&fixture.execute(&request)).unwrap(),
                );
                memo.lock().unwrap().insert(body, answer.clone());
                answer
            }
        };
        return ([(http::header::CONTENT_TYPE, "application/json")], answer).into_response();
    }
    fixture.headers.lock().unwrap().push(headers);
    let behaviour = *fixture.behaviour.lock().unwrap();
    let request: JsonValue = serde_json::from_slice(&body).unwrap_or(JsonValue::Null);
    fixture.requests.lock().unwrap().push(request.clone());
    let gate = fixture.gate.lock().unwrap().clone();
    if let Some(mut gate) = gate {
        // An error means the gate was dropped, which opens it too.
        let _ = gate.wait_for(|open| *open).await;
    }
    match behaviour {
        Behaviour::InvalidJson => return (http::StatusCode::OK, "{not json").into_response(),
        Behaviour::Status(code) => {
            return (http::StatusCode::from_u16(code).unwrap(), "failure").into_response()
        }
        Behaviour::Delay(duration) => tokio::time::sleep(duration).await,
        Behaviour::Replace(from, to) => {
            let answer = serde_json::to_string(&fixture.execute(&request)).unwrap();
            return (
                [(http::header::CONTENT_TYPE, "application/json")],
                answer.replace(from, to),
            )
                .into_response();
        }
        Behaviour::Normal => {}
    }
    let response = fixture.execute(&request);
    (
        [(http::header::CONTENT_TYPE, "application/json")],
        serde_json::to_vec(&response).unwrap(),
    )
        .into_response()
}

/// Loads the subgraphs of a fixture case directory: every `<name>.graphql` except
/// `supergraph.graphql`, with `<name>.json` as its data when present.
pub fn load_case(
    dir: &std::path::Path,
    resolvers: &HashMap<String, Resolver>,
) -> Vec<Arc<FixtureSubgraph>> {
    let mut subgraphs = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().flatten().collect();
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("graphql") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if name == "supergraph" {
            continue;
        }
        let sdl = std::fs::read_to_string(&path).unwrap();
        let data_path = path.with_extension("json");
        let data = if data_path.exists() {
            serde_json::from_str(&std::fs::read_to_string(&data_path).unwrap()).unwrap()
        } else {
            JsonValue::Null
        };
        subgraphs.push(Arc::new(FixtureSubgraph::new(
            &name,
            &sdl,
            data,
            resolvers.get(&name).cloned(),
        )));
    }
    subgraphs
}
