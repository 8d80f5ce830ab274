"""``nnscratch doctor``: is this environment ready for the course?

Every check is a plain function returning one :class:`CheckResult` (or a list of them),
so tests and notebooks can call them one by one. ``run_checks()`` runs them all;
``nnscratch doctor`` prints them as a table and exits with 1 if any check FAILed
(something essential is missing), 0 otherwise (WARN lines are advice, not blockers).
torch, matplotlib and the Jupyter packages are imported only inside their checks.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = [
    "CheckResult",
    "EXPECTED_PYTHON",
    "FALLBACK_PACKAGES",
    "add_parser",
    "check_data_cache",
    "check_digits",
    "check_jupyter_kernel",
    "check_matplotlib",
    "check_mnist",
    "check_nnscratch",
    "check_packages",
    "check_python",
    "check_torch",
    "check_widgets",
    "disabled_lab_extensions",
    "widget_state_saved",
    "find_requirements",
    "format_table",
    "parse_requirements",
    "run",
    "run_checks",
]

OK, WARN, FAIL = "OK", "WARN", "FAIL"
EXPECTED_PYTHON = (3, 11)
# Packages that must be importable for anything to work (FAIL rather than WARN).
ESSENTIAL_PACKAGES = frozenset({"numpy"})
# Used when no requirements.txt of the course can be found: names only, no pins.
FALLBACK_PACKAGES = (
    "numpy",
    "matplotlib",
    "ipywidgets",
    "jupyterlab",
    "ipykernel",
    "nbformat",
    "nbclient",
    "nbconvert",
    "nbval",
    "pytest",
    "torch",
)
_PIP_INSTALL = "pip install -r requirements.txt (from the course folder)"


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one check.

    Attributes:
        status: ``"OK"``, ``"WARN"`` (works, but not as the course expects) or ``"FAIL"``
            (something essential is missing).
        name: what was checked, e.g. ``"Python"`` or ``"numpy"``.
        detail: what was found.
        fix: how to fix it (empty when ``status == "OK"``).
    """

    status: str
    name: str
    detail: str
    fix: str = ""


# ----------------------------------------------------------------------------- Python, packages


def check_python(version_info: Sequence[int] | None = None) -> CheckResult:
    """Python version: 3.11 expected; older FAILs, newer WARNs (the course is tested on 3.11)."""
    v = tuple(sys.version_info[:3] if version_info is None else version_info)[:3]
    text = ".".join(str(p) for p in v)
    want = ".".join(str(p) for p in EXPECTED_PYTHON)
    if tuple(v[:2]) == EXPECTED_PYTHON:
        return CheckResult(OK, "Python", f"{text} ({sys.executable})")
    fix = f"create the environment with Python {want}: `make env` or `conda env create`"
    if tuple(v[:2]) < EXPECTED_PYTHON:
        return CheckResult(FAIL, "Python", f"{text}, but nnscratch needs {want}", fix)
    return CheckResult(WARN, "Python", f"{text}; the course is tested on {want}", fix)


def check_nnscratch() -> CheckResult:
    """Whether nnscratch is installed (``pip install -e .``) rather than just on the path."""
    import nnscratch

    here = Path(nnscratch.__file__).resolve().parent
    try:
        version = metadata.version("nnscratch")
    except metadata.PackageNotFoundError:
        return CheckResult(
            WARN,
            "nnscratch",
            f"imported from {here} but not installed",
            "pip install -e . (from the course folder)",
        )
    return CheckResult(OK, "nnscratch", f"{version} ({here})")


def _is_course_root(folder: Path) -> bool:
    """A folder that holds the nnscratch sources (the course repository)."""
    if (folder / "nnscratch" / "__init__.py").is_file():
        return True
    pyproject = folder / "pyproject.toml"
    try:
        return bool(re.search(r'name\s*=\s*"nnscratch"', pyproject.read_text(encoding="utf-8")))
    except OSError:
        return False


def find_requirements(starts: Sequence[str | os.PathLike[str]] | None = None) -> Path | None:
    """Find the course's ``requirements.txt`` by walking up from each start folder.

    Args:
        starts: folders to walk up from; default: the package's folder, then the
            current working directory.

    Returns:
        The first ``requirements.txt`` that sits in the course repository (next to the
        ``nnscratch`` package or a ``pyproject.toml`` naming it), or ``None``.
    """
    if starts is None:
        starts = [Path(__file__).resolve().parent, Path.cwd()]
    for start in starts:
        start = Path(start).resolve()
        for folder in [start, *start.parents]:
            candidate = folder / "requirements.txt"
            if candidate.is_file() and _is_course_root(folder):
                return candidate
    return None


