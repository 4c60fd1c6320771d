"""Billing's units of work: the Stripe outbox pusher, the worker's roll-up, planning and invoice
jobs, payment methods and collection, and the worker's metrics."""
