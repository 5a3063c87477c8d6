//! The OpenAPI 3.1 documents of Edgeward's two doors, generated from the handlers' annotations:
//! the admin API (`openapi/admin.json`, `edgeward openapi`) and the data plane
//! (`openapi/data-plane.json`, `edgeward openapi --data-plane`). A test fails when a committed
//! file drifts from the code, and CI runs schemathesis against a real server over both.
//!
//! The handlers' annotations say what is particular to an operation (its body, its success
//! answers, the errors of its own checks). [`finish`] then adds what holds for every operation
//! of a door, in one place, so that no annotation can forget it:
//!
//! - the security scheme (EdgeGrid on every signed admin operation; a token value or an
//!   auto-refreshing token's reference on data-plane items), and nothing on the open ones;
//! - the shapes of path and query parameters, from the same rules the handlers apply
//!   (`edgeward_core::names`, [`crate::items`]);
//! - the errors any request can meet before or around its handler (401 signature or token,
//!   400 malformed request, 408 body too slow, 413 body too large, 415 body not JSON, 422 JSON
//!   syntax, 503 store unavailable), each with its problem+json schema;
//! - operation ids unique across the document.

use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use crate::routes::{access, audit, initialize, namespaces, notifications, people, roles, tokens};
use edgeward_wire as wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Edgeward admin API (EdgeKV v1 compatible)",
        description = "EdgeGrid-signed (EG1-HMAC-SHA256) administration of access tokens, namespaces and items, plus Edgeward's own endpoints under /edgeward/v1 and the open operational endpoints. Every error is an EdgeKV problem+json body."
    ),
    paths(
        tokens::create,
        tokens::list,
        tokens::get,
        tokens::revoke,
        tokens::refresh,
        initialize::status,
        initialize::initialize,
        namespaces::list,
        namespaces::create,
        namespaces::get,
        namespaces::update,
        namespaces::delete,
        namespaces::scheduled_delete,
        namespaces::reschedule_delete,
        namespaces::cancel_delete,
        access::list_groups,
        access::get_group,
        access::reauthorize,
        notifications::list,
        notifications::mark_read,
        notifications::run,
        notifications::status,
        notifications::replaced_by,
        tokens::states,
        crate::routes::status::status,
        tokens::schedule_revocation,
        tokens::cancel_revocation,
        audit::list,
        people::list_users,
        people::create_user,
        people::update_user,
        roles::list_roles,
        roles::get_role,
        roles::create_role,
        roles::update_role,
        roles::delete_role,
        people::list_contacts,
        people::put_contact,
        people::remove_contact,
        namespaces::groups,
        namespaces::item_keys,
        doc::admin_item_get,
        doc::admin_item_put,
        doc::admin_item_delete,
        doc::healthz,
        doc::readyz,
        doc::metrics,
        doc::jwks,
        doc::openapi
    ),
    components(schemas(
        wire::CreateTokenRequest,
        wire::TokenObject,
        wire::TokenSummary,
        wire::TokenList,
        wire::RevokedToken,
        wire::InitStatus,
        wire::InitializeRequest,
        wire::DataAccessPolicy,
        wire::NamespaceObject,
        wire::NamespaceList,
        wire::NamespacePolicy,
        wire::ScheduledDelete,
        wire::AccessGroupObject,
        wire::AccessGroupList,
        wire::ReauthorizeRequest,
        wire::NoticeToken,
        wire::NoticeObject,
        wire::NoticeList,
        wire::MarkRead,
        wire::MarkedRead,
        wire::ReplacedBy,
        wire::ScheduleRevocation,
        wire::ScheduledRevocation,
        wire::TokenState,
        wire::TokenStates,
        wire::ServerStatus,
        wire::CallerObject,
        wire::SoonestExpiry,
        wire::DueToken,
        wire::CheckReport,
        wire::FailedEmailObject,
        wire::CheckRunObject,
        wire::NotifyStatus,
        wire::AuditRecordObject,
        wire::AuditPage,
        wire::UserObject,
        wire::UserChange,
        wire::RoleObject,
        wire::NewRole,
        wire::RoleChange,
        wire::ContactObject
    ))
)]
struct AdminApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Edgeward data plane (EdgeKV data plane compatible)",
        description = "What edgekv.js calls from edge code: items read, written and deleted with an access token (X-Akamai-EdgeDB-Auth) or the reference of an auto-refreshing token (X-Akamai-EdgeDB-Auth-Ref). Each listener serves one network. Every error on an item is an EdgeKV problem+json body."
    ),
    paths(doc::data_item_get, doc::data_item_put, doc::data_item_delete, doc::healthz, doc::readyz, doc::jwks)
)]
struct DataPlaneApi;

