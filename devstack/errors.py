"""The one kind of failure `metering dev` reports: a single line for the person at the terminal."""

from __future__ import annotations


class DevError(RuntimeError):
    """Something the developer can act on; the message is one line, without a traceback."""
