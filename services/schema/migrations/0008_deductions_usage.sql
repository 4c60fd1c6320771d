-- Credits spent by granted deductions are usage of their own meter (quantity in the
-- organization's unit: credits, or USD for BYOM), written with the deduction.
INSERT INTO meters (meter, unit, description) VALUES
    ('credits', 'credits', 'Credits spent by granted deductions (USD for BYOM organizations)')
ON CONFLICT (meter) DO NOTHING;

-- The deduction a usage row was recorded for (NULL: recorded by RecordUsage).
ALTER TABLE usage_events ADD COLUMN deduction_key text;

-- A negotiated plan (Enterprise) has no credits or limits of its own: each organization on it
-- gets a monthly allowance set by a platform admin, in force from `effective_from` on. Until the
-- first allowance is in force the organization spends without a credit limit.
ALTER TABLE plans ADD COLUMN negotiated boolean NOT NULL DEFAULT false;
UPDATE plans SET negotiated = true WHERE plan_id = 'enterprise';

CREATE TABLE negotiated_allowances (
    org_id          text NOT NULL REFERENCES organizations,
    effective_from  timestamptz NOT NULL,
    monthly_credits numeric NOT NULL CHECK (monthly_credits >= 0),
    set_at          timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, effective_from)
);

-- Custom limits of an allowance; NULL limit_quantity means unlimited. They replace the plan's
-- limits of the meters they name while their allowance is in force.
CREATE TABLE negotiated_limits (
    org_id         text NOT NULL,
    effective_from timestamptz NOT NULL,
    meter          text NOT NULL REFERENCES meters,
    limit_quantity numeric CHECK (limit_quantity >= 0),
    PRIMARY KEY (org_id, effective_from, meter),
    FOREIGN KEY (org_id, effective_from) REFERENCES negotiated_allowances ON DELETE CASCADE ON UPDATE CASCADE
);

-- The allowance in force for an organization now, if any.
CREATE VIEW allowances_in_force AS
SELECT DISTINCT ON (org_id) org_id, effective_from, monthly_credits
FROM negotiated_allowances WHERE effective_from <= statement_timestamp()
ORDER BY org_id, effective_from DESC;

-- Each period's credits of an organization: its plan's, or on a negotiated plan its allowance's
-- in force (NULL: no allowance yet, no credit limit).
CREATE FUNCTION period_credits(org text) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p.negotiated THEN a.monthly_credits ELSE p.monthly_credits END
    FROM organizations o JOIN plans p USING (plan_id)
    LEFT JOIN allowances_in_force a ON a.org_id = o.org_id
    WHERE o.org_id = org
$$;

-- The limits in force per organization and meter: the plan's, overridden by the allowance in force.
CREATE VIEW org_meter_limits AS
SELECT o.org_id, pl.meter,
       CASE WHEN n.meter IS NOT NULL THEN n.limit_quantity ELSE pl.limit_quantity END AS limit_quantity,
       n.meter IS NOT NULL AS negotiated
FROM organizations o
JOIN plan_limits pl ON pl.plan_id = o.plan_id
LEFT JOIN allowances_in_force a ON a.org_id = o.org_id
LEFT JOIN negotiated_limits n
       ON n.org_id = a.org_id AND n.effective_from = a.effective_from AND n.meter = pl.meter
UNION ALL
SELECT n.org_id, n.meter, n.limit_quantity, true
FROM allowances_in_force a
JOIN negotiated_limits n ON n.org_id = a.org_id AND n.effective_from = a.effective_from
JOIN organizations o ON o.org_id = n.org_id
WHERE NOT EXISTS (SELECT 1 FROM plan_limits pl WHERE pl.plan_id = o.plan_id AND pl.meter = n.meter);
