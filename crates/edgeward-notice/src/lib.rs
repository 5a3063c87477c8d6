//! What Edgeward's expiry check tells whom, and in which words.
//!
//! From the tokens that are due at a check (each with the tightest threshold it is inside), the
//! account's users and its escalation contacts, this crate plans, without any I/O:
//! - the panel notices: one per (user, threshold), listing every due token the user is told
//!   about ([`panel_notices`]);
//! - the 1-day e-mails, as text and HTML: one per user who may receive e-mail and is told about
//!   some of the tokens, and one per contact listing them all ([`emails`]);
//! - the webhook events: one per threshold reached ([`webhook_events`]), each with a random id;
//! - and, in [`plan`], which due tokens nobody would hear of: they are not counted as told, so the
//!   next check tries again and the first recipient to appear before they expire is told.
//!
//! Who is told about a token is core's rule (`UserAccess::is_told_about`: the user's effective
//! grants, their own and their roles', as the store read them); when a check runs, the lease
//! that makes one server run it and the delivery are the server's (`edgeward_server::notify`).
//! A notice's wording is changed here, and only here.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use uuid::Uuid;

use edgeward_core::notify::{tightest_threshold, Contact, ExpiringToken, NewEmail, NewNotice, NewWebhook};
use edgeward_core::role::UserAccess;
use edgeward_wire::NoticeToken;

/// The tokens of `tokens` that are due on `today`, each with the tightest of `thresholds` it is
/// inside (a token past its expiry is not due).
pub fn due(tokens: Vec<ExpiringToken>, today: NaiveDate, thresholds: &[u32]) -> Vec<(ExpiringToken, u32)> {
    tokens
        .into_iter()
        .filter_map(|t| {
            let left = (t.expiry - today).num_days();
            tightest_threshold(left, thresholds).map(|th| (t, th))
        })
        .collect()
}

/// Where a check sends what it finds, besides the panel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels<'a> {
    /// Escalation contacts, when the 1-day e-mail is configured (`None`: no e-mail is sent).
    pub email_contacts: Option<&'a [Contact]>,
    /// Whether webhook events are sent.
    pub webhook: bool,
}

/// What one check delivers, and to whom.
#[derive(Debug, Default)]
pub struct Plan {
    /// Panel notices.
    pub notices: Vec<NewNotice>,
    /// E-mails to queue.
    pub emails: Vec<NewEmail>,
    /// Webhook events to queue.
    pub webhooks: Vec<NewWebhook>,
    /// The (token, threshold) pairs that reach someone: delivered once this plan is.
    pub told: Vec<(Uuid, u32)>,
    /// The due tokens nobody would hear of (no user told about the token, no contact e-mailed,
    /// no webhook), with their thresholds: left undelivered for the next check.
    pub untold: Vec<(ExpiringToken, u32)>,
}

/// Everything a check delivers for the `due` pairs it has claimed, given the account's `users`
/// and the configured `channels`.
pub fn plan(due: &[(ExpiringToken, u32)], users: &[UserAccess], channels: Channels<'_>, now: DateTime<Utc>) -> Plan {
    let reaches_someone = |(t, th): &(ExpiringToken, u32)| {
        users.iter().any(|u| u.is_told_about(t.networks))
            || channels.webhook
            || (*th == EMAIL_THRESHOLD && channels.email_contacts.is_some_and(|c| !c.is_empty()))
    };
    let (told, untold): (Vec<_>, Vec<_>) = due.iter().cloned().partition(reaches_someone);
    Plan {
        notices: panel_notices(&told, users),
        emails: channels.email_contacts.map_or_else(Vec::new, |contacts| emails(&told, users, contacts)),
        webhooks: if channels.webhook { webhook_events(&told, now) } else { Vec::new() },
        told: told.iter().map(|(t, th)| (t.uuid, *th)).collect(),
        untold,
    }
}

