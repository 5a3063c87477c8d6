//! The SQL statements both backends run, each written once.
//!
//! A statement is written here in PostgreSQL's form (`$1`, `$2`, …) and its SQLite form (`?1`,
//! `?2`, …: the same numbers, so a placeholder may repeat) is derived at compile time. A backend
//! imports its module under one name, `use crate::sql::sqlite as sql;` or
//! `use crate::sql::pg as sql;`, so the two backends' code reads alike and `sql::NAME` means the
//! same statement in both. Statements that exist in one backend only stay in that backend's file:
//! group commit and the nonce journal on SQLite, `FOR UPDATE SKIP LOCKED`, `LISTEN/NOTIFY`, the
//! token-count shards and advisory locks on PostgreSQL, and the few places where the two
//! dialects differ (`scripts/sql-twins` counts what is still written twice).
//!
//! Statements are grouped by the table they are about, in table order.

/// The columns of a token row, in the order `rows::token` reads them.
macro_rules! token_columns {
    () => {
        "token_ref, name, allow_staging, allow_production, ewids, namespaces, expiry, issued_at, \
         latest_refresh, next_refresh, generation, cpcode, revoked_at, sealed_value, sealed_uuid"
    };
}
/// The columns of an API client row, in the order `rows::api_client` reads them.
macro_rules! client_columns {
    () => {
        "name, client_token, access_token, sealed_secret, grants, enabled, created_at, owner"
    };
}
/// The columns of the account row, in the order `rows::account` reads them.
macro_rules! account_columns {
    () => {
        "cpcode, initialized_at, restrict_data_access, allow_namespace_policy_override"
    };
}
/// The columns of a namespace row, in the order `rows::namespace` reads them.
macro_rules! namespace_columns {
    () => {
        "network, name, retention_seconds, group_id, geo_location, created_at, delete_at"
    };
}
/// The columns of a user row, in the order `rows::user` reads them.
macro_rules! user_columns {
    () => {
        "id, name, email, email_registered, active, grants, created_at"
    };
}
/// The columns of a role row, in the order `rows::role` reads them.
macro_rules! role_columns {
    () => {
        "name, description, grants"
    };
}
/// The columns a new token row is written with, and their values (`$1`…`$15`; the name is
/// written twice, as `name` and `live_name`). Shared by SQLite's insert and PostgreSQL's two
/// creation paths, which bind the values in this order.
macro_rules! new_token_columns {
    () => {
        "token_ref, name, live_name, allow_staging, allow_production, ewids, namespaces, expiry, expires_at, \
         issued_at, next_refresh, generation, cpcode, sealed_value, sealed_uuid, kid"
    };
}
macro_rules! new_token_values {
    () => {
        "$1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15"
    };
}
/// The columns a new audit record is written with.
macro_rules! new_audit_columns {
    () => {
        "at, actor, owner, action, target, request_id, source, outcome, detail"
    };
}
/// The columns of an audit row, in the order `rows::audit_entry` reads them.
macro_rules! audit_columns {
    () => {
        "id, at, actor, owner, action, target, request_id, source, outcome, detail"
    };
}

/// `pg` with each `$` written `?`: SQLite's numbered placeholders. The text never holds `$`
/// otherwise (checked by a test).
const fn question_marks<const N: usize>(pg: &str) -> [u8; N] {
    let from = pg.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = if from[i] == b'$' { b'?' } else { from[i] };
        i += 1;
    }
    out
}

macro_rules! statements {
    ($($name:ident = $text:expr;)*) => {
        /// The statements in PostgreSQL's form.
        pub(crate) mod pg {
            $(pub(crate) const $name: &str = $text;)*
            /// Every statement, for the catalogue's own tests.
            #[cfg(test)]
            pub(crate) const ALL: &[(&str, &str)] = &[$((stringify!($name), $name)),*];
        }
        /// The statements in SQLite's form.
        pub(crate) mod sqlite {
            $(pub(crate) const $name: &str = {
                const BYTES: [u8; super::pg::$name.len()] = super::question_marks(super::pg::$name);
                match core::str::from_utf8(&BYTES) {
                    Ok(text) => text,
                    Err(_) => panic!("a statement is ASCII"),
                }
            };)*
            /// Every statement, for the catalogue's own tests.
            #[cfg(test)]
            pub(crate) const ALL: &[(&str, &str)] = &[$((stringify!($name), $name)),*];
        }
    };
}

