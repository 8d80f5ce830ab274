"""A scalar reverse-mode automatic differentiation engine, small enough to read in one sitting.

Each ``Value`` holds a number ``data``, its gradient ``grad`` (dOutput/dValue, filled in by
``backward()``), the ``Value`` s it was computed from, and a function that pushes its
gradient back to them by the chain rule.

Gradients add up, as in PyTorch and micrograd: ``backward()`` *adds* d(output)/d(leaf) into
the ``grad`` of every leaf (a Value made from a number: an input or a weight), so one
``backward()`` per sample sums the samples' gradients. Reset the leaves with
``zero_grad(params)`` (or ``p.grad = 0.0`` for each) before the next batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

__all__ = ["Value", "zero_grad"]

Number = int | float


class Value:
    """A scalar node in a computation graph.

    Supports ``+ - * / **`` (with numbers or other Values), ``exp``, ``log``, ``tanh``,
    ``relu`` and ``sigmoid``. Call ``backward()`` on the final Value to fill ``grad`` on
    every node it depends on.
    """

    def __init__(
        self, data: Number, _children: tuple[Value, ...] = (), _op: str = "", label: str = ""
    ):
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            try:
                data = float(data)  # NumPy scalars
            except (TypeError, ValueError):
                raise TypeError(f"Value needs a number, got {data!r}") from None
        self.data = float(data)
        self.grad = 0.0
        self._prev = _children
        self._op = _op
        self.label = label
        self._backward: Callable[[], None] = lambda: None

    @staticmethod
    def _wrap(other: Value | Number) -> Value:
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward() -> None:
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other: Value | Number) -> Value:
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward() -> None:
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def __pow__(self, exponent: Number) -> Value:
        if not isinstance(exponent, (int, float)):
            raise TypeError("only a number exponent is supported: x ** 2, not x ** Value")
        out = Value(self.data**exponent, (self,), f"**{exponent}")

        def _backward() -> None:
            self.grad += exponent * self.data ** (exponent - 1) * out.grad

        out._backward = _backward
        return out

    def exp(self) -> Value:
        """e ** self."""
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward() -> None:
            self.grad += out.data * out.grad

        out._backward = _backward
        return out

    def log(self) -> Value:
        """Natural logarithm (self must be > 0)."""
        if self.data <= 0:
            raise ValueError(f"log needs a positive value, got {self.data}")
        out = Value(math.log(self.data), (self,), "log")

        def _backward() -> None:
            self.grad += out.grad / self.data

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        """Hyperbolic tangent; its derivative is 1 - tanh**2."""
        out = Value(math.tanh(self.data), (self,), "tanh")

        def _backward() -> None:
            self.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    def relu(self) -> Value:
        """max(0, self); derivative 1 above zero, else 0."""
        out = Value(max(self.data, 0.0), (self,), "relu")

        def _backward() -> None:
            self.grad += (self.data > 0) * out.grad

        out._backward = _backward
        return out

    def sigmoid(self) -> Value:
        """1 / (1 + e**-self), stable for large |self|; derivative s * (1 - s)."""
        x = self.data
        s = 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))
        out = Value(s, (self,), "sigmoid")

        def _backward() -> None:
            self.grad += s * (1 - s) * out.grad

        out._backward = _backward
        return out

    def topological_order(self) -> list[Value]:
        """Every node this Value depends on (itself last), each after its inputs."""
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # iterative depth-first search: deep graphs do not hit the recursion limit
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev if id(child) not in seen)
        return order

    def backward(self) -> None:
        """Add d(self)/d(leaf) into ``grad`` of every leaf, like torch's ``backward()``.

        Leaves (Values made from numbers: inputs, weights) accumulate over calls until
        reset (``zero_grad``); inner nodes (results of operations) start from 0 on each
        call, so they hold this pass's gradient, and calling ``backward()`` twice on one
        graph exactly doubles the leaves' gradients (torch with ``retain_graph=True``).
        """
        order = self.topological_order()
        for node in order:
            if node._prev:
                node.grad = 0.0
        self.grad += 1.0  # d(self)/d(self)
        for node in reversed(order):
            node._backward()

    def __neg__(self) -> Value:
        return self * -1

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __sub__(self, other: Value | Number) -> Value:
        return self + (-self._wrap(other))

    def __rsub__(self, other: Number) -> Value:
        return self._wrap(other) + (-self)

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:
        return self * self._wrap(other) ** -1

    def __rtruediv__(self, other: Number) -> Value:
        return self._wrap(other) * self**-1

    def __repr__(self) -> str:
        name = f"{self.label}: " if self.label else ""
        return f"Value({name}data={self.data:.4g}, grad={self.grad:.4g})"


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``grad = 0.0`` on each Value: the reset before the next batch's ``backward()``."""
    for v in values:
        v.grad = 0.0
