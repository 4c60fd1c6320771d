"""The rate-limiter sidecar: token buckets in Redis behind gRPC, Envoy's rate-limit service and
HTTP. Cut config (limits from YAML, settings from the environment) -> limiter (the decision
function) -> store (Redis), with protobuf and HTTP kept to `transport`. Imports nothing of
`services` but the kit."""
