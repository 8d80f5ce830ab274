"""The pinned environment has one source of truth (requirements.txt) and nothing drifts from it."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from nnscratch.notebook import NOTEBOOK_ENV

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval", "pytest", "torch"}


def pins() -> dict[str, str]:
    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"requirements.txt line is not pinned with ==: {line!r}"
            out[name.strip().lower()] = version.strip()
    return out


def test_every_requirement_is_pinned_and_required_ones_present() -> None:
    p = pins()
    assert REQUIRED <= set(p), f"missing pins: {REQUIRED - set(p)}"
    assert p["torch"] == "2.13.0", "torch must stay pinned to the CPU wheel version 2.13.0"


def test_environment_yml_installs_the_same_file() -> None:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    assert "python=3.11" in deps
    pip_sections = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip_sections == [["-r requirements.txt", "-e ."]], (
        "environment.yml must install exactly requirements.txt and the package, "
        f"with no pins of its own; got {pip_sections}"
    )
    conda_pkgs = [d for d in deps if isinstance(d, str)]
    assert sorted(conda_pkgs) == ["pip", "python=3.11"], (
        f"conda packages would drift from requirements.txt: {conda_pkgs}"
    )


def test_makefile_installs_the_same_file() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install --quiet --disable-pip-version-check -r requirements.txt" in makefile
    assert "$(STAMP): requirements.txt pyproject.toml" in makefile


def test_installed_versions_match_the_pins() -> None:
    wrong = {}
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong[name] = "not installed"
            continue
        if installed.split("+")[0] != version:
            wrong[name] = installed
    assert not wrong, f"installed packages differ from requirements.txt: {wrong}"


def test_make_and_notebook_helper_share_the_environment_variables() -> None:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(r"^NB_ENV := (.*?)(?<!\\)\n", makefile, re.S | re.M)
    assert match, "NB_ENV not found in the Makefile"
    make_env = dict(re.findall(r"(\w+)=(\S+)", match.group(1)))
    for key, value in NOTEBOOK_ENV.items():
        assert make_env.get(key) == value, f"{key}: Makefile {make_env.get(key)!r} vs {value!r}"


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", script, re.M)


@pytest.mark.parametrize(
    "folder", ["notebooks", "lectures", "projects", "bench", "nnscratch", "tests"]
)
def test_layout(folder: str) -> None:
    assert (ROOT / folder).is_dir()
