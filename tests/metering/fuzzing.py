"""Hypothesis strategies for any protobuf request, built from its descriptor.

Every field is either left unset or given a value: a plausible one (so a request gets past its
first field and the later fields are reached) or a hostile one (null bytes, control characters,
trailing newlines, Unicode digits, huge and negative numbers, year 1 and year 10000 timestamps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor as d
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from hypothesis import strategies as st

FUZZ_ORG = "fuzz-org"
YEAR_1 = -62_135_596_800  # 0001-01-01T00:00:00Z, Go's zero time.Time
YEAR_10000 = 253_402_300_800  # 10000-01-01T00:00:00Z
MAX_DEPTH = 3

PLAUSIBLE_TEXT = [
    FUZZ_ORG, "queries", "api_requests", "credits", "gpt-4o", "free", "pro", "fuzz-key-1", "1", "0.5",
    "12", "a@example.com", "https://example.com/hook", "7d", "current", "daily", "workspaces",
    "postgres", "api", "remote_address", "203.0.113.7", "ws-1", "user-1",
]
HOSTILE_TEXT = [
    "", " ", "a\x00b", "\x00", "demo\n", "fuzz-org\n", "1\n", "\t", "\x7f", "\x85",
    "\uff11\uff12", "\u0661\u0662", "\u0663.\u0665",
    "-1", "-0.5", "+1", "1e400", "NaN", "Infinity", "1.2.3", "9" * 400, "0." + "1" * 40, "x" * 5000,
    "naïve", "🙂", "' OR 1=1 --", "%s", "../../etc/passwd",
]
SEPARATORS = st.sampled_from(["", "\x00", "\n", "\r\n", "\u2028", " "])

_INT_RANGES = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


HINTS: tuple[tuple[str, list[str]], ...] = (
    ("org_id", [FUZZ_ORG]),
    ("email", ["a@example.com"]),
    ("url", ["https://example.com/hook"]),
    ("model", ["gpt-4o"]),
    ("plan_id", ["free", "pro"]),
    ("meter", ["queries", "api_requests"]),
    ("resource", ["queries", "credits"]),
    ("resource_type", ["queries", "storage"]),
    ("domain", ["api"]),
    ("amount", ["1", "0.5"]),
    ("quantity", ["1", "2.5"]),
    ("tokens", ["10"]),
    ("_usd", ["1", "0.25"]),
    ("_per_mtok", ["2.5"]),
    ("credits_per_usd", ["100"]),
    ("limit", ["100"]),
    ("secret", ["0123456789abcdef0123"]),
)


def plausible_strings(name: str) -> st.SearchStrategy[str]:
    """A value a real caller would send in a field of this name."""
    for suffix, values in HINTS:
        if name.endswith(suffix):
            return st.sampled_from(values)
    return st.one_of(st.sampled_from(PLAUSIBLE_TEXT), st.from_regex(r"\A[a-z][a-z0-9-]{0,12}\Z"))


def hostile_strings(name: str) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.tuples(plausible_strings(name), SEPARATORS, st.sampled_from(["", "x", "\x00"])).map("".join),
        st.text(max_size=80),
    )


def integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (0, 1, -1, 2, 24, 25, 60, 1000, 1001, 86_401, low, high, low + 1, high - 1)
             if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def timestamps(cls: type[Message], hostile: bool) -> st.SearchStrategy[Message]:
    now = int(time.time())
    if hostile:
        seconds = st.one_of(st.sampled_from([YEAR_1, YEAR_10000, YEAR_10000 - 1, -1, 0, now + 10**8]),
                            st.integers(YEAR_1, YEAR_10000 - 1))
        nanos = st.sampled_from([0, 1, 999_999_999, -1, 1_000_000_000])
    else:
        seconds = st.sampled_from([now - 3600, now - 86_400 * 2, now + 86_400 * 30])
        nanos = st.just(0)
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def durations(cls: type[Message], hostile: bool) -> st.SearchStrategy[Message]:
    seconds = integers(-315_576_000_000, 315_576_000_000) if hostile else st.sampled_from([1, 60])
    nanos = st.sampled_from([0, 1, 999_999_999, -1]) if hostile else st.just(0)
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def value(field: d.FieldDescriptor, hostile: bool) -> st.SearchStrategy[Any]:
    """One scalar (or message) value of a field: plausible, or hostile."""
    kind = field.type
    if kind == d.FieldDescriptor.TYPE_STRING:
        return hostile_strings(field.name) if hostile else plausible_strings(field.name)
    if kind == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if kind == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if kind in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=hostile, allow_infinity=hostile, width=32)
    if kind == d.FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values if v.number]
        return st.sampled_from([0, max(known) + 1, 999, -1]) if hostile else st.sampled_from(known)
    if kind in _INT_RANGES:
        return integers(*_INT_RANGES[kind]) if hostile else st.sampled_from([1, 10, 60])
    return messages(field.message_type, hostile=hostile)


def messages(descriptor: d.Descriptor, depth: int = 0, hostile: bool = True) -> st.SearchStrategy[Any]:
    """A message with any subset of its fields set: every value hostile-or-plausible when hostile,
    else plausible only."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return timestamps(cls, hostile)
    if descriptor.full_name == "google.protobuf.Duration":
        return durations(cls, hostile)
    if depth > MAX_DEPTH:
        return st.just(cls())

    def either(f: d.FieldDescriptor) -> st.SearchStrategy[Any]:
        plausible = _shaped(f, lambda g: _nested(g, depth, False))
        if not hostile:
            return plausible
        return st.none() | plausible | _shaped(f, lambda g: _nested(g, depth, True))

    return st.fixed_dictionaries({f.name: either(f) for f in descriptor.fields}).map(
        lambda drawn: _build(cls, drawn))


