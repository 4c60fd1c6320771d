-- Billing worker: resource lifecycle (per-second billing), hourly roll-ups, the Stripe outbox,
-- Stripe accounts and invoices. Tenant tables lead their keys with org_id; billing_meters is a
-- small reference table like meters and plans.

-- Hourly rates of doc 002 (an hourly rate is the monthly price / 730 hours, as the doc rounds it).
INSERT INTO resource_rates (resource, tier, effective_from, hourly_usd, monthly_usd) VALUES
    ('postgres',  'starter', '2024-01-01T00:00:00Z', 0.0123,    9),
    ('postgres',  'pro',     '2024-01-01T00:00:00Z', 0.0397,    29),
    ('postgres',  'scale',   '2024-01-01T00:00:00Z', 0.1355,    99),
    ('namespace', 'starter', '2024-01-01T00:00:00Z', 0,         0),
    ('namespace', 'pro',     '2024-01-01T00:00:00Z', 0.0397,    29),
    ('namespace', 'scale',   '2024-01-01T00:00:00Z', 0.1355,    99),
    ('storage_gb',  '',        '2024-01-01T00:00:00Z', 0.000137,  0.10),
    ('registry_gb', '',        '2024-01-01T00:00:00Z', 0.000137,  0.10),
    ('nfs_gb',      '',        '2024-01-01T00:00:00Z', 0.0000822, 0.06)
ON CONFLICT DO NOTHING;

-- What is billed and pushed to Stripe. A usage meter sums usage_events of `usage_meter`; a
-- resource meter sums resource-seconds (seconds x quantity) of one (resource, tier). Stripe takes
-- whole numbers only: the value sent is the quantity x 10^stripe_scale, rounded half-even per day.
CREATE TABLE billing_meters (
    meter            text PRIMARY KEY,
    source           text NOT NULL CHECK (source IN ('usage', 'resource')),
    usage_meter      text REFERENCES meters,
    resource         text,
    tier             text,
    display_name     text NOT NULL,
    unit             text NOT NULL,
    stripe_scale     integer NOT NULL CHECK (stripe_scale BETWEEN 0 AND 9),
    service          text NOT NULL,
    category         text NOT NULL,
    unit_price_usd   numeric CHECK (unit_price_usd >= 0),   -- usage meters; NULL: priced by llm_prices
    stripe_event_name text NOT NULL UNIQUE,
    stripe_meter_id  text,
    CHECK ((source = 'usage') = (usage_meter IS NOT NULL)),
    CHECK ((source = 'resource') = (resource IS NOT NULL AND tier IS NOT NULL))
);
CREATE UNIQUE INDEX billing_meters_one_per_usage_meter ON billing_meters (usage_meter) WHERE source = 'usage';
CREATE UNIQUE INDEX billing_meters_one_per_resource ON billing_meters (resource, tier) WHERE source = 'resource';

-- Gauges (storage_gb peak, seats) are not sums and are not billed from events; storage is billed
-- per second as a resource.
INSERT INTO billing_meters (meter, source, usage_meter, display_name, unit, stripe_scale, service, category,
                            unit_price_usd, stripe_event_name) VALUES
    ('llm_tokens',      'usage', 'llm_tokens',      'LLM Tokens',      'tokens',   0, 'ai_service',   'llm',       NULL,       'metering_llm_tokens'),
    ('compute_seconds', 'usage', 'compute_seconds', 'Compute Seconds', 'seconds',  3, 'ai_service',   'compute',   0.00001,    'metering_compute_seconds'),
    ('queries',         'usage', 'queries',         'SQL Queries',     'queries',  0, 'query_engine', 'query',     0.0001,     'metering_queries'),
    ('api_requests',    'usage', 'api_requests',    'API Requests',    'requests', 0, 'platform',     'api',       0.000001,   'metering_api_requests'),
    ('webhook_events',  'usage', 'webhook_events',  'Webhook Events',  'events',   0, 'platform',     'webhooks',  0.000001,   'metering_webhook_events'),
    ('bandwidth_gb',    'usage', 'bandwidth_gb',    'Bandwidth GB',    'GB',       3, 'platform',     'bandwidth', 0.10,       'metering_bandwidth_gb');

-- A per-second billed resource. Its life is a chain of segments: created opens one, a resize
-- closes it and opens the next, delete closes the last. Times are whole seconds.
CREATE TABLE resources (
    org_id      text NOT NULL REFERENCES organizations,
    resource_id text NOT NULL,
    kind        text NOT NULL,
    name        text NOT NULL,
    tier        text NOT NULL,
    quantity    numeric NOT NULL CHECK (quantity > 0),
    user_id     text,
    status      text NOT NULL CHECK (status IN ('running', 'deleted')),
    created_at  timestamptz NOT NULL,
    deleted_at  timestamptz,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, resource_id)
);

