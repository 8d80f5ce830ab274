"""Layers as forward/backward pairs, and the containers that chain them.

These are the layers of notebook 05. Every module caches in ``forward`` what its
``backward`` needs. ``backward(grad_out)`` takes dL/d(output) and returns dL/d(input),
adding parameter gradients into ``Parameter.grad`` (accumulating, like torch, until
``zero_grad()``). Shapes are ``(batch, features)``; names and conventions follow ``torch.nn``.

One speed idea, from notebook 05: nobody needs dL/d(input) of the *data*, so a training
loop calls ``model.backward_params(grad_out)``, which fills the same parameter gradients
as ``backward`` but lets the first layer skip its input gradient (for a ``Linear``, one of
its three matrix products). Any module supports it: by default it is ``backward`` with the
result dropped.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence

import numpy as np

from ._rng import as_generator
from ._validate import as_array, as_batch, as_int
from .functional import relu, sigmoid
from .init import float_dtype, init_bias, init_weight

__all__ = [
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
]


class Parameter:
    """A trainable array ``data`` together with its gradient ``grad`` (same shape, starts at 0).

    ``zero_grad()`` works like torch's (``set_to_none=True``, its default): it drops the
    gradient array instead of writing zeros into it. Reading ``grad`` then gives a fresh
    array of zeros, so every reader sees the same numbers; ``accumulate(update)`` (what
    the layers' backward passes use for ``grad += update``) stores ``update`` itself instead
    of adding it to zeros, which saves two passes over the weights (notebook 05).
    """

    def __init__(self, data: np.ndarray) -> None:
        self.data = np.asarray(data)
        self._grad: np.ndarray | None = None

    @property
    def grad(self) -> np.ndarray:
        """dL/d(data), the shape of ``data``: zeros until a backward pass adds to it."""
        if self._grad is None:
            self._grad = np.zeros_like(self.data)
        return self._grad

    @grad.setter
    def grad(self, value: np.ndarray) -> None:
        self._grad = value

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of ``data``."""
        return self.data.shape

    def accumulate(self, update: np.ndarray) -> None:
        """``grad += update`` for an ``update`` with the shape of ``data``, made for this call.

        Right after ``zero_grad()`` there is nothing to add to, so ``update`` itself becomes
        ``grad`` (in the dtype of ``data``): no zeros written, no addition. So ``update`` must
        be a new array that nothing else holds (a product or a sum made by the caller).
        """
        if update.shape != self.data.shape:
            raise ValueError(
                f"a gradient of shape {update.shape} for a parameter of shape {self.shape}"
            )
        if self._grad is None:
            self._grad = update.astype(self.data.dtype, copy=False)
        else:
            self._grad += update

    def accumulate_matmul(self, a: np.ndarray, b: np.ndarray) -> None:
        """``grad += a @ b``, for a product with the shape of ``data``: ``accumulate`` of the
        product, made here, so no other array can share memory with ``grad``."""
        product = a @ b
        if product.shape != self.data.shape:
            raise ValueError(
                f"a product of shape {product.shape} for a parameter of shape {self.shape}"
            )
        self.accumulate(product)

    def zero_grad(self) -> None:
        """Reset ``grad`` to zeros (by dropping the array, as torch does)."""
        self._grad = None

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer: ``module(x)`` calls ``forward(x)``; ``backward`` goes back.

    Subclasses set ``Parameter`` attributes (found by ``parameters()``) and child modules.
    """

    training: bool = True

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def forward(self, x: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Compute the output from input ``x`` and cache what ``backward`` needs."""
        raise NotImplementedError

    def backward(self, grad_out: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Given dL/d(output), accumulate parameter gradients and return dL/d(input)."""
        raise NotImplementedError

    def backward_params(self, grad_out: np.ndarray) -> None:
        """Accumulate the parameter gradients of ``backward(grad_out)``, without dL/d(input).

        For the first layer of a model, whose input is the data: nobody needs the data's
        gradient. This default runs ``backward`` and drops the result; ``Linear`` and
        ``Sequential`` skip the work instead.
        """
        self.backward(grad_out)

    def children(self) -> list[Module]:
        """Direct sub-modules, in definition order."""
        return [v for v in vars(self).values() if isinstance(v, Module)]

    def parameters(self) -> list[Parameter]:
        """All parameters, in layer order, weight before bias (like torch).

        A parameter shared by two layers is listed once, so an optimiser updates it once.
        """
        params = [v for v in vars(self).values() if isinstance(v, Parameter)]
        for child in self.children():
            params.extend(child.parameters())
        unique: dict[int, Parameter] = {}
        for p in params:
            unique.setdefault(id(p), p)
        return list(unique.values())

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Switch to training mode (dropout active); returns ``self``."""
        self.training = mode
        for child in self.children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Switch to evaluation mode (dropout off); returns ``self``."""
        return self.train(False)

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return int(sum(p.data.size for p in self.parameters()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    """Fully connected layer ``y = x @ W.T + b``.

    Shapes: input ``(n, in_features)``, output ``(n, out_features)``;
    ``weight`` is ``(out_features, in_features)`` and ``bias`` ``(out_features,)`` as in torch.
    ``init`` is ``"he"`` (normal, std sqrt(2/in)), ``"xavier"`` (normal, std sqrt(2/(in+out))),
    ``"torch"`` (uniform +-1/sqrt(in), torch's default), ``"zeros"``, or a float std: the
    functions of ``nnscratch.init``.
    """

    #: The input of the last ``forward``, ``(n, in_features)``: what ``backward`` needs.
    x: np.ndarray

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        bias: bool = True,
        init: str | float = "he",
        rng: np.random.Generator | int | None = None,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        self.in_features = as_int(in_features, "in_features")
        self.out_features = as_int(out_features, "out_features")
        self.dtype = float_dtype(dtype)
        gen = as_generator(rng)
        w = init_weight(init, (self.out_features, self.in_features), gen)
        self.weight = Parameter(w.astype(self.dtype))
        self.bias: Parameter | None = None
        if bias:
            b = init_bias(init, self.out_features, self.in_features, gen)
            self.bias = Parameter(b.astype(self.dtype))

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (n, in_features) -> x @ W.T + b (n, out_features)``; caches ``x``."""
        x = as_batch(x, "input", self.in_features, owner=self)
        self.x = x  # cached for backward, (n, in_features)
        out = x @ self.weight.data.T
        if self.bias is not None:
            out += self.bias.data
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (n, out_features) -> grad_in (n, in_features)``; adds dW and db to the grads.

        The three lines of notebook 05's ``MyLinear.backward``, after a check of the shapes.
        """
        grad_out = self._checked_grad(grad_out)
        self.weight.grad += grad_out.T @ self.x
        if self.bias is not None:
            self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data

    def backward_params(self, grad_out: np.ndarray) -> None:
        """The parameter gradients of ``backward``, without dL/dx (notebook 05's shortcut).

        ``fit`` calls it on the first layer, whose input is the data. The gradients are added
        with ``accumulate`` (the same numbers as ``self.weight.grad += grad_out.T @ self.x``
        and ``self.bias.grad += grad_out.sum(axis=0)``): right after ``zero_grad()`` the
        product becomes the gradient instead of being added to fresh zeros, which saves two
        passes over the largest weight matrix of an MNIST-sized model (bench/README.md).
        """
        grad_out = self._checked_grad(grad_out)
        self.weight.accumulate_matmul(grad_out.T, self.x)
        if self.bias is not None:
            self.bias.accumulate(grad_out.sum(axis=0))

    def _checked_grad(self, grad_out: np.ndarray) -> np.ndarray:
        # ``self.x`` is what forward cached; without it there is nothing to differentiate.
        if not hasattr(self, "x"):
            raise RuntimeError(f"call forward before backward on {self!r}")
        return as_batch(grad_out, "grad_out", self.out_features)

    def __repr__(self) -> str:
        return (
            f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None})"
        )


class ReLU(Module):
    """Elementwise max(0, x); backward passes the gradient where x > 0. Shape preserved."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (n, d) -> max(0, x) (n, d)``; caches the mask x > 0."""
        x = as_array(x)
        self._mask = x > 0
        return relu(x)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (n, d) -> grad_out * (x > 0) (n, d)``."""
        return grad_out * self._mask


class Sigmoid(Module):
    """Elementwise logistic function; backward uses the cached output s: g * s * (1 - s)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (n, d) -> s = sigmoid(x) (n, d)``; caches s."""
        self._out = sigmoid(x)
        return self._out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (n, d) -> grad_out * s * (1 - s) (n, d)``."""
        s = self._out
        return grad_out * s * (1 - s)


class Tanh(Module):
    """Elementwise tanh; backward uses the cached output t: g * (1 - t**2)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (n, d) -> t = tanh(x) (n, d)``; caches t."""
        self._out = np.tanh(as_array(x))
        return self._out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (n, d) -> grad_out * (1 - t**2) (n, d)``."""
        t = self._out
        return grad_out * (1 - t * t)


class Dropout(Module):
    """Inverted dropout like ``torch.nn.Dropout``: in training, zero each input with probability
    ``p`` and scale survivors by 1/(1-p); in eval mode, the identity. Shape preserved."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | int | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, numbers.Real):
            raise TypeError(
                f"Dropout probability p must be a number, got {p!r} ({type(p).__name__})"
            )
        if not 0 <= p < 1:
            raise ValueError(f"Dropout probability p must be a number in [0, 1), got {p!r}")
        self.p: float = float(p)
        self._rng: np.random.Generator = as_generator(rng)
        self._mask: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x)
        if not self.training or self.p == 0:
            self._mask = None
            return x
        keep = self._rng.random(x.shape) >= self.p
        self._mask = keep.astype(x.dtype) / (1 - self.p)
        return x * self._mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out if self._mask is None else grad_out * self._mask

    def __repr__(self) -> str:
        return f"Dropout(p={self.p})"


class Flatten(Module):
    """Flatten every axis after the first: ``(n, d1, d2, ...) -> (n, d1*d2*...)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x)
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out.reshape(self._shape)


def _check_used_once(layers: Sequence[Module]) -> None:
    # A module caches its last input for backward, so one object cannot sit at two places
    # of a chain: the second forward would overwrite what the first backward needs.
    where: dict[int, int] = {}
    stack = list(enumerate(layers))
    while stack:
        i, m = stack.pop()
        if id(m) in where:
            raise ValueError(
                f"{m!r} appears twice in this Sequential (items {min(i, where[id(m)])} and "
                f"{max(i, where[id(m)])}). A module remembers its input for backward, so each "
                "place needs its own module object. To tie weights, share the Parameter "
                "instead: second.weight = first.weight (their gradients then add up)"
            )
        where[id(m)] = i
        if isinstance(m, Sequential):
            stack.extend((i, sub) for sub in m.layers)


class Sequential(Module):
    """Layers applied in order; backward runs them in reverse. Iterable, indexable and sized.

    Notebook 05's ``MySequential``, plus checks and ``backward_params``. Each module object
    may appear once (it caches its input); layers that share a ``Parameter`` (tied weights)
    are fine, and their gradients add up, as in torch.
    """

    def __init__(self, *layers: Module) -> None:
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(
                    f"Sequential item {i} must be a Module, got {type(layer).__name__}"
                )
        _check_used_once(layers)
        self.layers: list[Module] = list(layers)

    def children(self) -> list[Module]:
        return list(self.layers)  # so parameters() and zero_grad() find every layer's weights

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Input ``(n, in)`` -> output ``(n, out)``: each layer's output feeds the next."""
        for layer in self.layers:
            x = layer(x)
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """dL/d(output) ``(n, out)`` -> dL/d(input) ``(n, in)``: the layers in reverse."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def backward_params(self, grad_out: np.ndarray) -> None:
        """The same parameter gradients as ``backward``, without dL/d(input).

        Layers in front of the first one with parameters (an ``Unflatten`` before the first
        ``Conv2d``, say) need no gradient at all, so they are not run; the first layer with
        parameters skips its dL/d(input) (its ``backward_params``).
        """
        first = next((i for i, layer in enumerate(self.layers) if layer.parameters()), None)
        if first is None:  # no parameters anywhere: no gradient to compute
            return
        for layer in reversed(self.layers[first + 1 :]):
            grad_out = layer.backward(grad_out)
        self.layers[first].backward_params(grad_out)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int | slice) -> Module:
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __repr__(self) -> str:
        inner = "\n".join(f"  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"{type(self).__name__}(\n{inner}\n)"


_ACTIVATIONS: dict[str, type[Module]] = {"relu": ReLU, "sigmoid": Sigmoid, "tanh": Tanh}


class MLP(Sequential):
    """Multilayer perceptron: ``Linear`` layers of the given ``sizes`` with an activation between.

    ``MLP([64, 32, 10])`` is ``Linear(64, 32), ReLU(), Linear(32, 10)``; the last layer has no
    activation (it outputs logits). Input ``(n, sizes[0])``, output ``(n, sizes[-1])``.
    He initialisation for ReLU, Xavier for sigmoid/tanh unless ``init`` says otherwise.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "relu",
        rng: np.random.Generator | int | None = None,
        *,
        init: str | float | None = None,
        dropout: float = 0.0,
        dtype: type | np.dtype = np.float64,
    ) -> None:
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes needs at least an input and an output size, got {sizes}")
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}"
            )
        gen = as_generator(rng)
        if init is None:
            init = "he" if activation == "relu" else "xavier"
        layers: list[Module] = []
        for fan_in, fan_out in zip(sizes[:-2], sizes[1:-1], strict=True):  # hidden layers
            layers.append(Linear(fan_in, fan_out, init=init, rng=gen, dtype=dtype))
            layers.append(_ACTIVATIONS[activation]())
            if dropout:
                layers.append(Dropout(dropout, rng=gen))
        # The output layer gives logits: no activation after it.
        layers.append(Linear(sizes[-2], sizes[-1], init=init, rng=gen, dtype=dtype))
        super().__init__(*layers)
        self.sizes = sizes