def one_bad_field(descriptor: d.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """A plausible message with exactly one field (perhaps nested) hostile: the request gets past
    every other check, so that field's own check is what answers."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name in ("google.protobuf.Timestamp", "google.protobuf.Duration") or depth > MAX_DEPTH:
        return messages(descriptor, depth, hostile=True)
    fields = list(descriptor.fields)
    if not fields:
        return st.just(cls())

    def with_bad(bad: d.FieldDescriptor) -> st.SearchStrategy[Any]:
        drawn = {f.name: _mostly(_shaped(f, lambda g: _nested(g, depth, False)))
                 for f in fields if f is not bad}
        if bad.message_type is not None and not bad.message_type.GetOptions().map_entry:
            drawn[bad.name] = _shaped(bad, lambda g: one_bad_field(g.message_type, depth + 1))
        else:
            drawn[bad.name] = _shaped(bad, lambda g: _nested(g, depth, True))
        return st.fixed_dictionaries(drawn).map(lambda values: _build(cls, values))

    return st.sampled_from(fields).flatmap(with_bad)


def _mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Set three times in four: optional fields and the other arm of a oneof are left out too."""
    return st.one_of(strategy, strategy, strategy, st.none())


def requests(descriptor: d.Descriptor) -> st.SearchStrategy[Any]:
    return st.one_of(one_bad_field(descriptor), messages(descriptor))


def _nested(field: d.FieldDescriptor, depth: int, hostile: bool) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.full_name.startswith("google.protobuf."):
        return value(field, hostile)
    if field.message_type is not None:
        return messages(field.message_type, depth + 1, hostile)
    return value(field, hostile)


def _shaped(field: d.FieldDescriptor,
            element: Callable[[d.FieldDescriptor], st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Map fields as dicts, repeated fields as lists (of 1-3), others as one element."""
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, val = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(element(key), element(val), min_size=1, max_size=3)
    if field.is_repeated:
        return st.lists(element(field), min_size=1, max_size=3)
    return element(field)


def _build(cls: type[Message], drawn: dict[str, Any]) -> Message:
    message = cls()
    for name, value in drawn.items():
        if value is None:
            continue
        field = cls.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name) if field.is_repeated else None
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, Message):
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif isinstance(value, list):
            if field.message_type is not None:
                for item in value:
                    target.add().CopyFrom(item)
            else:
                target.extend(value)
        elif isinstance(value, Message):
            getattr(message, name).CopyFrom(value)
        else:
            setattr(message, name, value)
    return message


def field_names(descriptor: d.Descriptor) -> set[str]:
    return {f.name for f in descriptor.fields}
