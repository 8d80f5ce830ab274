"""The ``nnscratch`` command: doctor (table, exit code, individual checks) and data."""

from __future__ import annotations

import gzip
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nnscratch.data import digits as digits_module
from nnscratch.data.mnist import MNIST_FILES
from nnscratch_tools import cli, doctor

REPO = Path(__file__).resolve().parents[2]
STATUSES = {"OK", "WARN", "FAIL"}


def run_cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NNSCRATCH_DATA": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "nnscratch_tools", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        cwd=REPO,
    )


def table_rows(output: str) -> dict[str, str]:
    """Map check name -> status from the doctor's table."""
    rows = {}
    for line in output.splitlines():
        parts = line.split(maxsplit=1)
        if parts and parts[0] in STATUSES:
            status, rest = parts[0], parts[1]
            name = rest.split("  ", 1)[0].strip()
            rows[name] = status
    return rows


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path))
    return tmp_path


# --------------------------------------------------------------------------- doctor, end to end


def test_doctor_subprocess(data_dir):
    result = run_cli("doctor", data_dir=data_dir)
    out = result.stdout
    assert out.splitlines()[0].split() == ["STATUS", "CHECK", "DETAIL"]
    rows = table_rows(out)
    for name in (
        "Python",
        "numpy",
        "Jupyter kernel",
        "widgets front end",
        "torch device",
        "matplotlib backend",
        "data cache",
        "digits data",
        "MNIST data",
    ):
        assert name in rows, f"no {name!r} line in:\n{out}"
    assert rows["numpy"] == "OK"
    assert rows["digits data"] == "OK"
    assert rows["data cache"] == "OK"
    assert rows["MNIST data"] == "WARN"  # empty cache: a warning, not an error
    assert "nnscratch data --mnist" in out
    assert result.returncode == (1 if "FAIL" in rows.values() else 0)
    n_fail = sum(s == "FAIL" for s in rows.values())
    assert f"{n_fail} FAIL" in out
    if rows["torch device"] == "OK":
        assert re.search(r"^OK\s+torch device\s+(CUDA|MPS|CPU)", out, re.MULTILINE)


def test_doctor_fails_on_corrupt_digits(tmp_path, data_dir, monkeypatch, capsys):
    bad = tmp_path / "digits.csv.gz"
    bad.write_bytes(gzip.compress(b"0,1\n"))
    monkeypatch.setattr(digits_module, "DIGITS_FILE", bad)
    code = cli.main(["doctor", "--no-torch"])
    out = capsys.readouterr().out
    assert code == 1
    assert table_rows(out)["digits data"] == "FAIL"
    assert "torch device" not in table_rows(out)
    assert "Not ready" in out


# --------------------------------------------------------------------------- individual checks


@pytest.mark.parametrize(
    "version, status", [((3, 10, 12), "FAIL"), ((3, 11, 7), "OK"), ((3, 12, 1), "WARN")]
)
def test_check_python(version, status):
    result = doctor.check_python(version)
    assert result.status == status
    assert ".".join(map(str, version)) in result.detail
    assert (result.fix == "") == (status == "OK")


def test_parse_requirements():
    text = """# comment
numpy==2.4.6
torch==2.13.0  # trailing comment
matplotlib>=3.7
-r other.txt
PyYAML[extra]==6.0.3 ; python_version >= "3.8"

"""
    assert doctor.parse_requirements(text) == [
        ("numpy", "2.4.6"),
        ("torch", "2.13.0"),
        ("matplotlib", None),
        ("PyYAML", "6.0.3"),
    ]


def test_check_packages(tmp_path):
    import numpy

    req = tmp_path / "requirements.txt"
    req.write_text(f"numpy=={numpy.__version__}\nnumpy==0.0.1\nno-such-package-nnscratch==1.0\n")
    ok, wrong, missing = doctor.check_packages(req)
    assert ok.status == "OK" and numpy.__version__ in ok.detail
    assert wrong.status == "WARN" and "0.0.1 pinned" in wrong.detail
    assert "pip install numpy==0.0.1" in wrong.fix
    assert missing.status == "WARN" and missing.detail == "not installed"


def test_missing_numpy_is_a_failure(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "_installed_version", lambda name: None)
    req = tmp_path / "requirements.txt"
    req.write_text("numpy==2.0\ntorch==2.0\n")
    statuses = [r.status for r in doctor.check_packages(req)]
    assert statuses == ["FAIL", "WARN"]


