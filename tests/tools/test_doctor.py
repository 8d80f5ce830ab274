"""`nnscratch doctor`'s widget checks against real JupyterLab configuration.

Each test points Jupyter at a temporary user config folder (JUPYTER_CONFIG_DIR), so the
commands it runs (`jupyter labextension disable ...`) never touch the shared environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nnscratch_tools import doctor

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.executable).with_name("jupyter")


@pytest.fixture
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "jupyter-config"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(folder))
    # In a virtual environment jupyter_core reads the environment's config before the
    # user's; these tests need the user's folder (theirs) to come first.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "0")
    return folder


def _jupyter(*args: str) -> None:
    subprocess.run([str(JUPYTER), *args], check=True, env=os.environ.copy(), capture_output=True)


@pytest.mark.skipif(not JUPYTER.is_file(), reason="jupyter is not installed beside this Python")
def test_doctor_warns_when_the_widgets_extension_is_disabled(user_config: Path):
    assert doctor.check_widgets().status == doctor.OK or "saved" in doctor.check_widgets().detail
    _jupyter("labextension", "disable", doctor.WIDGETS_EXTENSION, "--level=user")
    assert (user_config / "labconfig" / "page_config.json").is_file()  # the user level only
    assert doctor.WIDGETS_EXTENSION in doctor.disabled_lab_extensions()
    result = doctor.check_widgets()
    assert result.status == doctor.WARN
    assert "disabled" in result.detail and "text" in result.detail
    assert result.fix == f"jupyter labextension enable {doctor.WIDGETS_EXTENSION}"
    _jupyter("labextension", "enable", doctor.WIDGETS_EXTENSION, "--level=user")
    assert doctor.WIDGETS_EXTENSION not in doctor.disabled_lab_extensions()


def test_a_disabled_plugin_of_the_extension_counts_too(user_config: Path):
    (user_config / "labconfig").mkdir()
    page = {"disabledExtensions": {f"{doctor.WIDGETS_EXTENSION}:plugin": True}}
    (user_config / "labconfig" / "page_config.json").write_text(json.dumps(page))
    result = doctor.check_widgets()
    assert result.status == doctor.WARN and "disabled" in result.detail


def test_doctor_warns_when_widget_state_is_not_saved(user_config: Path):
    (user_config / "labconfig").mkdir()
    off = {doctor.WIDGETS_SETTINGS: {"saveState": False}}
    (user_config / "labconfig" / "default_setting_overrides.json").write_text(json.dumps(off))
    assert doctor.widget_state_saved() is False
    result = doctor.check_widgets()
    assert result.status == doctor.WARN and "model not found" in result.detail
    assert "default_setting_overrides.json" in result.fix


def test_the_shipped_lab_settings_turn_state_saving_on(user_config: Path, monkeypatch):
    """tools/lab is what `make setup` installs into the environment's etc/jupyter."""
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(ROOT / "tools" / "lab"))
    (user_config / "labconfig").mkdir()
    assert doctor.widget_state_saved() is True
