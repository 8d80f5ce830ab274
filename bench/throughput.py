"""Training throughput of nnscratch against PyTorch on the CPU, measured side by side.

Every contestant is a *block*: a function that runs some training steps (or matmuls) and
returns a rate. ``interleave`` runs the blocks of all contestants in turn, round after
round, so a burst of load from elsewhere on the machine hits all of them alike; figures are
medians over rounds, and ratios are medians of the per-round ratios.

Shapes: data ``X (n, sizes[0])`` float32 in [0, 1), labels ``y (n,)`` in ``[0, sizes[-1])``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Block = Callable[[], float]  # runs once, returns a rate (samples/s or FLOP/s)

MNIST_MLP: tuple[int, ...] = (784, 256, 128, 10)
# The training loops of part 1, in the order of the table.
TRAINING_LIBS = ("nnscratch", "torch", "numpy_by_hand", "numpy_tuned", "nnscratch_fit")
LR = 0.01  # small enough that random labels never make the loss blow up


# ---------------------------------------------------------------- counting and threads


def weight_macs(sizes: Sequence[int]) -> int:
    """Multiply-adds of one forward pass per sample through Linear layers ``sizes``."""
    return sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def flops_per_sample(sizes: Sequence[int], *, six_n: bool = False) -> int:
    """FLOPs of one training step per sample of an MLP with layer ``sizes``.

    What both libraries compute: 2 per weight for the forward ``x @ W.T``, 2 for
    ``dW = g.T @ x`` and 2 for ``dx = g @ W`` except in the first layer, whose ``dx`` nobody
    needs (the input is data), so neither library computes it. ``six_n=True`` gives the
    textbook count of 6 per weight instead, first-layer ``dx`` included (it can exceed
    what runs, so a "fraction of peak" on it can pass 100%). Bias adds, activations and
    the loss are not counted (under 1% here).
    """
    flops = 6 * weight_macs(sizes)
    return flops if six_n else flops - 2 * sizes[0] * sizes[1]


def _openblas() -> Any | None:
    # NumPy's bundled OpenBLAS (wheels from PyPI), found next to the numpy package.
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    return ctypes.CDLL(libs[0]) if libs else None


def numpy_blas_threads(set_to: int | None = None) -> int | None:
    """Threads of NumPy's OpenBLAS (after setting them to ``set_to``); None if unknown."""
    lib = _openblas()
    if lib is None:
        return None
    for prefix in ("scipy_openblas", "openblas"):
        for suffix in ("64_", "_64_", ""):
            getter = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                if set_to is not None:
                    setter(int(set_to))
                return int(getter())
    return None


def set_threads(threads: int) -> dict[str, int | None]:
    """Use ``threads`` threads in both NumPy's BLAS and torch; return what each reports."""
    import torch

    torch.set_num_threads(threads)
    return {"numpy": numpy_blas_threads(threads), "torch": torch.get_num_threads()}


# ---------------------------------------------------------------- the contestants


