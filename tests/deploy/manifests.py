"""Small readers over rendered Kubernetes documents (plain dicts from PyYAML)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Doc = dict[str, Any]
IMAGE = "metering-backbone"
WORKLOAD_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


@dataclass(frozen=True)
class Pod:
    """A workload's pod template."""

    kind: str
    name: str
    labels: dict[str, str]
    spec: Doc

    @property
    def containers(self) -> list[Doc]:
        """Init containers (native sidecars included) and containers."""
        return [*self.spec.get("initContainers", []), *self.spec.get("containers", [])]

    def container(self, name: str) -> Doc:
        return next(c for c in self.containers if c["name"] == name)


def pods(docs: list[Doc]) -> list[Pod]:
    result = []
    for doc in docs:
        if doc["kind"] in WORKLOAD_KINDS:
            template = doc["spec"]["template"]
            result.append(Pod(doc["kind"], doc["metadata"]["name"],
                              dict(template["metadata"].get("labels", {})), template["spec"]))
    return result


def pod(docs: list[Doc], name: str) -> Pod:
    return next(p for p in pods(docs) if p.name == name)


def find(docs: list[Doc], kind: str, name: str) -> Doc | None:
    return next((d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name), None)


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def selects(selector: Doc | None, labels: dict[str, str]) -> bool:
    """A LabelSelector (matchLabels and matchExpressions) against a label set; {} selects all."""
    if selector is None:
        return False
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def env(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def env_value(container: Doc, name: str) -> str | None:
    entry = env(container).get(name)
    return None if entry is None else entry.get("value")


def uses_our_image(container: Doc) -> bool:
    return str(container["image"]).split(":")[0].rsplit("/", 1)[-1] == IMAGE


_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX = {"": Decimal(1), "m": Decimal("0.001"), "k": Decimal(10**3), "M": Decimal(10**6),
           "G": Decimal(10**9), "Ki": Decimal(2**10), "Mi": Decimal(2**20), "Gi": Decimal(2**30)}


def quantity(value: str | int) -> Decimal:
    """A Kubernetes resource quantity (the suffixes these manifests use) as a number."""
    match = _QUANTITY.match(str(value))
    if match is None or match.group(2) not in _SUFFIX:
        raise ValueError(f"unsupported quantity {value!r}")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]


def container_ports(container: Doc) -> dict[str, int]:
    return {p.get("name", str(p["containerPort"])): int(p["containerPort"])
            for p in container.get("ports", [])}


def port_of_addr(addr: str) -> int:
    return int(addr.rpartition(":")[2])
