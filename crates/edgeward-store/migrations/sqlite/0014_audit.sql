-- Edgeward schema 14: the audit trail. One row per change made through the admin API or an
-- administration command, inserted in the change's own transaction; failures on their own.
-- No secret, token value or token reference is ever stored here.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         INTEGER NOT NULL,   -- epoch milliseconds
    actor      TEXT    NOT NULL,   -- client:NAME, command:USER, unauthenticated
    owner      TEXT,
    action     TEXT    NOT NULL,   -- resource.verb
    target     TEXT    NOT NULL,
    request_id TEXT,
    source     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    detail     TEXT
);
CREATE INDEX audit_log_at ON audit_log (at);

-- Reading the trail is a grant of its own (VIEW_AUDIT). Whoever already holds every Edgeward
-- grant (the first administrator and its users) keeps holding every grant.
UPDATE api_clients SET grants = grants || ',VIEW_AUDIT'
    WHERE grants LIKE '%MANAGE_NOTIFICATIONS%' AND grants NOT LIKE '%VIEW_AUDIT%';
UPDATE users SET grants = grants || ',VIEW_AUDIT'
    WHERE grants LIKE '%MANAGE_NOTIFICATIONS%' AND grants NOT LIKE '%VIEW_AUDIT%';
