"""gRPC transport of billing: the ResourceService and BillingService servicers with their request
validation and response mapping, their registration on the metering server, and the billing
worker's health service."""
