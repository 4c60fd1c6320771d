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


def _aio_details(details: Any, key: str) -> Any:
    return grpc.aio.ClientCallDetails(
        details.method,
        details.timeout,
        [*(details.metadata or ()), ("authorization", f"Bearer {key}")],
        details.credentials,
        details.wait_for_ready,
    )


class AioBearer(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    def __init__(self, key: str) -> None:
        self.key = key

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: Any, request: Any
    ) -> Any:
        return await continuation(_aio_details(details, self.key), request)


class AioStreamBearer(grpc.aio.StreamStreamClientInterceptor):  # type: ignore[misc]
    """The key on bidirectional streams (grpc files each interceptor under one kind only)."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_aio_details(details, self.key), request_iterator)


class SyncBearer(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):  # type: ignore[misc]
    def __init__(self, key: str) -> None:
        self.key = key

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        return continuation(_with_key(details, self.key), request)

    def intercept_stream_stream(self, continuation: Callable[..., Any], details: Any,
                                request_iterator: Any) -> Any:
        return continuation(_with_key(details, self.key), request_iterator)


def aio_channel(addr: str, key: str | None) -> grpc.aio.Channel:
    interceptors = [AioBearer(key), AioStreamBearer(key)] if key else None
    return grpc.aio.insecure_channel(addr, interceptors=interceptors)


def sync_channel(addr: str, key: str | None) -> grpc.Channel:
    channel = grpc.insecure_channel(addr)
    return grpc.intercept_channel(channel, SyncBearer(key)) if key else channel
