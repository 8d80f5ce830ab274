"""One sealed bubblewrap sandbox per submission, and the trusted runner that drives it.

Nothing here is a home-made guard: the isolation is bubblewrap's (``bwrap``, the sandbox
Flatpak uses), with Linux namespaces, plus cgroups or rlimits for the limits.

:func:`execute_isolated` starts the trusted runner (``python -I`` from a folder of the
grader's, importing only the grader's own code: see :mod:`._runner`). The runner, which
stays outside the sandbox, starts the notebook's kernel inside one, talks to it over its
own ZeroMQ sockets, records each cell's execute reply, then kills the sandbox; every
process inside ends with it (new PID namespace: killing its init kills them all) and the
runner checks that none is left. The runner writes its result into a folder the sandbox
never sees.

The sandbox (:func:`bwrap_argv`) has new user, PID, mount, network, IPC, UTS and cgroup
namespaces (``--unshare-all``), no capabilities, uid/gid 65534, no further user namespaces
(``--disable-userns``), ``--die-with-parent`` and ``--new-session``. It sees, read-only,
only ``/usr`` (and the ``/lib*``, ``/bin`` links), the Python installation, the virtual
environment, a copy of the ``nnscratch`` library made by the grader, and a copy of that
one submission; writable, only size-capped private memory-backed folders: ``/tmp``, the
working folder and the folder of the kernel's sockets (:data:`KERNEL_DIR`, 1 MiB). The
host folder of the connection file is bound read-only. No home, no repository, no other
submission, no rubric, no output folder, private ``/proc`` and ``/dev``.

Limits for the whole tree: a memory cgroup (memory plus the private folders) and a pids
cgroup where ``/sys/fs/cgroup`` (v1) is writable; always rlimits per process (address
space, CPU seconds, file size, no core dumps) and the wall-clock timeout of the sandbox.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "SANDBOX_UID",
    "Limits",
    "RunOutcome",
    "Sandbox",
    "SandboxUnavailable",
    "bwrap_argv",
    "execute_isolated",
    "library_copy",
    "sandbox_problem",
]

#: uid and gid inside the sandbox (``nobody``).
SANDBOX_UID = 65534
#: Where things are inside the sandbox.
SUBMISSION_DIR = "/submission"
SOURCE_DIR = "/submission.src"
LIBRARY_DIR = "/opt/nnscratch/lib"
#: The kernel's own socket folder: a small tmpfs inside the sandbox (the runner reaches
#: the sockets through /proc/PID/root); nothing the kernel writes reaches the host disk.
KERNEL_DIR = "/run/nnscratch-kernel"
KERNEL_DIR_BYTES = 1024 * 1024
#: Largest executed copy read back (the runner's output budget keeps it far below).
MAX_EXECUTED_BYTES = 64 * 1024 * 1024
_GRACE_S = 30.0  # what the runner may add to the timeout: sandbox start, probe, clean-up
_TOOLS_ROOT = Path(__file__).resolve().parents[2]  # the folder holding nnscratch_tools
_CGROUP_V1 = Path("/sys/fs/cgroup")


class SandboxUnavailable(RuntimeError):
    """No working bubblewrap sandbox on this machine (the message says why)."""


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission.

    Attributes:
        timeout_s: wall-clock seconds for the whole notebook, kernel start included.
        memory_mb: address space of each process in the sandbox, in MiB.
        file_size_mb: largest file the notebook may write, in MiB.
        max_output_chars: output text kept from the run (the rest is dropped, and said so).
        disk_mb: size of each private writable folder (``/tmp``, the working copy), MiB.
        processes: most processes and threads in the whole sandbox (pids cgroup).
    """

    timeout_s: float = 120.0
    memory_mb: int = 4096
    file_size_mb: int = 256
    max_output_chars: int = 1_000_000
    disk_mb: int = 512
    processes: int = 512

    def __post_init__(self) -> None:
        for name in self.__dataclass_fields__:
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
        executed: the executed notebook (an nbformat ``NotebookNode``), each cell that got
            an execute reply marked in ``metadata.grader``; or None.
        wall_s: seconds from start to the end of the runner.
        truncated: True when the grader dropped part of the output.
        enforced: protections checked from inside this sandbox, and limits set on it.
        not_enforced: what was not, in words.
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
def _bwrap() -> str | None:
    return shutil.which("bwrap") if sys.platform.startswith("linux") else None