/// Which document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// The admin API (HTTPS, EdgeGrid).
    Admin,
    /// The data plane (what edge code calls).
    DataPlane,
}

/// The admin API's document as JSON.
pub fn document() -> Value {
    document_of(Door::Admin)
}

/// A door's document as JSON.
pub fn document_of(door: Door) -> Value {
    let api = match door {
        Door::Admin => AdminApi::openapi(),
        Door::DataPlane => DataPlaneApi::openapi(),
    };
    let mut doc = serde_json::to_value(api).expect("the OpenAPI document serializes");
    // The version comes from the crate, not from whoever generated the file.
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    finish(&mut doc, door);
    doc
}

/// The admin API's document as committed ([`document_text_of`]).
pub fn document_text() -> String {
    document_text_of(Door::Admin)
}

/// A door's document as pretty JSON with a trailing newline and keys in sorted order, as
/// committed. Sorting here keeps the text the same whether or not serde_json's
/// `preserve_order` feature is unified into the build.
pub fn document_text_of(door: Door) -> String {
    let mut s = serde_json::to_string_pretty(&sorted(document_of(door))).expect("serializes");
    s.push('\n');
    s
}

fn sorted(v: Value) -> Value {
    match v {
        Value::Object(m) => {
            let ordered: std::collections::BTreeMap<String, Value> =
                m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// `[A-Za-z0-9_-]`, 1 to `max` characters, not starting with `-` (`edgeward_core::names`).
fn name_pattern(max: usize) -> String {
    format!("^[A-Za-z0-9_][A-Za-z0-9_-]{{0,{}}}$", max - 1)
}

/// `[A-Za-z0-9_-]`, 1 to `max` characters (`edgeward_core::names::GroupName`, `ItemName`,
/// `SandboxId`).
fn segment_pattern(max: usize) -> String {
    format!("^[A-Za-z0-9_-]{{1,{max}}}$")
}

/// The schema of a parameter of an operation on `path`, by name: the rules the handlers check,
/// with an example (what `tests/schemathesis/run.py` creates before its run).
fn parameter_schema(path: &str, name: &str) -> Option<Value> {
    use edgeward_core::names::{DisplayName, GroupName, ItemName, NamespaceName, SandboxId, TokenName};
    Some(match name {
        "network" => json!({
            "type": "string",
            "example": "production",
            "enum": ["staging", "production"],
            "description": "The network (case does not matter).",
        }),
        "ns" => json!({
            "type": "string",
            "example": "default",
            "pattern": name_pattern(NamespaceName::MAX_LEN),
            "minLength": 1,
            "maxLength": NamespaceName::MAX_LEN,
            "description": "A namespace name: 1 to 32 of A-Z a-z 0-9 _ -, not starting with -.",
        }),
        "name" if path.starts_with("/edgeward/v1/users/") => json!({
            "type": "string",
            "example": "alice",
            "minLength": 1,
            "maxLength": DisplayName::MAX_LEN,
            "description": "A user's name.",
        }),
        "email" => json!({
            "type": "string",
            "example": "ops@example.com",
            "minLength": 1,
            "description": "An escalation contact's address.",
        }),
        "tokenName" | "name" => json!({
            "type": "string",
            "example": "my-token",
            "pattern": name_pattern(TokenName::MAX_LEN),
            "minLength": 1,
            "maxLength": TokenName::MAX_LEN,
            "description": "A token name: 1 to 32 of A-Z a-z 0-9 _ -, not starting with -.",
        }),
        "group" => json!({
            "type": "string",
            "example": "countries",
            "pattern": segment_pattern(GroupName::MAX_LEN),
            "minLength": 1,
            "maxLength": GroupName::MAX_LEN,
            "description": "A group name: 1 to 128 of A-Z a-z 0-9 _ -.",
        }),
        "item" => json!({
            "type": "string",
            "example": "greeting",
            "pattern": segment_pattern(ItemName::MAX_LEN),
            "minLength": 1,
            "maxLength": ItemName::MAX_LEN,
            "description": "An item key: 1 to 512 of A-Z a-z 0-9 _ -.",
        }),
        "sandboxId" => json!({
            "type": "string",
            "pattern": format!("^[A-Za-z0-9_-]{{0,{}}}$", SandboxId::MAX_LEN),
            "maxLength": SandboxId::MAX_LEN,
            "description": "A sandbox (staging only): up to 128 of A-Z a-z 0-9 _ -; empty means none.",
        }),
        "dryRun" | "sync" | "sandboxFallback" | "includeUsage" | "includeExpired" => json!({
            "type": "boolean",
            "description": "true or false (any case); absent is false.",
        }),
        "details" => json!({
            "type": "string",
            "enum": ["true", "false", "on", "off"],
            "description": "Full namespace objects: true or on (any case); absent is false.",
        }),
        "maxItems" => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": 10_000,
            "description": "At most this many keys (default 100).",
        }),
        "limit" if path == "/edgeward/v1/audit" => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": edgeward_core::audit::MAX_PAGE,
            "description": "At most this many records (default 100).",
        }),
        "actor" | "action" | "target" => json!({
            "type": "string",
            "minLength": 1,
            "maxLength": 512,
        }),
        "outcome" => json!({
            "type": "string",
            "enum": ["success", "failure"],
        }),
        "since" | "until" => json!({
            "type": "string",
            "format": "date-time",
        }),
        "limit" => json!({
            "type": "integer",
            "minimum": 1,
            "maximum": 100,
            "description": "At most this many notices (default 20).",
        }),
        "before" => json!({
            "type": "integer",
            "format": "int64",
            "minimum": 1,
            "description": "Notices older than this id (the `next` of the previous page).",
        }),
        "group_id" => json!({
            "type": "integer",
            "example": 0,
            "minimum": 0,
            "format": "int64",
            "description": "An access group's id.",
        }),
        _ => return None,
    })
}

