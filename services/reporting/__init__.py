"""Usage reporting: the figures of the usage and billing pages, over gRPC, HTTP/JSON and the dashboard.

Shaped like every context: `domain` (pure: catalogue, periods, figures, advice, billed resources,
costs, results) -> `store` (SQL reads, the rate-limiter sidecar's counts) -> `service` (reports,
usage exports, API request metrics, invoices: what the transports call) -> `transport` (gRPC
servicer, HTTP API, OpenAPI, dashboard assets). `services.app.reporting` wires it into
`metering serve`.
"""
