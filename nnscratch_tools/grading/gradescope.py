"""Gradescope: the autograder zip, and what runs in Gradescope's container per submission.

``nnscratch grade --gradescope-autograder autograder.zip`` writes the zip Gradescope's
autograder specification asks for: ``setup.sh`` (run once, as root, when Gradescope builds
the image on its Ubuntu base: bubblewrap, Python >= 3.11, a virtual environment with
``requirements.txt`` and this course's package), ``run_autograder`` (run once per
submission, in a fresh container), the rubric, the pinned requirements and the course's
source (``course/``).

``run_autograder`` calls :func:`run_autograder`: it grades ``/autograder/submission`` as
``nnscratch grade`` grades one entry (same discovery, same limits, same scoring, same
feedback text) and writes ``/autograder/results/results.json``: ``score`` (the automatic
points), ``execution_time``, ``output`` (the feedback, Markdown), one test per automatic
criterion (``name``, ``score``, ``max_score``, ``status``, ``output``, ``visibility``:
``visible`` unless the criterion says ``visibility: after_published`` or another of
Gradescope's values). ``NNSCRATCH_AUTOGRADER_ROOT`` replaces ``/autograder`` (a rehearsal
on your own machine, and the tests).

Two modes, chosen by what the container allows:

- ``bubblewrap``: bubblewrap works (user namespaces allowed): the same sandbox as
  ``nnscratch grade``.
- ``container``: no user namespaces (the usual case in a Docker container). The container
  itself, one per submission, keeps students apart; inside it the trusted runner stays
  root and the kernel runs as an unprivileged uid (:data:`DEFAULT_KERNEL_UID`, or
  ``NNSCRATCH_KERNEL_UID``) with ``no_new_privs``, rlimits (address space, CPU, file size,
  processes) and the timeout; the results folder is root's alone (mode 700). Before the
  kernel, a probe run as that uid checks that it cannot write the results, the runner's
  files, the course code or the rubric, nor signal the grader; after it, every process of
  that uid is killed before ``results.json`` is written. See ``projects/README.md`` for the
  table of what isolates what.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_KERNEL_UID",
    "ROOT_ENV",
    "VISIBILITIES",
    "build_autograder",
    "kernel_uid",
    "results_json",
    "run_autograder",
]

#: Environment variable replacing ``/autograder``.
ROOT_ENV = "NNSCRATCH_AUTOGRADER_ROOT"
#: The uid the kernel runs as in container mode (no user or process of the image has it).
DEFAULT_KERNEL_UID = 64123
KERNEL_UID_ENV = "NNSCRATCH_KERNEL_UID"
#: Gradescope's visibility values for a test.
VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_REPO = Path(__file__).resolve().parents[2]
_VENV = "/opt/nnscratch/venv"

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu base).
# It installs bubblewrap, a Python >= 3.11, and a virtual environment at {_VENV} with
# the course's pinned requirements (requirements.txt) and the course (course/ in this zip).
set -euo pipefail
cd "$(dirname "$0")"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends bubblewrap ca-certificates python3 python3-venv
py=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    # Ubuntu 22.04 ships 3.10; 3.11 is in its universe component
    apt-get install -y --no-install-recommends python3.11 python3.11-venv
    py=python3.11
fi
"$py" -m venv {_VENV}
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
{_VENV}/bin/python -m pip install -r requirements.txt
# Installed in place, as from a checkout: the grader hides its own folder from every sandbox,
# so that folder must not be the environment's site-packages.
rm -rf /opt/nnscratch/course && mkdir -p /opt/nnscratch && cp -r course /opt/nnscratch/course
{_VENV}/bin/python -m pip install --no-deps -e /opt/nnscratch/course
# matplotlib's font cache, built once here, is copied into every kernel's sandbox
{_VENV}/bin/python -c "import matplotlib.pyplot"
chmod -R a+rX /opt/nnscratch
"""

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, in a fresh container: it grades
# /autograder/submission and writes /autograder/results/results.json.
# {ROOT_ENV} replaces /autograder, NNSCRATCH_AUTOGRADER_PYTHON the environment's Python
# (a rehearsal on your own machine).
set -euo pipefail
root="${{{ROOT_ENV}:-/autograder}}"
python="${{NNSCRATCH_AUTOGRADER_PYTHON:-{_VENV}/bin/python}}"
cd "$root/source"
exec "$python" -I -m nnscratch_tools.grading.gradescope --root "$root"
"""

#: Runs as root between the limits and the kernel, in container mode: hands the kernel's
#: own folders (working copy, HOME, TMPDIR, sockets) to the kernel's uid, makes the path to
#: them traversable, then drops to that uid for good (no groups, no_new_privs, a process
#: limit) and runs the rest of the line. Arguments: a JSON spec, then the command.
DROP_PRIVILEGES = """
import ctypes, json, os, resource, sys
spec = json.loads(sys.argv[1])
uid, argv = int(spec['uid']), sys.argv[2:]
if '-f' in argv and '-' in argv:  # the kernel: its working copy and its sockets' folder
    work = argv[argv.index('-') + 1]
    mine = [work, os.environ['HOME'], os.environ['TMPDIR'],
            os.path.dirname(argv[argv.index('-f') + 1])]
    reach = [work, argv[argv.index('-') + 2]]
