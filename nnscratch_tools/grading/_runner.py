"""The trusted runner: outside the sandbox, it drives the kernel inside one and records
what ran.

Started by :func:`nnscratch_tools.grading.sandbox.execute_isolated` as ``python -I`` in a
folder of the grader's, with one argument, the path of ``spec.json`` (written by the
grader). It

1. runs the probe (:mod:`._probe`) in a sandbox built like the kernel's and keeps the
   protections that passed, for the feedback;
2. starts the kernel inside its sandbox; the kernel binds its ZeroMQ Unix sockets in the
   sandbox's own small tmpfs, and the runner connects to each through a descriptor of the
   socket's inode taken via ``/proc/PID/root`` (never through a link the sandbox made),
   with the message-size limit on every channel; records each cell's execute reply in
   the cell's ``metadata.grader`` (``status`` ``ok`` / ``error`` / ``aborted``, ``ename``,
   ``evalue``), and counts a cell as failed when its reply says so *or* when the runner
   itself received an error output for it; keeps a per-notebook output budget (display
   updates included) and no widget state;
3. kills the sandbox (SIGKILL to bwrap; its PID namespace ends with it) and checks that no
   process of that namespace is left;
4. writes ``executed.ipynb`` and ``result.json`` into its own folder, which the sandbox
   never sees.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import nbformat
import zmq
import zmq.asyncio
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output

#: Rich output (images and the like) kept per notebook, in characters of base64.
DEFAULT_MAX_RICH = 20_000_000
#: Largest single message accepted from the kernel, in bytes (on every channel).
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
#: Most outputs kept in one notebook (each update of a shared display counts).
MAX_OUTPUTS = 10_000
REFUSED_NOTICE = (
    f"\n[output refused by the grader: a message above {MAX_MESSAGE_BYTES // 2**20} MiB]\n"
)
TRUNCATION_NOTICE = "\n[output truncated by the grader: the notebook printed too much]\n"
_NAMESPACES = ("pid", "net", "mnt", "ipc", "uts", "user", "cgroup")


def _output_size(out: Any) -> tuple[int, int]:
    """``(text_chars, rich_chars)`` of one output node."""
    if out.output_type == "stream":
        return len(out.get("text", "")), 0
    if out.output_type == "error":
        return sum(len(line) for line in out.get("traceback", [])), 0
    text = rich = 0
    for mime, value in out.get("data", {}).items():
        size = len(value) if isinstance(value, str) else len(json.dumps(value))
        if mime.startswith("text/"):
            text += size
        else:
            rich += size
    return text, rich


def _probe(spec: dict[str, Any]) -> list[list[Any]]:
    """Run the probe sandbox; ``[[ok, text], ...]`` or one failed entry saying why."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    arg = {
        "host_ns": {k: os.readlink(f"/proc/self/ns/{k}") for k in _NAMESPACES},
        "port": listener.getsockname()[1],
        "private": spec["private"],
        "allowed": spec["allowed"],
        "conn": spec["conn"],
        "kernel_dir": spec["kernel_dir"],
        "kernel_dir_bytes": spec["kernel_dir_bytes"],
        "disk_bytes": spec["disk_bytes"],
    }
    try:
        done = subprocess.run(
            [*spec["probe"], json.dumps(arg)],
            capture_output=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
        checks = json.loads(done.stdout.decode("utf-8").strip().splitlines()[-1])
    except Exception as exc:
        checks = [[False, f"the sandbox probe failed: {type(exc).__name__}: {exc}"[:300]]]
    finally:
        listener.close()
    return checks


def _namespace_of(pid: int) -> str | None:
    """The PID namespace of ``pid``'s first child (bwrap's init inside the sandbox)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return os.readlink(f"/proc/{children[0]}/ns/pid") if children else None
    except (OSError, IndexError):
        return None


def _task_state(stat: Path) -> str:
    """The state letter of a /proc ``stat`` file ("R", "S", "Z", ...): its line is
    "PID (name) STATE ...", and the name may hold spaces or ")"."""
    return stat.read_text().rpartition(")")[2].split()[0]


def _runs_code(entry: Path) -> bool:
    """Whether any thread of process ``entry`` (a /proc folder) can still run.

    A process that has exited stays in /proc as a zombie until its parent reaps it; bwrap's
    init is reaped by the machine's PID 1, which can take a second or more. A zombie runs
    nothing, but a leader thread that exited shows as one while its other threads run, so
    every thread is looked at.
    """
    return any(_task_state(task / "stat") not in ("Z", "X") for task in (entry / "task").iterdir())


def _left_in(namespace: str) -> list[int]:
    """Processes of PID namespace ``namespace`` that can still run (only the sandbox's own
    ones; a zombie, exited but not yet reaped, is not counted)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.readlink(entry / "ns" / "pid") == namespace and _runs_code(entry):
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
    return found


def _first_child(pid: int) -> int | None:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        return int(children[0]) if children else None
    except (OSError, ValueError):
        return None


def _pin_socket(path: str) -> int | None:
    """An ``O_PATH`` descriptor of the Unix socket at ``path``, never through a link.

    The sandbox owns its socket folder and could put a symbolic link where a socket
    should be (pointing at a host socket); a descriptor pins the socket's own inode, and
    the runner connects through ``/proc/self/fd/N``, so what it reaches is that inode.
    """
    try:
        fd = os.open(path, os.O_PATH | os.O_NOFOLLOW)
    except OSError:
        return None
    if not stat.S_ISSOCK(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


@dataclass(frozen=True)
class _Plan:
    """What the kernel manager and the client of one run are told.

    Attributes:
        kernel_cmd: the command line that starts the kernel (in its sandbox).
        log: where the kernel's stdout and stderr go.
        inside: where the kernel binds its sockets, inside the sandbox.
        links: the runner's folder of links to the pinned sockets (the sandbox never sees it).
        sandboxed: False only for ``--unsafe-no-sandbox``.
        deadline: ``time.monotonic()`` at which the run stops.
        max_text: output text kept from the whole notebook, in characters.
    """

    kernel_cmd: list[str]
    log: BinaryIO
    inside: str
    links: Path
    sandboxed: bool
    deadline: float
    max_text: int


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel with :attr:`plan`'s command line and, in a sandbox, connects to
    its sockets only through descriptors pinned by :func:`_pin_socket`."""

    plan: _Plan  # set right after construction, before the kernel starts
    pinned: list[int] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [*self.plan.kernel_cmd, "-f", self.connection_file]

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
        kw.update(stdin=subprocess.DEVNULL, stdout=self.plan.log, stderr=self.plan.log)
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self.plan.sandboxed:
            await self._pin_sockets()

    async def _pin_sockets(self) -> None:
        """Wait until the kernel has bound its five sockets, then pin each one."""
        process = self.provisioner.process  # type: ignore[union-attr]
        ports = [self.shell_port, self.iopub_port, self.stdin_port, self.hb_port,
                 self.control_port]  # fmt: skip
        while True:
            if time.monotonic() > self.plan.deadline:
                raise TimeoutError("the kernel did not open its sockets in time")
            if process.poll() is not None:
                raise RuntimeError("the kernel ended before it opened its sockets")
            child = _first_child(process.pid)
            root = f"/proc/{child}/root{self.plan.inside}"
            fds = [_pin_socket(f"{root}-{p}") for p in ports] if child else []
            if fds and all(fd is not None for fd in fds):
                break
            for fd in fds:
                if fd is not None:
                    os.close(fd)
            await asyncio.sleep(0.05)
        self.plan.links.mkdir(exist_ok=True)
        for port, fd in zip(ports, fds, strict=True):
            os.symlink(f"/proc/self/fd/{fd}", self.plan.links / f"k-{port}")
        self.pinned = [fd for fd in fds if fd is not None]

    def client(self, **kwargs: Any) -> Any:
        # the client's channels use this context too, so the message-size limit holds
        kwargs.setdefault("context", self.context)
        if self.plan.sandboxed:
            kwargs["ip"] = str(self.plan.links / "k")
        return super().client(**kwargs)

    def cleanup_ipc_files(self) -> None:
        """Nothing to remove on the host: the sockets lived inside the sandbox."""


class RecordingClient(NotebookClient):
    """Keeps at most ``max_text`` / ``max_rich`` characters of output in the whole
    notebook (display updates and outputs alike), at most :data:`MAX_OUTPUTS`
    outputs, no widget state; records each cell's reply and the errors it showed."""

    plan: _Plan  # set right after construction, before the notebook runs
    text_used = 0
    rich_used = 0
    outputs_kept = 0
    truncated = False
    shown_errors: dict[int, tuple[str, str]] = {}

    def _charge(self, outs: Any, text: int, rich: int, count: int = 1) -> bool:
        """Take ``text``/``rich`` characters from the budget, or say no (and note it)."""
        if (
            self.text_used + text > self.plan.max_text
            or self.rich_used + rich > DEFAULT_MAX_RICH
            or self.outputs_kept + count > MAX_OUTPUTS
        ):
            if not self.truncated and outs is not None:
                self.truncated = True
                outs.append(new_output("stream", name="stderr", text=TRUNCATION_NOTICE))
            self.truncated = True
            return False
        self.text_used += text
        self.rich_used += rich
        self.outputs_kept += count
        return True

    def output(self, outs, msg, display_id, cell_index):
        if msg.get("msg_type") == "error":  # seen by the runner, whatever the reply says
            content = msg.get("content", {})
            self.shown_errors.setdefault(
                cell_index,
                (str(content.get("ename", ""))[:100],
                 str(content.get("evalue", "")).split("\n")[0][:300]),
            )  # fmt: skip
        out = super().output(outs, msg, display_id, cell_index)
        if out is None or not outs or outs[-1] is not out:
            return out
        text, rich = _output_size(out)
        outs.pop()
        if not self._charge(outs, text, rich):
            return None
        outs.append(out)
        return out

    def _update_display_id(self, display_id, msg):
        # An update rewrites every output sharing the id: charge it once per output.
        targets = sum(len(v) for v in self._display_id_map.get(display_id, {}).values())
        data = msg.get("content", {}).get("data", {})
        text, rich = _output_size(nbformat.from_dict(
            {"output_type": "display_data", "data": data if isinstance(data, dict) else {}}
        ))  # fmt: skip
        if targets and not self._charge(None, text * targets, rich * targets, 0):
            return
        super()._update_display_id(display_id, msg)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        # A message above the size limit makes ZeroMQ drop the connection (the channel
        # then reconnects); the monitor tells the runner that output was refused.
        self.monitors = [
            channel.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
            for channel in (kc.iopub_channel, kc.shell_channel)
        ]
        return kc

    async def _refused_messages(self) -> bool:
        refused = False
        for monitor in getattr(self, "monitors", []):
            while True:
                try:
                    await monitor.recv_multipart(zmq.NOBLOCK)
                except zmq.Again:
                    break
                refused = True
        return refused

    def handle_comm_msg(self, outs, msg, cell_index):
        """Widget messages are ignored: the grader keeps no widget state or buffers."""

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
        if time.monotonic() >= self.plan.deadline:  # many quick cells cannot outlast the limit
            raise CellTimeoutError(f"deadline reached before cell {cell_index + 1}")
        return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

    async def _check_raise_for_error(self, cell, cell_index, exec_reply):
        if await self._refused_messages():
            self.truncated = True
            cell.outputs.append(new_output("stream", name="stderr", text=REFUSED_NOTICE))
        content = (exec_reply or {}).get("content", {})
        status = content.get("status")
        record = {
            "status": status if status in ("ok", "error", "aborted") else "error",
            "ename": str(content.get("ename", ""))[:100],
            "evalue": str(content.get("evalue", "")).split("\n")[0][:300],
        }
        if record["status"] == "ok" and cell_index in self.shown_errors:
            # the reply says ok but the cell showed a traceback: the reply is not trusted
            ename, evalue = self.shown_errors[cell_index]
            record.update(status="error", ename=ename, evalue=evalue, reply="ok")
        cell.metadata["grader"] = record


def _make_client(nb: Any, spec: dict[str, Any], deadline: float) -> Any:
    """A NotebookClient that stops at ``deadline``, caps outputs and records replies."""
    plan = _Plan(
        kernel_cmd=list(spec["kernel"]),
        log=open(Path(spec["run_dir"]) / "kernel.log", "wb"),  # noqa: SIM115 - lives with the run
        inside=f"{spec['kernel_dir']}/k",
        links=Path(spec["run_dir"]) / "sockets",
        sandboxed=spec["probe"] is not None,
        deadline=deadline,
        max_text=int(spec["max_text"]),
    )
    context = zmq.asyncio.Context()
    context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
    conn = Path(spec["conn"])
    km = SandboxedKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=plan.inside if plan.sandboxed else str(conn / "kernel"),
        connection_file=str(conn / "kernel.json"),
        context=context,
    )
    km.plan = plan

    def remaining(cell: Any) -> int:
        return max(1, math.ceil(deadline - time.monotonic()))

    client = RecordingClient(
        nb,
        km=km,
        store_widget_state=False,
        timeout_func=remaining,
        startup_timeout=max(1, math.ceil(deadline - time.monotonic())),
        shell_timeout_interval=1,
        allow_errors=True,
        skip_cells_with_tag="\0never a tag\0",
        shutdown_kernel="immediate",
        record_timing=False,
    )
    client.plan = plan
    return client


def _protections(spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    """``(enforced, not_enforced)`` before the run: what the probe found, or the warning
    that there is no sandbox; then the wall-clock timeout."""
    if spec["probe"] is not None:
        checks = _probe(spec)
        enforced = [f"checked inside the sandbox: {t}" for ok, t in checks if ok]
        not_enforced = [f"check failed inside the sandbox: {t}" for ok, t in checks if not ok]
    else:
        enforced = []
        not_enforced = [
            "NO SANDBOX (--unsafe-no-sandbox): the notebook ran as the grader's user and "
            "could read and write the grader's files, reach the network and leave processes"
        ]
    enforced.append(f"wall-clock timeout of {float(spec['timeout']):g} s")
    return enforced, not_enforced


def _execute(client: Any, spec: dict[str, Any], deadline: float, result: dict[str, Any]) -> None:
    """Run every cell; set ``result``'s ``status`` and ``detail`` from how the run ended."""
    try:
        client.execute()
        result["status"] = "completed"
    except CellTimeoutError:
        result["status"] = "timeout"
        result["detail"] = f"the notebook did not finish within {float(spec['timeout']):g} s"
    except DeadKernelError as exc:
        result["status"] = "kernel_died"
        result["detail"] = str(exc)
    except Exception as exc:  # the kernel did not start, ...
        if time.monotonic() >= deadline:
            result["status"] = "timeout"
            result["detail"] = f"the notebook did not finish within {float(spec['timeout']):g} s"
        else:
            result["detail"] = f"{type(exc).__name__}: {exc}"[:2000]


def _exit_text(code: int) -> str:
    """The kernel's exit status in words (bwrap passes it on; 128+N is a signal N)."""
    if code < 0:
        return f"killed by signal {-code}"
    return f"killed by signal {code - 128}" if code > 128 else f"exit status {code}"


def _kill_sandbox(process: Any, result: dict[str, Any]) -> None:
    """Note how a dead kernel ended, then SIGKILL the sandbox (bwrap's process group)."""
    if result["status"] == "kernel_died":
        try:
            process.wait(timeout=2)
        except Exception:
            pass
    code = process.poll()
    if result["status"] == "kernel_died" and code is not None:
        result["kernel_exit_text"] = _exit_text(code)
    for kill in (os.killpg, os.kill):
        try:
            kill(process.pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        process.wait(timeout=10)
    except Exception:
        pass


def _confirm_sandbox_ended(namespace: str | None, result: dict[str, Any]) -> None:
    """Wait (up to 10 s) until no process of PID namespace ``namespace`` can run; say so."""
    left: list[int] = []
    for _ in range(100):
        left = _left_in(namespace) if namespace else []
        if not left:
            break
        time.sleep(0.1)
    if left or namespace is None:
        result["not_enforced"].append(
            "end of the sandbox: could not confirm that every process in it ended"
            if namespace is None
            else f"end of the sandbox: {len(left)} process(es) still running"
        )
    else:
        result["enforced"].append(
            "checked after the run: no process of the sandbox is left (its PID "
            "namespace ended with it)"
        )


def main(argv: list[str]) -> int:
    """Run the notebook described by ``argv[0]`` (spec.json); always write result.json."""
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    run_dir = Path(spec["run_dir"])
    seconds_left = float(spec["deadline"]) - time.time()
    deadline = time.monotonic() + min(float(spec["timeout"]), seconds_left)
    result: dict[str, Any] = {
        "status": "error",
        "cell": None,
        "detail": "",
        "kernel_exit_text": None,
        "truncated": False,
        "enforced": [],
        "not_enforced": [],
    }
    result["enforced"], result["not_enforced"] = _protections(spec)
    nb = nbformat.read(spec["notebook"], as_version=4)
    client = _make_client(nb, spec, deadline)
    state: dict[str, Any] = {"cell": None}

    def on_cell_start(cell: Any, cell_index: int) -> None:
        state["cell"] = cell_index

    client.on_cell_start = on_cell_start
    _execute(client, spec, deadline, result)
    process = getattr(getattr(client.km, "provisioner", None), "process", None)
    if process is not None:
        namespace = _namespace_of(process.pid)  # before the kill: bwrap's init is gone after
        _kill_sandbox(process, result)
        if spec["probe"] is not None:
            _confirm_sandbox_ended(namespace, result)
    result["cell"] = state["cell"] if result["status"] != "completed" else None
    result["truncated"] = bool(client.truncated)
    nbformat.write(nb, run_dir / "executed.ipynb")
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)  # skip nbclient's atexit clean-up: the kernel is already gone