def _python_dirs() -> list[Path]:
    """Folders the kernel's Python needs: the installation, the environment, and the
    folders of the shared libraries this interpreter loaded from elsewhere (a Python
    built with an absolute run path to its ``libpython``, for instance)."""
    dirs = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    system = (Path("/usr"), Path("/lib"), Path("/lib64"), Path("/lib32"), Path("/libx32"))
    for library in _mapped_libraries():
        if not any(library.is_relative_to(d) for d in (*dirs, *system)):
            dirs.add(library.parent)
    folders = sorted(d for d in dirs if not d.is_relative_to("/usr"))
    # a folder inside another one is bound with it
    return [d for d in folders if not any(d != o and d.is_relative_to(o) for o in folders)]


@cache
def _mapped_libraries() -> tuple[Path, ...]:
    """Shared objects mapped into this process (from /proc/self/maps), resolved."""
    found: set[Path] = set()
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:
        return ()
    for line in lines:
        parts = line.split(None, 5)
        if len(parts) == 6 and parts[5].startswith("/") and ".so" in Path(parts[5]).name:
            found.add(Path(parts[5]).resolve())
    return tuple(sorted(found))


@dataclass(frozen=True)
class Sandbox:
    """The host folders one sandbox is built from.

    Attributes:
        source: the grader's copy of the submission (bound read-only at /submission.src,
            copied into the private working folder /submission before the kernel starts).
        conn: folder holding the kernel's connection file (bound read-only at the same
            path); the kernel's sockets live in the sandbox's own :data:`KERNEL_DIR`.
        library: the grader's copy of the ``nnscratch`` package's parent folder.
    """

    source: Path
    conn: Path
    library: Path


def bwrap_argv(box: Sandbox, limits: Limits) -> list[str]:
    """The ``bwrap`` command line (up to and including ``--``) for one sandbox."""
    bwrap = _bwrap()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    size = str(int(limits.disk_mb) * 1024 * 1024)
    argv = [
        bwrap,
        "--unshare-all",
        "--unshare-user",
        "--disable-userns",
        "--die-with-parent",
        "--new-session",
        "--cap-drop", "ALL",
        "--uid", str(SANDBOX_UID),
        "--gid", str(SANDBOX_UID),
        "--hostname", "sandbox",
        "--ro-bind", "/usr", "/usr",
    ]  # fmt: skip
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            argv += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            argv += ["--ro-bind", str(top), str(top)]
    for etc in ("/etc/ld.so.cache", "/etc/fonts", "/etc/localtime", "/etc/alternatives"):
        argv += ["--ro-bind-try", etc, etc]
    # The private folders come first: bwrap mounts in order, so a folder bound after them
    # stays visible even when it lives under /tmp (a checkout or environment there).
    argv += [
        "--proc", "/proc",
        "--dev", "/dev",
        "--size", size, "--tmpfs", "/tmp",
        "--size", size, "--tmpfs", SUBMISSION_DIR,
        "--size", str(KERNEL_DIR_BYTES), "--tmpfs", KERNEL_DIR,
    ]  # fmt: skip
    for folder in _python_dirs():
        argv += ["--ro-bind", str(folder), str(folder)]
    argv += [
        "--ro-bind", str(box.library), LIBRARY_DIR,
        "--ro-bind", str(box.source), SOURCE_DIR,
        "--ro-bind", str(box.conn), str(box.conn),
        "--remount-ro", "/",
        "--chdir", "/tmp",
        "--clearenv",
    ]  # fmt: skip
    for key, value in _sandbox_env().items():
        argv += ["--setenv", key, value]
    return [*argv, "--"]


