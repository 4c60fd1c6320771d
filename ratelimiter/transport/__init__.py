"""The sidecar's front doors: ratelimiter.v1 and Envoy's RateLimitService over gRPC, the HTTP
check endpoint with its response headers, each mapping messages to the decision function's types."""