/// The EdgeKV problem body (every error but the admin API's authentication failures).
fn problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "An EdgeKV error (RFC 9457 problem details).",
        "required": ["type", "title", "status", "detail", "errorCode", "instance", "additionalDetail"],
        "properties": {
            "type": { "type": "string", "description": "`/edgekv/error-types/<kind>`." },
            "title": { "type": "string" },
            "status": { "type": "integer", "minimum": 400, "maximum": 599 },
            "detail": { "type": "string", "description": "What went wrong, for a person." },
            "errorCode": { "type": "string", "pattern": "^EKV_[0-9]{4}$" },
            "instance": { "type": "string" },
            "additionalDetail": {
                "type": "object",
                "required": ["requestId"],
                "properties": { "requestId": { "type": "string", "description": "Also in `X-Trace-Id`." } }
            }
        }
    })
}

/// The admin API's authentication failure (as Akamai's API gateway words it).
fn auth_problem_schema() -> Value {
    json!({
        "type": "object",
        "description": "The request is not signed, or not signed right, by an active API client (EdgeGrid).",
        "required": ["type", "title", "status", "detail", "instance", "method", "requestId", "requestTime"],
        "properties": {
            "type": { "type": "string" },
            "title": { "type": "string" },
            "status": { "type": "integer", "enum": [401] },
            "detail": { "type": "string" },
            "instance": { "type": "string" },
            "method": { "type": "string" },
            "requestId": { "type": "string" },
            "requestTime": { "type": "string" }
        }
    })
}

