"""Workspace groups, workspaces and users of an organization (usage is broken down by all three)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

INSERT_GROUP = """
INSERT INTO workspace_groups (org_id, group_id, name) VALUES ($1, $2, $3)
ON CONFLICT (org_id, group_id) DO NOTHING
RETURNING org_id, group_id, name"""
SELECT_GROUPS = "SELECT org_id, group_id, name FROM workspace_groups WHERE org_id = $1 ORDER BY group_id"
SELECT_GROUP = "SELECT 1 FROM workspace_groups WHERE org_id = $1 AND group_id = $2"

INSERT_WORKSPACE = """
INSERT INTO workspaces (org_id, workspace_id, name, group_id) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, workspace_id) DO NOTHING
RETURNING org_id, workspace_id, name, group_id"""
UPDATE_WORKSPACE = """
UPDATE workspaces SET name = coalesce($3, name), group_id = $4
WHERE org_id = $1 AND workspace_id = $2
RETURNING org_id, workspace_id, name, group_id"""
SELECT_WORKSPACES = """
SELECT org_id, workspace_id, name, group_id FROM workspaces WHERE org_id = $1 ORDER BY workspace_id"""

INSERT_USER = """
INSERT INTO users (org_id, user_id, email, name) VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, user_id) DO NOTHING
RETURNING org_id, user_id, email, name"""
SELECT_USERS = "SELECT org_id, user_id, email, name FROM users WHERE org_id = $1 ORDER BY user_id"


@dataclass(frozen=True)
class WorkspaceGroup:
    org_id: str
    group_id: str
    name: str


@dataclass(frozen=True)
class Workspace:
    org_id: str
    workspace_id: str
    name: str
    group_id: str | None


@dataclass(frozen=True)
class User:
    org_id: str
    user_id: str
    email: str
    name: str


async def insert_group(conn: asyncpg.Connection, org_id: str, group_id: str,
                       name: str) -> WorkspaceGroup | None:
    """The new group; None when the organization has one with this id already."""
    row = await conn.fetchrow(INSERT_GROUP, org_id, group_id, name)
    return None if row is None else WorkspaceGroup(**dict(row))


async def list_groups(conn: asyncpg.Connection, org_id: str) -> list[WorkspaceGroup]:
    return [WorkspaceGroup(**dict(row)) for row in await conn.fetch(SELECT_GROUPS, org_id)]


async def group_exists(conn: asyncpg.Connection, org_id: str, group_id: str) -> bool:
    return await conn.fetchval(SELECT_GROUP, org_id, group_id) is not None


async def insert_workspace(conn: asyncpg.Connection, org_id: str, workspace_id: str, name: str,
                           group_id: str | None) -> Workspace | None:
    """The new workspace; None when the organization has one with this id already."""
    row = await conn.fetchrow(INSERT_WORKSPACE, org_id, workspace_id, name, group_id)
    return None if row is None else Workspace(**dict(row))


async def update_workspace(conn: asyncpg.Connection, org_id: str, workspace_id: str, name: str | None,
                           group_id: str | None) -> Workspace | None:
    """The workspace renamed or regrouped; None when it does not exist."""
    row = await conn.fetchrow(UPDATE_WORKSPACE, org_id, workspace_id, name, group_id)
    return None if row is None else Workspace(**dict(row))


async def list_workspaces(conn: asyncpg.Connection, org_id: str) -> list[Workspace]:
    return [Workspace(**dict(row)) for row in await conn.fetch(SELECT_WORKSPACES, org_id)]


async def insert_user(conn: asyncpg.Connection, org_id: str, user_id: str, email: str,
                      name: str) -> User | None:
    """The new user; None when the organization has one with this id already."""
    row = await conn.fetchrow(INSERT_USER, org_id, user_id, email, name)
    return None if row is None else User(**dict(row))


async def list_users(conn: asyncpg.Connection, org_id: str) -> list[User]:
    return [User(**dict(row)) for row in await conn.fetch(SELECT_USERS, org_id)]
