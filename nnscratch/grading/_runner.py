"""Child process of the grader: execute one notebook copy and write what happened.

Run as ``python -m nnscratch.grading._runner NOTEBOOK RUN_DIR --timeout S --deadline T`` by
:func:`nnscratch.grading.sandbox.execute_isolated`, which sets the resource limits and
the network namespace before this starts. This process talks to the kernel over Unix
sockets (``ipc`` transport), so it needs no network at all.

It writes into ``RUN_DIR``:

- ``progress.json`` before each cell: ``{"cell": index, "kernel_pid": pid}``, so the
  parent can say where a run was killed and stop the kernel;
- ``executed.ipynb``: the notebook with its new outputs (capped in size);
- ``result.json``: ``status`` (``completed``, ``timeout``, ``kernel_died`` or ``error``),
  ``cell`` (0-based index of the cell running when it stopped, or None), ``detail``,
  ``kernel_exit`` (the kernel's exit status when it died) and ``truncated`` (bool).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

#: Output text kept per notebook (stream, error and text/* data), in characters.
DEFAULT_MAX_TEXT = 1_000_000
#: Rich output (images and the like) kept per notebook, in characters of base64.
DEFAULT_MAX_RICH = 20_000_000
TRUNCATION_NOTICE = "\n[output truncated by the grader: the notebook printed too much]\n"


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


def _make_client(nb: Any, run_dir: Path, work_dir: Path, deadline: float, args: Any) -> Any:
    """A NotebookClient that stops at ``deadline`` and caps what it keeps of the outputs."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbformat.v4 import new_output

    class CappedClient(NotebookClient):
        """Keeps at most ``max_text`` / ``max_rich`` characters of output in all."""

        text_used = 0
        rich_used = 0
        truncated = False

        def output(self, outs, msg, display_id, cell_index):  # type: ignore[no-untyped-def]
            out = super().output(outs, msg, display_id, cell_index)
            if out is None or not outs or outs[-1] is not out:
                return out
            text, rich = _output_size(out)
            if self.text_used + text > args.max_text or self.rich_used + rich > args.max_rich:
                outs.pop()
                if not self.truncated:
                    self.truncated = True
                    notice = new_output("stream", name="stderr", text=TRUNCATION_NOTICE)
                    outs.append(notice)
                return None
            self.text_used += text
            self.rich_used += rich
            return out

    km = AsyncKernelManager(
        kernel_name="python3",
        transport="ipc",
        ip=str(run_dir / "kernel-ipc"),
        connection_file=str(run_dir / "kernel.json"),
    )

    def remaining(cell: Any) -> int:
        return max(1, math.ceil(deadline - time.monotonic()))

    return CappedClient(
        nb,
        km=km,
        timeout_func=remaining,
        startup_timeout=max(1, math.ceil(deadline - time.monotonic())),
        shell_timeout_interval=1,  # how often the deadline and the kernel's life are checked
        allow_errors=True,
        shutdown_kernel="immediate",
        record_timing=False,
        resources={"metadata": {"path": str(work_dir)}},
    )


def main(argv: list[str] | None = None) -> int:
    """Execute the notebook; always write ``result.json`` unless killed from outside."""
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    parser = argparse.ArgumentParser()
    parser.add_argument("notebook", type=Path)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument(
        "--deadline", type=float, default=None, help="time.time() at which to stop (parent's)"
    )
    parser.add_argument("--max-text", type=int, default=DEFAULT_MAX_TEXT)
    parser.add_argument("--max-rich", type=int, default=DEFAULT_MAX_RICH)
    args = parser.parse_args(argv)
    # The parent's clock started before this process did: honour its deadline.
    seconds_left = args.timeout if args.deadline is None else args.deadline - time.time()
    deadline = time.monotonic() + min(args.timeout, seconds_left)
    run_dir: Path = args.run_dir.resolve()
    result: dict[str, Any] = {
        "status": "error",
        "cell": None,
        "detail": "",
        "kernel_exit": None,
        "truncated": False,
    }
    state: dict[str, Any] = {"cell": None, "process": None}

    nb = nbformat.read(args.notebook, as_version=4)
    client = _make_client(nb, run_dir, args.notebook.resolve().parent, deadline, args)

    def on_notebook_start(notebook: Any) -> None:
        provisioner = getattr(client.km, "provisioner", None)
        state["process"] = getattr(provisioner, "process", None)

    def on_cell_start(cell: Any, cell_index: int) -> None:
        state["cell"] = cell_index
        pid = getattr(state["process"], "pid", None)
        (run_dir / "progress.json").write_text(
            json.dumps({"cell": cell_index, "kernel_pid": pid}), encoding="utf-8"
        )

    client.on_notebook_start = on_notebook_start
    client.on_cell_start = on_cell_start
    try:
        client.execute()
        result["status"] = "completed"
    except CellTimeoutError:
        result["status"] = "timeout"
        result["detail"] = f"the notebook did not finish within {args.timeout:g} s"
    except DeadKernelError as exc:
        result["status"] = "kernel_died"
        result["detail"] = str(exc)
    except Exception as exc:  # the runner itself failed (kernel did not start, ...)
        if time.monotonic() >= deadline:
            result["status"] = "timeout"
            result["detail"] = f"the notebook did not finish within {args.timeout:g} s"
        else:
            result["detail"] = f"{type(exc).__name__}: {exc}"[:2000]
    process = state["process"]
    if result["status"] == "kernel_died" and process is not None:
        try:
            process.wait(timeout=2)
        except Exception:
            pass
        result["kernel_exit"] = process.returncode
    result["cell"] = state["cell"] if result["status"] != "completed" else None
    result["truncated"] = bool(client.truncated)
    nbformat.write(nb, run_dir / "executed.ipynb")
    (run_dir / "result.json").write_text(json.dumps(result), encoding="utf-8")
    if process is not None and process.poll() is None:
        # Stop the kernel (its own session) now rather than in slow atexit handlers.
        for kill in (os.killpg, os.kill):
            try:
                kill(process.pid, signal.SIGKILL)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip nbclient's atexit clean-up: the kernel is already gone