else:
    mine, reach = [], []
for top in mine:
    for root, dirs, files in os.walk(top):
        for name in [root] + [os.path.join(root, n) for n in dirs + files]:
            os.chown(name, uid, uid, follow_symlinks=False)
for path in reach:  # o+x on the grader's scratch folders down to these
    parts = os.path.abspath(path).split(os.sep)
    top = next(i for i, p in enumerate(parts) if p.startswith('nnscratch-grade-'))
    for i in range(top, len(parts)):
        folder = os.sep.join(parts[: i + 1])
        os.chmod(folder, os.stat(folder).st_mode & 0o7777 | 0o001)
resource.setrlimit(resource.RLIMIT_NPROC, (spec['nproc'], spec['nproc']))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
    sys.exit('cannot set no_new_privs')
os.setgroups([])
os.setgid(uid)
os.setuid(uid)
try:
    os.setuid(0)
except PermissionError:
    pass
else:
    sys.exit('privileges were not dropped')
os.umask(0o077)
os.execv(argv[0], argv)
"""

#: Runs as the kernel's uid before the kernel (same drop): one JSON line of [ok, text].
CONTAINER_PROBE = """
import json, os, resource, sys
spec = json.loads(sys.argv[1])
checks = []
def check(ok, text):
    checks.append([bool(ok), text])
status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())
check(os.getuid() == os.geteuid() == spec['uid'] and os.getgroups() in ([], [spec['uid']]),
      f"runs as the unprivileged uid {os.getuid()}, no supplementary groups")
check(int(status['CapEff'], 16) == 0 and int(status['CapPrm'], 16) == 0,
      'no capabilities (effective and permitted sets empty)')
check(status.get('NoNewPrivs', '').strip() == '1',
      'no_new_privs: no setuid program can give privileges back')
def cannot_write(path):
    try:
        if os.path.isdir(path):
            open(os.path.join(path, '.probe-write'), 'x').close()
        else:
            open(path, 'a').close()
    except OSError:
        return True
    return False
for what, path in spec['unwritable']:
    check(cannot_write(path), f'cannot write {what}')
try:
    os.kill(spec['grader_pid'], 0)
    signalled = True
except PermissionError:
    signalled = False