fn reason(status: &str) -> &'static str {
    match status {
        "400" => "The request is malformed, or a parameter or the body breaks a rule (`detail` says which).",
        "401" => "Not authenticated.",
        "403" => "Authenticated, but not allowed.",
        "404" => "Not found.",
        "405" => "Method not allowed.",
        "408" => "The body did not arrive within the listener's body-read timeout; the connection is closed.",
        "409" => "Conflicts with what exists.",
        "410" => "Gone (expired).",
        "413" => "The body, or a value or list in it, is too large, or a limit of the account is reached.",
        "415" => "The body is not JSON (send `Content-Type: application/json`, or none).",
        "422" => "The JSON body has a syntax error or repeats an attribute.",
        "503" => "The database does not answer; try again shortly.",
        _ => "",
    }
}

/// Add to the generated document what holds for every operation of the door (see the module
/// documentation).
fn finish(doc: &mut Value, door: Door) {
    let schemas = doc["components"].as_object_mut().map(|c| c.entry("schemas").or_insert_with(|| json!({})));
    if let Some(schemas) = schemas {
        schemas["Problem"] = problem_schema();
        if door == Door::Admin {
            schemas["AuthProblem"] = auth_problem_schema();
        }
    } else {
        doc["components"] = json!({ "schemas": { "Problem": problem_schema() } });
        if door == Door::Admin {
            doc["components"]["schemas"]["AuthProblem"] = auth_problem_schema();
        }
    }
    doc["components"]["securitySchemes"] = match door {
        Door::Admin => json!({
            "EdgeGrid": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "Akamai EdgeGrid: `Authorization: EG1-HMAC-SHA256 client_token=…;access_token=…;timestamp=…;nonce=…;signature=…`, an HMAC-SHA256 over the method, scheme, host, path and query, the signed headers and a SHA-256 of the POST body (its first max_body bytes), with a key derived from the client secret and the timestamp. Credentials are in the data directory's `edgerc`; every nonce is accepted once, and the timestamp must be within the server's window. Any EdgeGrid client library signs it."
            }
        }),
        Door::DataPlane => json!({
            "EdgeDBAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Akamai-EdgeDB-Auth",
                "description": "An access token's value (a JWT signed by the server, as in edgekv_tokens.js)."
            },
            "EdgeDBAuthRef": {
                "type": "apiKey",
                "in": "header",
                "name": "X-Akamai-EdgeDB-Auth-Ref",
                "description": "The uuid of an auto-refreshing token (a bearer credential: keep it secret)."
            }
        }),
    };
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let Some(op) = op.as_object_mut() else { continue };
            finish_operation(path, op);
        }
    }
}

