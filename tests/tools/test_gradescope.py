"""The Gradescope autograder: the zip, and run_autograder on honest and hostile submissions.

Gradescope's tree is laid out in a temporary folder per submission (``source/`` = the zip
unpacked, ``submission/``, ``results/``) and the zip's own ``run_autograder`` runs with
``NNSCRATCH_AUTOGRADER_ROOT`` pointing there, as root (as Gradescope runs it), two at a
time. Every hostile submission (tests/fixtures/hostile.py, a Gradescope-specific one that
forges ``results.json`` among them) is graded this way, and each criterion's score must equal
the row of the one local ``nnscratch grade`` run over them that test_hostile_submissions.py
inspects too (``hostile_graded``, tests/tools/conftest.py).

Container mode (bubblewrap without user namespaces, as in Gradescope's Docker container)
is simulated by a PATH without ``bwrap``; the kernel then runs as an unprivileged uid
picked at random for this test run, so only processes this test started can have it.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from fixtures.hostile import HIDDEN, grading_rubric

from nnscratch_tools.grading.gradescope import VISIBILITIES

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "projects" / "rubric.yml"
KERNEL_UID = random.SystemRandom().randrange(300_000, 2_000_000)


# --------------------------------------------------------------------------- the zip
@pytest.fixture(scope="module")
def rubric(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The rubric of the shared hostile run (tests/fixtures/hostile.py), byte for byte."""
    return grading_rubric(tmp_path_factory.mktemp("rubric"))


@pytest.fixture(scope="module")
def autograder(tmp_path_factory: pytest.TempPathFactory, rubric: Path) -> Path:
    path = tmp_path_factory.mktemp("zip") / "autograder.zip"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            "--gradescope-autograder",
            str(path),
            "--rubric",
            str(rubric),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    return path


def test_the_zip_holds_what_gradescope_needs(autograder: Path, rubric: Path) -> None:
    with zipfile.ZipFile(autograder) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
        assert archive.read("rubric.yml") == rubric.read_bytes()
        assert archive.read("requirements.txt") == (REPO / "requirements.txt").read_bytes()
    assert {"setup.sh", "run_autograder", "course/pyproject.toml"} <= names
    assert "course/nnscratch_tools/grading/gradescope.py" in names
    assert "course/nnscratch/__init__.py" in names
    assert not any("__pycache__" in n for n in names)
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR, f"{script} must be executable"
    assert setup.startswith("#!/usr/bin/env bash") and run.startswith("#!/usr/bin/env bash")
    assert "bubblewrap" in setup and "-r requirements.txt" in setup
    for script in (setup, run):
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)  # parses
    again = autograder.with_name("again.zip")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            "--gradescope-autograder",
            str(again),
            "--rubric",
            str(rubric),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        cwd=REPO,
    )
    assert again.read_bytes() == autograder.read_bytes(), "the zip should be reproducible"


def test_a_bad_visibility_is_refused(tmp_path: Path) -> None:
    data = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    data["criteria"][0]["visibility"] = "students_only"
    bad = tmp_path / "rubric.yml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "nnscratch_tools",
            "grade",
            "--gradescope-autograder",
            str(tmp_path / "a.zip"),
            "--rubric",
            str(bad),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 2 and "visibility should be one of" in done.stderr
    assert not (tmp_path / "a.zip").exists()


# --------------------------------------------------------------------------- runs
def _lay_out(entry: Path, root: Path, autograder: Path) -> Path:
    """Gradescope's tree for ``entry`` under ``root``: source/, submission/, results/."""
    root.mkdir(mode=0o755)
    with zipfile.ZipFile(autograder) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    submission = root / "submission"
    if entry.is_symlink():
        submission.mkdir()
        os.symlink(os.readlink(entry), submission / entry.name)
    elif entry.is_dir():
        subprocess.run(["cp", "-a", f"{entry}/.", str(submission)], check=True)
    else:
        submission.mkdir()
        subprocess.run(["cp", "-a", str(entry), str(submission)], check=True)
    (root / "results").mkdir()
    return root


def _python_mounts(tmp: Path) -> list[str] | None:
    """A command prefix that makes this Python reachable by other users, or None if it is.

    On Gradescope the environment lives in /opt, readable by all; here it may sit under a
    private home folder. Then the folder is replaced, in a private mount namespace, by one
    that lets others through to the Python installation only.
    """
    base = Path(sys.base_prefix).resolve()
    closed = [p for p in base.parents if not os.stat(p).st_mode & stat.S_IXOTH]
    if not closed:
        return None
    if len(closed) > 1:
        pytest.skip(f"the Python installation {base} is behind several private folders")
    folder = closed[0]
    child = base.relative_to(folder).parts[0]
    stand_in = Path(tempfile.mkdtemp(prefix="stand-in-", dir=tmp))
    stand_in.chmod(0o755)
    (stand_in / child).mkdir()
    script = (
        f"/usr/bin/mount --bind {folder / child} {stand_in / child} && "
        f'/usr/bin/mount --rbind {stand_in} {folder} && exec "$@"'
    )
    return [
        "/usr/bin/unshare",
        "--mount",
        "--propagation",
        "private",
        "/bin/sh",
        "-c",
        script,
        "sh",
    ]


