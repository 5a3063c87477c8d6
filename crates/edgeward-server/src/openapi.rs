//! The OpenAPI 3 document of the admin API, generated from the handlers' annotations.
//! `openapi/admin.json` in the repository is this document; a test fails when they drift.

use utoipa::OpenApi;

use crate::routes::{access, audit, initialize, namespaces, notifications, people, tokens};
use edgeward_wire as wire;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Edgeward admin API (EdgeKV v1 compatible)",
        description = "EdgeGrid-signed (EG1-HMAC-SHA256) administration of access tokens, namespaces and items. Item paths also take PUT and DELETE."
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
        audit::list,
        people::list_users,
        people::create_user,
        people::update_user,
        people::list_contacts,
        people::put_contact,
        people::remove_contact,
        namespaces::groups,
        namespaces::item_keys,
        namespaces::item
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
        notifications::NoticeObject,
        notifications::NoticeList,
        notifications::MarkRead,
        notifications::ReplacedBy,
        audit::AuditPage,
        people::UserObject,
        people::UserChange,
        people::ContactObject
    ))
)]
struct AdminApi;

/// The document as JSON.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(AdminApi::openapi()).expect("the OpenAPI document serializes");
    // The version comes from the crate, not from whoever generated the file.
    doc["info"]["version"] = serde_json::json!(env!("CARGO_PKG_VERSION"));
    doc
}

/// The document as pretty JSON with a trailing newline and keys in sorted order, as committed.
/// Sorting here keeps the text the same whether or not serde_json's `preserve_order` feature is
/// unified into the build.
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&sorted(document())).expect("serializes");
    s.push('\n');
    s
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            let ordered: std::collections::BTreeMap<String, serde_json::Value> =
                m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            serde_json::Value::Object(ordered.into_iter().collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}
