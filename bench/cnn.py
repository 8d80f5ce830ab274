"""Training throughput of small CNNs: nnscratch against torch-CPU and a hand-written NumPy step.

Same method as the MLP bench (``throughput.interleave``: blocks of about 0.1 s, rotating
order, a pause before each block, medians of per-round ratios). Contestants, all on the
same weights and data:

* ``nnscratch``: the library's layers (fast paths on), the step ``fit`` runs: zero_grad,
  forward, ``CrossEntropyLoss``, ``backward_params``, ``SGD.step``;
* ``nnscratch_reference``: the same model with every layer's ``fast=False`` (a tensordot
  over a sliding-window view, pooling by argmax): the library as it was before the fast paths;
* ``torch``: ``torch.nn`` layers with the same weights, ``CrossEntropyLoss``, ``optim.SGD``;
* ``numpy_ceiling``: the best hand-written NumPy step for this model (buffers allocated once,
  the im2col layout of ``nnscratch.conv``, ReLU fused into pooling's backward, no checks):
  what a NumPy library could reach at most.

Models: ``MNIST_CNN`` (two conv blocks on 28x28 images, batch 64) and ``DIGITS_CNN`` (notebook 11's
CNN on 8x8 digits, batch 32, with its ``Unflatten`` in front).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.throughput import (
    LR,
    Block,
    _batches,
    calibrate,
    interleave,
    median_ratio,
    nnscratch_steps,
    torch_steps,
    training_block,
)

# Layer specs: ("conv", in, out) is Conv2d(in, out, 3, padding=1); ("pool",) is MaxPool2d(2).
Spec = tuple[tuple[Any, ...], ...]
MNIST_CNN: dict[str, Any] = {
    "name": "28x28 CNN, two conv blocks",
    "image": (1, 28, 28),
    "batch": 64,
    "unflatten": False,
    "layers": (
        ("conv", 1, 8),
        ("relu",),
        ("pool",),
        ("conv", 8, 16),
        ("relu",),
        ("pool",),
        ("flatten",),
        ("linear", 784, 10),
    ),
}
DIGITS_CNN: dict[str, Any] = {
    "name": "notebook 11 digits CNN, 8x8",
    "image": (1, 8, 8),
    "batch": 32,
    "unflatten": True,  # the notebook's model takes rows (n, 64), as fit gives them
    "layers": (("conv", 1, 16), ("relu",), ("pool",), ("flatten",), ("linear", 256, 10)),
}
CNN_LIBS = ("nnscratch", "nnscratch_reference", "torch", "numpy_ceiling")


def make_images(cfg: dict[str, Any], n: int, dtype: type, seed: int = 0) -> tuple:
    """Random images ``(n, C, H, W)`` (rows ``(n, C*H*W)`` for an ``unflatten`` model) and
    labels ``(n,)`` in ``[0, 10)``."""
    gen = np.random.default_rng(seed)
    X = gen.random((n, *cfg["image"])).astype(dtype)
    if cfg["unflatten"]:
        X = X.reshape(n, -1)
    return X, gen.integers(0, 10, n)


def nnscratch_cnn(cfg: dict[str, Any], dtype: type, *, fast: bool = True, seed: int = 0) -> Any:
    """The model of ``cfg`` from nnscratch layers (``fast`` for every conv and pool layer)."""
    import nnscratch as nn

    modules: list[Any] = [nn.Unflatten(1, cfg["image"])] if cfg["unflatten"] else []
    for i, spec in enumerate(cfg["layers"]):
        kind = spec[0]
        if kind == "conv":
            modules.append(
                nn.Conv2d(spec[1], spec[2], 3, padding=1, rng=seed + i, dtype=dtype, fast=fast)
            )
        elif kind == "pool":
            modules.append(nn.MaxPool2d(2, fast=fast))
        elif kind == "relu":
            modules.append(nn.ReLU())
        elif kind == "flatten":
            modules.append(nn.Flatten())
        else:
            modules.append(nn.Linear(spec[1], spec[2], rng=seed + i, dtype=dtype))
    return nn.Sequential(*modules)


def torch_twin(model: Any) -> Any:
    """A ``torch.nn.Sequential`` with the same layers and a copy of ``model``'s weights."""
    import torch

    import nnscratch as nn

    layers: list[Any] = []
    for m in model:
        if isinstance(m, nn.Conv2d):
            t = torch.nn.Conv2d(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding)
        elif isinstance(m, nn.Linear):
            t = torch.nn.Linear(m.in_features, m.out_features)
        elif isinstance(m, nn.MaxPool2d):
            t = torch.nn.MaxPool2d(m.kernel_size, m.stride, m.padding)
        elif isinstance(m, nn.ReLU):
            t = torch.nn.ReLU()
        elif isinstance(m, nn.Flatten):
            t = torch.nn.Flatten()
        elif isinstance(m, nn.Unflatten):
            t = torch.nn.Unflatten(m.dim, m.unflattened_size)
        else:  # pragma: no cover - the bench builds only these
            raise TypeError(f"no torch twin for {m!r}")
        layers.append(t)
    dtype = model.parameters()[0].data.dtype
    twin = torch.nn.Sequential(*layers).to(torch.float32 if dtype == np.float32 else torch.float64)
    with torch.no_grad():  # copied in the final dtype, so float64 weights stay exact
        for mine, theirs in zip(model.parameters(), twin.parameters(), strict=True):
            theirs.copy_(torch.from_numpy(mine.data))
    return twin


