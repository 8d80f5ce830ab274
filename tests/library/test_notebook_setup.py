"""nnscratch.setup_notebook: seeding, option checks, environment defaults."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator

import numpy as np
import pytest

from nnscratch import setup_notebook
from nnscratch.notebook import NOTEBOOK_ENV


@pytest.fixture(autouse=True)
def _restore_global_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """setup_notebook changes process-wide settings; put them back after each test."""
    for key in [*NOTEBOOK_ENV, "CUBLAS_WORKSPACE_CONFIG"]:
        monkeypatch.setenv(key, "placeholder")  # remembers the original value (or absence)
        monkeypatch.delenv(key)
    options = np.get_printoptions()
    state = np.random.get_state()  # noqa: NPY002
    try:
        import matplotlib as mpl
    except ImportError:  # pragma: no cover - matplotlib is in the pinned environment
        mpl = None
    rc = mpl.rcParams.copy() if mpl is not None else None
    with warnings.catch_warnings():
        yield
    np.set_printoptions(**options)
    np.random.set_state(state)  # noqa: NPY002
    if mpl is not None:
        mpl.rcParams.update(rc)


def test_seeds_numpy_and_random_globally():
    setup_notebook(seed=3, torch=False)
    a, r = np.random.rand(4), random.random()  # noqa: NPY002
    setup_notebook(seed=3, torch=False)
    np.testing.assert_array_equal(np.random.rand(4), a)  # noqa: NPY002
    assert random.random() == r
    setup_notebook(seed=4, torch=False)
    assert not np.array_equal(np.random.rand(4), a)  # noqa: NPY002


def test_rejects_a_negative_seed():
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        setup_notebook(seed=-1, torch=False)


@pytest.mark.parametrize("seed", [1.5, "0", True, None])
def test_rejects_a_seed_that_is_not_an_int(seed):
    with pytest.raises(TypeError, match="seed must be an int, got " + re.escape(repr(seed))):
        setup_notebook(seed=seed, torch=False)


def test_print_options_and_environment():
    setup_notebook(0, torch=False)
    assert np.get_printoptions()["precision"] == 4
    for key, value in NOTEBOOK_ENV.items():
        if key != "MPLBACKEND":
            assert os.environ[key] == value
    assert "MPLBACKEND" not in os.environ  # an interactive session keeps its backend
    os.environ["OMP_NUM_THREADS"] = "4"
    setup_notebook(0, torch=False)
    assert os.environ["OMP_NUM_THREADS"] == "4"  # a user's own choice is kept


def test_torch_false_leaves_torch_alone():
    code = (
        "import sys, nnscratch; nnscratch.setup_notebook(0, torch=False); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_default_setup_does_not_import_torch():
    """Notebooks 01-08 never use torch: setup_notebook() must not spend seconds importing it."""
    code = (
        "import sys, nnscratch; assert 'torch' not in sys.modules; "
        "nnscratch.setup_notebook(seed=0); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_torch_already_imported_is_seeded_by_default():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        setup_notebook(5)  # torch is in sys.modules here, as after `import torch` in 09 and 10
        a = torch.rand(3)
        torch.manual_seed(5)
        assert torch.equal(torch.rand(3), a)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.get_num_threads() == 1
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def test_nondeterministic_operation_warning_is_shown_not_hidden():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            setup_notebook(0, torch=True)
            # put_ without accumulate has no deterministic implementation, even on the CPU
            torch.zeros(3).put_(torch.tensor([0, 0]), torch.tensor([1.0, 2.0]))
        messages = [str(w.message) for w in caught]
        assert any("does not have a deterministic implementation" in m for m in messages), messages
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def test_setup_never_pins_the_device(monkeypatch):
    monkeypatch.delenv("NNSCRATCH_DEVICE", raising=False)
    setup_notebook(0, torch=False)
    assert "NNSCRATCH_DEVICE" not in os.environ  # a student's notebook 10 gets the GPU
    assert "NNSCRATCH_DEVICE" not in NOTEBOOK_ENV


def test_torch_is_seeded_when_asked():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    try:
        setup_notebook(7, torch=True)
        a = torch.rand(3)
        setup_notebook(7, torch=True)
        assert torch.equal(torch.rand(3), a)
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(threads)


def test_setup_switches_to_inline_figures_inside_a_jupyter_kernel(monkeypatch) -> None:
    import sys
    import types

    import nnscratch

    calls = []

    class FakeShell:
        kernel = object()

        def run_line_magic(self, name: str, arg: str) -> None:
            calls.append((name, arg))

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: FakeShell()
    monkeypatch.setitem(sys.modules, "IPython", fake)
    nnscratch.setup_notebook(seed=0, torch=False)
    assert calls == [("matplotlib", "inline")]


def test_setup_leaves_the_backend_alone_outside_jupyter(monkeypatch) -> None:
    import sys
    import types

    import nnscratch

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: None
    monkeypatch.setitem(sys.modules, "IPython", fake)
    nnscratch.setup_notebook(seed=0, torch=False)  # must not fail without a shell


def test_deterministic_torch_is_what_the_public_call_sets_without_importing_the_compiler():
    """After setup_notebook, torch is in the state torch.use_deterministic_algorithms(True,
    warn_only=True) documents (deterministic, warn-only, and the compiler's own flag once the
    compiler is imported), and the compiler was not imported by it. In a fresh process: the
    compiler's flag is read when it is first imported."""
    pytest.importorskip("torch")
    code = (
        "import sys, torch; from nnscratch.notebook import setup_notebook; "
        "setup_notebook(0, torch=True); loaded = 'torch._inductor' in sys.modules; "
        "import torch._inductor.config as c; "
        "print(torch.are_deterministic_algorithms_enabled(), "
        "torch.is_deterministic_algorithms_warn_only_enabled(), c.deterministic, loaded)"
    )
    env = {k: v for k, v in os.environ.items() if k != "TORCHINDUCTOR_DETERMINISTIC"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True)  # fmt: skip
    assert done.stdout.split() == ["True", "True", "True", "False"], done.stdout
