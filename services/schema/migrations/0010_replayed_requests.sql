-- What a Reserve asked and answered, kept on its hold so a retry with the same key returns the
-- original answer and a retry with different parameters is refused. NULL on holds stored before
-- these were kept: their retries are answered from the hold alone, without comparison.
ALTER TABLE holds
    ADD COLUMN model             text,
    ADD COLUMN tokens            jsonb,
    ADD COLUMN denial_reason     text,
    ADD COLUMN monthly_remaining numeric,
    ADD COLUMN bonus_remaining   numeric,
    ADD COLUMN reserved          numeric;

-- A bonus grant may carry an idempotency key: a retry with it returns the grant it made, and the
-- same key with a different amount, source or expiry is refused. Grants without a key are as before.
ALTER TABLE credit_grants ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX credit_grants_by_key ON credit_grants (org_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
