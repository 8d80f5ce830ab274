"""Shared pytest fixtures for the nnscratch tests."""

from __future__ import annotations

import importlib.util
import os
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
