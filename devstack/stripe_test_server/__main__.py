"""`python -m devstack.stripe_test_server --addr 127.0.0.1:12111` (key from STRIPE_API_KEY)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys

from devstack.stripe_test_server.app import StripeTestServer


async def _serve(host: str, port: int, api_key: str) -> None:
    server = StripeTestServer(api_key)
    print(f"Stripe test server on {await server.start(host, port)}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--addr", default="127.0.0.1:12111")
    args = parser.parse_args()
    api_key = os.environ.get("STRIPE_API_KEY", "")
    if not api_key:
        print("stripe test server: STRIPE_API_KEY is not set (the key clients must present)", file=sys.stderr)
        return 2
    host, _, port = args.addr.rpartition(":")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(host, int(port), api_key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
