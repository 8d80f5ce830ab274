"""The one set-up call at the top of every course notebook: ``nnscratch.setup_notebook(seed=0)``."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import warnings
from typing import Any

import numpy as np

from ._validate import as_int

__all__ = ["setup_notebook", "NOTEBOOK_ENV"]

#: Environment variables that ``make execute`` and ``make test`` both set, so stored and
#: fresh outputs agree. ``setup_notebook`` sets the same ones (where unset) for students' own
#: runs. The Makefile adds ``NNSCRATCH_DEVICE=cpu``, which is deliberately not here: a student
#: running notebook 10 by hand should get the GPU.
NOTEBOOK_ENV: dict[str, str] = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
}


def _inline_figures_in_jupyter() -> None:
    # Under `make execute`/`make test` MPLBACKEND=Agg, which would store no figures at all;
    # inside a Jupyter kernel, switch to the inline backend so plt.show() embeds a PNG.
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        shell.run_line_magic("matplotlib", "inline")


def _deterministic_algorithms(torch: Any) -> None:
    """``torch.use_deterministic_algorithms(True, warn_only=True)``, without its import cost.

    That call also sets the flag for ``torch.compile``'s compiler (``torch._inductor``), and
    importing the compiler's config to do so imports the whole compiler: about 1.7 s of CPU
    in every notebook that uses torch, none of which compiles anything. Until the compiler
    is imported, its environment variable sets the same flag when it is; then the switch
    that the call itself flips.
    """
    if "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    os.environ["TORCHINDUCTOR_DETERMINISTIC"] = "1"
    torch._C._set_deterministic_algorithms(True, warn_only=True)


def setup_notebook(seed: int = 0, *, torch: bool | None = None, threads: int = 1) -> None:
    """Make a notebook reproducible and its output tidy.

    - seeds Python's ``random`` and NumPy's global generator (for students' own code; the
      library itself always takes an explicit ``rng``);
    - sets the thread-count variables of ``NOTEBOOK_ENV`` where they are not set already (a
      user's own choice wins);
    - with ``torch=True``, or by default when torch is already imported (``import torch``
      before this call, as notebooks 09 and 10 do), seeds torch, turns on its deterministic
      algorithms (``warn_only=True``: an operation without a deterministic implementation
      still runs, and torch's warning about it is shown, not hidden) and fixes its thread
      count to ``threads``. Otherwise torch is not imported at all, so notebooks that never
      use it start quickly; ``torch=False`` skips torch even when it is imported;
    - prints NumPy arrays with 4 decimals and quiets warnings known to be harmless (Jupyter's
      own start-up notices);
    - sets a colour-blind-friendly matplotlib style if matplotlib is installed, and inside a
      Jupyter kernel the inline backend, so ``plt.show()`` stores the figure in the notebook.

    The compute device is not chosen here: ``nnscratch.torch_utils.get_device()`` picks the
    best one, or the one named by the environment variable ``NNSCRATCH_DEVICE`` (which
    ``make execute`` and ``make test`` set to ``cpu``, so stored outputs are CPU outputs).

    Raises:
        TypeError: for a seed that is not an int.
        ValueError: for a negative seed.
    """
    seed = as_int(seed, "seed", 0)
    for key, value in NOTEBOOK_ENV.items():
        if key != "MPLBACKEND":  # an interactive session keeps its own plotting backend
            os.environ.setdefault(key, value)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - deliberately the global generator, for student code
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    warnings.filterwarnings("ignore", message=".*Jupyter is migrating its paths.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="jupyter_client.*")
    if torch is None:
        torch = "torch" in sys.modules  # never import torch for a notebook that does not use it
    if torch:
        try:
            import torch as _torch
        except ImportError as exc:
            raise ImportError(
                "setup_notebook(torch=True) needs PyTorch, which is not installed here; "
                "install the pinned environment (make setup) or call setup_notebook(seed) "
                "without torch=True"
            ) from exc

        _torch.manual_seed(seed)
        _deterministic_algorithms(_torch)
        _torch.set_num_threads(threads)
        _torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib as mpl
        from cycler import cycler

        from .plotting import COLORS  # the course's colour-blind-safe cycle, defined once

        _inline_figures_in_jupyter()

        mpl.rcParams.update(
            {
                "axes.prop_cycle": cycler(color=list(COLORS)),
                "figure.dpi": 72,
                "figure.figsize": (6.0, 4.0),
                "axes.grid": True,
                "grid.alpha": 0.3,
                "image.cmap": "viridis",
            }
        )