def _run_autograder(root: Path, container: bool, tmp: Path, uid: int = KERNEL_UID) -> dict:
    """Run the tree's run_autograder as Gradescope would; container mode: kernel as ``uid``."""
    env = {
        **os.environ,
        "NNSCRATCH_AUTOGRADER_ROOT": str(root),
        "NNSCRATCH_AUTOGRADER_PYTHON": sys.executable,
        "NNSCRATCH_KERNEL_UID": str(uid),
    }
    argv = [str(root / "source" / "run_autograder")]
    if container:
        bin_dir = tmp / "bin-without-bwrap"  # bubblewrap simulated as absent
        bin_dir.mkdir(exist_ok=True)
        if not (bin_dir / "bash").exists():
            os.symlink("/bin/bash", bin_dir / "bash")
        env["PATH"] = str(bin_dir)
        argv = [*(_python_mounts(tmp) or []), *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=1200, env=env, cwd=root)
    path = root / "results" / "results.json"
    assert done.returncode == 0 and path.is_file(), (root, done.stdout[-2000:], done.stderr[-3000:])
    return {"results": json.loads(path.read_text("utf-8")), "stdout": done.stdout}


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if entry.stat().st_uid == uid:
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def hostile(hostile_graded: dict, autograder: Path) -> dict:
    """Every submission of the hostile suite and the results.json forger, with the rows of
    the one local `nnscratch grade` run over them (tests/tools/conftest.py), by entry name."""
    from nnscratch_tools.grading.grader import discover_submissions
    from nnscratch_tools.grading.names import csv_cell

    subs, rows = hostile_graded["subs"], hostile_graded["rows"]
    by_entry = {s.path.name: rows[csv_cell(s.name)] for s in discover_submissions(subs)}
    return {**hostile_graded, "autograder": autograder, "rows": by_entry}


@pytest.fixture(scope="module")
def graded(hostile: dict) -> dict:
    """run_autograder on every hostile submission, two at a time (Gradescope uploads files,
    never a named pipe: the fifo entry is left out)."""
    root, subs, trees = hostile["root"], hostile["subs"], hostile["trees"]
    # the one that waits for the timeout first, so the others run meanwhile
    entries = sorted((n for n in os.listdir(subs) if n != "fifo"),
                     key=lambda name: (not name.startswith("infinite"), name))  # fmt: skip

    def one(item: tuple[int, str]) -> tuple[str, dict]:
        index, name = item
        tree = _lay_out(subs / name, trees / f"b{index}", hostile["autograder"])
        return name, _run_autograder(tree, False, root)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(one, enumerate(entries)))
    return {**hostile, "runs": runs}


def _scores(results: dict) -> dict[str, float]:
    return {t["name"].split(":")[0]: t["score"] for t in results["tests"]}


def _local_scores(row: dict[str, str], rubric: Path) -> dict[str, float]:
    from nnscratch_tools.grading import load_rubric

    return {c.id: float(row[c.id]) for c in load_rubric(rubric).automatic}


def test_results_json_follows_gradescope_format(graded: dict) -> None:
    results = graded["runs"]["aa_honest.ipynb"]["results"]
    assert isinstance(results["score"], float) and results["score"] == 10
    assert isinstance(results["execution_time"], int) and results["execution_time"] >= 0
    assert results["output_format"] == "md" and results["output"].startswith("# Feedback:")
    for test in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(test)
        assert test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"]
    visibility = {t["name"].split(":")[0]: t["visibility"] for t in results["tests"]}
    assert visibility[HIDDEN] == "after_published"
    assert set(visibility.values()) == {"visible", "after_published"}
    assert sum(t["score"] for t in results["tests"]) == results["score"]
    assert results["extra_data"]["mode"] == "bubblewrap"


def test_every_submission_scores_as_in_a_local_run(graded: dict, rubric: Path) -> None:
    assert set(graded["attacks"]) <= set(graded["runs"]) | {
        n[: -len(".ipynb")] for n in graded["runs"]
    }
    for name, run in graded["runs"].items():
        row = graded["rows"][name]
        assert row is not None, name
        expected = _local_scores(row, rubric)
        assert _scores(run["results"]) == expected, (name, row["status"], row["reason"])
        assert run["results"]["score"] == sum(expected.values()), name


def test_feedback_text_is_the_local_feedback(graded: dict) -> None:
    """The same feedback file as `nnscratch grade`, but for the path and the timings."""
    local = (graded["out"] / "feedback" / "aa_honest.md").read_text("utf-8")
    remote = graded["runs"]["aa_honest.ipynb"]["results"]["output"]

    def steady(text: str) -> list[str]:
        skip = ("# Feedback", "- Submission:", "- Time spent grading")
        return [line for line in text.splitlines() if not line.startswith(skip)]

    assert steady(remote) == steady(local)


