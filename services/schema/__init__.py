"""The database schema: versioned SQL migrations with their runner (`metering migrate`), the rules
that lay tables out for distribution by organization, and the Citus distribution
(`metering migrate --citus`).

A migration, whatever context its tables belong to, is `migrations/NNNN_<name>.sql` with the next
number (no gaps; a released file is never edited, a change is a new file). A table holding an
organization's data leads every key with `org_id`; any other table goes into
`distribution.REFERENCE_TABLES` with its reason. A migration that creates a table calls
`SELECT metering_distribute('<table>', 'tenant' | 'reference')` right after its CREATE TABLE and
before its foreign keys (a no-op on plain PostgreSQL). `tests/metering/test_distribution_rules.py`
and `tests/metering/test_migrations_and_cli.py` check all of this."""
