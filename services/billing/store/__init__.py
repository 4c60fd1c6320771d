"""Billing's SQL (named statements run on a connection they are given: accounts, invoices, the
Stripe outbox, resources, roll-ups, statements) and the Stripe gateway over Stripe's SDK."""
