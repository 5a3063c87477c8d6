-- Edgeward schema 6: e-mail waiting to be sent, sent, or given up on.

CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- earliest next try; while a server is sending it, the end of that server's claim
    next_attempt_at INTEGER NOT NULL,
    -- 'pending', 'sent' or 'failed' (given up: permanent refusal, or too many tries)
    status          TEXT    NOT NULL,
    last_error      TEXT,
    sent_at         INTEGER
);
CREATE INDEX email_outbox_due ON email_outbox (next_attempt_at) WHERE status = 'pending';
