"""Metering: usage events, the credit book (deductions, holds, grants), quotas, spend caps,
alerts and API keys, served as metering.v1 MeteringService and MeteringAdminService. Shaped like
every context: `domain` (pure) -> `store` (SQL) -> `service` (units of work, batchers) ->
`transport` (gRPC servicers, request validation, the authenticating guard)."""
