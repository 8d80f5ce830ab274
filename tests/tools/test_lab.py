"""`make lab` (the README's "run the course" command) starts a JupyterLab that answers, from a
checkout anywhere: here a copy under the temporary folder (/tmp) in folders whose names have
spaces (tests/conftest.py's ``course_lab``, shared with the browser tests), with the course's
settings (widget state saved with the notebook) in effect."""

from __future__ import annotations

import json
import urllib.request

from fixtures.servers import REQUEST_LIMIT_S


def _get(lab: dict, path: str) -> dict:
    with urllib.request.urlopen(f"{lab['url']}{path}?token={lab['token']}",
                                timeout=REQUEST_LIMIT_S) as resp:  # fmt: skip
        assert resp.status == 200
        return json.load(resp) if "json" in resp.headers.get("Content-Type", "") else {}


def test_make_lab_answers_on_api_status(course_lab: dict) -> None:
    status = _get(course_lab, "/api/status")
    assert "started" in status and "kernels" in status
    _get(course_lab, "/lab")  # the page itself answers 200


def test_make_lab_runs_from_the_copy_with_the_course_settings(course_lab: dict) -> None:
    # The course's settings (tools/lab/labconfig, installed by `make setup`) are in effect.
    settings = _get(course_lab, "/lab/api/settings/@jupyter-widgets/jupyterlab-manager:plugin")
    # An override changes the default of the plugin's schema (the student may still change it).
    assert settings["schema"]["properties"]["saveState"]["default"] is True, settings
    assert " " in str(course_lab["checkout"])  # a path with spaces, under the temporary folder
    assert str(course_lab["checkout"]) in course_lab["log"].read_text(errors="replace")
