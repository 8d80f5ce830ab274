"""The pinned environment has one source of truth (requirements.txt) and nothing drifts from it."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest
import yaml

from nnscratch.notebook import NOTEBOOK_ENV

ROOT = Path(__file__).resolve().parents[2]
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
    # the site's and browser tests' tools come in the same install, so `make test` has them
    assert "SITE_REQS := $(wildcard requirements-site.txt)" in makefile
    assert "$(STAMP): requirements.txt pyproject.toml $(SITE_REQS)" in makefile
    assert "-r $(SITE_REQS)" in make_recipe("$(STAMP)")


def test_importing_nbformat_compiles_no_grammar() -> None:
    """`make setup` removes rfc3987-syntax: its import compiles 38 lark grammars (about 2 s
    of CPU) in every process that validates a notebook, the grader's runner for each
    submission included, for an IRI format no schema here uses."""
    import subprocess
    import sys

    code = "import nbformat, jsonschema, sys; print(sorted(m for m in sys.modules if 'lark' in m))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]", done.stdout
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout


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


def make_variable(name: str, op: str = ":=") -> dict[str, str]:
    """The KEY=VALUE pairs of a Makefile variable (continuation lines included)."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{name} {re.escape(op)}(.*?)(?<!\\)\n", makefile, re.S | re.M)
    assert match, f"{name} not found in the Makefile"
    return dict(re.findall(r"(\w+)=(\S+)", match.group(1)))


def make_variable_list(name: str) -> list[str]:
    """The words of the Makefile variable ``name`` (``:=``, continued lines joined)."""
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    match = re.search(rf"^{re.escape(name)}\s*:=(.*)$", makefile, re.M)
    assert match, f"no variable {name!r} in the Makefile"
    return match.group(1).split()


def make_recipe(target: str) -> str:
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", makefile, re.M)
    assert match, f"no recipe for {target!r} in the Makefile"
    return match.group(1)


def test_make_and_notebook_helper_share_the_environment_variables() -> None:
    make_env = make_variable("NB_ENV")
    for key, value in NOTEBOOK_ENV.items():
        assert make_env.get(key) == value, f"{key}: Makefile {make_env.get(key)!r} vs {value!r}"


def test_make_pins_the_device_but_setup_notebook_does_not() -> None:
    # `make execute` / `make test` on a CUDA or MPS machine must reproduce the CPU outputs,
    # while a student running notebook 10 by hand (setup_notebook only) gets the accelerator.
    assert make_variable("NB_ENV").get("NNSCRATCH_DEVICE") == "cpu"
    assert "NNSCRATCH_DEVICE" not in NOTEBOOK_ENV


def test_make_nbval_checks_another_configuration_than_make_execute() -> None:
    execute_env, check_env = make_variable("NB_ENV"), make_variable("NBVAL_ENV", "?=")
    assert check_env["OPENBLAS_NUM_THREADS"] != execute_env["OPENBLAS_NUM_THREADS"]
    assert check_env.get("OPENBLAS_CORETYPE") and "OPENBLAS_CORETYPE" not in execute_env
    assert "$(NB_ENV) $(NBVAL_ENV) " in make_recipe("nbval")  # later assignments win
    assert "$(NB_ENV) " in make_recipe("execute") and "NBVAL_ENV" not in make_recipe("execute")
    test = make_recipe("test")
    for part in ("lint", "unit-grading", "unit-browser", "unit-others", "nbval"):
        assert re.search(rf"^\t\$\(MAKE\)[^\n]* {part}\b", test, re.M), f"make test skips {part}"
    # The three unit parts are `make unit` split in three: the grading files, the files that
    # share the browser and server fixtures, and all the others.
    grading, browser = make_variable_list("GRADING_TESTS"), make_variable_list("BROWSER_TESTS")
    for files in (grading, browser):
        assert files and all((ROOT / path).is_file() for path in files), files
    assert not set(grading) & set(browser)
    assert "$(GRADING_TESTS)" in make_recipe("unit-grading")
    assert "$(BROWSER_TESTS)" in make_recipe("unit-browser")
    others = make_recipe("unit-others")
    assert "$(addprefix --ignore=,$(GRADING_TESTS) $(BROWSER_TESTS)) tests" in others
    # A test file that uses a session fixture of the browser part must run in that part, or
    # the fixture (a Chromium, a JupyterLab, a site build) is built twice.
    shared = ("course_site", "course_lab", "chromium", "course_decks", "course_release")
    for path in (ROOT / "tests").rglob("test_*.py"):
        text = path.read_text(encoding="utf-8")
        if any(re.search(rf"def \w+\([^)]*\b{name}\b", text) for name in shared):
            assert path.relative_to(ROOT).as_posix() in browser, path


def _root_conftest():  # type: ignore[no-untyped-def]
    """tests/conftest.py as a module (``import conftest`` may find tests/tools/conftest.py:
    pytest puts each test folder on sys.path)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("root_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unit_fast_leaves_out_the_registered_slow_tool_marker() -> None:
    import tomllib

    conftest = _root_conftest()

    ini = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert any(m.startswith("slow_tools:") for m in ini["markers"])
    assert '-m "not slow_tools"' in make_recipe("unit-fast")
    assert "-m" not in make_recipe("unit").split()  # make test runs everything
    tests = ROOT / "tests"
    assert conftest.is_slow_tool_test(tests / "tools" / "test_anything.py")  # by folder
    assert conftest.is_slow_tool_test(tests / "tools" / "grading" / "test_x.py")
    assert not conftest.is_slow_tool_test(tests / "library" / "test_wheel.py")
    assert not conftest.is_slow_tool_test(tests / "checks" / "test_checks_nb05.py")
    assert not conftest.is_slow_tool_test(tests / "course" / "test_packaging.py")


def test_every_test_file_sits_in_a_folder_that_mirrors_a_package() -> None:
    """No test file at the top of tests/ or in a folder of its own making: the slow marker is
    set by folder, so a file elsewhere would silently change which tests `make unit-fast` runs."""
    conftest = _root_conftest()

    tests = ROOT / "tests"
    misplaced = [
        str(p.relative_to(tests))
        for p in tests.rglob("test_*.py")
        if p.relative_to(tests).parts[0] not in conftest.TEST_FOLDERS
    ]
    assert not misplaced, f"test files outside {conftest.TEST_FOLDERS}: {misplaced}"
    for folder in conftest.TEST_FOLDERS:
        assert any((tests / folder).glob("test_*.py")), f"tests/{folder}/ holds no tests"


def test_ci_runs_make_test() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", script, re.M)


@pytest.mark.parametrize(
    "folder", ["notebooks", "lectures", "projects", "bench", "nnscratch", "tests"]
)
def test_layout(folder: str) -> None:
    assert (ROOT / folder).is_dir()
