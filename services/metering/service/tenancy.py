"""Workspace groups, workspaces and users of an organization: each write checked (the
organization and the group exist, the id is new) in the caller's connection before it is stored;
`Tenancy` runs each as one unit of work for the admin API."""

from __future__ import annotations

import asyncpg

from services.kit.errors import FieldError, NotFoundError
from services.kit.unit_of_work import unit_of_work
from services.metering.service.organizations import require_organization
from services.metering.store import tenancy
from services.metering.store.tenancy import User, Workspace, WorkspaceGroup


async def create_group(conn: asyncpg.Connection, org_id: str, group_id: str, name: str) -> WorkspaceGroup:
    await require_organization(conn, org_id)
    row = await tenancy.insert_group(conn, org_id, group_id, name)
    if row is None:
        raise FieldError("group_id", f"workspace group {group_id!r} already exists")
    return row


async def list_groups(conn: asyncpg.Connection, org_id: str) -> list[WorkspaceGroup]:
    await require_organization(conn, org_id)
    return await tenancy.list_groups(conn, org_id)


async def create_workspace(conn: asyncpg.Connection, org_id: str, workspace_id: str, name: str,
                           group_id: str | None) -> Workspace:
    await require_organization(conn, org_id)
    await _require_group(conn, org_id, group_id)
    row = await tenancy.insert_workspace(conn, org_id, workspace_id, name, group_id)
    if row is None:
        raise FieldError("workspace_id", f"workspace {workspace_id!r} already exists")
    return row


async def update_workspace(conn: asyncpg.Connection, org_id: str, workspace_id: str, name: str | None,
                           group_id: str | None) -> Workspace:
    await _require_group(conn, org_id, group_id)
    row = await tenancy.update_workspace(conn, org_id, workspace_id, name, group_id)
    if row is None:
        raise NotFoundError("workspace_id", f"workspace {workspace_id!r} does not exist")
    return row


async def list_workspaces(conn: asyncpg.Connection, org_id: str) -> list[Workspace]:
    await require_organization(conn, org_id)
    return await tenancy.list_workspaces(conn, org_id)


async def create_user(conn: asyncpg.Connection, org_id: str, user_id: str, email: str,
                      name: str) -> User:
    await require_organization(conn, org_id)
    row = await tenancy.insert_user(conn, org_id, user_id, email, name)
    if row is None:
        raise FieldError("user_id", f"user {user_id!r} already exists")
    return row


async def list_users(conn: asyncpg.Connection, org_id: str) -> list[User]:
    await require_organization(conn, org_id)
    return await tenancy.list_users(conn, org_id)


async def _require_group(conn: asyncpg.Connection, org_id: str, group_id: str | None) -> None:
    if group_id is not None and not await tenancy.group_exists(conn, org_id, group_id):
        raise NotFoundError("group_id", f"workspace group {group_id!r} does not exist")


class Tenancy:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create_group(self, org_id: str, group_id: str, name: str) -> WorkspaceGroup:
        async with unit_of_work(self.pool) as conn:
            return await create_group(conn, org_id, group_id, name)

    async def groups(self, org_id: str) -> list[WorkspaceGroup]:
        async with self.pool.acquire() as conn:
            return await list_groups(conn, org_id)

    async def create_workspace(self, org_id: str, workspace_id: str, name: str,
                               group_id: str | None) -> Workspace:
        async with unit_of_work(self.pool) as conn:
            return await create_workspace(conn, org_id, workspace_id, name, group_id)

    async def update_workspace(self, org_id: str, workspace_id: str, name: str | None,
                               group_id: str | None) -> Workspace:
        async with unit_of_work(self.pool) as conn:
            return await update_workspace(conn, org_id, workspace_id, name, group_id)

    async def workspaces(self, org_id: str) -> list[Workspace]:
        async with self.pool.acquire() as conn:
            return await list_workspaces(conn, org_id)

    async def create_user(self, org_id: str, user_id: str, email: str, name: str) -> User:
        async with unit_of_work(self.pool) as conn:
            return await create_user(conn, org_id, user_id, email, name)

    async def users(self, org_id: str) -> list[User]:
        async with self.pool.acquire() as conn:
            return await list_users(conn, org_id)