fn finish_operation(path: &str, op: &mut Map<String, Value>) {
    // Unique ids: the handler's name is not (three handlers are `list`).
    let tag = op.get("tags").and_then(|t| t[0].as_str()).unwrap_or("ops").to_owned();
    if let Some(id) = op.get("operationId").and_then(Value::as_str) {
        let id = if id.starts_with(&format!("{tag}.")) { id.to_owned() } else { format!("{tag}.{id}") };
        op.insert("operationId".into(), json!(id));
    }
    for p in op.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
        if let Some(mut schema) = p["name"].as_str().and_then(|name| parameter_schema(path, name)) {
            let description = schema.as_object_mut().and_then(|s| s.remove("description")).unwrap_or(Value::Null);
            if let Some(example) = schema.as_object_mut().and_then(|s| s.remove("example")) {
                p["example"] = example;
            }
            p["schema"] = schema;
            if p.get("description").is_none() && !description.is_null() {
                p["description"] = description;
            }
        }
    }
    // A body that may be left out (`request_body = Option<T>`): utoipa writes its schema as
    // `oneOf [null, T]`, not required. Left out is what is optional; a body that is sent must be
    // a `T` (a JSON `null` is refused like any other body that is not an object).
    if let Some(schema) = op.get_mut("requestBody").and_then(|b| b.pointer_mut("/content/application~1json/schema")) {
        let inner = match schema.get("oneOf").and_then(Value::as_array).map(Vec::as_slice) {
            Some([null, inner]) if *null == json!({ "type": "null" }) => Some(inner.clone()),
            _ => None,
        };
        if let Some(inner) = inner {
            *schema = inner;
        }
    }
    let signed = path.starts_with("/edgekv/") || path.starts_with("/edgeward/");
    let item = path.starts_with("/api/v1/");
    let has_body = op.contains_key("requestBody");
    let json_body = op
        .get("requestBody")
        .and_then(|b| b["content"].as_object())
        .is_some_and(|c| c.contains_key("application/json"));
    if signed {
        op.insert("security".into(), json!([{ "EdgeGrid": [] }]));
    }
    if item {
        op.insert("security".into(), json!([{ "EdgeDBAuth": [] }, { "EdgeDBAuthRef": [] }]));
    }
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    let Some(responses) = responses.as_object_mut() else { return };
    let mut add = |status: &str| {
        responses.entry(status.to_owned()).or_insert_with(|| json!({}));
    };
    if signed || item {
        // Before any handler: a request that does not parse (a query parameter twice, a path
        // segment that is not UTF-8, broken framing), the body limit, and the store.
        add("400");
        add("413");
        add("503");
    }
    if signed {
        add("401");
    }
    if signed || (item && has_body) {
        // The body did not arrive within the listener's body-read timeout.
        add("408");
    }
    if item {
        add("401");
        add("403");
    }
    if json_body {
        add("415");
        add("422");
    }
    for (status, response) in responses.iter_mut() {
        let error = status.starts_with('4') || status.starts_with('5');
        if response.get("description").and_then(Value::as_str).is_none_or(str::is_empty) {
            response["description"] = json!(reason(status));
        }
        if error && response.get("content").is_none() {
            let schema = if signed && status == "401" { "AuthProblem" } else { "Problem" };
            response["content"] = json!({
                "application/problem+json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } }
            });
        }
    }
}

/// Operations documented here rather than on their handlers: the item handlers take several
/// methods (documented one method each; the annotation on `namespaces::item` is not used), and
/// the operational endpoints of `routes::ops`, which both documents share.
mod doc {
    #![allow(dead_code)]

    /// Liveness: the process answers.
    #[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "`ok`", body = String, content_type = "text/plain")))]
    pub fn healthz() {}

    /// Readiness: the database answers within a second.
    #[utoipa::path(get, path = "/readyz", tag = "ops", responses((status = 200, description = "`ready`", body = String, content_type = "text/plain"), (status = 503, description = "The database does not answer", body = String, content_type = "text/plain")))]
    pub fn readyz() {}

    /// Prometheus metrics (OpenMetrics text). When the server is configured with a metrics
    /// bearer token, a request without `Authorization: Bearer <token>` gets 401.
    #[utoipa::path(get, path = "/metrics", tag = "ops", responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text"), (status = 401, description = "A metrics bearer token is configured, and the request does not carry it")))]
    pub fn metrics() {}

    /// The public keys that verify token values (JWKS).
    #[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops", responses((status = 200, description = "A JSON Web Key Set", body = Object)))]
    pub fn jwks() {}

    /// The OpenAPI document of the admin API.
    #[utoipa::path(get, path = "/openapi.json", tag = "ops", responses((status = 200, description = "This document", body = Object)))]
    pub fn openapi() {}

    /// Read one item: its value as stored.
    #[utoipa::path(get, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}", tag = "namespaces",
        params(("network" = String, Path), ("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)),
        responses((status = 200, description = "The value", body = String, content_type = "text/plain"), (status = 404)))]
    pub fn admin_item_get() {}

    /// Write one item (the value is the body, as text or bytes; 262,144 characters at most).
    #[utoipa::path(put, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}", tag = "namespaces",
        request_body(content = Option<String>, content_type = "text/plain", description = "The value (absent or empty: the empty value)"),
        params(("network" = String, Path), ("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)),
        responses((status = 200, description = "A confirmation text", body = String, content_type = "text/plain")))]
    pub fn admin_item_put() {}

