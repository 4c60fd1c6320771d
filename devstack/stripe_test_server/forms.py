"""Stripe's form encoding: `payload[value]=5`, `metadata[org_id]=x`, `types[]=card`, `types[0]=card`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

_PART = re.compile(r"\[([^\]]*)\]")


class FormError(ValueError):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


def decode(body: str) -> dict[str, Any]:
    """Nested dicts and lists from an application/x-www-form-urlencoded body or query string."""
    out: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True, strict_parsing=False):
        head, _, rest = key.partition("[")
        parts = [head, *_PART.findall("[" + rest)] if rest else [head]
        _put(out, parts, value, key)
    return _lists(out)


def _put(node: dict[str, Any], parts: list[str], value: str, key: str) -> None:
    for i, part in enumerate(parts[:-1]):
        child = node.setdefault(part if part else str(len(node)), {})
        if not isinstance(child, dict):
            raise FormError(key, f"Invalid parameter: {key} mixes a value and a hash")
        node = child
        _ = i
    last = parts[-1]
    node[last if last else str(len(node))] = value


def _lists(node: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(node.items()):
        if isinstance(value, dict):
            value = _lists(value)
            node[key] = [value[k] for k in sorted(value, key=int)] if value and all(
                k.isdigit() for k in value) else value
    return node
