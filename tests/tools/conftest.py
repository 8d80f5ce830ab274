"""Fixtures shared by the grading tests: ONE grading run of every hostile submission.

test_hostile_submissions.py checks that each attack was contained in this run;
test_gradescope.py grades the same submissions with Gradescope's run_autograder and compares
each score with this run's row, so the local reference run is not made twice."""

from __future__ import annotations

import compileall
import csv
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures.hostile import (
    REPO,
    SECRET,
    _digest,
    _forger,
    _leftovers_of_a_killed_grader,
    _limit_grader_memory,
    _listen,
    _marked_processes,
    _write_all,
    grading_rubric,
    needs_sandbox,
)
from fixtures.notebook_factory import project_notebook, write_notebook


@pytest.fixture(scope="session")
def hostile_graded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Grade every hostile submission with honest ones, once, with the command line,
    ``--jobs 2``, the grader's own address space limited to ``GRADER_MEMORY``."""
    needs_sandbox("hostile-submission suite")
    root = tmp_path_factory.mktemp("hostile")
    subs, out, home = root / "submissions", root / "grades", root / "home"
    subs.mkdir()
    home.mkdir()
    (home / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "manual.csv").write_text(f"submission,{SECRET}\n", encoding="utf-8")
    rubric = grading_rubric(root)
    # Gradescope's trees (test_gradescope.py) go outside pytest's private folders, so the
    # kernel's user could reach them if permissions let it, as /autograder in the container.
    trees = Path(tempfile.mkdtemp(prefix="nnscratch-gradescope-trees-"))
    trees.chmod(0o755)
    holder: dict = {}
    server = _listen(holder)
    private = [str(subs), str(subs / "aa_honest.ipynb"), str(root / "manual.csv"), str(rubric),
               str(home), str(home / "secret.txt"), str(out), str(REPO), str(REPO / "nnscratch")]
    from nnscratch_tools.grading.grader import _remove

    try:
        attacks = _write_all(subs, out, holder["port"], private)
        write_notebook(project_notebook(extra_code=_forger(trees)), subs / "forger.ipynb")
        site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
        before_site = sorted(p.name for p in site.iterdir())
        # The grader's byte code is written before the digest, so that only a change by a
        # submission (a source or a poisoned .pyc), not Python's own first compile, differs.
        compileall.compile_dir(REPO / "nnscratch_tools", quiet=1)
        before_code = _digest([REPO / "nnscratch_tools"])
        originals = _digest([subs / "aa_honest.ipynb", subs / "popen_daemon.ipynb"])
        env = {**os.environ, "HOME": str(home)}
        leftovers = _leftovers_of_a_killed_grader()
        start = time.monotonic()
        grader = subprocess.Popen(
            [sys.executable, "-m", "nnscratch_tools", "grade", str(subs), "--rubric", str(rubric),
             "--out", str(out), "--jobs", "2"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=env,
            preexec_fn=_limit_grader_memory,
        )  # fmt: skip
        stdout, stderr = grader.communicate(timeout=1500)
        done = subprocess.CompletedProcess(grader.args, grader.returncode, stdout, stderr)
        wall = time.monotonic() - start
        time.sleep(3)  # give any surviving daemon time to act after the grader ended
        holder["stop"] = True
        server.close()
        with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
            rows = {r["submission"]: r for r in csv.DictReader(handle)}
        own_scratch = list(Path(tempfile.gettempdir()).glob(f"nnscratch-grade-{grader.pid}-*"))
        yield {
            "leftovers": [p for p in leftovers if p.exists()], "own_scratch": own_scratch,
            "done": done, "rows": rows, "out": out, "subs": subs, "attacks": attacks,
            "connections": holder["connections"], "wall": wall, "rubric": rubric,
            "root": root, "trees": trees,
            "site_same": sorted(p.name for p in site.iterdir()) == before_site,
            "code_same": _digest([REPO / "nnscratch_tools"]) == before_code,
            "originals_same": _digest([subs / "aa_honest.ipynb", subs / "popen_daemon.ipynb"])
            == originals,
            "processes": _marked_processes(),
        }  # fmt: skip
    finally:  # pytest's own clean-up recurses: never leave the 1,100-deep chain behind
        _remove(subs / "deep_nesting")
        _remove(trees)
