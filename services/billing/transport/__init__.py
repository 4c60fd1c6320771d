"""gRPC transport of the billing services (ResourceService, BillingService)."""
