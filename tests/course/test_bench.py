"""Smoke test of the benchmark code (bench/) with tiny sizes: it runs and reports sanely.

No timing is asserted here; ``make bench`` does the measuring.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import nnscratch as nn  # noqa: E402
from bench import cnn, course, run, throughput  # noqa: E402

TINY = (6, 5, 4, 3)
# What run.py records about the machine, as the table needs it.
META = {
    "date": "today",
    "cpu": "cpu",
    "cpus": 2,
    "threads": 2,
    "quick": True,
    "blas_threads": {"numpy": 2, "torch": 2},
    "numpy": "x",
    "torch": "y",
}


def test_flop_counts_follow_the_readme():
    # 6 FLOPs per weight, less dL/dx of the first layer (2 per weight there), never computed.
    assert throughput.weight_macs(TINY) == 6 * 5 + 5 * 4 + 4 * 3
    assert throughput.flops_per_sample(TINY, six_n=True) == 6 * 62
    assert throughput.flops_per_sample(TINY) == 6 * 62 - 2 * 30


def test_all_three_loops_train_the_same_model_shape():
    X, y = throughput.make_data(16, TINY)
    assert X.shape == (16, 6) and X.dtype == np.float32 and y.max() < 3
    model = throughput.nnscratch_model(TINY)
    before = [p.data.copy() for p in model.parameters()]
    throughput.nnscratch_steps(model, X, y, 4)(3)
    after = [p.data for p in model.parameters()]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    throughput.numpy_steps(TINY, X, y, 4)(3)  # runs without error


def test_tuned_numpy_loop_trains_exactly_like_the_plain_one():
    X, y = throughput.make_data(24, TINY, seed=1)
    plain, tuned = throughput.hand_params(TINY), throughput.hand_params(TINY)
    start = [w.copy() for w in plain[0]]
    throughput.numpy_steps(TINY, X, y, 4, params=plain)(9)  # cycles over all 6 batches
    throughput.numpy_tuned_steps(TINY, X, y, 4, params=tuned)(9)
    for a, b in zip(plain[0] + plain[1], tuned[0] + tuned[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        assert a.dtype == b.dtype == np.float32
    assert not any(np.array_equal(w, w0) for w, w0 in zip(plain[0], start, strict=True))


class _Doubler(nn.Module):
    """A module of one's own, with a parameter and no backward_params: y = 2 * x * s."""

    def __init__(self) -> None:
        self.s = nn.Parameter(np.ones(1))

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        return 2 * x * self.s.data

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        self.s.grad += np.sum(2 * grad_out * self._x, keepdims=True).reshape(1)
        return 2 * grad_out * self.s.data


@pytest.mark.parametrize("first", ["linear", "custom", "nested", "tied"])
def test_backward_params_gives_the_gradients_of_backward(first):
    # The speed idea of notebook 05 (no dL/dX of the data) changes no parameter gradient,
    # whatever the first module is.
    rng = np.random.default_rng(0)
    x, g = rng.standard_normal((5, 4)), rng.standard_normal((5, 2))

    def build() -> nn.Module:
        head = {
            "linear": lambda: [nn.Linear(4, 4, rng=1)],
            "custom": lambda: [_Doubler()],
            "nested": lambda: [nn.Sequential(nn.Linear(4, 4, rng=1), nn.Tanh())],
            "tied": lambda: [nn.Linear(4, 4, rng=1)],
        }[first]()
        model = nn.Sequential(*head, nn.ReLU(), nn.Linear(4, 4, rng=2), nn.Linear(4, 2, rng=3))
        if first == "tied":
            model[2].weight, model[2].bias = model[0].weight, model[0].bias
        return model

    grads = []
    for method in ("backward", "backward_params"):
        model = build()
        model(x)
        out = getattr(model, method)(g)
        assert (out is None) == (method == "backward_params")
        model(x)
        getattr(model, method)(g)  # twice: gradients add up in both
        grads.append([p.grad.copy() for p in model.parameters()])
    for a, b in zip(*grads, strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_trains_any_module_exactly_like_a_sequential():
    # fit runs one loop for every model; a wrapper around the same MLP trains identically.
    class Wrapped(nn.Module):
        def __init__(self, inner: nn.Module) -> None:
            self.inner = inner

        def forward(self, x: np.ndarray) -> np.ndarray:
            return self.inner(x)

        def backward(self, grad_out: np.ndarray) -> np.ndarray:
            return self.inner.backward(grad_out)

    X, y = throughput.make_data(40, TINY)
    models = [nn.MLP(TINY, rng=3), Wrapped(nn.MLP(TINY, rng=3))]
    for model in models:
        opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        nn.fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=2, batch_size=8, rng=0, verbose=0)
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=1e-12, atol=1e-15)