def _sandbox_env() -> dict[str, str]:
    from nnscratch.notebook import NOTEBOOK_ENV

    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp/home",
        "USER": "student",
        "LOGNAME": "student",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MPLCONFIGDIR": "/tmp/home/.matplotlib",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "JUPYTER_PLATFORM_DIRS": "1",
        "NNSCRATCH_GRADING": "1",
    }
    # Same threads and hash seed as `make test`; the kernel's own inline backend draws figures.
    env.update({k: v for k, v in NOTEBOOK_ENV.items() if k != "MPLBACKEND"})
    return env


#: Runs inside the sandbox before any of the submission's code: copy the submission into
#: the private working folder, seed matplotlib's font cache, start the kernel. Trusted code
#: passed with ``-c`` (nothing is imported from the submission's folder to start it).
KERNEL_LAUNCHER = """
import os, shutil, sys
src, dst, lib = sys.argv[1:4]
del sys.argv[1:4]
if src != '-':
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
os.makedirs(os.environ.get('MPLCONFIGDIR', '/tmp'), exist_ok=True)
fonts = os.path.join(lib, '.mplcache')
if os.path.isdir(fonts):
    for name in os.listdir(fonts):
        shutil.copy(os.path.join(fonts, name), os.environ['MPLCONFIGDIR'])
os.chdir(dst)
sys.path.insert(0, lib)
from ipykernel import kernelapp
sys.path.insert(1, dst)
kernelapp.launch_new_instance()
"""

#: Runs on the host between the runner and bwrap: join the sandbox's cgroups, set the
#: rlimits, then become bwrap (arguments: a JSON of cgroup.procs files and limits, argv).
LIMITS_EXEC = """
import json, os, resource, sys
spec = json.loads(sys.argv[1])
for procs in spec['cgroups']:
    with open(procs, 'w') as f:
        f.write(str(os.getpid()))
for name, value in spec['rlimits'].items():
    resource.setrlimit(getattr(resource, name), (value, value))
os.execve(sys.argv[2], sys.argv[2:], spec.get('env') or os.environ)
"""


def _rlimits(limits: Limits) -> dict[str, int]:
    cpu = int(limits.timeout_s + _GRACE_S)
    return {
        "RLIMIT_AS": int(limits.memory_mb) * 1024 * 1024,
        "RLIMIT_CPU": cpu,
        "RLIMIT_FSIZE": int(limits.file_size_mb) * 1024 * 1024,
        "RLIMIT_CORE": 0,
    }


def _own_cgroup_v1(controller: str) -> Path | None:
    """This process's cgroup folder for a v1 ``controller``, if writable."""
    base = _CGROUP_V1 / controller
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and controller in parts[1].split(","):
            folder = base / parts[2].lstrip("/")
            if folder.is_dir() and os.access(folder, os.W_OK):
                return folder
    return None


class Cgroups:
    """Memory and pids cgroups (v1) of one sandbox, or nothing where not writable."""

    def __init__(self, limits: Limits) -> None:
        self.folders: list[Path] = []
        self.described: list[str] = []
        have: set[str] = set()
        name = f"{CGROUP_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        memory = (int(limits.memory_mb) + 2 * int(limits.disk_mb)) * 1024 * 1024
        wanted = {
            "memory": [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)],
            "pids": [("pids.max", int(limits.processes))],
        }
        for controller, settings in wanted.items():
            parent = _own_cgroup_v1(controller)
            if parent is None:
                continue
            folder = parent / name
            try:
                folder.mkdir()
                self.folders.append(folder)
                for key, value in settings:
                    if (folder / key).exists():
                        (folder / key).write_text(str(value))
                have.add(controller)
            except OSError:
                continue
        if "memory" in have:
            self.described.append(
                f"memory of the whole sandbox (its processes and private folders): "
                f"{memory // 2**20} MiB (memory cgroup)"
            )
        if "pids" in have:
            self.described.append(
                f"processes and threads in the whole sandbox: {limits.processes} (pids cgroup)"
            )

    @property
    def procs_files(self) -> list[str]:
        return [str(f / "cgroup.procs") for f in self.folders]

    def kill_and_remove(self) -> None:
        """SIGKILL anything left in the cgroups, then remove them."""
        for folder in self.folders:
            for _ in range(50):
                try:
                    pids = [int(p) for p in (folder / "cgroup.procs").read_text().split()]
                except OSError:
                    break
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.1)
            try:
                folder.rmdir()
            except OSError:
                pass


