-- Reporting: the resources of the usage API that had no meter yet (so quotas and alerts can be set
-- on them), usage exports (streamed into chunks, so any replica can serve a download), and
-- the metering API's own request metrics (kept here so they survive restarts).

INSERT INTO meters (meter, unit, description) VALUES
    ('databases',      'databases', 'Database instances'),
    ('namespaces',     'namespaces', 'Compute namespaces'),
    ('nfs_shares',     'shares',    'NFS shares'),
    ('kafka_clusters', 'clusters',  'Kafka clusters'),
    ('vault_secrets',  'secrets',   'Vault secrets'),
    ('vpcs',           'vpcs',      'Virtual private clouds'),
    ('backups_gb',     'GB',        'Backup storage')
ON CONFLICT (meter) DO NOTHING;

CREATE INDEX IF NOT EXISTS usage_events_by_time ON usage_events (org_id, occurred_at);

CREATE TABLE usage_exports (
    org_id         text NOT NULL REFERENCES organizations,
    export_id      text NOT NULL,
    status         text NOT NULL CHECK (status IN ('processing', 'completed', 'failed')),
    format         text NOT NULL CHECK (format IN ('csv', 'json')),
    meters         text[] NOT NULL,                 -- empty: every meter
    range_from     timestamptz NOT NULL,
    range_to       timestamptz NOT NULL,
    requested_by   text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    expires_at     timestamptz NOT NULL,
    -- Failed runs; the replica running an export holds its row lock for the whole run, so a
    -- crashed run rolls back and another replica takes the export over.
    attempts       integer NOT NULL DEFAULT 0,
    row_count      bigint NOT NULL DEFAULT 0,
    size_bytes     bigint NOT NULL DEFAULT 0,
    completed_at   timestamptz,
    error          text,
    PRIMARY KEY (org_id, export_id)
);
CREATE INDEX usage_exports_to_run ON usage_exports (created_at) WHERE status = 'processing';
CREATE INDEX usage_exports_by_expiry ON usage_exports (expires_at);

CREATE TABLE usage_export_chunks (
    org_id    text NOT NULL,
    export_id text NOT NULL,
    seq       integer NOT NULL,
    data      bytea NOT NULL,
    PRIMARY KEY (org_id, export_id, seq),
    FOREIGN KEY (org_id, export_id) REFERENCES usage_exports ON DELETE CASCADE
);

-- Calls of the metering API (HTTP and reporting RPCs) per organization, day and surface.
CREATE TABLE api_request_metrics (
    org_id         text NOT NULL REFERENCES organizations,
    day            date NOT NULL,
    surface        text NOT NULL CHECK (surface IN ('http', 'grpc')),
    requests       bigint NOT NULL,
    latency_ms_sum numeric NOT NULL,
    PRIMARY KEY (org_id, day, surface)
);
