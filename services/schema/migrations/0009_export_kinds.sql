-- What an export holds: usage events (as before), credit spend (granted deductions) or the
-- lifetimes of per-second billed resources (one row per segment). Earlier exports are usage events.
ALTER TABLE usage_exports
    ADD COLUMN kind text NOT NULL DEFAULT 'usage_events'
        CHECK (kind IN ('usage_events', 'credit_spend', 'resource_lifetimes'));
