-- The metering server replicas that apply credit operations for the organizations they own
-- (services/metering/service/replicas.py): each live replica refreshes its heartbeat, and every
-- replica reads the live ones to agree on each organization's owner.
CREATE TABLE ledger_replicas (
    address      text PRIMARY KEY,  -- host:port where the other replicas reach its gRPC server
    heartbeat_at timestamptz NOT NULL
);
SELECT metering_distribute('ledger_replicas', 'reference');
