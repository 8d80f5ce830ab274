"""nnscratch.autodiff.Value: every operation's gradient, graph handling and deep graphs.

The comparison with torch autograd lives in test_torch_crosscheck.py.
"""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from nnscratch.autodiff import Value, zero_grad

# f(a, b) for a = 1.3, b = -0.7: every operation, with Values and with plain numbers.
OPS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, b: a**3 + b**2,
    "neg": lambda a, b: -a * b,
    "radd": lambda a, b: 2.0 + a * b,
    "rsub": lambda a, b: 2.0 - a * b,
    "rmul": lambda a, b: 3.0 * a * b,
    "rtruediv": lambda a, b: 1.0 / (a * b),
    "exp": lambda a, b: (a * b).exp(),
    "log": lambda a, b: (a * a + b * b).log(),
    "tanh": lambda a, b: (a * b).tanh(),
    "relu": lambda a, b: a.relu() + b.relu() * a,
    "sigmoid": lambda a, b: (a * b).sigmoid(),
    "pow_fraction": lambda a, b: a**0.5 * b,
}
A, B = 1.3, -0.7


@pytest.mark.parametrize("name", OPS)
def test_gradient_matches_finite_differences(name):
    fn = OPS[name]
    a, b = Value(A), Value(B)
    out = fn(a, b)
    out.backward()
    eps = 1e-6
    for node, (da, db) in ((a, (eps, 0)), (b, (0, eps))):
        plus = fn(Value(A + da), Value(B + db)).data
        minus = fn(Value(A - da), Value(B - db)).data
        assert node.grad == pytest.approx((plus - minus) / (2 * eps), rel=1e-6, abs=1e-9)


def test_forward_values():
    a, b = Value(A), Value(B)
    assert (a + b).data == pytest.approx(A + B)
    assert (a / b).data == pytest.approx(A / B)
    assert (a**3).data == pytest.approx(A**3)
    assert a.exp().log().data == pytest.approx(A)
    assert b.relu().data == 0.0 and a.relu().data == A
    assert b.tanh().data == pytest.approx(math.tanh(B))
    assert b.sigmoid().data == pytest.approx(1 / (1 + math.exp(-B)))


def test_neuron_expression():
    # The classic single neuron: tanh(x1 w1 + x2 w2 + b), with o = 1/sqrt(2).
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-12)
    assert o.grad == 1.0
    # d tanh = 1 - o^2 = 0.5
    assert x1.grad == pytest.approx(-1.5)
    assert w1.grad == pytest.approx(1.0)
    assert x2.grad == pytest.approx(0.5)
    assert w2.grad == pytest.approx(0.0)
    assert b.grad == pytest.approx(0.5)


def test_reusing_a_node_accumulates_its_gradient():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    a.grad = 0.0
    (a * a).backward()
    assert a.grad == 6.0
    a.grad = 0.0
    b = a * a
    c = b + b * a + a  # a^2 + a^3 + a
    c.backward()
    assert a.grad == pytest.approx(2 * 3 + 3 * 9 + 1)
    assert b.grad == pytest.approx(1 + 3)


def test_topological_order_puts_inputs_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    order = d.topological_order()
    assert order[-1] is d and len(order) == 4
    pos = {id(v): i for i, v in enumerate(order)}
    assert pos[id(a)] < pos[id(c)] < pos[id(d)] and pos[id(b)] < pos[id(c)]


def test_deep_chain_does_not_hit_the_recursion_limit():
    n = 10_000
    assert sys.getrecursionlimit() < 5 * n
    x = Value(0.5)
    y = x
    for _ in range(n):
        y = y * 1.0001 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.0001**n, rel=1e-9)
    assert y.data == pytest.approx(0.5 * 1.0001**n, rel=1e-9)


def test_sigmoid_is_stable_and_accepts_numpy_scalars():
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(-1000.0).sigmoid().data == 0.0
    v = Value(np.float32(2.0))
    assert type(v.data) is float and v.data == 2.0
    assert Value(np.int64(3)).data == 3.0


def test_errors_and_repr():
    with pytest.raises(TypeError, match="Value needs a number.*'a'"):
        Value("a")
    with pytest.raises(TypeError, match="number exponent"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="log needs a positive value.*-1"):
        Value(-1.0).log()
    assert repr(Value(2.0, label="w")) == "Value(w: data=2, grad=0)"


# --- backward() adds into .grad, like micrograd and torch ---------------------------------


def test_backward_adds_into_grad_like_torch_and_micrograd() -> None:
    # One backward() per sample, then one step: the gradient is the sum over the samples.
    w, b = Value(0.5), Value(-0.2)
    samples = [(1.0, 2.0), (-1.5, 0.5), (2.0, -1.0)]
    for x, t in samples:
        ((w * x + b - t) ** 2).backward()
    expected_w = sum(2 * (0.5 * x - 0.2 - t) * x for x, t in samples)
    expected_b = sum(2 * (0.5 * x - 0.2 - t) for x, t in samples)
    assert w.grad == pytest.approx(expected_w, rel=1e-12)
    assert b.grad == pytest.approx(expected_b, rel=1e-12)
    zero_grad([w, b])
    assert (w.grad, b.grad) == (0.0, 0.0)


def test_backward_twice_on_one_graph_doubles_the_leaf_gradients() -> None:
    # As torch does with retain_graph=True: leaves accumulate, inner nodes hold one pass.
    a, b = Value(A), Value(B)
    inner = (a * b).tanh()
    out = inner * a + a
    out.backward()
    first = (a.grad, b.grad, inner.grad)
    out.backward()
    assert (a.grad, b.grad) == pytest.approx((2 * first[0], 2 * first[1]), rel=1e-14)
    assert inner.grad == first[2]
