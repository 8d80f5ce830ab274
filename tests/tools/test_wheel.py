"""The package as users get it: a wheel, installed in a clean virtual environment, runs the
course from a folder outside the repository (the digits data comes from inside the wheel).

Slow (a venv, pip from its cache, notebooks 01-10 executed, two at a time): one run in
`make test`. Versions are the pins of requirements.txt; torch is pinned (``torch==2.13.0``)
because a bare ``torch`` would pull a CUDA build.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ("numpy", "matplotlib", "ipywidgets", "ipykernel", "nbformat", "nbclient", "torch")
NOTEBOOK = re.compile(r"^(0[1-9]|10)_[a-z0-9_]+\.ipynb$")

EXECUTE = """
import sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
for name in sys.argv[1:]:
    nb = nbformat.read(name, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute()
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, (name, errors[:1])
    print(f"{name}: {time.perf_counter() - start:.0f} s", flush=True)
"""


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def _run(cmd: list, **kw) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert result.returncode == 0, (
        f"{cmd[:4]} failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    )
    return result


def test_wheel_in_a_clean_venv_runs_notebooks_01_to_10_outside_the_repo(tmp_path: Path):
    start = time.perf_counter()
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--quiet", "-w", dist, ROOT])  # fmt: skip
    wheels = list(dist.glob("nnscratch-*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as zf:
        names = zf.namelist()
    assert any(n.startswith("nnscratch/data/files/") for n in names), "digits not in the wheel"
    tops = {n.split("/")[0] for n in names if ".dist-info/" not in n}
    assert tops == {"nnscratch", "nnscratch_tools"}, tops  # README: "What the wheel holds"

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    python = venv / "bin" / "python"
    pins = _pins()
    assert pins["torch"] == "2.13.0"
    requirements = [f"{name}=={pins[name]}" for name in RUNTIME]
    # --no-compile: pip would byte-compile every module of every package (torch's thousands
    # among them), about 35 s of CPU; Python compiles the few the notebooks import instead.
    _run([python, "-m", "pip", "install", "--quiet", "--no-compile", f"{wheels[0]}[plot,torch]",
          *requirements])  # fmt: skip
    installed = time.perf_counter()

    course = tmp_path / "course"  # outside the repository: nothing can be read from it
    course.mkdir()
    notebooks = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if NOTEBOOK.match(p.name))
    assert len(notebooks) == 10, [p.name for p in notebooks]
    for nb in notebooks:
        shutil.copy2(nb, course / nb.name)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "VIRTUAL_ENV", "JUPYTER_PATH", "JUPYTER_CONFIG_DIR"}
    }
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        PYTHONNOUSERSITE="1",
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),  # no user kernelspecs
        OMP_NUM_THREADS="1",
        OPENBLAS_NUM_THREADS="1",
        MKL_NUM_THREADS="1",
        MPLBACKEND="Agg",
        PYTHONHASHSEED="0",
        NNSCRATCH_DATA=str(tmp_path / "data-cache"),
    )
    where = _run(
        [
            python,
            "-c",
            "import nnscratch, torch; print(nnscratch.__file__); print(torch.__version__)",
        ],
        cwd=course,
        env=env,
    ).stdout.split()
    assert str(venv) in where[0] and str(ROOT) not in where[0], where
    assert where[1].startswith("2.13.0"), where
    # Two kernels at a time (each notebook runs on one BLAS thread): odd and even lessons.
    halves = [[p.name for p in notebooks[i::2]] for i in (0, 1)]
    runs = [
        subprocess.Popen([str(python), "-c", EXECUTE, *half], cwd=course, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for half in halves
    ]  # fmt: skip
    for half, run in zip(halves, runs, strict=True):
        stdout, stderr = run.communicate(timeout=1800)
        assert run.returncode == 0, f"{half} failed:\n{stdout[-3000:]}{stderr[-3000:]}"
        print(stdout)
    done = time.perf_counter()
    print(f"wheel + venv + install {installed - start:.0f} s; notebooks {done - installed:.0f} s")
