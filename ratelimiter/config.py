"""Limits from YAML: Envoy's reference ratelimit descriptor format plus our extensions.

One YAML document per domain (a file may hold several, separated by `---`; a directory holds
`*.yaml`/`*.yml` files read in name order):

    domain: api
    failure_mode: fail_open            # ours: fail_open (default) | fail_closed
    descriptors:
      - key: remote_address            # any value: one bucket per value
        rate_limit: {unit: minute, requests_per_unit: 100}
      - key: path
        value: /upload*                # trailing `*`: prefix match, one bucket per value
        shadow_mode: true
        rate_limit: {unit: second, requests_per_unit: 5, name: uploads, replaces: [{name: x}]}
      - key: plan
        value: free
        rate_limits:                   # ours: several limits on one descriptor, all enforced
          - {requests_per_unit: 10, window: 1s}
          - {requests_per_unit: 100, window: 5m, burst: 150}   # any window; burst != rate

Every problem is reported as `ConfigError` with the file, the line and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from services.kit.config import ConfigError

UNITS_MS = {
    "second": 1_000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 7 * 86_400_000,
    "month": 30 * 86_400_000,
    "year": 365 * 86_400_000,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_DURATION_MS = {"ms": 1, "s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                "w": 7 * 86_400_000}
MAX_REQUESTS = 2**32 - 1
# The Lua script counts in exact integers of burst x window_ms, which Lua keeps exact below 2**53.
MAX_BUCKET_UNITS = 2**53
DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


class FailureMode(StrEnum):
    FAIL_OPEN = "fail_open"
    FAIL_CLOSED = "fail_closed"


@dataclass(frozen=True, slots=True)
class Limit:
    """A token bucket: `requests` tokens come back per window, it holds at most `burst`."""

    requests: int
    """Tokens refilled per window."""
    window_ms: int
    """The refill window in milliseconds."""
    burst: int
    """Bucket capacity: requests admitted at once from a full bucket."""
    name: str = ""
    """The configured name (reported back; target of `replaces`)."""
    replaces: tuple[str, ...] = ()
    """Names of limits this one switches off when both apply to one request."""

    @property
    def bucket_suffix(self) -> str:
        """Part of the Redis key: a changed limit starts from a fresh bucket."""
        return f"{self.requests}/{self.window_ms}/{self.burst}"


@dataclass(frozen=True, slots=True)
class Rule:
    """What a fully matched descriptor gets."""

    limits: tuple[Limit, ...] = ()
    """Limits enforced together (empty: no limit)."""
    unlimited: bool = False
    """Explicitly unlimited: always allowed, nothing stored."""
    shadow_mode: bool = False
    """Buckets are spent and refusals reported, but never enforced."""


@dataclass(slots=True)
class DescriptorNode:
    """One level of the descriptor tree; children are matched on the next request entry."""

    rule: Rule | None = None
    """The rule for a descriptor that ends here, if any."""
    exact: dict[tuple[str, str], DescriptorNode] = field(default_factory=dict)
    """Children keyed by (key, value)."""
    prefixes: list[tuple[str, str, DescriptorNode]] = field(default_factory=list)
    """Children whose value ends with `*`: (key, prefix, node), in file order."""
    any_value: dict[str, DescriptorNode] = field(default_factory=dict)
    """Children configured with a key and no value."""

    def child(self, key: str, value: str) -> DescriptorNode | None:
        node = self.exact.get((key, value))
        if node is not None:
            return node
        for k, prefix, candidate in self.prefixes:
            if k == key and value.startswith(prefix):
                return candidate
        return self.any_value.get(key)


@dataclass(frozen=True, slots=True)
class Domain:
    """One domain's descriptor tree and failure policy."""

    name: str
    """The domain requests name."""
    root: DescriptorNode
    """The descriptor tree."""
    failure_mode: FailureMode = FailureMode.FAIL_OPEN
    """What to answer while the store is unreachable."""

    def rule_for(self, entries: tuple[tuple[str, str], ...]) -> Rule | None:
        """The rule at the node matched by all entries (Envoy's semantics), or None."""
        node: DescriptorNode | None = self.root
        for key, value in entries:
            node = node.child(key, value) if node is not None else None
            if node is None:
                return None
        return node.rule if node is not None else None


