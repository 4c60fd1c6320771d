"""Shared plumbing every context may use, and which imports no context: configuration errors and
environment readers, the one input-validation layer (`inputs`), the authenticated caller
(`caller`), field errors and their gRPC status codes (`errors`, `grpc_status`), decimals, domain
<-> protobuf conversions (`wire`), database-outage handling, the one periodic job loop
(`periodic`) and observability (logs, traces, metrics, gRPC server defaults)."""