_REQ_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")


def parse_requirements(text: str) -> list[tuple[str, str | None]]:
    """Parse requirements text into ``(name, pinned_version_or_None)`` pairs.

    Comments, blank lines, options (``-r``, ``-e`` ...) and environment markers are
    skipped; only ``name==version`` counts as a pin.
    """
    result = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].split(";", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = _REQ_LINE.match(line)
        if not match:
            continue
        spec = match.group(3).strip()
        pin = spec[2:].strip() if spec.startswith("==") and "," not in spec else None
        result.append((match.group(1), pin))
    return result


def _installed_version(name: str) -> str | None:
    """Installed version of the distribution ``name``, or None."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def check_packages(requirements: str | os.PathLike[str] | None = None) -> list[CheckResult]:
    """One result per package in requirements.txt: installed version against the pin.

    Args:
        requirements: path of a requirements file; default: :func:`find_requirements`,
            falling back to :data:`FALLBACK_PACKAGES` (names only) if none is found.

    A missing essential package (numpy) FAILs; other missing packages and versions
    that differ from the pin WARN. A local version suffix (``2.3.0+cpu``) matches ``2.3.0``.
    """
    path = Path(requirements) if requirements is not None else find_requirements()
    if path is not None:
        pins = parse_requirements(path.read_text(encoding="utf-8"))
        source = f"pinned in {path}"
    else:
        pins = [(name, None) for name in FALLBACK_PACKAGES]
        source = "requirements.txt not found; versions not checked"
    results = []
    for name, pin in pins:
        installed = _installed_version(name)
        if installed is None:
            status = FAIL if name.lower() in ESSENTIAL_PACKAGES else WARN
            want = f"=={pin}" if pin else ""
            results.append(CheckResult(status, name, "not installed", f"pip install {name}{want}"))
        elif pin is None:
            results.append(CheckResult(OK, name, f"{installed} ({source})"))
        elif installed.split("+", 1)[0] == pin:
            results.append(CheckResult(OK, name, installed))
        else:
            results.append(
                CheckResult(
                    WARN,
                    name,
                    f"{installed} installed, {pin} pinned",
                    f"pip install {name}=={pin}  (or {_PIP_INSTALL})",
                )
            )
    return results


# ----------------------------------------------------------------------------- Jupyter


def check_jupyter_kernel() -> CheckResult:
    """ipykernel importable and a ``python3`` kernelspec that runs this Python."""
    fix = f"pip install ipykernel jupyterlab, or {_PIP_INSTALL}"
    if importlib.util.find_spec("ipykernel") is None:
        return CheckResult(FAIL, "Jupyter kernel", "ipykernel is not installed", fix)
    try:
        from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
    except ImportError:
        return CheckResult(FAIL, "Jupyter kernel", "jupyter_client is not installed", fix)
    manager = KernelSpecManager()
    try:
        spec = manager.get_kernel_spec("python3")
    except NoSuchKernel:
        return CheckResult(
            FAIL,
            "Jupyter kernel",
            "no 'python3' kernelspec found",
            "python -m ipykernel install --sys-prefix",
        )
    argv0 = spec.argv[0] if spec.argv else ""
    # jupyter_client replaces a bare "python" by the Python running Jupyter.
    bare = {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}
    same = argv0 in bare or (os.path.exists(argv0) and os.path.samefile(argv0, sys.executable))
    location = manager.find_kernel_specs().get("python3", "")
    if same:
        return CheckResult(OK, "Jupyter kernel", f"python3 kernelspec found ({location})")
    return CheckResult(
        WARN,
        "Jupyter kernel",
        f"the python3 kernel runs {argv0}, not {sys.executable}",
        "python -m ipykernel install --user --name nnscratch, then pick the 'nnscratch' kernel",
    )


def _labextension_dirs() -> list[Path]:
    """Folders where JupyterLab looks for prebuilt extensions."""
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
WIDGETS_SETTINGS = f"{WIDGETS_EXTENSION}:plugin"


def disabled_lab_extensions() -> set[str]:
    """Extensions (or ``extension:plugin`` ids) that JupyterLab is configured to leave off,
    as ``jupyter labextension disable`` records them, at every level (user, sys-prefix,
    system and the application's own page_config.json). Empty if JupyterLab is missing."""
    try:
        from jupyterlab_server.config import get_page_config
    except ImportError:
        return set()
    settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    try:
        config = get_page_config([str(d) for d in _labextension_dirs()], str(settings))
    except Exception:  # a broken page_config.json must not crash the doctor
        return set()
    disabled = config.get("disabledExtensions", {})
    if isinstance(disabled, dict):
        return {name for name, off in disabled.items() if off}
    return set(disabled)


def widget_state_saved() -> bool | None:
    """Whether JupyterLab saves widget state into notebooks (the jupyterlab-manager
    ``saveState`` default, as overridden in ``labconfig/default_setting_overrides.json`` or
    the application's ``overrides.json``); None when JupyterLab is missing."""
    try:
        from jupyter_server.services.config.manager import ConfigManager
    except ImportError:
        return None
    value = False
    app = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    try:
        if app.is_file():
            value = json.loads(app.read_text(encoding="utf-8")).get(WIDGETS_SETTINGS, {}).get(
                "saveState", value
            )
        layered = ConfigManager(config_dir_name="labconfig").get("default_setting_overrides")
    except (OSError, ValueError):
        return None
    return bool(layered.get(WIDGETS_SETTINGS, {}).get("saveState", value))


def check_widgets() -> CheckResult:
    """ipywidgets and its JupyterLab front-end extension (jupyterlab_widgets): installed,
    found, not disabled; and widget state saved with notebooks (else a reopened notebook
    shows "Error displaying widget: model not found")."""
    fix = f"pip install ipywidgets jupyterlab_widgets, or {_PIP_INSTALL}"
    version = _installed_version("ipywidgets")
    if version is None:
        return CheckResult(WARN, "widgets front end", "not installed; sliders will not show", fix)
    lab = _installed_version("jupyterlab_widgets")
    if lab is None:
        return CheckResult(
            WARN,
            "widgets front end",
            f"ipywidgets {version}, but jupyterlab_widgets (front end) is missing",
            fix,
        )
    found = [d for d in _labextension_dirs() if (d / WIDGETS_EXTENSION).is_dir()]
    if not found:
        return CheckResult(
            WARN,
            "widgets front end",
            f"ipywidgets {version}; jupyterlab_widgets {lab} installed but its lab "
            "extension is not found",
            "pip install --force-reinstall jupyterlab_widgets",
        )
    off = sorted(
        name
        for name in disabled_lab_extensions()
        if name == WIDGETS_EXTENSION or name.startswith(WIDGETS_EXTENSION + ":")
    )
    if off:
        return CheckResult(
            WARN,
            "widgets front end",
            f"{', '.join(off)} is disabled in JupyterLab; sliders will show as text",
            f"jupyter labextension enable {WIDGETS_EXTENSION}",
        )
    detail = f"ipywidgets {version} + jupyterlab_widgets {lab}"
    if widget_state_saved() is False:
        return CheckResult(
            WARN,
            "widgets front end",
            f"{detail}; widget state is not saved with notebooks, so a reopened notebook "
            "shows 'Error displaying widget: model not found'",
            "copy tools/lab/labconfig/default_setting_overrides.json into "
            f"{Path(sys.prefix) / 'etc' / 'jupyter' / 'labconfig'} (make setup does)",
        )
    return CheckResult(OK, "widgets front end", detail)


# ----------------------------------------------------------------------------- torch, matplotlib


def _best_device(torch: Any) -> str:
    """Name of the best torch device: CUDA (with the GPU's name), MPS or CPU."""
    if torch.cuda.is_available():
        return f"CUDA ({torch.cuda.get_device_name(0)})"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "MPS (Apple GPU)"
    return "CPU"


def _module_check(
    module: str,
    missing: CheckResult,
    failed: CheckResult,
    found: Callable[[Any], str],
    use: Callable[[Any], Any] = lambda module: module,
) -> CheckResult:
    """Import ``module`` and apply ``use`` to it; ``missing`` when it is not installed,
    ``failed`` (its detail followed by the error) when importing it or ``use`` raises, else
    OK with the detail ``found`` gives for what ``use`` returned."""
    if importlib.util.find_spec(module) is None:
        return missing
    try:
        value = use(importlib.import_module(module))
    except Exception as exc:  # a broken install raises all sorts of errors
        return replace(failed, detail=f"{failed.detail}: {exc}")
    return CheckResult(OK, missing.name, found(value))


def check_torch() -> CheckResult:
    """torch importable, and the best device it can use (needed for notebooks 09-10 only)."""
    return _module_check(
        "torch",
        CheckResult(WARN, "torch device", "not installed (needed for notebooks 09 and 10)",
                    f"pip install torch, or {_PIP_INSTALL}"),
        CheckResult(WARN, "torch device", "import failed", "pip install --force-reinstall torch"),
        found=lambda torch: f"{_best_device(torch)} (torch {torch.__version__})",
    )  # fmt: skip


def check_matplotlib() -> CheckResult:
    """matplotlib importable and its backend (the notebooks draw figures everywhere)."""
    return _module_check(
        "matplotlib",
        CheckResult(FAIL, "matplotlib backend", "not installed; notebooks cannot plot",
                    f"pip install matplotlib, or {_PIP_INSTALL}"),
        CheckResult(FAIL, "matplotlib backend", "backend error",
                    "unset MPLBACKEND or set it to a valid backend such as Agg"),
        use=lambda matplotlib: (matplotlib, matplotlib.get_backend()),
        found=lambda found: f"{found[1]} (matplotlib {found[0].__version__})",
    )  # fmt: skip


# ----------------------------------------------------------------------------- data


def check_data_cache(path: str | os.PathLike[str] | None = None) -> CheckResult:
    """The data cache folder (``NNSCRATCH_DATA`` or ``~/.cache/nnscratch``) is writable."""
    from nnscratch.data import data_home

    folder = Path(path) if path is not None else data_home()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder) as f:
            f.write(b"ok")
    except OSError as exc:
        return CheckResult(
            FAIL,
            "data cache",
            f"{folder} is not writable ({exc.strerror or exc})",
            "set NNSCRATCH_DATA to a folder you can write to",
        )
    return CheckResult(OK, "data cache", f"{folder} is writable")


def check_digits(path: str | os.PathLike[str] | None = None) -> CheckResult:
    """The packaged 8x8 digits file is present with the right SHA-256."""
    from nnscratch.data import ChecksumError, verify_digits
    from nnscratch.data.digits import DIGITS_FILE

    fix = "reinstall nnscratch or restore nnscratch/data/files from git"
    file = Path(DIGITS_FILE if path is None else path)
    try:
        verify_digits(file)
    except FileNotFoundError:
        return CheckResult(FAIL, "digits data", f"{file} is missing", fix)
    except ChecksumError:
        return CheckResult(FAIL, "digits data", f"{file} is corrupt (SHA-256 mismatch)", fix)
    return CheckResult(OK, "digits data", "packaged, SHA-256 OK")


def check_mnist(root: str | os.PathLike[str] | None = None) -> CheckResult:
    """MNIST in the cache (optional: missing or corrupt only WARNs)."""
    from nnscratch.data import mnist_available
    from nnscratch.data.mnist import mnist_root

    folder = mnist_root(root)
    fix = "nnscratch data --mnist" + (f" --root {root}" if root is not None else "")
    if not mnist_available(folder):
        return CheckResult(WARN, "MNIST data", f"not downloaded ({folder})", fix)
    if not mnist_available(folder, verify=True):
        return CheckResult(WARN, "MNIST data", f"a file in {folder} fails its SHA-256", fix)
    return CheckResult(OK, "MNIST data", f"cached in {folder}, SHA-256 OK")


# ----------------------------------------------------------------------------- report


def run_checks(*, torch: bool = True) -> list[CheckResult]:
    """Run every check in table order; ``torch=False`` skips the (slow) torch import."""
    results = [check_python(), check_nnscratch(), *check_packages()]
    results += [check_jupyter_kernel(), check_widgets(), check_matplotlib()]
    if torch:
        results.append(check_torch())
    results += [check_data_cache(), check_digits(), check_mnist()]
    return results


def format_table(results: Sequence[CheckResult]) -> str:
    """Render results as a fixed-width table, one line per check, fixes after ``->``."""
    width = max([len(r.name) for r in results] + [5])
    lines = [f"{'STATUS':<6} {'CHECK':<{width}}  DETAIL"]
    for r in results:
        line = f"{r.status:<6} {r.name:<{width}}  {r.detail}"
        if r.fix and r.status != OK:
            line += f"  -> fix: {r.fix}"
        lines.append(line)
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``doctor`` subcommand to the ``nnscratch`` command line."""
    parser = subparsers.add_parser(
        "doctor",
        help="check that this environment is ready for the course",
        description="Check Python, the pinned packages, the Jupyter kernel, widgets, torch "
        "and its device, matplotlib and the data sets. Exit code 1 if something essential "
        "is missing.",
    )
    parser.add_argument(
        "--no-torch", action="store_true", help="skip the torch check (importing torch is slow)"
    )
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the doctor's table and summary; return 1 if any check FAILed, else 0."""
    results = run_checks(torch=not getattr(args, "no_torch", False))
    print(format_table(results))
    counts = {s: sum(r.status == s for r in results) for s in (OK, WARN, FAIL)}
    print(f"\n{counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL")
    if counts[FAIL]:
        print("Not ready: fix the FAIL lines above.")
        return 1
    print("Ready for the course." + (" (WARN lines are advice.)" if counts[WARN] else ""))
    return 0