def make_data(n: int, sizes: Sequence[int], seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random MNIST-shaped data: ``X (n, sizes[0])`` float32 and labels ``y (n,)`` int64."""
    gen = np.random.default_rng(seed)
    return gen.random((n, sizes[0]), dtype=np.float32), gen.integers(0, sizes[-1], n)


def nnscratch_model(sizes: Sequence[int], seed: int = 0) -> Any:
    """``Sequential(Linear, ReLU, ..., Linear)`` in float32 with layer ``sizes``."""
    import nnscratch as nn

    modules: list[Any] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=False)):
        modules.append(nn.Linear(a, b, rng=seed + i, dtype=np.float32))
        if i < len(sizes) - 2:
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def _batches(n: int, batch: int) -> list[slice]:
    return [slice(i, i + batch) for i in range(0, n - batch + 1, batch)]


def nnscratch_steps(model: Any, X: np.ndarray, y: np.ndarray, batch: int) -> Callable[[int], None]:
    """``run(k)``: k SGD steps of ``model`` with ``CrossEntropyLoss``, cycling over the data."""
    import nnscratch as nn
    from nnscratch.optim import SGD

    loss, opt = nn.CrossEntropyLoss(), SGD(model.parameters(), lr=LR)
    slices = _batches(len(X), batch)

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            # The step fit() runs (notebook 06): zero the gradients, forward, loss, backward
            # without dL/dX of the data (notebook 05), update.
            opt.zero_grad()
            loss(model(X[s]), y[s])
            model.backward_params(loss.backward())
            opt.step()

    return run


def torch_steps(model: Any, X: np.ndarray, y: np.ndarray, batch: int) -> Callable[[int], None]:
    """The same loop in torch: ``torch.nn`` model, ``CrossEntropyLoss``, ``optim.SGD``."""
    import torch

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    tmodel = model  # a torch.nn.Module
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(tmodel.parameters(), lr=LR)
    slices = _batches(len(X), batch)

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            opt.zero_grad()
            loss_fn(tmodel(Xt[s]), yt[s]).backward()
            opt.step()

    return run


Params = tuple[list[np.ndarray], list[np.ndarray]]


def hand_params(sizes: Sequence[int], seed: int = 0) -> Params:
    """Weights ``(out, in)`` (He init) and zero biases in float32 for the hand-written loops."""
    gen = np.random.default_rng(seed)
    pairs = zip(sizes[:-1], sizes[1:], strict=False)
    Ws = [(gen.standard_normal((b, a)) * np.sqrt(2 / a)).astype(np.float32) for a, b in pairs]
    return Ws, [np.zeros(b, np.float32) for b in sizes[1:]]


def numpy_steps(
    sizes: Sequence[int], X: np.ndarray, y: np.ndarray, batch: int, params: Params | None = None
) -> Callable[[int], None]:
    """A hand-written NumPy loop, no library: the floor nnscratch is measured against.

    Trains ``params`` (from ``hand_params(sizes)`` if not given) in place.
    """
    Ws, bs = params if params is not None else hand_params(sizes)
    slices = _batches(len(X), batch)

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            hs = [X[s]]
            for W, b in zip(Ws, bs, strict=True):
                h = hs[-1] @ W.T
                h += b
                hs.append(h)
                if len(hs) <= len(Ws):
                    np.maximum(h, 0, out=h)
            z = hs.pop()
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            z /= z.sum(axis=1, keepdims=True)
            z[np.arange(len(z)), y[s]] -= 1
            g = z / len(z)
            for j in reversed(range(len(Ws))):
                gW, gb = g.T @ hs[j], g.sum(axis=0)
                if j:
                    g = g @ Ws[j]
                    g *= hs[j] > 0
                Ws[j] -= LR * gW
                bs[j] -= LR * gb

    return run


def numpy_tuned_steps(
    sizes: Sequence[int], X: np.ndarray, y: np.ndarray, batch: int, params: Params | None = None
) -> Callable[[int], None]:
    """The hand-written loop tuned as far as NumPy goes: the ceiling of a NumPy library.

    Every array is allocated once: products go into buffers with ``out=``, ReLU and its
    backward work in place, and the SGD update scales into a buffer instead of a temporary.
    Same model, data and arithmetic as ``numpy_steps`` (and the same ``params`` option).
    """
    Ws, bs = params if params is not None else hand_params(sizes)
    dWs, scaled = [np.empty_like(W) for W in Ws], [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    acts = [np.empty((batch, b), np.float32) for b in sizes[1:]]  # layer outputs
    dacts = [np.empty((batch, b), np.float32) for b in sizes[1:-1]]  # their gradients
    rows, last = np.arange(batch), len(Ws) - 1
    slices = _batches(len(X), batch)

    def run(k: int) -> None:
        for i in range(k):
            s = slices[i % len(slices)]
            inputs = [X[s], *acts[:-1]]
            for j in range(len(Ws)):
                np.matmul(inputs[j], Ws[j].T, out=acts[j])
                acts[j] += bs[j]
                if j < last:
                    np.maximum(acts[j], 0, out=acts[j])
            g = acts[last]  # logits -> softmax -> dL/dlogits, in place
            g -= g.max(axis=1, keepdims=True)
            np.exp(g, out=g)
            g /= g.sum(axis=1, keepdims=True)
            g[rows, y[s]] -= 1
            g /= batch
            for j in range(last, -1, -1):
                np.matmul(g.T, inputs[j], out=dWs[j])
                np.sum(g, axis=0, out=dbs[j])
                if j:
                    np.matmul(g, Ws[j], out=dacts[j - 1])
                    np.multiply(dacts[j - 1], inputs[j] > 0, out=dacts[j - 1])
                    g = dacts[j - 1]
                np.multiply(dWs[j], LR, out=scaled[j])
                Ws[j] -= scaled[j]
                bs[j] -= LR * dbs[j]

    return run


def nnscratch_fit_epochs(
    model: Any, X: np.ndarray, y: np.ndarray, batch: int
) -> Callable[[int], None]:
    """``run(k)``: ``nnscratch.fit`` for k epochs (shuffled mini-batches, running accuracy)."""
    import nnscratch as nn
    from nnscratch.optim import SGD

    loss, opt = nn.CrossEntropyLoss(), SGD(model.parameters(), lr=LR)

    def run(k: int) -> None:
        nn.fit(model, loss, opt, X, y, epochs=k, batch_size=batch, rng=0, verbose=False)

    return run


# The clock of every training block: wall time by default. ``run.py --clock process`` uses
# this process's CPU time instead, for a machine so loaded that wall time mostly measures
# waiting for a core (meaningful with one thread; with more it also counts spinning threads).
CLOCK: Callable[[], float] = time.perf_counter


def training_block(run: Callable[[int], None], units: int, samples_per_unit: int) -> Block:
    """A block that times ``run(units)`` with ``CLOCK`` and returns samples per second."""

    def block() -> float:
        start = CLOCK()
        run(units)
        return units * samples_per_unit / max(CLOCK() - start, 1e-9)

    return block


def sgemm_blocks(n: int = 1024, seed: int = 0) -> dict[str, Callable[[int], float]]:
    """``{library: time(k)}``: k float32 ``(n, n) @ (n, n)`` products, returns FLOP/s."""
    import torch

    gen = np.random.default_rng(seed)
    a, b = (gen.random((n, n), dtype=np.float32) for _ in range(2))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    out, tout = np.empty_like(a), torch.empty_like(ta)

    def numpy_mm(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            np.matmul(a, b, out=out)
        return 2 * n**3 * k / (time.perf_counter() - start)

    def torch_mm(k: int) -> float:
        start = time.perf_counter()
        for _ in range(k):
            torch.matmul(ta, tb, out=tout)
        return 2 * n**3 * k / (time.perf_counter() - start)

    return {"numpy": numpy_mm, "torch": torch_mm}


# ---------------------------------------------------------------- timing


def calibrate(run: Callable[[int], None], seconds: float) -> int:
    """How many calls of ``run(k)``'s unit take about ``seconds`` (after one warm-up call)."""
    run(1)
    k = 1
    while True:
        start = time.perf_counter()
        run(k)
        elapsed = time.perf_counter() - start
        if elapsed >= seconds / 4 or k >= 1 << 16:
            return max(1, round(k * seconds / max(elapsed, 1e-9)))
        k *= 4


def interleave(
    blocks: dict[str, Block], rounds: int, settle: float = 0.0
) -> dict[str, list[float]]:
    """Run every block once per round, rotating the order each round; rates per block.

    ``settle`` seconds of sleep before each block let the thread pools of the block before
    go idle: OpenBLAS and OpenMP threads spin for a while after their work, and on two
    cores that spinning would slow whichever library runs next.
    """
    names = list(blocks)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            time.sleep(settle)
            rates[name].append(blocks[name]())
    return rates


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    """Median over rounds of ``a[i] / b[i]`` (paired: both measured in round i)."""
    return float(np.median(np.asarray(a) / np.asarray(b)))


def _contestants(
    sizes: Sequence[int], batch: int, seconds: float, *, with_numpy: bool, n_batches: int = 8
) -> dict[str, Block]:
    from nnscratch.torch_utils import to_torch

    X, y = make_data(batch * n_batches, sizes)
    model = nnscratch_model(sizes)
    runs = {
        "nnscratch": nnscratch_steps(model, X, y, batch),
        "torch": torch_steps(to_torch(model), X, y, batch),  # the same weights
    }
    per_unit = dict.fromkeys(runs, batch)  # samples per call unit: one step
    if with_numpy:
        runs["numpy_by_hand"] = numpy_steps(sizes, X, y, batch)
        runs["numpy_tuned"] = numpy_tuned_steps(sizes, X, y, batch)
        runs["nnscratch_fit"] = nnscratch_fit_epochs(nnscratch_model(sizes), X, y, batch)
        per_unit.update(numpy_by_hand=batch, numpy_tuned=batch, nnscratch_fit=len(X))
    return {
        name: training_block(run, calibrate(run, seconds), per_unit[name])
        for name, run in runs.items()
    }


def measure_training(
    sizes: Sequence[int] = MNIST_MLP,
    batch: int = 128,
    *,
    rounds: int = 25,
    seconds: float = 0.1,
    settle: float = 0.2,
    matmul_n: int = 1024,
    no_pause_rounds: int = 7,
) -> dict[str, Any]:
    """Part 1: samples/s of nnscratch, torch and hand-written NumPy loops, and the sgemm peak.

    Returns medians over ``rounds`` interleaved rounds of about ``seconds`` per block, the
    per-round ratio nnscratch/torch and nnscratch's fraction of the peak (the faster of
    NumPy's and torch's ``(matmul_n, matmul_n)`` float32 matmul in the same round).
    ``no_pause``: the same blocks run back to back (``settle=0``) for ``no_pause_rounds``
    rounds, to show how much the idle-spinning thread pools distort a naive measurement.
    """
    blocks = _contestants(sizes, batch, seconds, with_numpy=True)
    for lib, mm in sgemm_blocks(matmul_n).items():
        blocks[f"sgemm_{lib}"] = (lambda f, k: lambda: f(k))(mm, calibrate(mm, seconds))
    rates = interleave(blocks, rounds, settle)
    peak = np.maximum(rates["sgemm_numpy"], rates["sgemm_torch"])
    flops, flops_6n = flops_per_sample(sizes), flops_per_sample(sizes, six_n=True)
    libs = TRAINING_LIBS
    naive = interleave(blocks, no_pause_rounds, 0.0) if no_pause_rounds else None
    return {
        "sizes": list(sizes),
        "batch": batch,
        "dtype": "float32",
        "rounds": rounds,
        "samples_per_s": {lib: float(np.median(rates[lib])) for lib in libs},
        "ratio_vs_torch": {lib: median_ratio(rates[lib], rates["torch"]) for lib in libs},
        "ratio_vs_numpy_by_hand": {
            lib: median_ratio(rates[lib], rates["numpy_by_hand"]) for lib in libs
        },
        "sgemm_gflops": {
            lib: float(np.median(rates[f"sgemm_{lib}"])) / 1e9 for lib in ("numpy", "torch")
        },
        "peak_gflops": float(np.median(peak)) / 1e9,
        "flops_per_sample": flops,
        "flops_per_sample_6n": flops_6n,
        "fraction_of_peak": {
            lib: median_ratio(np.asarray(rates[lib]) * flops, peak) for lib in libs
        },
        "fraction_of_peak_6n": {
            lib: median_ratio(np.asarray(rates[lib]) * flops_6n, peak) for lib in libs
        },
        # The fastest round of each (not paired), a check on the medians on a busy machine.
        "best": {
            "samples_per_s": {lib: float(np.max(rates[lib])) for lib in libs},
            "ratio_vs_torch": float(np.max(rates["nnscratch"]) / np.max(rates["torch"])),
            "peak_gflops": float(np.max(peak)) / 1e9,
        },
        "raw": {name: [float(v) for v in vals] for name, vals in rates.items()},
        "no_pause": None if naive is None else _no_pause_summary(naive, libs),
    }


def _no_pause_summary(rates: dict[str, list[float]], libs: Sequence[str]) -> dict[str, Any]:
    return {
        "rounds": len(rates["torch"]),
        "samples_per_s": {lib: float(np.median(rates[lib])) for lib in libs},
        "ratio_vs_torch": {lib: median_ratio(rates[lib], rates["torch"]) for lib in libs},
        "sgemm_gflops": {
            lib: float(np.median(rates[f"sgemm_{lib}"])) / 1e9 for lib in ("numpy", "torch")
        },
    }


def measure_scaling(
    batches: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024),
    widths: Sequence[int] = (64, 128, 256, 512, 1024, 2048),
    *,
    rounds: int = 5,
    seconds: float = 0.1,
    settle: float = 0.2,
    base: Sequence[int] = MNIST_MLP,
    base_batch: int = 128,
) -> dict[str, Any]:
    """Part 2: samples/s of both libraries against batch size, and against hidden width.

    Batch sweep: the ``base`` MLP. Width sweep: ``784-w-w-10`` at ``base_batch``.
    """

    def sweep(configs: list[tuple[int, Sequence[int], int]]) -> dict[str, Any]:
        out: dict[str, Any] = {"x": [], "nnscratch": [], "torch": [], "ratio": []}
        for x, sizes, batch in configs:
            blocks = _contestants(sizes, batch, seconds, with_numpy=False)
            rates = interleave(blocks, rounds, settle)
            out["x"].append(x)
            for lib in ("nnscratch", "torch"):
                out[lib].append(float(np.median(rates[lib])))
            out["ratio"].append(median_ratio(rates["nnscratch"], rates["torch"]))
        return out

    return {
        "batch": sweep([(b, base, b) for b in batches]),
        "width": sweep([(w, (base[0], w, w, base[-1]), base_batch) for w in widths]),
        "base_sizes": list(base),
        "base_batch": base_batch,
    }
