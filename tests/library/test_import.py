"""The package imports quickly with NumPy alone and exposes its documented names."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import nnscratch


def test_import_pulls_in_neither_torch_nor_matplotlib():
    code = (
        "import json, sys, nnscratch; "
        "print(json.dumps(sorted(m for m in sys.modules "
        "if m.split('.')[0] in {'torch', 'matplotlib', 'ipywidgets'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_every_name_in_all_exists():
    for name in nnscratch.__all__:
        assert getattr(nnscratch, name) is not None, name
    assert isinstance(nnscratch.__version__, str) and nnscratch.__version__.count(".") == 2
    for mod in ("functional", "losses", "layers", "optim", "gradcheck", "autodiff", "training"):
        module = getattr(nnscratch, mod)
        for name in module.__all__:
            assert hasattr(module, name), f"{mod}.{name}"


def test_top_level_shortcuts_are_the_module_objects():
    assert nnscratch.Linear is nnscratch.layers.Linear
    assert nnscratch.CrossEntropyLoss is nnscratch.losses.CrossEntropyLoss
    assert nnscratch.fit is nnscratch.training.fit


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        nnscratch.nonsense  # noqa: B018
