"""The NetworkPolicies allow exactly the flows of ARCHITECTURE.md (plus the two the code needs).

Peers are named: `dns` (kube-dns), `any` (no peer given: port only, e.g. an external PostgreSQL),
`public` (any non-private address), `pod:<name>` (a workload of the render), and
`clients:<label>` (pods labelled so, in any namespace).
"""

from __future__ import annotations

import pytest

from tests.deploy.conftest import OVERLAYS, TARGETS
from tests.deploy.manifests import Doc, Pod, of_kind, pods, selects

DNS = {("dns", 53, "UDP"), ("dns", 53, "TCP")}
METERING_CLIENTS = "clients:metering-backbone/metering-client=true"
RATELIMITER_CLIENTS = "clients:metering-backbone/ratelimiter-client=true"

EXPECTED_EGRESS: dict[str, set[tuple[str, int, str]]] = {
    # metering serve: PostgreSQL; the rate limiter's HTTP API (dashboard bars,
    # METERING_RATELIMITER_URL); Stripe for BillingService's payment RPCs; the other replicas
    # (credit calls forwarded to an organization's owner, METERING_PEER_ADDR).
    "metering-server": DNS | {("any", 5432, "TCP"), ("pod:ratelimiter", 8081, "TCP"),
                              ("public", 443, "TCP"), ("pod:metering-server", 50051, "TCP")},
    "metering-migrate": DNS | {("any", 5432, "TCP")},
    "metering-worker": DNS | {("any", 5432, "TCP"), ("public", 443, "TCP")},
    "ratelimiter": DNS | {("any", 6379, "TCP")},
    "gateway": DNS | {("pod:metering-server", 8080, "TCP"), ("any", 6379, "TCP")},
}
EXPECTED_INGRESS: dict[str, set[tuple[str, int, str]]] = {
    "metering-server": {(METERING_CLIENTS, 50051, "TCP"), (METERING_CLIENTS, 8080, "TCP"),
                        ("pod:metering-server", 50051, "TCP")},
    "metering-migrate": set(),
    "metering-worker": set(),
    "ratelimiter": {(RATELIMITER_CLIENTS, 50052, "TCP"), (RATELIMITER_CLIENTS, 8081, "TCP"),
                    ("pod:metering-server", 8081, "TCP")},
    "gateway": {("any", 8000, "TCP")},
}
PRIVATE_V4 = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"}


def _peer(peer: Doc, all_pods: list[Pod]) -> str:
    if "ipBlock" in peer:
        block = peer["ipBlock"]
        if block["cidr"] == "0.0.0.0/0":
            assert set(block.get("except", [])) >= PRIVATE_V4, "public egress must exclude private ranges"
            return "public"
        if block["cidr"] == "::/0":
            assert "fc00::/7" in block.get("except", []), "public egress must exclude ULA addresses"
            return "public"
        return f"cidr:{block['cidr']}"
    namespaces = peer.get("namespaceSelector")
    selector = peer.get("podSelector", {})
    if namespaces == {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}} and \
            selector == {"matchLabels": {"k8s-app": "kube-dns"}}:
        return "dns"
    if namespaces is None:
        names = sorted(p.name for p in all_pods if selects(selector, p.labels))
        assert names, f"podSelector {selector} selects no pod of the render"
        return "pod:" + ",".join(names)
    labels = selector.get("matchLabels", {})
    assert namespaces == {} and len(labels) == 1 and not selector.get("matchExpressions"), \
        f"unexpected peer {peer}"
    (key, value), = labels.items()
    return f"clients:{key}={value}"


def _flows(docs: list[Doc], target: Pod, direction: str) -> set[tuple[str, int, str]]:
    all_pods = pods(docs)
    flows: set[tuple[str, int, str]] = set()
    for policy in of_kind(docs, "NetworkPolicy"):
        spec = policy["spec"]
        if direction not in spec.get("policyTypes", []) or not selects(spec["podSelector"], target.labels):
            continue
        for rule in spec.get(direction.lower(), []):
            peers = rule.get("from" if direction == "Ingress" else "to")
            names = [_peer(p, all_pods) for p in peers] if peers else ["any"]
            assert rule.get("ports"), f"{policy['metadata']['name']}: a rule without ports opens every port"
            for port in rule["ports"]:
                assert isinstance(port["port"], int), "ports are numbers (named ports differ per pod)"
                flows |= {(name, port["port"], port.get("protocol", "TCP")) for name in names}
    return flows


@pytest.mark.parametrize("target", OVERLAYS)
def test_every_pod_is_denied_by_default(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    for workload in pods(docs):
        denying = [p for p in of_kind(docs, "NetworkPolicy")
                   if selects(p["spec"]["podSelector"], workload.labels)
                   and set(p["spec"].get("policyTypes", [])) == {"Ingress", "Egress"}
                   and not p["spec"].get("ingress") and not p["spec"].get("egress")]
        assert denying, f"{workload.name}: no default-deny NetworkPolicy selects it"


@pytest.mark.parametrize("target", OVERLAYS)
def test_egress_is_exactly_the_architecture_flows(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    names = {p.name for p in pods(docs)}
    assert names == set(EXPECTED_EGRESS), f"workloads changed: {sorted(names)}; update the expected flows"
    for workload in pods(docs):
        assert _flows(docs, workload, "Egress") == EXPECTED_EGRESS[workload.name], workload.name


@pytest.mark.parametrize("target", OVERLAYS)
def test_ingress_is_exactly_the_architecture_flows(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    for workload in pods(docs):
        assert _flows(docs, workload, "Ingress") == EXPECTED_INGRESS[workload.name], workload.name


@pytest.mark.parametrize("target", OVERLAYS)
def test_in_cluster_flows_are_open_at_both_ends(rendered: dict[str, list[Doc]], target: str) -> None:
    """An egress rule to a pod of the render is met by an ingress rule of that pod, and back."""
    docs = rendered[target]
    by_name = {p.name: p for p in pods(docs)}
    for source in pods(docs):
        for peer, port, protocol in _flows(docs, source, "Egress"):
            if not peer.startswith("pod:"):
                continue
            for name in peer[4:].split(","):
                ingress = _flows(docs, by_name[name], "Ingress")
                from_source = {f"pod:{source.name}"} | {
                    c for c, _, _ in ingress if c.startswith("clients:")
                    and source.labels.get(c[8:].split("=")[0]) == c.split("=", 1)[1]}
                assert any((c, port, protocol) in ingress for c in from_source), \
                    f"{source.name} -> {name}:{port} is allowed out but not in"


@pytest.mark.parametrize("target", TARGETS)
def test_service_ports_are_reachable(rendered: dict[str, list[Doc]], target: str) -> None:
    """Every port a Service exposes is admitted by its pods' ingress rules."""
    docs = rendered[target]
    for service in of_kind(docs, "Service"):
        for workload in pods(docs):
            if not selects({"matchLabels": service["spec"]["selector"]}, workload.labels):
                continue
            ingress_ports = {port for _, port, _ in _flows(docs, workload, "Ingress")}
            for port in service["spec"]["ports"]:
                target_port = port.get("targetPort", port["port"])
                numbers = {p["containerPort"] for c in workload.containers for p in c.get("ports", [])
                           if target_port in (p.get("name"), p["containerPort"])}
                assert numbers & ingress_ports, \
                    f"Service {service['metadata']['name']} port {port['name']} is closed by NetworkPolicy"
