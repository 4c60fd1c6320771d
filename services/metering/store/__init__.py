"""Metering's SQL: named statements and the functions that run them on a connection they are given
(organizations, tenancy, catalogue and prices, usage, the credit ledger and books, quotas, alerts,
API keys). Imports only the domain and the kit."""
