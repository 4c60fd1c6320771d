"""An organization's billing statement (its subscription, the period's lines so far) and its
invoices, read for the gRPC and HTTP APIs."""

from __future__ import annotations

import asyncpg

from services.billing.domain.invoices import InvoiceRecord
from services.billing.store import invoices, statement
from services.billing.store.statement import Statement
from services.metering.service.organizations import require_organization, unknown_organization


class Statements:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def statement(self, org_id: str) -> Statement:
        async with self.pool.acquire() as conn:
            figures = await statement.statement(conn, org_id)
        if figures is None:
            raise unknown_organization(org_id)
        return figures

    async def invoices(self, org_id: str) -> list[InvoiceRecord]:
        """Newest period first."""
        async with self.pool.acquire() as conn:
            await require_organization(conn, org_id)
            return await invoices.list_invoices(conn, org_id)