#: The sandboxes' cgroups are named with this prefix and the grader's process id.
CGROUP_PREFIX = "nnscratch-grade-"


def remove_stale_cgroups() -> None:
    """Kill what is left in, and remove, the cgroups of graders that no longer run."""
    for controller in ("memory", "pids"):
        parent = _own_cgroup_v1(controller)
        if parent is None:
            continue
        try:
            folders = list(parent.glob(f"{CGROUP_PREFIX}*-*"))
        except OSError:
            continue
        for folder in folders:
            pid = folder.name[len(CGROUP_PREFIX) :].split("-")[0]
            if pid.isdigit() and not Path(f"/proc/{pid}").exists():
                stale = Cgroups.__new__(Cgroups)
                stale.folders = [folder]
                stale.kill_and_remove()


def limits_prefix(limits: Limits, cgroups: Cgroups) -> list[str]:
    """The host-side command that applies ``limits`` and then runs the rest of the line."""
    spec = json.dumps({"cgroups": cgroups.procs_files, "rlimits": _rlimits(limits)})
    return [sys.executable, "-I", "-c", LIMITS_EXEC, spec]


def library_copy(target: Path) -> Path:
    """Copy the ``nnscratch`` package (and matplotlib's font cache) into ``target``.

    The sandbox imports this copy, never the grader's checkout (which is not mounted).
    """
    import nnscratch

    package = Path(nnscratch.__file__).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        package,
        target / "nnscratch",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    fonts = target / ".mplcache"
    fonts.mkdir(exist_ok=True)
    for folder in (os.environ.get("MPLCONFIGDIR", ""), "~/.cache/matplotlib", "~/.matplotlib"):
        if folder:
            for font_cache in Path(folder).expanduser().glob("fontlist-*.json"):
                try:
                    shutil.copy2(font_cache, fonts / font_cache.name)
                except OSError:
                    pass
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@cache
def sandbox_problem() -> str | None:
    """None when a bubblewrap sandbox works here; otherwise why not, in one sentence."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap sandboxes need Linux (this is {sys.platform})"
    if _bwrap() is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="nnscratch-probe-") as tmp:
        root = Path(tmp)
        box = Sandbox(root / "src", root / "conn", root / "lib")
        for folder in (box.source, box.conn, box.library):
            folder.mkdir()
        try:
            done = subprocess.run(
                [*bwrap_argv(box, Limits()), sys.executable, "-I", "-c", "import numpy"],
                capture_output=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return f"bubblewrap could not start: {exc}"
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[-300:]
        return f"bubblewrap could not start a sandbox here (exit {done.returncode}): {err}"
    return None


def _read_json(path: Path, limit: int = 5_000_000) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > limit:
            return None
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _kill_group(proc: subprocess.Popen) -> None:
    for kill in (os.killpg, os.kill):
        try:
            kill(proc.pid, signal.SIGKILL)
        except OSError:
            pass


def execute_isolated(
    notebook: Path,
    source: Path,
    run_dir: Path,
    library: Path,
    limits: Limits,
    *,
    sandbox: bool = True,
    private: Sequence[Path] = (),
    kernel_prefix: Sequence[str] = (),
) -> RunOutcome:
    """Execute ``notebook`` (a cleaned copy) with ``source`` as its working folder.

    Args:
        notebook: the notebook to run, outputs already cleared, in ``run_dir``.
        source: the grader's copy of the submission's folder (the kernel's working folder
            is a private copy of it inside the sandbox).
        run_dir: the runner's own folder; the sandbox never sees it.
        library: the grader's copy of the library (:func:`library_copy`).
        limits: timeout, memory and output limits.
        sandbox: False only for ``--unsafe-no-sandbox``: the kernel then runs as the
            grader's user, with rlimits and the timeout only.
        private: host paths the sandbox must not see; the probe checks each one.
        kernel_prefix: without a sandbox only, a trusted command that starts the kernel's
            command line after the limits are set (Gradescope's container mode drops to an
            unprivileged user there: :mod:`.gradescope`).

    Returns:
        a :class:`RunOutcome`; this function does not raise for anything the notebook does.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    conn = Path(tempfile.mkdtemp(prefix="conn-", dir=run_dir.parent))
    box = Sandbox(source, conn, library)
    cgroups = Cgroups(limits) if sandbox else None
    probe: list[str] | None = None
    if cgroups is not None:
        kernel, probe = _sandboxed_commands(box, limits, cgroups)
    else:
        kernel = _unsandboxed_kernel(run_dir, source, library, limits, kernel_prefix)
    spec_path = _write_spec(run_dir, notebook, box, limits, kernel, probe, private)
    start = time.monotonic()
    proc, hard_kill = _run_runner(spec_path, run_dir, limits)
    if cgroups is not None:
        cgroups.kill_and_remove()
    for name in ("kernel.json",):
        (conn / name).unlink(missing_ok=True)
    try:
        conn.rmdir()
    except OSError:
        pass
    wall = time.monotonic() - start
    result = None if hard_kill else _read_json(run_dir / "result.json")
    if result is None:
        return _runner_failed(run_dir, limits, proc, hard_kill, wall)
    return _outcome(result, run_dir, limits, cgroups, wall)


