//! The console's namespaces-and-items pages and its audit page, over HTTPS against a real
//! server (on the suite's backend): browsing to an item, editing and deleting it as the admin
//! API sees it, a reader shown no control whose direct posts are refused by the API's own check,
//! the audit trail of those changes with the API's filters, and forms without their CSRF token.

use edgeward_core::capability::Capability;
use reqwest::{Method, StatusCode};

use crate::common::console::{browser, csrf_of, first_sign_in, has, inner_html, page, post, signed_in_user};
use crate::common::{raw, TestApp};

const ITEM_API: &str = "/edgekv/v1/networks/production/namespaces/default/groups/shop/items/DE";
const ITEM_PAGE: &str = "/namespaces/production/default/groups/shop/items/DE";

/// The item's value as the admin API reads it: status and body.
async fn api_value(app: &TestApp) -> (u16, serde_json::Value) {
    let (s, _, v) = raw(&app.admin, Method::GET, ITEM_API, None).await;
    (s, v)
}

#[tokio::test]
async fn the_admin_browses_to_an_item_edits_it_and_deletes_it_with_the_confirmation() {
    let app = crate::common::spawn_app().await;
    let b = browser(&app);
    let (s, _, v) = raw(&app.admin, Method::PUT, ITEM_API, Some("Germany")).await;
    assert_eq!(s, 200, "{v}");
    let cookie = first_sign_in(&app, &b, "a long new password").await;

    // Namespaces: a table per network, the default namespace in each, linked.
    let list = page(&app, &b, &cookie, "/namespaces").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let production = inner_html(&list.text, "namespaces-production");
    assert!(production.contains("<a href=\"/namespaces/production/default\">default</a>"), "{production}");
    assert!(inner_html(&list.text, "namespaces-staging").contains("default"));

    // Namespace → its groups → the group's items → the item.
    let ns = page(&app, &b, &cookie, "/namespaces/production/default").await;
    assert_eq!(ns.status, StatusCode::OK, "{}", ns.text);
    assert!(inner_html(&ns.text, "groups").contains("href=\"/namespaces/production/default/groups/shop\">shop</a>"));
    let group = page(&app, &b, &cookie, "/namespaces/production/default/groups/shop").await;
    assert!(inner_html(&group.text, "items").contains(&format!("href=\"{ITEM_PAGE}\">DE</a>")), "{}", group.text);
    let item = page(&app, &b, &cookie, ITEM_PAGE).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.text);
    assert_eq!(inner_html(&item.text, "item-value"), "Germany");
    assert!(has(&item.text, "item-edit") && has(&item.text, "item-delete"), "the admin may write and delete");
    assert!(item.text.contains("data-confirm=\"DE\""));

    // Edit: the API reads the new value (a browser's CRLF line breaks stored as LF), markup and all.
    let csrf = csrf_of(&item.text);
    let edited =
        post(&app, &b, &cookie, ITEM_PAGE, &[("csrf", &csrf), ("value", "Deutschland\r\n<Berlin> & \"more\"")]).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text);
    assert_eq!(edited.location.as_deref(), Some(ITEM_PAGE));
    assert_eq!(api_value(&app).await, (200, serde_json::json!("Deutschland\n<Berlin> & \"more\"")));
    let item = page(&app, &b, &cookie, ITEM_PAGE).await;
    assert_eq!(inner_html(&item.text, "item-value"), "Deutschland\n&#60;Berlin&#62; &#38; &#34;more&#34;");

    // Delete: without the item's name typed, nothing happens; with it, the item is gone.
    let wrong = post(&app, &b, &cookie, &format!("{ITEM_PAGE}/delete"), &[("csrf", &csrf), ("confirm", "FR")]).await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST, "{}", wrong.text);
    assert_eq!(api_value(&app).await.0, 200, "still there");
    let deleted = post(&app, &b, &cookie, &format!("{ITEM_PAGE}/delete"), &[("csrf", &csrf), ("confirm", "DE")]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{}", deleted.text);
    assert_eq!(deleted.location.as_deref(), Some("/namespaces/production/default/groups/shop"));
    assert_eq!(api_value(&app).await.0, 404, "the API no longer finds it");
    let group = page(&app, &b, &cookie, "/namespaces/production/default/groups/shop").await;
    assert_eq!(group.status, StatusCode::OK);
    assert!(has(&group.text, "no-items"), "{}", group.text);
    // An item that is not there: the API's 404 and words.
    let gone = page(&app, &b, &cookie, ITEM_PAGE).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.text.contains("Item &#39;DE&#39; or group &#39;shop&#39; was not found"), "{}", gone.text);
}

