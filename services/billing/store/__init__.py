"""SQL of the billing worker and services (named statements; asyncpg)."""
