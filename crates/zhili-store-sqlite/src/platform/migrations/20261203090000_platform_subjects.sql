-- Notifications and webhook deliveries belong to the platform and are addressed to a subject
-- (kind, id) of any module, not to a case: `case_id` becomes (subject_kind 'case', subject_id).
-- The subject has no foreign key (it may be any module's record); both halves are set or neither.
-- SQLite cannot drop a column with a foreign key, so `notifications` is rebuilt.

CREATE TABLE notifications_new (
    id           INTEGER PRIMARY KEY,
    recipient_id INTEGER NOT NULL REFERENCES users(id),
    kind         TEXT NOT NULL, -- the raising module's name, e.g. dispatched | overdue | escalated
    subject_kind TEXT, -- e.g. case
    subject_id   INTEGER,
    level        INTEGER, -- level within the kind (escalation level), from 1
    title        TEXT NOT NULL,
    body         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    read_at      INTEGER, -- NULL while unread
    CHECK ((subject_kind IS NULL) = (subject_id IS NULL))
) STRICT;

INSERT INTO notifications_new (id, recipient_id, kind, subject_kind, subject_id, level, title, body, created_at, read_at)
SELECT id, recipient_id, kind, CASE WHEN case_id IS NULL THEN NULL ELSE 'case' END, case_id, level, title, body,
       created_at, read_at
FROM notifications;

DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;

-- A user's list, newest first.
CREATE INDEX notifications_recipient ON notifications(recipient_id, created_at DESC, id DESC);
-- The unread badge and "unread only". Partial: read notifications are the bulk and never counted.
CREATE INDEX notifications_unread ON notifications(recipient_id, created_at DESC, id DESC) WHERE read_at IS NULL;

ALTER TABLE webhook_deliveries ADD COLUMN subject_kind TEXT;
ALTER TABLE webhook_deliveries ADD COLUMN subject_id INTEGER;
UPDATE webhook_deliveries SET subject_kind = 'case', subject_id = case_id WHERE case_id IS NOT NULL;
ALTER TABLE webhook_deliveries DROP COLUMN case_id;
