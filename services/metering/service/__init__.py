"""What metering's transports call: the metering service (batchers, caches, units of work over the
store), alert delivery (in-app, email, webhooks) and the service's metrics."""
