"""Who is calling: the authenticated principal of the current request, for every transport.

The guard in front of the gRPC services and the HTTP API authenticate a bearer API key into a
Principal; the gRPC guard sets CALLER for the duration of the call, so a servicer can tell who
asked (e.g. to record who requested a plan change) without threading it through every call.
"""

from __future__ import annotations

import contextvars
import enum
from dataclasses import dataclass


class Role(enum.Enum):
    PLATFORM_ADMIN = "platform_admin"
    TENANT_ADMIN = "tenant_admin"
    BILLING_CONTACT = "billing_contact"
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    key_id: str
    role: Role
    org_id: str | None  # None for platform admins

    def may_act_for(self, org_id: str) -> bool:
        return self.role is Role.PLATFORM_ADMIN or self.org_id == org_id


CALLER: contextvars.ContextVar[Principal] = contextvars.ContextVar("metering_caller")
