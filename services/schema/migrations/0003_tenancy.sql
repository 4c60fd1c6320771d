-- Tenancy (workspace groups, workspaces, users), API keys, plan changes, resource rates,
-- quotas with soft/hard limits, alerts and their delivery outbox.

CREATE TABLE workspace_groups (
    org_id     text NOT NULL REFERENCES organizations,
    group_id   text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, group_id)
);

CREATE TABLE workspaces (
    org_id       text NOT NULL REFERENCES organizations,
    workspace_id text NOT NULL,
    name         text NOT NULL,
    group_id     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, workspace_id),
    FOREIGN KEY (org_id, group_id) REFERENCES workspace_groups (org_id, group_id)
);

CREATE TABLE users (
    org_id     text NOT NULL REFERENCES organizations,
    user_id    text NOT NULL,
    email      text NOT NULL,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);

-- Looked up by key_id on every call, before the tenant is known: not distributed by org_id
-- (on Citus a reference table). Only a SHA-256 of the high-entropy secret is kept.
CREATE TABLE api_keys (
    key_id      text PRIMARY KEY,
    prefix      text NOT NULL,
    org_id      text REFERENCES organizations,
    role        text NOT NULL CHECK (role IN ('platform_admin', 'tenant_admin', 'billing_contact', 'service')),
    name        text NOT NULL,
    secret_hash text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CHECK ((role = 'platform_admin') = (org_id IS NULL))
);
CREATE INDEX api_keys_by_org ON api_keys (org_id);

-- A plan change takes effect when the next billing period opens.
ALTER TABLE organizations ADD COLUMN next_plan_id text REFERENCES plans;

CREATE TABLE plan_change_requests (
    org_id       text NOT NULL REFERENCES organizations,
    request_id   bigint GENERATED ALWAYS AS IDENTITY,
    plan_id      text NOT NULL REFERENCES plans,
    note         text NOT NULL DEFAULT '',
    requested_by text NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, request_id)
);

-- Hourly USD rates of per-second billed resources, effective-dated like LLM prices.
CREATE TABLE resource_rates (
    resource       text NOT NULL,
    tier           text NOT NULL DEFAULT '',
    effective_from timestamptz NOT NULL,
    hourly_usd     numeric NOT NULL CHECK (hourly_usd >= 0),
    monthly_usd    numeric CHECK (monthly_usd >= 0),
    PRIMARY KEY (resource, tier, effective_from)
);

-- Per organization and resource (a meter or 'credits'). `used`/`period_start` are the running
-- total of the period the row was last touched in; the row lock serializes hard-limit checks.
CREATE TABLE quotas (
    org_id           text NOT NULL REFERENCES organizations,
    resource         text NOT NULL,
    soft_limit       numeric CHECK (soft_limit >= 0),
    hard_limit       numeric CHECK (hard_limit >= 0),
    alert_at_percent integer CHECK (alert_at_percent BETWEEN 1 AND 1000),
    alert_enabled    boolean NOT NULL DEFAULT true,
    period_start     timestamptz,
    used             numeric NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, resource)
);

-- One active alert per (organization, resource, severity): raised once per crossing, resolved
-- when usage falls back below its threshold (or a new period starts).
CREATE TABLE alerts (
    org_id            text NOT NULL REFERENCES organizations,
    alert_id          text NOT NULL,
    resource          text NOT NULL,
    severity          text NOT NULL CHECK (severity IN ('warning', 'critical', 'overage', 'budget')),
    status            text NOT NULL CHECK (status IN ('active', 'resolved')),
    threshold_percent integer NOT NULL,
    current_usage     numeric NOT NULL,
    quota_limit       numeric NOT NULL,
    usage_percent     numeric NOT NULL,
    message           text NOT NULL,
    triggered_at      timestamptz NOT NULL,
    resolved_at       timestamptz,
    PRIMARY KEY (org_id, alert_id)
);
CREATE UNIQUE INDEX alerts_one_active ON alerts (org_id, resource, severity) WHERE status = 'active';
CREATE INDEX alerts_by_time ON alerts (org_id, triggered_at DESC);

CREATE TABLE alert_channels (
    org_id           text PRIMARY KEY REFERENCES organizations,
    routes           jsonb NOT NULL,
    email_recipients text[] NOT NULL DEFAULT '{}',
    webhook_url      text,
    webhook_secret   text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per (alert, channel) delivery; notifiers claim rows with SKIP LOCKED so several
-- replicas never send one twice, and retry with backoff until delivered.
CREATE TABLE alert_outbox (
    org_id          text NOT NULL,
    alert_id        text NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('in_app', 'email', 'webhook')),
    status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    delivered_at    timestamptz,
    PRIMARY KEY (org_id, alert_id, channel)
);
CREATE INDEX alert_outbox_due ON alert_outbox (next_attempt_at) WHERE status = 'pending';

-- 'adjust': a change of a period grant by a plan upgrade or a new spend cap.
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_kind_check
    CHECK (kind IN ('grant', 'deduct', 'reserve', 'capture', 'release', 'expire', 'adjust'));
