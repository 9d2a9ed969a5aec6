-- Notifications and webhook deliveries belong to the platform and are addressed to a subject
-- (kind, id) of any module, not to a case: `case_id` becomes (subject_kind 'case', subject_id).
-- The subject has no foreign key (it may be any module's record); both halves are set or neither.

ALTER TABLE notifications
    ADD COLUMN subject_kind text,
    ADD COLUMN subject_id bigint,
    ADD CONSTRAINT notifications_subject CHECK ((subject_kind IS NULL) = (subject_id IS NULL));
UPDATE notifications SET subject_kind = 'case', subject_id = case_id WHERE case_id IS NOT NULL;
ALTER TABLE notifications DROP COLUMN case_id;

ALTER TABLE webhook_deliveries
    ADD COLUMN subject_kind text,
    ADD COLUMN subject_id bigint,
    ADD CONSTRAINT webhook_deliveries_subject CHECK ((subject_kind IS NULL) = (subject_id IS NULL));
UPDATE webhook_deliveries SET subject_kind = 'case', subject_id = case_id WHERE case_id IS NOT NULL;
ALTER TABLE webhook_deliveries DROP COLUMN case_id;
