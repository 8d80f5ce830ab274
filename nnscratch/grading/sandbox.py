"""Run an untrusted notebook in a separate process with limits, and say which limits held.

:func:`execute_isolated` starts ``python -m nnscratch.grading._runner`` (which drives a
Jupyter kernel through nbclient) with:

- a wall-clock timeout: the runner stops the notebook at the deadline; the grader kills
  the runner, the kernel and everything they started a few seconds later if that failed;
- ``RLIMIT_AS`` (address space, so memory), ``RLIMIT_FSIZE`` (largest file written),
  ``RLIMIT_CPU`` and ``RLIMIT_CORE=0``, set in the child before it starts and inherited
  by the kernel;
- no network: a new network namespace (``unshare -n``, Linux, when the system allows it),
  plus, always, a Python-level guard refusing IP socket connections and proxy variables
  pointing to a dead address (both bypassable by a determined notebook);
- hidden folders (``hide``: the original submissions, the grades, the grader's home):
  in a private mount namespace (``unshare -m``, when allowed) each is covered by an empty
  tmpfs, so the notebook can neither read nor change them;
- a clean environment: HOME and the working folder in a temporary directory that holds
  only a copy of the submission.

What is *not* isolated: the rest of the file system (the notebook runs as the grader's
user and can read or write anything else that user can, given an absolute path), other
processes of the same user, and CPU time within the timeout. Grade untrusted work in a
container or a throwaway account.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "Limits",
    "RunOutcome",
    "execute_isolated",
    "kill_process_tree",
    "mount_isolation_command",
    "network_isolation_command",
]

_GUARD_DIR = Path(__file__).with_name("_netguard")
_DEAD_PROXY = "http://127.0.0.1:9"
_GRACE_S = 5.0
# Largest executed notebook the grader will read back (outputs are capped well below).
_MAX_EXECUTED_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    Attributes:
        timeout_s: wall-clock seconds for the whole notebook, kernel start included.
        memory_mb: address-space limit of the runner and the kernel, in MiB.
        file_size_mb: largest file the notebook may write, in MiB.
        max_output_chars: output text kept from the run (the rest is dropped, and said so).
    """

    timeout_s: float = 120.0
    memory_mb: int = 4096
    file_size_mb: int = 256
    max_output_chars: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("timeout_s", "memory_mb", "file_size_mb", "max_output_chars"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")


@dataclass
class RunOutcome:
    """What happened when a notebook ran.

    Attributes:
        status: ``completed`` (every cell ran; some may have raised), ``timeout``,
            ``kernel_died``, or ``error`` (the notebook could not be run at all).
        detail: a sentence saying why, for the feedback.
        cell: 0-based index of the cell running when it stopped (None if it completed).
        executed: the executed notebook (an nbformat ``NotebookNode``), or None.
        wall_s: seconds from start to the end of the runner.
        truncated: True when the grader dropped part of the output.
        enforced: the limits that held, in words.
        not_enforced: the limits that could not be enforced here, in words.
    """

    status: str
    detail: str = ""
    cell: int | None = None
    executed: Any = None
    wall_s: float = 0.0
    truncated: bool = False
    enforced: list[str] = field(default_factory=list)
    not_enforced: list[str] = field(default_factory=list)


@cache
def network_isolation_command() -> tuple[str, ...] | None:
    """The command prefix that starts a process without network, or None if none works.

    Tries ``unshare -n`` (enough as root) and ``unshare -rn`` (an unprivileged user
    namespace); both give the process a network namespace with no interfaces up.
    """
    unshare = shutil.which("unshare")
    if unshare is None or not sys.platform.startswith("linux"):
        return None
    for prefix in ((unshare, "-n"), (unshare, "-rn")):
        try:
            done = subprocess.run(
                [*prefix, sys.executable, "-c", "pass"], capture_output=True, timeout=20
            )
        except (OSError, subprocess.SubprocessError):
            continue
        if done.returncode == 0:
            return prefix
    return None


_HIDE_SCRIPT = (
    'for d; do shift; [ "$d" = "--" ] && break; '
    'mount -t tmpfs -o size=1m,mode=0555 nnscratch-hidden "$d" || exit 97; done; exec "$@"'
)


@cache
def mount_isolation_command() -> tuple[str, ...] | None:
    """Like :func:`network_isolation_command`, adding a private mount namespace in which
    folders can be hidden under an empty tmpfs; None where the system does not allow it."""
    net = network_isolation_command()
    if net is None:
        return None
    import tempfile

    prefix = (*net, "-m")
    with tempfile.TemporaryDirectory() as probe:
        (Path(probe) / "secret").write_text("x")
        check = f"{_HIDE_SCRIPT.replace('exec ', 'test ! -e ' + probe + '/secret && exec ')}"
        try:
            done = subprocess.run(
                [*prefix, "sh", "-c", check, "probe", probe, "--", sys.executable, "-c", "pass"],
                capture_output=True,
                timeout=20,
            )
        except (OSError, subprocess.SubprocessError):
            return None
    return prefix if done.returncode == 0 else None


def _hideable(folder: Path, keep: list[Path]) -> bool:
    """True when hiding ``folder`` leaves every path in ``keep`` visible."""
    return folder.is_dir() and not any(k == folder or k.is_relative_to(folder) for k in keep)


def _descendants(pid: int) -> list[int]:
    """Every live descendant of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: parse after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and fields[1].isdigit():
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_process_tree(pid: int, *extra: int | None) -> None:
    """SIGKILL ``pid``, its process group, its descendants and the ``extra`` pids' groups.

    The kernel runs in its own session (jupyter_client starts it so), so it is found as a
    descendant or passed in ``extra``. Processes that detached themselves (double fork)
    before this call are not found.
    """
    targets = [pid, *_descendants(pid), *(p for p in extra if p)]
    for target in reversed(targets):
        for kill in (os.killpg, os.kill):
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError, OSError):
                pass


def _set_limits(limits: Limits) -> None:
    """In the child before exec: memory, file size, CPU time and core-dump limits."""
    import resource

    memory = int(limits.memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    size = int(limits.file_size_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    cpu = int(limits.timeout_s + _GRACE_S) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _child_env(run_dir: Path) -> dict[str, str]:
    """A small, clean environment: no proxies that work, HOME in the run folder."""
    from ..notebook import NOTEBOOK_ENV

    home = run_dir / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/bin", "/bin"]),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TMPDIR": str(run_dir / "tmp"),
        "PYTHONPATH": str(_GUARD_DIR),
        "PYTHONDONTWRITEBYTECODE": "1",
        "JUPYTER_RUNTIME_DIR": str(run_dir / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".matplotlib"),
        "NNSCRATCH_GRADING": "1",
        "no_proxy": "",
        "NO_PROXY": "",
    }
    for var in ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy"):
        env[var] = env[var.upper()] = _DEAD_PROXY
    # Same threads and hash seed as `make test`, but the kernel's own inline backend for
    # matplotlib so figures appear in the outputs.
    env.update({k: v for k, v in NOTEBOOK_ENV.items() if k != "MPLBACKEND"})
    (run_dir / "tmp").mkdir(exist_ok=True)
    _seed_matplotlib_cache(home / ".matplotlib")
    return env


def _seed_matplotlib_cache(target: Path) -> None:
    """Copy matplotlib's font cache, so each run does not rebuild it (seconds each)."""
    target.mkdir(parents=True, exist_ok=True)
    candidates = [os.environ.get("MPLCONFIGDIR", ""), "~/.cache/matplotlib", "~/.matplotlib"]
    for folder in candidates:
        if not folder:
            continue
        for font_cache in Path(folder).expanduser().glob("fontlist-*.json"):
            try:
                shutil.copy2(font_cache, target / font_cache.name)
            except OSError:
                pass


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > 1_000_000:
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def execute_isolated(
    notebook: Path, run_dir: Path, limits: Limits, *, hide: Sequence[Path] = ()
) -> RunOutcome:
    """Execute ``notebook`` (already a copy, alone in its folder) and report the outcome.

    Args:
        notebook: the copy to execute; its folder is the kernel's working folder.
        run_dir: an empty folder for the runner's files (not inside the notebook's folder).
        limits: timeout, memory and output limits.
        hide: folders to make invisible to the notebook (each replaced by an empty tmpfs
            in a private mount namespace), e.g. the original submissions and the grades;
            skipped, and said so, where mount namespaces are not available or a folder
            holds what the run needs (Python, the package, the copy).

    Returns:
        a :class:`RunOutcome`; this function does not raise for anything the notebook does.
    """
    import nbformat

    run_dir.mkdir(parents=True, exist_ok=True)
    enforced = [
        f"wall-clock timeout of {limits.timeout_s:g} s",
        f"address-space (memory) limit of {limits.memory_mb} MiB",
        f"largest file written: {limits.file_size_mb} MiB",
        "working folder: a temporary copy of the submission",
    ]
    not_enforced = [
        "file system: the notebook runs as the grader's user and can read or write, "
        "through absolute paths, any file that user can (except the folders hidden below)",
    ]
    prefix = network_isolation_command()
    hidden: list[str] = []
    keep = [
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve(),
        Path(__file__).resolve().parents[1],
        notebook.resolve(),
        run_dir.resolve(),
    ]
    wanted = [Path(h).resolve() for h in hide]
    mount_prefix = mount_isolation_command() if wanted else None
    if mount_prefix is not None:
        hidden = [str(h) for h in wanted if _hideable(h, keep)]
    if hidden:
        assert mount_prefix is not None
        prefix = (*mount_prefix, "sh", "-c", _HIDE_SCRIPT, "nnscratch-sandbox", *hidden, "--")
        enforced.append(
            "hidden from the notebook (empty in its mount namespace): " + ", ".join(hidden)
        )
    skipped = [str(h) for h in wanted if str(h) not in hidden]
    if skipped:
        not_enforced.append(
            "could not hide (no mount namespace here, or it holds what the run needs): "
            + ", ".join(skipped)
        )
    if prefix is not None:
        enforced.append("no network: a new network namespace (unshare -n)")
    else:
        not_enforced.append(
            "network: no network namespace available here; only a Python-level guard "
            "(refuses IP socket connections) and dead proxy settings, which a notebook "
            "could bypass"
        )
    if not hasattr(os, "killpg"):
        not_enforced.append("process cleanup: no process groups on this system")
    cmd = [
        *(prefix or ()),
        sys.executable,
        "-m",
        "nnscratch.grading._runner",
        str(notebook),
        str(run_dir),
        "--timeout",
        str(limits.timeout_s),
        "--max-text",
        str(limits.max_output_chars),
    ]
    log_path = run_dir / "runner.log"
    start = time.monotonic()
    cmd += ["--deadline", repr(time.time() + limits.timeout_s)]
    hard_kill = False
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=notebook.parent,
            env=_child_env(run_dir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=lambda: _set_limits(limits),  # noqa: PLW1509 - no threads started
        )
        try:
            proc.wait(timeout=limits.timeout_s + _GRACE_S)
        except subprocess.TimeoutExpired:
            hard_kill = True
        progress = _read_json(run_dir / "progress.json") or {}
        kernel_pid = progress.get("kernel_pid")
        kernel_pid = kernel_pid if isinstance(kernel_pid, int) else None
        # Always clean up: the kernel (own session) or anything it started may linger.
        kill_process_tree(proc.pid, kernel_pid)
        proc.wait()
    wall = time.monotonic() - start
    outcome = RunOutcome(status="error", wall_s=wall, enforced=enforced, not_enforced=not_enforced)
    result = None if hard_kill else _read_json(run_dir / "result.json")
    cell = progress.get("cell") if isinstance(progress.get("cell"), int) else None
    if result is None:
        if hard_kill:
            outcome.status = "timeout"
            outcome.detail = (
                f"the notebook did not finish within {limits.timeout_s:g} s and was killed"
            )
        else:
            tail = log_path.read_bytes()[-1500:].decode("utf-8", "replace").strip()
            outcome.detail = (
                f"the grader's runner stopped with exit status {proc.returncode} "
                f"(the memory limit of {limits.memory_mb} MiB is a likely cause)"
                + (f"; its last words: {tail[-600:]}" if tail else "")
            )
        outcome.cell = cell
        return outcome
    outcome.status = str(result.get("status", "error"))
    outcome.detail = str(result.get("detail", ""))
    outcome.cell = result.get("cell") if isinstance(result.get("cell"), int) else None
    outcome.truncated = bool(result.get("truncated"))
    exit_status = result.get("kernel_exit")
    if outcome.status == "kernel_died":
        how = (
            f"killed by signal {-exit_status}"
            if isinstance(exit_status, int) and exit_status < 0
            else f"exit status {exit_status}"
        )
        outcome.detail = (
            f"the kernel died ({how}): os._exit, sys.exit in a subprocess, a crash, "
            f"or the memory limit of {limits.memory_mb} MiB"
        )
    executed = run_dir / "executed.ipynb"
    try:
        if executed.stat().st_size <= _MAX_EXECUTED_BYTES:
            outcome.executed = nbformat.read(executed, as_version=4)
    except Exception as exc:  # missing or unreadable: the run info above still stands
        outcome.detail += f" (executed notebook unreadable: {type(exc).__name__})"
    return outcome