check(not signalled, 'cannot signal the grader or its runner')
soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
check(hard == spec['nproc'], f'at most {hard} processes for the kernel user (RLIMIT_NPROC)')
print(json.dumps(checks))
"""

#: What container mode does not enforce, for the feedback.
CONTAINER_NOT_ENFORCED = (
    "container mode (bubblewrap has no user namespaces here): the network is the "
    "container's, not cut off",
    "container mode: the kernel can read what the container lets every user read (the "
    "autograder's code and rubric, nothing of other students: the container is this "
    "submission's alone)",
    "container mode: memory is limited per process (RLIMIT_AS), not for the whole tree",
)


def kernel_uid() -> int:
    """The uid of the kernel in container mode (``NNSCRATCH_KERNEL_UID`` or the default)."""
    text = os.environ.get(KERNEL_UID_ENV, str(DEFAULT_KERNEL_UID))
    try:
        uid = int(text)
    except ValueError:
        raise ValueError(f"{KERNEL_UID_ENV} must be a number, got {text!r}") from None
    if not 1000 <= uid < 2**31:
        raise ValueError(f"{KERNEL_UID_ENV} must be an unprivileged uid (>= 1000), got {uid}")
    return uid


def _check_visibility(rubric: Any) -> None:
    for c in rubric.automatic:
        value = c.options.get("visibility", "visible")
        if value not in VISIBILITIES:
            raise ValueError(
                f"rubric: {c.id}.visibility should be one of {VISIBILITIES}, got {value!r}"
            )


def _course_files() -> list[tuple[Path, str]]:
    """``(file, name in the zip)`` for the course source installed by setup.sh."""
    found = [(_REPO / n, f"course/{n}") for n in ("pyproject.toml", "README.md")]
    for package in ("nnscratch", "nnscratch_tools"):
        for path in sorted((_REPO / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.append((path, f"course/{path.relative_to(_REPO).as_posix()}"))
    return found


def build_autograder(zip_path: str | Path, rubric_path: str | Path) -> Path:
    """Write Gradescope's autograder zip to ``zip_path``; return its path.

    The zip is the same bytes for the same checkout and rubric (fixed dates, sorted).

    Raises:
        ValueError: the rubric is invalid, or this is not a checkout of the course (the
            zip needs ``requirements.txt`` and the package sources).
    """
    from .rubric import load_rubric

    rubric = load_rubric(rubric_path)
    _check_visibility(rubric)
    requirements = _REPO / "requirements.txt"
    if not requirements.is_file() or not (_REPO / "pyproject.toml").is_file():
        raise ValueError(
            f"the autograder zip is built from a checkout of the course; {requirements} is missing"
        )
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    members: list[tuple[str, bytes, int]] = [
        ("setup.sh", SETUP_SH.encode(), 0o755),
        ("run_autograder", RUN_AUTOGRADER.encode(), 0o755),
        ("rubric.yml", Path(rubric_path).read_bytes(), 0o644),
        ("requirements.txt", requirements.read_bytes(), 0o644),
    ]
    members += [(name, path.read_bytes(), 0o644) for path, name in _course_files()]
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return zip_path


def results_json(result: Any, rubric: Any, feedback: str, execution_time: float) -> dict:
    """Gradescope's ``results.json`` for one graded submission (a ``SubmissionResult``)."""
    tests = []
    for score in result.scores:
        c = score.criterion
        tests.append(
            {
                "name": f"{c.id}: {c.description}",
                "score": score.points,
                "max_score": c.points,
                "status": "passed" if score.passed else "failed",
                "output": score.why,
                "visibility": c.options.get("visibility", "visible"),
            }
        )
    return {
        "score": result.automatic_points,
        "execution_time": round(execution_time),
        "output": feedback,
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"status": result.status, "reason": result.reason},
    }


def _processes_of(uid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _end_processes_of(uid: int) -> list[int]:
    """SIGKILL every process of ``uid`` (from a child that became ``uid``); those left."""
    for _ in range(20):
        if not _processes_of(uid):
            return []
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)  # every process of this uid but the caller
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.2)
    return _processes_of(uid)


def _drop_prefix(uid: int, nproc: int) -> list[str]:
    spec = json.dumps({"uid": uid, "nproc": nproc})
    return [sys.executable, "-I", "-c", DROP_PRIVILEGES, spec]


def _container_probe(uid: int, nproc: int, root: Path) -> list[list[Any]]:
    """Run :data:`CONTAINER_PROBE` as the kernel's uid; ``[[ok, text], ...]``."""
    import nnscratch_tools

    targets = [
        ("the results folder", root / "results"),
        ("results.json", root / "results" / "results.json"),
        ("the autograder's files (rubric, code)", root / "source"),
        ("the rubric", root / "source" / "rubric.yml"),
        ("the grader's code", Path(nnscratch_tools.__file__).parent),
        ("the Python environment", Path(sys.prefix)),
    ]
    spec = {
        "uid": uid,
        "nproc": nproc,
        "grader_pid": os.getpid(),
        "unwritable": [(what, str(path)) for what, path in targets],
    }
    try:
        done = subprocess.run(
            [*_drop_prefix(uid, nproc), sys.executable, "-I", "-c", CONTAINER_PROBE,
             json.dumps(spec)],
            capture_output=True, timeout=120, stdin=subprocess.DEVNULL, cwd="/",
        )  # fmt: skip
        return json.loads(done.stdout.decode().strip().splitlines()[-1])
    except Exception as exc:
        return [[False, f"the probe as the kernel's user failed: {type(exc).__name__}: {exc}"]]