def _sandboxed_commands(
    box: Sandbox, limits: Limits, cgroups: Cgroups
) -> tuple[list[str], list[str]]:
    """``(kernel, probe)``: the command lines that start the kernel and the probe, each in
    its own sandbox built by :func:`bwrap_argv` behind the limits."""
    prefix = limits_prefix(limits, cgroups)
    sandbox_cmd = [*prefix, *bwrap_argv(box, limits)]
    kernel = [
        *sandbox_cmd, sys.executable, "-s", "-P", "-c", KERNEL_LAUNCHER,
        SOURCE_DIR, SUBMISSION_DIR, LIBRARY_DIR,
    ]  # fmt: skip
    probe = [*sandbox_cmd, sys.executable, "-I", "-c", _probe_source()]
    return kernel, probe


def _unsandboxed_kernel(
    run_dir: Path, source: Path, library: Path, limits: Limits, kernel_prefix: Sequence[str]
) -> list[str]:
    """The kernel's command line for ``--unsafe-no-sandbox``: rlimits only, its home and
    temporary folders in ``run_dir``, started through ``kernel_prefix``."""
    home, tmp = run_dir / "home", run_dir / "tmp"
    env = _sandbox_env()
    env.update(
        HOME=str(home), TMPDIR=str(tmp), MPLCONFIGDIR=str(home / ".matplotlib"),
        IPYTHONDIR=str(home / ".ipython"),
    )  # fmt: skip
    for folder in (home, tmp):
        folder.mkdir(exist_ok=True)
    spec = json.dumps({"cgroups": [], "rlimits": _rlimits(limits), "env": env})
    return [
        sys.executable, "-I", "-c", LIMITS_EXEC, spec, *kernel_prefix, sys.executable,
        "-s", "-P", "-c", KERNEL_LAUNCHER, "-", str(source), str(library),
    ]  # fmt: skip


def _write_spec(
    run_dir: Path,
    notebook: Path,
    box: Sandbox,
    limits: Limits,
    kernel: list[str],
    probe: list[str] | None,
    private: Sequence[Path],
) -> Path:
    """Write the runner's ``spec.json`` into ``run_dir``; return its path."""
    spec_path = run_dir / "spec.json"
    spec_path.write_text(
        json.dumps(
            {
                "notebook": str(notebook),
                "run_dir": str(run_dir),
                "conn": str(box.conn),
                "kernel_dir": KERNEL_DIR,
                "kernel_dir_bytes": KERNEL_DIR_BYTES,
                "disk_bytes": int(limits.disk_mb) * 1024 * 1024,
                "timeout": limits.timeout_s,
                "deadline": time.time() + limits.timeout_s,
                "max_text": limits.max_output_chars,
                "kernel": kernel,
                "probe": probe,
                "private": [str(p) for p in private],
                "allowed": _mount_points(box),
            }
        ),
        encoding="utf-8",
    )
    return spec_path