/// One notice per (user, threshold), listing every due token that user is told about.
pub fn panel_notices(due: &[(ExpiringToken, u32)], users: &[UserAccess]) -> Vec<NewNotice> {
    let mut by_threshold: BTreeMap<u32, Vec<&ExpiringToken>> = BTreeMap::new();
    for (t, th) in due {
        by_threshold.entry(*th).or_default().push(t);
    }
    let mut out = Vec::new();
    for (th, tokens) in by_threshold {
        for user in users {
            let mine: Vec<&ExpiringToken> = tokens.iter().copied().filter(|t| user.is_told_about(t.networks)).collect();
            if mine.is_empty() {
                continue;
            }
            let subject = match mine.as_slice() {
                [one] => format!("Access token {} expires on {} ({th}-day notice)", one.name, one.expiry),
                many => {
                    format!("{} access tokens expire within {th} day{}", many.len(), if th == 1 { "" } else { "s" })
                }
            };
            out.push(NewNotice {
                user_id: user.user.id,
                threshold_days: th,
                subject,
                tokens: json!(mine.iter().map(|t| NoticeToken::from(*t)).collect::<Vec<_>>()),
            });
        }
    }
    out
}

/// One webhook event per threshold reached at this check, listing its tokens.
pub fn webhook_events(due: &[(ExpiringToken, u32)], now: DateTime<Utc>) -> Vec<NewWebhook> {
    let mut by_threshold: BTreeMap<u32, Vec<&ExpiringToken>> = BTreeMap::new();
    for (t, th) in due {
        by_threshold.entry(*th).or_default().push(t);
    }
    by_threshold
        .into_iter()
        .map(|(th, tokens)| {
            let event_id = Uuid::new_v4();
            let body = json!({
                "id": event_id,
                "type": "token.expiring",
                "createdAt": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "thresholdDays": th,
                "tokens": tokens.iter().map(|t| NoticeToken::from(*t)).collect::<Vec<_>>(),
            })
            .to_string();
            NewWebhook { event_id, body }
        })
        .collect()
}

/// The threshold whose notices are also e-mailed.
pub const EMAIL_THRESHOLD: u32 = 1;

/// E-mails for the 1-day notices: one to each user who is told about some of the tokens and may
/// receive e-mail, and one to each escalation contact listing them all.
pub fn emails(due: &[(ExpiringToken, u32)], users: &[UserAccess], contacts: &[Contact]) -> Vec<NewEmail> {
    let last_day: Vec<&ExpiringToken> = due.iter().filter(|(_, th)| *th == EMAIL_THRESHOLD).map(|(t, _)| t).collect();
    if last_day.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for user in users.iter().filter(|u| u.user.can_receive_email()) {
        let mine: Vec<&ExpiringToken> = last_day.iter().copied().filter(|t| user.is_told_about(t.networks)).collect();
        if let (false, Some(address)) = (mine.is_empty(), user.user.email.as_deref()) {
            out.push(compose(address, &user.user.name, &mine));
        }
    }
    for c in contacts {
        out.push(compose(&c.email, &c.name, &last_day));
    }
    out
}

