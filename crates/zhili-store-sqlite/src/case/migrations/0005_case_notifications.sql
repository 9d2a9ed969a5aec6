-- Notifications (站内通知), overdue escalation claims (超期督办) and the webhook outbox (外发队列).
-- Times are INTEGER microseconds since the Unix epoch (UTC), as in 0003_cases.sql.

CREATE TABLE notifications (
    id           INTEGER PRIMARY KEY,
    recipient_id INTEGER NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL, -- dispatched | overdue | escalated
    case_id      INTEGER REFERENCES cases(id),
    level        INTEGER, -- escalation level, from 1
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER -- NULL while unread
) STRICT;

-- A user's list, newest first.
CREATE INDEX notifications_recipient ON notifications(recipient_id, created_at DESC, id DESC);
-- The unread badge and "unread only". Partial: read notifications are the bulk and never counted.
CREATE INDEX notifications_unread ON notifications(recipient_id, created_at DESC, id DESC) WHERE read_at IS NULL;

-- Each escalation level fires once per case and deadline: the claim is this row. A new
-- deadline (another step, an extension) replaces the row, and the level may fire again.
CREATE TABLE case_escalations (
    case_id  INTEGER NOT NULL REFERENCES cases(id),
    level    INTEGER NOT NULL CHECK (level >= 1),
    deadline INTEGER NOT NULL, -- the deadline of the clock that ran out
    at       INTEGER NOT NULL, -- when the level fired
    PRIMARY KEY (case_id, level)
) STRICT, WITHOUT ROWID;

-- The durable outbox of webhook deliveries. Delivered and given-up rows are kept.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY, -- random; sent as X-Zhili-Delivery and in the payload
    webhook         TEXT NOT NULL, -- the configured webhook's name
    event           TEXT NOT NULL, -- case.dispatched | case.overdue | case.escalated
    case_id         INTEGER,
    payload         TEXT NOT NULL, -- the exact JSON body sent and signed
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER, -- NULL once delivered or given up
    delivered_at    INTEGER,
    last_error      TEXT
) STRICT;

-- Due deliveries. Partial: finished rows are never looked up by it.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE next_attempt_at IS NOT NULL;
-- The troubleshooting list, newest first.
CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at DESC);
