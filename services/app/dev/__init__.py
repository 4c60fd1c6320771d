"""`metering dev`: the whole system on one machine, on embedded PostgreSQL and Redis from devstack,
with demo organizations, API keys and a Stripe test server. The only part of `services` that
imports devstack; it is not needed in production."""
