"""The naive ceiling's statement: one autocommit `UPDATE` of one hot balance row per deduction,
bound by WAL flushes and the row lock. The raw phase sends it from 32 connections
(bench.metering_raw), and the floor server after an echo call (bench.grpc_floor)."""

HOT_UPDATE = """
UPDATE balances SET bonus_remaining = bonus_remaining - 1
WHERE org_id = $1 AND bonus_remaining >= 1"""
