"""`make lab` (the README's "run the course" command) starts a JupyterLab that answers, from a
checkout anywhere: here a copy under the temporary folder (/tmp) in a folder whose name has a
space, with the course's settings (widget state saved with the notebook) in effect."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
START_LIMIT_S = 600  # generous: only a server that never comes up reaches it
REQUEST_LIMIT_S = 60  # one HTTP request to a server that is up


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_lab_answers_on_api_status(tmp_path: Path) -> None:
    checkout = tmp_path / "my courses" / "nn from scratch"
    skip = shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "__pycache__", "*.egg-info", ".*cache"
    )
    shutil.copytree(ROOT, checkout, ignore=skip)  # copy2 keeps times: the stamp stays valid
    (checkout / ".venv").symlink_to(ROOT / ".venv")  # the environment, not rebuilt
    port, token = _free_port(), "nnscratch-test"
    args = f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
    }
    log_path = tmp_path / "lab.log"  # a file, not a pipe: a full pipe would stall the server
    log_file = log_path.open("wb")
    # --old-file: the environment is the one running this test; `make lab` must not rebuild it.
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "--old-file=.venv/.installed", "lab", f"LAB_ARGS={args}"],
        cwd=checkout,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        status = None
        # Not a speed test: wait as long as the server is alive, up to a limit that only a
        # hung start reaches (a loaded 2-core machine can take minutes to start JupyterLab).
        deadline = time.monotonic() + START_LIMIT_S
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                url = f"http://127.0.0.1:{port}/api/status?token={token}"
                with urllib.request.urlopen(url, timeout=REQUEST_LIMIT_S) as resp:
                    status = json.load(resp)
                break
            except OSError:
                time.sleep(0.5)
        if status is None:
            log = log_path.read_text(errors="replace")[-3000:]
            raise AssertionError(
                f"JupyterLab did not answer on /api/status (exit status {proc.poll()}, "
                f"limit {START_LIMIT_S} s):\n{log}"
            )
        assert "started" in status and "kernels" in status
        lab_url = f"http://127.0.0.1:{port}/lab?token={token}"
        with urllib.request.urlopen(lab_url, timeout=REQUEST_LIMIT_S) as r:
            assert r.status == 200
        # The course's settings (tools/lab/labconfig, installed by `make setup`) are in effect.
        plugin = "@jupyter-widgets/jupyterlab-manager:plugin"
        settings_url = f"http://127.0.0.1:{port}/lab/api/settings/{plugin}?token={token}"
        with urllib.request.urlopen(settings_url, timeout=REQUEST_LIMIT_S) as r:
            settings = json.load(r)
        # An override changes the default of the plugin's schema (the student may still change it).
        assert settings["schema"]["properties"]["saveState"]["default"] is True, settings
        assert str(checkout) in log_path.read_text(errors="replace")  # it ran from the copy
    finally:
        # only the process group this test started (start_new_session=True above)
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log_file.close()
