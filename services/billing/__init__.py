"""The billing worker: per-second resource billing, hourly roll-ups, Stripe sync, invoices."""
