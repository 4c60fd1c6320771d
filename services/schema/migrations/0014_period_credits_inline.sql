-- Statements compute an organization's period credits themselves (a scalar subquery): Citus
-- cannot run a function that reads distributed tables inside a query routed to a shard.
DROP FUNCTION period_credits(text);
