-- Statements compute what an organization is allowed themselves (services/metering/store/allowances.py):
-- Citus cannot run a function that reads distributed tables inside a query routed to a shard.
DROP FUNCTION period_credits(text);
-- Likewise the views of allowances and limits in force: statements pin them to their organization
-- (services/metering/store/allowances.py).
DROP VIEW org_meter_limits;
DROP VIEW allowances_in_force;
