"""Transports of the reports: the gRPC ReportingService and the HTTP/JSON API with its OpenAPI
document and the dashboard, each validating its input and mapping the service's results."""
