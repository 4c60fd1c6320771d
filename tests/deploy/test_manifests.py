"""What the rendered Kubernetes manifests promise beyond the schemas (.ci/k8s-check validates those):
settings the code really reads, Secrets only referenced, non-root pods, probes on the ports the
processes bind, commands that exist, consistent labels and references, sane overlays."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
import typer.main
import yaml

from ratelimiter.cli import app as ratelimiter_app
from ratelimiter.config import load_limits
from services.app.cli import app as metering_app
from tests.deploy.conftest import OVERLAYS, ROOT, TARGETS
from tests.deploy.manifests import (
    IMAGE,
    Doc,
    container_ports,
    env,
    env_value,
    find,
    of_kind,
    pod,
    pods,
    port_of_addr,
    quantity,
    selects,
    uses_our_image,
)

SECRET_ENV = {"METERING_DATABASE_URL", "STRIPE_API_KEY", "RATELIMITER_REDIS_URL"}
SECRET_LIKE = re.compile(r"(?i)(password|secret|token|api_key|_url$)")
SUBCOMMANDS = {
    "metering": set(typer.main.get_command(metering_app).commands),  # type: ignore[attr-defined]
    "ratelimiter": set(typer.main.get_command(ratelimiter_app).commands),  # type: ignore[attr-defined]
}


def _code_text() -> str:
    files = [p for d in ("services", "ratelimiter") for p in (ROOT / d).rglob("*.py")
             if "/gen/" not in str(p)]
    return "\n".join(p.read_text() for p in files)


CODE = _code_text()


def _console_scripts() -> set[str]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return set(tomllib.load(handle)["project"]["scripts"])


@pytest.mark.parametrize("target", TARGETS)
def test_every_env_var_is_read_by_the_code(rendered: dict[str, list[Doc]], target: str) -> None:
    for workload in pods(rendered[target]):
        for container in workload.containers:
            if not uses_our_image(container):
                continue
            variables = env(container)
            # A variable only other variables interpolate, as $(POD_IP) in METERING_PEER_ADDR.
            interpolated = {name for name in variables
                            if any(f"$({name})" in str(e.get("value", "")) for e in variables.values())}
            for name in variables.keys() - interpolated:
                assert f'"{name}"' in CODE, f"{workload.name}/{container['name']}: {name} is read by no code"


@pytest.mark.parametrize("target", TARGETS)
def test_secrets_are_referenced_never_inlined(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    assert not of_kind(docs, "Secret"), "Secrets are created out of band, never rendered"
    text = yaml.safe_dump_all(docs)
    credentials = r"sk_(live|test)_\w|rk_live_|postgres(ql)?://[^\s/]*:[^\s/]*@|redis://:[^@\s]+@"
    assert not re.search(credentials, text)
    seen: set[str] = set()
    for workload in pods(docs):
        for container in workload.containers:
            assert not any("secretRef" in source for source in container.get("envFrom", [])), \
                "name each secret key with secretKeyRef, so every one is visible in the manifest"
            for name, entry in env(container).items():
                if name in SECRET_ENV:
                    ref = entry.get("valueFrom", {}).get("secretKeyRef")
                    assert ref and "value" not in entry, f"{workload.name}: {name} must come from a Secret"
                    seen.add(name)
                elif SECRET_LIKE.search(name) and "value" in entry:
                    assert not re.search(r"//[^/\s]*@", entry["value"]), f"{name} carries credentials"
    assert seen == SECRET_ENV - ({"RATELIMITER_REDIS_URL"} if not find(docs, "Deployment", "ratelimiter")
                                 else set())


@pytest.mark.parametrize("target", TARGETS)
def test_pods_run_as_non_root_with_least_privilege(rendered: dict[str, list[Doc]], target: str) -> None:
    for workload in pods(rendered[target]):
        spec = workload.spec
        pod_context = spec.get("securityContext", {})
        assert pod_context.get("runAsNonRoot") is True, workload.name
        assert pod_context.get("seccompProfile", {}).get("type") == "RuntimeDefault", workload.name
        assert spec.get("automountServiceAccountToken") is False, workload.name
        assert find(rendered[target], "ServiceAccount", spec["serviceAccountName"]), workload.name
        for container in workload.containers:
            context = container.get("securityContext", {})
            user = context.get("runAsUser", pod_context.get("runAsUser"))
            assert isinstance(user, int) and user > 0, f"{workload.name}/{container['name']}: uid {user}"
            assert context.get("allowPrivilegeEscalation") is False, container["name"]
            assert context.get("readOnlyRootFilesystem") is True, container["name"]
            assert context.get("capabilities", {}).get("drop") == ["ALL"], container["name"]
            assert not context.get("privileged"), container["name"]


@pytest.mark.parametrize("target", TARGETS)
def test_every_container_has_requests_and_limits(rendered: dict[str, list[Doc]], target: str) -> None:
    for workload in pods(rendered[target]):
        for container in workload.containers:
            resources = container.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                assert request and limit, f"{workload.name}/{container['name']}: {resource} request and limit"
                assert quantity(request) <= quantity(limit), f"{workload.name}/{container['name']}"


@pytest.mark.parametrize("target", TARGETS)
def test_commands_are_console_scripts_and_subcommands(rendered: dict[str, list[Doc]], target: str) -> None:
    scripts = _console_scripts()
    for workload in pods(rendered[target]):
        for container in workload.containers:
            if not uses_our_image(container):
                continue
            command = [*container.get("command", []), *container.get("args", [])]
            assert command[0] in scripts, f"{workload.name}: {command[0]} is no [project.scripts] entry"
            assert command[1] in SUBCOMMANDS[command[0]], f"{workload.name}: `{' '.join(command[:2])}`"


def test_dockerfile_default_command_exists() -> None:
    text = (ROOT / "Dockerfile").read_text()
    cmd = json.loads(re.findall(r"^CMD (\[.*\])$", text, re.MULTILINE)[-1])
    assert cmd[0] in _console_scripts() and cmd[1] in SUBCOMMANDS[cmd[0]]


EXPECTED_COMMANDS = {
    "metering-server": ["metering", "serve"],
    "metering-migrate": ["metering", "migrate"],
    "metering-worker": ["metering", "worker"],
    "ratelimiter": ["ratelimiter", "serve"],
}


@pytest.mark.parametrize("target", TARGETS)
def test_each_process_of_the_architecture_runs(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    for name, command in EXPECTED_COMMANDS.items():
        workload = pod(docs, name)
        ours = [c for c in workload.containers if uses_our_image(c)]
        assert [[*c["command"], *c["args"]] for c in ours] == [command], name
    job = find(docs, "Job", "metering-migrate")
    assert job is not None and job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    assert find(docs, "Deployment", "metering-worker") is not None


@pytest.mark.parametrize("target", TARGETS)
def test_grpc_probes_hit_the_port_the_process_binds(rendered: dict[str, list[Doc]], target: str) -> None:
    """Native gRPC probes (grpc.health.v1) on the port of *_GRPC_ADDR, bound on all interfaces
    (the kubelet probes the pod IP); every container that serves a port is probed."""
    checked = 0
    for workload in pods(rendered[target]):
        for container in workload.containers:
            ports = container_ports(container)
            if not ports:
                assert "readinessProbe" not in container and "livenessProbe" not in container
                continue
            for kind in ("readinessProbe", "livenessProbe"):
                assert kind in container, f"{workload.name}/{container['name']} has no {kind}"
            if not uses_our_image(container):
                continue
            addr_var = {"metering": "METERING_GRPC_ADDR", "ratelimiter": "RATELIMITER_GRPC_ADDR"}[
                container["command"][0]]
            if container.get("args", [None])[0] == "worker":
                addr_var = "BILLING_GRPC_ADDR"
            addr = env_value(container, addr_var)
            assert addr is not None and addr.startswith("0.0.0.0:"), f"{workload.name}: {addr_var}={addr}"
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                probe = container[kind]
                assert probe["grpc"]["port"] == port_of_addr(addr), f"{workload.name} {kind}"
                assert probe["grpc"]["port"] in ports.values()
                checked += 1
            http = env_value(container, "METERING_HTTP_ADDR") or env_value(container, "RATELIMITER_HTTP_ADDR")
            if http is not None and http.startswith("0.0.0.0:"):
                assert port_of_addr(http) in ports.values(), f"{workload.name}: HTTP port not declared"
    assert checked >= 9  # server, rate limiter, worker: startup, readiness, liveness each


@pytest.mark.parametrize("target", TARGETS)
def test_references_and_labels_are_consistent(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    workloads = pods(docs)
    for workload in workloads:
        assert workload.labels.get("app.kubernetes.io/name") == workload.name, workload.name
        assert workload.labels.get("app.kubernetes.io/part-of") == "metering-backbone", workload.name
        doc = find(docs, workload.kind, workload.name)
        assert doc is not None
        selector = doc["spec"].get("selector")
        if workload.kind != "Job":
            assert selector == {"matchLabels": {"app.kubernetes.io/name": workload.name}}, workload.name
        for volume in workload.spec.get("volumes", []):
            if "configMap" in volume:
                assert find(docs, "ConfigMap", volume["configMap"]["name"]), volume
    for doc in docs:
        labels = doc["metadata"].get("labels", {})
        assert labels.get("app.kubernetes.io/part-of") == "metering-backbone", doc["metadata"]["name"]
    for service in of_kind(docs, "Service"):
        matched = [w for w in workloads if selects({"matchLabels": service["spec"]["selector"]}, w.labels)]
        assert matched, f"Service {service['metadata']['name']} selects no pod"
        names = {p["name"] for w in matched for c in w.containers for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port.get("targetPort") in names, f"Service {service['metadata']['name']}: {port}"
        if "externalTrafficPolicy" in service["spec"]:
            assert service["spec"]["type"] in {"LoadBalancer", "NodePort"}
    for budget in of_kind(docs, "PodDisruptionBudget"):
        assert [w for w in workloads if selects(budget["spec"]["selector"], w.labels)], budget["metadata"]
    for scaler in of_kind(docs, "HorizontalPodAutoscaler"):
        ref = scaler["spec"]["scaleTargetRef"]
        deployment = find(docs, ref["kind"], ref["name"])
        assert deployment is not None, ref
        spec = scaler["spec"]
        assert spec["minReplicas"] <= deployment["spec"]["replicas"] <= spec["maxReplicas"], ref
    for policy in of_kind(docs, "NetworkPolicy"):
        assert [w for w in workloads if selects(policy["spec"]["podSelector"], w.labels)], policy["metadata"]


@pytest.mark.parametrize("target", TARGETS)
def test_metering_server_is_highly_available(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    deployment = find(docs, "Deployment", "metering-server")
    assert deployment is not None
    if target != "dev":
        assert deployment["spec"]["replicas"] >= 3
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    budget = find(docs, "PodDisruptionBudget", "metering-server")
    assert budget is not None and budget["spec"]["maxUnavailable"] == 1
    assert find(docs, "HorizontalPodAutoscaler", "metering-server") is not None


@pytest.mark.parametrize("target", TARGETS)
def test_limits_configmap_is_a_valid_ratelimiter_config(rendered: dict[str, list[Doc]], target: str,
                                                        tmp_path: Path) -> None:
    config_map = find(rendered[target], "ConfigMap", "ratelimiter-limits")
    assert config_map is not None
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text)
    limits = load_limits(tmp_path)
    assert {"api", "webhook"} <= set(limits.domains)
    # The product defaults (ARCHITECTURE.md): per client IP, API 100/min and webhooks 30/min.
    api = limits.domains["api"].rule_for((("remote_address", "203.0.113.9"),))
    webhook = limits.domains["webhook"].rule_for((("remote_address", "203.0.113.9"),))
    assert api is not None and [(x.requests, x.window_ms) for x in api.limits] == [(100, 60_000)]
    assert webhook is not None and [(x.requests, x.window_ms) for x in webhook.limits] == [(30, 60_000)]
    for workload in pods(rendered[target]):
        for container in workload.containers:
            if env_value(container, "RATELIMITER_CONFIG") is not None:
                mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
                volume = mounts[env_value(container, "RATELIMITER_CONFIG")]
                source = next(v for v in workload.spec["volumes"] if v["name"] == volume)
                assert source["configMap"]["name"] == "ratelimiter-limits", workload.name


@pytest.mark.parametrize("target", OVERLAYS)
def test_gateway_envoy_asks_the_sidecar_for_a_configured_domain(rendered: dict[str, list[Doc]],
                                                                target: str) -> None:
    docs = rendered[target]
    gateway = pod(docs, "gateway")
    sidecar = gateway.container("ratelimiter")
    assert sidecar.get("restartPolicy") == "Always", "a native sidecar (init container, restartPolicy Always)"
    envoy_map = next(d for d in of_kind(docs, "ConfigMap") if "envoy.yaml" in d.get("data", {}))
    envoy = yaml.safe_load(envoy_map["data"]["envoy.yaml"])
    listener = envoy["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    ratelimit = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.ratelimit")
    domain = ratelimit["typed_config"]["domain"]
    limits_map = find(docs, "ConfigMap", "ratelimiter-limits")
    assert limits_map is not None
    domains = {d["domain"] for text in limits_map["data"].values() for d in yaml.safe_load_all(text) if d}
    assert domain in domains
    clusters = {c["name"]: c for c in envoy["static_resources"]["clusters"]}
    rls = ratelimit["typed_config"]["rate_limit_service"]["grpc_service"]["envoy_grpc"]["cluster_name"]
    endpoint = clusters[rls]["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"]
    sidecar_port = port_of_addr(str(env_value(sidecar, "RATELIMITER_GRPC_ADDR")))
    assert endpoint["socket_address"] == {"address": "127.0.0.1", "port_value": sidecar_port}
    envoy_ports = container_ports(gateway.container("envoy")).values()
    assert listener["address"]["socket_address"]["port_value"] in envoy_ports


@pytest.mark.parametrize("target", OVERLAYS)
def test_overlay_sets_namespace_and_image_tag(rendered: dict[str, list[Doc]], target: str) -> None:
    docs = rendered[target]
    namespaces = of_kind(docs, "Namespace")
    assert len(namespaces) == 1
    namespace = namespaces[0]["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == namespace["name"], doc["metadata"]["name"]
    tags = {c["image"] for w in pods(docs) for c in w.containers if uses_our_image(c)}
    assert len(tags) == 1, tags
    tag = tags.pop().rpartition(":")[2]
    assert tag and tag != "latest" and tag != IMAGE, f"{target} must pin the image tag"
