"""The files a class's JupyterHub is built from (deploy/jupyterhub/), checked offline.

- the single-user requirements are pinned, and pinned to what `make setup` installed (the
  versions tests/tools/test_jupyterhub.py runs the hub with);
- configurable-http-proxy is pinned to one version in package.json and package-lock.json;
- the Zero to JupyterHub values, merged over the chart's defaults as Helm merges them, satisfy
  the chart's own values schema (vendored from the z2jh repository, deploy/jupyterhub/z2jh/),
  and the pod they describe (image, postStart hook running gitpuller, CPU and memory
  guarantees and limits) is a valid Kubernetes Pod (kubernetes-validate, offline schemas).
"""

from __future__ import annotations

import copy
import json
import re
from importlib.metadata import version
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "jupyterhub"
Z2JH = DEPLOY / "z2jh"
#: The oldest Kubernetes the vendored chart (4.4.0, kubeVersion >=1.28) supports.
KUBERNETES = "1.28"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        name, sep, pinned = line.partition("==")
        assert sep and pinned, f"{path.name}: {raw!r} is not pinned with =="
        pins[re.sub(r"[-_.]+", "-", name).lower()] = pinned
    return pins


def test_single_user_requirements_are_pinned_and_installed() -> None:
    reqs = DEPLOY / "requirements-singleuser.txt"
    assert "-r ../../requirements.txt" in reqs.read_text(encoding="utf-8")
    pins = _pins(reqs)
    assert {"jupyterhub", "nbgitpuller"} <= set(pins)
    for name, pinned in pins.items():
        assert version(name) == pinned, f"{name}: pinned {pinned}, installed {version(name)}"
    elsewhere = _pins(ROOT / "requirements.txt") | _pins(ROOT / "requirements-site.txt")
    twice = set(pins) & set(elsewhere)
    assert not twice, f"pinned in two files: {twice}"


def test_the_hub_is_the_z2jh_charts_jupyterhub() -> None:
    """The single-user server talks to the hub of the chart: same JupyterHub version."""
    chart = yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))
    assert chart["hub"]["image"]["name"] == "quay.io/jupyterhub/k8s-hub"
    pinned = _pins(DEPLOY / "requirements-singleuser.txt")["jupyterhub"]
    assert pinned == "5.5.0", "chart 4.4.0's hub runs JupyterHub 5.5.0 (its Chart.yaml appVersion)"


def test_proxy_is_pinned_in_package_lock() -> None:
    pkg = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    wanted = pkg["dependencies"]["configurable-http-proxy"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", wanted), "an exact version, not a range"
    assert lock["packages"]["node_modules/configurable-http-proxy"]["version"] == wanted
    for name, entry in lock["packages"].items():
        if name:
            assert entry.get("integrity", "").startswith("sha512-"), f"{name} has no checksum"


def _helm_merge(defaults: dict, overrides: dict) -> dict:
    """Helm's coalescing of a user's values over a chart's: maps merge key by key, anything
    else replaces, and null removes the key."""
    merged = copy.deepcopy(defaults)
    for key, value in overrides.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _helm_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


@pytest.fixture(scope="module")
def values() -> dict:
    return yaml.safe_load((DEPLOY / "z2jh-values.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def schema() -> dict:
    return yaml.safe_load((Z2JH / "values.schema.yaml").read_text(encoding="utf-8"))


def test_z2jh_values_satisfy_the_charts_schema(values: dict, schema: dict) -> None:
    defaults = yaml.safe_load((Z2JH / "values.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(defaults, schema)  # the vendored pair agrees with itself
    jsonschema.validate(_helm_merge(defaults, values), schema)
    # The schema does catch a wrong file: a misspelt key, a CPU count written as text.
    misspelt = copy.deepcopy(values)
    misspelt["singleuser"]["lifecycleHook"] = misspelt["singleuser"].pop("lifecycleHooks")
    with pytest.raises(jsonschema.ValidationError, match="lifecycleHook"):
        jsonschema.validate(_helm_merge(defaults, misspelt), schema)
    wrong_type = copy.deepcopy(values)
    wrong_type["singleuser"]["cpu"]["limit"] = "two"
    with pytest.raises(jsonschema.ValidationError, match="two"):
        jsonschema.validate(_helm_merge(defaults, wrong_type), schema)


def _pod(values: dict) -> dict:
    """The course's parts of the pod KubeSpawner builds from the values: the image, the
    postStart hook, the resources (cpu/memory guarantee -> requests, limit -> limits)."""
    su = values["singleuser"]
    container = {
        "name": "notebook",
        "image": f"{su['image']['name']}:{su['image']['tag']}",
        "lifecycle": su["lifecycleHooks"],
        "resources": {
            "requests": {"cpu": str(su["cpu"]["guarantee"]), "memory": su["memory"]["guarantee"]},
            "limits": {"cpu": str(su["cpu"]["limit"]), "memory": su["memory"]["limit"]},
        },
    }
    spec = {"containers": [container], "initContainers": su.get("initContainers", [])}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "jupyter-alice"}, "spec": spec}


def test_z2jh_pod_parts_are_valid_kubernetes(values: dict) -> None:
    pod = _pod(values)
    kubernetes_validate.validate(pod, KUBERNETES, strict=True)
    command = values["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert "gitpuller" in " ".join(command), "the student edition is pulled at each start"
    # The same check refuses a hook whose command is a string, not a list.
    bad = copy.deepcopy(pod)
    bad["spec"]["containers"][0]["lifecycle"]["postStart"]["exec"]["command"] = "gitpuller x"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, KUBERNETES, strict=True)
