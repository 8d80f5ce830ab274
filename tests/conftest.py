"""Shared pytest fixtures for the nnscratch tests."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import warnings
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pytest

#: Tests of the course and instructor tools start kernels, JupyterLab, a browser, sandboxes or
#: pip, and take minutes. They get the marker ``slow_tools``: every file under a folder of
#: SLOW_TOOL_FOLDERS (``tests/tools/``, mirroring the packages as ``tests/library/`` and
#: ``tests/checks/`` do), and, wherever it sits, a file whose name matches SLOW_TOOL_FILES (so
#: a new ``test_grade_sandbox.py`` is covered too). ``make unit-fast`` leaves them out,
#: ``make test`` runs them.
TESTS = Path(__file__).resolve().parent
SLOW_TOOL_FOLDERS = ("tools",)
SLOW_TOOL_FILES = (
    "test_grade*.py",
    "test_grading*.py",
    "test_sandbox*.py",
    "test_hostile*.py",
    "test_release*.py",
    "test_lab*.py",
    "test_lectures*.py",
    "test_cli*.py",
    "test_browser*.py",
    "test_site*.py",
    "test_wheel*.py",
    "test_jupyterhub*.py",
)


def is_slow_tool_file(name: str) -> bool:
    """Whether the test file called ``name`` (a base name) holds slow tool tests."""
    return any(fnmatch.fnmatch(name, pattern) for pattern in SLOW_TOOL_FILES)


def is_slow_tool_test(path: Path) -> bool:
    """Whether the test file at ``path`` holds slow tool tests: by its folder or its name."""
    path = Path(path).resolve()
    folders = path.relative_to(TESTS).parts[:-1] if path.is_relative_to(TESTS) else ()
    return bool(set(folders) & set(SLOW_TOOL_FOLDERS)) or is_slow_tool_file(path.name)


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