class _ConvReluPool:
    """``Conv2d(cin, cout, 3, padding=1) -> ReLU -> MaxPool2d(2)`` written by hand.

    Trains ``W (cout, cin, 3, 3)`` and ``b (cout,)`` in place, for batches of ``batch``
    images ``(cin, h, w)`` (``h``, ``w`` even). Every buffer is allocated here, once.
    """

    def __init__(self, W: np.ndarray, b: np.ndarray, batch: int, h: int, w: int) -> None:
        cout, cin, dt = W.shape[0], W.shape[1], W.dtype
        self.W, self.b, self.batch, self.size = W, b, batch, (cin, h, w)
        self.xp = np.zeros((batch, cin, h + 2, w + 2), dt)  # its border stays zero
        self.cols = np.empty((batch, cin, 3, 3, h, w), dt)  # im2col, nnscratch.conv's layout
        self.out = np.empty((batch, cout, h * w), dt)  # conv then ReLU, in place
        self.pooled = np.empty((batch, cout, h // 2, w // 2), dt)
        self.done = np.empty(self.pooled.shape, bool)
        self.hit = np.empty(self.pooled.shape, bool)
        self.dout = np.empty((batch, cout, h, w), dt)
        self.dW = np.empty((batch, cout, cin * 9), dt)
        self.dcols = np.empty((batch, cin * 9, h * w), dt)
        self.dxp = np.empty_like(self.xp)

    def _columns(self) -> np.ndarray:
        cin, h, w = self.size
        return self.cols.reshape(self.batch, cin * 9, h * w)

    def _activation(self) -> np.ndarray:
        return self.out.reshape(self.dout.shape)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (batch, cin, h, w) -> (batch, cout, h/2, w/2)``."""
        cin, h, w = self.size
        self.xp[:, :, 1:-1, 1:-1] = x.reshape(self.batch, cin, h, w)
        for i in range(3):
            for j in range(3):
                self.cols[:, :, i, j] = self.xp[:, :, i : i + h, j : j + w]
        out = np.matmul(self.W.reshape(len(self.W), -1), self._columns(), out=self.out)
        out += self.b[:, None]
        np.maximum(out, 0, out=out)
        return self._pool()

    def _pool(self) -> np.ndarray:
        # Non-overlapping 2x2 windows: a reshape, then the elementwise maximum of 4 slices.
        a, pooled = self._activation(), self.pooled
        tiles = a.reshape(*pooled.shape[:3], 2, pooled.shape[3], 2)
        np.maximum(tiles[:, :, :, 0, :, 0], tiles[:, :, :, 0, :, 1], out=pooled)
        np.maximum(pooled, tiles[:, :, :, 1, :, 0], out=pooled)
        return np.maximum(pooled, tiles[:, :, :, 1, :, 1], out=pooled)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """dL/d(pooled) ``(batch, cout, h/2, w/2)`` -> dL/dx ``(batch, cin, h, w)``; SGD step."""
        gf = self._unpool_through_relu(g)
        np.matmul(self.W.reshape(len(self.W), -1).T, gf, out=self.dcols)  # before the update
        self._sgd(gf)
        return self._col2im()

    def backward_params(self, g: np.ndarray) -> None:
        """``backward`` without dL/dx: for the first layer, whose input is the data."""
        self._sgd(self._unpool_through_relu(g))

    def _sgd(self, gf: np.ndarray) -> None:
        # dW = sum over images of G_n (cout, h*w) @ cols_n.T; gf is dL/d(conv output).
        np.matmul(gf, self._columns().transpose(0, 2, 1), out=self.dW)
        self.W -= LR * self.dW.sum(axis=0).reshape(self.W.shape)
        self.b -= LR * gf.sum(axis=0).sum(axis=1)  # over the batch first, as nnscratch does

    def _unpool_through_relu(self, g: np.ndarray) -> np.ndarray:
        # Each gradient goes to the first maximum of its window (torch's tie rule); a window
        # whose maximum is 0 sends nothing, the ReLU's backward fused in.
        a, pooled, dout = self._activation(), self.pooled, self.dout
        done, hit = self.done, self.hit
        g = g.reshape(pooled.shape)
        np.less_equal(pooled, 0, out=done)
        for i in range(2):
            for j in range(2):
                np.equal(a[:, :, i::2, j::2], pooled, out=hit)
                np.greater(hit, done, out=hit)  # hit and not done, with no temporary
                np.multiply(g, hit, out=dout[:, :, i::2, j::2])
                done |= hit
        return dout.reshape(self.out.shape)

    def _col2im(self) -> np.ndarray:
        # The adjoint of the im2col copies: 9 strided additions.
        cin, h, w = self.size
        d, dxp = self.dcols.reshape(self.cols.shape), self.dxp
        dxp[...] = 0
        for i in range(3):
            for j in range(3):
                dxp[:, :, i : i + h, j : j + w] += d[:, :, i, j]
        return dxp[:, :, 1:-1, 1:-1]


class _Linear:
    """``Linear`` written by hand: trains ``W (out, in)`` and ``b (out,)`` in place."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W, self.b = W, b
        self.x = np.empty(0, W.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``x (batch, ...) -> (batch, out)``, the input flattened first."""
        self.x = x.reshape(len(x), -1)
        z = self.x @ self.W.T
        z += self.b
        return z

    def backward(self, g: np.ndarray) -> np.ndarray:
        """dL/dz ``(batch, out)`` -> dL/dx ``(batch, in)``; SGD step."""
        dx = g @ self.W  # before the update
        self.backward_params(g)
        return dx

    def backward_params(self, g: np.ndarray) -> None:
        """``backward`` without dL/dx: for the first layer, whose input is the data."""
        gW, gb = g.T @ self.x, g.sum(axis=0)
        self.W -= LR * gW
        self.b -= LR * gb


def _ceiling_layers(
    cfg: dict[str, Any], params: list[np.ndarray], batch: int
) -> list[_ConvReluPool | _Linear]:
    """The hand-written layers of ``cfg``'s model on ``params`` (weight, bias, in order)."""
    _, h, w = cfg["image"]
    kinds, weights = [spec[0] for spec in cfg["layers"]], iter(params)
    layers: list[_ConvReluPool | _Linear] = []
    for i, kind in enumerate(kinds):
        if kind == "conv":
            if kinds[i + 1 : i + 3] != ["relu", "pool"]:
                raise ValueError(f"the hand-written step needs conv, relu, pool; got {kinds}")
            layers.append(_ConvReluPool(next(weights), next(weights), batch, h, w))
            h, w = h // 2, w // 2
        elif kind == "linear":
            layers.append(_Linear(next(weights), next(weights)))
    return layers


def _softmax_cross_entropy_grad(z: np.ndarray, labels: np.ndarray) -> tuple[float, np.ndarray]:
    """The mean cross-entropy of logits ``z (batch, classes)`` and its gradient dL/dz, which
    is computed in ``z``. The loss value is computed, as every other contestant does."""
    rows = np.arange(len(z))
    z -= z.max(axis=1, keepdims=True)
    at_labels = z[rows, labels].sum()
    np.exp(z, out=z)
    sums = z.sum(axis=1, keepdims=True)
    loss = float(np.log(sums).sum() - at_labels) / len(z)
    z /= sums
    z[rows, labels] -= 1
    z /= len(z)
    return loss, z


def numpy_ceiling_steps(
    cfg: dict[str, Any], params: list[np.ndarray], X: np.ndarray, y: np.ndarray, batch: int
) -> Callable[[int], None]:
    """``run(k)``: k SGD steps of ``cfg``'s model written by hand, trains ``params`` in place.

    ``params`` are the weights and biases in layer order (conv ``(O, C, 3, 3)``, linear
    ``(out, in)``); ``X`` holds images ``(n, C, H, W)``. Every buffer is allocated once; a
    conv is im2col in the layout ``(N, C*9, H*W)`` and one product per image, its backward
    col2im as 9 strided additions; a 2x2 pool is a reshape and a max, its backward sends
    each gradient to the first maximum of its window, fused with the ReLU before it.
    """
    layers, slices = _ceiling_layers(cfg, params, batch), _batches(len(X), batch)

    def run(k: int) -> None:
        for step in range(k):
            s = slices[step % len(slices)]
            h = X[s]
            for layer in layers:
                h = layer.forward(h)
            _, g = _softmax_cross_entropy_grad(h, y[s])
            for layer in reversed(layers[1:]):
                g = layer.backward(g)
            layers[0].backward_params(g)

    return run


def _contestants(
    cfg: dict[str, Any], dtype: type, seconds: float, n_batches: int = 8
) -> dict[str, Block]:
    batch = cfg["batch"]
    X, y = make_images(cfg, batch * n_batches, dtype)
    fast = nnscratch_cnn(cfg, dtype, fast=True)
    ref = nnscratch_cnn(cfg, dtype, fast=False)
    params = [p.data.copy() for p in fast.parameters()]
    X_images = X.reshape(len(X), *cfg["image"])
    runs = {
        "nnscratch": nnscratch_steps(fast, X, y, batch),
        "nnscratch_reference": nnscratch_steps(ref, X, y, batch),
        "torch": torch_steps(torch_twin(fast), X, y, batch),
        "numpy_ceiling": numpy_ceiling_steps(cfg, params, X_images, y, batch),
    }
    return {name: training_block(run, calibrate(run, seconds), batch) for name, run in runs.items()}


def measure_cnn(
    configs: Sequence[dict[str, Any]] = (MNIST_CNN, DIGITS_CNN),
    dtypes: Sequence[type] = (np.float32, np.float64),
    *,
    rounds: int = 15,
    seconds: float = 0.1,
    settle: float = 0.2,
) -> list[dict[str, Any]]:
    """Samples/s of every contestant on each model and dtype, interleaved; ratios paired."""
    results = []
    for cfg in configs:
        for dtype in dtypes:
            rates = interleave(_contestants(cfg, dtype, seconds), rounds, settle)
            results.append(
                {
                    "model": cfg["name"],
                    "batch": cfg["batch"],
                    "dtype": np.dtype(dtype).name,
                    "rounds": rounds,
                    "samples_per_s": {lib: float(np.median(rates[lib])) for lib in CNN_LIBS},
                    "ratio_vs_torch": {
                        lib: median_ratio(rates[lib], rates["torch"]) for lib in CNN_LIBS
                    },
                    "ratio_vs_ceiling": {
                        lib: median_ratio(rates[lib], rates["numpy_ceiling"]) for lib in CNN_LIBS
                    },
                    "raw": {lib: [float(v) for v in rates[lib]] for lib in CNN_LIBS},
                }
            )
    return results
