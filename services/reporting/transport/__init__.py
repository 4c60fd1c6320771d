"""Transports of the reports: the gRPC ReportingService and the HTTP/JSON API with the dashboard."""
