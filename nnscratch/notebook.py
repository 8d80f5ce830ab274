"""The one set-up call at the top of every course notebook: ``nnscratch.setup_notebook(seed=0)``."""

from __future__ import annotations

import importlib.util
import os
import random
import sys
import warnings

import numpy as np

__all__ = ["setup_notebook", "NOTEBOOK_ENV"]

#: Environment variables that ``make execute`` and ``make test`` both set, so stored and
#: fresh outputs agree. ``setup_notebook`` sets the same ones for students' own runs.
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


def setup_notebook(seed: int = 0, *, torch: bool | None = None, threads: int = 1) -> None:
    """Make a notebook reproducible and its output tidy.

    - seeds Python's ``random`` and NumPy's global generator (for students' own code; the
      library itself always takes an explicit ``rng``);
    - if torch is installed (or ``torch=True``), seeds it, turns on deterministic algorithms
      and fixes its thread count to ``threads``; ``torch=False`` skips torch entirely;
    - prints NumPy arrays with 4 decimals and quiets warnings known to be harmless;
    - sets a colour-blind-friendly matplotlib style if matplotlib is installed, and inside a
      Jupyter kernel the inline backend, so ``plt.show()`` stores the figure in the notebook.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    for key, value in NOTEBOOK_ENV.items():
        if key != "MPLBACKEND":  # an interactive session keeps its own plotting backend
            os.environ.setdefault(key, value)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - deliberately the global generator, for student code
    np.set_printoptions(precision=4, suppress=True, linewidth=100)
    warnings.filterwarnings("ignore", message=".*Jupyter is migrating its paths.*")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="jupyter_client.*")
    if torch is None:
        torch = "torch" in sys.modules or importlib.util.find_spec("torch") is not None
    if torch:
        import torch as _torch

        _torch.manual_seed(seed)
        _torch.use_deterministic_algorithms(True, warn_only=True)
        _torch.set_num_threads(threads)
        _torch.backends.cudnn.benchmark = False
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        warnings.filterwarnings(
            "ignore", message=".*does not have a deterministic implementation.*"
        )
    if importlib.util.find_spec("matplotlib") is not None:
        import matplotlib as mpl

        from .plotting import COLORS  # the course's colour-blind-safe cycle, defined once

        _inline_figures_in_jupyter()

        mpl.rcParams.update(
            {
                "axes.prop_cycle": mpl.cycler(color=list(COLORS)),
                "figure.dpi": 72,
                "figure.figsize": (6.0, 4.0),
                "axes.grid": True,
                "grid.alpha": 0.3,
                "image.cmap": "viridis",
            }
        )
