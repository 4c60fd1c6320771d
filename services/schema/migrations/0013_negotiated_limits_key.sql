-- A foreign key that includes the distribution column may not cascade updates on Citus, and
-- nothing updates an allowance's key: negotiated limits follow their allowance on delete only.
ALTER TABLE negotiated_limits DROP CONSTRAINT negotiated_limits_org_id_effective_from_fkey;
ALTER TABLE negotiated_limits
    ADD CONSTRAINT negotiated_limits_org_id_effective_from_fkey
    FOREIGN KEY (org_id, effective_from) REFERENCES negotiated_allowances ON DELETE CASCADE;
