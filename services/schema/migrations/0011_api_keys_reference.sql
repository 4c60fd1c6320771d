-- api_keys is a reference table (looked up by key_id before the tenant is known; platform keys have
-- no organization). A reference table may not point at a table distributed by org_id, so the
-- organization of a tenant key is checked when the key is created instead (organizations are
-- never deleted).
ALTER TABLE api_keys DROP CONSTRAINT api_keys_org_id_fkey;
