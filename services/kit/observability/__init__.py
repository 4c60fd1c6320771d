"""Observability shared by every process: structured JSON logs with the request id,
OpenTelemetry traces and metrics, outbox lag, and what every gRPC server carries (health,
reflection, a span per RPC)."""
