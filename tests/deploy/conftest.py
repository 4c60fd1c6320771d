"""Rendered Kubernetes manifests for the deploy tests.

`.ci/k8s-check` renders k8s/base and every overlay into build/k8s/ and points K8S_RENDERED_DIR at
it. Run alone (e.g. from `make test`), the tests render them here with kubectl (KUBECTL, else the
one on PATH, else .tools/kubectl/kubectl that .ci/k8s-check installs) and are skipped when no
kubectl with kustomize v5 is found.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
OVERLAYS = sorted(p.name for p in (K8S / "overlays").iterdir() if (p / "kustomization.yaml").exists())
TARGETS = ["base", *OVERLAYS]

Doc = dict[str, Any]


def _kustomize_major(kubectl: str) -> int:
    try:
        out = subprocess.run([kubectl, "version", "--client", "-o", "json"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return int(str(json.loads(out).get("kustomizeVersion", "v0")).lstrip("v").split(".")[0])
    except (OSError, subprocess.SubprocessError, ValueError):
        return 0


def find_kubectl() -> str | None:
    candidates = [os.environ.get("KUBECTL"), shutil.which("kubectl"), str(ROOT / ".tools/kubectl/kubectl")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and _kustomize_major(candidate) >= 5:
            return candidate
    return None


def _source_dir(target: str) -> Path:
    return K8S / "base" if target == "base" else K8S / "overlays" / target


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Doc]]:
    """Every target's rendered documents, by target name (base, dev, prod, ...)."""
    texts: dict[str, str] = {}
    given = os.environ.get("K8S_RENDERED_DIR")
    if given:
        for target in TARGETS:
            texts[target] = (Path(given) / f"{target}.yaml").read_text()
    else:
        kubectl = find_kubectl()
        if kubectl is None:
            pytest.skip("no kubectl with kustomize v5 here; bash .ci/k8s-check installs one")
        for target in TARGETS:
            texts[target] = subprocess.run([kubectl, "kustomize", str(_source_dir(target))],
                                           capture_output=True, text=True, timeout=120,
                                           check=True).stdout
    return {target: [d for d in yaml.safe_load_all(text) if d] for target, text in texts.items()}
