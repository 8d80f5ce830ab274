"""Tests for nnscratch.plotting: figures are labelled, count what they should, reject bad input."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("matplotlib")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

import nnscratch  # noqa: E402
from nnscratch import functional as F  # noqa: E402
from nnscratch import plotting as P  # noqa: E402
from nnscratch.autodiff import Value  # noqa: E402
from nnscratch.perceptron import Perceptron  # noqa: E402
from nnscratch.training import History  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def assert_labelled(ax: Axes, *, legend: bool | None = None) -> None:
    assert ax.get_title(), "axes without a title"
    assert ax.get_xlabel(), "axes without an x label"
    assert ax.get_ylabel(), "axes without a y label"
    if legend is not None:
        assert (ax.get_legend() is not None) == legend


def legend_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.fixture
def toy() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 1).astype(int)
    return X, y


# --- imports ---------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["nnscratch", "nnscratch.plotting"])
def test_import_does_not_load_matplotlib(module):
    code = f"import sys, {module}; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_lazy_attribute_gives_the_module():
    assert nnscratch.plotting is P


# --- toy data and decision boundaries ----------------------------------------------------


def test_plot_data_one_marker_and_legend_entry_per_class(toy):
    X, y = toy
    ax = P.plot_data(X, y, title="Toy")
    assert isinstance(ax, Axes)
    assert_labelled(ax, legend=True)
    assert ax.get_title() == "Toy"
    assert legend_labels(ax) == ["class 0", "class 1", "class 2"]
    assert len(ax.collections) == 3
    sizes = [len(c.get_offsets()) for c in ax.collections]
    assert sizes == [int(np.sum(y == k)) for k in range(3)]
    # The classes differ in marker shape, not only in colour.
    shapes = {tuple(np.round(c.get_paths()[0].vertices.ravel(), 3)) for c in ax.collections}
    assert len(shapes) == 3


def test_plot_data_draws_into_given_axes(toy):
    _, ax = plt.subplots()
    assert P.plot_data(*toy, ax=ax) is ax


def test_plot_data_rejects_bad_shapes(toy):
    X, y = toy
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        P.plot_data(np.zeros((5, 3)), np.zeros(5, dtype=int))
    with pytest.raises(ValueError, match="same number of samples"):
        P.plot_data(X, y[:-1])
    with pytest.raises(ValueError, match="1-D"):
        P.plot_data(X, np.zeros((len(X), 2), dtype=int))


def _boundary_segments(ax: Axes) -> np.ndarray:
    """Vertices of the black decision-boundary contour lines."""
    from matplotlib.contour import ContourSet

    sets = [c for c in ax.collections if isinstance(c, ContourSet) and not c.filled]
    assert len(sets) == 1
    return np.concatenate([seg for level in sets[0].allsegs for seg in level])


def test_decision_boundary_of_a_function_lies_where_the_label_changes(toy):
    X, y = toy
    ax = P.plot_decision_boundary(lambda pts: (pts[:, 0] > 0.3).astype(int), X, y, resolution=60)
    assert isinstance(ax, Axes)
    assert_labelled(ax, legend=True)
    assert ax.get_title() == "Decision boundary"
    spacing = (X[:, 0].max() - X[:, 0].min() + 1.0) / 59
    assert np.allclose(_boundary_segments(ax)[:, 0], 0.3, atol=spacing)
    # The grid covers the data plus the padding.
    assert ax.get_xlim() == pytest.approx((X[:, 0].min() - 0.5, X[:, 0].max() + 0.5))


@pytest.mark.parametrize(
    "scores",
    [
        lambda pts: pts[:, 1] - 0.2,  # one logit per point: threshold 0
        lambda pts: F.sigmoid(pts[:, 1:2] - 0.2),  # probabilities (m, 1): threshold 0.5
        lambda pts: np.column_stack([0.2 - pts[:, 1], pts[:, 1] - 0.2]),  # (m, 2): argmax
    ],
)
def test_decision_boundary_reads_scores(toy, scores):
    X, y = toy
    ax = P.plot_decision_boundary(scores, X, y, resolution=50)
    spacing = (X[:, 1].max() - X[:, 1].min() + 1.0) / 49
    assert np.allclose(_boundary_segments(ax)[:, 1], 0.2, atol=spacing)


def test_decision_boundary_of_modules_and_perceptrons(toy):
    X, y = toy
    model = nnscratch.MLP([2, 8, 3], rng=0)
    ax = P.plot_decision_boundary(model, X, y, resolution=30, proba=True)
    assert_labelled(ax, legend=True)
    assert model.training  # predict_proba restores training mode
    perceptron = Perceptron(2, weights=np.array([1.0, 0.0]), bias=-0.1)
    ax = P.plot_decision_boundary(perceptron, X, (X[:, 0] > 0.1).astype(int), resolution=40)
    assert np.allclose(_boundary_segments(ax)[:, 0], 0.1, atol=0.15)


def test_decision_boundary_binary_proba_has_probability_colorbar(toy):
    X, _ = toy
    y = (X[:, 0] > 0).astype(int)
    model = nnscratch.MLP([2, 4, 1], rng=1)
    ax = P.plot_decision_boundary(model, X, y, resolution=30, proba=True)
    colorbars = [a for a in ax.figure.axes if a is not ax]
    assert len(colorbars) == 1
    assert colorbars[0].get_ylabel() == "P(class 1)"


def test_decision_boundary_rejects_bad_input(toy):
    X, y = toy
    with pytest.raises(ValueError, match="one label or score per point"):
        P.plot_decision_boundary(lambda pts: pts[:5, 0], X, y, resolution=10)
    with pytest.raises(ValueError, match="same number of samples"):
        P.plot_decision_boundary(lambda pts: pts[:, 0], X, y[:3], resolution=10)
    with pytest.raises(ValueError, match="resolution"):
        P.plot_decision_boundary(lambda pts: pts[:, 0], X, y, resolution=1)
    with pytest.raises(TypeError, match="model_or_fn"):
        P.plot_decision_boundary("model", X, y, resolution=10)


# --- training curves ---------------------------------------------------------------------


def _history(epochs: int = 5, val: bool = True) -> History:
    loss = list(np.linspace(1.0, 0.2, epochs))
    acc = list(np.linspace(0.5, 0.9, epochs))
    if not val:
        return History(loss=loss, acc=acc)
    return History(loss=loss, acc=acc, val_loss=[v + 0.1 for v in loss], val_acc=acc[::-1])


def test_plot_history_train_solid_validation_dashed():
    fig = P.plot_history(_history(6), title="Run")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert fig._suptitle.get_text() == "Run"
    for ax, ylabel in zip(fig.axes, ["loss", "accuracy"], strict=True):
        assert_labelled(ax, legend=True)
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == ylabel
        train, val = ax.get_lines()
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
        assert train.get_marker() != val.get_marker()
        assert list(train.get_xdata()) == [1, 2, 3, 4, 5, 6]
        assert legend_labels(ax) == ["train", "validation"]
    assert list(fig.axes[0].get_lines()[1].get_ydata()) == pytest.approx(_history(6).val_loss)


def test_plot_history_accepts_a_dict_and_skips_missing_curves():
    fig = P.plot_history({"loss": [3.0, 2.0, 1.0]}, metrics=("loss", "acc"))
    assert len(fig.axes) == 1
    assert len(fig.axes[0].get_lines()) == 1
    # Regression: the accuracy is NaN in every epoch, so its panel is left out.
    fig = P.plot_history(History(loss=[1.0, 0.5], acc=[float("nan")] * 2))
    assert [ax.get_ylabel() for ax in fig.axes] == ["loss"]


def test_plot_history_compares_runs_on_the_same_axes():
    runs = {"SGD": _history(4), "Adam": _history(4, val=False)}
    fig = P.plot_history(runs)
    loss_ax = fig.axes[0]
    assert legend_labels(loss_ax) == ["SGD (train)", "SGD (validation)", "Adam (train)"]
    lines = loss_ax.get_lines()
    assert lines[0].get_color() != lines[2].get_color()
    assert lines[0].get_marker() != lines[2].get_marker()


def test_plot_history_into_given_axes_and_errors():
    _, axes = plt.subplots(1, 2)
    fig = P.plot_history(_history(), axes=axes)
    assert fig is axes[0].figure and len(fig.axes) == 2
    with pytest.raises(ValueError, match="2 Axes"):
        P.plot_history(_history(), axes=[axes[0]])
    with pytest.raises(ValueError, match="no data for metrics"):
        P.plot_history(_history(), metrics=("f1",))
    with pytest.raises(TypeError, match="History or a dict"):
        P.plot_history([1.0, 2.0])
    with pytest.raises(ValueError, match="1-D"):
        P.plot_history({"loss": [[1.0, 2.0], [3.0, 4.0]]})


def test_plot_lr_schedule():
    ax = P.plot_lr_schedule([0.1, 0.1, 0.01])
    assert isinstance(ax, Axes)
    assert_labelled(ax, legend=True)
    assert list(ax.get_lines()[0].get_xdata()) == [1, 2, 3]
    ax = P.plot_lr_schedule({"step": [0.1, 0.01], "exp": [0.1, 0.05]}, logy=True)
    assert legend_labels(ax) == ["step", "exp"] and ax.get_yscale() == "log"
    hist = History(loss=[1.0, 0.5], lr=[0.2, 0.1])
    assert list(P.plot_lr_schedule(hist).get_lines()[0].get_ydata()) == [0.2, 0.1]
    with pytest.raises(ValueError, match="at least one"):
        P.plot_lr_schedule([])


# --- images ------------------------------------------------------------------------------


def test_plot_images_grid_and_captions():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 16, size=(13, 64))
    labels = np.arange(13) % 10
    preds = labels.copy()
    preds[[2, 7]] = 9
    fig = P.plot_images(images, labels, predictions=preds, ncols=5, title="Digits")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 13
    assert fig._suptitle.get_text() == "Digits"
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "true 0 / pred 0" and titles[2] == "true 2 / pred 9"
    bold = [ax.title.get_fontweight() == "bold" for ax in fig.axes]
    assert [i for i, b in enumerate(bold) if b] == [2, 7]
    assert fig.axes[0].get_images()[0].get_array().shape == (8, 8)
    only_labels = P.plot_images(images[:3], labels[:3])
    assert [ax.get_title() for ax in only_labels.axes] == ["label 0", "label 1", "label 2"]


def test_plot_images_shapes():
    fig = P.plot_images(np.zeros((4, 3, 5)))
    assert fig.axes[0].get_images()[0].get_array().shape == (3, 5)
    fig = P.plot_images(np.zeros((2, 15)), shape=(3, 5))
    assert len(fig.axes) == 2
    with pytest.raises(ValueError, match="not a square"):
        P.plot_images(np.zeros((2, 15)))
    with pytest.raises(ValueError, match="holds 16 pixels"):
        P.plot_images(np.zeros((2, 15)), shape=(4, 4))
    with pytest.raises(ValueError, match="one entry per image"):
        P.plot_images(np.zeros((3, 4)), labels=[1, 2])
    with pytest.raises(ValueError, match="shape"):
        P.plot_images(np.zeros(16))


def test_plot_weights_as_images_symmetric_diverging_scale():
    layer = nnscratch.Linear(16, 6, rng=0)
    fig = P.plot_weights_as_images(layer, shape=(4, 4), n=10, ncols=4)
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 6  # n is capped at out_features
    low, high = images[0].get_clim()
    assert low == pytest.approx(-high)
    assert high == pytest.approx(np.abs(layer.weight.data).max())
    assert fig._suptitle.get_text()
    with pytest.raises(ValueError, match="needs 64"):
        P.plot_weights_as_images(np.zeros((3, 16)))


# --- loss surfaces -----------------------------------------------------------------------


def test_plot_loss_surface_with_paths():
    path = np.array([[1.5, 1.5], [1.0, 0.8], [0.3, 0.2], [0.0, 0.0]])
    ax = P.plot_loss_surface(
        lambda a, b: a**2 + 3 * b**2, paths={"SGD": path, "Momentum": path * 0.5}, resolution=40
    )
    assert isinstance(ax, Axes)
    assert_labelled(ax, legend=True)
    assert legend_labels(ax) == ["SGD", "Momentum", "start", "end"]
    sgd = next(line for line in ax.get_lines() if line.get_label() == "SGD")
    assert np.array_equal(sgd.get_xydata(), path)
    assert ax.get_xlim() == (-2, 2)


def test_plot_loss_surface_log_levels_and_scalar_functions():
    ax = P.plot_loss_surface(lambda a, b: 1 + a**2 + b**2, log_levels=True, resolution=20)
    assert ax.get_legend() is None  # no paths, no series
    import math

    ax = P.plot_loss_surface(lambda a, b: math.exp(a) + b * b, resolution=10)
    assert ax.get_title() == "Loss surface"


def test_plot_loss_surface_rejects_bad_input():
    with pytest.raises(ValueError, match="grid's shape"):
        P.plot_loss_surface(lambda a, b: a[0], resolution=10)
    with pytest.raises(ValueError, match=r"shape \(k, 2\)"):
        P.plot_loss_surface(lambda a, b: a * b, paths={"bad": np.zeros((4, 3))}, resolution=10)
    with pytest.raises(ValueError, match="positive losses"):
        P.plot_loss_surface(lambda a, b: a * b, log_levels=True, resolution=10)


# --- activations and function fitting ----------------------------------------------------


def test_plot_activations_function_and_derivative():
    fig = P.plot_activations()
    assert isinstance(fig, Figure)
    assert [ax.get_title() for ax in fig.axes] == ["step", "sigmoid", "tanh", "relu"]
    for ax in fig.axes:
        assert_labelled(ax, legend=True)
        f_line, d_line = ax.get_lines()[-2:]
        assert f_line.get_linestyle() == "-" and d_line.get_linestyle() == "--"
    sig = fig.axes[1].get_lines()[-1]
    assert np.allclose(sig.get_ydata(), F.sigmoid_grad(sig.get_xdata()))
    assert np.all(fig.axes[0].get_lines()[-1].get_ydata() == 0)  # step's derivative
    fig = P.plot_activations(["tanh"], derivatives=False, z=np.linspace(-1, 1, 5))
    assert len(fig.axes) == 1 and fig.axes[0].get_lines()[-1].get_label() == "tanh(z)"
    with pytest.raises(ValueError, match="names must be among"):
        P.plot_activations(["softsign"])


def test_plot_function_fit():
    x = np.linspace(-1, 1, 20)
    ax = P.plot_function_fit(x[::-1], np.sin(x[::-1]), {"a": x, "b": x**3})
    assert_labelled(ax, legend=True)
    assert legend_labels(ax) == ["target", "a", "b"]
    assert np.all(np.diff(ax.get_lines()[0].get_xdata()) > 0)  # sorted by x
    ax = P.plot_function_fit(x.reshape(-1, 1), x, x.reshape(-1, 1) * 2)
    assert legend_labels(ax) == ["target", "model"]
    with pytest.raises(ValueError, match="x has 20 values but a has 19"):
        P.plot_function_fit(x, x, {"a": x[1:]})


# --- evaluation --------------------------------------------------------------------------


def test_plot_confusion_matrix_annotations_are_the_counts():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 4, 60)
    y_pred = np.where(rng.uniform(size=60) < 0.7, y_true, rng.integers(0, 4, 60))
    ax = P.plot_confusion_matrix(y_true, y_pred, class_names=["a", "b", "c", "d"])
    assert isinstance(ax, Axes)
    assert_labelled(ax)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted", "true")
    counts = np.zeros((4, 4), dtype=int)
    for t, p in zip(y_true, y_pred, strict=True):
        counts[t, p] += 1
    shown = np.zeros((4, 4), dtype=int)
    for text in ax.texts:
        j, i = text.get_position()
        shown[int(i), int(j)] = int(text.get_text())
    assert len(ax.texts) == 16
    assert np.array_equal(shown, counts)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c", "d"]
    assert len(ax.figure.axes) == 2  # the colour bar


def test_plot_confusion_matrix_normalized_rows_sum_to_one():
    ax = P.plot_confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0], num_classes=3, normalize=True)
    values = np.zeros((3, 3))
    for text in ax.texts:
        j, i = text.get_position()
        values[int(i), int(j)] = float(text.get_text())
    assert np.allclose(values[:2].sum(axis=1), 1.0, atol=0.011)
    assert np.all(values[2] == 0)  # a class with no samples
    with pytest.raises(ValueError, match="name all 3 classes"):
        P.plot_confusion_matrix([0, 1, 2], [0, 1, 2], class_names=["a", "b"])
    with pytest.raises(ValueError, match="differ in shape"):
        P.plot_confusion_matrix([0, 1, 2], [0, 1])


# --- inside the network ------------------------------------------------------------------


def test_plot_histograms_one_panel_per_array():
    rng = np.random.default_rng(0)
    arrays = {"input": rng.normal(size=(50, 4)), "hidden": rng.normal(size=120), "out": np.ones(7)}
    fig = P.plot_histograms(arrays, bins=10, title="Activations")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["input", "hidden", "out"]
    span = (min(a.min() for a in arrays.values()), max(a.max() for a in arrays.values()))
    for ax, arr in zip(fig.axes, arrays.values(), strict=True):
        assert_labelled(ax)
        (bars,) = ax.patches  # one filled step outline per panel, not one patch per bar
        counts, edges, _ = bars.get_data()
        assert len(counts) == 10 and counts.sum() == arr.size
        np.testing.assert_allclose(edges[[0, -1]], span)  # sharex: one range for every panel
    fig = P.plot_histograms([np.arange(5.0)] * 7, ncols=5)
    assert len(fig.axes) == 7 and fig.axes[6].get_title() == "layer 7"
    fig.canvas.draw()  # panels above a removed grid cell keep their x tick labels
    for ax in fig.axes:
        assert any(t.get_visible() and t.get_text() for t in ax.get_xticklabels())
    with pytest.raises(ValueError, match="name all 2 arrays"):
        P.plot_histograms([np.ones(3), np.ones(3)], labels=["a"])
    with pytest.raises(ValueError, match="at least one array"):
        P.plot_histograms([])
    with pytest.raises(ValueError, match="no finite values"):
        P.plot_histograms([np.array([np.nan])])


def test_plot_gradient_norms():
    ax = P.plot_gradient_norms({"sigmoid": [1e-4, 1e-3, 1e-2], "relu": [0.5, 0.4, 0.6]})
    assert isinstance(ax, Axes)
    assert_labelled(ax, legend=True)
    assert ax.get_yscale() == "log"
    a, b = ax.get_lines()
    assert list(a.get_xdata()) == [1, 2, 3]
    assert a.get_marker() != b.get_marker() and a.get_linestyle() != b.get_linestyle()
    ax = P.plot_gradient_norms([1.0, 2.0], labels=["fc1", "fc2"], logy=False)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fc1", "fc2"]
    with pytest.raises(ValueError, match="name all 2 layers"):
        P.plot_gradient_norms([1.0, 2.0], labels=["fc1"])


# --- computation graphs ------------------------------------------------------------------


def _neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2, b = Value(-3.0, label="w1"), Value(1.0, label="w2"), Value(6.88137, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    out = n.tanh()
    out.label = "o"
    out.backward()
    return out


def _boxes(ax: Axes, gid: str) -> list:
    return [t for t in ax.texts if t.get_gid() == gid]


def test_plot_computation_graph_one_box_per_node():
    root = _neuron()
    ax = P.plot_computation_graph(root)
    assert isinstance(ax, Axes)
    assert ax.get_title() == "Computation graph" and ax.get_xlabel()
    nodes = root.topological_order()
    boxes = _boxes(ax, "value-node")
    assert len(boxes) == len(nodes)
    assert len(_boxes(ax, "op-node")) == sum(1 for n in nodes if n._op)
    texts = {t.get_text() for t in boxes}
    assert "o\ndata 0.7071\ngrad 1" in texts
    assert "x1\ndata 2\ngrad -1.5" in texts
    # The output is the right-most box, the inputs sit further left.
    x_of = {t.get_text().split("\n")[0]: t.get_position()[0] for t in boxes}
    assert x_of["o"] == max(x_of.values()) and x_of["x1"] < x_of["n"]


def test_plot_computation_graph_boxes_do_not_overlap_at_25_nodes():
    xs = [Value(float(i), label=f"x{i}") for i in range(3)]
    ws = [Value(0.1 * (i + 1), label=f"w{i}") for i in range(6)]
    h1 = (xs[0] * ws[0] + xs[1] * ws[1] + xs[2] * ws[2]).tanh()
    h2 = (xs[0] * ws[3] + xs[1] * ws[4] + xs[2] * ws[5]).relu()
    out = (h1 * h2 + h1).sigmoid()
    out.backward()
    assert 20 <= len(out.topological_order()) <= 30
    ax = P.plot_computation_graph(out)
    ax.figure.canvas.draw()
    boxes = [t.get_bbox_patch().get_window_extent() for t in ax.texts if t.get_gid()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_plot_computation_graph_rejects_non_values():
    with pytest.raises(TypeError, match="Value"):
        P.plot_computation_graph(3.0)


# --- saving ------------------------------------------------------------------------------


def test_save_figure(tmp_path):
    ax = P.plot_data(np.zeros((2, 2)), [0, 1])
    path = P.save_figure(ax, tmp_path / "sub" / "data.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert P.save_figure(ax.figure, str(tmp_path / "fig.png")).exists()
    with pytest.raises(TypeError, match="Figure or Axes"):
        P.save_figure("figure", tmp_path / "x.png")
