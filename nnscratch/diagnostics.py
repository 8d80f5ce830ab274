"""Looking inside a network: the activations of each layer and the gradient of each layer.

Notebook 08 uses these to show what initialisation does to the activations (histograms per
layer) and how gradients vanish in a deep sigmoid network (gradient norm per layer).
NumPy only.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_batch
from .layers import Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .losses import Loss

__all__ = ["leaf_modules", "layer_outputs", "weight_grad_norms", "gradient_norms"]

#: The module types ``layer_outputs`` records by default: the activation functions.
ACTIVATION_TYPES: tuple[type[Module], ...] = (ReLU, Sigmoid, Tanh)


def leaf_modules(model: Module) -> list[Module]:
    """The modules of ``model`` in the order ``forward`` runs them, nested ``Sequential`` s
    opened up; a model that is not a ``Sequential`` is its own single leaf."""
    if not isinstance(model, Module):
        raise TypeError(f"model must be an nnscratch Module, got {type(model).__name__}")
    if not isinstance(model, Sequential):
        return [model]
    leaves: list[Module] = []
    for m in model:
        leaves.extend(leaf_modules(m))
    return leaves


def layer_outputs(
    model: Sequential,
    X: np.ndarray,
    *,
    types: tuple[type[Module], ...] = ACTIVATION_TYPES,
) -> list[np.ndarray]:
    """Run ``X (n, features)`` through ``model`` in eval mode and keep what chosen layers output.

    Args:
        model: a ``Sequential`` (such as an ``MLP``).
        X: a batch ``(n, features)``.
        types: which module types to record (default: the activations ReLU, Sigmoid, Tanh;
            pass ``(Linear,)`` for the pre-activations).

    Returns:
        One array ``(n, width)`` per recorded layer, from input to output. The model's
        train/eval mode is restored afterwards; parameters are not changed.

    Raises:
        TypeError: ``model`` is not a ``Sequential``.
        ValueError: ``X`` is not a 2-D batch, or no layer of the chosen types exists.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a Sequential (e.g. an MLP), got {type(model).__name__}")
    h = as_batch(X, "X")
    leaves = leaf_modules(model)
    if not any(isinstance(m, types) for m in leaves):
        names = ", ".join(t.__name__ for t in types)
        raise ValueError(f"model has no layer of type {names} to record")
    was_training = model.training
    model.eval()
    outputs = []
    try:
        for m in leaves:
            h = m(h)
            if isinstance(m, types):
                outputs.append(h.copy())
    finally:
        model.train(was_training)
    return outputs


def weight_grad_norms(model: Module) -> np.ndarray:
    """Frobenius norm of the weight gradient of every ``Linear`` layer, input to output.

    Returns:
        ``(num_linear_layers,)`` floats, read from ``layer.weight.grad`` as it is now
        (call the model's forward and backward first).

    Raises:
        ValueError: the model has no ``Linear`` layer.
    """
    linears = [m for m in leaf_modules(model) if isinstance(m, Linear)]
    if not linears:
        raise ValueError("model has no Linear layer, so there are no weight gradients")
    return np.array([float(np.linalg.norm(m.weight.grad)) for m in linears])


def gradient_norms(model: Module, loss: Loss, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weight-gradient norm per ``Linear`` layer for one batch: zero the gradients, then
    forward ``X (n, features)``, ``loss(out, y)``, backward.

    The gradients stay in the parameters afterwards (as after ``backward`` in torch);
    the weights themselves are not changed. Returns ``(num_linear_layers,)`` floats.
    """
    if not isinstance(loss, Loss):
        raise TypeError(f"loss must be an nnscratch loss object, got {type(loss).__name__}")
    model.zero_grad()
    out = model(as_batch(X, "X"))
    loss(out, y)
    model.backward(loss.backward())
    return weight_grad_norms(model)
