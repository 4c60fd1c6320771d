-- Core schema. Every table holding tenant data leads its primary and unique keys with org_id, so
-- the schema distributes by org_id on Citus; catalogue tables (plans, meters, prices) are small
-- reference tables.

CREATE TABLE plans (
    plan_id         text PRIMARY KEY,
    name            text NOT NULL,
    monthly_credits numeric NOT NULL CHECK (monthly_credits >= 0),
    price_usd       numeric CHECK (price_usd >= 0),          -- NULL: custom pricing
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE meters (
    meter       text PRIMARY KEY,
    unit        text NOT NULL,
    description text NOT NULL
);

-- NULL limit_quantity means unlimited.
CREATE TABLE plan_limits (
    plan_id        text NOT NULL REFERENCES plans,
    meter          text NOT NULL REFERENCES meters,
    limit_quantity numeric CHECK (limit_quantity >= 0),
    PRIMARY KEY (plan_id, meter)
);

-- LLM token prices in USD per million tokens, effective from a moment on: a price change adds a
-- row and never rewrites what earlier usage cost.
CREATE TABLE llm_prices (
    model                  text NOT NULL,
    effective_from         timestamptz NOT NULL,
    input_usd_per_mtok       numeric NOT NULL CHECK (input_usd_per_mtok >= 0),
    output_usd_per_mtok      numeric NOT NULL CHECK (output_usd_per_mtok >= 0),
    cache_read_usd_per_mtok  numeric NOT NULL CHECK (cache_read_usd_per_mtok >= 0),
    cache_write_usd_per_mtok numeric NOT NULL CHECK (cache_write_usd_per_mtok >= 0),
    PRIMARY KEY (model, effective_from)
);

CREATE TABLE credit_rates (
    effective_from  timestamptz PRIMARY KEY,
    credits_per_usd numeric NOT NULL CHECK (credits_per_usd > 0)
);

CREATE TABLE organizations (
    org_id                text PRIMARY KEY,
    name                  text NOT NULL,
    plan_id               text NOT NULL REFERENCES plans,
    billing_model         text NOT NULL CHECK (billing_model IN ('credits', 'byom')),
    monthly_spend_cap_usd numeric CHECK (monthly_spend_cap_usd >= 0),
    billing_anchor        timestamptz NOT NULL,
    created_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (billing_model = 'credits' OR monthly_spend_cap_usd IS NOT NULL)
);

-- One row per organization: the lock every balance change takes, and the running totals of the
-- current billing period. Reproducible from credit_grants/holds, which are reproducible from the
-- ledger.
CREATE TABLE balances (
    org_id            text PRIMARY KEY REFERENCES organizations,
    period_start      timestamptz NOT NULL,
    period_end        timestamptz NOT NULL,
    monthly_remaining numeric NOT NULL CHECK (monthly_remaining >= 0),
    bonus_remaining   numeric NOT NULL CHECK (bonus_remaining >= 0),
    reserved          numeric NOT NULL CHECK (reserved >= 0),
    period_used       numeric NOT NULL CHECK (period_used >= 0),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- kind 'monthly': the plan's credits for one period; 'spend_cap': a BYOM org's USD cap for one
-- period; 'bonus': referral or promotion credits that never reset (expires_at optional).
CREATE TABLE credit_grants (
    org_id       text NOT NULL,
    grant_id     bigint GENERATED ALWAYS AS IDENTITY,
    kind         text NOT NULL CHECK (kind IN ('monthly', 'spend_cap', 'bonus')),
    amount       numeric NOT NULL CHECK (amount >= 0),
    remaining    numeric NOT NULL CHECK (remaining >= 0),
    period_start timestamptz,
    expires_at   timestamptz,
    source       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, grant_id)
);
CREATE UNIQUE INDEX credit_grants_one_per_period
    ON credit_grants (org_id, kind, period_start) WHERE kind IN ('monthly', 'spend_cap');

CREATE TABLE holds (
    org_id      text NOT NULL,
    hold_id     text NOT NULL,
    amount      numeric NOT NULL CHECK (amount >= 0),
    remaining   numeric NOT NULL CHECK (remaining >= 0),
    status      text NOT NULL CHECK (status IN ('open', 'released', 'expired', 'denied')),
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz,
    PRIMARY KEY (org_id, hold_id)
);
CREATE INDEX holds_open_by_expiry ON holds (org_id, expires_at) WHERE status = 'open';

-- What each open hold took from each grant, so a release returns credits where they came from.
CREATE TABLE hold_allocations (
    org_id    text NOT NULL,
    hold_id   text NOT NULL,
    grant_id  bigint NOT NULL,
    remaining numeric NOT NULL CHECK (remaining >= 0),
    PRIMARY KEY (org_id, hold_id, grant_id)
);

-- Every balance change. amount: change of the grant's remaining; hold_amount: change of the hold's
-- remaining. grant: +amount; deduct: -amount; reserve: -amount/+hold_amount; capture: -hold_amount;
-- release: +amount/-hold_amount; expire: -amount (unused monthly credits at period end).
CREATE TABLE ledger_entries (
    org_id      text NOT NULL,
    entry_id    bigint GENERATED ALWAYS AS IDENTITY,
    kind        text NOT NULL CHECK (kind IN ('grant', 'deduct', 'reserve', 'capture', 'release', 'expire')),
    grant_id    bigint,
    hold_id     text,
    amount      numeric NOT NULL,
    hold_amount numeric NOT NULL DEFAULT 0,
    reference   text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, entry_id)
);
CREATE INDEX ledger_entries_by_grant ON ledger_entries (org_id, grant_id);

CREATE TABLE deductions (
    org_id            text NOT NULL,
    idempotency_key   text NOT NULL,
    amount            numeric NOT NULL,
    unit              text NOT NULL CHECK (unit IN ('credits', 'usd')),
    granted           boolean NOT NULL,
    denial_reason     text,
    from_hold         numeric NOT NULL,
    from_monthly      numeric NOT NULL,
    from_bonus        numeric NOT NULL,
    hold_id           text,
    monthly_remaining numeric NOT NULL,
    bonus_remaining   numeric NOT NULL,
    reserved          numeric NOT NULL,
    workspace_id      text,
    user_id           text,
    source            text,
    model             text,
    tokens            jsonb,
    created_at        timestamptz NOT NULL,
    PRIMARY KEY (org_id, idempotency_key)
);
CREATE INDEX deductions_by_time ON deductions (org_id, created_at);

CREATE TABLE usage_events (
    org_id          text NOT NULL,
    idempotency_key text NOT NULL,
    event_id        bigint GENERATED ALWAYS AS IDENTITY,
    meter           text NOT NULL,
    quantity        numeric NOT NULL CHECK (quantity >= 0),
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    workspace_id    text,
    user_id         text,
    source          text,
    model           text,
    token_kind      text,
    PRIMARY KEY (org_id, idempotency_key)
);
CREATE INDEX usage_events_by_meter_time ON usage_events (org_id, meter, occurred_at);