    /// Delete one item (404 when there is none).
    #[utoipa::path(delete, path = "/edgekv/v1/networks/{network}/namespaces/{ns}/groups/{group}/items/{item}", tag = "namespaces",
        params(("network" = String, Path), ("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)),
        responses((status = 200, description = "A confirmation text", body = String, content_type = "text/plain"), (status = 404)))]
    pub fn admin_item_delete() {}

    /// Read one item: its value as stored.
    #[utoipa::path(get, path = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}", tag = "items",
        params(("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query), ("sandboxFallback" = Option<bool>, Query, description = "With sandboxId: fall back to the network's item when the sandbox has none.")),
        responses((status = 200, description = "The value", body = String, content_type = "text/plain"), (status = 404)))]
    pub fn data_item_get() {}

    /// Write one item (the value is the body; 262,144 characters at most).
    #[utoipa::path(put, path = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}", tag = "items",
        request_body(content = Option<String>, content_type = "text/plain", description = "The value (absent or empty: the empty value)"),
        params(("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)),
        responses((status = 200, description = "A confirmation text", body = String, content_type = "text/plain")))]
    pub fn data_item_put() {}

    /// Delete one item (404 when there is none).
    #[utoipa::path(delete, path = "/api/v1/namespaces/{ns}/groups/{group}/items/{item}", tag = "items",
        params(("ns" = String, Path), ("group" = String, Path), ("item" = String, Path), ("sandboxId" = Option<String>, Query)),
        responses((status = 200, description = "A confirmation text", body = String, content_type = "text/plain"), (status = 404)))]
    pub fn data_item_delete() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, s: &str) -> bool {
        regex::Regex::new(pattern).unwrap().is_match(s)
    }

    proptest::proptest! {
        #[test]
        fn the_documented_patterns_are_the_parsers_rules(s in "[A-Za-z0-9_\\-]{0,520}|[A-Za-z0-9_\\-é /.]{0,40}") {
            use edgeward_core::names::{GroupName, ItemName, NamespaceName, SandboxId, TokenName};
            proptest::prop_assert_eq!(matches(&name_pattern(32), &s), NamespaceName::parse(&s).is_ok());
            proptest::prop_assert_eq!(matches(&name_pattern(32), &s), NamespaceName::parse_requested(&s).is_ok());
            proptest::prop_assert_eq!(matches(&name_pattern(32), &s), TokenName::parse(&s).is_ok());
            proptest::prop_assert_eq!(matches(&segment_pattern(128), &s), GroupName::parse(&s).is_ok());
            proptest::prop_assert_eq!(matches(&segment_pattern(512), &s), ItemName::parse(&s).is_ok());
            proptest::prop_assert_eq!(matches(&segment_pattern(128), &s), SandboxId::parse(&s).is_ok());
        }
    }

    #[test]
    fn the_documented_list_cap_is_the_enforced_one() {
        let doc = document();
        let cap = &doc["components"]["schemas"]["MarkRead"]["properties"]["ids"]["maxItems"];
        assert_eq!(cap.as_u64(), Some(edgeward_core::limits::MAX_LIST_ENTRIES as u64), "{cap}");
    }

    #[test]
    fn operation_ids_are_unique_and_every_operation_but_the_open_ones_is_secured() {
        for door in [Door::Admin, Door::DataPlane] {
            let doc = document_of(door);
            let mut ids = std::collections::HashSet::new();
            for (path, item) in doc["paths"].as_object().unwrap() {
                for (method, op) in item.as_object().unwrap() {
                    let id = op["operationId"].as_str().unwrap();
                    assert!(ids.insert(id.to_owned()), "{id} twice");
                    let open = ["/healthz", "/readyz", "/metrics", "/.well-known/jwks.json", "/openapi.json"]
                        .contains(&path.as_str());
                    assert_eq!(op.get("security").is_none(), open, "{method} {path}");
                    for (status, r) in op["responses"].as_object().unwrap() {
                        // Every error has a body schema: problem+json, or its own (GET /initialize's 404).
                        if !open && status.as_str() >= "400" {
                            assert!(
                                r["content"].as_object().is_some_and(|c| !c.is_empty()),
                                "{method} {path} {status}"
                            );
                        }
                    }
                }
            }
        }
    }
}
