-- A plan change request is pending until a platform admin approves it (the plan changes) or
-- refuses it; either way the tenant is told through its alert channels, as a `plan_change` notice.
ALTER TABLE plan_change_requests
    ADD COLUMN status     text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused')),
    ADD COLUMN decided_by text,
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN reason     text NOT NULL DEFAULT '';
CREATE INDEX plan_change_requests_pending ON plan_change_requests (org_id, requested_at) WHERE status = 'pending';

ALTER TABLE alerts DROP CONSTRAINT alerts_severity_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_severity_check
    CHECK (severity IN ('warning', 'critical', 'overage', 'budget', 'plan_change'));
