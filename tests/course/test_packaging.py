"""What the wheel holds, as README's "What the wheel holds" decides: one distribution with two
packages, the student library ``nnscratch`` and the instructor's ``nnscratch_tools``, whose own
dependencies are the optional extra ``tools``.

Fast: it asks setuptools which packages pyproject.toml selects (the list the wheel is built
from) instead of building one; tests/tools/test_wheel.py builds and installs the real wheel.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

#: Import names the tools may use besides the standard library: the library itself, the
#: packages of the ``tools`` extra and what they bring (jupyter_client and zmq come with
#: nbclient and ipykernel), and what ``nnscratch doctor`` probes for (each inside its check).
TOOLS_IMPORTS = {
    "nnscratch": "the library",
    "nnscratch_tools": "the tools themselves (the autograder's entry point imports them)",
    "numpy": "a dependency of nnscratch",
    "nbformat": "extra tools",
    "nbclient": "extra tools",
    "ipykernel": "extra tools",
    "yaml": "extra tools (pyyaml)",
    "jupyter_client": "with nbclient",
    "zmq": "with jupyter_client",
    "jupyter_core": "doctor probes it",
    "jupyter_server": "doctor probes it",
    "jupyterlab_server": "doctor probes it",
    "matplotlib": "doctor probes it",
    "torch": "doctor probes it",
}


def _packages_in_wheel() -> list[str]:
    find = PYPROJECT["tool"]["setuptools"]["packages"]["find"]
    return sorted(find_packages(where=str(ROOT), include=find["include"]))


def _imported_names(package: str) -> set[str]:
    """Top-level names of every absolute import anywhere in ``package`` (functions too)."""
    names = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names)


def test_the_wheel_holds_the_library_and_the_tools_and_nothing_else():
    packages = _packages_in_wheel()
    assert {p.split(".")[0] for p in packages} == {"nnscratch", "nnscratch_tools"}, packages
    on_disk = sorted(
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("nnscratch", "nnscratch_tools")
        for init in (ROOT / top).rglob("__init__.py")
    )
    assert packages == on_disk, "every sub-package ships"


def test_the_command_is_the_tools_cli():
    assert PYPROJECT["project"]["scripts"] == {"nnscratch": "nnscratch_tools.cli:main"}


def test_the_tools_dependencies_are_the_extra_tools():
    project = PYPROJECT["project"]
    assert project["dependencies"] == ["numpy>=1.24"], "the library needs NumPy alone"
    extra = {req.split(">")[0].split("=")[0] for req in project["optional-dependencies"]["tools"]}
    assert extra == {"nbformat", "nbclient", "ipykernel", "pyyaml"}
    unexpected = _imported_names("nnscratch_tools") - set(TOOLS_IMPORTS)
    assert not unexpected, f"declare these in the extra tools (or TOOLS_IMPORTS): {unexpected}"


def test_the_library_never_mentions_the_tools():
    mentions = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "nnscratch").rglob("*.py")
        if "nnscratch_tools" in path.read_text(encoding="utf-8")
    ]
    assert mentions == []