/// One line about a token: its expiry, networks, namespaces and last use.
fn describe(t: &ExpiringToken) -> String {
    let networks = match (t.networks.staging, t.networks.production) {
        (true, true) => "staging and production",
        (true, false) => "staging",
        _ => "production",
    };
    let namespaces: Vec<String> = t.namespaces.iter().map(|(ns, p)| format!("{ns}:{}", p.compact())).collect();
    let used = t.last_used.map_or_else(
        || "never used".to_owned(),
        |u| format!("last used {}", u.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    );
    format!(
        "{}: expires at the end of {} (UTC); {networks}; namespaces {}; {used}",
        t.name,
        t.expiry,
        namespaces.join(", ")
    )
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The 1-day e-mail to `name` at `address` about `tokens`, as text and HTML.
fn compose(address: &str, name: &str, tokens: &[&ExpiringToken]) -> NewEmail {
    let subject = match tokens {
        [one] => format!("Edgeward: access token {} expires on {}", one.name, one.expiry),
        many => format!("Edgeward: {} access tokens expire within a day", many.len()),
    };
    let lines: Vec<String> = tokens.iter().map(|t| describe(t)).collect();
    let commands: Vec<String> = tokens
        .iter()
        .map(|t| {
            format!("edgeward token rotate {0} --to {0}_next --save-path <your bundle> --revoke-old-after 1h", t.name)
        })
        .collect();
    let text_body = format!(
        "Hello {name},\n\n\
         {} expire{} within a day. Edge code that still uses {} is refused (401) once it expires.\n\n{}\n\n\
         Replace each before then, for example:\n{}\n\n\
         Edgeward sends this e-mail once per token. `edgeward notify list` shows every notice.\n",
        if tokens.len() == 1 { "This access token" } else { "These access tokens" },
        if tokens.len() == 1 { "s" } else { "" },
        if tokens.len() == 1 { "it" } else { "them" },
        lines.iter().map(|l| format!("- {l}")).collect::<Vec<_>>().join("\n"),
        commands.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"),
    );
    let html_body = format!(
        "<p>Hello {},</p><p>{} within a day. Edge code that still uses {} is refused (401) once it expires.</p>\
         <ul>{}</ul><p>Replace each before then, for example:</p><pre>{}</pre>\
         <p>Edgeward sends this e-mail once per token. <code>edgeward notify list</code> shows every notice.</p>",
        html_escape(name),
        if tokens.len() == 1 { "This access token expires" } else { "These access tokens expire" },
        if tokens.len() == 1 { "it" } else { "them" },
        lines.iter().map(|l| format!("<li>{}</li>", html_escape(l))).collect::<String>(),
        html_escape(&commands.join("\n")),
    );
    NewEmail { recipient: address.to_owned(), subject, text_body, html_body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use edgeward_core::capability::{Capability, Grants};
    use edgeward_core::names::NamespaceName;
    use edgeward_core::network::{Network, Networks};
    use edgeward_core::permission::Permissions;

    fn token(name: &str, expiry: NaiveDate, networks: Networks) -> ExpiringToken {
        let mut namespaces = edgeward_core::token::NamespacePermissions::new();
        namespaces.insert(NamespaceName::parse("default").unwrap(), Permissions::parse_compact("rw").unwrap());
        ExpiringToken { uuid: Uuid::new_v4(), name: name.to_owned(), expiry, networks, namespaces, last_used: None }
    }

    fn user(name: &str, email: Option<&str>, grants: &[Capability]) -> UserAccess {
        with_roles(name, email, grants, &[], &[])
    }

    /// A user with direct `grants` and the roles named `roles`, looked up in `custom`.
    fn with_roles(
        name: &str,
        email: Option<&str>,
        grants: &[Capability],
        roles: &[&str],
        custom: &[edgeward_core::role::Role],
    ) -> UserAccess {
        let user = edgeward_core::notify::User {
            id: Uuid::new_v4(),
            name: name.to_owned(),
            email: email.map(str::to_owned),
            email_registered: email.is_some(),
            active: true,
            grants: Grants::new(grants.iter().copied()),
            roles: roles.iter().map(|r| edgeward_core::names::RoleName::parse(r).unwrap()).collect(),
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        };
        UserAccess::new(user, custom)
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn a_token_is_due_at_the_tightest_threshold_it_is_inside() {
        let tokens = vec![
            token("far", day(31), Networks::BOTH),
            token("week", day(8), Networks::BOTH),
            token("tomorrow", day(2), Networks::BOTH),
            token("gone", NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(), Networks::BOTH),
        ];
        let due: Vec<(String, u32)> =
            due(tokens, day(1), &[30, 7, 1]).into_iter().map(|(t, th)| (t.name, th)).collect();
        assert_eq!(due, [("far".to_owned(), 30), ("week".to_owned(), 7), ("tomorrow".to_owned(), 1)]);
    }

    #[test]
    fn notices_are_bundled_per_user_and_threshold_and_worded_by_count() {
        let due = vec![
            (token("a", day(8), Networks::BOTH), 7),
            (token("b", day(8), Networks::BOTH), 7),
            (token("c", day(2), Networks::STAGING), 1),
        ];
        let everyone = user("ana", None, &[Capability::CreateToken]);
        let staging = user("sam", None, &[Capability::CreateStagingToken]);
        let notices = panel_notices(&due, &[everyone.clone(), staging.clone()]);
        let seen: Vec<(Uuid, u32, &str)> =
            notices.iter().map(|n| (n.user_id, n.threshold_days, n.subject.as_str())).collect();
        assert_eq!(
            seen,
            [
                (everyone.user.id, 1, "Access token c expires on 2026-12-02 (1-day notice)"),
                (staging.user.id, 1, "Access token c expires on 2026-12-02 (1-day notice)"),
                (everyone.user.id, 7, "2 access tokens expire within 7 days"),
            ]
        );
        assert_eq!(notices[2].tokens[1]["name"], "b");
        assert_eq!(notices[2].tokens[0]["namespaces"]["default"], "rw");
    }

    #[test]
    fn the_one_day_email_goes_to_registered_users_told_about_it_and_to_every_contact() {
        let due = vec![(token("last<day>", day(2), Networks::BOTH), 1), (token("week", day(8), Networks::BOTH), 7)];
        let users = [
            user("Ana & co", Some("ana@example.com"), &[Capability::CreateToken]),
            user("no address", None, &[Capability::CreateToken]),
        ];
        let contacts = [Contact { email: "oncall@example.com".into(), name: "On call".into() }];
        let mails = emails(&due, &users, &contacts);
        let to: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
        assert_eq!(to, ["ana@example.com", "oncall@example.com"]);
        let m = &mails[0];
        assert_eq!(m.subject, "Edgeward: access token last<day> expires on 2026-12-02");
        assert!(
            m.text_body.starts_with("Hello Ana & co,\n\nThis access token expires within a day."),
            "{}",
            m.text_body
        );
        assert!(m.text_body.contains("edgeward token rotate last<day> --to last<day>_next"), "{}", m.text_body);
        assert!(m.html_body.starts_with("<p>Hello Ana &amp; co,</p>"), "{}", m.html_body);
        assert!(m.html_body.contains("last&lt;day&gt;") && !m.html_body.contains("last<day>"), "{}", m.html_body);
        assert!(emails(&due[1..], &users, &contacts).is_empty(), "only the 1-day threshold is e-mailed");
    }

    #[test]
    fn the_one_day_email_reads_word_for_word() {
        let mut t = token("shop", day(2), Network::Production.into());
        t.last_used = Some(Utc.with_ymd_and_hms(2026, 11, 30, 8, 15, 0).unwrap());
        let due = vec![(t, 1)];
        let contacts = [Contact { email: "oncall@example.com".into(), name: "On call".into() }];
        let mails = emails(&due, &[], &contacts);
        assert_eq!(mails.len(), 1);
        let m = &mails[0];
        assert_eq!(m.recipient, "oncall@example.com");
        assert_eq!(m.subject, "Edgeward: access token shop expires on 2026-12-02");
        assert_eq!(
            m.text_body,
            "Hello On call,\n\n\
             This access token expires within a day. Edge code that still uses it is refused (401) once it expires.\n\n\
             - shop: expires at the end of 2026-12-02 (UTC); production; namespaces default:rw; last used 2026-11-30T08:15:00Z\n\n\
             Replace each before then, for example:\n  \
             edgeward token rotate shop --to shop_next --save-path <your bundle> --revoke-old-after 1h\n\n\
             Edgeward sends this e-mail once per token. `edgeward notify list` shows every notice.\n"
        );
        assert_eq!(
            m.html_body,
            "<p>Hello On call,</p><p>This access token expires within a day. Edge code that still uses it is refused (401) once it expires.</p>\
             <ul><li>shop: expires at the end of 2026-12-02 (UTC); production; namespaces default:rw; last used 2026-11-30T08:15:00Z</li></ul>\
             <p>Replace each before then, for example:</p>\
             <pre>edgeward token rotate shop --to shop_next --save-path &lt;your bundle&gt; --revoke-old-after 1h</pre>\
             <p>Edgeward sends this e-mail once per token. <code>edgeward notify list</code> shows every notice.</p>"
        );
    }

    #[test]
    fn a_token_nobody_would_hear_of_is_left_untold_and_nothing_is_sent_about_it() {
        let staging_only = token("stg", day(8), Networks::STAGING);
        let production = token("prod", day(2), Network::Production.into());
        let due = vec![(staging_only.clone(), 7), (production.clone(), 1)];
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        // Only a staging-only token manager: told about `stg`, not about `prod`.
        let users = [user("sam", Some("sam@example.com"), &[Capability::CreateStagingToken])];
        let p = plan(&due, &users, Channels { email_contacts: Some(&[]), webhook: false }, now);
        assert_eq!(p.told, [(staging_only.uuid, 7)]);
        assert_eq!(p.untold, [(production.clone(), 1)]);
        assert_eq!(p.notices.len(), 1);
        assert!(p.emails.is_empty(), "sam is not told about prod, and no contact is configured");
        // An escalation contact hears of every 1-day token; a webhook of every due token.
        let contacts = [Contact { email: "oncall@example.com".into(), name: "On call".into() }];
        let p = plan(&due, &users, Channels { email_contacts: Some(&contacts), webhook: false }, now);
        assert_eq!((p.told.len(), p.untold.len(), p.emails.len()), (2, 0, 1));
        let p = plan(&due, &[], Channels { email_contacts: None, webhook: true }, now);
        assert_eq!((p.told.len(), p.untold.len(), p.notices.len(), p.webhooks.len()), (2, 0, 0, 2));
        // Nobody at all.
        let p = plan(&due, &[], Channels::default(), now);
        assert_eq!((p.told.len(), p.untold.len()), (0, 2));
        assert!(p.notices.is_empty() && p.emails.is_empty() && p.webhooks.is_empty());
    }

    #[test]
    fn recipients_are_chosen_by_their_roles_grants_too() {
        use edgeward_core::role::Role;
        let due = vec![(token("prod", day(8), Networks::BOTH), 7), (token("stg", day(8), Networks::STAGING), 7)];
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let told = |users: &[UserAccess]| -> Vec<(String, usize)> {
            let p = plan(&due, users, Channels::default(), now);
            let name = |id| users.iter().find(|u| u.user.id == id).unwrap().user.name.clone();
            p.notices.iter().map(|n| (name(n.user_id), n.tokens.as_array().unwrap().len())).collect()
        };
        // A user whose only grants come from `token-manager` is told about both tokens; one with
        // `token-manager-staging` about the staging-only one.
        let manager = with_roles("ana", None, &[], &["token-manager"], &[]);
        let staging = with_roles("sam", None, &[], &["token-manager-staging"], &[]);
        assert_eq!(told(&[manager, staging]), [("ana".to_owned(), 2), ("sam".to_owned(), 1)]);
        // A custom role that loses CREATE_TOKEN no longer makes its only holder a recipient.
        let releasers = |grants: &[Capability]| Role {
            name: edgeward_core::names::RoleName::parse("releasers").unwrap(),
            description: String::new(),
            grants: Grants::new(grants.iter().copied()),
            built_in: false,
        };
        let before = with_roles("bo", None, &[], &["releasers"], &[releasers(&[Capability::CreateToken])]);
        assert_eq!(told(&[before]), [("bo".to_owned(), 2)]);
        let after = with_roles("bo", None, &[], &["releasers"], &[releasers(&[Capability::ViewToken])]);
        assert_eq!(told(&[after]), []);
    }

    #[test]
    fn one_webhook_event_per_threshold_lists_its_tokens() {
        let due = vec![(token("a", day(8), Networks::BOTH), 7), (token("b", day(2), Networks::BOTH), 1)];
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 6, 0, 0).unwrap();
        let events = webhook_events(&due, now);
        assert_eq!(events.len(), 2);
        let first: serde_json::Value = serde_json::from_str(&events[0].body).unwrap();
        assert_eq!(first["type"], "token.expiring");
        assert_eq!(first["thresholdDays"], 1);
        assert_eq!(first["createdAt"], "2026-12-01T06:00:00Z");
        assert_eq!(first["id"], events[0].event_id.to_string());
        let b = &due[1].0;
        assert_eq!(
            first["tokens"],
            serde_json::json!([{
                "name": "b", "uuid": b.uuid.to_string(), "expiry": "2026-12-02", "allowOnStaging": true,
                "allowOnProduction": true, "namespaces": {"default": "rw"}, "lastUsed": null,
            }])
        );
        let keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 5, "id, type, createdAt, thresholdDays, tokens: {keys:?}");
    }
}
