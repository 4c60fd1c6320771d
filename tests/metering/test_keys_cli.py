"""`metering keys create|list|revoke` against a running server, with a platform admin key."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from devstack.ports import free_port
from tests.metering.conftest import start_server


@pytest.fixture(scope="module")
def server(database_url: str) -> Iterator[tuple[str, str]]:
    """(gRPC address, HTTP base URL) of a server of its own."""
    http = f"127.0.0.1:{free_port()}"
    addr, proc = start_server(database_url, METERING_HTTP_ADDR=http, METERING_NOTIFY_SECONDS="86400")
    yield addr, f"http://{http}"
    proc.terminate()
    proc.wait(timeout=15)


def keys(addr: str, *args: str, api_key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERING_")}
    env.update(METERING_GRPC_ADDR=addr, METERING_DEV_HOME="/nonexistent-metering-dev-home")
    if api_key is not None:
        env["METERING_API_KEY"] = api_key
    return subprocess.run([sys.executable, "-m", "services.app.cli", "keys", *args], env=env,
                          capture_output=True, text=True, timeout=60)


def status(base: str, path: str, token: str) -> int:
    request = urllib.request.Request(f"{base}{path}", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
async def org(make_org) -> str:  # type: ignore[no-untyped-def]
    return str(await make_org())


def test_a_created_key_works_for_its_role_is_listed_without_its_secret_and_stops_when_revoked(
        server: tuple[str, str], platform_key: str, org: str) -> None:
    addr, base = server
    made = keys(addr, "create", "--org", org, "--role", "tenant-admin", "--name", "ops laptop",
                api_key=platform_key)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    token = lines[-1]
    key_id = lines[0].split()[1].rstrip(":")
    assert token.startswith("mk_") and key_id in token
    assert f"tenant-admin of {org}, 'ops laptop'" in lines[0]
    # A tenant admin may read its costs; the token is a working key of the organization.
    assert status(base, "/api/v1/usage/costs", token) == 200
    assert status(base, "/api/v1/usage/costs?org_id=org-someone-else", token) == 403

    billing = keys(addr, "create", "--org", org, "--role", "billing-contact", api_key=platform_key)
    assert billing.returncode == 0, billing.stderr
    assert status(base, "/api/v1/billing/invoices", billing.stdout.strip().splitlines()[-1]) == 200

    listed = keys(addr, "list", "--org", org, api_key=platform_key)
    assert listed.returncode == 0, listed.stderr
    assert key_id in listed.stdout and "tenant-admin" in listed.stdout and "billing-contact" in listed.stdout
    assert token not in listed.stdout and token.split("_", 2)[-1] not in listed.stdout  # mk_<id>_<secret>

    revoked = keys(addr, "revoke", key_id, "--org", org, api_key=platform_key)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked {key_id}" in revoked.stdout
    assert status(base, "/api/v1/usage/costs", token) == 401
    assert "revoked" in keys(addr, "list", "--org", org, api_key=platform_key).stdout


def test_keys_refuse_a_bad_role_a_tenant_key_and_a_missing_key(
        server: tuple[str, str], platform_key: str, org: str) -> None:
    addr, _ = server
    bad = keys(addr, "create", "--org", org, "--role", "owner", api_key=platform_key)
    assert bad.returncode == 2 and "--role must be one of platform-admin" in bad.stderr
    missing = keys(addr, "list", "--org", org, api_key=None)
    assert missing.returncode == 2 and "a platform admin key is needed" in missing.stderr
    tenant = keys(addr, "create", "--org", org, "--role", "service", api_key=platform_key)
    tenant_token = tenant.stdout.strip().splitlines()[-1]
    refused = keys(addr, "create", "--org", org, "--role", "tenant-admin", api_key=tenant_token)
    assert refused.returncode == 1 and "PERMISSION_DENIED" in refused.stderr
    unknown = keys(addr, "create", "--org", "org-nobody-here", "--role", "service", api_key=platform_key)
    assert unknown.returncode == 1 and "NOT_FOUND" in unknown.stderr
