"""Maps domain and store failures to gRPC status codes, with a google.rpc.BadRequest detail."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.kit.database import DATABASE_UNREACHABLE
from services.kit.errors import FieldError, RetryLater

STATUS_CODES = {
    "INVALID_ARGUMENT": grpc.StatusCode.INVALID_ARGUMENT,
    "NOT_FOUND": grpc.StatusCode.NOT_FOUND,
    "RESOURCE_EXHAUSTED": grpc.StatusCode.RESOURCE_EXHAUSTED,
    "FAILED_PRECONDITION": grpc.StatusCode.FAILED_PRECONDITION,
}

log = logging.getLogger(__name__)

Request = TypeVar("Request")
Response = TypeVar("Response")
Handler = Callable[[Any, Request, grpc.aio.ServicerContext[Any, Any]], Awaitable[Response]]

# Failures of the database connection, not of the request: the caller retries with the same key.
UNAVAILABLE_ERRORS = DATABASE_UNREACHABLE


async def abort_with_field_error(context: grpc.aio.ServicerContext[Any, Any], error: FieldError) -> None:
    code = STATUS_CODES[error.code]
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.BadRequest(
        field_violations=[error_details_pb2.BadRequest.FieldViolation(field=error.field,
                                                                       description=error.reason)]
    ))
    status = rpc_status.to_status(status_pb2.Status(code=code.value[0], message=str(error), details=[detail]))
    await context.abort(code, str(error), status.trailing_metadata)


def rpc(handler: Handler[Request, Response]) -> Handler[Request, Response]:
    """Wraps a servicer method: field errors and database outages become proper status codes."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Request, context: grpc.aio.ServicerContext[Any, Any]) -> Response:
        try:
            return await handler(self, request, context)
        except FieldError as error:
            await abort_with_field_error(context, error)
        except RetryLater as error:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(error))
        except UNAVAILABLE_ERRORS as error:
            log.warning("database unavailable in %s: %s", handler.__name__, type(error).__name__)
            await context.abort(grpc.StatusCode.UNAVAILABLE,
                                "database unavailable; retry with the same idempotency key")
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("internal error in %s", handler.__name__)
            await context.abort(grpc.StatusCode.INTERNAL,
                                "internal error; retry with the same idempotency key")
        raise AssertionError("unreachable: context.abort raises")

    return wrapper
