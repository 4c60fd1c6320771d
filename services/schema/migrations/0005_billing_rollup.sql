-- Billing roll-ups: indexes for reading one hour of every organization, and the days a late
-- event changed, which the next Stripe sync reconciles.

-- Events are found by hour across organizations; BRIN keeps the insert path cheap because
-- occurred_at follows insertion order closely.
CREATE INDEX usage_events_occurred_brin ON usage_events USING brin (occurred_at);
CREATE INDEX resource_segments_by_end ON resource_segments (ended_at);

CREATE TABLE push_reconcile (
    org_id    text NOT NULL,
    usage_day date NOT NULL,
    marked_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, usage_day)
);