def test_measurements_with_tiny_sizes_give_positive_rates(tmp_path):
    t = throughput.measure_training(TINY, 4, rounds=1, seconds=0.002, settle=0, matmul_n=16)
    assert set(t["samples_per_s"]) == set(throughput.TRAINING_LIBS)
    assert set(t["no_pause"]["ratio_vs_torch"]) == set(throughput.TRAINING_LIBS)
    assert all(v > 0 for v in t["samples_per_s"].values())
    assert t["ratio_vs_torch"]["torch"] == pytest.approx(1.0)
    assert len(t["raw"]["nnscratch"]) == 1 and t["peak_gflops"] > 0
    s = throughput.measure_scaling(
        (2, 4), (3, 5), rounds=1, seconds=0.002, settle=0, base=TINY, base_batch=4
    )
    assert s["batch"]["x"] == [2, 4] and s["width"]["x"] == [3, 5]
    assert all(v > 0 for v in s["width"]["nnscratch"] + s["batch"]["torch"])
    png = tmp_path / "scaling.png"
    run.plot_scaling(s, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    imp = course.time_import(rounds=1, module="json")
    assert imp["import_s"] > 0 and imp["heavy_modules_imported"] == []
    nbs = course.time_notebooks([tmp_path / "no-such-folder"], verbose=False)
    assert nbs["count"] == 0 and nbs["total_s"] == 0

    results = {
        "meta": META,
        "throughput": t,
        "scaling": s,
        "import": imp,
        "course": nbs,
    }
    rows = run.targets(results)
    assert [r["target"] for r in rows] == [
        "throughput nnscratch / torch",
        "throughput nnscratch / numpy by hand",
        "fraction of sgemm peak",
        "import nnscratch, extra",
    ]
    text = run.table(results)
    assert "| nnscratch |" in text and "| target | measured | goal | met |" in text
    assert "| numpy tuned |" in text and "Without the pause" in text
    json.dumps(results)  # everything is JSON-serialisable
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{run.TABLE_START}\nold table\n{run.TABLE_END}\noutro\n")
    assert run.update_readme(readme, text)
    doc = readme.read_text()
    assert "old table" not in doc and text in doc and doc.endswith(f"{run.TABLE_END}\noutro\n")


def test_parse_args_rejects_unknown_parts():
    args = run.parse_args(["--quick", "--parts", "import,course"])
    assert args.quick and args.parts == ["import", "course"]
    with pytest.raises(SystemExit):
        run.parse_args(["--parts", "gpu"])


TINY_CNN = {
    "name": "tiny CNN",
    "image": (2, 8, 4),  # even sizes at every pool, as the hand-written step assumes
    "batch": 3,
    "unflatten": False,
    "layers": (
        ("conv", 2, 3),
        ("relu",),
        ("pool",),
        ("conv", 3, 2),
        ("relu",),
        ("pool",),
        ("flatten",),
        ("linear", 2 * 1 * 2, 10),
    ),
}


@pytest.mark.parametrize("cfg", [TINY_CNN, {**cnn.DIGITS_CNN, "batch": 4}], ids=["tiny", "digits"])
def test_cnn_contestants_train_the_same_model_alike(cfg):
    # Same weights, data and SGD steps: the hand-written ceiling, the reference layers and
    # torch end where nnscratch ends, so the bench compares the same work.
    X, y = cnn.make_images(cfg, cfg["batch"] * 3, np.float64, seed=2)
    runs = {}
    for name in cnn.CNN_LIBS:
        model = cnn.nnscratch_cnn(cfg, np.float64, fast=name != "nnscratch_reference")
        start = [p.data.copy() for p in model.parameters()]
        if name == "torch":
            twin = cnn.torch_twin(model)
            throughput.torch_steps(twin, X, y, cfg["batch"])(4)
            runs[name] = [p.detach().numpy() for p in twin.parameters()]
        elif name == "numpy_ceiling":
            images = X.reshape(len(X), *cfg["image"])
            cnn.numpy_ceiling_steps(cfg, start, images, y, cfg["batch"])(4)
            runs[name] = start
        else:
            throughput.nnscratch_steps(model, X, y, cfg["batch"])(4)
            runs[name] = [p.data for p in model.parameters()]
            assert not any(
                np.array_equal(a, b.data) for a, b in zip(start, model.parameters(), strict=True)
            )
    for name in cnn.CNN_LIBS[1:]:
        for a, b in zip(runs["nnscratch"], runs[name], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=name)


def test_cnn_measurement_and_its_rows_in_the_table():
    res = cnn.measure_cnn([TINY_CNN], [np.float32], rounds=1, seconds=0.002, settle=0)
    assert len(res) == 1 and res[0]["dtype"] == "float32"
    assert all(v > 0 for v in res[0]["samples_per_s"].values())
    assert res[0]["ratio_vs_torch"]["torch"] == pytest.approx(1.0)
    results = {
        "meta": META,
        "cnn": res,
    }
    rows = run.targets(results)
    assert [r["goal"] for r in rows] == [">= 0.6x", ">= 0.9x"]
    assert "| tiny CNN | float32 | 3 |" in run.table(results)


def test_startup_floor_counts_only_notebooks_whose_code_imports_torch(tmp_path):
    import nbformat

    def notebook(name, *sources, markdown=""):
        cells = [nbformat.v4.new_markdown_cell(markdown)] if markdown else []
        cells += [nbformat.v4.new_code_cell(s) for s in sources]
        path = tmp_path / name
        nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
        return path

    assert course.uses_torch(notebook("a.ipynb", "x = 1", "import numpy as np\nimport torch"))
    assert course.uses_torch(notebook("b.ipynb", "from torch import nn"))
    # a comment, a markdown cell or another module's name is not an import of torch
    assert not course.uses_torch(
        notebook("c.ipynb", "# put `import torch` above", "import torchvision",
                 markdown="import torch")
    )
    startup = {
        "kernel_s": 0.8, "plotting_imports_s": 0.5, "torch_import_s": 1.5,
        "optimiser_first_step_s": 1.4, "notebooks": 3, "notebooks_with_torch": 1,
        "floor_s": 3 * 1.3 + 1.5, "rounds": 3,
    }  # fmt: skip
    text = run.table({"meta": META, "course": {
        "count": 3, "failed": 0, "total_s": 9.0, "max_s": 4.0, "slowest": [],
        "notebooks": [], "startup": startup,
    }})  # fmt: skip
    assert "a kernel 0.80 s" in text and "import torch 1.50 s" in text
    assert "1 of them with torch: 5 s before any lesson runs" in text


def test_course_timing_counts_fit_and_show_in_the_kernel(tmp_path):
    # Where a notebook's time goes is counted in its kernel by bench/course_probe.py: two
    # fits (one of them inside a helper the notebook defines after importing fit by name)
    # and one figure; a notebook that does neither reports zeros. The notebook reuses names
    # the probe has (notebook 01 has a `totals`): the probe must not live in its namespace.
    import nbformat

    lesson = [
        "import matplotlib.pyplot as plt\nimport numpy as np\nimport nnscratch as nn\n"
        "from nnscratch import fit\nfrom nnscratch.plotting import show\n"
        "from nnscratch.optim import SGD",
        "X, y = np.random.default_rng(0).normal(size=(40, 2)), np.arange(40) % 2\n"
        "def train():\n    net = nn.MLP([2, 4, 2], rng=0)\n"
        "    return fit(net, nn.CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y,\n"
        "               epochs=3, batch_size=8, verbose=False)\n"
        "time = json = totals = None\n"
        "train()\nnet = nn.MLP([2, 2], rng=0)\n"
        "nn.fit(net, nn.CrossEntropyLoss(), SGD(net.parameters(), lr=0.1), X, y, epochs=1,\n"
        "       batch_size=40, verbose=False)",
        "plt.plot([0, 1], [1, 0])\nshow('A line falling from 1 to 0.')",
    ]
    folder = tmp_path / "nbs"
    folder.mkdir()
    for name, sources in (("a_lesson.ipynb", lesson), ("b_plain.ipynb", ["x = 1"])):
        cells = [nbformat.v4.new_code_cell(s) for s in sources]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / name)

    c = course.time_notebooks([folder], verbose=False)
    assert c["failed"] == 0, c["notebooks"]
    lesson_row, plain_row = c["notebooks"]
    assert lesson_row["fit_s"] > 0 and lesson_row["show_s"] > 0
    assert (lesson_row["fits"], lesson_row["figures"]) == (2, 1)
    assert lesson_row["fit_s"] + lesson_row["show_s"] < lesson_row["seconds"]
    assert (plain_row["fit_s"], plain_row["show_s"], plain_row["fits"]) == (0, 0, 0)
    assert c["fit_s"] == lesson_row["fit_s"] and c["figures"] == 1 and c["torch_train_s"] == 0
    text = run.table({"meta": META, "course": c})
    assert "drawing 1 figures with `show`" in text and "| in fit |" in text


def test_course_probe_wraps_functions_that_exist():
    # A renamed module or function would leave the probe counting nothing, silently.
    import importlib

    from bench import course_probe

    for module, (attr, _) in course_probe.TARGETS.items():
        assert callable(getattr(importlib.import_module(module), attr)), (module, attr)
