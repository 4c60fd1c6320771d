"""Hypothesis strategies for any protobuf request, built from its descriptor.

Every field is either left unset or given a value: a plausible one (so a request gets past its
first field and the later fields are reached) or a hostile one (null bytes, control characters,
trailing newlines, Unicode digits, huge and negative numbers, year 1 and year 10000 timestamps).
"""

from __future__ import annotations

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


def strings() -> st.SearchStrategy[str]:
    plausible = st.sampled_from(PLAUSIBLE_TEXT)
    return st.one_of(
        plausible,
        st.sampled_from(HOSTILE_TEXT),
        st.tuples(plausible, SEPARATORS, st.sampled_from(["", "x", "\x00"])).map("".join),
        st.text(max_size=80),
    )


def integers(low: int, high: int) -> st.SearchStrategy[int]:
    edges = [v for v in (0, 1, -1, 2, 24, 25, 60, 1000, 1001, 86_401, low, high, low + 1, high - 1)
             if low <= v <= high]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def timestamps(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = st.one_of(
        st.sampled_from([YEAR_1, YEAR_10000, YEAR_10000 - 1, -1, 0, 1_700_000_000, 2_000_000_000]),
        st.integers(YEAR_1, YEAR_10000 - 1),
    )
    nanos = st.sampled_from([0, 0, 1, 999_999_999, -1, 1_000_000_000])
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def durations(cls: type[Message]) -> st.SearchStrategy[Message]:
    seconds = integers(-315_576_000_000, 315_576_000_000)
    nanos = st.sampled_from([0, 1, 999_999_999, -1])
    return st.builds(lambda s, n: cls(seconds=s, nanos=n), seconds, nanos)


def scalar(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == d.FieldDescriptor.TYPE_STRING:
        return strings()
    if field.type == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=64)
    if field.type == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        return st.floats(allow_nan=True, allow_infinity=True, width=32)
    if field.type == d.FieldDescriptor.TYPE_ENUM:
        known = [v.number for v in field.enum_type.values]
        return st.sampled_from([*known, max(known) + 1, 999, -1])
    if field.type in _INT_RANGES:
        return integers(*_INT_RANGES[field.type])
    return messages(field.message_type, depth + 1)


def messages(descriptor: d.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """A message of this type with any subset of its fields set, each to a drawn value."""
    cls = GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return timestamps(cls)
    if descriptor.full_name == "google.protobuf.Duration":
        return durations(cls)
    if depth > MAX_DEPTH:
        return st.just(cls())
    values = {f.name: st.none() | _field(f, depth) for f in descriptor.fields}
    return st.fixed_dictionaries(values).map(lambda drawn: _build(cls, drawn))


def _field(field: d.FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        key, value = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        return st.dictionaries(scalar(key, depth), scalar(value, depth), max_size=3)
    if field.label == d.FieldDescriptor.LABEL_REPEATED:
        return st.lists(scalar(field, depth), max_size=3)
    return scalar(field, depth)


def _build(cls: type[Message], drawn: dict[str, Any]) -> Message:
    message = cls()
    for name, value in drawn.items():
        if value is None:
            continue
        field = cls.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name) if field.label == d.FieldDescriptor.LABEL_REPEATED else None
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
