"""Billing: per-second resource billing, hourly roll-ups, the Stripe sync, invoices, payment
methods and the subscription statement, served as metering.v1 ResourceService and BillingService
and run by the billing worker. Shaped like every context: `domain` (pure) -> `store` (SQL, the
Stripe gateway) -> `service` (the outbox pusher, the worker's jobs, payments) -> `transport`
(gRPC servicers, the worker's health service); `config` holds the worker's and Stripe's settings."""