statements! {
    DELETE_ACCESS_GROUP = "DELETE FROM access_groups WHERE group_id = $1";
    INSERT_ACCESS_GROUP =
        "INSERT INTO access_groups (group_id, name, created_at) VALUES ($1, $2, $3) ON CONFLICT DO \
         NOTHING";
    LIST_ACCESS_GROUPS = "SELECT group_id, name FROM access_groups ORDER BY group_id";
    DELETE_API_CLIENT = "DELETE FROM api_clients WHERE name = $1";
    API_CLIENTS_VERSION = "SELECT version FROM api_clients_version WHERE id = 1";
    INSERT_AUDIT_RECORD =
        concat!("INSERT INTO audit_log (", new_audit_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    PURGE_AUDIT_BEFORE = "DELETE FROM audit_log WHERE at < $1";
    APPEND_CHANGE = "INSERT INTO changes (kind, subject, at) VALUES ($1, $2, $3)";
    CHANGES_AFTER =
        "SELECT c.seq, c.kind, c.subject, t.sealed_uuid FROM changes c LEFT JOIN tokens t ON c.kind = \
         'token_revoked' AND t.token_ref = c.subject WHERE c.seq > $1 ORDER BY c.seq LIMIT $2";
    LAST_CHANGE_SEQ = "SELECT COALESCE(MAX(seq), 0) FROM changes";
    PURGE_CHANGES_BEFORE = "DELETE FROM changes WHERE at < $1";
    COUNT_PENDING_EMAIL = "SELECT COUNT(*) FROM email_outbox WHERE status = 'pending'";
    FAILED_EMAIL =
        "SELECT recipient, subject, attempts, COALESCE(last_error, ''), created_at FROM email_outbox \
         WHERE status = 'failed' ORDER BY id DESC LIMIT $1";
    QUEUE_EMAIL =
        "INSERT INTO email_outbox (recipient, subject, text_body, html_body, created_at, next_attempt_at, \
         status) VALUES ($1, $2, $3, $4, $5, $5, 'pending')";
    DELETE_CONTACT = "DELETE FROM escalation_contacts WHERE email = $1";
    LIST_CONTACTS = "SELECT email, name FROM escalation_contacts ORDER BY email";
    PUT_CONTACT =
        "INSERT INTO escalation_contacts (email, name, created_at) VALUES ($1, $2, $3) ON CONFLICT \
         (email) DO UPDATE SET name = excluded.name";
    CLAIM_EXPIRY_NOTICE =
        "INSERT INTO expiry_notices (token_ref, threshold_days, created_at, status) VALUES ($1, $2, $3, \
         'pending') ON CONFLICT DO NOTHING";
    EXPIRY_NOTICE_STATUS = "SELECT status FROM expiry_notices WHERE token_ref = $1 AND threshold_days = $2";
    MARK_EXPIRY_NOTICE_DELIVERED =
        "UPDATE expiry_notices SET status = 'delivered' WHERE token_ref = $1 AND threshold_days = $2";
    DELETE_NAMESPACE_ITEMS = "DELETE FROM items WHERE network = $1 AND namespace = $2";
    GET_ITEM =
        "SELECT i.value, i.updated_at, n.retention_seconds FROM items i JOIN namespaces n ON n.network = \
         i.network AND n.name = i.namespace WHERE i.network = $1 AND i.namespace = $2 AND i.sandbox = $3 \
         AND i.grp = $4 AND i.item = $5 AND (n.retention_seconds = 0 OR i.updated_at > $6 - \
         n.retention_seconds * 1000)";
    LIST_ITEM_GROUPS =
        "SELECT DISTINCT grp FROM items WHERE network = $1 AND namespace = $2 AND sandbox = $3 ORDER BY \
         grp LIMIT $4";
    LIST_ITEM_KEYS =
        "SELECT item FROM items WHERE network = $1 AND namespace = $2 AND sandbox = $3 AND grp = $4 ORDER \
         BY item LIMIT $5";
    PURGE_EXPIRED_ITEMS =
        "DELETE FROM items WHERE (network, namespace, sandbox, grp, item) IN ( SELECT i.network, \
         i.namespace, i.sandbox, i.grp, i.item FROM items i JOIN namespaces n ON n.network = i.network \
         AND n.name = i.namespace WHERE n.retention_seconds > 0 AND i.updated_at <= $1 - \
         n.retention_seconds * 1000 LIMIT $2)";
    RELEASE_LEASE = "DELETE FROM leases WHERE name = $1 AND holder = $2";
    TAKE_LEASE =
        "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE \
         SET holder = excluded.holder, expires_at = excluded.expires_at WHERE leases.holder = \
         excluded.holder OR leases.expires_at <= $4";
    COUNT_GROUP_NAMESPACES = "SELECT COUNT(*) FROM namespaces WHERE group_id = $1";
    COUNT_NETWORK_NAMESPACES = "SELECT COUNT(*) FROM namespaces WHERE network = $1";
    DELETE_NAMESPACE = "DELETE FROM namespaces WHERE network = $1 AND name = $2";
    LIST_NAMESPACE_NAMES = "SELECT name FROM namespaces WHERE network = $1 ORDER BY name";
    NAMESPACE_EXISTS = "SELECT 1 FROM namespaces WHERE network = $1 AND name = $2";
    COUNT_UNREAD_NOTICES = "SELECT COUNT(*) FROM notices WHERE user_id = $1 AND read_at IS NULL";
    INSERT_NOTICE =
        "INSERT INTO notices (user_id, threshold_days, created_at, subject, tokens) VALUES ($1, $2, $3, \
         $4, $5)";
    MARK_NOTICES_READ = "UPDATE notices SET read_at = $2 WHERE user_id = $1 AND read_at IS NULL";
    INSERT_NOTIFY_RUN =
        "INSERT INTO notify_runs (check_day, holder, started_at, finished_at, dry_run, due, notices) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    RECENT_NOTIFY_RUNS =
        "SELECT check_day, holder, started_at, finished_at, dry_run, due, notices FROM notify_runs ORDER \
         BY id DESC LIMIT $1";
    COUNT_ROLE_HOLDERS = "SELECT COUNT(*) FROM user_roles WHERE role = $1";
    DELETE_ROLE = "DELETE FROM roles WHERE name = $1";
    ROLE_EXISTS = "SELECT 1 FROM roles WHERE name = $1";
    INSERT_ROLE =
        "INSERT INTO roles (name, description, grants, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT \
         (name) DO NOTHING";
    UPDATE_ROLE = "UPDATE roles SET description = $2, grants = $3 WHERE name = $1";
    INSERT_SEALED_KEY = "INSERT INTO sealed_keys (name, sealed, created_at) VALUES ($1, $2, $3)";
    SEALED_KEY = "SELECT sealed FROM sealed_keys WHERE name = $1";
    INSERT_SIGNING_KEY =
        "INSERT INTO signing_keys (kid, sealed_pkcs8, created_at, retired_at) VALUES ($1, $2, $3, $4) ON \
         CONFLICT DO NOTHING";
    LIST_SIGNING_KEYS =
        "SELECT kid, sealed_pkcs8, created_at, retired_at FROM signing_keys ORDER BY created_at, kid";
    RETIRE_SIGNING_KEY = "UPDATE signing_keys SET retired_at = $2 WHERE kid = $1 AND retired_at IS NULL";
    SIGNING_KEY_EXISTS = "SELECT 1 FROM signing_keys WHERE kid = $1";
    TOKENS_EXPIRING_BETWEEN =
        "SELECT t.token_ref, t.name, t.expiry, t.allow_staging, t.allow_production, t.namespaces, (SELECT \
         MAX(u.last_used) FROM token_usage u WHERE u.token_ref = t.token_ref), t.sealed_uuid FROM tokens \
         t WHERE t.revoked_at IS NULL AND t.expires_at >= $1 AND t.expires_at <= $2 AND t.replaced_by IS \
         NULL ORDER BY t.expires_at, t.name";
    RECORD_USAGE = "INSERT INTO token_usage (token_ref, network, requests, last_used) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (token_ref, network) DO UPDATE SET requests = token_usage.requests + excluded.requests, \
         last_used = CASE WHEN excluded.last_used > token_usage.last_used THEN excluded.last_used \
         ELSE token_usage.last_used END";
    TOKEN_USAGE =
        "SELECT network, requests, last_used FROM token_usage WHERE token_ref = $1 ORDER BY network";
    NEXT_EXPIRY =
        "SELECT MIN(expires_at) FROM tokens WHERE revoked_at IS NULL AND expires_at >= $1 AND replaced_by \
         IS NULL";
    LIVE_TOKEN_COUNTS =
        "SELECT CAST(CASE WHEN expires_at IS NULL THEN 0 WHEN expires_at <= $2 THEN 1 WHEN expires_at <= $3 \
         THEN 2 WHEN expires_at <= $4 THEN 3 ELSE 4 END AS BIGINT), COUNT(*) FROM tokens WHERE revoked_at \
         IS NULL AND replaced_by IS NULL AND (expires_at IS NULL OR expires_at >= $1) GROUP BY 1";
    PURGE_EXPIRED_TOKENS = "DELETE FROM tokens WHERE revoked_at IS NULL AND expires_at < $1";
    PURGE_REVOKED_TOKENS =
        "DELETE FROM tokens WHERE revoked_at < $1 AND (expires_at IS NULL OR expires_at < $2)";
    REFRESH_DUE_TOKENS =
        "UPDATE tokens SET generation = generation + 1, latest_refresh = $2, next_refresh = $3 WHERE \
         revoked_at IS NULL AND expiry IS NULL AND next_refresh <= $1";
    REKEY_TOKEN_ROW = "UPDATE tokens SET token_ref = $2, sealed_uuid = $3 WHERE token_ref = $1";
    REVOKED_TOKENS = "SELECT token_ref, sealed_uuid FROM tokens WHERE revoked_at IS NOT NULL";
    SET_REPLACED_BY = "UPDATE tokens SET replaced_by = $2 WHERE token_ref = $1";
    SCHEDULE_REVOCATION = "UPDATE tokens SET revoke_at = $2 WHERE token_ref = $1 AND live_name IS NOT NULL";
    DUE_REVOCATIONS = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE revoke_at <= $1 AND revoked_at IS NULL AND live_name IS NOT NULL \
         ORDER BY revoke_at, token_ref LIMIT $2"
    );
    // REVOKE_TOKEN, only while the scheduled time has come: a cancellation or a later time
    // committed meanwhile wins (PostgreSQL re-checks the condition after a lock wait).
    REVOKE_DUE_TOKEN = concat!(
        "UPDATE tokens SET live_name = NULL, revoked_at = $2, sealed_value = NULL \
         WHERE token_ref = $1 AND live_name IS NOT NULL AND revoke_at IS NOT NULL AND revoke_at <= $2 RETURNING ",
        token_columns!()
    );
    SIGNING_KEY_USE =
        "SELECT kid, COUNT(*), MAX(expires_at) FROM tokens WHERE kid IS NOT NULL AND revoked_at IS NULL \
         AND expires_at >= $1 GROUP BY kid ORDER BY kid";
    TOKENS_WITHOUT_SEALED_UUID = "SELECT token_ref FROM tokens WHERE sealed_uuid IS NULL";
    INSERT_USER =
        "INSERT INTO users (id, name, email, email_registered, active, grants, created_at) VALUES ($1, \
         $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO NOTHING";
    UPDATE_USER = "UPDATE users SET active = $2, email = $3, email_registered = $4 WHERE id = $1";
    USER_PASSWORD = "SELECT id, password_hash, password_must_change FROM users WHERE name = $1";
    SET_USER_PASSWORD = concat!(
        "UPDATE users SET password_hash = $2, password_must_change = $3 WHERE name = $1 RETURNING ",
        user_columns!()
    );
    // A session is stored only for a user that exists (no row inserted: `NotFound`).
    INSERT_SESSION =
        "INSERT INTO sessions (id_hash, user_id, csrf, created_at, last_seen_at, expires_at) SELECT $1, \
         id, $3, $4, $4, $5 FROM users WHERE id = $2";
    TOUCH_SESSION = "UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2";
    END_SESSION = "DELETE FROM sessions WHERE id_hash = $1";
    END_USER_SESSIONS = "DELETE FROM sessions WHERE user_id = $1";
    PURGE_SESSIONS = "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2";
    COUNT_USERS_AND_API_CLIENTS = "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM api_clients)";
    ALL_USER_ROLES = "SELECT user_id, role FROM user_roles ORDER BY user_id, role";
    DELETE_USER_ROLES = "DELETE FROM user_roles WHERE user_id = $1";
    INSERT_USER_ROLE = "INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING";
    // A user's roles, each with its stored grants (NULL for a built-in role, which is core's).
    HELD_ROLES =
        "SELECT ur.role, r.description, r.grants FROM user_roles ur LEFT JOIN roles r ON r.name = ur.role \
         WHERE ur.user_id = $1 ORDER BY ur.role";
    QUEUE_WEBHOOK =
        "INSERT INTO webhook_outbox (event_id, body, created_at, next_attempt_at, status) VALUES ($1, $2, \
         $3, $3, 'pending')";
    // The outboxes keep their delivery state alike: sent, to retry, failed for good.
    EMAIL_SENT =
        "UPDATE email_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1";
    EMAIL_RETRY = "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1";
    EMAIL_FAILED = "UPDATE email_outbox SET attempts = attempts + 1, last_error = $2, status = 'failed' WHERE id = $1";
    WEBHOOK_SENT =
        "UPDATE webhook_outbox SET status = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1";
    WEBHOOK_RETRY = "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1";
    WEBHOOK_FAILED = "UPDATE webhook_outbox SET attempts = attempts + 1, last_error = $2, status = 'failed' WHERE id = $1";
    // Rows read whole: their columns are the lists above.
    ACCOUNT = concat!("SELECT ", account_columns!(), " FROM account WHERE id = 1");
    INSERT_ACCOUNT =
        concat!("INSERT INTO account (id, ", account_columns!(), ") VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING");
    API_CLIENT_BY_TOKEN = concat!("SELECT ", client_columns!(), " FROM api_clients WHERE client_token = $1");
    LIST_API_CLIENTS = concat!("SELECT ", client_columns!(), " FROM api_clients ORDER BY name");
    INSERT_API_CLIENT = concat!("INSERT INTO api_clients (", client_columns!(), ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    SET_API_CLIENT_ENABLED = concat!("UPDATE api_clients SET enabled = $2 WHERE name = $1 RETURNING ", client_columns!());
    NAMESPACE = concat!("SELECT ", namespace_columns!(), " FROM namespaces WHERE network = $1 AND name = $2");
    LIST_NAMESPACES = concat!("SELECT ", namespace_columns!(), " FROM namespaces WHERE network = $1 ORDER BY name");
    INSERT_NAMESPACE = concat!(
        "INSERT INTO namespaces (",
        namespace_columns!(),
        ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
    );
    SET_NAMESPACE_RETENTION = concat!(
        "UPDATE namespaces SET retention_seconds = $3 WHERE network = $1 AND name = $2 RETURNING ",
        namespace_columns!()
    );
    SCHEDULE_NAMESPACE_DELETE =
        concat!("UPDATE namespaces SET delete_at = $3 WHERE network = $1 AND name = $2 RETURNING ", namespace_columns!());
    SET_NAMESPACE_GROUP = concat!("UPDATE namespaces SET group_id = $2 WHERE name = $1 RETURNING ", namespace_columns!());
    INSERT_TOKEN = concat!("INSERT INTO tokens (", new_token_columns!(), ") VALUES (", new_token_values!(), ")");
    TOKEN_BY_NAME = concat!("SELECT ", token_columns!(), " FROM tokens WHERE live_name = $1");
    TOKEN_BY_REF = concat!("SELECT ", token_columns!(), " FROM tokens WHERE token_ref = $1");
    LIST_TOKENS = concat!(
        "SELECT ",
        token_columns!(),
        " FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at >= $1) ORDER BY name, issued_at"
    );
    // The console's listing: every stored token with its successor's name and its last use.
    TOKEN_OVERVIEW = concat!(
        "SELECT ",
        token_columns!(),
        ", (SELECT s.name FROM tokens s WHERE s.token_ref = t.replaced_by), (SELECT MAX(u.last_used) FROM \
         token_usage u WHERE u.token_ref = t.token_ref), t.revoke_at FROM tokens t ORDER BY t.name, t.issued_at"
    );
    REVOKE_TOKEN = concat!(
        "UPDATE tokens SET live_name = NULL, revoked_at = $2, sealed_value = NULL \
         WHERE token_ref = $1 AND live_name IS NOT NULL RETURNING ",
        token_columns!()
    );
    REFRESH_TOKEN = concat!(
        "UPDATE tokens SET generation = generation + 1, latest_refresh = $2, next_refresh = $3 \
         WHERE live_name = $1 RETURNING ",
        token_columns!()
    );
    // A session is read with its user: the user's columns first (`rows::user`), then the
    // session's, renamed so that none is ambiguous.
    SESSION = concat!(
        "SELECT ",
        user_columns!(),
        ", password_must_change, s.csrf, s.began, s.seen, s.ends FROM users JOIN (SELECT user_id, csrf, \
         created_at AS began, last_seen_at AS seen, expires_at AS ends FROM sessions WHERE id_hash = $1) s \
         ON s.user_id = users.id"
    );
    LIST_ROLES = concat!("SELECT ", role_columns!(), " FROM roles ORDER BY name");
    ROLE_BY_NAME = concat!("SELECT ", role_columns!(), " FROM roles WHERE name = $1");
    USER_BY_ID = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
    LIST_USERS = concat!("SELECT ", user_columns!(), " FROM users ORDER BY name");
    USER_BY_NAME = concat!("SELECT ", user_columns!(), " FROM users WHERE name = $1");
    INSERT_DEFAULT_NAMESPACE = "INSERT INTO namespaces (network, name, retention_seconds, group_id, geo_location, created_at) \
         VALUES ($1, 'default', $2, 0, 'US', $3) ON CONFLICT DO NOTHING";
}

/// The uuids an earlier schema wrote into a token-naming column (`refs::REF_COLUMNS`), to be
/// re-keyed by token ref (a uuid is 36 characters, a ref 64).
pub(crate) fn legacy_uuids(table: &str, column: &str, filter: &str) -> String {
    format!("SELECT DISTINCT {column} FROM {table} WHERE length({column}) = 36{filter}")
}

/// Re-key one legacy value of a token-naming column: `$1` the uuid, `$2` its token ref.
pub(crate) fn rekey_legacy(table: &str, column: &str, filter: &str, dialect: Dialect) -> String {
    match dialect {
        Dialect::Postgres => format!("UPDATE {table} SET {column} = $2 WHERE {column} = $1{filter}"),
        Dialect::Sqlite => format!("UPDATE {table} SET {column} = ?2 WHERE {column} = ?1{filter}"),
    }
}

/// Which placeholders a statement built at run time uses.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dialect {
    /// `$1`, `$2`, …
    Postgres,
    /// `?1`, `?2`, …
    Sqlite,
}

/// The statements of one delivery outbox (`EMAIL_*` or `WEBHOOK_*`), in one backend's form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outbox {
    /// Accepted (SMTP) or delivered (2xx): `$1` id, `$2` when.
    pub sent: &'static str,
    /// Failed, to try again: `$1` id, `$2` error, `$3` when.
    pub retry: &'static str,
    /// Failed for good: `$1` id, `$2` error.
    pub failed: &'static str,
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_forms_number_their_placeholders_like_postgres() {
        assert_eq!(super::pg::ALL.len(), super::sqlite::ALL.len());
        for ((name, pg), (_, sqlite)) in super::pg::ALL.iter().zip(super::sqlite::ALL) {
            assert!(!pg.contains('?'), "{name}: PostgreSQL's form uses $N only");
            assert!(!sqlite.contains('$'), "{name}: SQLite's form uses ?N only");
            assert_eq!(pg.replace('$', "?"), *sqlite, "{name}");
            // Every `$` is a placeholder: a digit follows it.
            for (i, _) in pg.match_indices('$') {
                assert!(pg[i + 1..].starts_with(|c: char| c.is_ascii_digit()), "{name}: a bare $");
            }
        }
    }
}
