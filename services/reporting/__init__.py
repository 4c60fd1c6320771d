"""Usage reporting: the figures of the usage and billing pages, over gRPC, HTTP/JSON and the dashboard.

Layers, each importing only the ones before it: `catalogue`, `periods`, `figures`, `advice`,
`billed`, `results`, `costs` (pure) → `store`, `billing` (SQL, and the billing worker's store
functions) → `reports`, `exports`, `api_metrics`, `rate_limits` (what transports call) →
`transport` (gRPC servicer, HTTP API, OpenAPI, dashboard assets) → `runtime` (wiring in
`metering serve`).
"""
