-- The plan and meter catalogue of the product documents, and starting prices.

INSERT INTO meters (meter, unit, description) VALUES
    ('llm_tokens',      'tokens',   'LLM tokens processed (input, output, cache read and write)'),
    ('queries',         'queries',  'SQL queries executed'),
    ('api_requests',    'requests', 'API requests served'),
    ('webhook_events',  'events',   'Webhook events received'),
    ('storage_gb',      'GB',       'Data storage, peak daily'),
    ('bandwidth_gb',    'GB',       'Network egress'),
    ('compute_seconds', 'seconds',  'Compute time'),
    ('seats',           'users',    'Active users');

-- Paid plans come with their price back as monthly credits (one credit is one US cent);
-- Enterprise credits are negotiated and granted per organization.
INSERT INTO plans (plan_id, name, monthly_credits, price_usd) VALUES
    ('free',         'Free',         500,   0),
    ('starter',      'Starter',      9900,  99),
    ('professional', 'Professional', 49900, 499),
    ('enterprise',   'Enterprise',   0,     NULL);

INSERT INTO plan_limits (plan_id, meter, limit_quantity) VALUES
    ('starter',      'llm_tokens', 500000),
    ('starter',      'queries',    10000),
    ('starter',      'storage_gb', 10),
    ('starter',      'seats',      5),
    ('professional', 'llm_tokens', 5000000),
    ('professional', 'queries',    100000),
    ('professional', 'storage_gb', 100),
    ('professional', 'seats',      25),
    ('enterprise',   'llm_tokens', NULL),
    ('enterprise',   'queries',    NULL),
    ('enterprise',   'storage_gb', 1000),
    ('enterprise',   'seats',      NULL);

-- One credit is one US cent.
INSERT INTO credit_rates (effective_from, credits_per_usd) VALUES ('2024-01-01T00:00:00Z', 100);

INSERT INTO llm_prices (model, effective_from, input_usd_per_mtok, output_usd_per_mtok,
                        cache_read_usd_per_mtok, cache_write_usd_per_mtok) VALUES
    ('claude-sonnet-4', '2024-01-01T00:00:00Z', 3,    15, 0.30,  3.75),
    ('claude-haiku-4',  '2024-01-01T00:00:00Z', 1,    5,  0.10,  1.25),
    ('gpt-4o',          '2024-01-01T00:00:00Z', 2.50, 10, 1.25,  2.50),
    ('gpt-4o-mini',     '2024-01-01T00:00:00Z', 0.15, 0.60, 0.075, 0.15);