def _failed(message: str, start: float) -> dict:
    return {
        "score": 0,
        "execution_time": round(time.monotonic() - start),
        "output": f"The autograder could not grade this submission: {message}",
        "tests": [],
    }


def _write_results(root: Path, results: dict) -> Path:
    folder = root / "results"
    path = folder / "results.json"
    tmp = folder / ".results.json.tmp"
    tmp.write_text(json.dumps(results, indent=1), encoding="utf-8")
    os.replace(tmp, path)
    return path


def run_autograder(root: str | Path | None = None) -> dict:
    """Grade ``ROOT/submission`` and write ``ROOT/results/results.json``; return it.

    ``ROOT`` is ``root``, else ``NNSCRATCH_AUTOGRADER_ROOT``, else ``/autograder``. The rubric
    is ``ROOT/source/rubric.yml``.
    """
    from . import grade_all, load_rubric
    from .command import rubric_limits
    from .grader import discover_submissions
    from .report import feedback_markdown
    from .sandbox import sandbox_problem

    start = time.monotonic()
    root = Path(root or os.environ.get(ROOT_ENV) or "/autograder").resolve()
    results_dir = root / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(results_dir, 0o700)  # root's alone: the kernel cannot even look
    rubric = load_rubric(root / "source" / "rubric.yml")
    limits = rubric_limits(rubric)
    problem = sandbox_problem()
    mode = "bubblewrap" if problem is None else "container"
    print(f"nnscratch autograder: {mode} mode" + (f" ({problem})" if problem else ""))
    if mode == "container" and os.geteuid() != 0:
        message = (
            f"no sandbox here ({problem}) and not root, so the notebook cannot be run as "
            "another user; nothing was run"
        )
        data = _failed(message, start)
        _write_results(root, data)
        return data
    chosen = [s for s in discover_submissions(root) if s.path == root / "submission"]
    if not chosen:
        data = _failed("no submission folder (nothing was uploaded)", start)
        _write_results(root, data)
        return data
    extra_enforced: list[str] = []
    extra_not: list[str] = []
    prefix: list[str] = []
    uid = 0
    if mode == "container":
        uid = kernel_uid()
        nproc = int(limits.processes)
        prefix = _drop_prefix(uid, nproc)
        for ok, text in _container_probe(uid, nproc, root):
            if ok:
                extra_enforced.append(f"checked as the kernel's user: {text}")
            else:
                extra_not.append(f"check failed as the kernel's user: {text}")
        extra_not += CONTAINER_NOT_ENFORCED
    results = grade_all(
        root, rubric, limits, jobs=1, sandbox=mode == "bubblewrap",
        private=[root / "source", results_dir], submissions=chosen, kernel_prefix=prefix,
    )  # fmt: skip
    result = results[0]
    if mode == "container":
        left = _end_processes_of(uid)
        outcome = result.outcome
        if outcome is not None:
            outcome.not_enforced = [
                line for line in outcome.not_enforced if not line.startswith("NO SANDBOX")
            ] + extra_not
            outcome.enforced = extra_enforced + outcome.enforced
            outcome.enforced.append(
                "checked after the run: no process of the kernel's user is left"
                if not left
                else f"after the run: {len(left)} process(es) of the kernel's user survived"
            )
    feedback = feedback_markdown(result, rubric)
    data = results_json(result, rubric, feedback, time.monotonic() - start)
    data["extra_data"]["mode"] = mode
    _write_results(root, data)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m nnscratch_tools.grading.gradescope [--root ROOT]`` (what run_autograder runs)."""
    parser = argparse.ArgumentParser(description=run_autograder.__doc__)
    parser.add_argument("--root", type=Path, default=None)
    args = parser.parse_args(argv)
    data = run_autograder(args.root)
    print(f"score {data.get('score')}; results.json written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
