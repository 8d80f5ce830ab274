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

Models: ``ISSUE_CNN`` (issue 23: 28x28 images, batch 64) and ``DIGITS_CNN`` (notebook 11's
CNN on 8x8 digits, batch 32, with its ``Unflatten`` in front).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bench.throughput import LR, Block, calibrate, interleave, median_ratio, training_block

# Layer specs: ("conv", in, out) is Conv2d(in, out, 3, padding=1); ("pool",) is MaxPool2d(2).
Spec = tuple[tuple[Any, ...], ...]
ISSUE_CNN: dict[str, Any] = {
    "name": "issue 23 CNN, 28x28",
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


def _slices(n: int, batch: int) -> list[slice]:
    return [slice(i, i + batch) for i in range(0, n - batch + 1, batch)]


def nnscratch_cnn_steps(model: Any, X: np.ndarray, y: np.ndarray, batch: int) -> Callable:
    """``run(k)``: k SGD steps of the step ``fit`` runs (as in ``throughput.nnscratch_steps``)."""
    import nnscratch as nn
    from nnscratch.optim import SGD

    loss, opt, slices = (
        nn.CrossEntropyLoss(),
        SGD(model.parameters(), lr=LR),
        _slices(len(X), batch),
    )

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            opt.zero_grad()
            loss(model(X[s]), y[s])
            model.backward_params(loss.backward())
            opt.step()

    return run


def torch_cnn_steps(tmodel: Any, X: np.ndarray, y: np.ndarray, batch: int) -> Callable:
    """``run(k)``: the same loop in torch."""
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    loss_fn, opt = torch.nn.CrossEntropyLoss(), torch.optim.SGD(tmodel.parameters(), lr=LR)
    slices = _slices(len(X), batch)

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            opt.zero_grad()
            loss_fn(tmodel(Xt[s]), yt[s]).backward()
            opt.step()

    return run


def numpy_ceiling_steps(
    cfg: dict[str, Any], params: list[np.ndarray], X: np.ndarray, y: np.ndarray, batch: int
) -> Callable:
    """``run(k)``: k SGD steps of ``cfg``'s model written by hand, trains ``params`` in place.

    ``params`` are the weights and biases in layer order (conv ``(O, C, 3, 3)``, linear
    ``(out, in)``). Every buffer is allocated once; a conv is im2col in the layout
    ``(N, C*9, H*W)`` and one product per image, its backward col2im as 9 strided
    additions; a 2x2 pool is a reshape and a max, its backward sends each gradient to the
    first maximum of its window, fused with the ReLU before it.
    """
    dt = params[0].dtype
    c, h, w = cfg["image"]
    plan: list[dict[str, Any]] = []  # one entry per conv or linear, with the pool after it
    p = iter(params)
    for spec in cfg["layers"]:
        if spec[0] == "conv":
            cin, cout = spec[1], spec[2]
            plan.append(
                {
                    "kind": "conv",
                    "W": next(p),
                    "b": next(p),
                    "shape": (cin, h, w),
                    "cout": cout,
                    "xp": np.zeros((batch, cin, h + 2, w + 2), dt),
                    "cols": np.empty((batch, cin, 3, 3, h, w), dt),
                    "out": np.empty((batch, cout, h * w), dt),
                    "dcols": np.empty((batch, cin * 9, h * w), dt),
                    "dxp": np.empty((batch, cin, h + 2, w + 2), dt),
                    "dW": np.empty((batch, cout, cin * 9), dt),
                    "dout": np.empty((batch, cout, h, w), dt),
                }
            )
            c = cout
        elif spec[0] == "pool":
            h, w = h // 2, w // 2
            plan[-1]["pooled"] = np.empty((batch, c, h, w), dt)
            plan[-1]["done"] = np.empty((batch, c, h, w), bool)
            plan[-1]["hit"] = np.empty((batch, c, h, w), bool)
        elif spec[0] == "linear":
            plan.append({"kind": "linear", "W": next(p), "b": next(p)})
    rows, slices = np.arange(batch), _slices(len(X), batch)

    def conv_forward(L: dict[str, Any], x: np.ndarray) -> np.ndarray:
        cin, hh, ww = L["shape"]
        L["xp"][:, :, 1:-1, 1:-1] = x.reshape(batch, cin, hh, ww)  # the border stays zero
        for i in range(3):
            for j in range(3):
                L["cols"][:, :, i, j] = L["xp"][:, :, i : i + hh, j : j + ww]
        cols = L["cols"].reshape(batch, cin * 9, hh * ww)
        out = np.matmul(L["W"].reshape(L["cout"], -1), cols, out=L["out"])
        out += L["b"][:, None]
        np.maximum(out, 0, out=out)  # ReLU in place
        a = out.reshape(batch, L["cout"], hh, ww)
        tiles = a.reshape(batch, L["cout"], hh // 2, 2, ww // 2, 2)
        pooled = np.maximum(tiles[:, :, :, 0, :, 0], tiles[:, :, :, 0, :, 1], out=L["pooled"])
        np.maximum(pooled, tiles[:, :, :, 1, :, 0], out=pooled)
        return np.maximum(pooled, tiles[:, :, :, 1, :, 1], out=pooled)

    def conv_backward(L: dict[str, Any], g: np.ndarray, need_dx: bool) -> np.ndarray | None:
        cin, hh, ww = L["shape"]
        a, pooled, done, hit = (
            L["out"].reshape(batch, L["cout"], hh, ww),
            L["pooled"],
            L["done"],
            L["hit"],
        )
        dout = L["dout"]
        g = g.reshape(pooled.shape)
        done[...] = pooled <= 0  # a window whose maximum is 0 sends nothing through ReLU
        for i in range(2):
            for j in range(2):
                np.equal(a[:, :, i::2, j::2], pooled, out=hit)
                hit &= ~done
                np.multiply(g, hit, out=dout[:, :, i::2, j::2])
                done |= hit
        gf = dout.reshape(batch, L["cout"], hh * ww)
        cols = L["cols"].reshape(batch, cin * 9, hh * ww)
        np.matmul(gf, cols.transpose(0, 2, 1), out=L["dW"])
        if need_dx:  # with the weights of the forward pass, before the update
            np.matmul(L["W"].reshape(L["cout"], -1).T, gf, out=L["dcols"])
        L["W"] -= LR * L["dW"].sum(axis=0).reshape(L["W"].shape)
        L["b"] -= LR * gf.sum(axis=(0, 2))
        if not need_dx:
            return None
        d = L["dcols"].reshape(batch, cin, 3, 3, hh, ww)
        dxp = L["dxp"]
        dxp[...] = 0
        for i in range(3):
            for j in range(3):
                dxp[:, :, i : i + hh, j : j + ww] += d[:, :, i, j]
        return dxp[:, :, 1:-1, 1:-1]

    def run(k: int) -> None:
        for step in range(k):
            s = slices[step % len(slices)]
            hs = [X[s]]
            for L in plan:
                if L["kind"] == "conv":
                    hs.append(conv_forward(L, hs[-1]))
                else:
                    z = hs[-1].reshape(batch, -1) @ L["W"].T
                    z += L["b"]
                    hs.append(z)
            z = hs.pop()
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[rows, y[s]] -= 1
            g = z / batch
            for j in reversed(range(len(plan))):
                L, x = plan[j], hs[j]
                if L["kind"] == "linear":
                    xf = x.reshape(batch, -1)
                    gW, gb = g.T @ xf, g.sum(axis=0)
                    g = g @ L["W"] if j else None
                    L["W"] -= LR * gW
                    L["b"] -= LR * gb
                else:
                    g = conv_backward(L, g, need_dx=j > 0)

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
        "nnscratch": nnscratch_cnn_steps(fast, X, y, batch),
        "nnscratch_reference": nnscratch_cnn_steps(ref, X, y, batch),
        "torch": torch_cnn_steps(torch_twin(fast), X, y, batch),
        "numpy_ceiling": numpy_ceiling_steps(cfg, params, X_images, y, batch),
    }
    return {name: training_block(run, calibrate(run, seconds), batch) for name, run in runs.items()}


def measure_cnn(
    configs: Sequence[dict[str, Any]] = (ISSUE_CNN, DIGITS_CNN),
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
