"""Shared pytest fixtures for the nnscratch tests."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pytest

#: The tests mirror the packages: ``tests/library/`` (nnscratch), ``tests/checks/``
#: (nnscratch.checks), ``tests/tools/`` (nnscratch_tools and tools/) and ``tests/course/`` (the
#: repository: environment, packaging, figures, bench). Tests of the instructor and course tools
#: start kernels, JupyterLab, a hub, a browser, sandboxes or pip and take minutes, so every file
#: under ``tests/tools/`` gets the marker ``slow_tools``; ``make unit-fast`` leaves them out and
#: ``make test`` runs them.
TESTS = Path(__file__).resolve().parent
TEST_FOLDERS = ("library", "checks", "tools", "course")
SLOW_TOOL_FOLDERS = ("tools",)


def is_slow_tool_test(path: Path) -> bool:
    """Whether the test file at ``path`` holds slow tool tests: whether it is under tests/tools/."""
    path = Path(path).resolve()
    folders = path.relative_to(TESTS).parts[:-1] if path.is_relative_to(TESTS) else ()
    return bool(set(folders) & set(SLOW_TOOL_FOLDERS))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The CPU time this run used, its own and that of the processes it waited for (kernels,
    sandboxes, servers, the browser): on a 2-core machine, `make test`'s parts side by side
    take about the sum of these over two, so this is where its time goes."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    terminalreporter.write_line(
        f"CPU time: {own.ru_utime + own.ru_stime:.0f} s in pytest, "
        f"{children.ru_utime + children.ru_stime:.0f} s in the processes it started"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if is_slow_tool_test(item.path):
            item.add_marker(pytest.mark.slow_tools)


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so every test sees the same numbers."""
    return np.random.default_rng(0)


@contextmanager
def _strict_numerics() -> Iterator[None]:
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


@pytest.fixture
def strict() -> Callable[[], AbstractContextManager[None]]:
    """A context manager factory: inside ``with strict():`` every NumPy floating-point event
    (overflow, underflow, invalid, divide) and every warning is an error."""
    return _strict_numerics


@pytest.fixture(scope="session")
def course_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The course website as `make site` builds it (student edition included), built once per
    test session for every test that reads it: building it is the slowest step of the site
    tests. Its folder is under the temporary folder (/tmp) and its name has a space, so the
    build is shown to work from any folder. Without the site tools: one skip line (a failure
    when NNSCRATCH_CI is set)."""
    if importlib.util.find_spec("jupyter_book") is None:
        message = "site tools not installed (pip install -r requirements-site.txt, or make site)"
        if os.environ.get("NNSCRATCH_CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_site", root / "tools" / "build_site.py")
    build_site = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_site)
    out = tmp_path_factory.mktemp("built site") / "site"
    assert build_site.build(out) == out / "index.html"
    return out


def _load_tool(name: str):
    """A script of tools/ (not a package) loaded as a module."""
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location(name, root / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def course_decks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every lecture deck rendered once per test session by tools/build_slides.py into a
    temporary folder (under /tmp, its name with a space: the decks and their assets work from
    any folder), for every test that reads or opens the decks (test_lectures, test_browser).
    Returns the folder; ``NN_name.slides.html`` beside the vendored assets."""
    build_slides = _load_tool("build_slides")
    out = tmp_path_factory.mktemp("built slides")
    decks = build_slides.find_decks()
    paths = build_slides.build(decks, out)
    assert [p.name for p in paths] == [f"{d.stem}.slides.html" for d in decks]
    return out


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="session")
def course_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The student edition of this checkout, made once per test session with the README's
    command (``nnscratch release --out DIR``, run in the checkout) into a temporary folder whose
    name has a space, for the tests that only read it (test_release's real notebooks) or copy
    it (the hub's instructor repository). The release must not touch notebooks/: checked here,
    byte for byte."""
    root = Path(__file__).resolve().parents[1]
    out = tmp_path_factory.mktemp("release") / "student edition"
    before = _tree_digest(root / "notebooks")
    nnscratch = Path(sys.executable).with_name("nnscratch")
    subprocess.run(
        [str(nnscratch), "release", "--out", str(out)],
        cwd=root, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    assert _tree_digest(root / "notebooks") == before, "release modified notebooks/"
    return out


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright, launched once per test session and shared by
    every browser test (each test opens its own context: cookies, storage and routes are not
    shared). Callers skip first when Chromium or Playwright is missing."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def course_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """`make lab`, as the README tells students to start the course, in a copy of the course
    under the temporary folder (/tmp) in folders whose names have spaces, its .venv linked (not
    rebuilt), with the student edition in ``notebooks/student_edition``. Started once per test
    session for every test that uses JupyterLab; yields url, token, folder (the notebooks),
    checkout and log."""
    from fixtures.servers import free_port, running

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = Path(__file__).resolve().parents[1]
    base = tmp_path_factory.mktemp("lab")
    course = base / "my courses" / "nn from scratch"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "__pycache__", "*.egg-info", ".*cache"
    )
    shutil.copytree(root, course, ignore=skip)  # copy2 keeps times: the stamp stays valid
    (course / ".venv").symlink_to(root / ".venv")
    env_path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    subprocess.run(
        [sys.executable, "-m", "nnscratch_tools", "release", "--source", str(course), "--out",
         str(base / "student")],
        check=True, cwd=course, env={**os.environ, "PYTHONPATH": env_path},
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    shutil.copytree(base / "student", course / "notebooks" / "student_edition")
    port, token = free_port(), "nnscratch-test"
    private = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
    }
    env = {**os.environ, **{k: str(v) for k, v in private.items()}}
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    url = f"http://127.0.0.1:{port}"
    log = base / "lab.log"
    # --old-file: the environment is the one running this test; `make lab` must not rebuild it.
    make_lab = ["make", "--no-print-directory", "--old-file=.venv/.installed", "lab",
                f"LAB_ARGS={args}"]  # fmt: skip
    ready = f"{url}/api/status?token={token}"
    with running(make_lab, cwd=course, env=env, log=log, ready_url=ready, what="make lab"):
        yield {"url": url, "token": token, "folder": course / "notebooks", "checkout": course,
               "log": log}  # fmt: skip
