"""How the schema is laid out for distribution by organization (Citus): every table is either a
tenant table, distributed by `org_id` and colocated with `organizations`, or one of the reference
tables below, copied whole to every node.

A tenant table leads its primary key and every unique key with `org_id`, and its foreign keys point
only at reference tables or at other tenant tables through `org_id`. A reference table points only
at reference tables."""

from __future__ import annotations

DISTRIBUTION_COLUMN = "org_id"

# Reference tables, with why each is not distributed by organization.
REFERENCE_TABLES: dict[str, str] = {
    "plans": "catalogue: the plans organizations subscribe to",
    "plan_limits": "catalogue: each plan's meter limits",
    "meters": "catalogue: the meters usage is recorded against",
    "billing_meters": "catalogue: Stripe billing meters and their usage meters",
    "llm_prices": "catalogue: token prices by model",
    "resource_rates": "catalogue: hourly rates of per-second billed resources",
    "credit_rates": "catalogue: the USD value of a credit over time",
    "api_keys": "looked up by key_id before the tenant is known; platform keys have no organization",
    "billing_watermarks": "one row per billing job (how far it got), not per organization",
    "rollup_hours": "one row per rolled-up hour, for all organizations",
    "schema_migrations": "the applied migrations",
    "ledger_replicas": "the metering server replicas and their heartbeats, not per organization",
}