CREATE TABLE resource_segments (
    org_id      text NOT NULL,
    resource_id text NOT NULL,
    segment_no  integer NOT NULL,
    meter       text NOT NULL REFERENCES billing_meters,
    tier        text NOT NULL,
    quantity    numeric NOT NULL CHECK (quantity > 0),
    -- The rate in force when the segment began: a later price change applies from the next
    -- resize or creation on and never reprices running segments.
    hourly_usd  numeric NOT NULL CHECK (hourly_usd >= 0),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz CHECK (ended_at >= started_at),
    PRIMARY KEY (org_id, resource_id, segment_no),
    FOREIGN KEY (org_id, resource_id) REFERENCES resources
);
CREATE INDEX resource_segments_by_start ON resource_segments (started_at);
CREATE INDEX resource_segments_open ON resource_segments (org_id) WHERE ended_at IS NULL;

-- Per (organization, billing meter, hour, user): the hourly roll-up. quantity and cost are exact
-- sums (resource cost = seconds / 3600 x hourly rate x quantity, to 60 significant digits).
CREATE TABLE usage_hourly (
    org_id     text NOT NULL,
    meter      text NOT NULL REFERENCES billing_meters,
    hour_start timestamptz NOT NULL,
    user_id    text NOT NULL DEFAULT '',
    quantity   numeric NOT NULL CHECK (quantity >= 0),
    cost_usd   numeric NOT NULL CHECK (cost_usd >= 0),
    events     bigint NOT NULL,
    PRIMARY KEY (org_id, meter, hour_start, user_id)
);
CREATE INDEX usage_hourly_by_hour ON usage_hourly (hour_start);

-- Hours rolled up for every organization, and (organization, hour) pairs a late event reopened.
CREATE TABLE rollup_hours (
    hour_start timestamptz PRIMARY KEY,
    rolled_at  timestamptz NOT NULL
);
CREATE TABLE rollup_dirty (
    org_id     text NOT NULL,
    hour_start timestamptz NOT NULL,
    marked_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, hour_start)
);
-- Watermarks of the worker's jobs (late-event scan, days planned for Stripe).
CREATE TABLE billing_watermarks (
    job   text PRIMARY KEY,
    value timestamptz NOT NULL
);
-- Late events are found by when they were recorded; BRIN keeps the hot insert path cheap.
CREATE INDEX usage_events_recorded_brin ON usage_events USING brin (recorded_at);

-- Stripe side of an organization.
CREATE TABLE billing_accounts (
    org_id                 text PRIMARY KEY REFERENCES organizations,
    stripe_customer_id     text,
    stripe_subscription_id text,
    collection_method      text NOT NULL DEFAULT 'charge_automatically'
                           CHECK (collection_method IN ('charge_automatically', 'send_invoice')),
    days_until_due         integer CHECK (days_until_due BETWEEN 1 AND 365),
    invoice_payment        text CHECK (invoice_payment IN ('invoice', 'wire')),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- The outbox: one row per meter event sent to Stripe, for (organization, meter, UTC day). A
-- correction after a push is a new revision carrying the difference. `identifier` is
-- deterministic and the Idempotency-Key derives from it, so a retry after a crash or a timeout
-- can never count twice.
CREATE TABLE stripe_pushes (
    org_id            text NOT NULL,
    meter             text NOT NULL REFERENCES billing_meters,
    usage_day         date NOT NULL,
    revision          integer NOT NULL CHECK (revision >= 1),
    identifier        text NOT NULL CHECK (length(identifier) <= 100),
    value             numeric NOT NULL CHECK (value > 0 AND value = trunc(value)),
    event_timestamp   timestamptz NOT NULL,
    carried_forward   boolean NOT NULL DEFAULT false,
    status            text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts          integer NOT NULL DEFAULT 0,
    next_attempt_at   timestamptz NOT NULL,
    last_error        text,
    stripe_request_id text,
    stripe_response   jsonb,
    created_at        timestamptz NOT NULL DEFAULT now(),
    delivered_at      timestamptz,
    PRIMARY KEY (org_id, meter, usage_day, revision),
    UNIQUE (org_id, identifier)
);
CREATE INDEX stripe_pushes_due ON stripe_pushes (next_attempt_at) WHERE status = 'pending';

-- Stripe invoices as the product pages list them.
CREATE TABLE invoices (
    org_id            text NOT NULL REFERENCES organizations,
    stripe_invoice_id text NOT NULL,
    number            text,
    period_start      timestamptz NOT NULL,
    period_end        timestamptz NOT NULL,
    currency          text NOT NULL,
    amount_due        numeric NOT NULL,
    amount_paid       numeric NOT NULL,
    total             numeric NOT NULL,
    stripe_status     text NOT NULL,
    due_date          timestamptz,
    pdf_url           text,
    hosted_url        text,
    created_at        timestamptz NOT NULL,
    synced_at         timestamptz NOT NULL,
    PRIMARY KEY (org_id, stripe_invoice_id)
);
CREATE INDEX invoices_by_period ON invoices (org_id, period_start DESC);
