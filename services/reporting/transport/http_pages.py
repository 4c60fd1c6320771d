"""The product pages besides the admin one: the credit usage page at /dashboard/usage and the
billing & invoicing page at /dashboard/billing. Static files; each reads /api/v1 with the
visitor's key, under the same Content-Security-Policy as the dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web

PAGES = {"usage": "usage.html", "billing": "billing.html"}


def add_pages(app: web.Application, folder: Path, headers: dict[str, str]) -> None:
    for name, file in PAGES.items():
        app.router.add_get(f"/dashboard/{name}", _page(folder / file, headers))


def _page(path: Path, headers: dict[str, str]) -> Callable[[web.Request], Awaitable[web.FileResponse]]:
    async def serve(_: web.Request) -> web.FileResponse:
        return web.FileResponse(path, headers=headers)

    return serve
