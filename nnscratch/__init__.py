"""nnscratch: the teaching library of *Neural Networks from Scratch*.

NumPy only at import time. The modules follow the course:
``functional`` (activations), ``losses``, ``layers``, ``init`` (weight initialisers),
``optim``, ``gradcheck``, ``conv`` (convolution and pooling), ``attention``,
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
    conv,
    data,
    functional,
    gradcheck,
    init,
    layers,
    losses,
    optim,
    perceptron,
    training,
)
from .conv import Conv2d, MaxPool2d, Unflatten
from .layers import (
    MLP,
    Dropout,
    Flatten,
    Linear,
    Module,
    Parameter,
    ReLU,
    Sequential,
    Sigmoid,
    Tanh,
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
    "conv",
    "data",
    "functional",
    "gradcheck",
    "init",
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
