"""The tiny-network explorer of notebook 02: plain callback functions, and the widget panel."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from nnscratch import MLP, Linear
from nnscratch.functional import sigmoid
from nnscratch.widgets import (
    PARAM_NAMES,
    XOR_PARAMS,
    boundary_grid,
    draw_tiny_network,
    explorer_summary,
    tiny_network_layers,
    tiny_network_output,
    weight_explorer,
)

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])


def test_import_stays_numpy_only():
    code = (
        "import sys, nnscratch.widgets; "
        "bad = [m for m in ('matplotlib', 'ipywidgets', 'torch') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_output_matches_an_mlp_with_the_same_weights(rng):
    params = {k: float(v) for k, v in zip(PARAM_NAMES, rng.normal(size=9), strict=True)}
    model = MLP([2, 2, 1], activation="sigmoid", rng=0)
    W1, b1, W2, b2 = tiny_network_layers(params)
    first, second = (m for m in model if isinstance(m, Linear))
    first.weight.data[:], first.bias.data[:] = W1, b1
    second.weight.data[:], second.bias.data[:] = W2, b2
    X = rng.normal(size=(7, 2))
    expected = sigmoid(model(X))[:, 0]  # MLP's last layer is linear: add the output sigmoid
    np.testing.assert_allclose(tiny_network_output(params, X), expected, rtol=1e-12)


def test_layers_follow_the_parameter_names():
    params = {k: float(i) for i, k in enumerate(PARAM_NAMES)}
    W1, b1, W2, b2 = tiny_network_layers(params)
    np.testing.assert_array_equal(W1, [[0, 1], [3, 4]])
    np.testing.assert_array_equal(b1, [2, 5])
    np.testing.assert_array_equal(W2, [[6, 7]])
    np.testing.assert_array_equal(b2, [8])


def test_xor_params_solve_xor_confidently():
    p = tiny_network_output(XOR_PARAMS, XOR_X)
    assert p.shape == (4,)
    np.testing.assert_array_equal((p >= 0.5).astype(int), XOR_Y)
    assert np.all(np.abs(p - XOR_Y) < 0.01)


def test_bad_params_are_named():
    with pytest.raises(ValueError, match="missing \\['c'\\]"):
        tiny_network_output({k: 0.0 for k in PARAM_NAMES[:-1]}, XOR_X)
    with pytest.raises(ValueError, match="unknown \\['w99'\\]"):
        tiny_network_output({**XOR_PARAMS, "w99": 1.0}, XOR_X)
    with pytest.raises(TypeError, match="params\\['b1'\\] must be a number"):
        tiny_network_output({**XOR_PARAMS, "b1": "big"}, XOR_X)
    with pytest.raises(TypeError, match="mapping"):
        tiny_network_output([1.0] * 9, XOR_X)
    with pytest.raises(ValueError, match="2 features"):
        tiny_network_output(XOR_PARAMS, np.zeros((3, 3)))


def test_boundary_grid_shapes_and_values():
    xx, yy, P = boundary_grid(XOR_PARAMS, (-1.0, 2.0), (0.0, 1.0), resolution=11)
    assert xx.shape == yy.shape == P.shape == (11, 11)
    assert xx[0, 0] == -1.0 and xx[0, -1] == 2.0 and yy[0, 0] == 0.0 and yy[-1, 0] == 1.0
    assert np.all((P >= 0) & (P <= 1))
    pts = np.column_stack([xx.ravel(), yy.ravel()])
    np.testing.assert_allclose(P.ravel(), tiny_network_output(XOR_PARAMS, pts))
    with pytest.raises(ValueError, match="resolution must be an int >= 2, got 1"):
        boundary_grid(XOR_PARAMS, resolution=1)
    with pytest.raises(ValueError, match="xlim"):
        boundary_grid(XOR_PARAMS, xlim=(1.0, 0.0))


def test_explorer_summary_reports_accuracy_and_loss():
    assert explorer_summary(XOR_PARAMS, XOR_X, XOR_Y).startswith("accuracy 100.0% (4/4 points)")
    zeros = dict.fromkeys(PARAM_NAMES, 0.0)  # outputs 0.5 everywhere: counted as class 1
    text = explorer_summary(zeros, XOR_X, XOR_Y)
    assert text.startswith("accuracy 50.0% (2/4 points)")
    assert f"{np.log(2):.4f}" in text  # BCE of p = 0.5 is log 2
    with pytest.raises(ValueError, match="same number of samples"):
        explorer_summary(XOR_PARAMS, XOR_X, XOR_Y[:3])


def test_draw_tiny_network_draws_boundary_and_labels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ax = draw_tiny_network(XOR_PARAMS, XOR_X, XOR_Y)
    try:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
        assert ax.get_legend() is not None
        assert len(ax.figure.axes) == 2  # the plot and its colour bar
    finally:
        plt.close(ax.figure)


def test_weight_explorer_builds_sliders_and_reacts():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    panel = weight_explorer(XOR_X, XOR_Y)
    assert set(panel.sliders) == set(PARAM_NAMES)
    assert panel.sliders["w11"].value == XOR_PARAMS["w11"]
    summary = panel.children[1].children[1]
    assert summary.value.startswith("accuracy 100.0%")
    panel.sliders["c"].value = 5.0  # output unit now says "class 1" everywhere
    assert summary.value.startswith("accuracy 50.0%")
    panel.children[1].children[0].click()  # reset
    assert panel.sliders["c"].value == XOR_PARAMS["c"]
    assert summary.value.startswith("accuracy 100.0%")


# ------------------------------------------------------------------ stored outputs


def test_explorer_text_form_says_how_to_get_the_sliders():
    import ipywidgets

    from nnscratch.widgets import EXPLORER_TEXT

    panel = weight_explorer(XOR_X, XOR_Y)
    bundle = panel._repr_mimebundle_()
    assert bundle["text/plain"] == EXPLORER_TEXT and "VBox" not in EXPLORER_TEXT
    assert "application/vnd.jupyter.widget-view+json" in bundle  # still a live widget
    assert isinstance(panel, ipywidgets.VBox) and len(panel.sliders) == 9
    assert "run this cell" in EXPLORER_TEXT.lower()


def _load_tool(name: str):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_execute_notebooks_stores_widgets_as_text_only():
    import nbformat

    tool = _load_tool("execute_notebooks")
    view = {"model_id": "0123", "version_major": 2, "version_minor": 0}
    cell = nbformat.v4.new_code_cell("weight_explorer(X, y)")
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result", data={tool.WIDGET_VIEW: view, "text/plain": "run me"}
        ),
        nbformat.v4.new_output("display_data", data={tool.WIDGET_VIEW: view}),  # no text: kept
    ]
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    assert tool.drop_widget_views(nb) == 1
    assert "widgets" not in nb.metadata
    assert nb.cells[0].outputs[0]["data"] == {"text/plain": "run me"}
    assert tool.WIDGET_VIEW in nb.cells[0].outputs[1]["data"]


def test_lab_saves_widget_state_with_the_notebook():
    """A notebook run, saved and reopened (new kernel) redraws its widgets from the state
    saved in it; without saveState JupyterLab shows "Error displaying widget: model not
    found" (checked in a real browser in tests/tools/test_browser.py)."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    overrides = json.loads(
        (root / "tools/lab/labconfig/default_setting_overrides.json").read_text(encoding="utf-8")
    )
    assert overrides["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True
