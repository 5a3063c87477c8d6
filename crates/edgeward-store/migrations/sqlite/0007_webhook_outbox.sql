-- Edgeward schema 7: webhook events waiting to be delivered, delivered, or given up on.

CREATE TABLE webhook_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        TEXT    NOT NULL UNIQUE,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    -- 'pending', 'sent' or 'failed'
    status          TEXT    NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
