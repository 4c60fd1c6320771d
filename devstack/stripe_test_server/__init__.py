"""A Stripe-compatible test server: the endpoints the billing worker and services call, validated
as Stripe's API reference describes them, with fault injection. Used by the tests and by
`metering dev`; the worker talks to it exactly as it talks to Stripe (STRIPE_API_BASE)."""

from devstack.stripe_test_server.app import StripeTestServer

__all__ = ["StripeTestServer"]