def test_find_requirements(tmp_path):
    assert doctor.find_requirements() == REPO / "requirements.txt"
    assert doctor.find_requirements([tmp_path]) is None
    # a requirements.txt outside the course repository is not taken for the course's
    (tmp_path / "requirements.txt").write_text("flask==1.0\n")
    assert doctor.find_requirements([tmp_path / "sub"]) is None
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "nnscratch"\n')
    assert doctor.find_requirements([tmp_path]) == tmp_path / "requirements.txt"


def test_fallback_package_list(monkeypatch):
    monkeypatch.setattr(doctor, "find_requirements", lambda: None)
    results = doctor.check_packages()
    assert [r.name for r in results] == list(doctor.FALLBACK_PACKAGES)
    assert "not found" in results[0].detail


def test_check_data_cache(tmp_path):
    assert doctor.check_data_cache(tmp_path / "new" / "dir").status == "OK"
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    result = doctor.check_data_cache(blocker / "cache")  # cannot create a folder in a file
    assert result.status == "FAIL" and "NNSCRATCH_DATA" in result.fix


def test_check_digits(tmp_path):
    assert doctor.check_digits().status == "OK"
    assert doctor.check_digits(tmp_path / "missing.csv.gz").status == "FAIL"
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"not the digits")
    result = doctor.check_digits(bad)
    assert result.status == "FAIL" and "corrupt" in result.detail


def test_check_mnist(tmp_path):
    missing = doctor.check_mnist(tmp_path)
    assert missing.status == "WARN" and "nnscratch data --mnist" in missing.fix
    for name in MNIST_FILES:
        (tmp_path / name).write_bytes(b"not mnist")
    corrupt = doctor.check_mnist(tmp_path)
    assert corrupt.status == "WARN" and "SHA-256" in corrupt.detail


def test_check_jupyter_kernel_and_widgets_report_a_status():
    for result in (doctor.check_jupyter_kernel(), doctor.check_widgets()):
        assert result.status in STATUSES
        assert (result.fix == "") == (result.status == "OK")


def test_format_table_aligns_and_shows_fixes():
    text = doctor.format_table(
        [
            doctor.CheckResult("OK", "a", "fine"),
            doctor.CheckResult("FAIL", "longer name", "broken", "do this"),
        ]
    )
    lines = text.splitlines()
    assert len(lines) == 3
    assert lines[1].index("fine") == lines[2].index("broken")
    assert lines[2].endswith("-> fix: do this") and "fix" not in lines[1]


def test_student_library_never_imports_the_instructor_tools():
    code = (
        "import sys, nnscratch, nnscratch.data, nnscratch.checks, nnscratch.training; "
        "print(any(m.startswith('nnscratch_tools') for m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_importing_nnscratch_does_not_import_torch():
    code = "import sys, nnscratch, nnscratch.data, nnscratch.checks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- data command


def test_data_list(data_dir, capsys):
    assert cli.main(["data"]) == 0
    default = capsys.readouterr().out
    assert cli.main(["data", "--list"]) == 0
    out = capsys.readouterr().out
    assert out == default
    assert "digits" in out and "packaged" in out
    assert "mnist" in out and "not downloaded" in out and str(data_dir / "mnist") in out
    assert "nnscratch data --mnist" in out


def test_data_verify(data_dir, capsys):
    assert cli.main(["data", "--verify"]) == 0
    out = capsys.readouterr().out
    assert "OK       digits.csv.gz" in out
    assert out.count("MISSING") == 4
    root = data_dir / "mnist"
    root.mkdir()
    (root / "train-images-idx3-ubyte.gz").write_bytes(b"corrupt")
    assert cli.main(["data", "--verify"]) == 1
    out = capsys.readouterr().out
    assert "FAIL     train-images-idx3-ubyte.gz" in out and out.count("MISSING") == 3


def test_data_mnist_offline(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mirror = f"http://127.0.0.1:{port}/"
    code = cli.main(["data", "--mnist", "--root", str(tmp_path / "m"), "--mirror", mirror])
    out = capsys.readouterr().out
    assert code == 1
    assert "error:" in out and mirror in out
    assert list((tmp_path / "m").iterdir()) == []


def test_data_verify_subprocess(data_dir):
    result = run_cli("data", "--verify", data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "digits.csv.gz" in result.stdout


def test_cli_needs_a_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        cli.main(["--version"])
    assert info.value.code == 0
    assert "nnscratch" in capsys.readouterr().out