#[tokio::test]
async fn a_reader_sees_no_edit_or_delete_form_and_its_posts_are_refused_by_the_apis_check() {
    let app = crate::common::spawn_app().await;
    let b = browser(&app);
    let (s, _, v) = raw(&app.admin, Method::PUT, ITEM_API, Some("Germany")).await;
    assert_eq!(s, 200, "{v}");
    let grants = [Capability::ViewNamespace, Capability::ReadData];
    let cookie = signed_in_user(&app, &b, "rita", &grants, &[]).await;

    let list = page(&app, &b, &cookie, "/namespaces").await;
    assert!(has(&list.text, "namespaces-production") && has(&list.text, "namespaces-staging"), "{}", list.text);
    let item = page(&app, &b, &cookie, ITEM_PAGE).await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.text);
    assert_eq!(inner_html(&item.text, "item-value"), "Germany");
    assert!(!has(&item.text, "item-edit") && !has(&item.text, "item-delete"), "no control: {}", item.text);

    // Posted anyway: the API's refusal, status and words, and nothing changes.
    let reader_client = app.client_with("reader", &grants).await;
    let (api_status, _, api_refusal) = raw(&reader_client, Method::PUT, ITEM_API, Some("x")).await;
    let detail = api_refusal["detail"].as_str().unwrap().replace('\'', "&#39;");
    let csrf = csrf_of(&item.text);
    let edit = post(&app, &b, &cookie, ITEM_PAGE, &[("csrf", &csrf), ("value", "Frankreich")]).await;
    assert_eq!(edit.status.as_u16(), api_status);
    assert!(edit.text.contains(&detail), "{detail} in {}", edit.text);
    let (_, _, api_refusal) = raw(&reader_client, Method::DELETE, ITEM_API, None).await;
    let detail = api_refusal["detail"].as_str().unwrap().replace('\'', "&#39;");
    let delete = post(&app, &b, &cookie, &format!("{ITEM_PAGE}/delete"), &[("csrf", &csrf), ("confirm", "DE")]).await;
    assert_eq!(delete.status.as_u16(), api_status);
    assert!(delete.text.contains(&detail), "{detail} in {}", delete.text);
    assert_eq!(api_value(&app).await, (200, serde_json::json!("Germany")), "unchanged");

    // Without VIEW_AUDIT the audit page is refused as the API refuses it.
    let audit = page(&app, &b, &cookie, "/audit").await;
    let (audit_status, _, _) = raw(&reader_client, Method::GET, "/edgeward/v1/audit", None).await;
    assert_eq!(audit.status.as_u16(), audit_status);
    assert!(!has(&audit.text, "audit"), "{}", audit.text);
}

