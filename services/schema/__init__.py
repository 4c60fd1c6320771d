"""The database schema: versioned SQL migrations with their runner (`metering migrate`) and the
rules that lay tables out for distribution by organization (Citus)."""
