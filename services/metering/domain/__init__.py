"""Pure metering logic and values, no I/O: credits and their arithmetic, pricing, billing periods,
quota states and projections, alerts, usage limits and aggregations, the values the store reads
back, API keys and the access rules (which role may call which RPC)."""
