-- How a meter's readings make a figure. `sum`: the readings add up (tokens, queries, requests,
-- bandwidth, compute seconds). `peak`: a day's figure is its highest reading and a longer span's
-- is its highest daily peak (storage). `level`: the latest reading (seats, counts of running
-- things). Meters added later are sums unless they say otherwise. Readings stored before this
-- migration are read the same way: a gauge reading was always a reading, never an increment.
ALTER TABLE meters ADD COLUMN aggregation text NOT NULL DEFAULT 'sum'
    CHECK (aggregation IN ('sum', 'peak', 'level'));

UPDATE meters SET aggregation = 'peak' WHERE meter IN ('storage_gb', 'backups_gb');
UPDATE meters SET aggregation = 'level'
WHERE meter IN ('seats', 'databases', 'namespaces', 'nfs_shares', 'kafka_clusters', 'vault_secrets', 'vpcs');

-- Stripe meters aggregate like the meter they bill: `sum` adds the day values pushed; `last`
-- keeps the last value pushed in the invoice period (a gauge is pushed as its figure so far).
ALTER TABLE billing_meters ADD COLUMN aggregation text NOT NULL DEFAULT 'sum'
    CHECK (aggregation IN ('sum', 'last'));

-- Data storage is billed monthly on its peak daily use: a Stripe meter keeping the last value,
-- sent each day as the period's highest daily peak so far (in milli-GB), at 0.10 USD per GB.
INSERT INTO billing_meters (meter, source, usage_meter, display_name, unit, stripe_scale, service, category,
                            unit_price_usd, stripe_event_name, aggregation) VALUES
    ('storage_gb', 'usage', 'storage_gb', 'Storage GB (peak)', 'GB', 3, 'query_engine', 'storage', 0.10,
     'metering_storage_gb_peak', 'last');