def _run_runner(spec_path: Path, run_dir: Path, limits: Limits) -> tuple[subprocess.Popen, bool]:
    """Run the trusted runner on ``spec_path`` until it ends or its time is up, then kill
    its process group; ``(process, True if it had to be killed for time)``."""
    # The runner: `python -I` (no PYTHON* variables, no user site, nothing from the working
    # folder on sys.path), started in the grader's own folder, importing the grader's code.
    runner = [
        sys.executable, "-I", "-c",
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from nnscratch_tools.grading._runner import main; sys.exit(main(sys.argv[2:]))",
        str(_TOOLS_ROOT), str(spec_path),
    ]  # fmt: skip
    hard_kill = False
    with open(run_dir / "runner.log", "wb") as log:
        proc = subprocess.Popen(
            runner,
            cwd=run_dir,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            proc.wait(timeout=limits.timeout_s + 2 * _GRACE_S)
        except subprocess.TimeoutExpired:
            hard_kill = True
        _kill_group(proc)  # the sandbox dies with its parent (--die-with-parent)
        proc.wait()
    return proc, hard_kill


def _runner_failed(
    run_dir: Path, limits: Limits, proc: subprocess.Popen, hard_kill: bool, wall: float
) -> RunOutcome:
    """The outcome when the runner left no readable result (killed for time, or failed)."""
    outcome = RunOutcome(status="timeout" if hard_kill else "error", wall_s=wall)
    tail = (run_dir / "runner.log").read_bytes()[-800:].decode("utf-8", "replace").strip()
    outcome.detail = (
        f"the notebook did not finish within {limits.timeout_s:g} s and was killed"
        if hard_kill
        else f"the grader's runner failed (exit status {proc.returncode}): {tail[-400:]}"
    )
    return outcome


def _outcome(
    result: dict[str, Any], run_dir: Path, limits: Limits, cgroups: Cgroups | None, wall: float
) -> RunOutcome:
    """The outcome from the runner's ``result.json``, the limits set, and the executed copy."""
    import nbformat

    outcome = RunOutcome(status=str(result.get("status", "error")), wall_s=wall)
    outcome.detail = str(result.get("detail", ""))[:2000]
    outcome.cell = result.get("cell") if isinstance(result.get("cell"), int) else None
    outcome.truncated = bool(result.get("truncated"))
    outcome.enforced = [str(e) for e in result.get("enforced", [])]
    outcome.not_enforced = [str(e) for e in result.get("not_enforced", [])]
    if cgroups is not None:
        outcome.enforced += [f"limit set by the grader: {d}" for d in cgroups.described]
        if not cgroups.described:
            outcome.not_enforced.append(
                "whole-tree memory and process-count limits: no writable cgroups here, so "
                "memory is limited per process (RLIMIT_AS) and the process count is not"
            )
    if outcome.status == "kernel_died":
        outcome.detail = (
            f"the kernel died ({result.get('kernel_exit_text') or 'no exit status'}): "
            f"os._exit, sys.exit in a subprocess, a crash, or the memory limit of "
            f"{limits.memory_mb} MiB"
        )
    try:
        size = (run_dir / "executed.ipynb").stat().st_size
        if size > MAX_EXECUTED_BYTES:
            raise ValueError(f"{size} bytes, above {MAX_EXECUTED_BYTES}")
        outcome.executed = nbformat.read(run_dir / "executed.ipynb", as_version=4)
    except Exception as exc:  # missing or unreadable: the run info above still stands
        outcome.detail += f" (executed notebook unreadable: {type(exc).__name__})"
    return outcome


def _mount_points(box: Sandbox) -> list[str]:
    """Host paths bound into the sandbox (the probe allows their parent folders)."""
    return [str(p) for p in (*_python_dirs(), box.conn)]


@cache
def _probe_source() -> str:
    return Path(__file__).with_name("_probe.py").read_text(encoding="utf-8")