@dataclass(frozen=True, slots=True)
class Limits:
    """All configured domains, and where they came from."""

    domains: dict[str, Domain]
    """Domains by name."""
    source: str
    """The file or directory read (or the built-in defaults)."""


class _Map(dict[Any, Any]):
    """A YAML mapping that remembers the line of itself and of each key."""

    line: int = 0
    key_lines: dict[Any, int]


class _LineLoader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> _Map:  # type: ignore[override]
        mapping = _Map(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {self.construct_object(k, deep=True): k.start_mark.line + 1
                             for k, _ in node.value}
        return mapping


_LineLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_mapping  # type: ignore[arg-type]
)


class _Reader:
    """Turns one file's YAML documents into domains, failing with file:line: reason."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: _Map | None, key: str | None, reason: str) -> ConfigError:
        line = 0
        if where is not None:
            line = where.key_lines.get(key, where.line) if key is not None else where.line
        return ConfigError(f"{self.path}:{line}: {reason}")

    def read(self) -> list[Domain]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        try:
            documents = [d for d in yaml.load_all(text, Loader=_LineLoader) if d is not None]
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark
            line = mark.line + 1 if mark is not None else 0
            raise ConfigError(f"{self.path}:{line}: invalid YAML: {exc.problem}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{self.path}: invalid YAML: {exc}") from None
        return [self.domain(doc) for doc in documents]

    def domain(self, doc: Any) -> Domain:
        if not isinstance(doc, _Map):
            raise ConfigError(f"{self.path}: a document must be a mapping with `domain`")
        self.known_keys(doc, {"domain", "descriptors", "failure_mode"})
        name = doc.get("domain")
        if not isinstance(name, str) or not name:
            raise self.fail(doc, "domain", "`domain` must be a non-empty string")
        mode = doc.get("failure_mode", FailureMode.FAIL_OPEN.value)
        if mode not in {m.value for m in FailureMode}:
            raise self.fail(doc, "failure_mode", "`failure_mode` must be fail_open or fail_closed")
        root = DescriptorNode()
        self.descriptors(doc, root)
        return Domain(name=name, root=root, failure_mode=FailureMode(mode))

    def descriptors(self, parent: _Map, node: DescriptorNode) -> None:
        items = parent.get("descriptors", [])
        if not isinstance(items, list):
            raise self.fail(parent, "descriptors", "`descriptors` must be a list")
        for item in items:
            if not isinstance(item, _Map):
                raise self.fail(parent, "descriptors", "each descriptor must be a mapping")
            self.descriptor(item, node)

    def descriptor(self, item: _Map, parent: DescriptorNode) -> None:
        self.known_keys(item, {"key", "value", "rate_limit", "rate_limits", "descriptors",
                               "shadow_mode", "detailed_metric"})
        key, value = item.get("key"), item.get("value")
        if not isinstance(key, str) or not key:
            raise self.fail(item, "key", "descriptor `key` must be a non-empty string")
        if value is not None and not isinstance(value, str | int | float):
            raise self.fail(item, "value", "descriptor `value` must be a string")
        child = DescriptorNode(rule=self.rule(item))
        if value is None:
            slot_taken = key in parent.any_value
            parent.any_value[key] = child
        elif str(value).endswith("*"):
            prefix = str(value)[:-1]
            slot_taken = any(k == key and p == prefix for k, p, _ in parent.prefixes)
            parent.prefixes.append((key, prefix, child))
        else:
            slot_taken = (key, str(value)) in parent.exact
            parent.exact[(key, str(value))] = child
        if slot_taken:
            raise self.fail(item, "key", f"duplicate descriptor {key}={value}")
        self.descriptors(item, child)

    def rule(self, item: _Map) -> Rule | None:
        shadow = self.boolean(item, "shadow_mode")
        self.boolean(item, "detailed_metric")
        if "rate_limit" in item and "rate_limits" in item:
            raise self.fail(item, "rate_limits", "use either `rate_limit` or `rate_limits`")
        if "rate_limit" in item:
            blocks = [item["rate_limit"]]
            where = "rate_limit"
        elif "rate_limits" in item:
            blocks = item["rate_limits"]
            where = "rate_limits"
            if not isinstance(blocks, list) or not blocks:
                raise self.fail(item, where, "`rate_limits` must be a non-empty list")
        else:
            return None
        for block in blocks:
            if not isinstance(block, _Map):
                raise self.fail(item, where, f"`{where}` entries must be mappings")
        if any(self.boolean(b, "unlimited") for b in blocks):
            if len(blocks) > 1 or set(blocks[0]) - {"unlimited", "name"}:
                raise self.fail(item, where, "an unlimited rate_limit takes no other settings")
            return Rule(unlimited=True, shadow_mode=shadow)
        return Rule(limits=tuple(self.limit(b) for b in blocks), shadow_mode=shadow)

    def limit(self, block: _Map) -> Limit:
        self.known_keys(block, {"unit", "window", "requests_per_unit", "burst", "name",
                                "replaces", "unlimited"})
        requests = self.count(block, "requests_per_unit", required=True)
        if ("unit" in block) == ("window" in block):
            raise self.fail(block, None, "a rate_limit needs exactly one of `unit` or `window`")
        if "unit" in block:
            unit = str(block["unit"]).lower()
            if unit not in UNITS_MS:
                raise self.fail(block, "unit", f"unknown unit {block['unit']!r} "
                                               f"(one of {', '.join(UNITS_MS)})")
            window_ms = UNITS_MS[unit]
        else:
            window_ms = self.duration(block, "window")
        burst = self.count(block, "burst", required=False) or requests
        if burst * window_ms > MAX_BUCKET_UNITS:
            raise self.fail(block, None, "burst x window is too large (over 2**53 token-ms)")
        name = block.get("name", "")
        if not isinstance(name, str):
            raise self.fail(block, "name", "`name` must be a string")
        replaces = block.get("replaces", [])
        if not isinstance(replaces, list) or not all(
            isinstance(r, dict) and isinstance(r.get("name"), str) and r["name"] for r in replaces
        ):
            raise self.fail(block, "replaces", "`replaces` must be a list of {name: <limit name>}")
        return Limit(requests=requests, window_ms=window_ms, burst=burst, name=name,
                     replaces=tuple(r["name"] for r in replaces))

    def count(self, block: _Map, key: str, *, required: bool) -> int:
        value = block.get(key)
        if value is None and not required:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUESTS:
            raise self.fail(block, key if key in block else None,
                            f"`{key}` must be a whole number from 1 to {MAX_REQUESTS}")
        return value

    def duration(self, block: _Map, key: str) -> int:
        text = str(block[key]).strip()
        parts = _DURATION_PART.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise self.fail(block, key, f"`{key}` must be a duration like 30s, 5m, 1h30m, 250ms")
        ms = sum(float(n) * _DURATION_MS[u] for n, u in parts)
        if ms < 1 or ms != int(ms):
            raise self.fail(block, key, f"`{key}` must be a whole number of milliseconds, >= 1ms")
        return int(ms)

    def boolean(self, block: _Map, key: str) -> bool:
        value = block.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(block, key, f"`{key}` must be true or false")
        return value

    def known_keys(self, block: _Map, allowed: set[str]) -> None:
        for key in block:
            if key not in allowed:
                raise self.fail(block, key, f"unknown setting {key!r}")


def load_limits(path: Path | None) -> Limits:
    """Reads a file or a directory of files; None means the built-in defaults."""
    if path is None:
        files, source = [DEFAULTS_FILE], "built-in defaults"
    elif path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        source = str(path)
        if not files:
            raise ConfigError(f"{path}: no *.yaml or *.yml file in this directory")
    else:
        files, source = [path], str(path)
    domains: dict[str, Domain] = {}
    for file in files:
        for domain in _Reader(file).read():
            if domain.name in domains:
                raise ConfigError(f"{file}: domain {domain.name!r} is defined twice")
            domains[domain.name] = domain
    if not domains:
        raise ConfigError(f"{source}: no domain configured")
    return Limits(domains=domains, source=source)


def snapshot(path: Path | None) -> tuple[tuple[str, float], ...]:
    """Modification times of the files behind `path`, to notice a change."""
    if path is None:
        return ()
    try:
        files = sorted(path.iterdir()) if path.is_dir() else [path]
        return tuple((str(p), p.stat().st_mtime) for p in files)
    except OSError:
        return ()
