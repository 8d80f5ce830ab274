"""nnscratch: the teaching library of *Neural Networks from Scratch*.

NumPy only at import time. The modules follow the course:
``functional`` (activations), ``losses``, ``layers``, ``optim``, ``gradcheck``,
``autodiff`` (a scalar engine), ``perceptron``, ``data``, ``training``; and, imported on
first use because they need matplotlib / ipywidgets / torch: ``plotting``, ``widgets``,
``checks`` and ``torch_utils``.
"""

from __future__ import annotations

import importlib
from typing import Any

from . import (
    attention,
    autodiff,
    data,
    functional,
    gradcheck,
    layers,
    losses,
    optim,
    perceptron,
    training,
)
from .layers import (
    MLP,
    Conv2d,
    Dropout,
    Flatten,
    Linear,
    MaxPool2d,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
    Unflatten,
)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .notebook import setup_notebook
from .training import accuracy, fit, predict

__version__ = "0.1.0"

_LAZY = ("plotting", "widgets", "checks", "torch_utils")

__all__ = [
    "__version__",
    "setup_notebook",
    "attention",
    "autodiff",
    "data",
    "functional",
    "gradcheck",
    "layers",
    "losses",
    "optim",
    "perceptron",
    "training",
    "Parameter",
    "Module",
    "Linear",
    "ReLU",
    "Sigmoid",
    "Tanh",
    "Dropout",
    "Flatten",
    "Sequential",
    "MLP",
    "Conv2d",
    "MaxPool2d",
    "Unflatten",
    "MSELoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "fit",
    "predict",
    "accuracy",
]


def __getattr__(name: str) -> Any:
    # Modules that need matplotlib, ipywidgets or torch load on first access.
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'nnscratch' has no attribute {name!r}")