#[tokio::test]
async fn the_audit_page_lists_the_consoles_changes_and_filters_them_with_the_apis_filters() {
    let app = crate::common::spawn_app().await;
    let b = browser(&app);
    raw(&app.admin, Method::PUT, ITEM_API, Some("Germany")).await;
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let csrf = csrf_of(&page(&app, &b, &cookie, ITEM_PAGE).await.text);
    let edited = post(&app, &b, &cookie, ITEM_PAGE, &[("csrf", &csrf), ("value", "Deutschland")]).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.text);
    // A refused change is recorded as the API records one: a failure with its status and code.
    let refused = post(
        &app,
        &b,
        &cookie,
        "/namespaces/production/nowhere/groups/shop/items/DE",
        &[("csrf", &csrf), ("value", "x")],
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);

    let all = page(&app, &b, &cookie, "/audit").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    let table = inner_html(&all.text, "audit");
    assert!(
        table.contains(
            "<td>user:admin</td>\n<td>item.write</td>\n<td>item/production/default/shop/DE</td>\n<td>success</td>"
        ),
        "{table}"
    );
    assert!(table.contains("<td>client:"), "the admin API's write too: {table}");
    // Newest first: the refused write, then the console's edit, then the API's write.
    let at = |s: &str| table.find(s).unwrap_or_else(|| panic!("{s} in {table}"));
    assert!(at("item/production/nowhere/shop/DE") < at("item/production/default/shop/DE"));
    assert!(table.contains("failure</td>") && table.contains("<td>400 EKV_"), "{table}");
    // The API sees the same record.
    let (_, _, api) = raw(&app.admin, Method::GET, "/edgeward/v1/audit?actor=user:admin&action=item.write", None).await;
    assert_eq!(api["records"].as_array().unwrap().len(), 2, "{api}");

    // Filters: an action prefix, an outcome; the form's empty fields are no filter.
    let items = page(&app, &b, &cookie, "/audit?actor=&action=item.&target=&outcome=success&since=&until=").await;
    assert_eq!(items.status, StatusCode::OK, "{}", items.text);
    let table = inner_html(&items.text, "audit");
    assert!(table.contains("item/production/default/shop/DE") && !table.contains("nowhere"), "{table}");
    assert!(items.text.contains("value=\"item.\""), "the form shows the filter");
    let tokens = page(&app, &b, &cookie, "/audit?action=token.").await;
    assert!(has(&tokens.text, "no-records") && !has(&tokens.text, "audit"), "{}", tokens.text);

    // A bad filter: the API's own words, with the form to correct.
    let bad = page(&app, &b, &cookie, "/audit?since=yesterday").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let (_, _, api) = raw(&app.admin, Method::GET, "/edgeward/v1/audit?since=yesterday", None).await;
    assert_eq!(inner_html(&bad.text, "audit-error"), api["detail"].as_str().unwrap());

    // Paging: one record a page, the older link to the next.
    let first = page(&app, &b, &cookie, "/audit?action=item.&limit=1").await;
    let older = inner_html(&first.text, "older");
    assert_eq!(older, "Older");
    let at = first.text.find("id=\"older\"").unwrap();
    let href_at = first.text[..at].rfind("href=\"").unwrap() + 6;
    let href = first.text[href_at..href_at + first.text[href_at..].find('"').unwrap()].replace("&#38;", "&");
    assert!(href.starts_with("/audit?action=item.&limit=1&before="), "{href}");
    let second = page(&app, &b, &cookie, &href).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_ne!(inner_html(&first.text, "audit"), inner_html(&second.text, "audit"));
}

#[tokio::test]
async fn a_data_form_without_its_csrf_token_is_refused_and_changes_nothing() {
    let app = crate::common::spawn_app().await;
    let b = browser(&app);
    raw(&app.admin, Method::PUT, ITEM_API, Some("Germany")).await;
    let cookie = first_sign_in(&app, &b, "a long new password").await;
    let edit = post(&app, &b, &cookie, ITEM_PAGE, &[("value", "Frankreich")]).await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{}", edit.text);
    assert!(edit.text.contains("This form is out of date or was sent from another site."));
    let wrong = post(&app, &b, &cookie, ITEM_PAGE, &[("csrf", "x".repeat(43).as_str()), ("value", "Frankreich")]).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let delete = post(&app, &b, &cookie, &format!("{ITEM_PAGE}/delete"), &[("confirm", "DE")]).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{}", delete.text);
    assert_eq!(api_value(&app).await, (200, serde_json::json!("Germany")), "unchanged");
}
