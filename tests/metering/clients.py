"""gRPC clients that present an API key, as callers of the metering server do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc


def _with_key(details: Any, key: str) -> Any:
    metadata = [*(details.metadata or ()), ("authorization", f"Bearer {key}")]
    return (
        details._replace(metadata=metadata) if hasattr(details, "_replace") else _Details(details, metadata)
    )


class _Details(grpc.ClientCallDetails):  # type: ignore[misc]
    def __init__(self, base: Any, metadata: list[tuple[str, str]]) -> None:
        self.method = base.method
        self.timeout = base.timeout
        self.metadata = metadata
        self.credentials = base.credentials
        self.wait_for_ready = getattr(base, "wait_for_ready", None)
        self.compression = getattr(base, "compression", None)


class AioBearer(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, key: str) -> None:
        self.key = key

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(
            grpc.aio.ClientCallDetails(
                details.method,
                details.timeout,
                [*(details.metadata or ()), ("authorization", f"Bearer {self.key}")],
                details.credentials,
                details.wait_for_ready,
            ),
            request,
        )


class SyncBearer(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, key: str) -> None:
        self.key = key

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(_with_key(details, self.key), request)


def aio_channel(addr: str, key: str | None) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(addr, interceptors=[AioBearer(key)] if key else None)


def sync_channel(addr: str, key: str | None) -> grpc.Channel:
    channel = grpc.insecure_channel(addr)
    return grpc.intercept_channel(channel, SyncBearer(key)) if key else channel