def test_hostile_submissions_cannot_forge_results(graded: dict) -> None:
    for name, run in graded["runs"].items():
        text = json.dumps(run["results"])
        assert "FORGED" not in text and run["results"]["score"] <= 10, name
    for tree in graded["trees"].iterdir():
        for found in (tree / "results").iterdir():
            assert found.name == "results.json", found  # nothing else was written there
            assert "FORGED" not in found.read_text("utf-8")
    assert graded["runs"]["forger.ipynb"]["results"]["score"] == 10


def test_container_mode_runs_the_kernel_as_an_unprivileged_user(graded: dict, rubric: Path) -> None:
    """bwrap absent: each kernel runs as its own unprivileged uid; scores equal the local run."""
    if os.geteuid() != 0:
        pytest.skip("container mode drops from root to another uid; this test is not root")
    names = [
        "aa_honest.ipynb",
        "forger.ipynb",
        "popen_daemon.ipynb",
        "fork_bomb.ipynb",
        "tamper_env.ipynb",
        "malformed_json.ipynb",
    ]
    hostile, root = graded, graded["root"]
    rows = graded["rows"]  # the one local run of the whole suite

    def one(item: tuple[int, str]) -> tuple[str, dict]:
        index, name = item
        tree = _lay_out(
            hostile["subs"] / name, hostile["trees"] / f"c{index}", hostile["autograder"]
        )
        # one uid per run, as each Gradescope container is alone with its kernel's user
        return name, _run_autograder(tree, True, root, KERNEL_UID + index)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(pool.map(one, enumerate(names)))
    for name, run in runs.items():
        results = run["results"]
        assert results["extra_data"]["mode"] == "container", run["stdout"]
        assert "FORGED" not in json.dumps(results)
        assert _scores(results) == _local_scores(rows[name], rubric), name
    output = runs["aa_honest.ipynb"]["results"]["output"]
    for line in (
        f"checked as the kernel's user: runs as the unprivileged uid {KERNEL_UID}",
        "checked as the kernel's user: cannot write the results folder",
        "checked as the kernel's user: cannot write results.json",
        "checked as the kernel's user: cannot write the grader's code",
        "checked as the kernel's user: cannot signal the grader",
        "checked as the kernel's user: no_new_privs",
        "checked after the run: no process of the kernel's user is left",
        "not enforced: container mode",
    ):
        assert line in output, (line, output)
    assert "check failed" not in output and "NO SANDBOX" not in output
    for index in range(len(names)):  # the forger's and popen_daemon's daemons ended
        assert _processes_of(KERNEL_UID + index) == [], names[index]
    for index in range(len(names)):
        results_dir = hostile["trees"] / f"c{index}" / "results"
        assert stat.S_IMODE(results_dir.stat().st_mode) == 0o700
        assert [p.name for p in results_dir.iterdir()] == ["results.json"]


def test_without_root_or_sandbox_nothing_runs(hostile: dict, tmp_path: Path) -> None:
    """Container mode needs root to drop to another uid: otherwise it runs nothing."""
    base = Path(tempfile.mkdtemp(prefix="nnscratch-gradescope-user-"))  # reachable by it
    tree = _lay_out(hostile["subs"] / "aa_honest.ipynb", base / "t", hostile["autograder"])
    for path in [base, *base.rglob("*")]:
        os.chown(path, KERNEL_UID, KERNEL_UID, follow_symlinks=False)
    env = {
        **os.environ,
        "NNSCRATCH_AUTOGRADER_ROOT": str(tree),
        "PATH": "/nonexistent",
        "HOME": str(tree),
    }
    script = (
        "import os, sys; os.setgroups([]); os.setgid(int(sys.argv[1])); "
        "os.setuid(int(sys.argv[1])); sys.argv = sys.argv[:1]; "
        "from nnscratch_tools.grading.gradescope import main; sys.exit(main())"
    )
    argv = [*(_python_mounts(tmp_path) or []), sys.executable, "-c", script, str(KERNEL_UID)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, env=env, cwd="/")
    assert done.returncode == 0, done.stderr
    results = json.loads((tree / "results" / "results.json").read_text("utf-8"))
    shutil.rmtree(base)
    assert results["score"] == 0 and "nothing was run" in results["output"]


@pytest.mark.parametrize(("value", "message"), [("0", ">= 1000"), ("root", "a number")])
def test_the_kernel_uid_must_be_unprivileged(monkeypatch, value: str, message: str) -> None:
    from nnscratch_tools.grading.gradescope import kernel_uid

    monkeypatch.setenv("NNSCRATCH_KERNEL_UID", value)
    with pytest.raises(ValueError, match=message):
        kernel_uid()
    monkeypatch.setenv("NNSCRATCH_KERNEL_UID", "70000")
    assert kernel_uid() == 70000
