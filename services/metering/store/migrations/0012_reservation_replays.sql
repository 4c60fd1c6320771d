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
